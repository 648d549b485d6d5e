"""Trends across rounds of one survey key: the same questions, round after round.

``compute_trends`` (pure) takes the rounds of one survey key in the order they opened,
each with its survey version, responses and audience as plain facts (as
``reports/summary.py`` takes them), and returns ``Trends``: one entry per question asked
in more than one round, matched on the stable question id (choices: options matched on
value), with each round's figures overall and per county, the change between the last
two rounds, and the biggest rises and falls among the areas.

What is measured, per round (only submitted responses of the round's audience, and only
their effective answers, as in the summary):

* area questions (a multi question with per-option follow-ups, ``area_specs``): the share
  of those asked who chose each area; the mean urgency among those who chose it; the
  share of those who answered "can you solve it alone" who cannot (yes/no ``alene``, or
  the single "who is needed" follow-up where anything but ``alene`` means "cannot");
* single, yes/no and multi questions: each option's share of those asked;
* scale questions (e.g. satisfaction): the mean. Per-point shares are left out: beside
  the mean they could give away points the small-group rule hides;
* the response rate (submitted of the audience).

A round's date is its deadline (``closes_at``): the figures describe the answers given
up to it. Rounds are ordered by opening time (``opens_at``), then id.

**The small-group rule** (``reports/disclosure.py``, 5 organisations) holds for every
figure, since trends are shared with members:

* Overall, a share is hidden (None) when it rests on 1-4 organisations in either of its
  two cells ("chose it" and "did not", ``binary_hidden``); single and yes/no options
  follow ``hidden_parts`` over the question's row of cells; a mean is hidden below 5
  answers, a response rate below 5 members.
* Per county, a county's figure is hidden by the same rule, and then, because the
  counties add up to the country (shown), further counties are hidden (the smallest
  first, ``hidden_parts``' order) until the hidden counties together rest on 0 or at
  least 5 organisations, in total and in each cell, so nothing hidden can be worked out
  by subtracting the shown counties from the country. A county's figure is hidden or
  shown as a whole (all cells of its row together), so no hidden cell can be worked out
  from its own row either.
* A change is given only where both figures are shown.
"""

from __future__ import annotations

import statistics
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import Any, Literal

from dialogs.model import AnswerValue, Question, Survey
from reports.disclosure import MIN_ORGANISATIONS, binary_hidden, hidden_parts, too_few
from reports.summary import (
    ALONE_OPTION,
    SUBMITTED,
    AreaSpec,
    OrgFacts,
    ResponseFacts,
    area_specs,
    consent_question,
    counted_responses,
    group_cells,
    needs_of,
    question_label,
)

DATE_BASIS = "closes_at"
Kind = Literal["areas", "choice", "scale"]
Measure = Literal["share", "urgency"]
OptionValue = str | bool | int


# --- input ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendRoundFacts:
    """One round of the survey key: what ``compute_trends`` needs to know about it."""

    id: int
    title: str
    opens_at: datetime
    closes_at: datetime
    survey: Survey
    responses: Sequence[ResponseFacts]
    audience: Sequence[OrgFacts]


# --- output -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CountyFigure:
    """One county's figure; None when hidden by the rule or when there is nothing to count."""

    code: str
    value: float | None


@dataclass(frozen=True)
class Figures:
    """One figure overall and per county (every county of the trends, in code order)."""

    overall: float | None
    counties: tuple[CountyFigure, ...]

    def county(self, code: str) -> float | None:
        """The figure in one county (None: hidden, or not there)."""
        return next((c.value for c in self.counties if c.code == code), None)


@dataclass(frozen=True)
class County:
    code: str
    name: str


@dataclass(frozen=True)
class RoundTrend:
    """A round in the trends: which it is, its date and its response rate."""

    id: int
    title: str
    opens_at: datetime
    date: datetime  # the deadline (``DATE_BASIS``)
    survey_version: int
    audience: int
    submitted: int
    response_rate: Figures


@dataclass(frozen=True)
class OptionFigures:
    """One option's (or area's) figures in one round. Shares are 0-1."""

    value: OptionValue
    label: str
    share: Figures
    urgency: Figures | None = None  # areas with an urgency follow-up
    cannot_alone: Figures | None = None  # areas with an "alone" follow-up


