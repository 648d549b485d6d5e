"""Trends across rounds, pure: three rounds of one survey key (tests/trend_fixtures.py),
every figure worked out by hand, overall and per county, with the small-group rule.

Counties: Buskerud (33) 13 members, Vestland (46) 11, Møre og Romsdal (15) 3. Møre og
Romsdal never has 5 respondents, so its figures are hidden (primary); the country's
figure is shown, so hiding it alone would let anyone work it out by subtraction, and the
next smallest county goes with it (secondary) until the hidden ones together rest on at
least 5 organisations in total and in each cell ("chose it" / "did not").
"""

from __future__ import annotations

from typing import Any

import pytest

from reports.trends import Figures, Trends, compute_trends, hidden_counties
from tests.trend_fixtures import TITLES, round_facts

B, V, M = "33", "46", "15"
Row = tuple[float | None, float | None, float | None, float | None]  # country, B, V, M
_ = None  # hidden by the rule, or nothing to count

# (figure, round): (country, Buskerud, Vestland, Møre og Romsdal)
EXPECTED: dict[tuple[str, ...] | tuple[Any, ...], Row] = {
    # --- response rate: submitted of the audience. Møre og Romsdal has 3 members (hidden);
    # 3 alone could be worked out from 27 - 13 - 11, so Vestland (11 < 13) is hidden too.
    ("rate", 1): (24 / 27, 12 / 13, _, _),
    ("rate", 2): (24 / 27, 13 / 13, _, _),
    ("rate", 3): (23 / 27, 12 / 13, _, _),
    # --- Digitalisering, share of respondents who chose it ------------------------------
    # R1: B 6 of 12 (3 + 3), V 10 of 10, M 2 of 2: country 18 of 24. M hidden (2 answers);
    # M alone (2) is too few to hide, so V (10 < 12) too: M+V = 12 chose, 0 did not.
    ("omrader", "digitalisering", "share", 1): (18 / 24, 6 / 12, _, _),
    # R2: B 13 of 13, V 0 of 8, M 0 of 3: 13 of 24. M hidden, then V: M+V = 0 chose, 11 not.
    ("omrader", "digitalisering", "share", 2): (13 / 24, 13 / 13, _, _),
    # R3: B 12 of 12, V 5 of 10, M 1 of 1: 18 of 23. M, then V: M+V = 6 chose, 5 not.
    ("omrader", "digitalisering", "share", 3): (18 / 23, 12 / 12, _, _),
    # --- Digitalisering, mean urgency among those who chose it -----------------------------
    # R1: B 4+4+4+5+5+5 = 27 (n 6), V 3 x 10 = 30 (n 10), M 5+5 = 10 (n 2): 67/18. M hidden
    # (2); 2 < 5, so the smallest shown, B (6), goes too.
    ("omrader", "digitalisering", "urgency", 1): (67 / 18, _, 30 / 10, _),
    # R2: B 5 x 5 + 4 x 8 = 57 (n 13); no one else chose it.
    ("omrader", "digitalisering", "urgency", 2): (57 / 13, 57 / 13, _, _),
    # R3: B 5 x 6 + 3 x 6 = 48 (n 12), V 4 x 5 = 20 (n 5), M 2 (n 1): 70/18. M, then V (5).
    ("omrader", "digitalisering", "urgency", 3): (70 / 18, 48 / 12, _, _),
    # --- Digitalisering, share who cannot solve it alone ---------------------------------
    # R1: B 3 cannot / 3 can, V 5 / 5, M 2 / 0: 10 of 18. B (3s) and M (2) hidden; together
    # 5 cannot but 3 can, so V goes too: every county hidden.
    ("omrader", "digitalisering", "cannot_alone", 1): (10 / 18, _, _, _),
    # R2: B 5 cannot / 8 can.
    ("omrader", "digitalisering", "cannot_alone", 2): (5 / 13, 5 / 13, _, _),
    # R3 ("who is needed": anything but alene is "cannot"): B 6 / 6, V 5 / 0, M 0 / 1:
    # 11 of 18. M hidden, then V (5): M+V 5 cannot, 1 can -> B too.
    ("omrader", "digitalisering", "cannot_alone", 3): (11 / 18, _, _, _),
    # --- Helse og omsorg -----------------------------------------------------------------
    # R1: B 6 of 12, V 5 of 10, M 0 of 2: 11 of 24. M, then V: M+V 5 chose, 7 not.
    ("omrader", "helse", "share", 1): (11 / 24, 6 / 12, _, _),
    # R2: B 8 of 13, V 8 of 8, M 3 of 3: 19 of 24. M, then V (8 < 13): M+V 11 chose, 0 not.
    ("omrader", "helse", "share", 2): (19 / 24, 8 / 13, _, _),
    # R3: B 6 of 12, V 5 of 10, M 0 of 1: 11 of 23. M, then V: M+V 5 chose, 6 not.
    ("omrader", "helse", "share", 3): (11 / 23, 6 / 12, _, _),
    # R1: B 3 x 6 = 18, V 4 x 5 = 20: 38/11; both counties rest on 5 or more.
    ("omrader", "helse", "urgency", 1): (38 / 11, 3.0, 4.0, _),
    # R2: B 2 x 8 = 16, V 5 x 8 = 40, M 1 x 3 = 3: 59/19. M hidden; B and V both rest on
    # 8, the tie goes by county number: B (33) is hidden too.
    ("omrader", "helse", "urgency", 2): (59 / 19, _, 5.0, _),
    # R3: B 4 x 6 = 24, V 5 x 5 = 25: 49/11.
    ("omrader", "helse", "urgency", 3): (49 / 11, 4.0, 5.0, _),
    # R1: everyone who chose it cannot solve it alone: B 6/0, V 5/0: 11 of 11 (a 0 is shown).
    ("omrader", "helse", "cannot_alone", 1): (11 / 11, 1.0, 1.0, _),
    # R2: B 0/8, V 8/0, M 0/3: 8 of 19. M, then B (8, ties V, lower number): M+B 0 / 11.
    ("omrader", "helse", "cannot_alone", 2): (8 / 19, _, 1.0, _),
    # R3: B 0/6 (alene), V 5/0: 5 of 11.
    ("omrader", "helse", "cannot_alone", 3): (5 / 11, 0.0, 1.0, _),
    # --- Økonomi og handlingsrom: only in version 2 (round 3) ----------------------------
    # B 0 of 12, V 10 of 10, M 0 of 1: 10 of 23. M, then V: M+V 10 chose, 1 not -> B too.
    ("omrader", "okonomi", "share", 3): (10 / 23, _, _, _),
    # V 2 x 5 + 3 x 5 = 25 of 10.
    ("omrader", "okonomi", "urgency", 3): (25 / 10, _, 25 / 10, _),
    ("omrader", "okonomi", "cannot_alone", 3): (10 / 10, _, 10 / 10, _),
    # --- Fornøyd med KS (mean) -----------------------------------------------------------
    # R1: B 4 x 6 + 2 x 6 = 36 (12), V 5 x 5 + 3 x 5 = 40 (10), M 1 + 1 = 2 (2): 78/24. M
    # hidden, then V (10 < 12).
    ("fornoyd", "mean", 1): (78 / 24, 36 / 12, _, _),
    # R2: B 4 x 5 + 3 x 8 = 44 (13), V 2 x 8 = 16 (8), M 5 x 3 = 15 (3): 75/24. M, then V.
    ("fornoyd", "mean", 2): (75 / 24, 44 / 13, _, _),
    # R3: B 5 x 6 + 4 x 6 = 54 (12), V 3 x 10 = 30 (10), M 1 (1): 85/23. M, then V.
    ("fornoyd", "mean", 3): (85 / 23, 54 / 12, _, _),
    # --- KS kan ta kontakt (yes/no: both options of a county shown or hidden together) --
    # R1: B 6 ja / 6 nei, V 5 / 5, M 0 / 2: 11 ja, 13 nei. M, then V: M+V 5 ja, 7 nei.
    ("kontakt", True, "share", 1): (11 / 24, 6 / 12, _, _),
    ("kontakt", False, "share", 1): (13 / 24, 6 / 12, _, _),
    # R2: B 13 / 0, V 0 / 8, M 0 / 3: 13 ja, 11 nei. M, then V: M+V 0 ja, 11 nei.
    ("kontakt", True, "share", 2): (13 / 24, 13 / 13, _, _),
    ("kontakt", False, "share", 2): (11 / 24, 0 / 13, _, _),
    # R3: B 12 / 0, V 0 / 10, M 1 / 0: 13 ja, 10 nei. M, then V: M+V 1 ja -> B too.
    ("kontakt", True, "share", 3): (13 / 23, _, _, _),
    ("kontakt", False, "share", 3): (10 / 23, _, _, _),
}

