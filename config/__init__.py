"""The project's own package: settings, the root URLconf, WSGI/ASGI and the Celery app. It
composes the apps (``community``, ``shares``, ``importer``) and holds no views and no models.

The Celery app is loaded with Django (importing ``config.settings`` imports this package), so
that ``shared_task`` tasks bind to it in every process."""

from .celery import app as celery_app

__all__ = ["celery_app"]
