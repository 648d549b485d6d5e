"""Trends from the database on SQLite and PostgreSQL: ``report build`` writes them into
summary.json, the text and the change charts, only for a survey key used before, from
the earlier open or closed rounds of that key alone."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from reports.trends import compute_trends
from services.summaries import build_report, draft_summary
from services.surveys import SurveyCatalog
from services.trend_data import build_trends, rounds_of_key
from storage.orm import Round
from tests.trend_fixtures import AUDIENCE, CLOSES, OPENS, TITLES, round_facts, seed_trend_rounds
from tests.views_support import make_round, respond

OSLO = ZoneInfo("Europe/Oslo")


async def test_report_build_writes_the_trends_into_summary_json(sessions, tmp_path: Path) -> None:
    async with sessions() as session, session.begin():
        ids = await seed_trend_rounds(session)
    async with sessions() as session:
        files = await build_report(session, SurveyCatalog(), ids[2], tmp_path / "out", OSLO)
    document = json.loads(files.summary_json.read_text(encoding="utf-8"))
    trends = document["trends"]
    assert [r["id"] for r in trends["rounds"]] == ids
    assert [r["title"] for r in trends["rounds"]] == TITLES
    assert trends["date_basis"] == "closes_at"
    assert [c["code"] for c in trends["counties"]] == ["15", "33", "46"]
    # the database gives exactly what the pure computation gives on the same facts
    expected = compute_trends(round_facts(ids))
    assert expected is not None
    assert trends["questions"] == expected.to_json()["questions"]
    assert trends["rounds"] == expected.to_json()["rounds"]
    areas = trends["questions"][0]
    digitalisering = areas["rounds"][0]["options"][0]
    # 18 of 24 chose it in round 1; Buskerud 6 of 12; Vestland and Møre og Romsdal hidden
    assert digitalisering["share"] == {
        "overall": 0.75, "counties": {"15": None, "33": 0.5, "46": None}
    }  # fmt: skip
    text = files.summary_text.read_text(encoding="utf-8")
    assert (
        "Størst økning: Digitalisering, valgt av 78 % mot 54 % i «Runde 2026-2» (+24 prosentpoeng)."
        in text
    )
    assert (
        "Størst nedgang: Helse og omsorg, valgt av 48 % mot 79 % i «Runde 2026-2» (−31 prosentpoeng)."
        in text
    )
    keys = [chart.key for chart in files.charts]
    assert keys[-2:] == ["utvikling-omrader", "utvikling-omrader-haster"]
    assert all(chart.path.exists() for chart in files.charts)


async def test_a_first_round_of_a_key_has_no_trends(sessions, tmp_path: Path) -> None:
    async with sessions() as session, session.begin():
        ids = await seed_trend_rounds(session)
    async with sessions() as session:
        files = await build_report(session, SurveyCatalog(), ids[0], tmp_path / "first", OSLO)
        assert await build_trends(session, SurveyCatalog(), ids[0]) is None
    document = json.loads(files.summary_json.read_text(encoding="utf-8"))
    assert "trends" not in document
    assert "Utvikling siden" not in files.summary_text.read_text(encoding="utf-8")
    assert not any(chart.key.startswith("utvikling") for chart in files.charts)


async def test_only_earlier_open_or_closed_rounds_of_the_same_key_count(sessions) -> None:
    async with sessions() as session, session.begin():
        ids = await seed_trend_rounds(session, statuses_of=("closed", "open", "closed"))
        # another survey key in between, and a cancelled round of the same key: never counted
        other = await make_round(
            session, "Annen undersøkelse", AUDIENCE[:6], status="closed",
            opens_at=OPENS[1] + timedelta(days=1), closes_at=OPENS[1] + timedelta(days=20),
        )  # fmt: skip
        for code in AUDIENCE[:6]:
            await respond(session, other, code, {"omrader": ["digitalisering"]})
        first = await session.get(Round, ids[0])
        assert first is not None
        session.add(
            Round(
                survey_version_id=first.survey_version_id,
                title="Avlyst",
                status="cancelled",
                audience={"kind": "all"},
                opens_at=OPENS[1] + timedelta(days=2),
                closes_at=OPENS[1] + timedelta(days=9),
            )  # fmt: skip
        )
    async with sessions() as session:
        assert [r.id for r in await rounds_of_key(session, ids[2])] == ids
        # round 2's trends look back, never forward to round 3
        assert [r.id for r in await rounds_of_key(session, ids[1])] == ids[:2]
        trends = await build_trends(session, SurveyCatalog(), ids[1])
    assert trends is not None and [r.id for r in trends.rounds] == ids[:2]


async def test_the_members_summary_draft_names_the_rise_and_the_fall(sessions) -> None:
    async with sessions() as session, session.begin():
        ids = await seed_trend_rounds(session)
    async with sessions() as session, session.begin():
        draft = await draft_summary(
            session, ids[2], OSLO, actor="test", now=CLOSES[2] + timedelta(days=3)
        )
    assert draft.kind == "summary"
    assert "Utvikling siden «Runde 2026-2»:" in draft.text
    assert "Størst økning: Digitalisering, valgt av 78 % mot 54 %" in draft.text
    assert "Størst nedgang: Helse og omsorg, valgt av 48 % mot 79 %" in draft.text
