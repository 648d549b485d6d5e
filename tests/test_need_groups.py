"""Suggested groups of a round's needs accepted as tags (services/need_groups.py), and the
Grupper page in the workspace (bot/web/need_groups.py), on SQLite and PostgreSQL.

The responses are constructed (tests/views_support.py): seven organisations describe
needs in Helse og omsorg about two things (nurses, a shared patient record system) and
one about something else; one also writes about broadband under Digitalisering.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest

from services import audit
from services.need_groups import GroupError, accept_group, suggest_for_round, tag_counts
from services.need_tags import TagError, add_tag
from services.surveys import SurveyCatalog
from services.views_needs import NeedError, NeedKey
from tests.views_support import NOW, make_round, need_answers, respond
from tests.workspace_support import WorkspaceSite, csrf_in, workspace_site

HEALTH = "omrader.helse.behov"
NURSES = {
    "1101": "Vi får ikke tak i sykepleiere til sykehjemmet",
    "1103": "Mangel på sykepleiere i hjemmetjenesten",
    "1106": "Rekruttering av sykepleiere er vanskelig",
}
RECORDS = {
    "1108": "Felles journalsystem for kommunehelsetjenesten",
    "1111": "Vi trenger et felles journalsystem med sykehuset",
    "1112": "Journalsystemet vårt må byttes, trenger felles løsning",
}
OTHER = {"1114": "Legevakt døgnet rundt"}
ACTOR = audit.Actor("staff:1", "web", None)


@dataclass(frozen=True)
class World:
    round_id: int
    responses: dict[str, int]  # organisation code -> response id

    def key(self, code: str, question: str = HEALTH) -> NeedKey:
        return NeedKey(self.responses[code], question)


async def build_world(sessions: object) -> World:
    async with sessions() as session, session.begin():  # type: ignore[operator]
        codes = [*NURSES, *RECORDS, *OTHER]
        round_id = await make_round(session, "Vår 2027", codes)
        responses = {}
        for code, text in {**NURSES, **RECORDS, **OTHER}.items():
            areas = {"helse": (text, 4, False, ["ks"])}
            if code == "1101":
                areas["digitalisering"] = ("Bredbånd til alle grender", 3, False, ["staten"])
            responses[code] = await respond(session, round_id, code, need_answers(areas))
    return World(round_id, responses)


def member_sets(found: list, area: str) -> list[set[str]]:
    (groups,) = [a for a in found if a.area == area]
    return [{n.text for n in s.needs} for s in groups.suggestions]


# --- the service --------------------------------------------------------------------------------


async def test_the_untagged_needs_of_each_area_are_grouped_by_what_they_are_about(
    sessions,
) -> None:
    w = await build_world(sessions)
    catalog = SurveyCatalog()
    async with sessions() as session:
        found = await suggest_for_round(session, catalog, w.round_id)
    assert [a.area for a in found] == ["digitalisering", "helse"]  # the survey's order
    health = next(a for a in found if a.area == "helse")
    assert (health.needs, health.untagged) == (7, 7)
    assert sorted(sorted(group) for group in member_sets(found, "helse")) == sorted(
        [sorted(NURSES.values()), sorted(RECORDS.values())]
    )
    assert [n.text for n in health.singles] == [OTHER["1114"]]
    for suggestion in health.suggestions:
        assert suggestion.typical == suggestion.needs[:3]
        assert suggestion.name and len(suggestion.name) <= 60
    digital = next(a for a in found if a.area == "digitalisering")
    assert digital.suggestions == () and len(digital.singles) == 1  # one need: no group
    async with sessions() as session:
        only = await suggest_for_round(session, catalog, w.round_id, area="helse")
    assert [a.area for a in only] == ["helse"]


async def test_an_accepted_group_becomes_a_tag_on_the_needs_kept_audited_and_counted(
    sessions,
) -> None:
    w = await build_world(sessions)
    catalog = SurveyCatalog()
    kept = [w.key("1101"), w.key("1103")]  # 1106 is split off
    async with sessions() as session, session.begin():
        await add_tag(session, catalog, w.key("1108"), "Journal", actor="staff:1", now=NOW)
        accepted = await accept_group(
            session, catalog, w.round_id, "helse", "  Rekruttering av  sykepleiere ", kept,
            actor=ACTOR, now=NOW,
        )  # fmt: skip
    assert (accepted.label, accepted.added, accepted.already) == (
        "Rekruttering av sykepleiere", 2, 0,
    )  # fmt: skip
    async with sessions() as session:
        counts = {c.area: c for c in await tag_counts(session, catalog, w.round_id)}
        found = await suggest_for_round(session, catalog, w.round_id, area="helse")
        written = await audit.entries(session, audit.AuditQuery())
    health = counts["helse"]
    assert (health.needs, health.tagged, health.untagged) == (7, 3, 4)
    assert [(t.label, t.needs) for t in health.tags] == [  # most used first
        ("Rekruttering av sykepleiere", 2),
        ("Journal", 1),
    ]
    assert counts["digitalisering"].tags == ()
    # The tagged needs have left the suggestions; the split-off need is still there.
    (area,) = found
    texts = {n.text for s in area.suggestions for n in s.needs} | {n.text for n in area.singles}
    assert texts == {NURSES["1106"], RECORDS["1111"], RECORDS["1112"], OTHER["1114"]}
    tags = [e for e in written if e.action == "need.tag"]
    assert sorted(e.target for e in tags) == sorted(f"need:{k.token}" for k in kept)
    assert all(e.detail["group"] and e.detail["changed"] for e in tags)
    (group,) = [e for e in written if e.action == "need_group.accept"]
    assert group.target == f"round:{w.round_id}"
    assert group.detail == {
        "area": "helse", "label": "Rekruttering av sykepleiere", "needs": 2, "added": 2,
    }  # fmt: skip

    # Accepting again, with other capitals, reuses the label and adds only what is new.
    async with sessions() as session, session.begin():
        again = await accept_group(
            session, catalog, w.round_id, "helse", "rekruttering av sykepleiere",
            [*kept, w.key("1106")], actor=ACTOR, now=NOW,
        )  # fmt: skip
    assert (again.label, again.added, again.already) == ("Rekruttering av sykepleiere", 1, 2)


async def test_a_group_that_cannot_be_accepted_changes_nothing(sessions) -> None:
    w = await build_world(sessions)
    catalog = SurveyCatalog()
    other_area = w.key("1101", "omrader.digitalisering.behov")
    for label, keys, error in (
        ("Gruppe", [], GroupError),
        ("   ", [w.key("1101")], TagError),
        ("x" * 61, [w.key("1101")], TagError),
        ("Gruppe", [w.key("1101"), other_area], NeedError),
        ("Gruppe", [NeedKey(999_999, HEALTH)], NeedError),
    ):
        async with sessions() as session:
            with pytest.raises(error):
                async with session.begin():
                    await accept_group(
                        session, catalog, w.round_id, "helse", label, keys, actor=ACTOR, now=NOW
                    )
    async with sessions() as session:
        assert all(c.tags == () for c in await tag_counts(session, catalog, w.round_id))
        assert await audit.entries(session, audit.AuditQuery()) == []


# --- the workspace ------------------------------------------------------------------------------


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url) as built:
        yield built


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


async def test_staff_accept_a_suggested_group_with_one_need_split_off(site: WorkspaceSite) -> None:
    w = await build_world(site.sessions)
    staff = await site.signed_in("Siri", "siri@ks.no", "staff")
    summary = await staff.get(f"/resultater/{w.round_id}")
    assert f'href="/resultater/{w.round_id}/grupper"' in await summary.text()
    response = await staff.get(f"/resultater/{w.round_id}/grupper")
    assert response.status == 200
    page = await response.text()
    text = text_of(page)
    assert "Helse og omsorg" in text and "7 behov, 7 av dem uten merkelapp" in text
    for need in (*NURSES.values(), *RECORDS.values()):
        assert need in text
    assert "Godta som merkelapp" in page
    assert page.count('type="checkbox"') == 6 and page.count(" checked>") == 6
    assert "1 behov som ikke likner de andre" in text

    form = [
        ("csrf_token", csrf_in(page)),
        ("omrade", "helse"),
        ("merkelapp", "Rekruttering av sykepleiere"),
        ("behov", w.key("1101").token),
        ("behov", w.key("1103").token),
    ]
    accepted = await staff.post(f"/resultater/{w.round_id}/grupper", form)
    assert accepted.status == 303
    location = accepted.headers["Location"]
    assert location == (
        f"/resultater/{w.round_id}/grupper?godtatt={quote('Rekruttering av sykepleiere', safe='')}"
        "#omrade-helse"
    )
    after = text_of(await (await staff.get(location.split("#")[0])).text())
    assert "Merkelappen «Rekruttering av sykepleiere» er satt på behovene du valgte." in after
    assert "7 behov, 5 av dem uten merkelapp" in after
    assert "Rekruttering av sykepleiere 2 behov" in after

    tagged = await staff.get(f"/resultater/{w.round_id}/behov?merke=rekruttering+av+sykepleiere")
    listed = text_of(await tagged.text())
    assert NURSES["1101"] in listed and NURSES["1103"] in listed and NURSES["1106"] not in listed
    summary_text = text_of(await (await staff.get(f"/resultater/{w.round_id}")).text())
    assert "Grupper (merkelapper)" in summary_text
    assert "Helse og omsorg Rekruttering av sykepleiere 2 av 7" in summary_text
    async with site.sessions() as session:
        written = await audit.entries(session, audit.AuditQuery(action="need_group.accept"))
    (entry,) = written
    assert (entry.staff_name, entry.door) == ("Siri", "web")

    # A notice names only a tag that is there; nothing ticked or no name is refused.
    forged = await staff.get(f"/resultater/{w.round_id}/grupper?godtatt=Noe+annet")
    assert "Noe annet" not in await forged.text()
    token = csrf_in(page)
    nothing = await staff.post(
        f"/resultater/{w.round_id}/grupper",
        [("csrf_token", token), ("omrade", "helse"), ("merkelapp", "Tom")],
    )
    assert nothing.status == 422 and "Velg minst ett behov til gruppen." in await nothing.text()
    nameless = await staff.post(
        f"/resultater/{w.round_id}/grupper",
        [("csrf_token", token), ("omrade", "helse"), ("merkelapp", " "),
         ("behov", w.key("1106").token)],
    )  # fmt: skip
    assert nameless.status == 422
    wrong_area = await staff.post(
        f"/resultater/{w.round_id}/grupper",
        [("csrf_token", token), ("omrade", "okonomi"), ("merkelapp", "X"),
         ("behov", w.key("1106").token)],
    )  # fmt: skip
    assert wrong_area.status == 404
    garbage = await staff.post(
        f"/resultater/{w.round_id}/grupper",
        [("csrf_token", token), ("omrade", "helse"), ("merkelapp", "X"), ("behov", "abc")],
    )
    assert garbage.status == 404
    assert (await staff.get("/resultater/999999/grupper")).status == 404


async def test_viewers_may_not_see_or_accept_groups(site: WorkspaceSite) -> None:
    w = await build_world(site.sessions)
    viewer = await site.signed_in("Vera", "vera@ks.no", "viewer")
    assert (await viewer.get(f"/resultater/{w.round_id}/grupper")).status == 403
    summary = await (await viewer.get(f"/resultater/{w.round_id}")).text()
    assert f"/resultater/{w.round_id}/grupper" not in summary
    token = csrf_in(summary)
    refused = await viewer.post(
        f"/resultater/{w.round_id}/grupper",
        [("csrf_token", token), ("omrade", "helse"), ("merkelapp", "X"),
         ("behov", w.key("1101").token)],
    )  # fmt: skip
    assert refused.status == 403
    staff = await site.signed_in("Siri", "siri@ks.no", "staff")
    forged = await staff.post(
        f"/resultater/{w.round_id}/grupper",
        [("csrf_token", "forged"), ("omrade", "helse"), ("merkelapp", "X"),
         ("behov", w.key("1101").token)],
    )  # fmt: skip
    assert forged.status == 403
    async with site.sessions() as session:
        assert await audit.entries(session, audit.AuditQuery(action="need.tag")) == []
