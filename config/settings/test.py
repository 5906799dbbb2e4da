"""Test settings: fast hashing, in-memory e-mail, tasks run eagerly unless a test asks for a worker."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "zh-hans"
# Serve the app's assets from the source folders, as in development (no collectstatic in tests).
WHITENOISE_USE_FINDERS = True
# Each test starts from an empty cache of its own (tests that need Redis override CACHES).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import os
    import tempfile

    # A file, not SQLite's shared in-memory database: tests with a live server or a real worker
    # write from several threads at once, and the in-memory database's table locks fail at once
    # ("database table is locked") where a file's WAL journal and busy timeout make them wait.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"community-test-{os.getpid()}.sqlite3"),
    }
