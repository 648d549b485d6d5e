"""Migration 0009 on a SQLite database with data: existing codes are invitations, no one
is a delegate, rounds need no approval, and responses keep their status. Downgrading
removes the columns again."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from storage.db import create_engine
from storage.migrate import alembic_config

ROWS = [
    "INSERT INTO organisations (id, code, name, kind, county_code, county_name)"
    " VALUES (1, '3301', 'Drammen', 'kommune', '33', 'Buskerud')",
    "INSERT INTO contacts (id, organisation_id, name, role, email, created_at, active)"
    " VALUES (1, 1, 'Kari Nordmann', 'radmann', NULL, '2026-11-01 10:00:00', 1)",
    "INSERT INTO invitations (id, contact_id, code_hash, created_at, expires_at)"
    " VALUES (1, 1, 'abc', '2026-11-01 10:00:00', '2027-01-01 10:00:00')",
    "INSERT INTO survey_versions (id, key, version, content_hash, source_name, definition,"
    " title, created_at) VALUES (1, 'k', 1, 'h', 'k.yaml', '{}', 'K', '2026-11-01 10:00:00')",
    "INSERT INTO rounds (id, survey_version_id, title, status, audience, opens_at, closes_at,"
    " created_at, reminder_rules, quiet_rules, updated_at, version, retention_months)"
    " VALUES (1, 1, 'Q4', 'open', '{}', '2026-11-01 10:00:00', '2026-12-01 10:00:00',"
    " '2026-11-01 10:00:00', '[]', '{}', '2026-11-01 10:00:00', 1, 24)",
    "INSERT INTO responses (id, round_id, organisation_id, contact_id, status, state,"
    " started_at, updated_at, version) VALUES (1, 1, 1, 1, 'in_progress', '{}',"
    " '2026-11-02 10:00:00', '2026-11-02 10:00:00', 1)",
]


async def test_existing_rows_get_the_defaults_and_downgrade_removes_the_columns(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0008")
    engine = create_engine(url)
    async with engine.begin() as connection:
        for row in ROWS:
            await connection.execute(text(row))
    await engine.dispose()

    await asyncio.to_thread(command.upgrade, alembic_config(url), "0009")
    engine = create_engine(url)
    async with engine.begin() as connection:

        async def one(sql: str) -> tuple:
            return tuple((await connection.execute(text(sql))).one())

        assert await one("SELECT kind, issued_by_contact_id FROM invitations") == ("invite", None)
        assert await one("SELECT delegate_for_contact_id FROM contacts") == (None,)
        assert await one("SELECT require_approval FROM rounds") == (0,)
        assert await one(
            "SELECT status, awaiting_approval_at, approved_at, approved_by_contact_id"
            " FROM responses"
        ) == ("in_progress", None, None, None)
        assert (await connection.execute(text("PRAGMA foreign_key_check"))).all() == []
    await engine.dispose()

    await asyncio.to_thread(command.downgrade, alembic_config(url), "0008")
    engine = create_engine(url)
    async with engine.begin() as connection:

        def columns(sync, table: str) -> set[str]:
            return {c["name"] for c in inspect(sync).get_columns(table)}

        invitations = await connection.run_sync(columns, "invitations")
        responses = await connection.run_sync(columns, "responses")
        rounds = await connection.run_sync(columns, "rounds")
        contacts = await connection.run_sync(columns, "contacts")
    await engine.dispose()
    assert not {"kind", "issued_by_contact_id"} & invitations
    assert not {"awaiting_approval_at", "approved_at", "approved_by_contact_id"} & responses
    assert "require_approval" not in rounds and "delegate_for_contact_id" not in contacts
