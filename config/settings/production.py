"""Production: everything in ``base``, tightened. Refuses to start when unsafe."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from community.env import env

from .base import *  # noqa: F403
from .base import SECRET_KEY
from .safety import check_production_secrets

DEBUG = env.bool("DEBUG", False)
if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when DJANGO_ENV=production.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", [])
check_production_secrets(SECRET_KEY, ALLOWED_HOSTS)

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", True)
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", True)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
LOGIN_THROTTLE_BEHIND_PROXY = BEHIND_TLS_PROXY
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# HTTPS-only cookies (the other security headers are set in every mode: base.py).
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STATIC_ROOT = env.str("STATIC_ROOT", str(STATIC_ROOT))  # noqa: F405
