"""Tiltak over HTTP on SQLite and PostgreSQL: creating an action (with its errors beside
the fields), changing its status after a confirmation that names the count, linking areas,
a tag's needs and needs ticked in the needs browser, the criteria form, the dissemination
plan and its notice, roles and CSRF; the composer's `area:` and `action:` segments, the
report built from the workspace and the round page's list of actions.

The responses are constructed (tests/views_support.py), so every count is known.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from services import action_plans, actions, audit
from services.need_tags import add_tag
from services.staff import by_email
from services.summaries import build_report
from services.surveys import SurveyCatalog
from services.views_needs import NeedKey
from storage.orm import ActionDissemination, KsAction, OutboxMessage
from tests.report_fixtures import pdf_pages
from tests.views_support import NOW, contact, make_round, need_answers, respond
from tests.workspace_support import Browser, WorkspaceSite, csrf_in, workspace_site

ZONE = ZoneInfo("Europe/Oslo")
ACTOR = audit.Actor("test", "web")


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url) as built:
        yield built


@dataclass(frozen=True)
class World:
    spring: int  # closed: Drammen, Kongsberg and Bergen answered
    drammen: int  # responses
    kongsberg: int
    bergen: int


async def world(site: WorkspaceSite) -> World:
    """A closed round: Drammen (helse, digitalisering) and Bergen (helse) each have a
    contact with a chat; Kongsberg (helse) has a contact without one."""
    async with site.sessions.begin() as session:
        spring = await make_round(
            session, "Vår 2027", ["3301", "3303", "4601", "0301"], status="closed",
            opens_at=NOW - timedelta(days=60), closes_at=NOW - timedelta(days=30),
        )  # fmt: skip
        drammen = await respond(session, spring, "3301", need_answers(
            {"helse": ("Rekruttering av sykepleiere", 5, False, ["ks"]),
             "digitalisering": ("Felles saksbehandlingssystem", 4, False, ["ks"])}))  # fmt: skip
        kongsberg = await respond(session, spring, "3303", need_answers(
            {"helse": ("Flere fastleger i distriktet", 5, False, ["staten"])}))  # fmt: skip
        bergen = await respond(session, spring, "4601", need_answers(
            {"helse": ("Hjemmetjenester med velferdsteknologi", 4, False, ["ks"])}))  # fmt: skip
        await contact(session, "3301", "Kari Drammen", chats=(("telegram", True, NOW),))
        await contact(session, "4601", "Bodil Bergen", chats=(("telegram", True, NOW),))
        await contact(session, "3303", "Kjell Kongsberg")
    return World(spring, drammen, kongsberg, bergen)


def helse(response_id: int) -> NeedKey:
    return NeedKey(response_id, "omrader.helse.behov")


async def new_action(site: WorkspaceSite, title: str, needs: list[NeedKey] = ()) -> int:  # type: ignore[assignment]
    async with site.sessions.begin() as session:
        action, _ = await actions.create_action(
            session, SurveyCatalog(), title=title, needs=needs, actor=ACTOR, now=NOW
        )
        return action.id


def text_of(page: str) -> str:
    """The visible text, roughly: tags dropped, entities read, whitespace folded."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


async def page_of(browser: Browser, path: str) -> str:
    response = await browser.get(path)
    assert response.status == 200, (path, response.status, await response.text())
    return await response.text()


async def entries(site: WorkspaceSite, action: str) -> list[audit.AuditRow]:
    async with site.sessions() as session:
        return await audit.entries(session, audit.AuditQuery(action=action))


async def notices(site: WorkspaceSite, change: str) -> list[OutboxMessage]:
    """The chat messages queued about one change of an action (by the outbox dedupe key)."""
    async with site.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "action_notice")
        )
        return [row for row in rows if f":{change}:" in (row.dedupe_key or "")]


async def staff_id(site: WorkspaceSite, email: str) -> int:
    async with site.sessions() as session:
        found = await by_email(session, email)
        assert found is not None
        return found.id


# --- creating ----------------------------------------------------------------------------------


