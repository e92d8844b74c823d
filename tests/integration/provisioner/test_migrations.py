"""The school migrations themselves: what they build, that they match the metadata, and Unicode text."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import IntegrityError

from apps.provisioner.domain import InitDatabase
from apps.provisioner.service import init_database
from apps.provisioner.storage import MIGRATIONS, AlembicSchemaMigrator
from apps.provisioner.storage.school import metadata
from servicekit.migrations import upgrade_to_head
from tests.integration.provisioner.helpers import SCHOOL_TABLES, empty_sqlite, tables_in

pytestmark = pytest.mark.anyio


@contextmanager
def migrated(folder: Path) -> Iterator[Engine]:
    """A tenant file at head (upgrade_to_head runs its own event loop: called from sync code only)."""
    path, url = empty_sqlite(folder)
    upgrade_to_head(MIGRATIONS, url)
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _foreign_keys(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[attr-defined]

    try:
        yield engine
    finally:
        engine.dispose()


def test_the_revisions_form_one_line_ending_at_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)

    assert script.get_heads() == ["0002"]
    assert [r.revision for r in script.walk_revisions()] == ["0002", "0001"]


def test_migrations_build_exactly_what_the_metadata_describes(tmp_path: Path) -> None:
    with migrated(tmp_path) as engine, engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)

    assert differences == []


def test_foreign_keys_tie_the_school_together(tmp_path: Path) -> None:
    with migrated(tmp_path) as engine:
        inspector = inspect(engine)
        links = {
            table: sorted(
                (fk["constrained_columns"][0], fk["referred_table"]) for fk in inspector.get_foreign_keys(table)
            )
            for table in SCHOOL_TABLES
        }

    assert links == {
        "admin_users": [],
        "announcements": [("author_id", "admin_users")],
        "attendance": [("class_id", "classes"), ("student_id", "students")],
        "classes": [("teacher_id", "teachers")],
        "grades": [("class_id", "classes"), ("student_id", "students")],
        "students": [],
        "teachers": [],
    }


def test_thai_text_is_stored_and_read_back_unchanged(tmp_path: Path) -> None:
    name = "เด็กหญิงสมศรี ใจดี"
    teacher, title, body = "ครูสมชาย รักเรียน", "ประกาศปิดภาคเรียน", "โรงเรียนจะปิดภาคเรียนในวันศุกร์นี้ 🎉"
    with migrated(tmp_path) as engine:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO students (id, name) VALUES ('s1', :name)"), {"name": name})
            connection.execute(text("INSERT INTO teachers (id, name) VALUES ('t1', :name)"), {"name": teacher})
            connection.execute(
                text("INSERT INTO announcements (id, title, body) VALUES ('a1', :title, :body)"),
                {"title": title, "body": body},
            )
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT name FROM students WHERE id = 's1'")).scalar_one()
            found = connection.execute(text("SELECT id FROM students WHERE name = :name"), {"name": name}).scalar_one()
            announced = connection.execute(text("SELECT title, body FROM announcements")).one()

    assert stored == name
    assert found == "s1"
    assert tuple(announced) == (title, body)


def test_admin_user_rows_need_only_what_admin_knows_and_emails_are_unique(tmp_path: Path) -> None:
    insert = text("INSERT INTO admin_users (id, email, password_hash) VALUES (:id, :email, '$argon2id$...')")
    with migrated(tmp_path) as engine:
        with engine.begin() as connection:
            connection.execute(insert, {"id": uuid.uuid4().hex, "email": "head@school.example"})
            created_at = connection.execute(text("SELECT created_at FROM admin_users")).scalar_one()
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(insert, {"id": uuid.uuid4().hex, "email": "head@school.example"})

    assert created_at is not None


def test_records_must_point_at_existing_students_and_classes(tmp_path: Path) -> None:
    with migrated(tmp_path) as engine, pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO attendance (id, student_id, class_id, date, status) "
                "VALUES ('x', 'no-student', 'no-class', '2026-01-05', 'PRESENT')"
            )
        )


def test_attendance_status_and_grade_scores_are_checked(tmp_path: Path) -> None:
    with migrated(tmp_path) as engine:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO students (id, name) VALUES ('s', 'ก')"))
            connection.execute(text("INSERT INTO classes (id, name) VALUES ('c', 'คณิตศาสตร์')"))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO attendance (id, student_id, class_id, date, status) "
                    "VALUES ('a', 's', 'c', '2026-01-05', 'ASLEEP')"
                )
            )
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO grades (id, student_id, class_id, term, score) "
                    "VALUES ('g', 's', 'c', 'ภาคเรียนที่ 1', 101)"
                )
            )


def test_upgrading_twice_from_sync_code_changes_nothing(tmp_path: Path) -> None:
    path, url = empty_sqlite(tmp_path)
    upgrade_to_head(MIGRATIONS, url)
    schema = path.read_bytes()

    upgrade_to_head(MIGRATIONS, url)

    assert path.read_bytes() == schema
    assert tables_in(path) == sorted([*SCHOOL_TABLES, "alembic_version"])


def test_downgrade_to_base_leaves_only_the_version_table(tmp_path: Path) -> None:
    path, url = empty_sqlite(tmp_path)
    upgrade_to_head(MIGRATIONS, url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)

    command.downgrade(config, "base")

    assert tables_in(path) == ["alembic_version"]


@pytest.mark.timeout(60)  # without the one-at-a-time lock, parallel Alembic runs tangle and hang
async def test_concurrent_requests_on_one_and_on_several_databases_all_succeed(tmp_path: Path) -> None:
    urls = [empty_sqlite(tmp_path, f"tenant-{n}.db")[1] for n in range(3)]
    migrator = AlembicSchemaMigrator()
    calls = [init_database(InitDatabase(url), migrator=migrator) for url in urls * 2]
    assert [result.tables for result in await asyncio.gather(*calls)] == [SCHOOL_TABLES] * 6
