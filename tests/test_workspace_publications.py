"""Publiseringer over HTTP, on SQLite and PostgreSQL: composing drafts with files and a
segment, bad files refused in Norwegian, recipient counts, the preview, sending after a
confirmation (outbox rows for exactly the segment), the delivery page, and roles and CSRF
on every route.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import FormData
from sqlalchemy import func, select

import bot.web.publications as web_publications
from services import audit, publications
from services.contacts import add_contact
from services.publications import MAX_PHOTO_BYTES, NewFile
from services.segments import Segment, segment_choices
from storage.orm import Chat, Organisation, OutboxMessage, Publication
from tests.workspace_support import Browser, WorkspaceSite, csrf_in, workspace_site

TEXT = "Hei!\n\nKS inviterer til samling om digitalisering 12. mars."


def png(width: int = 2, height: int = 2) -> bytes:
    """A real PNG in KS blue with a lighter band (what every browser and channel shows)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00"
        + (b"\xe6\xf2\xea" if height // 3 <= y < 2 * height // 3 else b"\x00\x50\x7a") * width
        for y in range(height)
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n% Lyttepost test\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url) as built:
        yield built


@dataclass
class Members:
    """Vestland (46): Bergen with a contact on Telegram and one without a chat, the county
    municipality on Telegram, every other member of the county without any contact; Oslo
    on Telegram outside the county."""

    contacts: dict[str, int]
    vestland: int  # organisations in county 46

    @property
    def in_vestland_on_telegram(self) -> set[int]:
        return {self.contacts["Leder Bergen"], self.contacts["Leder Vestland"]}


async def members(site: WorkspaceSite, first_chat: int = 900_001) -> Members:
    now = datetime.now(UTC)
    contacts = {}
    people = [
        ("4601", "Leder Bergen", "kommunedirektor", True),
        ("4601", "Rådgiver Bergen", "radgiver", False),
        ("46", "Leder Vestland", "fylkesdirektor", True),
        ("0301", "Leder Oslo", "kommunedirektor", True),
    ]
    async with site.sessions.begin() as session:
        for index, (code, name, role, on_telegram) in enumerate(people):
            contact = await add_contact(session, code, name, role, None)
            if on_telegram:
                chat = str(first_chat + index)
                session.add(
                    Chat(channel="telegram", address=chat, user_id=chat,
                         contact_id=contact.id, last_seen_at=now)
                )  # fmt: skip
            contacts[name] = contact.id
        vestland = await session.scalar(
            select(func.count()).select_from(Organisation).where(Organisation.county_code == "46")
        )
    assert vestland and vestland > 2
    return Members(contacts, vestland)


def form(token: str | None, **fields: Any) -> FormData:
    """A multipart form as the compose page sends it; files as (filename, bytes)."""
    data = FormData()
    if token is not None:
        data.add_field("csrf_token", token)
    for name, value in fields.items():
        values = value if isinstance(value, list) else [value]
        for one in values:
            if isinstance(one, tuple):
                data.add_field(
                    name,
                    io.BytesIO(one[1]),
                    filename=one[0],
                    content_type="application/octet-stream",
                )
            else:
                data.add_field(name, str(one))
    return data


async def post(browser: Browser, path: str, data: FormData) -> Any:
    return await browser.post(path, data)  # type: ignore[arg-type]


async def compose(browser: Browser, **fields: Any) -> Any:
    """Open the compose page (for its token) and send the form."""
    page = await browser.get("/publiseringer/ny")
    assert page.status == 200
    return await post(browser, "/publiseringer/ny", form(csrf_in(await page.text()), **fields))


def saved_id(response: Any) -> int:
    assert response.status == 303, response.status
    found = re.fullmatch(
        r"/publiseringer/(\d+)/forhandsvisning\?lagret=1", response.headers["Location"]
    )
    assert found, response.headers["Location"]
    return int(found.group(1))


async def publication(site: WorkspaceSite, publication_id: int) -> Publication:
    async with site.sessions() as session:
        found = await session.get(Publication, publication_id)
        assert found is not None
        return found


async def count_publications(site: WorkspaceSite) -> int:
    async with site.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Publication)) or 0)


async def audit_actions(site: WorkspaceSite) -> list[tuple[str, str | None, dict[str, Any]]]:
    async with site.sessions() as session:
        rows = await audit.entries(session, audit.AuditQuery())
    return [(r.action, r.target, r.detail) for r in reversed(rows)]