async def test_creating_names_each_problem_beside_its_field_and_keeps_what_was_typed(
    site: WorkspaceSite,
) -> None:
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    form = await page_of(staff, "/tiltak/nytt")
    token = csrf_in(form)
    refused = await staff.post(
        "/tiltak/nytt",
        {"csrf_token": token, "tittel": "  ", "beskrivelse": "Felles kampanje <b>nå</b>",
         "enhet": "KS Arbeidsgiverpolitikk", "start": "2027-06-01", "slutt": "1.4.2027",
         "status": "planned"},
    )  # fmt: skip
    page = await refused.text()
    assert refused.status == 422
    assert re.search(r'<p class="error" id="tittel-feil">Tittelen kan ikke være tom\.</p>', page)
    assert re.search(
        r'id="slutt-feil">Sluttdatoen \(2027-04-01\) er før startdatoen \(2027-06-01\)\.</p>', page
    )
    assert 'id="tittel" name="tittel"' in page and 'aria-invalid="true"' in page
    # What was typed is kept (and escaped), the dates as the date fields read them.
    assert "Felles kampanje &lt;b&gt;nå&lt;/b&gt;</textarea>" in page
    assert 'value="KS Arbeidsgiverpolitikk"' in page and 'value="1.4.2027"' in page
    bad_day = await staff.post(
        "/tiltak/nytt",
        {"csrf_token": token, "tittel": "T", "start": "i morgen", "status": "planned"},
    )
    assert bad_day.status == 422 and 'id="start-feil">Skriv datoen som' in await bad_day.text()
    async with site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(KsAction)) == 0

    created = await staff.post(
        "/tiltak/nytt",
        {"csrf_token": token, "tittel": "Rekrutteringsløft i helse", "beskrivelse": "Kampanje",
         "enhet": "KS AGP", "start": "2027-04-01", "slutt": "30.6.2027", "status": "in_progress"},
    )  # fmt: skip
    assert created.status == 303
    location = created.headers["Location"]
    action_id = int(re.fullmatch(r"/tiltak/(\d+)\?utfort=opprettet", location).group(1))  # type: ignore[union-attr]
    shown = text_of(await page_of(staff, location))
    assert "Tiltaket er opprettet." in shown
    assert "i gang · ansvarlig: KS AGP · 1. april 2027 – 30. juni 2027" in shown
    (entry,) = await entries(site, "action.create")
    assert entry.target == f"action:{action_id}" and entry.door == "web"
    assert entry.actor == f"staff:{await staff_id(site, 'siri@ks.no')}"

    listed = await page_of(staff, "/tiltak")
    assert '<a href="/tiltak" aria-current="page">Tiltak</a>' in listed
    assert f'<a href="/tiltak/{action_id}">Rekrutteringsløft i helse</a>' in listed
    assert "Rekrutteringsløft" in await page_of(staff, "/tiltak?status=in_progress")
    assert "Rekrutteringsløft" not in await page_of(staff, "/tiltak?status=done")


async def test_editing_keeps_the_values_on_a_problem_and_saves_them_otherwise(
    site: WorkspaceSite,
) -> None:
    action_id = await new_action(site, "Digital samhandling")
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    token = csrf_in(await page_of(staff, f"/tiltak/{action_id}"))
    long_unit = "x" * (actions.MAX_UNIT + 1)
    refused = await staff.post(
        f"/tiltak/{action_id}/endre",
        {"csrf_token": token, "tittel": "Nytt navn", "enhet": long_unit, "start": "", "slutt": ""},
    )
    page = await refused.text()
    assert refused.status == 422
    assert f"Ansvarlig enhet kan ha høyst {actions.MAX_UNIT} tegn" in page
    assert 'value="Nytt navn"' in page and "<details open>" in page
    saved = await staff.post(
        f"/tiltak/{action_id}/endre",
        {"csrf_token": token, "tittel": "Nytt navn", "enhet": "KS Digitalisering",
         "beskrivelse": "", "start": "", "slutt": "2027-12-31"},
    )  # fmt: skip
    assert saved.status == 303 and "utfort=lagret" in saved.headers["Location"]
    async with site.sessions() as session:
        action = await session.get(KsAction, action_id)
        assert action is not None
        assert (action.title, action.responsible_unit, action.ends_on.isoformat()) == (  # type: ignore[union-attr]
            "Nytt navn", "KS Digitalisering", "2027-12-31",
        )  # fmt: skip
    (entry,) = await entries(site, "action.edit")
    assert entry.detail["fields"] == ["title", "responsible_unit", "ends_on"]


