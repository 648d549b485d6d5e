"""The round summary and its files, checked against figures computed by hand.

The synthetic round (``tests/report_fixtures.py``) has a response from every one of the
371 members. The expected figures are worked out here with plain Python from the same
generated answers, applying the survey's rules by hand (follow-ups only for chosen areas,
"who" only when "alone" is no, the reason only for satisfaction 1–2) and the small-group
rule by hand (``tests/suppression_check.py``), so they do not reuse the code under test. Storage tests run on SQLite and PostgreSQL (``sessions``).
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections import Counter
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from dialogs.model import AnswerValue, Condition, Option, Question, Survey
from reports.charts import render_charts
from reports.disclosure import rule_text
from reports.format import nb_count, nb_decimal, nb_percent
from reports.pdf import write_pdf
from reports.summary import (
    OrgFacts,
    ResponseFacts,
    RoundInfo,
    RoundSummary,
    summarise,
)
from reports.text import (
    MAX_TEXT_CHARS,
    attached_note,
    more_in_report,
    own_answers_text,
    summary_text,
)
from reports.workbook import write_workbook
from services.report_data import build_summary
from services.summaries import build_report
from services.surveys import SurveyCatalog
from tests.report_fixtures import (
    CLOSES_AT,
    ROUND_TITLE,
    STALE,
    generate_answers,
    member_facts,
    pdf_pages,
    seed_report_round,
    shipped_survey,
)
from tests.suppression_check import county_table_leaks, hand_binary, hand_hidden, small

OSLO = ZoneInfo("Europe/Oslo")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
AREA_PARTS = ("behov", "haster", "alene")


# --- the hand-made reference --------------------------------------------------------------


def by_hand(answers: dict[str, AnswerValue]) -> dict[str, AnswerValue]:
    """The answers that count, by the survey's rules written out by hand."""
    out: dict[str, AnswerValue] = {"omrader": answers["omrader"]}
    for area in answers["omrader"]:  # type: ignore[union-attr]
        for part in AREA_PARTS:
            out[f"omrader.{area}.{part}"] = answers[f"omrader.{area}.{part}"]
        if answers[f"omrader.{area}.alene"] is False:
            out[f"omrader.{area}.hvem"] = answers[f"omrader.{area}.hvem"]
    for key in ("fra_ks", "fornoyd", "kontakt", "navngi"):
        out[key] = answers[key]
    if answers["fornoyd"] <= 2 and "fornoyd_hvorfor" in answers:  # type: ignore[operator]
        out["fornoyd_hvorfor"] = answers["fornoyd_hvorfor"]
    if "annet" in answers:
        out["annet"] = answers["annet"]
    return out


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def sample_sd(values: list[float]) -> float:
    m = mean(values)
    return math.sqrt(sum((x - m) ** 2 for x in values) / (len(values) - 1))


def area_values() -> list[str]:
    question = shipped_survey().question("omrader")
    assert question is not None
    return [option.value for option in question.options]


@cache
def synthetic() -> tuple[tuple[OrgFacts, ...], dict[str, dict[str, AnswerValue]], RoundSummary]:
    """The 371-member round as pure facts, summarised without a database."""
    orgs = tuple(member_facts())
    answers = generate_answers([org.code for org in orgs])
    responses = [ResponseFacts(org, "submitted", answers[org.code]) for org in orgs]
    info = RoundInfo(1, ROUND_TITLE, "closed", CLOSES_AT)
    return orgs, answers, summarise(shipped_survey(), info, responses, list(orgs))


