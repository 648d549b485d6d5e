"""Trend figures never show a county count the round's own summary hides.

A round's summary shows each county's number of answers beside its breakdown; a trend's
county share for the same round, with that number, would give back a count the summary
hid. Random constructed rounds (seeded, so the test is the same every run) check that
every county figure the summary hides is hidden in the trends too.
"""

from __future__ import annotations

import random

from reports.summary import ResponseFacts, RoundInfo, summarise
from reports.trends import TrendRoundFacts, compute_trends
from tests.trend_fixtures import CLOSES, OPENS, Org, answers, org_facts, survey_of

COUNTIES = {"33": 13, "46": 11, "15": 6, "03": 7}
AREAS = ("digitalisering", "helse")


def _audience() -> list[str]:
    return [f"{county}{n:02d}" for county, size in COUNTIES.items() for n in range(1, size + 1)]


def _round(rng: random.Random, index: int) -> TrendRoundFacts:
    codes = _audience()
    responses = []
    for code in codes:
        if rng.random() < 0.25:
            continue  # did not answer
        chosen = [area for area in AREAS if rng.random() < 0.5] or [rng.choice(AREAS)]
        org = Org({area: (rng.randint(1, 5), rng.random() < 0.5) for area in chosen},
                  rng.randint(1, 5), rng.random() < 0.5)  # fmt: skip
        responses.append(ResponseFacts(org_facts(code), "submitted", answers(org, 1)))
    return TrendRoundFacts(
        id=index + 1, title=f"Runde {index + 1}", opens_at=OPENS[index],
        closes_at=CLOSES[index], survey=survey_of(0), responses=responses,
        audience=[org_facts(code) for code in codes],
    )  # fmt: skip


def test_no_trend_county_share_shows_what_the_round_summary_hides() -> None:
    rng = random.Random(14)
    checked = hidden_in_summary = 0
    for _ in range(60):
        rounds = [_round(rng, 0), _round(rng, 1)]
        trends = compute_trends(rounds)
        assert trends is not None
        areas = trends.question("omrader")
        assert areas is not None
        for facts in rounds:
            info = RoundInfo(facts.id, facts.title, "closed", facts.closes_at)
            summary = summarise(facts.survey, info, facts.responses, facts.audience)
            breakdown = summary.breakdown("omrader")
            assert breakdown is not None
            figures = areas.round(facts.id)
            assert figures is not None
            for column, area in enumerate(AREAS):
                option = figures.option(area)
                assert option is not None
                for row in breakdown.rows:
                    checked += 1
                    if row.suppressed or row.cells[column] is None:
                        hidden_in_summary += 1
                        assert option.share.county(row.county_code) is None, (
                            facts.id,
                            area,
                            row.county_code,
                        )
    assert checked > 500 and hidden_in_summary > 20  # the data exercised the rule