# --- status ------------------------------------------------------------------------------------


async def test_a_status_change_is_confirmed_with_the_count_and_tells_each_organisation_once(
    site: WorkspaceSite,
) -> None:
    w = await world(site)
    needs = [helse(w.drammen), helse(w.kongsberg), helse(w.bergen)]
    action_id = await new_action(site, "Fastlegeløftet", needs)
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    async with site.sessions() as session:
        # Three organisations are linked; Kongsberg has no chat to be told in.
        assert len(await actions.linked_organisations(session, action_id)) == 3
        expected = await actions.status_change_preview(session, action_id, "in_progress")
    assert expected == 2

    confirm = await staff.get(f"/tiltak/{action_id}/status?status=in_progress")
    page = text_of(await confirm.text())
    assert confirm.status == 200
    assert "Endre status til «i gang»?" in page
    assert f"{expected} organisasjoner får en kort melding i chat om at tiltaket er i gang" in page
    assert "3 organisasjoner har behov knyttet til tiltaket. Én av dem får ikke melding" in page
    assert await notices(site, "status:in_progress") == []  # a confirmation changes nothing

    token = csrf_in(await confirm.text())
    done = await staff.post(
        f"/tiltak/{action_id}/status", {"csrf_token": token, "status": "in_progress"}
    )
    assert done.status == 303
    assert done.headers["Location"] == f"/tiltak/{action_id}?utfort=status&fortalt={expected}"
    after = text_of(await page_of(staff, done.headers["Location"]))
    assert f"Statusen er endret. {expected} organisasjoner får melding i chat." in after
    told = await notices(site, "status:in_progress")
    assert len(told) == expected
    assert all("KS har startet: «Fastlegeløftet»." in row.payload["text"] for row in told)

    # Back and forth: "i gang" is not news a second time, and the confirmation says so.
    await staff.post(f"/tiltak/{action_id}/status", {"csrf_token": token, "status": "done"})
    again = text_of(await page_of(staff, f"/tiltak/{action_id}/status?status=in_progress"))
    assert "Ingen organisasjoner får melding om denne endringen." in again
    back = await staff.post(
        f"/tiltak/{action_id}/status", {"csrf_token": token, "status": "in_progress"}
    )
    assert back.headers["Location"].endswith("fortalt=0")
    assert len(await notices(site, "status:in_progress")) == expected
    assert len(await notices(site, "status:done")) == expected
    assert [e.detail["after"] for e in reversed(await entries(site, "action.status"))] == [
        "in_progress", "done", "in_progress",
    ]  # fmt: skip


# --- links ---------------------------------------------------------------------------------------