def check_against_hand_figures(
    summary: RoundSummary, orgs: tuple[OrgFacts, ...], answers: dict[str, dict[str, AnswerValue]]
) -> None:
    """Every published figure of the shipped survey, compared with a hand computation."""
    counted = {org.code: by_hand(answers[org.code]) for org in orgs if org.code in answers}
    org_by_code = {org.code: org for org in orgs}
    n = len(counted)

    # participation, overall and per county
    assert summary.participation.audience == len(orgs) == 371
    assert summary.participation.submitted == n
    assert summary.participation.rate == pytest.approx(n / 371)
    per_county = Counter(org.county_code for org in orgs)
    submitted_per_county = Counter(org_by_code[code].county_code for code in counted)
    assert {c.code: (c.audience, c.submitted) for c in summary.participation.counties} == {
        code: (total, submitted_per_county[code]) for code, total in per_county.items()
    }
    assert [c.code for c in summary.participation.counties] == sorted(per_county)

    # questions in survey order, without free text and area follow-ups
    assert [q.id for q in summary.questions] == [
        "omrader",
        "fra_ks",
        "fornoyd",
        "kontakt",
        "navngi",
    ]

    # multi: counts and shares of those asked (shares sum > 100 %)
    for question_id in ("omrader", "fra_ks"):
        question = summary.question(question_id)
        assert question is not None and question.asked == n and question.answered == n
        expected = Counter(v for a in counted.values() for v in a[question_id])  # type: ignore[union-attr]
        assert {o.value: o.count for o in question.options} == {
            o.value: None if hand_binary(expected[o.value], n) else expected[o.value]
            for o in question.options
        }
        for option in question.options:
            if option.count is not None:
                assert option.share == pytest.approx(expected[option.value] / n)
        assert sum(o.share or 0 for o in question.options) > 1

    # yes/no
    for question_id in ("kontakt", "navngi"):
        question = summary.question(question_id)
        assert question is not None
        yes = sum(1 for a in counted.values() if a[question_id] is True)
        hidden = hand_hidden({True: yes, False: n - yes})
        assert [(o.value, o.label, o.count) for o in question.options] == [
            (True, "Ja", None if True in hidden else yes),
            (False, "Nei", None if False in hidden else n - yes),
        ]

    # scale: n, mean, sample standard deviation, median, distribution
    fornoyd = summary.question("fornoyd")
    assert fornoyd is not None and fornoyd.stats is not None
    values = sorted(float(a["fornoyd"]) for a in counted.values())  # type: ignore[arg-type]
    assert fornoyd.stats.n == n
    assert fornoyd.stats.mean == pytest.approx(sum(values) / n)
    assert fornoyd.stats.std_dev == pytest.approx(sample_sd(values))
    middle = len(values) // 2
    median = values[middle] if n % 2 else (values[middle - 1] + values[middle]) / 2
    assert fornoyd.stats.median == median
    points = {point: values.count(float(point)) for point in range(1, 6)}
    hidden_points = hand_hidden(points)
    assert [(p.value, p.count) for p in fornoyd.stats.distribution] == [
        (point, None if point in hidden_points else count) for point, count in points.items()
    ]
    lowest, highest = values[0], values[-1]  # shown only when five or more gave them
    assert fornoyd.stats.minimum == (lowest if values.count(lowest) >= 5 else None)
    assert fornoyd.stats.maximum == (highest if values.count(highest) >= 5 else None)
    assert fornoyd.stats.distribution[0].label == "1 – lite fornøyd"

    # needs by area
    group = summary.area_group("omrader")
    assert group is not None and group.asked == n
    order = area_values()
    expected_areas = {}
    for area in order:
        chose = [code for code, a in counted.items() if area in a["omrader"]]  # type: ignore[operator]
        urgencies = [float(counted[c][f"omrader.{area}.haster"]) for c in chose]  # type: ignore[arg-type]
        cannot = [c for c in chose if counted[c][f"omrader.{area}.alene"] is False]
        helpers = Counter(h for c in cannot for h in counted[c][f"omrader.{area}.hvem"])  # type: ignore[union-attr]
        needs = sorted(
            (
                -float(counted[c][f"omrader.{area}.haster"]),  # type: ignore[arg-type]
                str(counted[c][f"omrader.{area}.behov"]).casefold(),
                c,
            )
            for c in chose
        )
        expected_areas[area] = {
            "chosen": len(chose),
            "share": len(chose) / n,
            "urgency": mean(urgencies) if urgencies else None,
            "sd": sample_sd(urgencies) if len(urgencies) > 1 else None,
            "cooperation": len(cannot),
            "cooperation_share": len(cannot) / len(chose) if chose else None,
            "helpers": dict(helpers),
            "needs": [
                (
                    -urgency,
                    counted[code][f"omrader.{area}.behov"],
                    org_by_code[code].name if counted[code]["navngi"] is True else None,
                    org_by_code[code].county_name if counted[code]["navngi"] is True else None,
                )
                for urgency, _, code in needs
            ],
        }
    for expected in expected_areas.values():  # the small-group rule, by hand
        expected["hidden"] = hand_binary(expected["chosen"], n)
        expected["cooperation_hidden"] = hand_binary(expected["cooperation"], expected["chosen"])
    assert [a.value for a in group.areas] == sorted(
        order,
        key=lambda v: (
            expected_areas[v]["hidden"],
            -expected_areas[v]["chosen"] if not expected_areas[v]["hidden"] else 0,
            order.index(v),
        ),
    )
    for area in group.areas:
        expected = expected_areas[area.value]
        assert (
            area.needs
            and [(x.urgency, x.text, x.org_name, x.county_name) for x in area.needs]
            == expected["needs"]
        )  # the needs themselves follow the consent rules only
        if expected["hidden"]:
            assert (area.chosen, area.share, area.needs_cooperation, area.mean_urgency) == (
                None, None, None, None,
            )  # fmt: skip
            continue
        assert area.chosen == expected["chosen"]
        assert area.share == pytest.approx(expected["share"])
        assert area.mean_urgency == pytest.approx(expected["urgency"])
        assert area.urgency is not None and area.urgency.std_dev == pytest.approx(expected["sd"])
        if expected["cooperation_hidden"]:
            assert (area.needs_cooperation, area.cooperation_share) == (None, None)
            assert {o.count for o in area.help_from} == {None}
        else:
            assert area.needs_cooperation == expected["cooperation"]
            assert area.cooperation_share == pytest.approx(expected["cooperation_share"])
            helpers = expected["helpers"]
            assert {o.value: o.count for o in area.help_from if o.count} == {
                value: count
                for value, count in helpers.items()
                if not hand_binary(count, expected["cooperation"])
            }
        urgencies = [x.urgency for x in area.needs]
        assert urgencies == sorted(urgencies, reverse=True)  # most pressing first
        for need in area.needs:
            if need.can_solve_alone:
                assert need.help_from == ()

    # cooperation: by organisations that cannot solve it alone, then by share; hidden last
    def shown_cooperation(v: str) -> bool:
        return not (expected_areas[v]["hidden"] or expected_areas[v]["cooperation_hidden"])

    assert [r.value for r in group.cooperation] == sorted(
        order,
        key=lambda v: (
            not shown_cooperation(v),
            -expected_areas[v]["cooperation"] if shown_cooperation(v) else 0,
            -(expected_areas[v]["cooperation_share"] or 0) if shown_cooperation(v) else 0,
            order.index(v),
        ),
    )

    # other free text: anonymous unless named
    texts = {q.question_id: q for q in summary.free_texts}
    assert set(texts) == {"fornoyd_hvorfor", "annet"}
    for question_id, question in texts.items():
        expected_entries = sorted(
            (
                str(a[question_id]).casefold(),
                code,
                str(a[question_id]),
                org_by_code[code].name if a["navngi"] is True else None,
            )
            for code, a in counted.items()
            if a.get(question_id)
        )
        assert [(e.text, e.org_name) for e in question.entries] == [
            (text, name) for _, _, text, name in expected_entries
        ]

    # answers left behind by edits are not counted anywhere
    document = json.dumps(summary.to_json(), ensure_ascii=False)
    assert STALE not in document

    # per-county breakdowns: shown cells are the true counts and none is 1 to 4; counties
    # with 1 to 4 answers are hidden, with the next smallest while the hidden rest on < 5;
    # and nothing hidden can be worked out by subtracting shown figures from shown sums
    breakdown = summary.breakdown("fornoyd")
    assert breakdown is not None
    assert breakdown.columns == ("1 – lite fornøyd", "2", "3", "4", "5 – svært fornøyd")
    for question_id in ("omrader", "fra_ks", "fornoyd", "kontakt"):
        question, breakdown = summary.question(question_id), summary.breakdown(question_id)
        assert question is not None and breakdown is not None
        by_county: dict[str, list[AnswerValue]] = {row.county_code: [] for row in breakdown.rows}
        for code, a in counted.items():
            by_county[org_by_code[code].county_code].append(a[question_id])
        answered = {county: len(values) for county, values in by_county.items()}
        raw = {
            county: Counter(
                v for value in values for v in (value if isinstance(value, list) else [value])
            )
            for county, values in by_county.items()
        }
        assert {r.county_code for r in breakdown.rows if r.suppressed} == hand_hidden(answered) - {
            c for c, k in answered.items() if k == 0
        }
        for row in breakdown.rows:
            assert row.suppressed == (row.answered is None)
            assert not row.suppressed or set(row.cells) == {None}
            assert not small(answered[row.county_code]) or row.suppressed
        assert county_table_leaks(question, breakdown, raw, answered) == set()


