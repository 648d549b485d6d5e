"""Publications in several languages (issue 15), on SQLite and PostgreSQL: translations kept
with a draft, each recipient's delivery in their language, bokmål (counted and named to
staff before sending) where a translation is missing, one delivery per recipient as before,
a summary's own captions in the recipient's language; and the CLI's flags and warning."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from bot.cli import app
from dialogs.i18n import speaking
from services import publications
from services.personal import personalise_for
from services.segments import Segment
from services.summaries import draft_summary
from storage.db import create_engine, session_factory
from storage.orm import Contact, Organisation, OutboxMessage
from tests.bokmal_words import bokmal_words
from tests.cycle_support import ZONE, World, oslo
from tests.test_publications import closed_round

ORGS = ["3301", "3303", "4601", "46", "5501", "0301"]  # + Kongsberg, which answers a little
NB = "Hei! KS inviterer til samling i mars. Meld dere på innen fredag."
NN = "Hei! KS inviterer til samling i mars. Meld dykk på innan fredag."
SE = "Bures! KS bovde čoahkkimii njukčamánus."


async def set_languages(world: World, organisations: dict[str, str], own: dict[str, str]) -> None:
    """Organisations' languages by code, and contacts' own choices by their org's code."""
    async with world.sessions() as session, session.begin():
        for code, language in organisations.items():
            organisation = await session.scalar(
                select(Organisation).where(Organisation.code == code)
            )
            assert organisation is not None
            organisation.language = language
        for code, language in own.items():
            contact = await session.get(Contact, world.contacts[code])
            assert contact is not None
            contact.language = language


@pytest.fixture
async def world(sessions) -> World:
    """Bergen and Vestland write nynorsk, Tromsø nordsamisk; Oslo's contact chose nynorsk
    for herself although Oslo writes bokmål; Drammen and Kongsberg are bokmål."""
    world = World(sessions, oslo("2027-01-04 08:00"))
    await world.setup(ORGS)
    await set_languages(world, {"4601": "nn", "46": "nn", "5501": "se"}, {"0301": "nn"})
    return world


async def draft(world: World, **translations: str) -> int:
    async with world.sessions() as session, session.begin():
        made = await publications.create_draft(
            session, kind="broadcast", title="Samling", text=NB, actor="test",
            now=world.clock.now, segment=Segment("all"), translations=translations,
        )  # fmt: skip
        return made.publication.id


async def texts_sent(world: World, publication_id: int) -> dict[str, str]:
    """Org code -> the text of the delivery queued for its contact."""
    codes = {contact_id: code for code, contact_id in world.contacts.items()}
    async with world.sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.contact_id, OutboxMessage.payload).where(
                OutboxMessage.publication_id == publication_id
            )
        )
        return {codes[contact_id]: payload["text"] for contact_id, payload in rows}


async def test_translations_are_kept_edited_and_checked(world: World) -> None:
    publication_id = await draft(world, nn=f"  {NN}\r\n", se="", en="Hello")
    async with world.sessions() as session, session.begin():
        saved = await publications.load(session, publication_id)
        assert saved.translations == {"nn": NN, "en": "Hello"}  # trimmed; empty means none
        await publications.edit_text(
            session, publication_id, SE, actor="test", now=world.clock.now, language="se"
        )
        await publications.edit_text(
            session, publication_id, "", actor="test", now=world.clock.now, language="en"
        )
        await publications.update_draft(  # the form without translations keeps them
            session, publication_id, title="Samling", text=NB, segment=Segment("all"),
            now=world.clock.now,
        )  # fmt: skip
    async with world.sessions() as session, session.begin():
        saved = await publications.load(session, publication_id)
        assert saved.translations == {"nn": NN, "se": SE}
        assert publications.text_in(saved, "nn") == NN and publications.text_in(saved, "en") == NB
        for wrong, match in (({"nb": "x"}, "bokmålsteksten"), ({"de": "x"}, "ukjent språk")):
            with pytest.raises(publications.PublicationError, match=match):
                await publications.update_draft(
                    session, publication_id, title="S", text=NB, segment=None,
                    now=world.clock.now, translations=wrong,
                )  # fmt: skip
        with pytest.raises(publications.PublicationError, match="nynorsk har 20001 tegn"):
            await publications.edit_text(
                session, publication_id, "x" * 20_001, actor="t", now=world.clock.now,
                language="nn",
            )  # fmt: skip


async def test_each_recipient_gets_their_language_once(world: World) -> None:
    publication_id = await draft(world, nn=NN, se=SE)
    async with world.sessions() as session:
        saved = await publications.load(session, publication_id)
        reached = await publications.audience(session, Segment("all"))
        check = await publications.language_check(session, saved, reached.reachable)
    assert check.readers == {"nb": 2, "nn": 3, "se": 1} and check.fallback == {}
    assert check.warning() == ""
    async with world.sessions() as session, session.begin():
        await publications.publish(
            session, publication_id, Segment("all"), actor="test", now=world.clock.now,
            confirmed_fallback={},
        )  # fmt: skip
    assert await texts_sent(world, publication_id) == {
        "3301": NB, "3303": NB, "4601": NN, "46": NN, "0301": NN, "5501": SE,
    }  # fmt: skip
    async with world.sessions() as session, session.begin():
        with pytest.raises(publications.PublicationError, match="allerede sendt"):
            await publications.publish(
                session, publication_id, Segment("all"), actor="test", now=world.clock.now
            )
        keys = set(
            await session.scalars(
                select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.publication_id == publication_id
                )
            )
        )
    assert keys == {f"pub:{publication_id}:{contact}:0" for contact in world.contacts.values()}