async def test_areas_a_tags_needs_and_single_needs_are_linked_and_unlinked(
    site: WorkspaceSite,
) -> None:
    w = await world(site)
    action_id = await new_action(site, "Rekrutteringsløft")
    async with site.sessions.begin() as session:
        for response in (w.drammen, w.kongsberg):
            await add_tag(session, SurveyCatalog(), helse(response), "Rekruttering",
                          actor="test", now=NOW)  # fmt: skip
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    page = await page_of(staff, f"/tiltak/{action_id}")
    token = csrf_in(page)
    assert f'<option value="{w.spring}:helse">Helse og omsorg (Vår 2027)</option>' in page
    assert (
        f'<option value="{w.spring}:Rekruttering">Rekruttering (2 behov, Vår 2027)</option>' in page
    )
    assert f'href="/resultater/{w.spring}/behov?tiltak={action_id}"' in page

    linked = await staff.post(
        f"/tiltak/{action_id}/omrader", {"csrf_token": token, "valg": f"{w.spring}:helse"}
    )
    assert linked.status == 303 and linked.headers["Location"].endswith("utfort=omrade#omrader")
    wrong = await staff.post(
        f"/tiltak/{action_id}/omrader", {"csrf_token": token, "valg": f"{w.spring}:kultur"}
    )
    assert wrong.status == 422
    assert f"Runde {w.spring} har ikke området «kultur»" in html.unescape(await wrong.text())
    empty = await staff.post(f"/tiltak/{action_id}/omrader", {"csrf_token": token, "valg": ""})
    assert empty.status == 422 and "Velg en runde og et område." in await empty.text()

    tagged = await staff.post(
        f"/tiltak/{action_id}/merkelapp", {"csrf_token": token, "valg": f"{w.spring}:rekruttering"}
    )
    assert tagged.status == 303
    async with site.sessions() as session:
        detail = await actions.get_action(session, SurveyCatalog(), action_id)
    assert [(a.round_id, a.area) for a in detail.areas] == [(w.spring, "helse")]
    assert {n.key for n in detail.needs} == {helse(w.drammen), helse(w.kongsberg)}
    # Drammen can be told (it has a chat); Kongsberg cannot.
    assert "fortalt=1" in tagged.headers["Location"]
    shown = text_of(await page_of(staff, tagged.headers["Location"]))
    assert "Behovene med merkelappen er knyttet til tiltaket. 1 organisasjon får melding" in shown
    assert "Rekruttering av sykepleiere Helse og omsorg · runden «Vår 2027» · Drammen" in shown

    removed = await staff.post(
        f"/tiltak/{action_id}/behov/fjern", {"csrf_token": token, "behov": helse(w.kongsberg).token}
    )
    assert removed.status == 303
    gone = await staff.post(
        f"/tiltak/{action_id}/omrader/fjern", {"csrf_token": token, "valg": f"{w.spring}:helse"}
    )
    assert gone.status == 303
    async with site.sessions() as session:
        detail = await actions.get_action(session, SurveyCatalog(), action_id)
    assert detail.areas == () and [n.key for n in detail.needs] == [helse(w.drammen)]
    assert [len(await entries(site, name)) for name in (
        "action.link_area", "action.link_needs", "action.unlink_needs", "action.unlink_area",
    )] == [1, 1, 1, 1]  # fmt: skip


