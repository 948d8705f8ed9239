"""Backups as docs/production.md runs them: deploy/backup.sh dumps the database (pg_dump -Fc)
and keeps the newest BACKUP_KEEP; deploy/restore.sh restores a dump into a fresh database,
which then holds every row and needs no migration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection

from fullfolj.schools.models import Pupil

REPOSITORY = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: pg_dump and pg_restore work on PostgreSQL only",
    ),
    # The dump is taken over another connection: the rows must be committed.
    pytest.mark.django_db(transaction=True),
]


def database_url(name: str) -> str:
    s = connection.settings_dict
    password = f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else ""
    return f"postgres://{quote(s['USER'], safe='')}{password}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{name}"


def run(script: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603
        ["/bin/sh", str(REPOSITORY / "deploy" / script), *args],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def row_counts(conn: psycopg.Connection, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        # Table names from Django's own introspection of the test database, quoted.
        (count,) = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()  # noqa: S608
        counts[table] = count
    return counts


@pytest.fixture
def restored_name():
    name = f"{connection.settings_dict['NAME']}_restored"
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_dump_restores_into_a_fresh_database_with_every_row_and_nothing_to_migrate(
    cast, tmp_path, restored_name
):
    # Two older dumps: with BACKUP_KEEP=2 the oldest goes.
    oldest = tmp_path / "fullfolj-20250101T010000Z.dump"
    older = tmp_path / "fullfolj-20250102T010000Z.dump"
    oldest.write_bytes(b"")
    older.write_bytes(b"")
    source = database_url(connection.settings_dict["NAME"])
    backup = run(
        "backup.sh", {"DATABASE_URL": source, "BACKUP_DIR": str(tmp_path), "BACKUP_KEEP": "2"}
    )
    (dump,) = set(tmp_path.glob("fullfolj-*.dump")) - {oldest, older}
    assert f"removed {oldest}" in backup.stdout
    assert sorted(tmp_path.iterdir()) == sorted([older, dump])  # no .partial left either

    run("restore.sh", {"DATABASE_URL": database_url(restored_name)}, str(dump))

    tables = connection.introspection.table_names()
    with (
        psycopg.connect(source) as original,
        psycopg.connect(database_url(restored_name)) as restored,
    ):
        before = row_counts(original, tables)
        assert row_counts(restored, tables) == before
        assert before[Pupil._meta.db_table] == Pupil.objects.count() > 0
        (name,) = restored.execute(
            f'SELECT last_name FROM "{Pupil._meta.db_table}" WHERE id = %s',  # noqa: S608
            [cast.pupil.pk],
        ).fetchone()
        assert name == cast.pupil.last_name

    check = subprocess.run(
        [sys.executable, "-m", "fullfolj.cli", "migrate", "--check"],
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(REPOSITORY),
            "FULLFOLJ_DEMO": "1",
            "FULLFOLJ_DATA_DIR": str(tmp_path),
            "DATABASE_URL": database_url(restored_name),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_restore_into_a_database_that_has_tables_stops_at_the_first_error(
    cast, tmp_path, restored_name
):
    source = database_url(connection.settings_dict["NAME"])
    run("backup.sh", {"DATABASE_URL": source, "BACKUP_DIR": str(tmp_path)})
    (dump,) = tmp_path.glob("fullfolj-*.dump")
    run("restore.sh", {"DATABASE_URL": database_url(restored_name)}, str(dump))
    again = subprocess.run(  # noqa: S603
        ["/bin/sh", str(REPOSITORY / "deploy" / "restore.sh"), str(dump)],
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": database_url(restored_name)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert again.returncode != 0
    assert "already exists" in again.stderr
    # One transaction: the failed second restore added no rows.
    with psycopg.connect(database_url(restored_name)) as restored:
        (count,) = restored.execute(
            f'SELECT count(*) FROM "{Pupil._meta.db_table}"'  # noqa: S608
        ).fetchone()
    assert count == Pupil.objects.count()
