"""Migration 0010 on a SQLite database with responses: rounds allow changes after
submission, no response has a draft, and every submitted response has its submission
as version 1 (answers, time and author). Downgrading removes it all again."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from storage.db import create_engine
from storage.migrate import alembic_config, current_revision, head_revision, prepare_database

ROWS = [
    "INSERT INTO survey_versions (id, key, version, content_hash, source_name, definition, title,"
    " created_at) VALUES (1, 'k', 1, 'h', 's', 'd', 't', '2026-11-01 10:00:00')",
    "INSERT INTO organisations (id, code, name, kind, county_code, county_name)"
    " VALUES (1, '3301', 'Drammen', 'kommune', '33', 'Buskerud'),"
    " (2, '0301', 'Oslo', 'kommune', '03', 'Oslo')",
    "INSERT INTO contacts (id, organisation_id, name, role, email, created_at, active)"
    " VALUES (1, 1, 'Kari', 'radmann', NULL, '2026-11-01 10:00:00', 1),"
    " (2, 2, 'Ola', 'radmann', NULL, '2026-11-01 10:00:00', 1)",
    "INSERT INTO rounds (id, survey_version_id, title, status, audience, opens_at, closes_at,"
    " created_at) VALUES (1, 1, 'R', 'open', '{\"kind\": \"all\"}', '2026-11-01 10:00:00',"
    " '2026-12-15 22:59:00', '2026-11-01 09:00:00')",
    "INSERT INTO responses (id, round_id, organisation_id, contact_id, status, state, started_at,"
    " updated_at, submitted_at) VALUES (1, 1, 1, 1, 'submitted',"
    ' \'{"phase": "submitted", "answers": {"q": "svar", "n": 3}}\','
    " '2026-11-02 10:00:00', '2026-11-02 11:00:00', '2026-11-02 11:00:00'),"
    ' (2, 1, 2, 2, \'in_progress\', \'{"phase": "answering", "answers": {"q": "halvt"}}\','
    " '2026-11-02 10:00:00', '2026-11-02 10:30:00', NULL)",
]


async def test_submitted_responses_get_version_one_and_rounds_allow_changes(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0008")
    engine = create_engine(url)
    async with engine.begin() as connection:
        for row in ROWS:
            await connection.execute(text(row))
    await engine.dispose()

    await prepare_database(url)
    assert await current_revision(url) == head_revision()
    engine = create_engine(url)
    async with engine.begin() as connection:

        async def rows(sql: str) -> list[tuple]:
            return [tuple(row) for row in (await connection.execute(text(sql))).all()]

        assert await rows("SELECT id, allow_edit_after_submit FROM rounds") == [(1, 1)]
        assert await rows("SELECT id, draft FROM responses ORDER BY id") == [(1, None), (2, None)]
        versions = await rows(
            "SELECT response_id, number, answers, submitted_at, contact_id FROM response_versions"
        )
        assert len(versions) == 1
        response_id, number, answers, submitted_at, contact_id = versions[0]
        assert (response_id, number, contact_id) == (1, 1, 1)
        assert json.loads(answers) == {"q": "svar", "n": 3}
        assert str(submitted_at).startswith("2026-11-02 11:00:00")
        assert (await connection.execute(text("PRAGMA foreign_key_check"))).all() == []
    await engine.dispose()

    await asyncio.to_thread(command.downgrade, alembic_config(url), "0008")
    engine = create_engine(url)
    async with engine.begin() as connection:

        def shape(sync) -> tuple[set[str], set[str], set[str]]:
            found = inspect(sync)
            return (
                set(found.get_table_names()),
                {c["name"] for c in found.get_columns("rounds")},
                {c["name"] for c in found.get_columns("responses")},
            )

        tables, rounds, responses = await connection.run_sync(shape)
        assert "response_versions" not in tables
        assert "allow_edit_after_submit" not in rounds and "draft" not in responses
        assert (await connection.execute(text("SELECT count(*) FROM responses"))).scalar() == 2
    await engine.dispose()