# --- on both databases ----------------------------------------------------------------------


async def test_the_summary_matches_figures_computed_by_hand(sessions) -> None:
    orgs = tuple(member_facts())
    answers = generate_answers([org.code for org in orgs])
    async with sessions() as session, session.begin():
        round_id = await seed_report_round(session, answers)
    async with sessions() as session:
        summary = await build_summary(session, SurveyCatalog(), round_id)
    assert (summary.round_id, summary.title, summary.closes_at) == (
        round_id,
        ROUND_TITLE,
        CLOSES_AT,
    )
    assert (summary.survey_key, summary.survey_version) == ("kvartalsvis-behov", 2)
    check_against_hand_figures(summary, orgs, answers)
    # the database path and the pure path agree to the last digit
    assert summary.to_json() | {"round_id": 1} == synthetic()[2].to_json()


async def test_only_submitted_responses_count_in_the_database(sessions) -> None:
    orgs = tuple(member_facts())
    answers = generate_answers([org.code for org in orgs])
    statuses = {org.code: "in_progress" for org in orgs[::5]}
    statuses |= {org.code: "incomplete" for org in orgs[1::7]}
    async with sessions() as session, session.begin():
        round_id = await seed_report_round(session, answers, statuses=statuses)
    async with sessions() as session:
        summary = await build_summary(session, SurveyCatalog(), round_id)
    submitted = {code: a for code, a in answers.items() if code not in statuses}
    assert summary.participation.submitted == len(submitted) == 371 - len(statuses)
    check_against_hand_figures(summary, orgs, submitted)


async def test_build_report_writes_every_file(sessions, tmp_path: Path) -> None:
    orgs = member_facts()
    answers = generate_answers([org.code for org in orgs])
    async with sessions() as session, session.begin():
        round_id = await seed_report_round(session, answers)
    async with sessions() as session:
        files = await build_report(session, SurveyCatalog(), round_id, tmp_path / "out", OSLO)
        with pytest.raises(LookupError):
            await build_report(session, SurveyCatalog(), round_id + 1, tmp_path / "none", OSLO)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(p.name for p in files.paths())
    assert {"summary.json", "summary.txt", "report.xlsx", "report.pdf"} <= set(names)
    assert len(files.charts) == 5
    document = json.loads(files.summary_json.read_text(encoding="utf-8"))
    assert document["participation"]["submitted"] == 371
    assert document["closes_at"] == CLOSES_AT.isoformat()
    text = files.summary_text.read_text(encoding="utf-8")
    assert "371 av 371 medlemmer svarte (100 %)." in text
    assert files.pdf is not None and files.pdf.read_bytes().startswith(b"%PDF")
    assert not (tmp_path / "none").exists()