@dataclass(frozen=True)
class QuestionRound:
    """One question's figures in one round."""

    round_id: int
    title: str
    date: datetime
    options: tuple[OptionFigures, ...] = ()
    mean: Figures | None = None  # scale questions

    def option(self, value: OptionValue) -> OptionFigures | None:
        return next((o for o in self.options if _same(o.value, value)), None)


@dataclass(frozen=True)
class OptionChange:
    """Latest minus previous: shares in percentage points, urgency in points."""

    value: OptionValue
    label: str
    share: Figures
    urgency: Figures | None = None
    cannot_alone: Figures | None = None


@dataclass(frozen=True)
class QuestionChange:
    """From the previous round the question was asked in, to the latest round."""

    from_round: int
    to_round: int
    options: tuple[OptionChange, ...] = ()
    mean: Figures | None = None

    def option(self, value: OptionValue) -> OptionChange | None:
        return next((o for o in self.options if _same(o.value, value)), None)


@dataclass(frozen=True)
class QuestionTrend:
    """One question asked in more than one round, with its figures in each."""

    id: str
    kind: Kind
    type: str
    label: str
    rounds: tuple[QuestionRound, ...]
    change: QuestionChange | None

    def round(self, round_id: int) -> QuestionRound | None:
        return next((r for r in self.rounds if r.round_id == round_id), None)


@dataclass(frozen=True)
class Movement:
    """One area's national change between the last two rounds (a rise or a fall)."""

    question_id: str
    value: str
    label: str
    measure: Measure
    previous: float
    latest: float
    change: float  # percentage points (share) or points (urgency)
    previous_round_id: int
    previous_title: str


@dataclass(frozen=True)
class NeedMark:
    """One need of the latest round, with whether its area is new for its organisation."""

    question_id: str
    text: str
    urgency: float | None
    can_solve_alone: bool | None
    help_from: tuple[str, ...]
    org_code: str
    new_area: bool | None


