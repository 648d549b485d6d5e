"""Migration 0006 on a SQLite database with data: nothing is lost when SQLite rebuilds the
tables (responses, round_invitees, outbox, inbound_events), and old rows get defaults."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from sqlalchemy import text

from storage.db import create_engine
from storage.migrate import alembic_config, current_revision, head_revision, prepare_database

ROWS = [
    "INSERT INTO survey_versions (id, key, version, content_hash, source_name, definition, title,"
    " created_at) VALUES (1, 'k', 1, 'h', 's', 'd', 't', '2026-11-01 10:00:00')",
    "INSERT INTO organisations (id, code, name, kind, county_code, county_name)"
    " VALUES (1, '3301', 'Drammen', 'kommune', '33', 'Buskerud')",
    "INSERT INTO contacts (id, organisation_id, name, role, email, is_admin, created_at)"
    " VALUES (1, 1, 'Kari', 'radmann', NULL, 0, '2026-11-01 10:00:00')",
    "INSERT INTO rounds (id, survey_version_id, title, status, audience, opens_at, closes_at,"
    " created_at) VALUES (1, 1, 'R', 'open', '{\"kind\": \"all\"}', '2026-11-01 10:00:00',"
    " '2026-12-15 22:59:00', '2026-11-01 09:00:00')",
    "INSERT INTO responses (id, round_id, organisation_id, contact_id, status, state, started_at,"
    " updated_at) VALUES (1, 1, 1, 1, 'in_progress', '{}', '2026-11-02 10:00:00',"
    " '2026-11-02 10:00:00')",
    "INSERT INTO answers (id, response_id, question_id, value, answered_at)"
    " VALUES (1, 1, 'q', '\"svar\"', '2026-11-02 10:00:00')",
    "INSERT INTO chats (id, channel, address, contact_id, awaiting_code, active_response_id,"
    " created_at) VALUES (1, 'telegram', '100', 1, 0, 1, '2026-11-01 10:00:00')",
    "INSERT INTO round_invitees (round_id, contact_id, organisation_id, invited_at)"
    " VALUES (1, 1, 1, '2026-11-01 10:00:00')",
    "INSERT INTO outbox (id, channel, address, contact_id, kind, priority, payload, status,"
    " attempts, not_before, created_at, round_id) VALUES (7, 'telegram', '100', 1, 'invitation',"
    " 50, '{\"text\": \"Hei\"}', 'sent', 1, '2026-11-01 10:00:00', '2026-11-01 10:00:00', 1)",
    "INSERT INTO inbound_events (id, channel, update_key, address, payload, received_at)"
    " VALUES (9, 'telegram', 'u1', '100', '{}', '2026-11-02 10:00:00')",
]


async def test_an_existing_database_upgrades_without_losing_anything(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0005")
    engine = create_engine(url)
    async with engine.begin() as connection:
        for row in ROWS:
            await connection.execute(text(row))
    await engine.dispose()

    await prepare_database(url)
    assert await current_revision(url) == head_revision()
    engine = create_engine(url)
    async with engine.begin() as connection:

        async def one(sql: str) -> tuple:
            return tuple((await connection.execute(text(sql))).one())

        assert await one("SELECT count(*) FROM answers") == (1,)  # not cascaded away
        assert await one("SELECT contact_id, version FROM responses") == (1, 1)
        assert await one("SELECT active_response_id FROM chats") == (1,)
        assert await one("SELECT id, round_id, contact_id FROM round_invitees") == (1, 1, 1)
        assert await one("SELECT active, erased_at FROM contacts WHERE id = 1") == (1, None)
        assert await one("SELECT retention_months, personal_data_erased_at FROM rounds") == (
            24, None,
        )  # fmt: skip
        assert await one("SELECT id, purged_at FROM outbox") == (7, None)
        # The newest rows deleted (an erasure), new ones do not take their ids.
        await connection.execute(text("DELETE FROM outbox"))
        await connection.execute(text("DELETE FROM inbound_events"))
        await connection.execute(text(ROWS[-2].replace("(7,", "(NULL,")))
        await connection.execute(text(ROWS[-1].replace("(9,", "(NULL,")))
        assert await one("SELECT id FROM outbox") == (8,)
        assert await one("SELECT id FROM inbound_events") == (10,)
        assert (await connection.execute(text("PRAGMA foreign_key_check"))).all() == []
    await engine.dispose()