# Round 3 against round 2, where both figures are shown: shares in percentage points,
# means in points.
CHANGES: dict[tuple[Any, ...], Row] = {
    ("rate",): ((23 / 27 - 24 / 27) * 100, (12 / 13 - 13 / 13) * 100, _, _),
    ("omrader", "digitalisering", "share"): ((18 / 23 - 13 / 24) * 100, 0.0, _, _),
    ("omrader", "digitalisering", "urgency"): (70 / 18 - 57 / 13, 48 / 12 - 57 / 13, _, _),
    ("omrader", "digitalisering", "cannot_alone"): ((11 / 18 - 5 / 13) * 100, _, _, _),
    ("omrader", "helse", "share"): ((11 / 23 - 19 / 24) * 100, (6 / 12 - 8 / 13) * 100, _, _),
    ("omrader", "helse", "urgency"): (49 / 11 - 59 / 19, _, 0.0, _),
    ("omrader", "helse", "cannot_alone"): ((5 / 11 - 8 / 19) * 100, _, 0.0, _),
    ("fornoyd", "mean"): (85 / 23 - 75 / 24, 54 / 12 - 44 / 13, _, _),
    ("kontakt", True, "share"): ((13 / 23 - 13 / 24) * 100, _, _, _),
    ("kontakt", False, "share"): ((10 / 23 - 11 / 24) * 100, _, _, _),
}