# --- pure: rules ----------------------------------------------------------------------------


def _org(code: str, county: str) -> OrgFacts:
    return OrgFacts(code, f"Kommune {code}", county, f"Fylke {county}")


def _small(kontakt: bool, fornoyd: int = 4) -> dict[str, AnswerValue]:
    return {"omrader": ["helse"], "omrader.helse.behov": "Behov", "omrader.helse.haster": 3,
            "omrader.helse.alene": True, "fra_ks": ["kunnskap"], "fornoyd": fornoyd,
            "kontakt": kontakt, "navngi": False}  # fmt: skip


def test_the_small_group_rule_hides_small_cells_and_counties_with_secondary_suppression() -> None:
    orgs = [_org(f"91{i:02d}", "91") for i in range(2)]  # 2 answers: county hidden
    orgs += [_org(f"92{i:02d}", "92") for i in range(6)]  # 5 yes, 1 no
    orgs += [_org(f"93{i:02d}", "93") for i in range(9)]  # 9 yes, 0 no
    orgs += [_org(f"94{i:02d}", "94") for i in range(10)]  # 5 yes, 5 no
    orgs += [_org(f"95{i:02d}", "95") for i in range(12)]  # 6 yes, 6 no
    kontakt = {
        "92": [True] * 5 + [False],
        "93": [True] * 9,
        "94": [True] * 5 + [False] * 5,
        "95": [True] * 6 + [False] * 6,
    }
    responses = [ResponseFacts(o, "submitted", _small(True)) for o in orgs[:2]]
    for county, answers in kontakt.items():
        members = [o for o in orgs if o.county_code == county]
        responses += [
            ResponseFacts(o, "submitted", _small(a)) for o, a in zip(members, answers, strict=True)
        ]
    summary = summarise(
        shipped_survey(), RoundInfo(7, "Liten", "closed", CLOSES_AT), responses, orgs
    )
    assert summary.min_group == 5
    breakdown = summary.breakdown("kontakt")
    assert breakdown is not None and breakdown.columns == ("Ja", "Nei")
    rows = {row.county_code: (row.answered, row.cells, row.suppressed) for row in breakdown.rows}
    # 91 (2 answers) is hidden, and 92, the next smallest, with it: together 8 organisations
    assert rows["91"] == (None, (None, None), True) and rows["92"] == (None, (None, None), True)
    # 9 yes and 0 no is shown: no figure rests on 1 to 4 organisations
    assert rows["93"] == (9, (9, 0), False)
    # the hidden counties' 7 yes and 1 no: with every other county shown, the national
    # 27 yes / 12 no less the shown ones would give "1 no" away, so a shown county goes too
    hidden_no = sum(1 for o, (n, cells, _) in rows.items() if cells[1] is None)
    assert hidden_no >= 3
    question = summary.question("kontakt")
    assert question is not None and [o.count for o in question.options] == [27, 12]
    # participation per county is shown as is, even for the small county
    assert {c.code: c.submitted for c in summary.participation.counties}["91"] == 2


def test_only_submitted_responses_count() -> None:
    orgs = [_org(f"95{i:02d}", "95") for i in range(8)]
    statuses = ["submitted", "submitted", "submitted", "in_progress", "incomplete", "submitted"]
    statuses += ["submitted", "submitted"]
    responses = [
        ResponseFacts(
            org, status, _small(status == "submitted", fornoyd=5 if status == "submitted" else 1)
        )
        for org, status in zip(orgs, statuses, strict=True)
    ]
    summary = summarise(shipped_survey(), RoundInfo(8, "R", "closed", CLOSES_AT), responses, orgs)
    assert (summary.participation.audience, summary.participation.submitted) == (8, 6)
    assert summary.participation.rate == pytest.approx(6 / 8)
    fornoyd = summary.question("fornoyd")
    assert fornoyd is not None and fornoyd.stats is not None
    assert (fornoyd.stats.n, fornoyd.stats.mean, fornoyd.stats.std_dev) == (6, 5.0, 0.0)
    kontakt = summary.question("kontakt")
    assert kontakt is not None and [o.count for o in kontakt.options] == [6, 0]
    # a response from outside the audience is not counted either
    outsider = ResponseFacts(_org("9999", "99"), "submitted", _small(False))
    again = summarise(
        shipped_survey(), RoundInfo(8, "R", "closed", CLOSES_AT), [*responses, outsider], orgs
    )
    assert again.participation.submitted == 6