@dataclass(frozen=True)
class Trends:
    """Every trend figure of a round compared with the earlier rounds of its survey key."""

    round_id: int  # the latest round, the one the report is about
    min_organisations: int
    counties: tuple[County, ...]
    rounds: tuple[RoundTrend, ...]
    response_rate_change: Figures | None  # percentage points
    questions: tuple[QuestionTrend, ...]
    rises: tuple[Movement, ...]  # the biggest rise in an area's share, then in urgency
    falls: tuple[Movement, ...]  # the biggest fall in an area's share, then in urgency
    date_basis: str = DATE_BASIS
    # every need of the latest round, marked new or not; never in the JSON (it names the
    # organisation of every need, consent or not): ``mark_new_areas`` uses it
    new_needs: tuple[NeedMark, ...] = field(default=(), repr=False)

    def question(self, question_id: str) -> QuestionTrend | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: datetimes in ISO 8601, figures rounded to 4 decimals, hidden = null,
        per-county figures as ``{"03": 0.25, ...}``."""
        document = _jsonable(self)
        assert isinstance(document, dict)
        del document["new_needs"]
        return document


def _jsonable(value: Any) -> Any:
    if isinstance(value, Figures):
        return {
            "overall": _jsonable(value.overall),
            "counties": {c.code: _jsonable(c.value) for c in value.counties},
        }
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 4)
    return value


def _same(a: OptionValue, b: OptionValue) -> bool:
    return type(a) is type(b) and a == b


# --- the small-group rule over counties ---------------------------------------------------


def hidden_counties(
    rows: Mapping[str, Mapping[Hashable, int]], min_count: int = MIN_ORGANISATIONS
) -> set[str]:
    """Counties whose figure to hide, given each county's row of cells (organisations per
    answer; the row's sum is the organisations the figure rests on).

    Primary: a row resting on 1 to ``min_count - 1`` organisations, or with a cell of that
    size. Secondary: while the hidden rows together rest on 1 to ``min_count - 1``
    organisations, in total or in any one cell, the smallest shown row (ties by code) is
    hidden too. A one-cell row is ``hidden_parts`` over the counties.
    """
    cells = sorted({cell for row in rows.values() for cell in row}, key=str)
    totals = {code: sum(row.values()) for code, row in rows.items()}
    hidden = {
        code
        for code, row in rows.items()
        if too_few(totals[code], min_count) or any(too_few(n, min_count) for n in row.values())
    }

    def leaks() -> bool:
        sums = [sum(totals[code] for code in hidden)]
        sums += [sum(rows[code].get(cell, 0) for code in hidden) for cell in cells]
        return any(too_few(n, min_count) for n in sums)

    while leaks():
        shown = [code for code in rows if code not in hidden and totals[code] > 0]
        if not shown:
            break
        hidden.add(min(shown, key=lambda code: (totals[code], code)))
    return hidden


def _county_figures(
    codes: Sequence[str], values: Mapping[str, float | None], hidden: set[str]
) -> tuple[CountyFigure, ...]:
    return tuple(CountyFigure(code, None if code in hidden else values.get(code)) for code in codes)


# --- one round's counted answers ----------------------------------------------------------


@dataclass(frozen=True)
class _Respondent:
    county: str
    asked: frozenset[str]
    answers: dict[str, AnswerValue]


def _county_of(org: OrgFacts) -> str:
    return org.county_code


def _respondents(round_: TrendRoundFacts) -> list[_Respondent]:
    members = {org.code for org in round_.audience}
    found = []
    for response in round_.responses:
        if response.status != SUBMITTED or response.org.code not in members:
            continue
        answers = dict(response.answers)
        asked = round_.survey.asked_questions(answers)
        effective = {q.id: answers[q.id] for q in asked if q.id in answers}
        found.append(
            _Respondent(response.org.county_code, frozenset(q.id for q in asked), effective)
        )
    return found


def _chose(question: Question, answer: AnswerValue, value: OptionValue) -> bool:
    if question.type == "multi":
        return isinstance(answer, list) and value in answer
    if isinstance(value, bool) or isinstance(answer, bool):
        return isinstance(answer, bool) and isinstance(value, bool) and answer is value
    return answer == value


def _number(value: AnswerValue) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


class _Round:
    """One round's respondents, with the figure builders that apply the rule."""

    def __init__(self, facts: TrendRoundFacts, codes: Sequence[str], min_count: int) -> None:
        self.facts = facts
        self.codes = codes
        self.min = min_count
        self.respondents = _respondents(facts)
        self.counted = counted_responses(facts.survey, facts.responses, facts.audience)
        self.audience_counties = sorted({org.county_code for org in facts.audience})

    def published_hidden(self, question: Question) -> dict[OptionValue, set[str]]:
        """Per option, the counties whose count this round's own summary hides.

        The summary's county breakdown shows each county's number of answers, so a county
        share shown here would give away a count it hides; a trend figure is therefore
        hidden wherever the summary hides it, as well as by the rule applied here. Hiding
        more than either alone never makes a figure derivable that was not before.
        """
        table = group_cells(question, self.counted, _county_of, self.audience_counties, self.min)
        return {
            value: {
                code
                for code, cells in table.items()
                if cells.hidden or cells.counts.get(value) is None
            }
            for value in {v for cells in table.values() for v in cells.counts}
        }

    def share(self, pairs: Iterable[tuple[str, bool]], also_hidden: Iterable[str] = ()) -> Figures:
        """The share of True among (county, yes/no) pairs: a two-cell row per county;
        ``also_hidden``: counties hidden whatever the rule here says."""
        cells: dict[str, dict[Hashable, int]] = {}
        for county, yes in pairs:
            row = cells.setdefault(county, {True: 0, False: 0})
            row[yes] += 1
        part = sum(row[True] for row in cells.values())
        whole = sum(row[True] + row[False] for row in cells.values())
        overall = None if whole == 0 or binary_hidden(part, whole, self.min) else part / whole
        values = {
            code: row[True] / (row[True] + row[False]) for code, row in cells.items()
        }  # every row here has at least one answer
        hidden = hidden_counties(cells, self.min) | set(also_hidden)
        return Figures(overall, _county_figures(self.codes, values, hidden))

    def mean(self, pairs: Iterable[tuple[str, float]]) -> Figures:
        """The mean of (county, number) pairs."""
        numbers: dict[str, list[float]] = {}
        for county, number in pairs:
            numbers.setdefault(county, []).append(number)
        everything = [n for ns in numbers.values() for n in ns]
        overall = (
            None
            if not everything or too_few(len(everything), self.min)
            else statistics.fmean(everything)
        )
        hidden = hidden_parts({code: len(ns) for code, ns in numbers.items()}, self.min)
        values = {code: statistics.fmean(ns) for code, ns in numbers.items()}
        return Figures(overall, _county_figures(self.codes, values, hidden))

    def partition(self, question: Question, values: Sequence[OptionValue]) -> list[Figures]:
        """Option shares of a single or yes/no question: every answer falls in one cell,
        so the row of cells follows the rule together (overall and per county)."""
        asked = [r for r in self.respondents if question.id in r.asked]
        rows: dict[str, dict[Hashable, int]] = {}
        for r in asked:
            row = rows.setdefault(r.county, {index: 0 for index in range(len(values))})
            answer = r.answers.get(question.id)
            for index, value in enumerate(values):
                row[index] += _chose(question, answer, value)
        # those asked who skipped count in the whole but in no option: a cell of their own
        for r in asked:
            if not any(_chose(question, r.answers.get(question.id), v) for v in values):
                rows[r.county]["skipped"] = rows[r.county].get("skipped", 0) + 1
        national: dict[Hashable, int] = {}
        for row in rows.values():
            for cell, n in row.items():
                national[cell] = national.get(cell, 0) + n
        whole = len(asked)
        hidden_nationally = (
            set(national) if too_few(whole, self.min) else hidden_parts(national, self.min)
        )
        published = self.published_hidden(question)
        hidden = hidden_counties(rows, self.min).union(*published.values())
        figures = []
        for index in range(len(values)):
            overall = (
                None if whole == 0 or index in hidden_nationally else national.get(index, 0) / whole
            )
            shares = {code: row[index] / sum(row.values()) for code, row in rows.items()}
            figures.append(Figures(overall, _county_figures(self.codes, shares, hidden)))
        return figures

    def response_rate(self) -> tuple[int, int, Figures]:
        """Submitted of the audience: hidden only where a county has 1-4 members (with
        ``hidden_parts`` over the counties); it says who took part, not what they said."""
        audience: dict[str, int] = {}
        submitted: dict[str, int] = {}
        for org in self.facts.audience:
            audience[org.county_code] = audience.get(org.county_code, 0) + 1
        for r in self.respondents:
            submitted[r.county] = submitted.get(r.county, 0) + 1
        total = sum(audience.values())
        done = len(self.respondents)
        overall = None if total == 0 or too_few(total, self.min) else done / total
        rates = {code: submitted.get(code, 0) / n for code, n in audience.items()}
        hidden = hidden_parts(audience, self.min)
        return total, done, Figures(overall, _county_figures(self.codes, rates, hidden))


