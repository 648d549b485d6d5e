"""KS's actions on SQLite and PostgreSQL: create, edit, status, links to needs, areas and
tags, what each refuses, the notices (once per organisation per change), the segments
``area:`` and ``action:``, ``/tiltak``'s and ``/arshjul``'s data, and the report's section.
The texts are tested on plain data first."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from dialogs.action_texts import (
    CriterionRating,
    MemberAction,
    NeedQuote,
    action_notice,
    actions_message,
    shorten,
)
from dialogs.criteria import CRITERIA, RATINGS
from dialogs.wheel import wheel_message
from reports.actions_section import ActionLine, actions_section
from services import actions
from services.actions import ActionError
from services.annual_wheel import wheel_rounds
from services.audit import CLI
from services.need_tags import add_tag
from services.segments import (
    Segment,
    SegmentError,
    resolve_segment,
    segment_choices,
    segment_organisations,
)
from services.summaries import build_report
from services.surveys import SurveyCatalog
from services.views_needs import NeedKey
from storage.orm import ActionCriterion, ActionNotice, AuditEntry, Organisation, OutboxMessage
from tests.views_support import NOW, contact, make_round, need_answers, respond

OSLO = ZoneInfo("Europe/Oslo")
LONG_NEED = (
    "Vi mangler sykepleiere og helsefagarbeidere i hjemmetjenesten, særlig i helgene, og "
    "vikarbruken spiser opp budsjettet vårt år etter år uten at vi får bygget fast kompetanse"
)


# --- texts, on plain data -----------------------------------------------------------------------


def test_a_need_is_quoted_short_at_a_word_boundary() -> None:
    short = shorten(LONG_NEED)
    assert len(short) <= 120 and short.endswith("…")
    assert LONG_NEED.startswith(short[:-1]) and LONG_NEED[len(short) - 1] == " "
    assert shorten("  Flere\nfastleger  ") == "Flere fastleger"


def test_a_notice_names_the_organisations_own_need_and_points_to_tiltak() -> None:
    needs = [NeedQuote("Vår 2027", "Helse og omsorg", LONG_NEED),
             NeedQuote("Vår 2027", "Digitalisering", "Felles journalsystem")]  # fmt: skip
    first = action_notice(title="Rekrutteringsløft", status="planned", needs=needs, first=True)
    assert first.text.startswith(f"I runden «Vår 2027» meldte dere behov om «{shorten(LONG_NEED)}»")
    assert "(Helse og omsorg), og 1 behov til" in first.text
    assert "KS har planlagt et tiltak som skal svare på dette: «Rekrutteringsløft»." in first.text
    assert "/tiltak" in first.text and "Felles journalsystem" not in first.text
    started = action_notice(
        title="Rekrutteringsløft", status="in_progress", needs=needs[1:], first=False
    )
    assert (
        "behov om «Felles journalsystem» (Digitalisering).\nKS har startet: «Rekrutteringsløft»."
        in started.text
    )
    erased = action_notice(
        title="T", status="done", needs=[NeedQuote("Vår 2027", "Helse og omsorg", "")], first=False
    )
    assert "meldte dere et behov innen Helse og omsorg." in erased.text
    with pytest.raises(ValueError):
        action_notice(title="T", status="done", needs=[], first=False)


def test_tiltak_shows_status_needs_and_the_criteria_met_or_partly_met() -> None:
    action = MemberAction(
        title="Rekrutteringsløft", status="in_progress", description="Felles kampanje.",
        responsible_unit="KS Arbeidsgiverpolitikk", starts_on=date(2027, 3, 1),
        ends_on=date(2027, 6, 30), needs=(NeedQuote("Vår 2027", "Helse og omsorg", LONG_NEED),),
        criteria=(CriterionRating(3, "met", "Mange meldte det."),
                  CriterionRating(6, "partly", "Vikarutgifter."),
                  CriterionRating(8, "not", "Kjent metode.")),
    )  # fmt: skip
    text = actions_message("Drammen", [action]).text
    assert "• «Rekrutteringsløft» – i gang" in text
    assert "Ansvarlig i KS: KS Arbeidsgiverpolitikk · 1. mars 2027–30. juni 2027" in text
    assert f"Svarer på: «{shorten(LONG_NEED)}» (Helse og omsorg, runden «Vår 2027»)" in text
    assert f"✓ {CRITERIA[2]} – Mange meldte det." in text
    assert f"◐ {CRITERIA[5]} ({RATINGS['partly']}) – Vikarutgifter." in text
    assert CRITERIA[7] not in text and "Kjent metode" not in text
    assert "ikke knyttet noen tiltak" in actions_message("Drammen", []).text
    assert len(CRITERIA) == 10 and set(RATINGS) == {"met", "partly", "not"}


def test_the_report_section_lists_under_way_first_and_no_words_of_members() -> None:
    section = actions_section([
        ActionLine(1, "Ferdig", "done", ("Helse og omsorg",), 2),
        ActionLine(2, "Lagt bort", "dropped", (), 0),
        ActionLine(3, "Startet", "in_progress", ("Digitalisering", "Helse og omsorg"), 1),
        ActionLine(4, "Planlagt", "planned", (), 3),
    ])  # fmt: skip
    assert [a.id for a in section.actions] == [3, 4, 1, 2]
    lines = section.text().splitlines()
    assert lines[0] == "Dette gjør KS med innspillene:"
    assert lines[1] == "• «Startet» (i gang) – Digitalisering, Helse og omsorg; svarer på 1 behov"
    assert lines[4] == "• «Lagt bort» (lagt bort)"
    assert section.to_json()[0] == {"id": 3, "title": "Startet", "status": "in_progress",
                                    "status_name": "i gang",
                                    "areas": ["Digitalisering", "Helse og omsorg"], "needs": 1}  # fmt: skip
    assert actions_section([]).text() == ""


# --- the services, on both databases ----------------------------------------------------------


async def seed(sessions) -> dict[str, int]:
    """A closed round: Drammen (two needs, two contacts with chats), Bergen (one need, one
    chat), Kinn (one need, no chat), Stavanger (started, not sent in)."""
    async with sessions() as session, session.begin():
        closed = await make_round(session, "Vår 2027", ["3301", "4601", "4602", "1103"],
                                  status="closed", opens_at=NOW - timedelta(days=30),
                                  closes_at=NOW - timedelta(days=2))  # fmt: skip
        ids = {
            "round": closed,
            "drammen": await respond(session, closed, "3301", need_answers(
                {"helse": (LONG_NEED, 5, False, ["ks"]),
                 "digitalisering": ("Felles journalsystem", 4, False, ["ks"])})),
            "bergen": await respond(session, closed, "4601", need_answers(
                {"helse": ("Flere fastleger", 5, False, ["staten"])})),
            "kinn": await respond(session, closed, "4602", need_answers(
                {"okonomi": ("Dyrere drift av ferjer", 3, False, ["staten"])})),
            "stavanger": await respond(session, closed, "1103", need_answers(
                {"helse": ("Ikke sendt inn", 2, True, None)}), status="in_progress"),
            "kari": await contact(session, "3301", "Kari", chats=(("telegram", True, NOW),)),
            "per": await contact(session, "3301", "Per", chats=(("teams", True, NOW),)),
            "bodil": await contact(session, "4601", "Bodil", chats=(("telegram", True, NOW),)),
            "kjell": await contact(session, "4602", "Kjell"),
        }  # fmt: skip
        codes = dict((await session.execute(select(Organisation.code, Organisation.id))).all())
        ids.update({f"org:{code}": codes[code] for code in ("3301", "4601", "4602", "1103")})
    return ids


def need(response_id: int, area: str) -> NeedKey:
    return NeedKey(response_id, f"omrader.{area}.behov")


async def notices(sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "action_notice")
                .order_by(OutboxMessage.id)
            )
        )


async def test_creating_with_needs_tells_each_organisation_once_naming_its_own_need(
    sessions,
) -> None:
    ids = await seed(sessions)
    catalog = SurveyCatalog()
    async with sessions() as session, session.begin():
        action, told = await actions.create_action(
            session, catalog, title="Rekrutteringsløft i helse", responsible_unit="KS AGP",
            needs=[need(ids["drammen"], "helse"), need(ids["drammen"], "digitalisering"),
                   need(ids["bergen"], "helse")],
            areas=[(ids["round"], "helse")], actor=CLI, now=NOW,
        )  # fmt: skip
    assert told == 2  # Drammen and Bergen; two needs of Drammen make one notice
    sent = await notices(sessions)
    by_address = {row.address: row.payload["text"] for row in sent}
    assert len(sent) == 3  # Drammen's two contacts and Bergen's one
    drammen = by_address[f"telegram-{ids['kari']}-0"]
    assert drammen == by_address[f"teams-{ids['per']}-0"]
    # Both of Drammen's needs are linked at once: the first in the survey's order is quoted.
    assert "behov om «Felles journalsystem» (Digitalisering), og 1 behov til" in drammen
    assert "Flere fastleger" not in drammen and LONG_NEED[:30] not in drammen
    bergen = by_address[f"telegram-{ids['bodil']}-0"]
    assert (
        "«Flere fastleger» (Helse og omsorg)." in bergen and "Rekrutteringsløft i helse" in bergen
    )
    assert all(row.priority < 50 and row.status == "pending" for row in sent)  # paced, bulk

    async with sessions() as session:
        detail = await actions.get_action(session, catalog, action.id)
        assert detail.organisations == (ids["org:3301"], ids["org:4601"])
        assert [a.area_label for a in detail.areas] == ["Helse og omsorg"]
        assert {n.org_code for n in detail.needs} == {"3301", "4601"}
        assert await actions.linked_organisations(session, action.id) == sorted(
            [ids["org:3301"], ids["org:4601"]]
        )
        (listed,) = await actions.list_actions(session)
        assert (listed.needs, listed.organisations, listed.areas) == (3, 2, 1)
        audit = list(await session.scalars(select(AuditEntry.action)))
        assert audit == ["action.create"]


async def test_status_changes_tell_once_per_status_even_back_and_forth(sessions) -> None:
    ids = await seed(sessions)
    catalog = SurveyCatalog()
    async with sessions() as session, session.begin():
        action, _ = await actions.create_action(
            session, catalog, title="Fastlegeordningen", needs=[need(ids["bergen"], "helse")],
            actor=CLI, now=NOW,
        )  # fmt: skip
    told = []
    for status in ("in_progress", "done", "in_progress", "done", "planned", "in_progress"):
        async with sessions() as session, session.begin():
            change = await actions.set_status(
                session, catalog, action.id, status, actor=CLI, now=NOW
            )
            told.append(change.organisations_told)
    # Bergen hears once that it started and once that it is done; going back is not news,
    # and "planned" was told with the first notice.
    assert told == [1, 1, 0, 0, 0, 0]
    texts = [row.payload["text"] for row in await notices(sessions)]
    assert len(texts) == 3
    assert "KS har planlagt et tiltak" in texts[0]
    assert "KS har startet: «Fastlegeordningen»." in texts[1]
    assert "KS har gjennomført: «Fastlegeordningen»." in texts[2]
    async with sessions() as session:
        changes = sorted(await session.scalars(select(ActionNotice.change)))
        assert changes == ["created", "status:done", "status:in_progress", "status:planned"]
        same = await actions.set_status(session, catalog, action.id, "i gang", actor=CLI, now=NOW)
        assert not same.changed and same.organisations_told == 0
        statuses = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "action.status")
        )
        assert statuses == 6


async def test_linking_later_tells_only_the_newly_linked_about_the_state_now(sessions) -> None:
    ids = await seed(sessions)
    catalog = SurveyCatalog()
    async with sessions() as session, session.begin():
        action, told = await actions.create_action(
            session, catalog, title="Ferjeavtaler", status="in_progress", actor=CLI, now=NOW
        )
        assert told == 0  # nothing linked, no one to tell
        first = await actions.link_needs(
            session, catalog, action.id, [need(ids["bergen"], "helse")], actor=CLI, now=NOW
        )
    assert (
        first.changed == (f"{ids['bergen']}:omrader.helse.behov",) and first.organisations_told == 1
    )
    async with sessions() as session, session.begin():
        again = await actions.link_needs(
            session, catalog, action.id,
            [need(ids["bergen"], "helse"), need(ids["drammen"], "helse"), need(ids["kinn"], "okonomi")],
            actor=CLI, now=NOW,
        )  # fmt: skip
    assert again.unchanged == (f"{ids['bergen']}:omrader.helse.behov",)
    assert again.organisations_told == 1  # Drammen; Kinn has no chat, Bergen knew already
    sent = await notices(sessions)
    assert len(sent) == 3  # Bergen 1, Drammen 2 contacts
    assert all("KS har startet et tiltak som svarer på dette: «Ferjeavtaler»." in r.payload["text"]
               for r in sent)  # fmt: skip

    # Unlinking and linking again tells no one twice.
    async with sessions() as session, session.begin():
        gone = await actions.unlink_needs(
            session, action.id, [need(ids["bergen"], "helse")], actor=CLI, now=NOW
        )
        assert gone.changed == (f"{ids['bergen']}:omrader.helse.behov",)
        back = await actions.link_needs(
            session, catalog, action.id, [need(ids["bergen"], "helse")], actor=CLI, now=NOW
        )
        assert back.organisations_told == 0
    assert len(await notices(sessions)) == 3
    async with sessions() as session:
        kinds = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert kinds == ["action.create", "action.link_needs", "action.link_needs",
                     "action.unlink_needs", "action.link_needs"]  # fmt: skip


async def test_a_dropped_action_tells_no_one_newly_linked(sessions) -> None:
    ids = await seed(sessions)
    catalog = SurveyCatalog()
    async with sessions() as session, session.begin():
        action, told = await actions.create_action(
            session, catalog, title="Lagt bort", status="dropped",
            needs=[need(ids["bergen"], "helse")], actor=CLI, now=NOW,
        )  # fmt: skip
        assert told == 0
        restarted = await actions.set_status(
            session, catalog, action.id, "in_progress", actor=CLI, now=NOW
        )
        assert restarted.organisations_told == 1
    (row,) = await notices(sessions)
    assert "KS har startet: «Lagt bort»." in row.payload["text"]


async def test_wrong_links_and_fields_are_refused_in_norwegian(sessions) -> None:
    ids = await seed(sessions)
    catalog = SurveyCatalog()
    async with sessions() as session, session.begin():
        action, _ = await actions.create_action(session, catalog, title="T", actor=CLI, now=NOW)
    cases = [
        ([need(ids["stavanger"], "helse")], "fant ikke behov"),  # not sent in
        ([need(ids["bergen"], "okonomi")], "fant ikke behov"),  # no need there
        ([NeedKey(99999, "omrader.helse.behov")], "fant ikke behov 99999"),
        ([NeedKey(ids["bergen"], "fornoyd")], "fant ikke behov"),  # not a need question
    ]
    for keys, message in cases:
        async with sessions() as session:
            with pytest.raises(ActionError, match=message):
                await actions.link_needs(session, catalog, action.id, keys, actor=CLI, now=NOW)
    async with sessions() as session:
        with pytest.raises(ActionError, match="har ikke området «fisk»"):
            await actions.link_area(
                session, catalog, action.id, ids["round"], "fisk", actor=CLI, now=NOW
            )
        with pytest.raises(ActionError, match="fant ikke runde 999"):
            await actions.link_area(session, catalog, action.id, 999, "helse", actor=CLI, now=NOW)
        with pytest.raises(ActionError, match="fant ikke tiltak 999"):
            await actions.set_status(session, catalog, 999, "done", actor=CLI, now=NOW)
        with pytest.raises(ActionError, match="ukjent status"):
            await actions.set_status(session, catalog, action.id, "ferdigish", actor=CLI, now=NOW)
        with pytest.raises(ActionError, match="tittelen kan ikke være tom"):
            await actions.create_action(session, catalog, title="  ", actor=CLI, now=NOW)
        with pytest.raises(ActionError, match="før startdatoen"):
            await actions.edit_action(session, action.id, starts_on=date(2027, 5, 1),
                                      ends_on=date(2027, 4, 1), actor=CLI, now=NOW)  # fmt: skip
        with pytest.raises(ActionError, match="merkelappen «Ingen slik»"):
            await actions.link_tag(
                session, catalog, action.id, ids["round"], "Ingen slik", actor=CLI, now=NOW
            )
    async with sessions() as session:
        assert await actions.linked_organisations(session, action.id) == []


async def test_edit_areas_and_tags(sessions) -> None:
    ids = await seed(sessions)
    catalog = SurveyCatalog()
    async with sessions() as session, session.begin():
        action, _ = await actions.create_action(session, catalog, title="T", actor=CLI, now=NOW)
        edited = await actions.edit_action(
            session, action.id, title=" Helseløftet ", responsible_unit="KS Helse",
            starts_on=date(2027, 4, 1), actor=CLI, now=NOW,
        )  # fmt: skip
        assert (edited.title, edited.responsible_unit, edited.starts_on) == (
            "Helseløftet",
            "KS Helse",
            date(2027, 4, 1),
        )
        unchanged = await actions.edit_action(
            session, action.id, title="Helseløftet", actor=CLI, now=NOW
        )
        assert unchanged.ends_on is None
        linked = await actions.link_area(
            session, catalog, action.id, ids["round"], "helse", actor=CLI, now=NOW
        )
        twice = await actions.link_area(
            session, catalog, action.id, ids["round"], "helse", actor=CLI, now=NOW
        )
        assert linked.changed == (f"{ids['round']}:helse",) and twice.unchanged == linked.changed
        # A need group accepted as a tag: every need of the round with it is linked at once.
        for key in (need(ids["drammen"], "helse"), need(ids["bergen"], "helse")):
            await add_tag(session, catalog, key, "Rekruttering", actor="test", now=NOW)
        tagged = await actions.link_tag(
            session, catalog, action.id, ids["round"], "rekruttering", actor=CLI, now=NOW
        )
        assert len(tagged.changed) == 2 and tagged.organisations_told == 2
        untagged = await actions.unlink_tag(
            session, action.id, ids["round"], "REKRUTTERING", actor=CLI, now=NOW
        )
        assert len(untagged.changed) == 2
        removed = await actions.unlink_area(
            session, action.id, ids["round"], "helse", actor=CLI, now=NOW
        )
        assert removed.changed == (f"{ids['round']}:helse",)
    async with sessions() as session:
        detail = await actions.get_action(session, catalog, action.id)
        assert detail.areas == () and detail.needs == ()
        kinds = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        assert kinds == ["action.create", "action.edit", "action.link_area", "action.link_needs",
                         "action.unlink_needs", "action.unlink_area"]  # fmt: skip
        edit = await session.scalar(select(AuditEntry).where(AuditEntry.action == "action.edit"))
        assert edit is not None and edit.detail["fields"] == [
            "title",
            "responsible_unit",
            "starts_on",
        ]


async def test_segments_for_an_area_of_a_round_and_for_an_action(sessions) -> None:
    ids = await seed(sessions)
    catalog = SurveyCatalog()
    async with sessions() as session, session.begin():
        action, _ = await actions.create_action(
            session, catalog, title="Journal", needs=[need(ids["drammen"], "digitalisering")],
            areas=[(ids["round"], "okonomi")], actor=CLI, now=NOW,
        )  # fmt: skip
    helse = Segment.parse(f"område:{ids['round']}:helse")
    assert helse == Segment("area", f"{ids['round']}:helse")
    assert helse.describe() == f"medlemmer som valgte området helse i runde {ids['round']}"
    assert Segment.parse(f"tiltak:{action.id}").describe() == (
        f"medlemmer med behov som tiltak {action.id} svarer på"
    )
    async with sessions() as session:
        # Stavanger chose helse but did not send in; Kinn chose another area.
        assert await segment_organisations(session, helse) == sorted(
            [ids["org:3301"], ids["org:4601"]]
        )
        okonomi = Segment.parse(f"area:{ids['round']}:okonomi")
        assert await segment_organisations(session, okonomi) == [ids["org:4602"]]
        # The action reaches organisations through their needs, not its areas.
        by_action = await resolve_segment(session, Segment.parse(f"action:{action.id}"))
        assert {r.contact_name for r in by_action} == {"Kari", "Per"}
        with pytest.raises(SegmentError, match="har ikke området «fisk»"):
            await segment_organisations(session, Segment.parse(f"area:{ids['round']}:fisk"))
        with pytest.raises(SegmentError) as missing:
            await segment_organisations(session, Segment.parse("action:999"))
        assert missing.value.nb == "Fant ikke tiltak 999."
        choices = await segment_choices(session)
        assert (action.id, "Journal", "planned") in choices.actions
        assert (ids["round"], "helse", "Helse og omsorg") in choices.areas
    for wrong in ("area:3", "area:x:helse", "area:3:", "action:x", "action"):
        with pytest.raises(SegmentError):
            Segment.parse(wrong)


async def test_members_see_their_actions_with_criteria_and_the_wheel_shows_each_round(
    sessions,
) -> None:
    ids = await seed(sessions)
    catalog = SurveyCatalog()
    async with sessions() as session, session.begin():
        ours, _ = await actions.create_action(
            session, catalog, title="Rekruttering", status="in_progress",
            needs=[need(ids["drammen"], "helse")], actor=CLI, now=NOW,
        )  # fmt: skip
        area_only, _ = await actions.create_action(
            session, catalog, title="Økonomiutvalg", areas=[(ids["round"], "okonomi")],
            actor=CLI, now=NOW + timedelta(minutes=1),
        )  # fmt: skip
        session.add_all([
            ActionCriterion(action_id=ours.id, criterion=3, rating="met",
                            reasoning="Mange meldte det.", assessed_by="test"),
            ActionCriterion(action_id=ours.id, criterion=9, rating="not", reasoning="",
                            assessed_by="test"),
        ])  # fmt: skip
    async with sessions() as session:
        mine = await actions.actions_for_organisation(session, catalog, ids["org:3301"])
        assert [a.title for a in mine] == ["Rekruttering"]  # an area link names no one
        assert mine[0].needs == (NeedQuote("Vår 2027", "Helse og omsorg", LONG_NEED),)
        assert [c.criterion for c in mine[0].criteria] == [3, 9]
        assert await actions.actions_for_organisation(session, catalog, ids["org:4601"]) == []
        drammen = await session.get(Organisation, ids["org:3301"])
        assert drammen is not None
        rounds = await wheel_rounds(session, drammen, NOW)
    (held,) = rounds
    assert [(a.title, a.status) for a in held.actions] == [
        ("Rekruttering", "in_progress"),
        ("Økonomiutvalg", "planned"),
    ]
    text = wheel_message("Drammen", rounds, NOW, OSLO).text
    assert (
        "Dette gjør KS med innspillene:\n  – «Rekruttering» (i gang)\n  – «Økonomiutvalg» (planlagt)"
        in text
    )
    assert "/tiltak" in text


async def test_the_report_lists_the_rounds_actions(sessions, tmp_path: Path) -> None:
    ids = await seed(sessions)
    catalog = SurveyCatalog()
    async with sessions() as session, session.begin():
        await actions.create_action(
            session, catalog, title="Rekruttering", status="in_progress",
            needs=[need(ids["drammen"], "helse"), need(ids["bergen"], "helse")],
            areas=[(ids["round"], "helse")], actor=CLI, now=NOW,
        )  # fmt: skip
        await actions.create_action(session, catalog, title="Ikke knyttet", actor=CLI, now=NOW)
    async with sessions() as session:
        section = await actions.round_actions_section(session, catalog, ids["round"])
        assert [(a.title, a.areas, a.needs) for a in section.actions] == [
            ("Rekruttering", ("Helse og omsorg",), 2)
        ]
        files = await build_report(session, catalog, ids["round"], tmp_path, OSLO)
    document = json.loads(files.summary_json.read_text(encoding="utf-8"))
    assert document["actions"] == section.to_json()
    text = files.summary_text.read_text(encoding="utf-8")
    assert text.rstrip().endswith(section.text())
    assert LONG_NEED[:40] not in section.text()
