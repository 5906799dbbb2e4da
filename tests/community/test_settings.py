import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from community.broker import broker_urls
from community.env import Env
from community.settings.base import database_config
from community.settings.safety import check_production_secrets

REPO = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3y-" + "x7Q!mZ2@rT9#wL5$" * 4


def test_database_config_postgres_url_parsed():
    config = database_config("postgres://app:s3cret@db.internal:5433/community", Path("/tmp/var"))
    assert (config["ENGINE"], config["NAME"], config["USER"], config["PASSWORD"], config["HOST"], config["PORT"]) == (
        "django.db.backends.postgresql", "community", "app", "s3cret", "db.internal", 5433,
    )
    assert config["CONN_MAX_AGE"] == 60
    assert config["CONN_HEALTH_CHECKS"] is True


def test_database_config_empty_url_is_sqlite_in_var_with_wal():
    config = database_config("", Path("/srv/app/var"))
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == "/srv/app/var/db.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert config["OPTIONS"]["timeout"] == 20
    assert "PRAGMA journal_mode=WAL;" in config["OPTIONS"]["init_command"]


def test_database_config_bad_url_rejected():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_config("nosuchdb://x", Path("/tmp"))


def test_broker_urls_external_redis_used_as_is():
    urls = broker_urls("redis://cache.internal:6380/2", Path("/srv/var"))
    assert (urls.celery, urls.redis) == ("redis://cache.internal:6380/2", "redis://cache.internal:6380/2")


def test_broker_urls_embedded_redis_on_var_socket():
    urls = broker_urls("", Path("/srv/var"))
    assert (urls.celery, urls.redis) == ("redis+socket:///srv/var/redis.sock", "unix:///srv/var/redis.sock?db=0")


def test_env_reads_types():
    env = Env({"A": " yes ", "B": "0", "N": "42", "L": "a.example, b.example,,", "S": " x "})
    assert (env.bool("A"), env.bool("B"), env.bool("MISSING", True)) == (True, False, True)
    assert env.int("N", 1) == 42
    assert env.list("L") == ["a.example", "b.example"]
    assert env.str("S") == "x"


def test_env_bad_boolean_rejected():
    with pytest.raises(ImproperlyConfigured, match="DEBUG='maybe' is not a boolean"):
        Env({"DEBUG": "maybe"}).bool("DEBUG")


@pytest.mark.parametrize(
    ("secret_key", "hosts", "message"),
    [
        ("", ["example.org"], "needs SECRET_KEY"),
        ("django-insecure-abc", ["example.org"], "needs SECRET_KEY"),
        ("short", ["example.org"], "too weak"),
        (STRONG_KEY, [], "needs ALLOWED_HOSTS"),
        (STRONG_KEY, ["*"], "needs ALLOWED_HOSTS"),
    ],
)
def test_check_production_secrets_unsafe_rejected(secret_key, hosts, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        check_production_secrets(secret_key, hosts)


def _run_django(args, **env):
    environ = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DJANGO_ENV"}}
    environ.update(DJANGO_SETTINGS_MODULE="community.settings", **env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=environ, capture_output=True, text=True, timeout=120)


def test_production_mode_without_secret_key_refuses_to_start():
    result = _run_django(["check"], DJANGO_ENV="production", ALLOWED_HOSTS="community.example.org")
    assert result.returncode != 0
    assert "DJANGO_ENV=production needs SECRET_KEY set to a real secret." in result.stderr


def test_production_mode_without_allowed_hosts_refuses_to_start():
    result = _run_django(["check"], DJANGO_ENV="production", SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0
    assert "DJANGO_ENV=production needs ALLOWED_HOSTS" in result.stderr


def test_production_mode_check_deploy_reports_nothing():
    result = _run_django(
        ["check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_ENV="production", SECRET_KEY=STRONG_KEY, ALLOWED_HOSTS="community.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


@pytest.mark.parametrize(("env", "expected"), [
    ({}, "django.core.cache.backends.locmem.LocMemCache None"),
    ({"REDIS_URL": "redis://cache.example:6379/0"}, "django.core.cache.backends.redis.RedisCache redis://cache.example:6379/0"),
    ({"REDIS_URL": "redis://broker:6379/0", "CACHE_URL": "unix:///srv/var/redis.sock?db=1"},
     "django.core.cache.backends.redis.RedisCache unix:///srv/var/redis.sock?db=1"),
])
def test_cache_is_redis_when_a_url_is_given_else_per_process_memory(env, expected):
    environ = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CACHE_URL"}}
    environ.update(DJANGO_SETTINGS_MODULE="community.settings", **env)
    code = "from django.conf import settings; c = settings.CACHES['default']; print(c['BACKEND'], c.get('LOCATION'))"
    result = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=REPO, env=environ,
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == expected, result.stderr