# --- per question -------------------------------------------------------------------------


def _areas_round(rnd: _Round, spec: AreaSpec) -> QuestionRound:
    question = spec.question
    asked = [r for r in rnd.respondents if question.id in r.asked]
    published = rnd.published_hidden(question)
    options = []
    for option in question.options:
        area = option.value
        chose = [r for r in asked if _chose(question, r.answers.get(question.id), area)]
        share = rnd.share(
            ((r.county, _chose(question, r.answers.get(question.id), area)) for r in asked),
            published.get(area, ()),
        )
        urgency = None
        if (urgency_q := spec.urgency.get(area)) is not None:
            urgency = rnd.mean(
                (r.county, n)
                for r in chose
                if (n := _number(r.answers.get(urgency_q.id))) is not None
            )
        cannot_alone = None
        alone_q, solution_q = spec.alone.get(area), spec.solution.get(area)
        if alone_q is not None:
            cannot_alone = rnd.share(
                (r.county, answer is False)
                for r in chose
                if isinstance(answer := r.answers.get(alone_q.id), bool)
            )
        elif solution_q is not None:
            cannot_alone = rnd.share(
                (r.county, answer != ALONE_OPTION)
                for r in chose
                if isinstance(answer := r.answers.get(solution_q.id), str)
            )
        options.append(OptionFigures(area, option.label, share, urgency, cannot_alone))
    info = rnd.facts
    return QuestionRound(info.id, info.title, info.closes_at, options=tuple(options))