async def test_a_missing_translation_is_counted_before_sending_and_gets_bokmal(
    world: World,
) -> None:
    bokmal_only = await draft(world)
    async with world.sessions() as session:
        saved = await publications.load(session, bokmal_only)
        reached = await publications.audience(session, Segment("all"))
        check = await publications.language_check(session, saved, reached.reachable)
    assert check.fallback == {"nn": 3, "se": 1}
    assert check.warning() == (
        "3 mottakere leser nynorsk og 1 leser nordsamisk, men teksten finnes bare på bokmål: "
        "de får bokmål."
    )

    only_nn = await draft(world, nn=NN)
    async with world.sessions() as session:
        saved = await publications.load(session, only_nn)
        check = await publications.language_check(session, saved, reached.reachable)
    assert check.fallback == {"se": 1}
    assert check.warning() == (
        "1 mottaker leser nordsamisk, men teksten finnes ikke på nordsamisk: mottakeren får bokmål."
    )

    # Tromsø's contact changes to nynorsk after staff confirmed: nothing is sent.
    await set_languages(world, {}, {"5501": "nn"})
    async with world.sessions() as session, session.begin():
        with pytest.raises(publications.FallbackChanged, match="nå får alle sitt eget språk"):
            await publications.publish(
                session, only_nn, Segment("all"), actor="test", now=world.clock.now,
                confirmed_fallback=check.fallback,
            )  # fmt: skip
    assert await texts_sent(world, only_nn) == {}
    await set_languages(world, {}, {"5501": "se"})
    async with world.sessions() as session, session.begin():
        await publications.publish(
            session, only_nn, Segment("all"), actor="test", now=world.clock.now,
            confirmed_fallback={"se": 1},
        )  # fmt: skip
    sent = await texts_sent(world, only_nn)
    assert sent["5501"] == NB and sent["4601"] == NN and sent["3301"] == NB


async def test_a_summary_speaks_each_recipients_language_in_its_own_parts(world: World) -> None:
    round_id = await closed_round(world)
    async with world.sessions() as session, session.begin():
        summary = await draft_summary(session, round_id, ZONE, actor="test", now=world.clock.now)
        assert summary.title == "Oppsummering: Behov Q1"
        captions = [  # bokmål's files; the other languages' are tagged with theirs
            a["caption"]
            for a in summary.attachments
            if a["kind"] == "document" and a.get("language") in (None, "nb")
        ]
        assert captions == ["Hele rapporten som regneark", "Rapporten som PDF"]
        await publications.publish(
            session, summary.id, Segment("all"), actor="test", now=world.clock.now,
            personalise=personalise_for(ZONE),
        )  # fmt: skip
    codes = {contact_id: code for code, contact_id in world.contacts.items()}
    async with world.sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.contact_id, OutboxMessage.payload).where(
                OutboxMessage.publication_id == summary.id
            )
        )
        documents: dict[str, list[str]] = {}
        for contact_id, payload in rows:
            for attachment in payload.get("attachments", []):
                if attachment["kind"] == "document":
                    documents.setdefault(codes[contact_id], []).append(attachment["caption"])
    assert documents["3301"] == ["Hele rapporten som regneark", "Rapporten som PDF"]
    assert documents["4601"] == ["Heile rapporten som rekneark", "Rapporten som PDF"]
    assert all(bokmal_words(caption) == [] for caption in documents["4601"])
    assert documents["5501"][0] == "Olles raporta rehkenastinárkan"
    with speaking("nn"):
        assert publications.member_title(summary.title) == "Oppsummering: Behov Q1"
        notice = publications.member_title("Dette gjør KS med innspillene deres")
        assert notice == "Dette gjer KS med innspela dykkar" and bokmal_words(notice) == []
        assert publications.member_title("Eget navn") == "Eget navn"
    with speaking("en"):
        assert publications.member_title(summary.title) == "Summary: Behov Q1"


async def test_a_preview_speaks_the_contacts_language_or_the_one_asked_for(world: World) -> None:
    publication_id = await draft(world, nn=NN)
    async with world.sessions() as session, session.begin():
        await publications.preview(
            session, publication_id, world.contacts["46"], now=world.clock.now
        )
        world.clock.set(world.clock.now.replace(second=30))  # a second preview: another key
        await publications.preview(
            session, publication_id, world.contacts["46"], now=world.clock.now, language="nb"
        )
        with pytest.raises(publications.PublicationError, match="ukjent språk"):
            await publications.preview(
                session, publication_id, world.contacts["46"], now=world.clock.now, language="de"
            )
    previews = [sent.message.text for sent in await world.of_kind("preview")]
    assert previews == [NN, NB]