def test_generic_questions_single_number_and_small_samples() -> None:
    survey = Survey(
        key="generisk", version=2, title="Generisk", intro="Hei", receipt="Takk",
        questions=(
            Question(id="type", type="single", text="Type?", label="Type",
                     options=(Option(value="a", label="A"), Option(value="b", label="B"))),
            Question(id="ansatte", type="number", text="Antall ansatte?", label="Ansatte"),
            Question(id="skala", type="scale", text="Skala?", label="Skala", scale_min=0, scale_max=10),
            Question(id="tema", type="multi", text="Tema?", label="Tema",
                     options=(Option(value="x", label="X"), Option(value="y", label="Y"))),
            Question(id="tema.x.hvorfor", type="text", text="Hvorfor X?", group="x", template="hvorfor",
                     when=Condition(question="tema", includes="x")),
            Question(id="tema.x.antall", type="number", text="Hvor mange?", label="Antall X", group="x",
                     template="antall", when=Condition(question="tema", includes="x")),
        ),
    )  # fmt: skip
    # six of one kind and six of another (two of them in a county of their own), so that
    # the figures rest on five or more organisations each
    orgs = [_org(f"96{i:02d}", "96") for i in range(10)] + [_org("9701", "97"), _org("9702", "97")]
    first: dict[str, AnswerValue] = {"type": "a", "ansatte": 120, "skala": 7, "tema": ["x"],
                                     "tema.x.hvorfor": "Fordi", "tema.x.antall": 3}  # fmt: skip
    second: dict[str, AnswerValue] = {"type": "a", "ansatte": 80.5, "tema": ["y"]}
    responses = [
        ResponseFacts(o, "submitted", first if i < 6 else second) for i, o in enumerate(orgs)
    ]
    summary = summarise(survey, RoundInfo(9, "G", "open", CLOSES_AT), responses, orgs)
    # a number follow-up that is not urgency stays a question of its own
    assert [q.id for q in summary.questions] == [
        "type",
        "ansatte",
        "skala",
        "tema",
        "tema.x.antall",
    ]
    single = summary.question("type")
    assert single is not None and [(o.value, o.count, o.share) for o in single.options] == [
        ("a", 12, 1.0),
        ("b", 0, 0.0),
    ]
    number = summary.question("ansatte")
    assert number is not None and number.stats is not None
    assert (number.stats.n, number.stats.mean, number.stats.median) == (12, 100.25, 100.25)
    assert number.stats.std_dev == pytest.approx(sample_sd([120] * 6 + [80.5] * 6))
    assert (number.stats.minimum, number.stats.maximum) == (80.5, 120)  # six gave each
    assert number.stats.distribution == ()
    scale = summary.question("skala")
    assert scale is not None and scale.stats is not None
    assert (scale.asked, scale.answered, scale.stats.n, scale.stats.std_dev) == (12, 6, 6, 0.0)
    assert len(scale.stats.distribution) == 11
    group = summary.area_group("tema")
    assert group is not None
    assert [(a.value, a.chosen, len(a.needs), a.urgency) for a in group.areas] == [
        ("x", 6, 6, None),
        ("y", 6, 0, None),
    ]
    assert group.areas[0].needs[0].org_name is None  # no consent question: anonymous
    breakdown = summary.breakdown("ansatte")
    assert breakdown is not None
    # county 97 has 2 answers; hiding it alone would leave 12 - 10 to give it away
    assert [(r.county_code, r.suppressed) for r in breakdown.rows] == [("96", True), ("97", True)]


# --- pure: text -----------------------------------------------------------------------------


def test_norwegian_number_formatting() -> None:
    assert nb_decimal(3.65) == "3,7"  # half up, not half to even
    assert nb_decimal(3.0) == "3,0"
    assert nb_decimal(-0.04) == "0,0"
    assert nb_decimal(12345.678, 2) == "12 345,68"
    assert nb_percent(0.585) == "59 %"
    assert nb_percent(0.125) == "13 %"
    assert nb_percent(1) == "100 %"
    assert nb_count(371) == "371" and nb_count(12345) == "12 345"


def test_summary_text_is_norwegian_plain_and_short() -> None:
    orgs, answers, summary = synthetic()
    text = summary_text(summary, OSLO)
    assert len(text) <= MAX_TEXT_CHARS
    assert text.splitlines()[0] == f"Oppsummering: {ROUND_TITLE}"
    assert "Svarfrist: 1. februar 2030." in text
    assert "371 av 371 medlemmer svarte (100 %)." in text
    group = summary.area_group("omrader")
    assert group is not None
    top = group.areas[0]
    assert (
        f"• {top.label}: {nb_percent(top.share)}, haster i snitt {nb_decimal(top.mean_urgency or 0)} av 5"
        in text
    )
    first_rank = group.cooperation[0]
    assert f"• {first_rank.label}: {first_rank.needs_cooperation} medlemmer" in text
    assert "Ønsker fra KS (andel av medlemmene):\n• Interessepolitikk overfor staten:" in text
    fornoyd = summary.question("fornoyd")
    assert fornoyd is not None and fornoyd.stats is not None and fornoyd.stats.mean is not None
    assert f"Fornøyd med KS som utviklingspartner: {nb_decimal(fornoyd.stats.mean)} i snitt" in text
    assert text.endswith(f"{rule_text()}\n\n{attached_note()}")
    assert not re.search(r"\d\.\d", text)  # decimal comma only
    assert not re.search(r"[*_`<>#]", text)  # no markup


