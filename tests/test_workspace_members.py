"""Medlemmer over HTTP on SQLite and PostgreSQL: the organisations and who can be reached,
one organisation, and admins' changes to contacts and invitation codes (each audited).

Also the two small services the page added: a deactivation's preview and revoking codes.
"""

from __future__ import annotations

import base64
import html as html_lib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import FormData
from sqlalchemy import func, select

from bot.web.members import in_norwegian, qr_images
from services import audit
from services.contacts import deactivate_contact, deactivation_preview
from services.invites import issue_code, redeem_code, revoke_codes
from services.views_members import organisations
from storage.orm import Chat, Contact, Invitation, Organisation, OutboxMessage, PrivacyLogEntry
from tests.views_support import contact
from tests.workspace_support import WorkspaceSite, csrf_in, workspace_site

DAY = timedelta(days=1)
TELEGRAM_BOT = "lyttepost_test_bot"
TEAMS_APP = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(
        migrated_url, telegram_bot_username=TELEGRAM_BOT, microsoft_app_id=TEAMS_APP
    ) as built:
        yield built


def row_of(page: str, code: str) -> str:
    """The overview's table row for one organisation."""
    found = re.search(
        rf'<tr[^>]*>\s*<th scope="row"><a href="/medlemmer/{code}">.*?</tr>', page, re.DOTALL
    )
    assert found, f"no row for {code}"
    return found.group(0)


