import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from community.broker import broker_urls
from community.env import Env
from config.settings.base import database_config
from config.settings.safety import check_production_secrets, generated_secret_key

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
    assert config["OPTIONS"]["timeout"] == 10
    assert "PRAGMA journal_mode=WAL;" in config["OPTIONS"]["init_command"]
    assert "PRAGMA busy_timeout=10000;" in config["OPTIONS"]["init_command"]
    assert database_config("", Path("/srv/app/var"), busy_timeout=3)["OPTIONS"]["timeout"] == 3


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
    environ.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=environ, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_production_mode_without_secret_key_refuses_to_start():
    result = _run_django(["check"], DJANGO_ENV="production", ALLOWED_HOSTS="community.example.org")
    assert result.returncode != 0
    assert "DJANGO_ENV=production needs SECRET_KEY set to a real secret." in result.stderr


@pytest.mark.slow
def test_production_mode_without_allowed_hosts_refuses_to_start():
    result = _run_django(["check"], DJANGO_ENV="production", SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0
    assert "DJANGO_ENV=production needs ALLOWED_HOSTS" in result.stderr


@pytest.mark.slow
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
@pytest.mark.slow
def test_cache_is_redis_when_a_url_is_given_else_per_process_memory(env, expected):
    environ = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CACHE_URL"}}
    environ.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    code = "from django.conf import settings; c = settings.CACHES['default']; print(c['BACKEND'], c.get('LOCATION'))"
    result = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=REPO, env=environ,
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == expected, result.stderr


def _settings_of_a_process(*names: str, **env) -> list[str]:
    environ = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DJANGO_ENV", "VAR_DIR"}}
    environ.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    code = f"from django.conf import settings; print(*(getattr(settings, name) for name in {list(names)!r}))"
    result = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=REPO, env=environ,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.slow
def test_debug_is_off_unless_a_developer_turns_it_on(tmp_path):
    # `make run` (a demo anyone may reach) shows no traceback and no URLconf; DEBUG=1 is the opt-in.
    assert _settings_of_a_process("DEBUG", VAR_DIR=str(tmp_path)) == ["False"]
    assert _settings_of_a_process("DEBUG", VAR_DIR=str(tmp_path), DEBUG="1") == ["True"]


@pytest.mark.slow
def test_without_a_secret_key_one_is_generated_once_into_var_and_kept(tmp_path):
    first = _settings_of_a_process("SECRET_KEY", VAR_DIR=str(tmp_path))
    second = _settings_of_a_process("SECRET_KEY", VAR_DIR=str(tmp_path))
    stored = (tmp_path / "secret-key").read_text().strip()
    assert first == second == [stored]
    assert (len(stored), stored.startswith("django-insecure"), (tmp_path / "secret-key").stat().st_mode & 0o777) == (
        50, False, 0o600)
    assert sorted(path.name for path in tmp_path.iterdir() if "secret" in path.name) == ["secret-key"]
    # Another machine (another var/) has a key of its own.
    assert _settings_of_a_process("SECRET_KEY", VAR_DIR=str(tmp_path / "other")) != first


@pytest.mark.slow
def test_a_secret_key_in_the_environment_is_used_and_nothing_is_generated(tmp_path):
    assert _settings_of_a_process("SECRET_KEY", VAR_DIR=str(tmp_path), SECRET_KEY=STRONG_KEY) == [STRONG_KEY]
    assert (tmp_path / "secret-key").exists() is False


@pytest.mark.slow
def test_production_never_generates_a_key(tmp_path):
    result = _run_django(["check"], DJANGO_ENV="production", ALLOWED_HOSTS="community.example.org", VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DJANGO_ENV=production needs SECRET_KEY set to a real secret." in result.stderr
    assert (tmp_path / "secret-key").exists() is False


def test_an_unusable_key_file_stops_the_start_with_what_to_do(tmp_path):
    (tmp_path / "secret-key").write_text("\n")
    with pytest.raises(ImproperlyConfigured, match="holds no usable secret key: delete it"):
        generated_secret_key(tmp_path)
