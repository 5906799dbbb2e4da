"""What production refuses: checked when ``DJANGO_ENV=production`` loads its settings."""

from django.core.exceptions import ImproperlyConfigured

INSECURE_SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"


def check_production_secrets(secret_key: str, allowed_hosts: list[str]) -> None:
    """Raise ``ImproperlyConfigured`` unless the secret key and hosts are real."""
    if not secret_key or secret_key == INSECURE_SECRET_KEY or secret_key.startswith("django-insecure"):
        raise ImproperlyConfigured("DJANGO_ENV=production needs SECRET_KEY set to a real secret.")
    if len(secret_key) < 50 or len(set(secret_key)) < 5:
        raise ImproperlyConfigured("SECRET_KEY is too weak: use at least 50 random characters.")
    if not allowed_hosts or "*" in allowed_hosts:
        raise ImproperlyConfigured("DJANGO_ENV=production needs ALLOWED_HOSTS (comma-separated host names).")
