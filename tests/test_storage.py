"""Migrations, the member registry seed and the UTC column type, on both backends."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, StatementError

from storage.db import create_engine, session_factory
from storage.migrate import current_revision, head_revision, prepare_database
from storage.orm import Base, Contact, Organisation
from storage.seed import SEED_DIR, resolve_org_code, seed_members

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def data_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))[1:]


def test_the_project_copy_has_357_municipalities_and_15_counties() -> None:
    assert len(data_rows(SEED_DIR / "kommuner.csv")) == 357
    assert len(data_rows(SEED_DIR / "fylker.csv")) == 15


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="shared/ is not beside the checkout")
def test_the_project_copy_matches_the_shared_reference_data() -> None:
    for name in ("kommuner.csv", "fylker.csv"):
        assert data_rows(SEED_DIR / name) == data_rows(SHARED_DATA / name)


def test_org_codes_resolve_oslo_and_short_numbers() -> None:
    assert resolve_org_code("03") == "0301"
    assert resolve_org_code("301") == "0301"
    assert resolve_org_code(" 4601 ") == "4601"
    assert resolve_org_code("46") == "46"


async def test_upgrade_and_seed_from_nothing_twice_changes_nothing(database_url: str) -> None:
    first = await prepare_database(database_url)
    second = await prepare_database(database_url)
    assert (second.inserted, second.updated) == (0, 0)
    assert first.total == 371
    assert await current_revision(database_url) == head_revision()
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        total = await session.scalar(select(func.count(Organisation.id)))
        kinds = dict(
            (
                await session.execute(
                    select(Organisation.kind, func.count()).group_by(Organisation.kind)
                )
            ).all()
        )
        oslo = (
            await session.scalars(select(Organisation).where(Organisation.county_code == "03"))
        ).all()
    await engine.dispose()
    assert total == 371
    assert kinds == {"kommune": 356, "kommune_og_fylkeskommune": 1, "fylkeskommune": 14}
    assert [(o.code, o.kind) for o in oslo] == [("0301", "kommune_og_fylkeskommune")]


async def test_migrations_match_the_models(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
            )
        )
    await engine.dispose()
    assert diff == []


async def test_seed_corrects_a_changed_name(sessions) -> None:
    async with sessions() as session, session.begin():
        organisation = await session.scalar(select(Organisation).where(Organisation.code == "3301"))
        organisation.name = "Feil navn"
    async with sessions() as session, session.begin():
        result = await seed_members(session)
    assert (result.inserted, result.updated) == (0, 1)


async def test_datetimes_come_back_aware_in_utc(sessions) -> None:
    oslo_time = datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2)))
    async with sessions() as session, session.begin():
        organisation = await session.scalar(select(Organisation).limit(1))
        contact = Contact(
            organisation_id=organisation.id, name="A", role="radmann", created_at=oslo_time
        )
        session.add(contact)
    async with sessions() as session:
        stored = await session.get(Contact, contact.id)
    assert stored.created_at == oslo_time
    assert stored.created_at.tzinfo is not None
    assert stored.created_at.utcoffset() == timedelta(0)
    assert stored.created_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


async def test_naive_datetimes_are_refused(sessions) -> None:
    async with sessions() as session:
        organisation = await session.scalar(select(Organisation).limit(1))
        session.add(
            Contact(
                organisation_id=organisation.id,
                name="A",
                role="radmann",
                created_at=datetime(2026, 1, 1),
            )
        )
        with pytest.raises(StatementError, match="naive"):
            await session.flush()


async def test_foreign_keys_are_enforced(sessions) -> None:
    async with sessions() as session:
        session.add(Contact(organisation_id=999_999, name="A", role="radmann"))
        with pytest.raises(IntegrityError):
            await session.flush()


async def test_rounds_made_before_the_annual_cycle_upgrade_cleanly(tmp_path: Path) -> None:
    """0001 -> 0002 on a database with data: old rounds get an empty reminder plan and
    default quiet hours, and carry on as before."""
    import asyncio

    from alembic import command
    from sqlalchemy import text

    from scheduler.cycle import timing_of
    from storage.migrate import alembic_config
    from storage.orm import Round

    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0001")
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO survey_versions (id, key, version, content_hash, source_name, definition,"
                " title, created_at) VALUES (1, 'k', 1, 'h', 's', 'd', 't', '2026-11-01 10:00:00')"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO rounds (id, survey_version_id, title, status, audience, opens_at,"
                " closes_at, created_at) VALUES (1, 1, 'Gammel', 'open', '{\"kind\": \"all\"}',"
                " '2026-11-01 10:00:00', '2026-12-15 22:59:00', '2026-11-01 09:00:00')"
            )
        )
    await engine.dispose()
    await prepare_database(url)
    assert await current_revision(url) == head_revision()
    engine = create_engine(url)
    async with session_factory(engine)() as session, session.begin():
        round_ = await session.get(Round, 1)
        assert round_ is not None
        assert (round_.reminder_rules, round_.quiet_rules, round_.version) == ([], {}, 1)
        assert round_.updated_at is not None and round_.paused_at is None
        assert timing_of(round_).reminders == ()
        round_.title = "Gammel, endret"  # the optimistic lock works on old rows too
    async with session_factory(engine)() as session:
        assert (await session.get(Round, 1)).version == 2
    await engine.dispose()
