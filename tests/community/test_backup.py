"""``manage.py backup`` and ``restore``: data made with the factories, backed up, restored into a
fresh database (SQLite: a new file; PostgreSQL: a new database in the same cluster), has the
same rows in every table; the media files come back too."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection

from community.models import Member, MessageKind, StoredImage
from tests.factories import at, make_cast, make_message, make_share, make_sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 16


def make_data():
    cast = make_cast()
    share = make_share(cast.group, cast.speaker.member, topic="跨境收单的清结算")
    make_sign_in(share, cast.member.member)
    image = make_message(cast.group, cast.member.member, at("2018-05-20", "19:40"), "", kind=MessageKind.IMAGE)
    make_message(cast.group, cast.member.member, at("2018-05-20", "19:41"), "<b>转义</b> & 'quotes'")
    StoredImage.objects.create(message=image, file=ContentFile(PNG, name="20180520_194000.png"))
    return cast


def counts(cursor, tables) -> dict[str, int]:
    result = {}
    for table in tables:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
        result[table] = cursor.fetchone()[0]
    return result


def sample_rows(cursor) -> list:
    cursor.execute("SELECT display_name, company FROM community_member ORDER BY id")
    members = cursor.fetchall()
    cursor.execute("SELECT text, kind FROM community_message ORDER BY id")
    messages = cursor.fetchall()
    cursor.execute("SELECT topic, status FROM shares_share ORDER BY id")
    return [members, messages, cursor.fetchall()]


def run_manage(args, **environ):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", **environ}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backup; PostgreSQL's is tested on PostgreSQL runs")
def test_sqlite_backup_restores_into_a_new_file_with_the_same_rows(tmp_path, settings):
    make_data()
    tables = connection.introspection.table_names()
    with connection.cursor() as cursor:
        expected, expected_rows = counts(cursor, tables), sample_rows(cursor)
    backup = tmp_path / "backups" / "community.sqlite3"
    call_command("backup", str(backup))
    assert sorted(path.name for path in backup.parent.iterdir()) == ["community.sqlite3", "community.sqlite3.media.tar"]

    # Restore into a fresh database file and a fresh media folder, as on a new machine.
    fresh, media = tmp_path / "fresh.sqlite3", tmp_path / "fresh-media"
    result = run_manage(["restore", str(backup)], DATABASE_URL=f"sqlite:///{fresh}", MEDIA_ROOT=str(media))
    assert result.returncode == 0, result.stderr
    restored = sqlite3.connect(fresh)
    try:
        cursor = restored.cursor()
        assert (counts(cursor, tables), sample_rows(cursor)) == (expected, expected_rows)
    finally:
        restored.close()
    assert expected["community_member"] == Member.objects.count() == 5
    stored = StoredImage.objects.get()
    assert (media / stored.file.name).read_bytes() == PNG


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (run with .ci/with-postgres)")
def test_postgres_backup_restores_into_a_new_database_with_the_same_rows(tmp_path):
    import psycopg

    make_data()
    tables = connection.introspection.table_names()
    with connection.cursor() as cursor:
        expected, expected_rows = counts(cursor, tables), sample_rows(cursor)
    backup = tmp_path / "community.dump"
    call_command("backup", str(backup))

    settings_dict = connection.settings_dict
    fresh = f"{settings_dict['NAME']}_restored"
    params = {key.lower(): settings_dict.get(key) or settings_dict["OPTIONS"].get(key.lower())
              for key in ("HOST", "PORT", "USER", "PASSWORD")}
    params = {key: str(value) for key, value in params.items() if value}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{fresh}"')
        admin.execute(f'CREATE DATABASE "{fresh}"')
    try:
        host = params.get("host", "")
        url = f"postgres://{params.get('user', '')}@/{fresh}?host={host}" if host.startswith("/") else (
            f"postgres://{params.get('user', '')}:{params.get('password', '')}@{host}:{params.get('port', 5432)}/{fresh}")
        result = run_manage(["restore", str(backup)], DATABASE_URL=url, MEDIA_ROOT=str(tmp_path / "fresh-media"))
        assert result.returncode == 0, result.stderr
        with psycopg.connect(dbname=fresh, **params) as restored, restored.cursor() as cursor:
            assert (counts(cursor, tables), sample_rows(cursor)) == (expected, expected_rows)
        stored = StoredImage.objects.get()
        assert (tmp_path / "fresh-media" / stored.file.name).read_bytes() == PNG
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')


def test_restore_of_a_missing_backup_fails_with_the_reason(tmp_path):
    result = run_manage(["restore", str(tmp_path / "nothing.sqlite3")], DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert (result.returncode, result.stderr.strip()) == (1, f"CommandError: No backup at {tmp_path / 'nothing.sqlite3'}.")