def page_text(html: str) -> str:
    """The visible text of a page, roughly: tags dropped, whitespace folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&nbsp;", " ")


# --- compose ----------------------------------------------------------------------------------


async def test_composing_saves_a_draft_with_its_files_and_segment(site: WorkspaceSite) -> None:
    await members(site)
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    response = await compose(
        staff, tittel="Samling i mars", tekst=TEXT, mottakere="county", fylke="46",
        bilde=("plakat.png", png()), dokument=("program.pdf", PDF),
    )  # fmt: skip
    publication_id = saved_id(response)
    saved = await publication(site, publication_id)
    assert (saved.title, saved.text, saved.status) == ("Samling i mars", TEXT, "draft")
    assert saved.segment == {"kind": "county", "value": "46"}
    assert [(a["kind"], a["filename"]) for a in saved.attachments] == [
        ("photo", "plakat.png"), ("document", "program.pdf"),
    ]  # fmt: skip
    action, target, detail = (await audit_actions(site))[-1]
    assert (action, target, detail["files_added"]) == (
        "publication.create", f"publication:{publication_id}", 2,
    )  # fmt: skip

    listing = await staff.get("/publiseringer")
    text = page_text(await listing.text())
    assert "Samling i mars" in text and "utkast" in text and "medlemmene i Vestland" in text

    image = await staff.get(
        f"/publiseringer/{publication_id}/filer/{saved.attachments[0]['file_id']}"
    )
    assert image.status == 200 and image.content_type == "image/png"
    assert await image.read() == png()
    document = await staff.get(
        f"/publiseringer/{publication_id}/filer/{saved.attachments[1]['file_id']}"
    )
    assert document.content_type == "application/octet-stream"
    assert document.headers["Content-Disposition"].startswith("attachment")
    assert (await staff.get(f"/publiseringer/{publication_id}/filer/999")).status == 404
    for page in ("rediger", "forhandsvisning", "send", "levering", "levering.json", "filer/1"):
        assert (await staff.get(f"/publiseringer/99999/{page}")).status == 404, page


async def test_editing_a_draft_keeps_removes_and_adds_files(site: WorkspaceSite) -> None:
    await members(site)
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    publication_id = saved_id(
        await compose(staff, tittel="Utkast", tekst=TEXT, bilde=("a.png", png()),
                      dokument=("program.pdf", PDF))
    )  # fmt: skip
    image_id = (await publication(site, publication_id)).attachments[0]["file_id"]
    page = await staff.get(f"/publiseringer/{publication_id}/rediger")
    html = await page.text()
    assert page.status == 200 and "Fjern bildet «a.png»" in html and "Samling" not in html
    response = await post(
        staff, f"/publiseringer/{publication_id}/rediger",
        form(csrf_in(html), tittel="Utkast 2", tekst="Ny tekst", fjern=str(image_id),
             dokument=("vedlegg.pdf", PDF + b"2"), mottakere="orgs",
             organisasjoner="0301  4601;46"),
    )  # fmt: skip
    assert saved_id(response) == publication_id
    saved = await publication(site, publication_id)
    assert (saved.title, saved.text) == ("Utkast 2", "Ny tekst")
    assert [a["filename"] for a in saved.attachments] == ["program.pdf", "vedlegg.pdf"]
    assert saved.segment == {"kind": "orgs", "value": "0301,4601,46"}
    assert (await audit_actions(site))[-1][0] == "publication.edit"


async def test_bad_files_are_refused_in_norwegian_and_nothing_is_saved(
    site: WorkspaceSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    not_a_picture = await compose(
        staff, tittel="Feil", tekst=TEXT, bilde=("bilde.png", b"GIF89a not a png")
    )
    assert not_a_picture.status == 400
    html = await not_a_picture.text()
    assert "«bilde.png» er ikke et bilde i PNG- eller JPEG-format." in html
    assert "Filene du valgte, er ikke lagret ennå" in html
    assert 'value="Feil"' in html and "samling om digitalisering" in html  # what was typed stays

    too_large = await compose(
        staff, tittel="Stor", tekst=TEXT, bilde=("stor.png", png() + b"\0" * MAX_PHOTO_BYTES)
    )
    assert too_large.status == 400
    assert "Bildet «stor.png» er for stort: høyst 10 MB." in await too_large.text()

    empty = await compose(staff, tittel="Tom", tekst=TEXT, dokument=("tom.pdf", b""))
    assert empty.status == 400 and "«tom.pdf» er tom." in await empty.text()

    nothing = await compose(staff, tittel="", tekst="", mottakere="county")
    assert nothing.status == 400
    assert "Skriv en tittel." in await nothing.text() and "Velg et fylke." in await nothing.text()

    monkeypatch.setattr(web_publications, "UPLOAD_LIMIT", 4096)
    over_limit = await compose(staff, tittel="Svær", tekst=TEXT, dokument=("x.pdf", PDF * 200))
    assert over_limit.status == 413
    assert "Filene er for store" in await over_limit.text()
    assert await count_publications(site) == 0


# --- counting recipients ---------------------------------------------------------------------------


async def test_the_segment_picker_counts_contacts_organisations_and_the_unreachable(
    site: WorkspaceSite,
) -> None:
    world = await members(site)
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")

    async def counts(**query: str) -> tuple[int, dict[str, Any]]:
        response = await staff.get("/publiseringer/mottakere", params=query)
        return response.status, await response.json()

    status, vestland = await counts(mottakere="county", fylke="46")
    assert status == 200
    assert (vestland["contacts"], vestland["organisations"], vestland["unreachable_contacts"]) == (
        2,
        2,
        1,
    )
    assert vestland["unreachable_organisations"] == world.vestland - 2
    assert vestland["sentence"] == (
        f"Når 2 kontakter i 2 organisasjoner; {world.vestland - 2} organisasjoner kan ikke nås."
    )
    _, everyone = await counts(mottakere="all")
    assert (everyone["contacts"], everyone["organisations"]) == (3, 3)
    assert everyone["unreachable_organisations"] == 371 - 3
    _, directors = await counts(mottakere="role", rolle="kommunedirektor")
    assert (
        directors["contacts"],
        directors["organisations"],
        directors["unreachable_organisations"],
    ) == (2, 2, 0)
    _, advisers = await counts(mottakere="role", rolle="radgiver")
    assert (
        advisers["contacts"],
        advisers["unreachable_contacts"],
        advisers["unreachable_organisations"],
    ) == (0, 1, 1)
    _, chosen = await counts(mottakere="orgs", organisasjoner="0301, 4601")
    assert (chosen["contacts"], chosen["organisations"], chosen["unreachable_organisations"]) == (
        2,
        2,
        0,
    )
    status, unknown = await counts(mottakere="orgs", organisasjoner="0301, 9999")
    assert status == 400 and unknown["error"] == "Ukjent organisasjonsnummer: 9999."
    status, missing = await counts(mottakere="respondents")
    assert status == 400 and missing["error"] == "Velg en runde."

    # Without JavaScript: "Beregn mottakere" shows the same counts and saves nothing.
    page = await staff.get("/publiseringer/ny")
    assert "Når 3 kontakter i 3 organisasjoner; 368 organisasjoner kan ikke nås." in page_text(
        await page.text()
    )
    counted = await post(
        staff, "/publiseringer/ny",
        form(csrf_in(await page.text()), tittel="Tittel", tekst=TEXT, mottakere="county",
             fylke="46", handling="beregn"),
    )  # fmt: skip
    assert counted.status == 200
    text = page_text(await counted.text())
    assert (
        f"Når 2 kontakter i 2 organisasjoner; {world.vestland - 2} organisasjoner kan ikke nås."
        in text
    )
    assert "1 kontaktperson i utvalget har ingen chat Lyttepost kan nå." in text
    assert re.search(r'<option value="46" selected>', await counted.text())
    assert await count_publications(site) == 0


async def test_round_segments_and_the_choices_the_picker_offers(site: WorkspaceSite) -> None:
    from tests.test_workspace_web import open_round_with_answers

    await members(site)
    round_id = await open_round_with_answers(site, ["4601"])
    async with site.sessions() as session:
        choices = await segment_choices(session)
        answered = await publications.reach(session, Segment("respondents", str(round_id)))
        silent = await publications.reach(session, Segment("non_respondents", str(round_id)))
    assert ("46", "Vestland") in choices.counties and len(choices.counties) >= 15
    assert choices.roles == ["fylkesdirektor", "kommunedirektor", "radgiver"]
    assert choices.rounds == [(round_id, "Behov vinter 2027", "open")]
    assert (answered.contacts, answered.organisations, answered.unreachable_contacts) == (1, 1, 1)
    assert (silent.contacts, silent.organisations) == (2, 2)
    assert len(silent.unreachable_organisations) == 370 - 2
    describe = web_publications.describer(choices)
    assert describe(Segment("non_respondents", str(round_id))) == (
        "medlemmer som ikke svarte i «Behov vinter 2027»"
    )
    assert describe(Segment("county", "46")) == "medlemmene i Vestland"
    assert describe(Segment("orgs", "0301,46")) == "utvalgte medlemmer (0301,46)"


# --- preview -----------------------------------------------------------------------------------


async def test_the_preview_shows_telegram_and_teams_side_by_side(site: WorkspaceSite) -> None:
    await members(site)
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    long_text = "<b>ikke fet</b> " + "ord " * 1100  # over Telegram's 4 096 characters
    publication_id = saved_id(
        await compose(staff, tittel="Lang", tekst=long_text, bilde=("plakat.png", png()),
                      dokument=("program.pdf", PDF))
    )  # fmt: skip
    response = await staff.get(f"/publiseringer/{publication_id}/forhandsvisning?lagret=1")
    html = await response.text()
    assert response.status == 200 and "Utkastet er lagret." in html
    assert "&lt;b&gt;ikke fet&lt;/b&gt;" in html and "<b>ikke fet</b>" not in html  # plain text
    telegram, teams = html.split('id="pv-teams"')
    assert "4 meldinger fra boten" in telegram  # two text parts, the photo, the document
    assert telegram.count('class="bubble bubble-text"') == 2
    assert "«program.pdf»" in telegram and 'alt="Bildet «plakat.png»"' in telegram
    assert "3 meldinger fra boten" in teams and teams.count('class="bubble bubble-text"') == 1
    assert "Teams-mottakere får ikke «program.pdf»" in teams  # no file links configured
    assert 'alt="Bildet «plakat.png»"' in teams  # a small picture goes inline
    assert "tilnærming" in html


def test_a_message_with_buttons_is_an_adaptive_card_on_teams_and_a_keyboard_on_telegram() -> None:
    from dialogs.messages import Button, OutgoingMessage

    message = OutgoingMessage(
        text="Første linje\n\nAndre avsnitt",
        buttons=((Button(label="Ja", payload="y"), Button(label="Nei", payload="n")),),
    )
    [telegram] = web_publications.telegram_bubbles([message], {})
    assert (telegram.kind, telegram.text, telegram.buttons) == (
        "text", "Første linje\n\nAndre avsnitt", [["Ja", "Nei"]],
    )  # fmt: skip
    [teams] = web_publications.teams_bubbles([message], {}, links=False)
    assert teams.kind == "card"
    assert teams.lines == [("Første linje", False), ("Andre avsnitt", True)]
    assert teams.buttons == [["Ja", "Nei"]]


def test_teams_gets_a_large_picture_as_a_link_and_nothing_without_file_links() -> None:
    from dialogs.messages import Attachment, OutgoingMessage
    from services.publications import AttachedFile

    message = OutgoingMessage(
        text="", attachments=(Attachment(kind="photo", file_id=7, filename="stor.png"),)
    )
    files = {7: AttachedFile("photo", 7, "stor.png", None, 2 * 2**20, "image/png")}
    [telegram] = web_publications.telegram_bubbles([message], files)
    assert (telegram.kind, telegram.file) == ("photo", files[7])
    [linked] = web_publications.teams_bubbles([message], files, links=True)
    assert (linked.kind, linked.file) == ("link", files[7])
    [missing] = web_publications.teams_bubbles([message], files, links=False)
    assert (missing.kind, missing.text) == ("missing", "stor.png")


# --- sending and delivery -------------------------------------------------------------------------


async def test_sending_confirms_the_count_and_queues_exactly_the_segment(
    site: WorkspaceSite,
) -> None:
    world = await members(site)
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    publication_id = saved_id(
        await compose(staff, tittel="Til Vestland", tekst=TEXT, mottakere="county", fylke="46",
                      bilde=("plakat.png", png()))
    )  # fmt: skip
    confirm = await staff.get(f"/publiseringer/{publication_id}/send")
    html = await confirm.text()
    assert confirm.status == 200
    assert (
        f"Sendes til 2 kontakter i 2 organisasjoner; {world.vestland - 2} organisasjoner kan ikke nås."
        in page_text(html)
    )
    version = re.search(r'name="versjon" value="(\d+)"', html)
    assert version
    sent = await post(
        staff, f"/publiseringer/{publication_id}/send",
        form(csrf_in(html), versjon=version.group(1)),
    )  # fmt: skip
    assert sent.status == 303
    assert sent.headers["Location"] == f"/publiseringer/{publication_id}/levering"

    async with site.sessions() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.contact_id, OutboxMessage.status).where(
                    OutboxMessage.publication_id == publication_id
                )
            )
        ).all()
    assert {contact for contact, _ in rows} == world.in_vestland_on_telegram
    assert len(rows) == 4  # text and picture for each
    saved = await publication(site, publication_id)
    assert (saved.status, saved.recipients) == ("published", 2)
    action, target, detail = (await audit_actions(site))[-1]
    assert (action, target) == ("publication.publish", f"publication:{publication_id}")
    assert (detail["recipients"], detail["unreachable"], detail["segment"]) == (
        2, 1, {"kind": "county", "value": "46"},
    )  # fmt: skip

    # No Telegram transport on this site: both wait, and the page refreshes itself.
    delivery = await staff.get(f"/publiseringer/{publication_id}/levering")
    html = await delivery.text()
    assert delivery.status == 200
    assert '<meta http-equiv="refresh" content="5">' in html and "data-levering-url" in html
    assert "Rådgiver Bergen" in html  # unreachable, by name
    progress = await (await staff.get(f"/publiseringer/{publication_id}/levering.json")).json()
    assert {k: progress[k] for k in ("recipients", "delivered", "pending", "unreachable", "done")} == {
        "recipients": 3, "delivered": 0, "pending": 2, "unreachable": 1, "done": False,
    }  # fmt: skip
    assert progress["percent"] == 33

    # Sent once: the form, the confirmation and a second POST all lead to the delivery page.
    for path in ("rediger", "send"):
        again = await staff.get(f"/publiseringer/{publication_id}/{path}")
        assert again.status == 303 and again.headers["Location"].endswith("/levering")
    twice = await post(
        staff,
        f"/publiseringer/{publication_id}/send",
        form(csrf_in(html), versjon=version.group(1)),
    )
    assert twice.status == 303
    async with site.sessions() as session:
        assert len((await publications.delivery_report(session, publication_id)).unreachable) == 1
        rows_after = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.publication_id == publication_id)
        )
    assert rows_after == 4

    listing = page_text(await (await staff.get("/publiseringer")).text())
    assert "Til Vestland" in listing and "sendt" in listing and "0 av 3" in listing


async def test_a_draft_changed_after_confirmation_is_confirmed_again(site: WorkspaceSite) -> None:
    await members(site)
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    publication_id = saved_id(await compose(staff, tittel="Til alle", tekst=TEXT))
    confirm = await staff.get(f"/publiseringer/{publication_id}/send")
    html = await confirm.text()
    version = re.search(r'name="versjon" value="(\d+)"', html)
    assert version
    async with site.sessions.begin() as session:  # someone narrows the segment meanwhile
        await publications.update_draft(
            session, publication_id, title="Til alle", text=TEXT,
            segment=Segment("county", "03"), now=datetime.now(UTC),
        )  # fmt: skip
    refused = await post(
        staff,
        f"/publiseringer/{publication_id}/send",
        form(csrf_in(html), versjon=version.group(1)),
    )
    assert refused.status == 409
    assert "Utkastet er endret siden du så på det" in await refused.text()
    assert "Sendes til 1 kontakt i 1 organisasjon." in page_text(await refused.text())
    assert (await publication(site, publication_id)).status == "draft"


async def test_delivery_counts_settle_per_recipient(site: WorkspaceSite) -> None:
    """The list's counts and the delivery page's, from the outbox: sent, failed, uncertain."""
    world = await members(site)
    now = datetime.now(UTC)
    async with site.sessions.begin() as session:
        draft = await publications.create_draft(
            session, kind="broadcast", title="Alle", text=TEXT, actor="test", now=now,
            files=[NewFile("document", "p.pdf", PDF, "p.pdf")], segment=Segment("all"),
        )  # fmt: skip
        await publications.publish(
            session, draft.publication.id, Segment("all"), actor="test", now=now
        )
        rows = list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.publication_id == draft.publication.id)
            )
        )
        by_contact: dict[int | None, list[OutboxMessage]] = {}
        for row in rows:
            by_contact.setdefault(row.contact_id, []).append(row)
        for row in by_contact[world.contacts["Leder Bergen"]]:
            row.status = "sent"
        for row in by_contact[world.contacts["Leder Vestland"]]:
            row.status, row.last_error = "failed", "refused: Bad Request: file too big"
        for row in by_contact[world.contacts["Leder Oslo"]]:
            row.status = "uncertain"
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    progress = await (
        await staff.get(f"/publiseringer/{draft.publication.id}/levering.json")
    ).json()
    assert (progress["delivered"], progress["failed"], progress["uncertain"]) == (1, 1, 1)
    assert (progress["pending"], progress["percent"], progress["done"]) == (0, 100, True)
    page = await staff.get(f"/publiseringer/{draft.publication.id}/levering")
    html = await page.text()
    assert "http-equiv" not in html and "data-levering-url" not in html  # finished: still
    text = page_text(html)
    assert "refused: Bad Request: file too big (1)" in text and "Leder Vestland" in text
    assert "Oslo (0301) – Leder Oslo" in text and "Ferdig: ingen venter." in text
    async with site.sessions() as session:
        [listed] = await publications.listing(session)
    assert listed.delivery is not None
    assert (listed.delivery.recipients, listed.delivery.delivered, listed.delivery.pending) == (
        4,
        1,
        0,
    )
    assert (
        len(listed.delivery.failed),
        len(listed.delivery.uncertain),
        len(listed.delivery.unreachable),
    ) == (1, 1, 1)


async def test_service_guards_on_drafts_and_files(site: WorkspaceSite) -> None:
    now = datetime.now(UTC)
    async with site.sessions.begin() as session:
        first = await publications.create_draft(
            session, kind="broadcast", title="A", text="a", actor="test", now=now,
            files=[NewFile("photo", "a.png", png(), "a.png")],
        )  # fmt: skip
        second = await publications.create_draft(
            session, kind="broadcast", title="B", text="b", actor="test", now=now,
            files=[NewFile("document", "b.pdf", PDF, "b.pdf")],
        )  # fmt: skip
        other_file = second.publication.attachments[0]["file_id"]
        with pytest.raises(LookupError):
            await publications.attached_file(session, first.publication.id, other_file)
        own = first.publication.attachments[0]["file_id"]
        assert (
            await publications.attached_file(session, first.publication.id, own)
        ).content == png()
        with pytest.raises(publications.PublicationError):  # nothing left to send
            await publications.update_draft(
                session, first.publication.id, title="A", text="", segment=None, now=now,
                remove_file_ids=[own],
            )  # fmt: skip
        await publications.publish(
            session, second.publication.id, Segment("all"), actor="t", now=now
        )
        with pytest.raises(publications.AlreadyPublished):
            await publications.update_draft(
                session, second.publication.id, title="B", text="b", segment=None, now=now
            )


# --- roles and CSRF ----------------------------------------------------------------------------------


async def _routes_with_a_draft(site: WorkspaceSite) -> tuple[list[str], list[str]]:
    """Every publication page and every write, for a draft and a sent publication."""
    now = datetime.now(UTC)
    async with site.sessions.begin() as session:
        draft = await publications.create_draft(
            session, kind="broadcast", title="Utkast", text=TEXT, actor="test", now=now,
            files=[NewFile("photo", "a.png", png(), "a.png")], segment=Segment("all"),
        )  # fmt: skip
        sent = await publications.create_draft(
            session, kind="broadcast", title="Sendt", text=TEXT, actor="test", now=now
        )
        await publications.publish(session, sent.publication.id, Segment("all"), actor="t", now=now)
    d, s = draft.publication.id, sent.publication.id
    file_id = draft.publication.attachments[0]["file_id"]
    pages = [
        "/publiseringer", "/publiseringer/ny", "/publiseringer/mottakere?mottakere=all",
        f"/publiseringer/{d}", f"/publiseringer/{d}/rediger", f"/publiseringer/{d}/forhandsvisning",
        f"/publiseringer/{d}/filer/{file_id}", f"/publiseringer/{d}/send",
        f"/publiseringer/{s}/levering", f"/publiseringer/{s}/levering.json",
    ]  # fmt: skip
    writes = ["/publiseringer/ny", f"/publiseringer/{d}/rediger", f"/publiseringer/{d}/send"]
    return pages, writes


async def test_a_viewer_gets_403_on_every_publication_route(site: WorkspaceSite) -> None:
    pages, writes = await _routes_with_a_draft(site)
    viewer = await site.signed_in("Vera Leser", "vera@ks.no", "viewer")
    home = await viewer.get("/")
    assert 'href="/publiseringer"' not in await home.text()  # no menu item either
    token = csrf_in(await home.text())
    for path in pages:
        response = await viewer.get(path)
        assert response.status == 403, path
    for path in writes:
        response = await post(viewer, path, form(token, tittel="X", tekst="x", versjon="1"))
        assert response.status == 403, path
    for role in ("staff", "admin"):
        other = await site.signed_in(f"Navn {role}", f"{role}@ks.no", role)
        assert 'href="/publiseringer"' in await (await other.get("/")).text()
        for path in pages:
            assert (await other.get(path)).status in (200, 303), (role, path)
    assert await count_publications(site) == 2


async def test_a_post_without_the_csrf_token_is_refused(site: WorkspaceSite) -> None:
    _, writes = await _routes_with_a_draft(site)
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    for path in writes:
        for data in (form(None, tittel="X", tekst="x", versjon="1"),
                     form("forged", tittel="X", tekst="x", versjon="1")):  # fmt: skip
            response = await post(staff, path, data)
            assert response.status == 403, path
            assert "Skjemaet kunne ikke sendes" in await response.text()
    assert await count_publications(site) == 2
    async with site.sessions() as session:
        statuses = sorted((await session.scalars(select(Publication.status))).all())
        queued = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert statuses == ["draft", "published"] and queued == 0  # nobody to send to: no contacts


# --- languages ----------------------------------------------------------------------------------

NYNORSK = "Hei!\n\nKS inviterer til samling om digitalisering 12. mars. Meld dykk på."


async def set_language(site: WorkspaceSite, code: str, language: str | None) -> None:
    async with site.sessions.begin() as session:
        organisation = await session.scalar(select(Organisation).where(Organisation.code == code))
        assert organisation is not None
        organisation.language = language


async def test_the_composer_keeps_a_text_per_member_language(site: WorkspaceSite) -> None:
    await members(site)
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    page = await (await staff.get("/publiseringer/ny")).text()
    assert '<label for="tekst_nn" lang="nn">Nynorsk</label>' in page
    assert '<label for="tekst_se" lang="se">Nordsamisk</label>' in page
    assert "tekst_en" not in page  # English is for demos: not offered by default
    publication_id = saved_id(
        await compose(staff, tittel="Samling", tekst=TEXT, tekst_nn=f"{NYNORSK}\r\n", tekst_se="")
    )
    saved = await publication(site, publication_id)
    assert saved.translations == {"nn": NYNORSK}
    assert (await audit_actions(site))[-1][2]["languages"] == ["nb", "nn"]

    async with site.sessions.begin() as session:  # English added with the CLI
        await publications.edit_text(
            session, publication_id, "Hello!", actor="cli", now=datetime.now(UTC), language="en"
        )
    html = await (await staff.get(f"/publiseringer/{publication_id}/rediger")).text()
    assert (
        f'name="tekst_nn" lang="nn" rows="8" maxlength="20000" aria-describedby="oversettelser-hjelp">{NYNORSK}</textarea>'
        in html
    )
    assert '<label for="tekst_en" lang="en">Engelsk</label>' in html
    edited = await post(
        staff, f"/publiseringer/{publication_id}/rediger",
        form(csrf_in(html), tittel="Samling", tekst=TEXT, tekst_nn="", tekst_se="Bures!",
             tekst_en="Hello!"),
    )  # fmt: skip
    assert saved_id(edited) == publication_id
    assert (await publication(site, publication_id)).translations == {
        "se": "Bures!",
        "en": "Hello!",
    }


async def test_the_preview_shows_each_language(site: WorkspaceSite) -> None:
    await members(site)
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    publication_id = saved_id(await compose(staff, tittel="Samling", tekst=TEXT, tekst_nn=NYNORSK))
    bokmal = page_text(
        await (await staff.get(f"/publiseringer/{publication_id}/forhandsvisning")).text()
    )
    assert "Vis meldingen på: Bokmål · Nynorsk · Nordsamisk (ingen tekst)" in bokmal
    assert "Meld dykk på" not in bokmal
    nynorsk = page_text(
        await (await staff.get(f"/publiseringer/{publication_id}/forhandsvisning?sprak=nn")).text()
    )
    assert "Meld dykk på." in nynorsk and "Slik får de som leser nynorsk, meldingen." in nynorsk
    sami = page_text(
        await (await staff.get(f"/publiseringer/{publication_id}/forhandsvisning?sprak=se")).text()
    )
    assert "Utkastet har ingen tekst på nordsamisk: de som leser nordsamisk, får bokmål" in sami
    assert "samling om digitalisering 12. mars." in sami and "Meld dykk" not in sami
    unknown = await staff.get(f"/publiseringer/{publication_id}/forhandsvisning?sprak=en")
    assert unknown.status == 200 and "Meld dykk" not in await unknown.text()  # bokmål


async def test_the_confirmation_warns_who_gets_bokmal_before_sending(site: WorkspaceSite) -> None:
    world = await members(site)
    await set_language(site, "4601", "nn")  # Leder Bergen reads nynorsk
    await set_language(site, "46", "se")  # and Leder Vestland nordsamisk, for the test
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    publication_id = saved_id(
        await compose(staff, tittel="Til Vestland", tekst=TEXT, mottakere="county", fylke="46")
    )
    html = await (await staff.get(f"/publiseringer/{publication_id}/send")).text()
    text = page_text(html)
    assert "Mottakernes språk: 1 leser nynorsk og 1 nordsamisk." in text
    assert (
        "1 mottaker leser nynorsk og 1 leser nordsamisk, men teksten finnes bare på bokmål: "
        "de får bokmål."
    ) in text
    assert "Ja, send nå, med bokmål til dem" in text
    assert 'name="bokmal" value="nn:1,se:1"' in html

    # A nynorsk text is added: the version changes, the warning narrows to nordsamisk.
    edit = await (await staff.get(f"/publiseringer/{publication_id}/rediger")).text()
    saved_id(
        await post(
            staff, f"/publiseringer/{publication_id}/rediger",
            form(csrf_in(edit), tittel="Til Vestland", tekst=TEXT, tekst_nn=NYNORSK,
                 tekst_se="", mottakere="county", fylke="46"),
        )
    )  # fmt: skip
    html = await (await staff.get(f"/publiseringer/{publication_id}/send")).text()
    assert (
        "1 mottaker leser nordsamisk, men teksten finnes ikke på nordsamisk: mottakeren får bokmål."
        in page_text(html)
    )
    version = re.search(r'name="versjon" value="(\d+)"', html)
    assert version

    # Vestland's language changes after the confirmation: asked again, nothing sent.
    await set_language(site, "46", "nn")
    stale = await post(
        staff, f"/publiseringer/{publication_id}/send",
        form(csrf_in(html), versjon=version.group(1), bokmal="se:1"),
    )  # fmt: skip
    assert stale.status == 409
    stale_text = page_text(await stale.text())
    assert "Mottakernes språk er endret siden du så på det" in stale_text
    assert "bare på bokmål" not in stale_text and "Ja, send nå" in stale_text
    assert (await publication(site, publication_id)).status == "draft"

    sent = await post(
        staff, f"/publiseringer/{publication_id}/send",
        form(csrf_in(html), versjon=version.group(1), bokmal=""),
    )  # fmt: skip
    assert sent.status == 303
    async with site.sessions() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.contact_id, OutboxMessage.payload).where(
                    OutboxMessage.publication_id == publication_id
                )
            )
        ).all()
    assert {contact: payload["text"] for contact, payload in rows} == {
        world.contacts["Leder Bergen"]: NYNORSK, world.contacts["Leder Vestland"]: NYNORSK,
    }  # fmt: skip
    detail = (await audit_actions(site))[-1][2]
    assert detail["fallback"] == {}
