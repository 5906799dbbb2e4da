"""Settings: ``base`` everywhere, ``production`` when ``DJANGO_ENV=production``."""

from community.env import env

if env.str("DJANGO_ENV", "development") == "production":
    from .production import *  # noqa: F403
else:
    from .base import *  # noqa: F403