async def test_the_needs_browser_links_the_ticked_needs_to_the_chosen_action(
    site: WorkspaceSite,
) -> None:
    w = await world(site)
    action_id = await new_action(site, "Velferdsteknologi")
    other = await new_action(site, "Annet tiltak")
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    listed = f"/resultater/{w.spring}/behov?omrade=helse&tiltak={action_id}"
    page = await page_of(staff, listed)
    assert "Du velger behov til tiltaket" in page and "«Velferdsteknologi»" in page
    assert f'<option value="{action_id}" selected>Velferdsteknologi (planlagt)</option>' in page
    assert f'<option value="{other}">Annet tiltak (planlagt)</option>' in page
    assert f'<input type="hidden" name="tiltak" value="{action_id}">' in page  # kept by filters
    boxes = re.findall(r'name="behov" value="([^"]+)" form="knytt-tiltak"', page)
    assert sorted(boxes) == sorted(k.token for k in (helse(w.drammen), helse(w.kongsberg),
                                                      helse(w.bergen)))  # fmt: skip
    token = csrf_in(page)
    back = re.search(r'name="tilbake" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert html.unescape(back) == listed

    nothing = await staff.post(
        "/resultater/behov/knytt-tiltak", {"csrf_token": token, "tiltak": str(action_id)}
    )
    assert nothing.status == 422 and "Velg minst ett behov" in await nothing.text()

    ticked = [helse(w.drammen).token, helse(w.bergen).token]
    form = [("csrf_token", token), ("tiltak", str(action_id)), ("tilbake", html.unescape(back))]
    done = await staff.post("/resultater/behov/knytt-tiltak", form + [("behov", t) for t in ticked])  # type: ignore[arg-type]
    assert done.status == 303
    location = urlsplit(done.headers["Location"])
    assert location.path == f"/resultater/{w.spring}/behov"
    assert parse_qs(location.query) == {
        "omrade": ["helse"], "tiltak": [str(action_id)], "knyttet": ["2"], "fortalt": ["2"],
    }  # fmt: skip
    shown = text_of(await page_of(staff, done.headers["Location"].split("#")[0]))
    assert (
        "2 behov er knyttet til tiltaket «Velferdsteknologi». 2 organisasjoner får melding i chat."
        in shown
    )
    # Each need shows the actions it is linked to; Kongsberg's need was not ticked.
    assert shown.count("Tiltak Velferdsteknologi (planlagt)") == 2
    assert shown.count("Tiltak ingen") == 1
    async with site.sessions() as session:
        detail = await actions.get_action(session, SurveyCatalog(), action_id)
    assert sorted(n.key.token for n in detail.needs) == sorted(ticked)
    assert len(await notices(site, "created")) == 2  # Drammen's and Bergen's contacts

    # The action's page leads back to the browser, pre-set to it.
    action_page = await page_of(staff, f"/tiltak/{action_id}")
    assert "Velg behov i behovsoversikten (Vår 2027)" in action_page
    # A viewer sees the needs, without anything to tick or link.
    viewer = await site.signed_in("Vera", "vera@ks.no", "viewer")
    plain = await page_of(viewer, listed)
    assert 'form="knytt-tiltak"' not in plain and "Knytt valgte behov" not in plain
    refused = await viewer.post(
        "/resultater/behov/knytt-tiltak",
        {"csrf_token": await viewer.csrf(), "tiltak": str(action_id), "behov": ticked[0]},
    )
    assert refused.status == 403


# --- criteria ----------------------------------------------------------------------------------


async def test_the_criteria_form_names_problems_beside_their_rows_and_saves_the_changes(
    site: WorkspaceSite,
) -> None:
    action_id = await new_action(site, "Heltidskultur")
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    page = await page_of(staff, f"/tiltak/{action_id}")
    token = csrf_in(page)
    assert page.count('<option value="" selected>Ikke vurdert</option>') == 10
    wrong = await staff.post(
        f"/tiltak/{action_id}/kriterier",
        {"csrf_token": token, "vurdering-1": "met", "begrunnelse-1": "  ",
         "vurdering-3": "partly", "begrunnelse-3": "Mange meldte det",
         "vurdering-7": "", "begrunnelse-7": "Uten vurdering"},
    )  # fmt: skip
    body = await wrong.text()
    assert wrong.status == 422
    assert re.search(r'id="kriterium-1-feil">Skriv en begrunnelse når kriteriet er oppfylt', body)
    assert 'id="kriterium-7-feil">Velg en vurdering til begrunnelsen' in body
    assert "kriterium-3-feil" not in body
    assert re.search(r'<option value="partly" selected>Delvis oppfylt</option>', body)
    assert 'value="Mange meldte det"' in body  # typed values kept
    async with site.sessions() as session:
        unchanged = await action_plans.assessment(session, action_id)
    assert all(c.rating is None for c in unchanged.criteria)

    form = {"csrf_token": token, "vurdering-1": "met", "begrunnelse-1": "Gjelder alle kommuner",
            "vurdering-3": "partly", "begrunnelse-3": "Mange meldte det", "vurdering-8": "not"}  # fmt: skip
    saved = await staff.post(f"/tiltak/{action_id}/kriterier", form)
    assert saved.status == 303 and "utfort=kriterier" in saved.headers["Location"]
    async with site.sessions() as session:
        assessed = await action_plans.assessment(session, action_id)
    rated = {c.criterion: (c.rating, c.reasoning) for c in assessed.criteria if c.rating}
    assert rated == {1: ("met", "Gjelder alle kommuner"), 3: ("partly", "Mange meldte det"),
                     8: ("not", "")}  # fmt: skip
    assert len(await entries(site, "action.assess")) == 3
    # The same form again changes nothing and writes nothing.
    again = await staff.post(f"/tiltak/{action_id}/kriterier", form)
    assert "utfort=uendret" in again.headers["Location"]
    assert len(await entries(site, "action.assess")) == 3
    # An assessed row can be set back to "not assessed": members no longer see it.
    page = await page_of(staff, f"/tiltak/{action_id}")
    assert page.count('<option value="" selected>Ikke vurdert</option>') == 7
    assert page.count('<option value="">Ikke vurdert</option>') == 3  # offered on rated rows
    undo = await staff.post(f"/tiltak/{action_id}/kriterier", {**form, "vurdering-1": ""})
    assert undo.status == 303
    async with site.sessions() as session:
        after = await action_plans.assessment(session, action_id)
    assert {c.criterion for c in after.criteria if c.rating} == {3, 8}
    taken_back = await entries(site, "action.assess")
    assert len(taken_back) == 4


# --- the dissemination plan -----------------------------------------------------------------------


async def test_plan_steps_are_added_edited_removed_and_a_due_step_sends_its_notice_once(
    site: WorkspaceSite,
) -> None:
    w = await world(site)
    action_id = await new_action(site, "Lederutvikling", [helse(w.drammen), helse(w.bergen)])
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    siri = await staff_id(site, "siri@ks.no")
    today = datetime.now(UTC).astimezone(ZONE).date()
    token = csrf_in(await page_of(staff, f"/tiltak/{action_id}"))

    missing = await staff.post(
        f"/tiltak/{action_id}/plan",
        {"csrf_token": token, "ansvarlig": str(siri), "kanal": " ", "frist": today.isoformat()},
    )
    assert missing.status == 422
    assert "Skriv hvilken kanal resultatene skal spres i" in html.unescape(await missing.text())
    no_date = await staff.post(
        f"/tiltak/{action_id}/plan",
        {"csrf_token": token, "ansvarlig": str(siri), "kanal": "nyhetsbrev", "frist": ""},
    )
    assert no_date.status == 422 and "Velg en frist." in await no_date.text()
    assert 'value="nyhetsbrev"' in await no_date.text()

    for channel, due in (
        ("KS-nettverk", today - timedelta(days=1)),
        ("nyhetsbrev", today + timedelta(days=9)),
    ):
        added = await staff.post(
            f"/tiltak/{action_id}/plan",
            {"csrf_token": token, "ansvarlig": str(siri), "kanal": channel,
             "beskrivelse": "Del erfaringene.", "frist": due.isoformat()},
        )  # fmt: skip
        assert added.status == 303
    async with site.sessions() as session:
        due_step, later = await action_plans.plan(session, action_id)
    page = await page_of(staff, f"/tiltak/{action_id}")
    assert page.count("Send melding til de berørte …") == 1  # only the step that is due
    assert f'action="/tiltak/{action_id}/plan/{due_step.id}/melding"' in page

    edited = await staff.post(
        f"/tiltak/{action_id}/plan/{later.id}/endre",
        {"csrf_token": token, "ansvarlig": str(siri), "kanal": "KS-konferansen",
         "beskrivelse": "", "frist": later.due_on.isoformat()},
    )  # fmt: skip
    assert edited.status == 303
    async with site.sessions() as session:
        assert (await action_plans.step(session, later.id)).channel == "KS-konferansen"
    removed = await staff.post(f"/tiltak/{action_id}/plan/{later.id}/fjern", {"csrf_token": token})
    assert removed.status == 303
    async with site.sessions() as session:
        assert [s.id for s in await action_plans.plan(session, action_id)] == [due_step.id]

    path = f"/tiltak/{action_id}/plan/{due_step.id}/melding"
    empty = await staff.post(path, {"csrf_token": token, "tekst": "  "})
    assert empty.status == 422 and "Skriv hva organisasjonene skal få vite." in await empty.text()
    text = "Rapporten fra piloten er klar."
    confirm = await staff.post(path, {"csrf_token": token, "tekst": text})
    shown = text_of(await confirm.text())
    assert confirm.status == 200
    assert "Meldingen går til de 2 organisasjonene som meldte behovene tiltaket svarer på" in shown
    assert "Ja, send meldingen til 2 organisasjoner" in shown and text in shown
    change = action_plans.dissemination_change(due_step.id)
    assert await notices(site, change) == []  # nothing is sent before it is confirmed
    sent = await staff.post(path, {"csrf_token": token, "tekst": text, "handling": "send"})
    assert sent.status == 303 and "utfort=melding&fortalt=2" in sent.headers["Location"]
    queued = await notices(site, change)
    assert len(queued) == 2 and all(text in row.payload["text"] for row in queued)
    twice = await staff.post(path, {"csrf_token": token, "tekst": text, "handling": "send"})
    assert twice.status == 409 and "er allerede sendt" in await twice.text()
    assert len(await notices(site, change)) == 2
    async with site.sessions() as session:
        row = await session.get(ActionDissemination, due_step.id)
        assert row is not None and row.notice_sent_at is not None
    assert "Send melding til de berørte" not in await page_of(staff, f"/tiltak/{action_id}")
    # A step of another action is not reached through this one.
    other = await new_action(site, "Annet")
    assert (
        await staff.post(f"/tiltak/{other}/plan/{due_step.id}/fjern", {"csrf_token": token})
    ).status == 404


# --- roles and CSRF ------------------------------------------------------------------------------


async def test_a_viewer_reads_actions_without_names_and_cannot_write(site: WorkspaceSite) -> None:
    w = await world(site)
    action_id = await new_action(site, "Fastlegeløftet", [helse(w.drammen)])
    viewer = await site.signed_in("Vera", "vera@ks.no", "viewer")
    listed = await page_of(viewer, "/tiltak")
    assert "Fastlegeløftet" in listed and "Nytt tiltak" not in listed
    page = await page_of(viewer, f"/tiltak/{action_id}")
    assert "Rekruttering av sykepleiere" in page and "Drammen" not in page
    assert '<form method="post" action="/tiltak' not in page
    assert (await viewer.get("/tiltak/nytt")).status == 403
    assert (await viewer.get(f"/tiltak/{action_id}/status?status=done")).status == 403
    token = await viewer.csrf()
    for path, form in (
        ("/tiltak/nytt", {"tittel": "Nei", "status": "planned"}),
        (f"/tiltak/{action_id}/status", {"status": "done"}),
        (f"/tiltak/{action_id}/kriterier", {"vurdering-1": "not"}),
    ):
        assert (await viewer.post(path, {"csrf_token": token, **form})).status == 403
    async with site.sessions() as session:
        action = await session.get(KsAction, action_id)
        assert action is not None and action.status == "planned"
        assert await session.scalar(select(func.count()).select_from(KsAction)) == 1
    assert (await viewer.get("/tiltak/99999")).status == 404


async def test_a_form_without_the_sessions_token_is_refused(site: WorkspaceSite) -> None:
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    for token in ({}, {"csrf_token": "forged"}):
        refused = await staff.post(
            "/tiltak/nytt", {"tittel": "Uten token", "status": "planned", **token}
        )
        assert refused.status == 403 and "Skjemaet kunne ikke sendes" in await refused.text()
    async with site.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(KsAction)) == 0