def test_participation_line_reads_like_the_example() -> None:
    orgs, answers, _ = synthetic()
    responses = [
        ResponseFacts(org, "submitted" if index < 218 else "in_progress", answers[org.code])
        for index, org in enumerate(orgs)
    ]
    summary = summarise(
        shipped_survey(), RoundInfo(1, "R", "closed", CLOSES_AT), responses, list(orgs)
    )
    assert "218 av 371 medlemmer svarte (59 %)." in summary_text(summary, OSLO)


@pytest.mark.parametrize(("members", "noun"), [(1, "medlem"), (6, "medlemmer")])
def test_counts_of_members_take_the_right_noun(members: int, noun: str) -> None:
    orgs = [_org(f"330{index}", "33") for index in range(1, members + 1)]
    own: dict[str, AnswerValue] = _small(kontakt=True) | {
        "omrader.helse.alene": False,
        "omrader.helse.hvem": ["ks"],
    }
    responses = [ResponseFacts(org, "submitted", own) for org in orgs]
    summary = summarise(shipped_survey(), RoundInfo(1, "R", "closed", CLOSES_AT), responses, orgs)
    group = summary.area_group("omrader")
    assert group is not None
    text = summary_text(summary, OSLO)
    if members < 5:  # one organisation's answer is not a figure to share
        assert group.cooperation[0].needs_cooperation is None
        assert f"{members} {noun} (" not in text
    else:
        assert group.cooperation[0].needs_cooperation == members
        assert f"• {group.cooperation[0].label}: {members} {noun} (" in text
    personal = own_answers_text(summary, shipped_survey(), own, orgs[0].name)
    assert f"sammenlignet med landet ({members} {noun} svarte)." in personal


def _huge_survey(areas: int) -> Survey:
    long = "med et svært langt navn som går over flere linjer og likevel må vises helt"
    options = tuple(Option(value=f"o{i}", label=f"Område nummer {i} {long}") for i in range(areas))
    questions = [
        Question(id="omr", type="multi", text="Områder?", label="Områder", options=options)
    ]
    for option in options:
        included = Condition(question="omr", includes=option.value)
        questions += [
            Question(id=f"omr.{option.value}.behov", type="text", text="Behov?", group=option.value,
                     template="behov", when=included, max_length=4000),
            Question(id=f"omr.{option.value}.haster", type="scale", text="Haster?", group=option.value,
                     template="haster", when=included),
            Question(id=f"omr.{option.value}.alene", type="yesno", text="Alene?", group=option.value,
                     template="alene", when=included),
        ]  # fmt: skip
    questions.append(
        Question(id="fra", type="multi", text="Fra KS?", label="Ønsker fra KS", options=options)
    )
    return Survey(
        key="stor", version=1, title="Stor", intro="Hei", receipt="Takk", questions=tuple(questions)
    )


def test_texts_stay_within_the_limit_with_a_huge_number_of_needs() -> None:
    survey = _huge_survey(40)
    orgs = member_facts()
    responses = []
    for index, org in enumerate(orgs):
        answers: dict[str, AnswerValue] = {"omr": [f"o{i}" for i in range(40)], "fra": ["o1", "o2"]}
        for i in range(40):
            answers[f"omr.o{i}.behov"] = f"Et langt behov {index}-{i}. " * 50
            answers[f"omr.o{i}.haster"] = 1 + (index + i) % 5
            answers[f"omr.o{i}.alene"] = (index + i) % 3 == 0
        responses.append(ResponseFacts(org, "submitted", answers))
    summary = summarise(survey, RoundInfo(3, "Stor runde", "closed", CLOSES_AT), responses, orgs)
    group = summary.area_group("omr")
    assert group is not None and sum(len(a.needs) for a in group.areas) == 371 * 40
    labels = {option.label for option in survey.questions[0].options}
    text = summary_text(summary, OSLO)
    assert 0 < len(text) <= MAX_TEXT_CHARS
    assert text.endswith(attached_note()) and "371 av 371 medlemmer svarte (100 %)." in text
    bullets = [line for line in text.splitlines() if line.startswith("• ")]
    assert bullets, "the lists are shortened, not dropped"
    for line in bullets:  # every item whole: its full label and its figures
        label = line[2:].split(":")[0]
        assert label in labels and re.search(r"\d+ %", line)
    own = own_answers_text(summary, survey, responses[0].answers, orgs[0].name)
    assert len(own) <= MAX_TEXT_CHARS and own.endswith(f"{more_in_report()}\n\n{rule_text()}")
    assert own.startswith(f"Svarene fra {orgs[0].name} sammenlignet med landet")