# --- the CLI, in-process on one SQLite database -----------------------------------------------


ENV_PREFIXES = ("DATABASE_", "TELEGRAM_", "TEAMS_", "MICROSOFT_", "PUBLIC_", "HTTP_")


def invoke(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=stdin)


def ok(*args: str, stdin: str | None = None) -> Result:
    result = invoke(*args, stdin=stdin)
    assert result.exit_code == 0, f"{args}: {result.output}\n{result.exception!r}"
    return result


def database_call(url: str, work: Any) -> Any:
    async def run() -> Any:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated database with Bergen (nynorsk) and Drammen (bokmål), each with a contact
    on Telegram."""
    import os

    from tests.views_support import contact

    url = f"sqlite+aiosqlite:///{tmp_path / 'lyttepost.db'}"
    for name in os.environ:
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)  # no .env from the repository
    ok("db", "upgrade")

    async def people(session: Any) -> None:
        for code in ("4601", "3301"):
            await contact(session, code, f"Leder {code}", chats=(("telegram", True, None),))
        bergen = await session.scalar(select(Organisation).where(Organisation.code == "4601"))
        bergen.language = "nn"

    database_call(url, people)
    yield url


def test_the_cli_takes_translations_and_warns_before_it_asks(cli_database: str) -> None:
    made = json.loads(
        ok("broadcast", "create", "--to", "all", "--text", NB, "--text-se", SE, "--json").stdout
    )
    assert made["languages"] == ["nb", "se"]
    shown = json.loads(ok("publications", "show", str(made["id"]), "--json").stdout)
    assert shown["translations"] == {"se": SE}
    assert "--- nordsamisk (se) ---" in ok("publications", "show", str(made["id"])).stdout

    # Nynorsk is missing: the warning comes before the question, and "no" sends nothing.
    declined = invoke("publications", "send", str(made["id"]), "--no-wait", stdin="n\n")
    assert declined.exit_code == 1
    warning = "warning: 1 recipient reads nynorsk, but the text has no nynorsk translation"
    assert "Languages: 1 read bokmål, 1 nynorsk (gets bokmål)." in declined.stderr
    assert declined.stderr.index(warning) < declined.stderr.index("Send it now, with bokmål")
    # --yes alone does not send past the warning; --bokmal-ok says it was read.
    refused = invoke("publications", "send", str(made["id"]), "--yes", "--no-wait")
    assert refused.exit_code == 1 and warning in refused.stderr
    assert "--yes --bokmal-ok" in refused.stderr
    assert database_call(cli_database, _queued) == []

    edited = json.loads(
        ok("publications", "edit", str(made["id"]), "--lang", "nn", "--text", NN, "--json").stdout
    )
    assert edited["languages"] == ["nb", "nn", "se"] and edited["characters"] == len(NN)
    sent = ok("publications", "send", str(made["id"]), "--yes", "--no-wait")
    assert "warning" not in sent.stderr
    assert "Languages: 1 read bokmål, 1 nynorsk (translated)." in sent.stderr
    assert sorted(database_call(cli_database, _queued)) == sorted([NB, NN])

    other = json.loads(ok("broadcast", "create", "--to", "all", "--text", NB, "--json").stdout)
    forced = ok("publications", "send", str(other["id"]), "--yes", "--bokmal-ok", "--no-wait")
    assert "1 recipient reads nynorsk, but the text is only in bokmål" in forced.stderr
    assert sorted(database_call(cli_database, _queued)) == sorted([NB, NN, NB, NB])


def test_the_cli_refuses_an_unknown_language(cli_database: str) -> None:
    made = json.loads(ok("broadcast", "create", "--to", "all", "--text", NB, "--json").stdout)
    wrong = invoke("publications", "edit", str(made["id"]), "--lang", "de", "--text", "x")
    assert wrong.exit_code == 1 and "ukjent språk 'de'" in wrong.stderr
    removed = ok("publications", "edit", str(made["id"]), "--lang", "nn", "--text", "")
    assert "nn translation removed (those readers get bokmål)" in removed.stdout
    preview = invoke("publications", "preview", str(made["id"]), "--contact", "1", "--lang", "xx")
    assert preview.exit_code == 1 and "ukjent språk 'xx'" in preview.stderr


async def _queued(session: Any) -> list[str]:
    rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "broadcast"))
    return [row.payload["text"] for row in rows]


async def test_the_staff_chat_confirmation_names_the_bokmal_fallback_too(world: World) -> None:
    from services.admin_chat import _confirm_publish  # noqa: PLC2701 - the /publiser question

    publication_id = await draft(world, nn=NN)
    async with world.sessions() as session:
        question = await _confirm_publish(session, publication_id, "all")
    assert question.text.endswith(
        "\n\n1 mottaker leser nordsamisk, men teksten finnes ikke på nordsamisk: "
        "mottakeren får bokmål."
    )