# --- the composer, the report, the round page ------------------------------------------------------


async def test_the_composer_offers_and_counts_the_area_and_action_segments(
    site: WorkspaceSite,
) -> None:
    w = await world(site)
    action_id = await new_action(site, "Fastlegeløftet", [helse(w.drammen), helse(w.kongsberg)])
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    page = await page_of(staff, "/publiseringer/ny")
    assert '<input type="radio" id="m-area" name="mottakere" value="area">' in page
    assert '<input type="radio" id="m-action" name="mottakere" value="action">' in page
    assert f'<option value="{w.spring}:helse">Helse og omsorg (Vår 2027)</option>' in page
    assert f'<option value="{action_id}">Fastlegeløftet (planlagt)</option>' in page

    async def counts(**query: str) -> tuple[int, dict[str, Any]]:
        response = await staff.get("/publiseringer/mottakere", params=query)
        return response.status, await response.json()

    async with site.sessions() as session:
        chose = await actions.organisations_choosing(session, SurveyCatalog(), w.spring, "helse")
        linked = await actions.linked_organisations(session, action_id)
    # Drammen, Kongsberg and Bergen chose Helse og omsorg; Kongsberg has no chat.
    status, area = await counts(mottakere="area", omrade=f"{w.spring}:helse")
    assert status == 200 and len(chose) == 3
    assert area["organisations"] + area["unreachable_organisations"] == len(chose)
    assert (area["contacts"], area["organisations"], area["unreachable_contacts"]) == (2, 2, 1)
    status, action = await counts(mottakere="action", tiltak=str(action_id))
    assert status == 200 and len(linked) == 2
    assert action["sentence"] == "Når 1 kontakt i 1 organisasjon; 1 organisasjon kan ikke nås."
    status, digital = await counts(mottakere="area", omrade=f"{w.spring}:digitalisering")
    assert digital["organisations"] == 1
    status, unknown = await counts(mottakere="action", tiltak="99999")
    assert status == 400 and unknown["error"] == "Fant ikke tiltak 99999."
    status, missing = await counts(mottakere="area")
    assert status == 400 and missing["error"] == "Velg en runde og et område."

    # Without JavaScript: "Beregn mottakere" counts the chosen action and keeps the choice.
    from aiohttp import FormData

    data = FormData()
    for name, value in (("csrf_token", csrf_in(page)), ("tittel", "T"), ("tekst", "Hei"),
                        ("mottakere", "action"), ("tiltak", str(action_id)),
                        ("handling", "beregn")):  # fmt: skip
        data.add_field(name, value)
    counted = await staff.post("/publiseringer/ny", data)  # type: ignore[arg-type]
    assert counted.status == 200
    body = await counted.text()
    assert "Når 1 kontakt i 1 organisasjon; 1 organisasjon kan ikke nås." in text_of(body)
    assert f'<option value="{action_id}" selected>' in body


