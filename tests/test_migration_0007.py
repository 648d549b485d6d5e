"""Migration 0007 on a SQLite database with admin contacts: each becomes an admin staff
account (their e-mail, or a placeholder to correct), their chats are bound to it and stay
their contact's, and contacts.is_admin is gone. Downgrading gives the flag back."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text

from storage.db import create_engine
from storage.migrate import alembic_config, current_revision, head_revision, prepare_database

ROWS = [
    "INSERT INTO organisations (id, code, name, kind, county_code, county_name)"
    " VALUES (1, '3301', 'Drammen', 'kommune', '33', 'Buskerud')",
    # Kari: an admin with an e-mail; Per: an admin without; Ola: a member; Eli: an erased
    # admin (a tombstone is nobody's account).
    "INSERT INTO contacts (id, organisation_id, name, role, email, is_admin, created_at, active)"
    " VALUES (1, 1, 'Kari Nordmann', 'radmann', ' Kari@Drammen.Kommune.no ', 1,"
    " '2026-11-01 10:00:00', 1)",
    "INSERT INTO contacts (id, organisation_id, name, role, email, is_admin, created_at, active)"
    " VALUES (2, 1, 'Per Hansen', 'assistent', NULL, 1, '2026-11-01 10:00:00', 1)",
    "INSERT INTO contacts (id, organisation_id, name, role, email, is_admin, created_at, active)"
    " VALUES (3, 1, 'Ola Medlem', 'leder', 'ola@drammen.kommune.no', 0, '2026-11-01 10:00:00', 1)",
    "INSERT INTO contacts (id, organisation_id, name, role, email, is_admin, created_at, active,"
    " erased_at) VALUES (4, 1, '', '', NULL, 1, '2026-11-01 10:00:00', 0, '2026-11-20 10:00:00')",
    "INSERT INTO chats (id, channel, address, contact_id, awaiting_code, created_at)"
    " VALUES (1, 'telegram', '100', 1, 0, '2026-11-01 10:00:00')",
    "INSERT INTO chats (id, channel, address, contact_id, awaiting_code, created_at)"
    " VALUES (2, 'teams', 'a:kari', 1, 0, '2026-11-01 10:00:00')",
    "INSERT INTO chats (id, channel, address, contact_id, awaiting_code, created_at)"
    " VALUES (3, 'telegram', '200', 2, 0, '2026-11-01 10:00:00')",
    "INSERT INTO chats (id, channel, address, contact_id, awaiting_code, created_at)"
    " VALUES (4, 'telegram', '300', 3, 0, '2026-11-01 10:00:00')",
]


async def test_admin_contacts_become_admin_staff_and_the_flag_goes(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0006")
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

        staff = await rows("SELECT id, name, email, role, active FROM staff ORDER BY id")
        assert [s[1:] for s in staff] == [
            ("Kari Nordmann", "kari@drammen.kommune.no", "admin", 1),
            ("Per Hansen", "contact-2@lyttepost.invalid", "admin", 1),
        ]
        kari, per = staff[0][0], staff[1][0]
        assert await rows("SELECT id, contact_id, staff_id FROM chats ORDER BY id") == [
            (1, 1, kari), (2, 1, kari), (3, 2, per), (4, 3, None),
        ]  # fmt: skip
        columns = await connection.run_sync(
            lambda sync: {c["name"] for c in inspect(sync).get_columns("contacts")}
        )
        assert "is_admin" not in columns and {"name", "email", "active"} <= columns
        assert await rows("SELECT count(*) FROM contacts") == [(4,)]  # no one lost
        assert (await connection.execute(text("PRAGMA foreign_key_check"))).all() == []
    await engine.dispose()

    # Back to 0006: the contacts whose chats an admin account holds are admins again.
    await asyncio.to_thread(command.downgrade, alembic_config(url), "0006")
    engine = create_engine(url)
    async with engine.begin() as connection:
        admins = (await connection.execute(text("SELECT id, is_admin FROM contacts"))).all()
        assert sorted(tuple(a) for a in admins) == [(1, 1), (2, 1), (3, 0), (4, 0)]
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert not tables & {"staff", "staff_tokens", "staff_sessions", "audit_log"}
    await engine.dispose()
