"""Settings shared by every environment. Every value comes from ``community.env``."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from community.broker import broker_urls, crontab_from_text
from community.env import env
from config.settings.safety import generated_secret_key

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(env.str("VAR_DIR", str(BASE_DIR / "var")))

DJANGO_ENV = env.str("DJANGO_ENV", "development")
# From the environment; otherwise (development, `make run`) a key of this installation's own,
# generated once into var/secret-key. Production takes it from the environment only.
SECRET_KEY = env.str("SECRET_KEY") or ("" if DJANGO_ENV == "production" else generated_secret_key(VAR_DIR))
# Off unless a developer asks for it (DEBUG=1): tracebacks and the URLconf are for them only.
DEBUG = env.bool("DEBUG", False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "community",
    "shares",
    "importer",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # First of all that might read the body: a body over REQUEST_BODY_MAX_BYTES is refused unread.
    "community.security.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "community.security.NullCharacterMiddleware",
    # Outside every middleware that reads or writes the database: a database busy past its
    # timeout answers 503 with Retry-After, never 500 (community.busy).
    "community.busy.DatabaseBusyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "community.security.ContentSecurityPolicyMiddleware",
]

# Security headers, in every mode (production adds HTTPS: production.py). Pages, their CSS and
# JS come from this app only: no inline script or style, no CDN. A view may set a stricter
# policy of its own (the stored images do).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Login throttling against password guessing (community.security): failures counted in the
# default cache per username and address together, and per address (any username); a wrong old
# password on the password change page counts as a failed login.
AUTHENTICATION_BACKENDS = ["community.security.ThrottledModelBackend"]
if env.is_set("LOGIN_FAILURES_PER_USERNAME"):
    raise ImproperlyConfigured("LOGIN_FAILURES_PER_USERNAME is gone: logins are locked per username and address "
                               "together (LOGIN_FAILURES_PER_USERNAME_AND_IP) and per address (LOGIN_FAILURES_PER_IP).")
LOGIN_FAILURES_PER_USERNAME_AND_IP = env.int("LOGIN_FAILURES_PER_USERNAME_AND_IP", 5)
LOGIN_FAILURES_PER_IP = env.int("LOGIN_FAILURES_PER_IP", 50)
LOGIN_FAILURE_WINDOW_MINUTES = env.int("LOGIN_FAILURE_WINDOW_MINUTES", 15)
LOGIN_LOCK_MINUTES = env.int("LOGIN_LOCK_MINUTES", 15)
# The public application form (/g/SLUG/apply/): applications accepted from one address in an hour.
APPLICATIONS_PER_IP_PER_HOUR = env.int("APPLICATIONS_PER_IP_PER_HOUR", 5)
# Behind the TLS proxy (production), the client's address is the one the proxy appended to
# X-Forwarded-For; REMOTE_ADDR is the proxy's.
LOGIN_THROTTLE_BEHIND_PROXY = False

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "community.access.access_context",
            ],
        },
    },
]


# Database: PostgreSQL by DATABASE_URL; SQLite in var/ when nothing is set.
def database_config(url: str, var_dir: Path, *, busy_timeout: int = 10) -> dict:
    """The ``DATABASES['default']`` entry for a URL (or the SQLite default). ``busy_timeout``:
    the seconds an SQLite connection waits for another's write before "database is locked"."""
    if not url:
        url = f"sqlite:///{var_dir / 'db.sqlite3'}"
    try:
        config = dj_database_url.parse(url, conn_max_age=0 if url.startswith("sqlite") else 60)
    except ValueError as error:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {error}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # One web server, a worker and beat write at once: WAL lets readers go on while
        # one writes, IMMEDIATE takes the write lock at BEGIN (no deadlocked upgrades),
        # and the timeout makes a writer wait instead of failing with "locked".
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": busy_timeout,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                f"PRAGMA busy_timeout={busy_timeout * 1000};"
                "PRAGMA cache_size=-65536;"
                "PRAGMA temp_store=MEMORY;"
                "PRAGMA wal_autocheckpoint=10000;"
            ),
        }
    else:
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASE_URL = env.str("DATABASE_URL")
# How long a web request waits for a busy database before it answers 503 (community.busy): the
# busy timeout of every SQLite connection; on PostgreSQL, the web requests' lock_timeout, and
# their statement_timeout. Writes are short (imports and rosters write in bounded transactions).
DATABASE_BUSY_TIMEOUT = env.int("DATABASE_BUSY_TIMEOUT", 10)
DATABASE_STATEMENT_TIMEOUT = env.int("DATABASE_STATEMENT_TIMEOUT", 25)
DATABASES = {"default": database_config(DATABASE_URL, VAR_DIR, busy_timeout=DATABASE_BUSY_TIMEOUT)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Internationalization: Chinese first, English available.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# In development the app serves its assets straight from the source folders.
WHITENOISE_USE_FINDERS = DEBUG
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", str(VAR_DIR / "media")))
# var/ holds the SQLite database, the embedded broker's socket, media and collected assets.
for _folder in (VAR_DIR, STATIC_ROOT, MEDIA_ROOT):
    _folder.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Redis: the Celery broker, and the shared cache when it is external.
REDIS_URL = env.str("REDIS_URL")
BROKER = broker_urls(REDIS_URL, VAR_DIR)
CELERY_BROKER_URL = BROKER.celery
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
# A task is acknowledged once it has run, and one whose worker process died is put back in the
# queue: the broker redelivers it (the tasks are idempotent). With Redis, a task not acknowledged
# within the visibility timeout (its worker vanished) is delivered again: it must be longer than
# the longest task, and than any retry's countdown.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
BROKER_VISIBILITY_TIMEOUT = env.int("BROKER_VISIBILITY_TIMEOUT", 3600)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request that queues a task must not hang when the broker is down.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5, "max_retries": 2,
                                   "visibility_timeout": BROKER_VISIBILITY_TIMEOUT}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The group rules run daily for every group; the time is a crontab line ("minute hour day
# month weekday", in TIME_ZONE) that operators change without touching code.
FLAG_MEMBERS_SCHEDULE = env.str("FLAG_MEMBERS_SCHEDULE", "30 6 * * *")
CELERY_BEAT_SCHEDULE: dict = {
    "flag-members": {"task": "community.tasks.task_flags_evaluate_all", "schedule": crontab_from_text(
        FLAG_MEMBERS_SCHEDULE, setting="FLAG_MEMBERS_SCHEDULE")},
    # Shares edited, or imported while the broker was down, are indexed for the talk search.
    "talk-index-refresh": {"task": "shares.talk_index_refresh", "schedule": 600.0},
}

# The cache holds the API's throttle counts, failed logins and rendered talks, so every web
# process must share it: Redis when REDIS_URL is set; `manage.py serve` (`make run`) points
# CACHE_URL at the embedded Redis for its processes; otherwise each process has its own memory.
CACHE_URL = env.str("CACHE_URL", REDIS_URL)
if CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "community@localhost")
# Where the site is reached, for links in e-mails sent outside a request (the flags digest).
SITE_URL = env.str("SITE_URL", "http://localhost:8000")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Counted in the default cache: Redis, shared by every web process, when REDIS_URL is set.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", "60/minute"),
        "user": env.str("API_THROTTLE_USER", "600/minute"),
    },
    "DEFAULT_PAGINATION_CLASS": "community.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # A throttled client is told in words when to retry (and by Retry-After).
    "EXCEPTION_HANDLER": "community.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Payment community API",
    "DESCRIPTION": "Groups, members, messages, shares and sign-ins of the payment-industry WeChat groups.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The documentation page loads its assets from this app, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Uploads in the web UI (importer): transcripts and rosters, and the image folder. Files wait
