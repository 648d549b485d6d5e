"""Rankings and matrices in the summary, its text, charts, workbook and PDF, and the export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from dialogs.model import AnswerValue
from reports.build import write_report
from reports.summary import OrgFacts, ResponseFacts, RoundInfo, summarise
from reports.text import own_answers_text, summary_text
from services.export import _cell
from tests.type_fixtures import ranking_and_matrix_survey

OSLO = ZoneInfo("Europe/Oslo")
SURVEY = ranking_and_matrix_survey()
# Each of the four answer sets below is given by five organisations (a 21st does not
# answer), so every figure rests on five or more and the small-group rule hides none.
COPIES = 5
ORGS = [OrgFacts(f"96{i:02d}", f"Kommune {i}", "96", "Fylke 96") for i in range(1, 22)]
DISTINCT: list[dict[str, AnswerValue]] = [
    {"omrader": ["digitalisering", "klima", "helse"], "rekkefolge": ["helse", "klima", "digitalisering"],
     "hast": {"digitalisering": 2, "klima": 4, "helse": 5}, "kanaler": ["chat", "mote"]},
    {"omrader": ["digitalisering", "helse"], "rekkefolge": ["digitalisering", "helse"],
     "hast": {"digitalisering": 5, "helse": 3}, "kanaler": None},
    {"omrader": ["helse", "skole"], "rekkefolge": ["helse", "skole"],
     "hast": {"helse": 4, "skole": 1}, "kanaler": ["epost", "chat"]},
    # One area: the ranking is not asked; a ranking left behind by an edit does not count.
    {"omrader": ["skole"], "rekkefolge": ["skole", "helse"], "hast": {"skole": 2}},
]  # fmt: skip
ANSWERS = [answers for answers in DISTINCT for _ in range(COPIES)]
CLOSES = datetime(2030, 2, 1, 22, 59, tzinfo=UTC)


def summary():
    responses = [ResponseFacts(org, "submitted", a) for org, a in zip(ORGS, ANSWERS, strict=False)]
    return summarise(SURVEY, RoundInfo(5, "Prioriteringer", "closed", CLOSES), responses, ORGS)


def test_a_ranking_is_summarised_as_places_first_places_and_average_place() -> None:
    ranking = summary().question("rekkefolge")
    assert ranking is not None and (ranking.asked, ranking.answered) == (15, 15)
    rows = {r.value: (r.answered, r.first, r.mean_rank) for r in ranking.rows}
    assert rows == {
        "digitalisering": (10, 5, pytest.approx((3 + 1) / 2)),
        "klima": (5, 0, 2.0),
        "helse": (15, 10, pytest.approx((1 + 2 + 1) / 3)),
        "skole": (5, 0, 2.0),
    }
    top = summary().question("kanaler")
    assert top is not None and top.answered == 10
    assert {r.value: r.first for r in top.rows} == {"chat": 5, "epost": 5, "mote": 0}


def test_ranking_and_matrix_rows_follow_the_small_group_rule() -> None:
    few = [ResponseFacts(org, "submitted", a) for org, a in zip(ORGS, DISTINCT, strict=False)]
    small = summarise(SURVEY, RoundInfo(5, "Få", "closed", CLOSES), few, ORGS)
    ranking = small.question("rekkefolge")
    assert ranking is not None and ranking.answered == 3
    assert {(r.answered, r.first, r.mean_rank) for r in ranking.rows} == {(None, None, None)}
    matrix = small.question("hast")
    assert matrix is not None
    for row in matrix.rows:
        assert row.stats is not None and row.answered is not None and row.answered < 5
        assert (row.stats.mean, row.stats.median, row.stats.std_dev) == (None, None, None)


def test_a_matrix_is_summarised_per_row_with_mean_and_distribution() -> None:
    matrix = summary().question("hast")
    assert matrix is not None and matrix.answered == 20
    helse = next(r for r in matrix.rows if r.value == "helse")
    assert helse.answered == 15 and helse.stats is not None
    assert helse.stats.mean == pytest.approx(4.0) and helse.stats.median == 4.0
    assert [p.count for p in helse.stats.distribution] == [0, 0, 5, 5, 5]
    assert helse.stats.distribution[0].label == "1 – ikke travelt"
    skole = next(r for r in matrix.rows if r.value == "skole")
    assert skole.stats is not None and skole.stats.mean == pytest.approx(1.5)
    # no county breakdown is claimed for rows
    assert summary().breakdown("hast") is None and summary().breakdown("rekkefolge") is None


def test_the_text_and_own_answers_read_the_rows() -> None:
    text = summary_text(summary(), OSLO)
    assert "Rekkefølge (satt først av; gjennomsnittlig plass, 1 er viktigst):" in text
    assert "• Helse og omsorg: 10 medlemmer; plass 1,3 (n = 15)" in text
    assert "Hast (snitt per rad):\n• Digitalisering: 3,5 (n = 10)" in text
    own = own_answers_text(summary(), SURVEY, DISTINCT[1], "Kommune 2")
    assert (
        "Rekkefølge – dere satte først: Digitalisering · Landet: plass 2,0 i snitt (n = 10)" in own
    )
    assert "• Helse og omsorg: dere 3, landet 4,0 (n = 15)" in own


def test_the_report_files_hold_rankings_and_matrices(tmp_path: Path) -> None:
    files = write_report(summary(), tmp_path, OSLO)
    assert [c.key for c in files.charts] == [
        "omrader",
        "rekkefolge",
        "hast",
        "kanaler",
        "deltakelse",
    ]
    document = json.loads(files.summary_json.read_text(encoding="utf-8"))
    ranking = next(q for q in document["questions"] if q["id"] == "rekkefolge")
    assert ranking["rows"][2] == {"value": "helse", "label": "Helse og omsorg", "answered": 15,
                                  "first": 10, "mean_rank": 1.3333, "stats": None}  # fmt: skip
    book = load_workbook(files.workbook)
    rows = [r for r in book["Rekkefølge"].iter_rows(values_only=True) if r[0]]
    header = rows.index(("Alternativ", "Rangert av", "Satt først", "Snitt plass"))
    assert rows[header + 3][:4] == ("Helse og omsorg", 15, 10, pytest.approx(4 / 3))
    rows = [r for r in book["Hast"].iter_rows(values_only=True) if r[0]]
    header = next(i for i, r in enumerate(rows) if r[0] == "Rad")
    assert rows[header][:6] == (
        "Rad",
        "Svar",
        "Snitt",
        "Standardavvik",
        "Median",
        "1 – ikke travelt",
    )
    assert rows[header + 3][:2] == ("Helse og omsorg", 15) and rows[header + 3][5:10] == (
        0,
        0,
        5,
        5,
        5,
    )
    assert files.pdf.stat().st_size > 1000


def test_the_export_shows_a_ranking_in_order_and_a_matrix_row_by_row() -> None:
    assert (
        _cell(SURVEY, "rekkefolge", ["helse", "klima"]) == "1. Helse og omsorg, 2. Klima og miljø"
    )
    assert (
        _cell(SURVEY, "hast", {"helse": 4, "klima": 2}) == "Helse og omsorg: 4; Klima og miljø: 2"
    )


def test_the_results_page_shows_ranking_and_matrix_rows() -> None:
    """The workspace's results template, rendered with the summary (base layout stubbed)."""
    from types import SimpleNamespace

    import jinja2

    from dialogs.texts import antall
    from reports.disclosure import rule_text
    from reports.format import nb_count, nb_decimal, nb_percent

    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader([
            jinja2.DictLoader({"base.html": "{% block content %}{% endblock %}"}),
            jinja2.PackageLoader("bot.web", "templates"),
        ]),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
    )  # fmt: skip
    environment.filters["tidspunkt"] = str
    environment.filters["tall"] = str
    page = environment.get_template("result.html").render(
        round=SimpleNamespace(id=5, title="Prioriteringer", status="closed", closes_at=CLOSES),
        status_names={}, summary=summary(), charts=[], report=None, report_current=False,
        may_build=False, notice="", andel=nb_percent, desimal=nb_decimal, tall=nb_count,
        antall=antall, needs_per_area={}, needs_total=0, csrf_token="x", regel=rule_text(),
        tag_counts=[], trends=None, trend_tables=[], trend_sentences=[], trend_charts=[],
    )  # fmt: skip
    flat = " ".join(page.split())
    assert (
        '<th scope="row">Helse og omsorg</th><td class="num">15</td><td class="num">10</td>'
        '<td class="num">1,3</td>' in flat
    )
    assert '<th scope="row">Skole</th><td class="num">10</td><td class="num">1,5</td>' in flat
