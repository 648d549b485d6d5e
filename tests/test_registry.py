"""Contacts and invitation codes: adding, importing, issuing, redeeming, rate limiting."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.contacts import ContactError, add_contact, import_contacts, pending_contacts
from services.invites import (
    CODE_ALPHABET,
    CODE_LENGTH,
    FLOOD_FAILURES_PER_MINUTE,
    MAX_FAILURES_PER_CHAT,
    MAX_FAILURES_PER_CHAT_IN_FLOOD,
    FloodWatch,
    deep_link,
    hash_code,
    issue_code,
    normalise_code,
    redeem_code,
)
from storage.orm import Chat, Contact, Invitation, utcnow

TTL = timedelta(days=60)


async def new_chat(session, address: str = "1") -> Chat:
    chat = Chat(channel="telegram", address=address)
    session.add(chat)
    await session.flush()
    return chat


async def test_add_contact_validates_and_refuses_duplicates(sessions) -> None:
    async with sessions() as session, session.begin():
        contact = await add_contact(
            session, "3301", "Kari  Nordmann", "kommunedirektor", "kari@drammen.kommune.no"
        )
        assert contact.name == "Kari Nordmann"
        with pytest.raises(ContactError, match="already"):
            await add_contact(session, "3301", "kari nordmann", "kommunedirektor", None)
        with pytest.raises(ContactError, match="unknown organisation"):
            await add_contact(session, "9999", "X", "radmann", None)
        with pytest.raises(ContactError, match="e-mail"):
            await add_contact(session, "3301", "Y", "radmann", "not-an-address")
        with pytest.raises(ContactError, match="role"):
            await add_contact(session, "3301", "Y", "Rådmann!", None)
        oslo = await add_contact(session, "03", "Ola", "byradsleder", None)
        assert oslo.organisation_id != contact.organisation_id


async def test_import_is_all_or_nothing_with_line_numbers(sessions) -> None:
    bad = "org;name;role;email\n3301;Kari;radmann;kari@example.no\n9999;Per;radmann;\n4601;;radmann;\n"
    async with sessions() as session, session.begin():
        result = await import_contacts(session, bad)
    assert result.added == []
    assert result.errors == [
        "line 3: unknown organisation code '9999'",
        "line 4: name must be 1-200 characters",
    ]
    good = "kommunenummer,navn,rolle,epost\n3301,Kari,radmann,kari@example.no\n46,Vestland Leder,fylkesdirektor,\n"
    async with sessions() as session, session.begin():
        result = await import_contacts(session, good)
    assert len(result.added) == 2 and result.errors == []
    async with sessions() as session, session.begin():
        again = await import_contacts(session, good)
    assert again.added == [] and again.skipped == 2


async def test_codes_are_random_hashed_and_single_use(sessions) -> None:
    now = utcnow()
    async with sessions() as session, session.begin():
        contact = await add_contact(session, "3301", "Kari", "radmann", None)
        issued = await issue_code(session, contact.id, now, TTL)
        stored = await session.scalar(select(Invitation))
    assert len(issued.code) == CODE_LENGTH and set(issued.code) <= set(CODE_ALPHABET)
    assert stored.code_hash == hash_code(issued.code) and issued.code not in stored.code_hash
    assert (
        deep_link("lyttepost_bot", issued.code) == f"https://t.me/lyttepost_bot?start={issued.code}"
    )
    assert normalise_code(f" {issued.code[:5].lower()}-{issued.code[5:]} ") == issued.code

    async with sessions() as session, session.begin():
        first = await new_chat(session, "1")
        ok = await redeem_code(session, first, issued.code.lower(), now)
        assert ok.outcome == "ok" and first.contact_id == contact.id
        again = await redeem_code(session, first, issued.code, now)
        assert again.outcome == "already_yours"
        other = await new_chat(session, "2")
        used = await redeem_code(session, other, issued.code, now)
        assert used.outcome == "used" and other.contact_id is None


async def test_expired_and_revoked_codes_are_refused(sessions) -> None:
    now = utcnow()
    async with sessions() as session, session.begin():
        contact = await add_contact(session, "3301", "Kari", "radmann", None)
        old = await issue_code(session, contact.id, now - timedelta(days=61), TTL)
        chat = await new_chat(session)
        assert (await redeem_code(session, chat, old.code, now)).outcome == "expired"
        first = await issue_code(session, contact.id, now, TTL)
        second = await issue_code(session, contact.id, now, TTL)  # revokes the first
        assert (await redeem_code(session, chat, first.code, now)).outcome == "unknown"
        assert (await redeem_code(session, chat, second.code, now)).outcome == "ok"


async def test_repeated_wrong_codes_lock_the_chat_for_a_while(sessions) -> None:
    now = utcnow()
    async with sessions() as session, session.begin():
        contact = await add_contact(session, "3301", "Kari", "radmann", None)
        issued = await issue_code(session, contact.id, now, TTL)
        chat = await new_chat(session)
        outcomes = [
            (await redeem_code(session, chat, f"WRONG{i:05d}", now + timedelta(seconds=i))).outcome
            for i in range(MAX_FAILURES_PER_CHAT + 1)
        ]
        assert outcomes == ["unknown"] * MAX_FAILURES_PER_CHAT + ["locked"]
        # Even the right code is not checked while locked ...
        locked = await redeem_code(session, chat, issued.code, now + timedelta(minutes=1))
        assert locked.outcome == "locked" and locked.retry_in is not None
        # ... and works once the window has passed.
        later = await redeem_code(session, chat, issued.code, now + timedelta(minutes=16))
        assert later.outcome == "ok"


async def flood(session, now, chats: int, first: int = 10_000) -> None:
    """Wrong codes from many throwaway chats, one each, all within a minute."""
    for index in range(chats):
        chat = await new_chat(session, str(first + index))
        result = await redeem_code(session, chat, f"GUESS{index:05d}", now)
        assert result.outcome == "unknown"


async def test_a_flood_of_wrong_codes_from_many_chats_never_blocks_a_correct_code(sessions) -> None:
    """Issue "Trust" item 5: twelve throwaway chats used to stop all registration for a
    minute (60 failures overall refused even valid codes)."""
    now = utcnow()
    async with sessions() as session, session.begin():
        contact = await add_contact(session, "3301", "Kari", "radmann", None)
        issued = await issue_code(session, contact.id, now, TTL)
        await flood(session, now, 2 * FLOOD_FAILURES_PER_MINUTE)
        member = await new_chat(session, "42")
        result = await redeem_code(session, member, issued.code, now + timedelta(seconds=5))
    assert result.outcome == "ok" and result.flood
    assert member.contact_id == contact.id


async def test_during_a_flood_each_chat_gets_fewer_tries_until_it_is_over(sessions) -> None:
    now = utcnow()
    async with sessions() as session, session.begin():
        contact = await add_contact(session, "3301", "Kari", "radmann", None)
        issued = await issue_code(session, contact.id, now, TTL)
        await flood(session, now, FLOOD_FAILURES_PER_MINUTE)
        chat = await new_chat(session, "42")
        results = [
            await redeem_code(session, chat, f"WRONG{i:05d}", now + timedelta(seconds=i))
            for i in range(MAX_FAILURES_PER_CHAT_IN_FLOOD + 1)
        ]
        assert [r.outcome for r in results] == ["unknown"] * MAX_FAILURES_PER_CHAT_IN_FLOOD + [
            "locked"
        ]
        assert all(r.flood for r in results)
        assert results[0].attempts_left == MAX_FAILURES_PER_CHAT_IN_FLOOD - 1
        assert results[-2].attempts_left == 0 and results[-2].retry_in is not None
        # Locked: not even the right code is checked while the flood lasts ...
        locked = await redeem_code(session, chat, issued.code, now + timedelta(seconds=30))
        assert locked.outcome == "locked"
        # ... but once it is over the ordinary limit (5 in 15 minutes) applies again.
        later = await redeem_code(session, chat, issued.code, now + timedelta(minutes=2))
        assert later.outcome == "ok" and not later.flood


async def test_a_flood_is_reported_once_a_minute(sessions, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="services.invites")
    watch = FloodWatch()
    now = utcnow()
    async with sessions() as session, session.begin():
        for index in range(FLOOD_FAILURES_PER_MINUTE + 20):
            chat = await new_chat(session, str(index))
            await redeem_code(session, chat, "WRONGCODE2", now, watch=watch)
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "flood" in warnings[0].getMessage()
        assert f"{FLOOD_FAILURES_PER_MINUTE} wrong codes" in warnings[0].getMessage()
        later = now + timedelta(seconds=61)
        for index in range(FLOOD_FAILURES_PER_MINUTE + 1):
            chat = await new_chat(session, f"b{index}")
            await redeem_code(session, chat, "WRONGCODE2", later, watch=watch)
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2


async def test_pending_contacts_skip_registered_and_live_codes(sessions) -> None:
    now = utcnow()
    async with sessions() as session, session.begin():
        fresh = await add_contact(session, "3301", "A", "radmann", None)
        coded = await add_contact(session, "3301", "B", "radmann", None)
        await issue_code(session, coded.id, now, TTL)
        registered = await add_contact(session, "3301", "C", "radmann", None)
        session.add(Chat(channel="telegram", address="9", contact_id=registered.id))
        await session.flush()
        pending = await pending_contacts(session, now)
    assert [c.id for c in pending] == [fresh.id]
    async with sessions() as session:
        assert await session.get(Contact, fresh.id) is not None