def _row(figures: Figures) -> Row:
    return (figures.overall, figures.county(B), figures.county(V), figures.county(M))


def flatten(trends: Trends) -> tuple[dict[tuple[Any, ...], Row], dict[tuple[Any, ...], Row]]:
    """Every figure and every change the trends hold, keyed like ``EXPECTED``."""
    number = {r.id: index for index, r in enumerate(trends.rounds, start=1)}
    figures: dict[tuple[Any, ...], Row] = {
        ("rate", number[r.id]): _row(r.response_rate) for r in trends.rounds
    }
    changes: dict[tuple[Any, ...], Row] = {}
    if trends.response_rate_change is not None:
        changes[("rate",)] = _row(trends.response_rate_change)
    for question in trends.questions:
        for shown in question.rounds:
            n = number[shown.round_id]
            if shown.mean is not None:
                figures[(question.id, "mean", n)] = _row(shown.mean)
            for option in shown.options:
                for measure in ("share", "urgency", "cannot_alone"):
                    value = getattr(option, measure)
                    if value is not None:
                        figures[(question.id, option.value, measure, n)] = _row(value)
        if question.change is not None:
            if question.change.mean is not None:
                changes[(question.id, "mean")] = _row(question.change.mean)
            for change in question.change.options:
                for measure in ("share", "urgency", "cannot_alone"):
                    value = getattr(change, measure)
                    if value is not None:
                        changes[(question.id, change.value, measure)] = _row(value)
    return figures, changes


def assert_rows(found: dict[tuple[Any, ...], Row], expected: dict[tuple[Any, ...], Row]) -> None:
    assert set(found) == set(expected)  # every figure is checked, and no other is there
    for key, row in expected.items():
        for place, (got, want) in enumerate(zip(found[key], row, strict=True)):
            where = ("country", "Buskerud", "Vestland", "Møre og Romsdal")[place]
            if want is None:
                assert got is None, (key, where, got)
            else:
                assert got == pytest.approx(want, abs=1e-9), (key, where, got, want)