# in the database for their task; a proxy in front should allow at least the request limit.
IMPORT_UPLOAD_MAX_BYTES = env.int("IMPORT_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)  # one transcript or roster
IMPORT_REQUEST_MAX_BYTES = env.int("IMPORT_REQUEST_MAX_BYTES", 50 * 1024 * 1024)  # all files of one upload
IMAGE_MAX_BYTES = env.int("IMAGE_MAX_BYTES", 10 * 1024 * 1024)  # one image
IMAGE_REQUEST_MAX_BYTES = env.int("IMAGE_REQUEST_MAX_BYTES", 200 * 1024 * 1024)  # all images of one upload
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", 40_000_000)  # larger is refused (decompression bombs)
IMAGE_MAX_WIDTH = env.int("IMAGE_MAX_WIDTH", 1280)  # stored copies are resized to this width at most
# A folder of a year's images holds more files than Django's default of 100 per request.
DATA_UPLOAD_MAX_NUMBER_FILES = env.int("DATA_UPLOAD_MAX_NUMBER_FILES", 2000)
# A request whose Content-Length is larger is refused with 413 before its body is read: the
# largest upload allowed, plus Django's limit on the other fields and 1 KB of part headers per file.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # Django's default, named here for the sum below
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", max(IMPORT_REQUEST_MAX_BYTES, IMAGE_REQUEST_MAX_BYTES)
                                 + DATA_UPLOAD_MAX_MEMORY_SIZE + 1024 * DATA_UPLOAD_MAX_NUMBER_FILES)
# An upload's run writes a heartbeat while it works; a run silent this long is stalled (its
# worker died): beat looks every minute for them, and for uploads that could not be queued (the
# broker was down), and queues them again.
IMPORT_HEARTBEAT_SECONDS = env.int("IMPORT_HEARTBEAT_SECONDS", 15)
IMPORT_STALLED_SECONDS = env.int("IMPORT_STALLED_SECONDS", 120)
CELERY_BEAT_SCHEDULE["import-runs-resume"] = {"task": "importer.import_runs_resume", "schedule": 60.0}
