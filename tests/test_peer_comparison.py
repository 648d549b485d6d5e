"""Peer comparison, safely: constructed rounds where a naive table would leak one
organisation's answer, and proof that with the small-group rule nothing about any single
organisation can be read or worked out by subtraction; peer group assignment; the personal
text; and the same on SQLite and PostgreSQL.

Every figure a member can see is gathered here the way a member sees it (the national
summary, every county breakdown, every group of every peer partition) and handed to an
attacker who subtracts (``tests/suppression_check.py``), written without the code under
test.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from dialogs.model import AnswerValue
from reports.disclosure import HIDDEN, rule_text
from reports.format import nb_decimal, nb_percent
from reports.peers import (
    COUNTY,
    GROUP_OF,
    KIND,
    KOSTRA,
    PARTITIONS,
    SIZE,
    PeerGroup,
    PeerTables,
    county_group,
    kind_group,
    kostra_group,
    peer_groups,
    peer_tables,
    size_class,
)
from reports.summary import (
    OrgFacts,
    ResponseFacts,
    RoundInfo,
    RoundSummary,
    counted_responses,
    summarise,
)
from reports.text import MAX_TEXT_CHARS, own_answers_text, summary_text
from services.report_data import build_peer_tables, build_summary
from services.summaries import build_report
from services.surveys import SurveyCatalog
from storage.orm import Organisation
from tests.report_fixtures import CLOSES_AT, member_facts, seed_report_round, shipped_survey
from tests.suppression_check import exposed, small, table_leaks

OSLO = ZoneInfo("Europe/Oslo")
SURVEY = shipped_survey()
CHOICES = ("omrader", "fra_ks", "kontakt")  # multi (the areas), multi, yes/no
URGENCY = ("omrader.helse.haster", "omrader.okonomi.haster")


def answers(
    area: str, urgency: int, *, alone: bool = True, kontakt: bool = True
) -> dict[str, AnswerValue]:
    """A response to the shipped survey choosing one area."""
    chosen: dict[str, AnswerValue] = {
        "omrader": [area],
        f"omrader.{area}.behov": f"Et behov om {area}",
        f"omrader.{area}.haster": urgency,
        f"omrader.{area}.alene": alone,
        "fra_ks": ["kunnskap"],
        "fornoyd": 4,
        "kontakt": kontakt,
        "navngi": False,
    }
    if not alone:
        chosen[f"omrader.{area}.hvem"] = ["ks"]
    return chosen


def members_by_county() -> dict[str, list[str]]:
    by_county: dict[str, list[str]] = {}
    for org in member_facts():
        if org.kind != "fylkeskommune" and org.code != org.county_code:
            by_county.setdefault(org.county_code, []).append(org.code)
    return by_county


def constructed_round(
    small_county: int,
) -> tuple[dict[str, dict[str, AnswerValue]], dict[str, tuple[int | None, str | None]]]:
    """Answers and organisation facts (population, KOSTRA group) by code.

    A small county whose ``small_county`` respondents all chose Helse and say it is most
    urgent (5): a naive table publishes "100 % · haster 5,0" for them. Buskerud: 12
    respondents, 6 chose Helse. Vestland: 20 municipalities (10 chose Helse) and the county
    authority. The facts spread them over size classes and KOSTRA groups, some without.
    """
    counties = members_by_county()
    small_codes = ["0301"] if small_county == 1 else counties["56"][:small_county]
    buskerud, vestland = counties["33"][:12], [*counties["46"][:20], "46"]
    chosen: dict[str, dict[str, AnswerValue]] = {}
    facts: dict[str, tuple[int | None, str | None]] = {}
    for code in small_codes:
        chosen[code] = answers("helse", 5, alone=False, kontakt=False)
        facts[code] = (3_000 if code != "0301" else 700_000, "1")
    for index, code in enumerate(buskerud):
        chosen[code] = answers("helse", 3) if index < 6 else answers("okonomi", 2, alone=False)
        facts[code] = (10_000, "2" if index < 6 else None)
    for index, code in enumerate(vestland):
        chosen[code] = (
            answers("helse", 2, kontakt=index % 2 == 0) if index < 10 else answers("okonomi", 3)
        )
        facts[code] = (30_000 if index < 10 else 60_000, "3" if index % 3 else None)
    facts["46"] = (640_000, None)
    return chosen, facts


def audience(facts: Mapping[str, tuple[int | None, str | None]]) -> list[OrgFacts]:
    return [
        replace(org, population=facts[org.code][0], kostra_group=facts[org.code][1])
        if org.code in facts
        else org
        for org in member_facts()
    ]


def summarised(
    small_county: int,
) -> tuple[list[OrgFacts], list[ResponseFacts], RoundSummary, PeerTables]:
    chosen, facts = constructed_round(small_county)
    orgs = audience(facts)
    responses = [
        ResponseFacts(org, "submitted", chosen[org.code]) for org in orgs if org.code in chosen
    ]
    info = RoundInfo(1, "Konstruert runde", "closed", CLOSES_AT)
    summary = summarise(SURVEY, info, responses, orgs)
    peers = peer_tables(SURVEY, counted_responses(SURVEY, responses, orgs), orgs)
    return orgs, responses, summary, peers


# --- what a member sees, and what they can work out -----------------------------------------


def _values(answer: AnswerValue) -> list[AnswerValue]:
    return list(answer) if isinstance(answer, list) else [answer]


def true_counts(
    responses: Sequence[ResponseFacts], question_id: str, group_of
) -> tuple[dict, dict]:
    """Per group (None: in no group): answers to the question, and count per value."""
    answered: Counter[Hashable] = Counter()
    counts: dict[Hashable, Counter[AnswerValue]] = {}
    for response in responses:
        value = response.answers.get(question_id)
        if value is None:
            continue
        group = group_of(response.org)
        answered[group] += 1
        counts.setdefault(group, Counter()).update(_values(value))
    return answered, counts


def check_every_table(
    orgs: list[OrgFacts], responses: list[ResponseFacts], summary: RoundSummary, peers: PeerTables
) -> None:
    """Every shown figure rests on 0 or 5+ organisations, and subtracting reveals nothing."""
    for question_id in CHOICES:
        question = summary.question(question_id)
        assert question is not None
        multi = question.type == "multi"
        values = [o.value for o in question.options]
        national_answered = question.answered
        national = {
            o.value: (
                sum(1 for r in responses if o.value in _values(r.answers[question_id])),
                o.count is not None,
            )
            for o in question.options
        }
        for o in question.options:  # the national figure is the true one, when shown
            assert o.count is None or o.count == national[o.value][0]
        # the summary's county table
        breakdown = summary.breakdown(question_id)
        assert breakdown is not None
        answered, counts = true_counts(responses, question_id, lambda org: org.county_code)
        rows = {row.county_code: row for row in breakdown.rows}
        groups = {
            county: (
                answered.get(county, 0),
                {
                    v: (counts.get(county, Counter())[v], rows[county].cells[i] is not None)
                    for i, v in enumerate(values)
                },
            )
            for county in rows
        }
        assert table_leaks(multi, national_answered, national, groups) == set()
        # every peer partition, the counties again among them
        for partition in PARTITIONS:
            group_of = GROUP_OF[partition]
            answered, counts = true_counts(responses, question_id, group_of)
            groups = {}
            for group, figures in peers.groups.items():
                if group.partition != partition:
                    continue
                cells = {}
                for value in values:
                    share = figures.shares[(question_id, value)]
                    true = counts.get(group, Counter())[value]
                    if share is not None:  # a shown share is the true one
                        assert share == pytest.approx(true / answered[group])
                    cells[value] = (true, share is not None)
                groups[group] = (answered.get(group, 0), cells)
                if partition == COUNTY and answered.get(group):  # as the summary's table
                    row = rows[group.key]
                    assert [c is not None for c in row.cells] == [cells[v][1] for v in values]
            if answered.get(None):  # organisations in no group: a part never shown
                groups[None] = (answered[None], {v: (counts[None][v], False) for v in values})
            assert table_leaks(multi, national_answered, national, groups) == set(), (
                partition,
                question_id,
            )
    # means: the national sum less the shown groups' sums must not give a hidden group's
    for mean_id in URGENCY:
        area = mean_id.split(".")[1]
        raters = [
            r
            for r in responses
            if isinstance(r.answers.get(mean_id), int) and area in _values(r.answers["omrader"])
        ]
        national_shown = peers.national.means[mean_id] is not None
        for partition in PARTITIONS:
            sums: Counter[Hashable] = Counter()
            sizes: Counter[Hashable] = Counter()
            for r in raters:
                group = GROUP_OF[partition](r.org)
                sums[("sum", group)] += int(r.answers[mean_id])  # type: ignore[call-overload]
                sizes[group] += 1
            values_: dict[Hashable, int] = {("national",): sum(sums.values()), **sums}
            shown = {("national",)} if national_shown else set()
            for group, figures in peers.groups.items():
                if group.partition == partition and figures.means[mean_id] is not None:
                    assert not small(sizes[group])
                    assert figures.means[mean_id] == pytest.approx(
                        sums[("sum", group)] / sizes[group]
                    )
                    shown.add(("sum", group))
            parts = [key for key in values_ if key != ("national",)]
            # what subtracting gives is the sum of the hidden groups together (or of those
            # in no group, never published): a leak only if it rests on 1 to 4 raters
            revealed = exposed(values_, shown, [(("national",), parts)])
            assert not [e for e in revealed if small(sizes[e[1]])], (partition, mean_id)


@pytest.mark.parametrize("small_county", [1, 4])
def test_a_naive_table_would_leak_one_organisations_answer_and_the_rule_does_not(
    small_county: int,
) -> None:
    orgs, responses, summary, peers = summarised(small_county)
    small_code = "03" if small_county == 1 else "56"
    # A naive table: the small county's share and mean are its organisations' own answers.
    in_small = [r for r in responses if r.org.county_code == small_code]
    assert len(in_small) == small_county
    naive_share = sum(1 for r in in_small if "helse" in r.answers["omrader"]) / len(in_small)  # type: ignore[operator]
    naive_mean = sum(int(r.answers["omrader.helse.haster"]) for r in in_small) / len(in_small)  # type: ignore[call-overload]
    assert (nb_percent(naive_share), nb_decimal(naive_mean)) == ("100 %", "5,0")
    # Hiding only that county (the rule without secondary suppression) is not enough:
    # the national figure less the other counties gives it back.
    question = summary.question("omrader")
    assert question is not None
    answered, counts = true_counts(responses, "omrader", lambda org: org.county_code)
    national = {v: (sum(c[v] for c in counts.values()), True) for v in ("helse", "okonomi")}
    primary_only = {
        county: (
            answered[county],
            {v: (counts[county][v], not small(answered[county])) for v in ("helse", "okonomi")},
        )
        for county in answered
    }
    leaked = table_leaks(True, question.answered, national, primary_only, rule=False)
    assert ("cell", small_code, "helse", "yes") in leaked
    # With the rule: the small county is hidden, and so is enough else that nothing leaks.
    breakdown = summary.breakdown("omrader")
    assert breakdown is not None
    row = next(r for r in breakdown.rows if r.county_code == small_code)
    assert row.suppressed and set(row.cells) == {None}
    assert (
        peers.groups[PeerGroup(COUNTY, small_code, row.county_name)].shares[("omrader", "helse")]
        is None
    )
    check_every_table(orgs, responses, summary, peers)
    # and the summary says nothing about the small county's answers in words either
    text = summary_text(summary, OSLO)
    assert "haster i snitt 5,0" not in text


def test_the_rule_still_shows_what_rests_on_five_or_more() -> None:
    _, _, summary, peers = summarised(1)
    group = summary.area_group("omrader")
    assert group is not None
    areas = {a.value: a for a in group.areas}
    chosen, _ = constructed_round(1)
    helse = sum(1 for a in chosen.values() if "helse" in a["omrader"])  # type: ignore[operator]
    assert (areas["helse"].chosen, areas["okonomi"].chosen) == (helse, len(chosen) - helse)
    # Buskerud (6 and 6) is hidden with Oslo (1), so the hidden pair rests on 7 choosers
    # and 6 others; Vestland (10 of 21 chose Helse) is shown as it is.
    buskerud = next(f for g, f in peers.groups.items() if g.partition == COUNTY and g.key == "33")
    vestland = next(f for g, f in peers.groups.items() if g.partition == COUNTY and g.key == "46")
    assert buskerud.shares[("omrader", "helse")] is None
    assert vestland.shares[("omrader", "helse")] == pytest.approx(10 / 21)
    shown = [
        g
        for g, f in peers.groups.items()
        if f.shares[("omrader", "helse")] is not None and f.respondents
    ]
    assert shown, "some peer groups rest on enough organisations to be shown"


def test_a_round_with_one_respondent_publishes_no_figure_about_it() -> None:
    orgs = member_facts()
    one = [ResponseFacts(orgs[0], "submitted", answers("helse", 4))]
    summary = summarise(SURVEY, RoundInfo(1, "Én svarte", "closed", CLOSES_AT), one, orgs)
    text = summary_text(summary, OSLO)
    document = json.dumps(summary.to_json(), ensure_ascii=False)
    for published in (text, document):
        assert "100 %" not in published and "haster 4,0" not in published
        assert "haster i snitt 4" not in published
    assert '"share": 1.0' not in document and '"mean": 4.0' not in document
    assert "1 av 371 medlemmer svarte" in text  # participation stays shown
    assert rule_text() in text
    for question in summary.questions:
        assert {(o.count, o.share) for o in question.options} <= {(None, None)}
        if question.stats is not None:
            assert question.stats.mean is None and question.stats.median is None
    for area in summary.area_groups[0].areas:
        assert (area.chosen, area.share, area.mean_urgency, area.needs_cooperation) == (
            None,
            None,
            None,
            None,
        )
    peers = peer_tables(SURVEY, counted_responses(SURVEY, one, orgs), orgs)
    personal = own_answers_text(summary, SURVEY, one[0].answers, orgs[0].name, peers, orgs[0])
    assert "Dere: valgt, haster 4 · Landet: –" in personal
    assert "100 %" not in personal and "4,0" not in personal


@pytest.mark.parametrize(
    ("population", "expected"),
    [
        (4_999, "Kommuner under 5 000 innbyggere"),
        (5_000, "Kommuner med 5 000–19 999 innbyggere"),
        (19_999, "Kommuner med 5 000–19 999 innbyggere"),
        (20_000, "Kommuner med 20 000–49 999 innbyggere"),
        (49_999, "Kommuner med 20 000–49 999 innbyggere"),
        (50_000, "Kommuner med 50 000 innbyggere og over"),
        (None, None),
    ],
)
def test_size_classes_from_population(population: int | None, expected: str | None) -> None:
    org = OrgFacts("3301", "Drammen", "33", "Buskerud", population=population, kostra_group="7")
    group = size_class(org)
    assert (group.label if group else None) == expected
    assert (
        [g.partition for g in peer_groups(org)] == [COUNTY, SIZE, KOSTRA, KIND]
        if expected
        else [COUNTY, KOSTRA, KIND]
    )


def test_kostra_group_county_and_kind() -> None:
    oslo = OrgFacts(
        "0301",
        "Oslo",
        "03",
        "Oslo",
        population=700_000,
        kostra_group="13",
        kind="kommune_og_fylkeskommune",
    )
    county_authority = OrgFacts(
        "46", "Vestland fylkeskommune", "46", "Vestland", population=640_000, kind="fylkeskommune"
    )
    unknown = OrgFacts("1103", "Stavanger", "11", "Rogaland")
    assert kostra_group(oslo) == PeerGroup(KOSTRA, "13", "KOSTRA-gruppe 13")
    assert kostra_group(unknown) is None and size_class(unknown) is None
    assert kind_group(oslo).label == "Kommuner"  # Oslo counts as a municipality
    assert kind_group(county_authority).label == "Fylkeskommuner"
    assert size_class(county_authority) is None  # size classes compare municipalities
    assert county_group(unknown) == PeerGroup(COUNTY, "11", "Rogaland")
    assert [g.label for g in peer_groups(unknown)] == [
        "Rogaland",
        "Kommuner",
    ]  # still national and county


def test_the_personal_text_sets_own_answers_beside_country_county_and_peers() -> None:
    orgs, responses, summary, peers = summarised(1)
    shown_seen = hidden_seen = False
    for response in responses:
        org = response.org
        text = own_answers_text(summary, SURVEY, response.answers, org.name, peers, org)
        assert len(text) <= MAX_TEXT_CHARS and text.endswith(rule_text())
        assert "sammenligning og læring" in text
        area = response.answers["omrader"][0]  # type: ignore[index]
        urgency = response.answers[f"omrader.{area}.haster"]
        national = peers.national
        share = national.shares[("omrader", area)]
        mean = national.means[f"omrader.{area}.haster"]
        assert share is not None and mean is not None
        line = f"Dere: valgt, haster {urgency} · Landet: {nb_percent(share)} valgte, haster {nb_decimal(mean)}"
        assert line in text
        groups = peers.for_org(org)
        assert [g.partition for g, _ in groups][0] == COUNTY
        for group, figures in groups:
            group_share = figures.shares[("omrader", area)]
            group_mean = figures.means[f"omrader.{area}.haster"]
            if group_share is None and group_mean is None:
                expected = f"{group.label}: {HIDDEN}"
                hidden_seen = True
            else:
                expected = f"{group.label}: {nb_percent(group_share) if group_share is not None else HIDDEN}, haster {nb_decimal(group_mean) if group_mean is not None else HIDDEN}"
                shown_seen = shown_seen or group_share is not None
            assert expected in text, (expected, text)
    assert shown_seen and hidden_seen, (
        "the constructed round shows some group figures and hides others"
    )


# --- through the database ---------------------------------------------------------------------


@pytest.mark.parametrize("small_county", [1, 4])
async def test_the_rule_holds_through_the_database(sessions, small_county: int, tmp_path) -> None:
    chosen, facts = constructed_round(small_county)
    async with sessions() as session, session.begin():
        for organisation in await session.scalars(
            select(Organisation).where(Organisation.code.in_(list(facts)))
        ):
            organisation.population, organisation.kostra_group = facts[organisation.code]
        round_id = await seed_report_round(session, chosen, title="Konstruert runde")
    async with sessions() as session:
        summary = await build_summary(session, SurveyCatalog(), round_id)
        peers = await build_peer_tables(session, SurveyCatalog(), round_id)
        files = await build_report(session, SurveyCatalog(), round_id, tmp_path, OSLO)
    orgs, responses, pure_summary, pure_peers = summarised(small_county)
    assert summary.to_json() | {"round_id": 1, "title": ""} == pure_summary.to_json() | {
        "title": ""
    }
    assert peers == pure_peers
    check_every_table(orgs, responses, summary, peers)
    text = files.summary_text.read_text(encoding="utf-8")
    assert rule_text() in text and "haster i snitt 5,0" not in text
    small_code = "03" if small_county == 1 else "56"
    document = json.loads(files.summary_json.read_text(encoding="utf-8"))
    breakdown = next(b for b in document["county_breakdowns"] if b["question_id"] == "omrader")
    row = next(r for r in breakdown["rows"] if r["county_code"] == small_code)
    assert row["cells"] == [None] * len(breakdown["columns"]) and row["answered"] is None