def test_three_rounds_every_figure_by_hand() -> None:
    trends = compute_trends(round_facts())
    assert trends is not None
    assert [r.title for r in trends.rounds] == TITLES
    assert [(r.audience, r.submitted) for r in trends.rounds] == [(27, 24), (27, 24), (27, 23)]
    assert [c.code for c in trends.counties] == [M, B, V]  # by county number
    assert trends.round_id == 3 and trends.date_basis == "closes_at"
    assert [q.id for q in trends.questions] == ["omrader", "fornoyd", "kontakt"]
    assert [q.kind for q in trends.questions] == ["areas", "scale", "choice"]
    figures, changes = flatten(trends)
    assert_rows(figures, EXPECTED)
    assert_rows(changes, CHANGES)
    areas = trends.question("omrader")
    assert areas is not None and areas.change is not None
    assert (areas.change.from_round, areas.change.to_round) == (2, 3)
    # Økonomi was not asked before round 3: no change for it
    assert areas.change.option("okonomi") is None


def test_the_biggest_rises_and_falls_between_the_last_two_rounds() -> None:
    trends = compute_trends(round_facts())
    assert trends is not None
    rises = {m.measure: m for m in trends.rises}
    falls = {m.measure: m for m in trends.falls}
    # shares: Digitalisering 13/24 -> 18/23 (+24.1 pp), Helse 19/24 -> 11/23 (-31.3 pp)
    assert (rises["share"].value, falls["share"].value) == ("digitalisering", "helse")
    assert rises["share"].change == pytest.approx((18 / 23 - 13 / 24) * 100)
    assert (rises["share"].previous, rises["share"].latest) == pytest.approx((13 / 24, 18 / 23))
    assert falls["share"].change == pytest.approx((11 / 23 - 19 / 24) * 100)
    # urgency: Helse 59/19 -> 49/11 (+1.35), Digitalisering 57/13 -> 70/18 (-0.50)
    assert (rises["urgency"].value, falls["urgency"].value) == ("helse", "digitalisering")
    assert rises["urgency"].change == pytest.approx(49 / 11 - 59 / 19)
    assert falls["urgency"].change == pytest.approx(70 / 18 - 57 / 13)
    assert {m.previous_title for m in trends.rises + trends.falls} == {"Runde 2026-2"}


def test_the_order_of_the_input_does_not_matter_and_one_round_gives_none() -> None:
    facts = round_facts()
    assert compute_trends(list(reversed(facts))) == compute_trends(facts)
    assert compute_trends(facts[:1]) is None


def test_only_two_rounds_compare_the_second_with_the_first() -> None:
    trends = compute_trends(round_facts()[:2])
    assert trends is not None
    areas = trends.question("omrader")
    assert areas is not None and areas.change is not None
    change = areas.change.option("digitalisering")
    assert change is not None
    # 18/24 -> 13/24: -5/24 = -20.8 pp; Buskerud 6/12 -> 13/13: +50 pp
    assert change.share.overall == pytest.approx(-5 / 24 * 100)
    assert change.share.county(B) == pytest.approx(50.0)


def test_the_json_has_every_round_with_id_date_and_null_for_hidden() -> None:
    trends = compute_trends(round_facts())
    assert trends is not None
    document = trends.to_json()
    assert [r["id"] for r in document["rounds"]] == [1, 2, 3]
    assert document["rounds"][0]["date"] == "2026-01-30T22:59:00+00:00"
    areas = document["questions"][0]
    first = areas["rounds"][0]["options"][0]
    assert first["value"] == "digitalisering"
    assert first["share"] == {"overall": 0.75, "counties": {"15": None, "33": 0.5, "46": None}}
    assert areas["change"]["from_round"] == 2


def test_secondary_suppression_across_counties_on_constructed_rows() -> None:
    # A county of 2 alone would be the country minus the rest: the next smallest goes too
    assert hidden_counties(
        {"A": {"y": 1, "n": 1}, "B": {"y": 5, "n": 5}, "C": {"y": 6, "n": 6}}
    ) == {
        "A",
        "B",
    }
    # ... and more, while the hidden ones hold 1-4 in any one cell
    assert hidden_counties(
        {"A": {"y": 1, "n": 1}, "B": {"y": 5, "n": 0}, "C": {"y": 6, "n": 6}}
    ) == {
        "A",
        "B",
        "C",
    }
    # nothing small, nothing hidden; an empty county is not hidden (it has no figure)
    assert hidden_counties({"A": {"y": 0, "n": 0}, "B": {"y": 5, "n": 0}}) == set()