def test_own_answers_sit_next_to_the_national_picture() -> None:
    orgs, answers, summary = synthetic()
    org = orgs[42]
    own = answers[org.code]
    text = own_answers_text(summary, shipped_survey(), own, org.name)
    assert len(text) <= MAX_TEXT_CHARS
    group = summary.area_group("omrader")
    assert group is not None
    areas = {a.value: a for a in group.areas}
    for value in own["omrader"]:  # type: ignore[union-attr]
        area = areas[value]
        assert area.share is not None and area.mean_urgency is not None
        assert (
            f"• {area.label}\n  Dere: valgt, haster {own[f'omrader.{value}.haster']} · Landet: "
            f"{nb_percent(area.share)} valgte, haster {nb_decimal(area.mean_urgency)}"
        ) in text
    for value in set(area_values()) - set(own["omrader"]):  # type: ignore[arg-type]
        assert f"• {areas[value].label}\n" not in text
    fornoyd = summary.question("fornoyd")
    assert fornoyd is not None and fornoyd.stats is not None and fornoyd.stats.mean is not None
    assert (
        f"Fornøyd med KS som utviklingspartner – Dere: {own['fornoyd']} · Landet: "
        f"{nb_decimal(fornoyd.stats.mean)}"
    ) in text
    assert "Kan vises med navn" not in text
    assert text.endswith(rule_text())


# --- pure: files ----------------------------------------------------------------------------


def test_charts_are_small_phone_width_pngs_with_stable_names(tmp_path: Path) -> None:
    _, _, summary = synthetic()
    charts = render_charts(summary, tmp_path / "a")
    assert [c.key for c in charts] == [
        "omrader",
        "omrader-samarbeid",
        "fra_ks",
        "fornoyd",
        "deltakelse",
    ]
    assert [c.path.name for c in charts] == [
        "01-omrader.png", "02-omrader-samarbeid.png", "03-fra_ks.png", "04-fornoyd.png", "05-deltakelse.png",
    ]  # fmt: skip
    for chart in charts:
        data = chart.path.read_bytes()
        assert data.startswith(PNG_SIGNATURE)
        assert data[12:16] == b"IHDR"
        width, height = struct.unpack(">II", data[16:24])
        assert width <= 1024 and height <= 1024  # Teams' limit for pictures in bot messages
        assert width >= 600 and height >= 400  # still large enough to read on a phone
        assert 5_000 < len(data) < 200_000
    assert charts[0].title == "Viktigste områder" and charts[-1].title == "Deltakelse per fylke"
    again = render_charts(summary, tmp_path / "b")
    assert [c.path.read_bytes() for c in again] == [c.path.read_bytes() for c in charts]


def test_workbook_sheets_headers_and_suppressed_cells(tmp_path: Path) -> None:
    _, _, summary = synthetic()
    path = write_workbook(summary, tmp_path / "report.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == [
        "Oversikt", "Områder og samarbeid", "Viktigste områder", "Ønsker fra KS",
        "Fornøyd med KS som utviklingspa", "KS kan ta kontakt", "Kan vises med navn", "Behov",
        "Andre innspill",
    ]  # fmt: skip
    assert all(len(name) <= 31 for name in book.sheetnames)
    assert len({name.casefold() for name in book.sheetnames}) == len(book.sheetnames)

    def header_row(sheet: Any, first: str) -> tuple[int, list[Any]]:
        for row in sheet.iter_rows():
            if row[0].value == first:
                assert all(cell.font.bold for cell in row if cell.value is not None)
                return row[0].row, [cell.value for cell in row if cell.value is not None]
        raise AssertionError(f"no header {first!r} in {sheet.title}")

    overview = book["Oversikt"]
    row, header = header_row(overview, "Fylke")
    assert header == ["Fylke", "Fylkesnummer", "Medlemmer", "Sendt inn", "Svarprosent"]
    assert overview.freeze_panes == f"B{row + 1}"
    total = [c.value for c in overview[row + 16]]
    assert total[:4] == ["Hele landet", None, 371, 371]

    fornoyd = book["Fornøyd med KS som utviklingspa"]
    row, header = header_row(fornoyd, "Fylke")
    assert header == ["Fylke", "Svar", "1 – lite fornøyd", "2", "3", "4", "5 – svært fornøyd"]
    rows = {r[0]: r[1:7] for r in fornoyd.iter_rows(min_row=row + 1, values_only=True) if r[0]}
    question = summary.question("fornoyd")
    assert question is not None and question.stats is not None
    assert list(rows["Hele landet"]) == [
        371, *("–" if p.count is None else p.count for p in question.stats.distribution)
    ]  # fmt: skip
    assert list(rows["Oslo"]) == ["–"] * 6  # one member: hidden
    breakdown = summary.breakdown("fornoyd")
    assert breakdown is not None
    for county in breakdown.rows:
        if not county.suppressed:
            cells = ["–" if c is None else c for c in county.cells]
            assert list(rows[county.county_name]) == [county.answered, *cells]
    assert any(v == "–" for r in rows.values() for v in r[1:]), (
        "the synthetic round has small cells"
    )
    assert any(rule_text() in str(c.value) for row in overview.iter_rows() for c in row)
    assert rows["Snitt"][0] == pytest.approx(question.stats.mean)

    needs = book["Behov"]
    row, header = header_row(needs, "Område")
    assert header == [
        "Område",
        "Haster",
        "Kan løse alene",
        "Trenger hjelp fra",
        "Behov",
        "Organisasjon",
        "Fylke",
    ]
    group = summary.area_group("omrader")
    assert group is not None
    assert needs.max_row - row == sum(len(a.needs) for a in group.areas)
    _, header = header_row(book["Andre innspill"], "Spørsmål")
    assert header == ["Spørsmål", "Innspill", "Organisasjon", "Fylke"]


