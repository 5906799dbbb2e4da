"""The secret key of a machine without one in its environment, and what production refuses:
checked when ``DJANGO_ENV=production`` loads its settings."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

INSECURE_SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"
SECRET_KEY_FILE = "secret-key"


def generated_secret_key(var_dir: Path) -> str:
    """The key kept in ``var_dir/secret-key``, generated there the first time (50 random
    characters, readable by this user only). Processes starting at once agree on one key: each
    writes its own file, and the first one linked into place is the one every process reads."""
    path = var_dir / SECRET_KEY_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        draft = var_dir / f".{SECRET_KEY_FILE}.{os.getpid()}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(get_random_secret_key() + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # Another process was first: its key it is.
        finally:
            draft.unlink()
    key = path.read_text().strip()
    if len(key) < 50:
        raise ImproperlyConfigured(f"{path} holds no usable secret key: delete it and a new one is generated.")
    return key


def check_production_secrets(secret_key: str, allowed_hosts: list[str]) -> None:
    """Raise ``ImproperlyConfigured`` unless the secret key and hosts are real."""
    if not secret_key or secret_key == INSECURE_SECRET_KEY or secret_key.startswith("django-insecure"):
        raise ImproperlyConfigured("DJANGO_ENV=production needs SECRET_KEY set to a real secret.")
    if len(secret_key) < 50 or len(set(secret_key)) < 5:
        raise ImproperlyConfigured("SECRET_KEY is too weak: use at least 50 random characters.")
    if not allowed_hosts or "*" in allowed_hosts:
        raise ImproperlyConfigured("DJANGO_ENV=production needs ALLOWED_HOSTS (comma-separated host names).")