async def test_the_report_from_the_workspace_has_the_actions_as_report_build_writes_them(
    site: WorkspaceSite, tmp_path: Path
) -> None:
    w = await world(site)
    action_id = await new_action(site, "Fastlegeløftet", [helse(w.kongsberg)])
    async with site.sessions.begin() as session:
        await actions.link_area(
            session, SurveyCatalog(), action_id, w.spring, "helse", actor=ACTOR, now=NOW
        )
        cli = await build_report(session, SurveyCatalog(), w.spring, tmp_path / "cli", ZONE)
    section = cli.summary_text.read_text(encoding="utf-8").split("Dette gjør KS med innspillene:")[
        1
    ]
    expected = " ".join(section.split())
    assert "Fastlegeløftet" in expected
    staff = await site.signed_in("Siri Stab", "siri@ks.no", "staff")
    token = csrf_in(await page_of(staff, f"/resultater/{w.spring}"))
    built = await staff.post(f"/resultater/{w.spring}/rapport", {"csrf_token": token})
    assert built.status == 303
    pdf = await staff.get(f"/resultater/{w.spring}/rapport.pdf")
    assert pdf.status == 200
    path = tmp_path / "web.pdf"
    path.write_bytes(await pdf.read())
    text = " ".join(pdf_pages(path))
    assert "Dette gjør KS med innspillene:" in text and expected in text


async def test_a_closed_rounds_page_lists_the_actions_linked_to_it(site: WorkspaceSite) -> None:
    w = await world(site)
    action_id = await new_action(site, "Fastlegeløftet <i>nå</i>", [helse(w.bergen)])
    async with site.sessions.begin() as session:
        await actions.set_status(session, SurveyCatalog(), action_id, "done", actor=ACTOR, now=NOW)
        await new_action_in(session, "Ikke knyttet")
    viewer = await site.signed_in("Vera", "vera@ks.no", "viewer")
    page = await page_of(viewer, f"/runder/{w.spring}")
    assert (
        f'<a href="/tiltak/{action_id}">Fastlegeløftet &lt;i&gt;nå&lt;/i&gt;</a> '
        '<span class="status action-done">gjennomført</span>'
    ) in page
    assert "Ikke knyttet" not in page


async def new_action_in(session: Any, title: str) -> int:
    action, _ = await actions.create_action(
        session, SurveyCatalog(), title=title, actor=ACTOR, now=NOW
    )
    return action.id