def listed(page: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/medlemmer/(\d+)">', page)


def text_of(page: str) -> str:
    """The page's text as read (tags dropped, entities decoded, spaces collapsed)."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


async def contacts_of(site: WorkspaceSite, code: str) -> list[tuple[str, str, str | None, bool]]:
    async with site.sessions() as session:
        rows = await session.execute(
            select(Contact.name, Contact.role, Contact.email, Contact.active)
            .join(Organisation, Organisation.id == Contact.organisation_id)
            .where(Organisation.code == code)
            .order_by(Contact.id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def logged(site: WorkspaceSite, action: str) -> list[audit.AuditRow]:
    async with site.sessions() as session:
        return await audit.entries(session, audit.AuditQuery(action=action))


async def reachability_data(site: WorkspaceSite) -> dict[str, int]:
    """Oslo and Bergen reachable; Askøy's only chat blocked; Stord no chat; Voss's contact
    deactivated (a reachable chat, but not theirs any more)."""
    now = datetime.now(UTC)
    async with site.sessions.begin() as session:
        return {
            "oslo": await contact(session, "0301", "Ola Oslo", chats=(("telegram", True, now - DAY),)),
            "bergen": await contact(session, "4601", "Berit Bergen", chats=(("teams", True, now),)),
            "askoy": await contact(session, "4627", "Anne Askøy", chats=(("telegram", False, now),)),
            "stord": await contact(session, "4614", "Stein Stord"),
            "voss": await contact(session, "4621", "Vidar Voss", chats=(("telegram", True, now),),
                                  active=False),
        }  # fmt: skip


# --- reading -------------------------------------------------------------------------------


async def test_the_overview_counts_who_can_be_reached_and_marks_the_rest(
    site: WorkspaceSite,
) -> None:
    await reachability_data(site)
    staff = await site.signed_in("Siri Rådgiver", "siri@ks.no", "staff")
    response = await staff.get("/medlemmer")
    page = await response.text()
    assert response.status == 200
    assert "371 organisasjoner, 369 uten kontakt som kan nås" in text_of(page)
    assert len(listed(page)) == 371
    oslo, askoy, stord, voss = (row_of(page, c) for c in ("0301", "4627", "4614", "4621"))
    assert 'class="unreachable"' not in oslo and "Ingen kan nås" not in oslo
    assert "Ola Oslo" in oslo and "Telegram" in text_of(oslo) and "Ja" in text_of(oslo)
    assert 'class="unreachable"' in askoy and "Ingen kan nås" in askoy
    assert "Anne Askøy" in askoy and "ingen kanal" in askoy  # a contact, but blocked
    assert "Ingen kan nås" in stord and "ingen kanal" in stord
    assert "Ingen kan nås" in voss and "Vidar Voss" not in voss  # deactivated: not listed
    assert "Teams" in row_of(page, "4601")
    assert '<a href="/medlemmer"' in page and 'aria-current="page">Medlemmer' in page


async def test_the_overview_filters_by_county_and_by_unreachable(site: WorkspaceSite) -> None:
    await reachability_data(site)
    async with site.sessions() as session:
        vestland = [o.code for o in await organisations(session, "46")]
    staff = await site.signed_in("Siri", "siri@ks.no", "staff")

    page = await (await staff.get("/medlemmer?fylke=46")).text()
    assert listed(page) == vestland
    assert (
        f"{len(vestland)} organisasjoner i Vestland, {len(vestland) - 1} uten kontakt som kan nås"
        in text_of(page)
    )
    assert '<option value="46" selected>Vestland</option>' in page

    lost = await (await staff.get("/medlemmer?fylke=46&uten=1")).text()
    assert listed(lost) == [c for c in vestland if c != "4601"]
    assert "Viser bare de uten kontakt som kan nås" in text_of(lost)

    everyone_lost = await (await staff.get("/medlemmer?uten=1")).text()
    assert "0301" not in listed(everyone_lost) and "4601" not in listed(everyone_lost)
    assert len(listed(everyone_lost)) == 369
    assert "371 organisasjoner, 369 uten" in text_of(everyone_lost)  # counts before the filter

    oslo_lost = await (await staff.get("/medlemmer?fylke=03&uten=1")).text()
    assert listed(oslo_lost) == [] and "Ingen organisasjoner å vise." in oslo_lost
    assert "1 organisasjon i Oslo, 0 uten kontakt som kan nås" in text_of(oslo_lost)

    unknown = await (await staff.get("/medlemmer?fylke=99")).text()
    assert len(listed(unknown)) == 371  # an unknown county is no filter


async def test_an_organisation_page_shows_contacts_channels_and_pending_codes(
    site: WorkspaceSite,
) -> None:
    ids = await reachability_data(site)
    now = datetime.now(UTC)
    async with site.sessions.begin() as session:
        await contact(session, "4627", "Åse Askøy", role="ordforer",
                      chats=(("teams", True, now - 2 * DAY), ("telegram", False, now)))  # fmt: skip
        await issue_code(session, ids["askoy"], now, timedelta(days=30))
    staff = await site.signed_in("Siri", "siri@ks.no", "staff")
    response = await staff.get("/medlemmer/4627")
    page = text_of(await response.text())
    assert response.status == 200
    assert "Askøy" in page and "Kommune · Vestland · nummer 4627" in page
    assert "Anne Askøy kommunedirektor" in page and "Kan ikke nås" in page
    assert "kode venter, til" in page  # Anne's code
    assert "Åse Askøy ordforer" in page and "Teams" in page and "(blokkert)" in page
    assert "Ingen kan nås" not in page  # Åse can be reached on Teams
    assert "Lag invitasjonskode" not in page and "Legg til en kontakt" not in page  # staff reads
    assert (await staff.get("/medlemmer/9999")).status == 404
    assert "Ingen kan nås" in text_of(await (await staff.get("/medlemmer/4614")).text())
    voss = text_of(await (await staff.get("/medlemmer/4621")).text())
    assert "Vidar Voss" in voss and "deaktivert" in voss


# --- roles -----------------------------------------------------------------------------------

WRITES = [
    "/medlemmer/import",
    "/medlemmer/0301/kontakter",
    "/medlemmer/0301/kontakter/{id}/deaktiver",
    "/medlemmer/0301/kontakter/{id}/aktiver",
    "/medlemmer/0301/kontakter/{id}/kode",
    "/medlemmer/0301/kontakter/{id}/kode/trekk",
]


async def test_a_viewer_reads_nothing_and_writes_nothing(site: WorkspaceSite) -> None:
    ids = await reachability_data(site)
    viewer = await site.signed_in("Vera", "vera@ks.no", "viewer")
    token = await viewer.csrf()
    assert 'href="/medlemmer"' not in await (await viewer.get("/")).text()
    for path in ("/medlemmer", "/medlemmer/0301", "/medlemmer/import",
                 f"/medlemmer/0301/kontakter/{ids['oslo']}/deaktiver"):  # fmt: skip
        assert (await viewer.get(path)).status == 403, path
    for path in WRITES:
        concrete = path.format(id=ids["oslo"])
        response = await viewer.post(concrete, {"csrf_token": token, "navn": "X", "rolle": "x"})
        assert response.status == 403, concrete
    assert await contacts_of(site, "0301") == [("Ola Oslo", "kommunedirektor", None, True)]


async def test_staff_read_but_only_admins_change(site: WorkspaceSite) -> None:
    ids = await reachability_data(site)
    staff = await site.signed_in("Siri", "siri@ks.no", "staff")
    token = await staff.csrf("/medlemmer")
    assert (await staff.get("/medlemmer")).status == 200
    assert (await staff.get("/medlemmer/0301")).status == 200
    assert "Importer kontakter" not in await (await staff.get("/medlemmer")).text()
    assert (await staff.get("/medlemmer/import")).status == 403
    assert (await staff.get(f"/medlemmer/0301/kontakter/{ids['oslo']}/deaktiver")).status == 403
    for path in WRITES:
        concrete = path.format(id=ids["oslo"])
        response = await staff.post(concrete, {"csrf_token": token, "navn": "X", "rolle": "x"})
        assert response.status == 403, concrete
    assert await contacts_of(site, "0301") == [("Ola Oslo", "kommunedirektor", None, True)]
    async with site.sessions() as session:
        assert await session.scalar(select(func.count(Invitation.id))) == 0
    assert await logged(site, "contact.add") == []


# --- adding and importing ------------------------------------------------------------------


async def test_an_admin_adds_a_contact_and_bad_input_is_refused_in_norwegian(
    site: WorkspaceSite,
) -> None:
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    token = await admin.csrf("/medlemmer/4601")
    added = await admin.post(
        "/medlemmer/4601/kontakter",
        {"csrf_token": token, "navn": " Kari  Nordmann ", "rolle": "Kommunedirektor",
         "epost": "kari@bergen.kommune.no"},
    )  # fmt: skip
    assert added.status == 303
    assert added.headers["Location"] == "/medlemmer/4601?utfort=lagt-til#kontakter"
    page = text_of(await (await admin.get("/medlemmer/4601?utfort=lagt-til")).text())
    assert "Kontakten er lagt til." in page and "Kari Nordmann kommunedirektor" in page
    (entry,) = await logged(site, "contact.add")
    assert entry.actor.startswith("staff:") and (entry.door, entry.staff_name) == ("web", "Ada")
    assert entry.detail == {"org": "4601"}

    cases = {
        ("Per", "rådmann", ""): "Rollen «rådmann» må være 2–60 tegn",
        ("", "radmann", ""): "Navnet mangler eller er lengre enn 200 tegn.",
        ("Per", "radmann", "per@"): "E-postadressen «per@» ser ikke riktig ut.",
        ("kari nordmann", "kommunedirektor", ""): (
            "Kari nordmann (kommunedirektor) er allerede kontakt for Bergen."
        ),
    }
    for (name, role, email), message in cases.items():
        refused = await admin.post(
            "/medlemmer/4601/kontakter",
            {"csrf_token": token, "navn": name, "rolle": role, "epost": email},
        )
        body = await refused.text()
        assert refused.status == 422, (name, role, email)
        assert message in text_of(body), (message, text_of(body)[:400])
        assert f'value="{name}"' in body  # what was typed is kept
    assert await contacts_of(site, "4601") == [
        ("Kari Nordmann", "kommunedirektor", "kari@bergen.kommune.no", True)
    ]
    assert len(await logged(site, "contact.add")) == 1
    assert (await admin.post("/medlemmer/9999/kontakter", {"csrf_token": token})).status == 404


def csv_upload(token: str, content: bytes, filename: str = "kontakter.csv") -> FormData:
    form = FormData()
    form.add_field("csrf_token", token)
    form.add_field("fil", content, filename=filename, content_type="text/csv")
    return form


async def test_a_good_csv_is_imported_and_counted(site: WorkspaceSite) -> None:
    async with site.sessions.begin() as session:
        await contact(session, "0301", "Ola Oslo")
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    token = await admin.csrf("/medlemmer/import")
    content = (
        b"org;navn;rolle;epost\n"
        b"0301;Ola Oslo;kommunedirektor;\n"  # there already: skipped
        b"4601;Berit Bergen;kommunedirektor;berit@bergen.kommune.no\n"
        b"\n"
        b"46;Finn Fylke;fylkesdirektor;\n"
    )
    response = await admin.post("/medlemmer/import", csv_upload(token, content))  # type: ignore[arg-type]
    page = text_of(await response.text())
    assert response.status == 200
    assert "2 kontakter er importert" in page
    assert "1 linje gjaldt kontakter som finnes fra før" in page
    assert await contacts_of(site, "4601") == [
        ("Berit Bergen", "kommunedirektor", "berit@bergen.kommune.no", True)
    ]
    assert [c[0] for c in await contacts_of(site, "46")] == ["Finn Fylke"]
    (entry,) = await logged(site, "contact.import")
    assert entry.door == "web" and entry.target is None
    assert entry.detail == {"added": 2, "skipped": 1, "file": "kontakter.csv"}

    windows = "org;navn;rolle\n4627;Bjørn Åsheim;ordforer\n".encode("cp1252")
    excel = await admin.post("/medlemmer/import", csv_upload(token, windows, "excel.csv"))  # type: ignore[arg-type]
    assert "1 kontakt er importert" in text_of(await excel.text())
    assert [c[0] for c in await contacts_of(site, "4627")] == ["Bjørn Åsheim"]

    pasted = await admin.post(
        "/medlemmer/import",
        {"csrf_token": token, "tekst": "org,name,role\n4614,Stein Stord,radmann\n"},
    )
    assert "1 kontakt er importert" in text_of(await pasted.text())


async def test_a_csv_with_bad_lines_saves_nothing_and_names_each_line(
    site: WorkspaceSite,
) -> None:
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    token = await admin.csrf("/medlemmer/import")
    content = (
        "org;navn;rolle;epost\n"
        "4601;Berit Bergen;kommunedirektor;\n"  # fine, but not saved
        "9999;Ukjent;radmann;\n"
        "4614;Stein Stord;rådmann;\n"
        "4627;Anne Askøy;ordforer;anne@\n"
    ).encode()
    response = await admin.post("/medlemmer/import", csv_upload(token, content))  # type: ignore[arg-type]
    body = await response.text()
    page = text_of(body)
    assert response.status == 422
    assert "Ingenting er lagret – rett disse linjene og prøv igjen" in page
    errors = [text_of(e) for e in re.findall(r"<li>(.*?)</li>", body.split("line-errors")[1])]
    assert errors[:3] == [
        "Linje 3: ukjent kommune- eller fylkesnummer «9999».",
        "Linje 4: rollen «rådmann» må være 2–60 tegn: små bokstaver a–z (uten æ, ø, å), tall, "
        "_ eller -, for eksempel «kommunedirektor».",
        "Linje 5: e-postadressen «anne@» ser ikke riktig ut.",
    ]
    assert "4601;Berit Bergen" in body  # the lines are kept in the text field to fix
    async with site.sessions() as session:
        assert await session.scalar(select(func.count(Contact.id))) == 0
    assert await logged(site, "contact.import") == []

    tabs = await admin.post(
        "/medlemmer/import", csv_upload(token, b"org\tname\trole\n0301\tOla\tradmann\n")
    )  # type: ignore[arg-type]
    assert tabs.status == 422
    assert "Linje 1: overskriftslinjen må være «org,navn,rolle,epost» (skilt med komma eller " \
        "semikolon); her er kolonnene skilt med tabulator." in text_of(await tabs.text())  # fmt: skip
    empty = await admin.post("/medlemmer/import", {"csrf_token": token, "tekst": ""})
    assert "Filen er tom" in text_of(await empty.text())


def test_service_reasons_read_in_norwegian() -> None:
    assert in_norwegian("line 1: missing column(s) role; the header must be x") == (
        "Linje 1: mangler kolonnen(e) role; overskriftslinjen må være «org,navn,rolle,epost» "
        "(skilt med komma eller semikolon)."
    )
    assert in_norwegian("line 1: the header must be x; found columns separated by '|'").endswith(
        "skilt med «|»."
    )
    assert in_norwegian("line 1: the header must be x; found one column, 'navn'").endswith(
        "fant bare én kolonne: «navn»."
    )
    assert in_norwegian("something new") == "Something new."  # unknown: passed on as it is


# --- deactivating and activating -----------------------------------------------------------


async def test_deactivating_is_confirmed_with_what_will_happen_then_audited(
    site: WorkspaceSite,
) -> None:
    ids = await reachability_data(site)
    oslo = ids["oslo"]
    now = datetime.now(UTC)
    async with site.sessions.begin() as session:
        await issue_code(session, oslo, now, timedelta(days=30))
        for index in range(2):
            session.add(
                OutboxMessage(channel="telegram", address="a", contact_id=oslo, kind="broadcast",
                              payload={"text": "Hei"}, status="pending", dedupe_key=f"t{index}")
            )  # fmt: skip
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    detail = await (await admin.get("/medlemmer/0301")).text()
    assert f'href="/medlemmer/0301/kontakter/{oslo}/deaktiver"' in detail
    confirm = await admin.get(f"/medlemmer/0301/kontakter/{oslo}/deaktiver")
    page = text_of(await confirm.text())
    assert confirm.status == 200 and "Deaktivere Ola Oslo?" in page
    assert "1 chat kobles fra" in page
    assert "1 ubrukt invitasjonskode trekkes tilbake" in page
    assert "2 meldinger som venter i køen til personen, trekkes tilbake" in page
    assert "Svarene personen har gitt, beholdes" in page
    assert (await contacts_of(site, "0301"))[0][3] is True  # nothing changed yet

    done = await admin.post(
        f"/medlemmer/0301/kontakter/{oslo}/deaktiver", {"csrf_token": csrf_in(await confirm.text())}
    )
    assert done.status == 303 and done.headers["Location"].endswith("?utfort=deaktivert#kontakter")
    assert (await contacts_of(site, "0301"))[0][3] is False
    (entry,) = await logged(site, "contact.deactivate")
    assert entry.target == f"contact:{oslo}" and entry.door == "web"
    assert entry.detail == {
        "org": "0301", "chats_unbound": 1, "codes_revoked": 1, "messages_withdrawn": 2,
    }  # fmt: skip
    async with site.sessions() as session:
        privacy = (await session.scalars(select(PrivacyLogEntry))).all()
        statuses = (await session.scalars(select(OutboxMessage.status))).all()
    assert [(p.action, p.contact_id, p.actor) for p in privacy] == [
        ("deactivate", oslo, entry.actor)
    ]
    assert statuses == ["failed", "failed"]
    page = text_of(await (await admin.get("/medlemmer/0301?utfort=deaktivert")).text())
    assert "Kontakten er deaktivert" in page and "Ingen kan nås" in page
    # Deactivated: no code can be issued; the confirmation page is not shown again.
    token = csrf_in(await (await admin.get("/medlemmer/0301")).text())
    refused = await admin.post(f"/medlemmer/0301/kontakter/{oslo}/kode", {"csrf_token": token})
    assert refused.status == 409 and "Aktiver den først" in await refused.text()
    assert (await admin.get(f"/medlemmer/0301/kontakter/{oslo}/deaktiver")).status == 303

    back = await admin.post(f"/medlemmer/0301/kontakter/{oslo}/aktiver", {"csrf_token": token})
    assert back.status == 303 and back.headers["Location"].endswith("?utfort=aktivert#kontakter")
    assert (await contacts_of(site, "0301"))[0][3] is True
    (activated,) = await logged(site, "contact.activate")
    assert activated.target == f"contact:{oslo}"
    # Another organisation's contact is not reached through this one's address.
    bergen = ids["bergen"]
    other = await admin.post(f"/medlemmer/0301/kontakter/{bergen}/aktiver", {"csrf_token": token})
    assert other.status == 404


# --- invitation codes ----------------------------------------------------------------------


async def redeem(site: WorkspaceSite, code: str, address: str) -> str:
    async with site.sessions.begin() as session:
        chat = Chat(channel="telegram", address=address, awaiting_code=True)
        session.add(chat)
        await session.flush()
        return (await redeem_code(session, chat, code, datetime.now(UTC))).outcome


async def test_an_issued_code_is_shown_once_with_links_and_a_qr_code_and_redeems(
    site: WorkspaceSite,
) -> None:
    ids = await reachability_data(site)
    stord = ids["stord"]
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    token = csrf_in(await (await admin.get("/medlemmer/4614")).text())
    response = await admin.post(f"/medlemmer/4614/kontakter/{stord}/kode", {"csrf_token": token})
    body = await response.text()
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    code = re.search(r'id="kode" class="code" type="text" readonly value="([A-Z0-9]+)"', body)
    assert code, body
    code_text = code.group(1)
    telegram = f"https://t.me/{TELEGRAM_BOT}?start={code_text}"
    assert f'value="{telegram}"' in body
    teams = f"https://teams.microsoft.com/l/chat/0/0?users=28:{TEAMS_APP}&amp;message={code_text}"
    assert teams in body
    image = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]+)"', body)
    assert image and "QR-kode som åpner Telegram-lenken" in image.group(2)
    svg = base64.b64decode(image.group(1)).decode()
    assert svg.startswith("<svg") and "<path" in svg
    assert f"data:image/svg+xml;base64,{image.group(1)}" == qr_images(telegram)[0]
    png = re.search(r'href="data:image/png;base64,([^"]+)" download=', body)
    assert png and base64.b64decode(png.group(1)).startswith(b"\x89PNG")
    assert "Koden vises bare nå" in text_of(body)

    (entry,) = await logged(site, "invite.create")
    assert entry.target == f"contact:{stord}" and entry.detail == {"codes": 1, "org": "4614"}
    async with site.sessions() as session:
        stored = (await session.scalars(select(Invitation.code_hash))).all()
    assert code_text not in str(stored)  # only its hash is kept
    again = await (await admin.get("/medlemmer/4614")).text()
    assert code_text not in again and "kode venter, til" in text_of(again)
    assert await redeem(site, code_text, "member-1") == "ok"
    async with site.sessions() as session:
        chat = await session.scalar(select(Chat).where(Chat.address == "member-1"))
        assert chat is not None and chat.contact_id == stord


async def test_a_pending_code_is_revoked_and_no_longer_redeems(site: WorkspaceSite) -> None:
    ids = await reachability_data(site)
    stord = ids["stord"]
    admin = await site.signed_in("Ada", "ada@ks.no", "admin")
    token = csrf_in(await (await admin.get("/medlemmer/4614")).text())
    first = await admin.post(f"/medlemmer/4614/kontakter/{stord}/kode", {"csrf_token": token})
    second = await admin.post(f"/medlemmer/4614/kontakter/{stord}/kode", {"csrf_token": token})
    codes = [
        re.search(r'id="kode" class="code" type="text" readonly value="([A-Z0-9]+)"', t).group(1)  # type: ignore[union-attr]
        for t in (await first.text(), await second.text())
    ]
    page = await (await admin.get("/medlemmer/4614")).text()
    assert "Trekk tilbake koden" in page and "Lag ny kode" in page
    revoked = await admin.post(
        f"/medlemmer/4614/kontakter/{stord}/kode/trekk", {"csrf_token": token}
    )
    assert revoked.status == 303 and revoked.headers["Location"].endswith(
        "?utfort=trukket#kontakter"
    )
    (entry,) = await logged(site, "invite.revoke")
    assert entry.target == f"contact:{stord}" and entry.detail == {"codes": 1, "org": "4614"}
    page = text_of(await (await admin.get("/medlemmer/4614?utfort=trukket")).text())
    assert "Invitasjonskoden er trukket tilbake" in page and "kode venter" not in page
    assert page.count("trukket tilbake") >= 2  # both codes in the history
    assert await redeem(site, codes[0], "member-1") == "unknown"  # replaced by the second
    assert await redeem(site, codes[1], "member-2") == "unknown"  # revoked
    nothing = await admin.post(
        f"/medlemmer/4614/kontakter/{stord}/kode/trekk", {"csrf_token": token}
    )
    assert nothing.headers["Location"].endswith("?utfort=ingen-kode#kontakter")
    assert len(await logged(site, "invite.revoke")) == 1


async def test_without_bot_settings_the_code_is_shown_without_links(migrated_url: str) -> None:
    async with workspace_site(migrated_url) as site:
        async with site.sessions.begin() as session:
            stord = await contact(session, "4614", "Stein Stord")
        admin = await site.signed_in("Ada", "ada@ks.no", "admin")
        token = csrf_in(await (await admin.get("/medlemmer/4614")).text())
        response = await admin.post(
            f"/medlemmer/4614/kontakter/{stord}/kode", {"csrf_token": token}
        )
        body = await response.text()
    assert response.status == 200 and 'id="kode"' in body
    assert "t.me" not in body and "<img" not in body
    assert "verken TELEGRAM_BOT_USERNAME eller MICROSOFT_APP_ID er satt" in body


# --- the services the page added -------------------------------------------------------------


async def test_a_deactivation_preview_names_what_deactivating_then_does(sessions) -> None:
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        person = await contact(session, "3301", "Kari", chats=(("telegram", True, now),
                               ("teams", False, now)))  # fmt: skip
        await issue_code(session, person, now - 40 * DAY, timedelta(days=30))  # expired, unused
        session.add(
            OutboxMessage(channel="telegram", address="a", contact_id=person, kind="broadcast",
                          payload={}, status="held", dedupe_key="held-1")
        )  # fmt: skip
        session.add(
            OutboxMessage(channel="telegram", address="a", contact_id=person, kind="broadcast",
                          payload={}, status="sent", dedupe_key="sent-1")
        )  # fmt: skip
    async with sessions() as session, session.begin():
        preview = await deactivation_preview(session, person)
        done = await deactivate_contact(session, person, now)
    assert (preview.chats_unbound, preview.codes_revoked, preview.messages_withdrawn) == (2, 1, 1)
    assert preview == done
    async with sessions() as session:
        assert (await deactivation_preview(session, person)).already
        with pytest.raises(LookupError):
            await deactivation_preview(session, 999_999)


async def test_revoking_codes_counts_the_live_ones_and_stops_them(sessions) -> None:
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        person = await contact(session, "3301", "Kari")
        other = await contact(session, "0301", "Ola")
        await issue_code(session, person, now - 40 * DAY, timedelta(days=30))  # expired
        live = await issue_code(session, person, now, timedelta(days=30))  # revokes the first
        kept = await issue_code(session, other, now, timedelta(days=30))
    async with sessions() as session, session.begin():
        assert await revoke_codes(session, person, now) == 1
        assert await revoke_codes(session, person, now) == 0
        chat = Chat(channel="telegram", address="x", awaiting_code=True)
        session.add(chat)
        await session.flush()
        assert (await redeem_code(session, chat, live.code, now)).outcome == "unknown"
        assert (await redeem_code(session, chat, kept.code, now)).outcome == "ok"
        assert await session.scalar(
            select(func.count(Invitation.id)).where(Invitation.revoked_at.is_(None))
        ) == 1  # fmt: skip