def _choice_values(question: Question) -> list[tuple[OptionValue, str]]:
    if question.type == "yesno":
        return [(True, "Ja"), (False, "Nei")]
    return [(option.value, option.label) for option in question.options]


def _choice_round(rnd: _Round, question: Question) -> QuestionRound:
    info = rnd.facts
    values = _choice_values(question)
    if question.type == "multi":  # each option a yes/no of its own
        asked = [r for r in rnd.respondents if question.id in r.asked]
        published = rnd.published_hidden(question)
        figures = [
            rnd.share(
                ((r.county, _chose(question, r.answers.get(question.id), v)) for r in asked),
                published.get(v, ()),
            )
            for v, _ in values
        ]
    else:
        figures = rnd.partition(question, [v for v, _ in values])
    options = tuple(
        OptionFigures(value, label, share)
        for (value, label), share in zip(values, figures, strict=True)
    )
    return QuestionRound(info.id, info.title, info.closes_at, options=options)


def _scale_round(rnd: _Round, question: Question) -> QuestionRound:
    info = rnd.facts
    mean = rnd.mean(
        (r.county, n)
        for r in rnd.respondents
        if question.id in r.asked and (n := _number(r.answers.get(question.id))) is not None
    )
    return QuestionRound(info.id, info.title, info.closes_at, mean=mean)


def _kinds(survey: Survey) -> dict[str, tuple[Kind, Question, AreaSpec | None]]:
    """The questions of one survey version that trends follow, by id."""
    specs = area_specs(survey)
    consumed = set().union(*(spec.consumed() for spec in specs)) if specs else set()
    consent = consent_question(survey)
    found: dict[str, tuple[Kind, Question, AreaSpec | None]] = {}
    for spec in specs:
        found[spec.question.id] = ("areas", spec.question, spec)
    for question in survey.questions:
        if question.id in consumed or question.id in found:
            continue
        if consent is not None and question.id == consent[0]:
            continue  # whether to be named is no trend
        if question.type in ("single", "multi", "yesno"):
            found[question.id] = ("choice", question, None)
        elif question.type == "scale":
            found[question.id] = ("scale", question, None)
    return found


# --- changes ------------------------------------------------------------------------------