def test_the_pdf_holds_every_need_and_comment_with_page_numbers_date_and_method(
    tmp_path: Path,
) -> None:
    _, _, summary = synthetic()
    made = datetime(2030, 2, 3, 9, 0, tzinfo=UTC)
    text = summary_text(summary, OSLO)
    path = write_pdf(summary, tmp_path / "report.pdf", text=text, charts=[], made_at=made)
    pages = pdf_pages(path)
    everything = " ".join(pages)
    group = summary.area_group("omrader")
    assert group is not None
    needs = [need for area in group.areas for need in area.needs]
    assert len(needs) > 500
    position = -1
    for need in needs:  # in the workbook's order, each with its organisation or none
        who = f"{need.org_name} ({need.county_name})" if need.org_name else "uten navn"
        position = everything.find(f"• {need.text} Haster {need.urgency:.0f} av 5", position + 1)
        assert position >= 0, need.text
        entry = everything[position : everything.find("•", position + 1)]
        assert f"· {who} " in entry + " ", entry
    for question in summary.free_texts:
        for entry in question.entries:
            assert f"• {entry.text} {entry.org_name or 'uten navn'}" in everything
    for number, page in enumerate(pages, start=1):
        assert page.endswith(f"side {number} av {len(pages)}")
        assert f"KS Lyttepost · {ROUND_TITLE} · laget 3. februar 2030" in page
    method = " ".join(pages[:2])  # the text and how it was made: the first pages
    assert "Om undersøkelsen" in method and "Hvem ble spurt: 371 medlemmer" in method
    assert "Svar: 371 av 371 sendte inn (100 %)" in method
    assert "Små grupper: Tall som bygger på færre enn 5 organisasjoner" in everything
    assert "Navn: En organisasjon står med navn" in method
    assert attached_note() not in everything  # the PDF is the attachment


def test_the_pdf_takes_any_text_a_member_writes(tmp_path: Path) -> None:
    orgs, answers, _ = synthetic()
    odd = 'Kostnad $5 og $10 😀 \\frac{1}{2}\t=HYPERLINK("x") ^_^'
    responses = [
        ResponseFacts(org, "submitted", answers[org.code] | {"annet": odd}) for org in orgs[:4]
    ]
    summary = summarise(
        shipped_survey(), RoundInfo(2, "R", "closed", CLOSES_AT), responses, list(orgs[:4])
    )
    path = write_pdf(summary, tmp_path / "odd.pdf", text=summary_text(summary, OSLO), charts=[])
    assert "Kostnad $5 og $10" in " ".join(pdf_pages(path))


def test_no_organisation_is_named_without_consent(tmp_path: Path) -> None:
    orgs, answers, summary = synthetic()
    consenting = {org.name for org in orgs if answers[org.code].get("navngi") is True}
    withheld = {org.name for org in orgs} - consenting
    assert len(consenting) > 50 and len(withheld) > 50
    counties = {org.county_name for org in orgs}
    allowed = sorted(consenting | counties, key=len, reverse=True)

    def leaks(text: str) -> set[str]:
        for name in allowed:  # names that may be shown, longest first
            text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", text)
        return {name for name in withheld if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text)}

    book = load_workbook(write_workbook(summary, tmp_path / "report.xlsx"))
    cells = [
        str(c)
        for sheet in book
        for row in sheet.iter_rows(values_only=True)
        for c in row
        if c is not None
    ]
    assert leaks("\n".join(cells)) == set()
    assert leaks(summary_text(summary, OSLO)) == set()
    assert leaks(json.dumps(summary.to_json(), ensure_ascii=False)) == set()
    # and the named ones are there: consent is honoured, not everything hidden
    needs_sheet = {row[5] for row in book["Behov"].iter_rows(values_only=True)}
    named_with_needs = {org.name for org in orgs if answers[org.code].get("navngi") is True}
    assert named_with_needs <= needs_sheet
    assert "uten navn" in needs_sheet


def test_the_summary_is_json_serialisable() -> None:
    _, _, summary = synthetic()
    document = json.loads(json.dumps(summary.to_json(), ensure_ascii=False))
    assert document["closes_at"] == "2030-02-01T22:59:00+00:00"
    assert document["participation"]["rate"] == 1.0
    assert [q["id"] for q in document["questions"]] == [
        "omrader",
        "fra_ks",
        "fornoyd",
        "kontakt",
        "navngi",
    ]
    need = document["area_groups"][0]["areas"][0]["needs"][0]
    assert set(need) == {"area", "area_label", "question_id", "text", "urgency", "can_solve_alone",
                         "help_from", "org_name", "county_name"}  # fmt: skip
    anonymous = [
        n for a in document["area_groups"][0]["areas"] for n in a["needs"] if n["org_name"] is None
    ]
    assert anonymous and all(n["county_name"] is None for n in anonymous)
