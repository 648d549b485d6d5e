"""Trends where people read them: the sentences in the summary text, new needs in the
needs browser and in summary.json, and "Utvikling over tid" on the workspace's results
page (SQLite and PostgreSQL for what reads the database)."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from reports.summary import RoundInfo, summarise
from reports.text import summary_text
from reports.trend_text import movement_sentence, trend_paragraphs, trend_sentences
from reports.trends import compute_trends
from services.summaries import build_report
from services.surveys import SurveyCatalog
from services.views_needs import NeedFilter, all_needs, browse_needs
from tests.trend_fixtures import BUSKERUD, MORE, VESTLAND, round_facts, seed_trend_rounds
from tests.workspace_support import WorkspaceSite, workspace_site

OSLO = ZoneInfo("Europe/Oslo")
PNG = b"\x89PNG\r\n\x1a\n"

# Round 3 against each organisation's previous response (round 2, or round 1 for the two
# in Vestland that did not answer round 2), area by area:
#   Buskerud 1-5: Digitalisering (had it) no, Helse (had not) new      5 no, 5 new
#   Buskerud 6: both had                                               2 no
#   Buskerud 7-12: Digitalisering (had it)                             6 no
#   Vestland 1-5: Helse (had it) no, Økonomi (not offered before) new  5 no, 5 new
#   Vestland 6-8: Digitalisering and Økonomi, round 2 only Helse       6 new
#   Vestland 9-10: round 1 had Digitalisering; Økonomi new             2 no, 2 new
#   Møre og Romsdal 1: Digitalisering, round 2 only Helse              1 new
NEW, NOT_NEW = 19, 20


# --- text -------------------------------------------------------------------------------


def test_the_summary_text_names_the_biggest_rise_and_fall_in_a_sentence_each() -> None:
    trends = compute_trends(round_facts())
    assert trends is not None
    assert trend_sentences(trends) == [
        "Størst økning: Digitalisering, valgt av 78 % mot 54 % i «Runde 2026-2» (+24 prosentpoeng).",
        "Størst nedgang: Helse og omsorg, valgt av 48 % mot 79 % i «Runde 2026-2» (−31 prosentpoeng).",
        "Størst økning i hvor mye det haster: Helse og omsorg, 4,5 i snitt mot 3,1 i «Runde 2026-2» (+1,4 poeng).",
        "Størst nedgang i hvor mye det haster: Digitalisering, 3,9 i snitt mot 4,4 i «Runde 2026-2» (−0,5 poeng).",
    ]  # fmt: skip
    facts = round_facts()[-1]
    summary = summarise(
        facts.survey, RoundInfo(3, facts.title, "closed", facts.closes_at), facts.responses,
        facts.audience,
    )  # fmt: skip
    text = summary_text(summary, OSLO, trends)
    (paragraph,) = trend_paragraphs(trends)
    assert paragraph.startswith("Utvikling siden «Runde 2026-2»:\n")
    assert "Svarandel: 85 % mot 89 % i «Runde 2026-2»." in paragraph
    assert paragraph in text
    assert text.endswith("Hele rapporten med figurer, tabeller og alle innspill er vedlagt.")
    assert "Utvikling siden" not in summary_text(summary, OSLO)  # no earlier rounds


def test_a_change_that_rounds_to_nothing_is_no_rise() -> None:
    trends = compute_trends(round_facts())
    assert trends is not None
    rise = trends.rises[0]
    # 54,4 % and 54,2 % are both printed 54 %: no "+0 prosentpoeng"
    assert movement_sentence(replace(rise, previous=0.542, latest=0.544, change=0.2)) is None
    # the change is that of the printed figures: 35 % (0.3549) to 48 % (0.4751) is +13
    sentence = movement_sentence(replace(rise, previous=0.3549, latest=0.4751, change=12.02))
    assert sentence == (
        "Størst økning: Digitalisering, valgt av 48 % mot 35 % i «Runde 2026-2» (+13 prosentpoeng)."
    )


def test_new_needs_in_the_pure_trends() -> None:
    trends = compute_trends(round_facts())
    assert trends is not None
    assert Counter(m.new_area for m in trends.new_needs) == {True: NEW, False: NOT_NEW}
    assert "new_needs" not in trends.to_json()  # it names every need's organisation


# --- the database ---------------------------------------------------------------------------


async def test_new_needs_are_marked_in_the_browser_and_in_summary_json(
    sessions, tmp_path: Path
) -> None:
    async with sessions() as session, session.begin():
        ids = await seed_trend_rounds(session)
    catalog = SurveyCatalog()
    async with sessions() as session:
        latest = await all_needs(session, catalog, ids[2])
        first = await all_needs(session, catalog, ids[0])
        everything = await all_needs(session, catalog)
        only_new = await browse_needs(session, catalog, NeedFilter(round_id=ids[2], new_area=True))
        files = await build_report(session, catalog, ids[2], tmp_path / "r3", OSLO)
    marks = {(n.org_code, n.area): n.new_area for n in latest}
    assert Counter(marks.values()) == {True: NEW, False: NOT_NEW}
    assert marks[(BUSKERUD[0], "helse")] is True and marks[(BUSKERUD[0], "digitalisering")] is False
    assert marks[(VESTLAND[5], "digitalisering")] is True  # round 2: Helse only
    assert marks[(VESTLAND[8], "digitalisering")] is False  # no round 2; round 1 had it
    assert marks[(MORE[0], "digitalisering")] is True
    assert {n.new_area for n in first} == {None}  # no earlier response to compare with
    assert {n.key for n in everything if n.round_id == ids[2]} == {n.key for n in latest}
    assert only_new.total == NEW and {n.new_area for n in only_new.needs} == {True}
    document = json.loads(files.summary_json.read_text(encoding="utf-8"))
    needs = [
        need for group in document["area_groups"] for area in group["areas"]
        for need in area["needs"]
    ]  # fmt: skip
    assert Counter(need["new_area"] for need in needs) == {True: NEW, False: NOT_NEW}
    by_area = Counter((need["area"], need["new_area"]) for need in needs)
    assert by_area[("okonomi", True)] == 10 and by_area[("helse", True)] == 5
    async with sessions() as session:
        first_files = await build_report(session, catalog, ids[0], tmp_path / "r1", OSLO)
    first_doc = json.loads(first_files.summary_json.read_text(encoding="utf-8"))
    assert {
        need["new_area"]
        for g in first_doc["area_groups"]
        for a in g["areas"]
        for need in a["needs"]
    } == {None}


# --- the workspace --------------------------------------------------------------------------


@pytest.fixture
async def site(migrated_url: str) -> AsyncIterator[WorkspaceSite]:
    async with workspace_site(migrated_url) as built:
        yield built


def words(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(page)))


async def test_the_results_page_shows_development_over_time(site: WorkspaceSite) -> None:
    async with site.sessions.begin() as session:
        ids = await seed_trend_rounds(session)
    viewer = await site.signed_in("Vera", "vera@ks.no", "viewer")
    response = await viewer.get(f"/resultater/{ids[2]}")
    assert response.status == 200
    page = await response.text()
    text = words(page)
    assert "Utvikling over tid" in text
    assert "Størst økning: Digitalisering, valgt av 78 % mot 54 %" in text
    # a table per area question, the rounds as columns, the change last
    assert "Viktigste områder: andel som valgte området" in text
    assert "Runde 2026-1 frist 30. januar 2026 Runde 2026-2" in text
    assert "Digitalisering 75 % 54 % 78 % +24" in text
    assert "Helse og omsorg 46 % 79 % 48 % −31" in text
    assert "Økonomi og handlingsrom – – 43 % –" in text  # not asked before round 3
    assert "Digitalisering 3,7 4,4 3,9 −0,5" in text  # urgency
    assert "Har svart 89 % 89 % 85 % −4" in text
    # Per fylke: the same figures county by county (tests/test_trends.py works them out);
    # Vestland is hidden by secondary suppression, Møre og Romsdal by the primary rule.
    assert "Svarandel per fylke" in text and "Buskerud 92 % 100 % 92 % −8" in text
    assert "Viktigste områder, Digitalisering: andel som valgte området per fylke" in text
    assert "Viktigste områder, Helse og omsorg: hvor mye det haster (snitt 1–5) per fylke" in text
    assert "Buskerud 50 % 100 % 100 % 0" in text
    assert "Møre og Romsdal – – – –" in text
    charts = re.findall(r'<img src="(/resultater/\d+/utvikling/[^"]+)" alt="([^"]+)"', page)
    assert [src.split("?")[0].rsplit("/", 1)[1] for src, _ in charts] == [
        "utvikling-omrader.png", "utvikling-omrader-haster.png",
    ]  # fmt: skip
    assert "Digitalisering: 75 % i Runde 2026-1, 54 % i Runde 2026-2, 78 % i Runde 2026-3" in (
        html.unescape(charts[0][1])
    )
    image = await viewer.get(html.unescape(charts[0][0]))
    assert image.status == 200 and (await image.read()).startswith(PNG)
    assert (await viewer.get(f"/resultater/{ids[2]}/utvikling/finnes-ikke.png")).status == 404
    first = await viewer.get(f"/resultater/{ids[0]}")
    assert "Utvikling over tid" not in await first.text()
    assert (await viewer.get(f"/resultater/{ids[0]}/utvikling/utvikling-omrader.png")).status == 404
    # the needs browser marks new areas and filters on them
    needs = await viewer.get(f"/resultater/{ids[2]}/behov?nytt=ja")
    needs_text = words(await needs.text())
    assert f"Viser 1–{NEW} av {NEW} behov" in needs_text
    assert "Filter: Bare nye områder for organisasjonen." in needs_text
    assert needs_text.count(" Nytt ") >= NEW