def _difference(latest: Figures, previous: Figures, scale: float) -> Figures:
    def minus(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else (a - b) * scale

    return Figures(
        minus(latest.overall, previous.overall),
        tuple(
            CountyFigure(c.code, minus(c.value, previous.county(c.code))) for c in latest.counties
        ),
    )


def _maybe_difference(
    latest: Figures | None, previous: Figures | None, scale: float
) -> Figures | None:
    if latest is None or previous is None:
        return None
    return _difference(latest, previous, scale)


def _change(latest: QuestionRound, previous: QuestionRound) -> QuestionChange:
    options = []
    for option in latest.options:
        before = previous.option(option.value)
        if before is None:
            continue
        options.append(
            OptionChange(
                option.value,
                option.label,
                _difference(option.share, before.share, 100),
                _maybe_difference(option.urgency, before.urgency, 1),
                _maybe_difference(option.cannot_alone, before.cannot_alone, 100),
            )
        )
    return QuestionChange(
        previous.round_id,
        latest.round_id,
        tuple(options),
        _maybe_difference(latest.mean, previous.mean, 1),
    )


def _movements(
    questions: Sequence[QuestionTrend], latest_id: int
) -> tuple[tuple[Movement, ...], tuple[Movement, ...]]:
    """The biggest national rise and fall in an area's share, and in its urgency."""
    candidates: dict[Measure, list[tuple[int, Movement]]] = {"share": [], "urgency": []}
    order = 0
    for question in questions:
        if question.kind != "areas" or question.change is None:
            continue
        latest = question.round(latest_id)
        previous = question.round(question.change.from_round)
        if latest is None or previous is None:
            continue
        for option in latest.options:
            before = previous.option(option.value)
            if before is None:
                continue
            order += 1
            pairs: list[tuple[Measure, Figures | None, Figures | None, float]] = [
                ("share", option.share, before.share, 100),
                ("urgency", option.urgency, before.urgency, 1),
            ]
            for measure, now, then, scale in pairs:
                if now is None or then is None or now.overall is None or then.overall is None:
                    continue
                movement = Movement(
                    question.id, str(option.value), option.label, measure, then.overall,
                    now.overall, (now.overall - then.overall) * scale, previous.round_id,
                    previous.title,
                )  # fmt: skip
                candidates[measure].append((order, movement))
    rises: list[Movement] = []
    falls: list[Movement] = []
    for measure in ("share", "urgency"):
        found = candidates[measure]
        up = [pair for pair in found if pair[1].change > 0]
        down = [pair for pair in found if pair[1].change < 0]
        if up:
            rises.append(min(up, key=lambda pair: (-pair[1].change, pair[0]))[1])
        if down:
            falls.append(min(down, key=lambda pair: (pair[1].change, pair[0]))[1])
    return tuple(rises), tuple(falls)


# --- putting it together ------------------------------------------------------------------


def compute_trends(
    rounds: Sequence[TrendRoundFacts], min_count: int = MIN_ORGANISATIONS
) -> Trends | None:
    """The trends of the last round (by opening time) against the earlier ones; None with
    fewer than two rounds. See the module docstring for what is measured and hidden."""
    if len(rounds) < 2:
        return None
    ordered = sorted(rounds, key=lambda r: (r.opens_at, r.id))
    names: dict[str, str] = {}
    for facts in ordered:
        for org in facts.audience:
            names[org.county_code] = org.county_name
    codes = sorted(names)
    prepared = [_Round(facts, codes, min_count) for facts in ordered]

    round_trends = []
    for rnd in prepared:
        audience, submitted, rate = rnd.response_rate()
        f = rnd.facts
        round_trends.append(
            RoundTrend(
                f.id, f.title, f.opens_at, f.closes_at, f.survey.version, audience, submitted, rate
            )
        )

    # question id -> [(round, kind, question, spec)], in round order
    seen: dict[str, list[tuple[_Round, Kind, Question, AreaSpec | None]]] = {}
    for rnd in prepared:
        for question_id, (kind, question, spec) in _kinds(rnd.facts.survey).items():
            seen.setdefault(question_id, []).append((rnd, kind, question, spec))
    latest = prepared[-1]
    latest_order = {
        question.id: index for index, question in enumerate(latest.facts.survey.questions)
    }
    questions = []
    for question_id, asked_in in seen.items():
        kind = asked_in[-1][1]
        same = [entry for entry in asked_in if entry[1] == kind]  # a changed type: a new question
        if len(same) < 2:
            continue
        question_rounds = []
        for rnd, _, question, spec in same:
            if spec is not None:
                question_rounds.append(_areas_round(rnd, spec))
            elif kind == "choice":
                question_rounds.append(_choice_round(rnd, question))
            else:
                question_rounds.append(_scale_round(rnd, question))
        change = None
        if same[-1][0] is latest:
            change = _change(question_rounds[-1], question_rounds[-2])
        newest = same[-1][2]
        questions.append(
            (
                (latest_order.get(question_id, len(latest_order)), question_id),
                QuestionTrend(
                    question_id,
                    kind,
                    newest.type,
                    question_label(newest),
                    tuple(question_rounds),
                    change,
                ),  # fmt: skip
            )
        )
    questions.sort(key=lambda pair: pair[0])
    trends_questions = tuple(q for _, q in questions)
    rises, falls = _movements(trends_questions, latest.facts.id)
    return Trends(
        round_id=latest.facts.id,
        min_organisations=min_count,
        counties=tuple(County(code, names[code]) for code in codes),
        rounds=tuple(round_trends),
        response_rate_change=_difference(
            round_trends[-1].response_rate, round_trends[-2].response_rate, 100
        ),
        questions=trends_questions,
        rises=rises,
        falls=falls,
        new_needs=_need_marks(ordered),
    )


# --- new needs ----------------------------------------------------------------------------


def chosen_areas(survey: Survey, answers: Mapping[str, AnswerValue]) -> frozenset[tuple[str, str]]:
    """The areas one response chose, as (area question id, option value), effective answers
    only (an area chosen and then deselected does not count)."""
    effective = survey.effective_answers(dict(answers))
    found = set()
    for spec in area_specs(survey):
        chosen = effective.get(spec.question.id)
        if isinstance(chosen, list):
            found |= {(spec.question.id, value) for value in chosen if isinstance(value, str)}
    return frozenset(found)


def is_new_area(
    question_id: str, area: str, previous: frozenset[tuple[str, str]] | None
) -> bool | None:
    """Whether a need's area is new for its organisation: not chosen in its previous
    submitted response to the same survey key. None when there is no such response."""
    if previous is None:
        return None
    return (question_id, area) not in previous


def _need_marks(ordered: Sequence[TrendRoundFacts]) -> tuple[NeedMark, ...]:
    """Every need of the last round, marked by the areas its organisation chose in its
    previous submitted response (the latest earlier round where it sent one in)."""
    previous: dict[str, frozenset[tuple[str, str]]] = {}
    for facts in ordered[:-1]:
        members = {org.code for org in facts.audience}
        for response in facts.responses:
            if response.status == SUBMITTED and response.org.code in members:
                previous[response.org.code] = chosen_areas(facts.survey, response.answers)
    latest = ordered[-1]
    specs = area_specs(latest.survey)
    area_of = {q.id: s.question.id for s in specs for qs in s.needs.values() for q in qs}
    members = {org.code for org in latest.audience}
    marks = []
    for response in latest.responses:
        if response.status != SUBMITTED or response.org.code not in members:
            continue
        earlier = previous.get(response.org.code)
        for need in needs_of(latest.survey, response, specs):
            marks.append(
                NeedMark(
                    need.question_id,
                    need.text,
                    need.urgency,
                    need.can_solve_alone,
                    need.help_from,
                    response.org.code,
                    is_new_area(area_of[need.question_id], need.area, earlier),
                )  # fmt: skip
            )
    return tuple(marks)


def _need_key(
    question_id: Any, text: Any, urgency: Any, alone: Any, help_from: Any
) -> tuple[Any, ...]:
    number = round(float(urgency), 4) if isinstance(urgency, int | float) else None
    return (question_id, text, number, alone, tuple(help_from or ()))


def mark_new_areas(document: dict[str, Any], trends: Trends | None) -> dict[str, Any]:
    """summary.json's needs (``area_groups[].areas[].needs[]``) with ``new_area``: true when
    the organisation had not chosen the area in its previous submitted response to the
    survey key, false when it had, null when it has no such response (or the key was not
    used before). The needs carry no organisation code, so a need is found by its
    question, text and answers; needs alike in all of these are taken in organisation
    order, as the summary lists them."""
    queues: dict[tuple[Any, ...], list[NeedMark]] = {}
    for mark in sorted(trends.new_needs if trends else (), key=lambda m: m.org_code):
        key = _need_key(mark.question_id, mark.text, mark.urgency, mark.can_solve_alone,
                        mark.help_from)  # fmt: skip
        queues.setdefault(key, []).append(mark)
    for group in document.get("area_groups", []):
        for area in group.get("areas", []) if isinstance(group, dict) else []:
            for need in area.get("needs", []) if isinstance(area, dict) else []:
                if not isinstance(need, dict):
                    continue
                key = _need_key(need.get("question_id"), need.get("text"), need.get("urgency"),
                                need.get("can_solve_alone"), need.get("help_from"))  # fmt: skip
                queue = queues.get(key)
                need["new_area"] = queue.pop(0).new_area if queue else None
    return document
