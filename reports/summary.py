"""The round summary: what members said, in figures KS can review and publish back to them.

Computing (``summarise``, a pure function) takes plain facts (``OrgFacts``,
``ResponseFacts``, ``RoundInfo``); gathering them from the database is
``services/report_data.py``'s job, so every figure can be checked without a database.

Rules that hold everywhere in the summary:

* Only *submitted* responses of organisations in the round's audience count, and only
  their *effective* answers (questions actually asked given the other answers), so an
  answer left behind by an edit never shows up.
* An organisation is shown next to its free text only when that response answered the
  survey's consent question with yes, and only next to the free text that question's
  wording asked about (``consent_to_name``: ``needs``, or ``free_text`` for needs and every
  other comment); otherwise neither its name nor its county is shown. A survey without a
  declared consent question falls back to ``navngi`` (``NAMED_CONSENT_QUESTION``), whose
  first wording asked about the needs only. Needs and comments are ordered by content,
  never by organisation, so the order cannot place an anonymous text between two named ones.
* Per-county answer breakdowns follow the small-group rule: a cell with fewer than
  ``min_group`` answers (but not zero) is suppressed, and a county with fewer than
  ``min_group`` answers to the question is suppressed entirely, so no one can be singled
  out by county. Where a row's cells add up to its shown total (single, yes/no and
  scale questions), a lone hidden cell takes the smallest other non-zero cell with it,
  so it cannot be worked out by subtraction. Participation per county is shown as is: it says who took part, not
  what anyone answered.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import Any

from dialogs.model import AnswerValue, ConsentScope, Option, Question, Survey

NAMED_CONSENT_QUESTION = "navngi"
# The option of a single-choice "who is needed" follow-up that means "we can do it alone"
# (the survey since its third file version asks one choice instead of yes/no + a list).
ALONE_OPTION = "alene"
ANONYMOUS = "uten navn"  # how every file shows a text whose organisation may not be named
SUBMITTED = "submitted"
DEFAULT_MIN_GROUP = 3
YES_LABEL = "Ja"
NO_LABEL = "Nei"

OptionValue = str | bool | int


# --- input facts ------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgFacts:
    """A member organisation in the round's audience."""

    code: str
    name: str
    county_code: str
    county_name: str


@dataclass(frozen=True)
class ResponseFacts:
    """One organisation's response: its status and the answers as stored in its state."""

    org: OrgFacts
    status: str
    answers: Mapping[str, AnswerValue]


@dataclass(frozen=True)
class RoundInfo:
    """What the summary says about the round itself."""

    id: int
    title: str
    status: str
    closes_at: datetime


# --- the summary ------------------------------------------------------------------------


@dataclass(frozen=True)
class CountyParticipation:
    """Audience and submitted responses in one county."""

    code: str
    name: str
    audience: int
    submitted: int
    rate: float


@dataclass(frozen=True)
class Participation:
    """How many members were asked and how many submitted, overall and per county."""

    audience: int
    submitted: int
    rate: float
    counties: tuple[CountyParticipation, ...]


@dataclass(frozen=True)
class OptionCount:
    """How many chose one option (or scale point) and their share.

    For choices the share is of those who were asked the question (multi: shares may sum
    to more than 1); for a scale distribution it is of those who answered.
    """

    value: OptionValue
    label: str
    count: int
    share: float


@dataclass(frozen=True)
class NumericStats:
    """Scale or number answers: ``std_dev`` is the sample one (n-1), None below two answers."""

    n: int
    mean: float | None
    std_dev: float | None
    median: float | None
    minimum: float | None
    maximum: float | None
    distribution: tuple[OptionCount, ...]


@dataclass(frozen=True)
class RowSummary:
    """One option of a ranking, or one row of a matrix, across the responses.

    Ranking: ``answered`` is how many placed the option, ``first`` how many placed it
    first, ``mean_rank`` its average place among those who placed it (1 is the most
    important). Members rank only what was on offer to them (e.g. the areas they chose),
    so ``answered`` differs between options and must be read with the mean.
    Matrix: ``answered`` is how many gave the row a number; ``stats`` the scale figures.
    """

    value: str
    label: str
    answered: int
    first: int | None = None
    mean_rank: float | None = None
    stats: NumericStats | None = None


@dataclass(frozen=True)
class QuestionSummary:
    """The national picture of one question: options for choices, stats for numbers, rows
    for rankings and matrices."""

    id: str
    type: str
    label: str
    text: str
    asked: int
    answered: int
    options: tuple[OptionCount, ...] = ()
    stats: NumericStats | None = None
    rows: tuple[RowSummary, ...] = ()


@dataclass(frozen=True)
class Need:
    """One need described in free text, with the answers given about it.

    ``org_name`` and ``county_name`` are set only when the organisation consented.
    """

    area: str
    area_label: str
    question_id: str
    text: str
    urgency: float | None
    can_solve_alone: bool | None
    help_from: tuple[str, ...]
    org_name: str | None
    county_name: str | None

    @property
    def named(self) -> bool:
        """Whether the organisation may be shown with this need."""
        return self.org_name is not None


@dataclass(frozen=True)
class AreaSummary:
    """One area (an option of a multi question with follow-ups) and what was said about it."""

    value: str
    label: str
    chosen: int
    share: float
    urgency: NumericStats | None
    alone_answered: int
    needs_cooperation: int
    cooperation_share: float | None
    help_from: tuple[OptionCount, ...]
    needs: tuple[Need, ...]

    @property
    def mean_urgency(self) -> float | None:
        """The mean urgency, if the area has an urgency follow-up with answers."""
        return self.urgency.mean if self.urgency else None


@dataclass(frozen=True)
class CooperationRank:
    """An area ranked by how many organisations cannot solve it alone."""

    value: str
    label: str
    needs_cooperation: int
    answered: int
    share: float | None


@dataclass(frozen=True)
class AreaGroup:
    """A multi question with per-option follow-ups, e.g. the priority areas."""

    question_id: str
    label: str
    asked: int
    areas: tuple[AreaSummary, ...]
    cooperation: tuple[CooperationRank, ...]
    help_from_labels: tuple[str, ...]


@dataclass(frozen=True)
class CountyRow:
    """One county's counts for one question; None marks a suppressed figure."""

    county_code: str
    county_name: str
    answered: int | None
    cells: tuple[int | None, ...]
    suppressed: bool


@dataclass(frozen=True)
class CountyBreakdown:
    """Counts per county for one question, with the small-group rule applied."""

    question_id: str
    label: str
    columns: tuple[str, ...]
    rows: tuple[CountyRow, ...]


@dataclass(frozen=True)
class FreeTextEntry:
    """One free-text answer; named only with consent."""

    text: str
    org_name: str | None
    county_name: str | None


@dataclass(frozen=True)
class FreeTextQuestion:
    """The answers to a free-text question that is not a need."""

    question_id: str
    label: str
    entries: tuple[FreeTextEntry, ...]


@dataclass(frozen=True)
class RoundSummary:
    """Everything the report shows about one round."""

    round_id: int
    title: str
    status: str
    closes_at: datetime
    survey_key: str
    survey_version: int
    survey_title: str
    min_group: int
    participation: Participation
    questions: tuple[QuestionSummary, ...]
    area_groups: tuple[AreaGroup, ...]
    county_breakdowns: tuple[CountyBreakdown, ...]
    free_texts: tuple[FreeTextQuestion, ...]
    # What a yes to the consent question covers (None: no consent question, all anonymous).
    name_consent: ConsentScope | None = None

    def question(self, question_id: str) -> QuestionSummary | None:
        """The national summary of a question, if it has one."""
        return next((q for q in self.questions if q.id == question_id), None)

    def area_group(self, question_id: str) -> AreaGroup | None:
        """The area summary built from a multi question's follow-ups, if any."""
        return next((g for g in self.area_groups if g.question_id == question_id), None)

    def breakdown(self, question_id: str) -> CountyBreakdown | None:
        """The per-county breakdown of a question, if it has one."""
        return next((b for b in self.county_breakdowns if b.question_id == question_id), None)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready document (datetimes as ISO 8601, shares rounded to 4 decimals)."""
        document = _jsonable(self)
        assert isinstance(document, dict)
        return document


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 4)
    return value


# --- computing --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Counted:
    """A submitted response reduced to what the figures need."""

    org: OrgFacts
    asked: frozenset[str]
    answers: dict[str, AnswerValue]
    named_with_needs: bool
    named_with_other_text: bool


@dataclass(frozen=True)
class AreaSpec:
    """Which follow-ups of a multi question play which part in the area summary."""

    question: Question
    needs: dict[str, tuple[Question, ...]]
    urgency: dict[str, Question]
    alone: dict[str, Question]
    help_from: dict[str, Question]
    solution: dict[str, Question] = field(default_factory=dict)

    def consumed(self) -> set[str]:
        ids = {q.id for group in self.needs.values() for q in group}
        for part in (self.urgency, self.alone, self.help_from, self.solution):
            ids |= {q.id for q in part.values()}
        return ids


def summarise(
    survey: Survey,
    round_info: RoundInfo,
    responses: Sequence[ResponseFacts],
    audience: Sequence[OrgFacts],
    min_group: int = DEFAULT_MIN_GROUP,
) -> RoundSummary:
    """Compute the summary from plain facts (pure; see the module docstring for the rules)."""
    if min_group < 1:
        raise ValueError("min_group must be at least 1")
    members = {org.code for org in audience}
    consent = consent_question(survey)
    counted = [
        _count(survey, r, consent)
        for r in responses
        if r.status == SUBMITTED and r.org.code in members
    ]
    specs = area_specs(survey)
    consumed = set().union(*(spec.consumed() for spec in specs)) if specs else set()
    figures = [q for q in survey.questions if q.type != "text" and q.id not in consumed]
    texts = [q for q in survey.questions if q.type == "text" and q.id not in consumed]
    return RoundSummary(
        round_id=round_info.id,
        title=round_info.title,
        status=round_info.status,
        closes_at=round_info.closes_at,
        survey_key=survey.key,
        survey_version=survey.version,
        survey_title=survey.title,
        min_group=min_group,
        participation=_participation(audience, counted),
        questions=tuple(_question_summary(q, counted) for q in figures),
        area_groups=tuple(_area_group(spec, counted) for spec in specs),
        county_breakdowns=tuple(
            _breakdown(q, counted, audience, min_group)
            for q in figures
            if q.type not in ROW_TYPES  # no per-county rows for these (yet)
        ),
        free_texts=tuple(_free_text(q, counted) for q in texts),
        name_consent=consent[1] if consent else None,
    )


def consent_question(survey: Survey) -> tuple[str, ConsentScope] | None:
    """The question whose yes lets KS name the organisation, and the free text it covers.

    A survey declares it with ``consent_to_name``. Versions written before that existed
    asked ``navngi`` about the needs alone, so that is all a yes there covers.
    """
    declared = next((q for q in survey.questions if q.consent_to_name is not None), None)
    if declared is not None and declared.consent_to_name is not None:
        return declared.id, declared.consent_to_name
    legacy = survey.question(NAMED_CONSENT_QUESTION)
    if legacy is not None and legacy.type == "yesno":
        return legacy.id, "needs"
    return None


def _count(
    survey: Survey, response: ResponseFacts, consent: tuple[str, ConsentScope] | None
) -> _Counted:
    answers = dict(response.answers)
    asked = survey.asked_questions(answers)
    effective = {q.id: answers[q.id] for q in asked if q.id in answers}
    agreed = consent is not None and effective.get(consent[0]) is True
    every_text = agreed and consent is not None and consent[1] == "free_text"
    return _Counted(response.org, frozenset(q.id for q in asked), effective, agreed, every_text)


def question_label(question: Question) -> str:
    """A question's short name for tables and charts (its label, or its text)."""
    return question.label or question.text.replace("{org_name}", "kommunen/fylkeskommunen")


def area_specs(survey: Survey) -> list[AreaSpec]:
    """Multi questions with per-option follow-ups (``<id>.<option>.<follow-up>``).

    Text follow-ups are the needs; the first scale, yes/no and multi follow-up of an
    option are its urgency, "can solve it alone" and "who is needed". Any other
    follow-up is summarised as a question of its own.
    """
    specs = []
    for question in survey.questions:
        if question.type != "multi":
            continue
        values = {option.value for option in question.options}
        followups = [
            q for q in survey.questions if q.group in values and q.id.startswith(question.id + ".")
        ]
        if not followups:
            continue
        needs: dict[str, list[Question]] = {}
        roles: dict[str, dict[str, Question]] = {"scale": {}, "yesno": {}, "multi": {}}
        solution: dict[str, Question] = {}
        for followup in followups:
            area = followup.group
            assert area is not None
            if followup.type == "text":
                needs.setdefault(area, []).append(followup)
            elif followup.type in roles:
                roles[followup.type].setdefault(area, followup)
            elif followup.type == "single" and followup.option(ALONE_OPTION) is not None:
                solution.setdefault(area, followup)
        specs.append(
            AreaSpec(
                question=question,
                needs={area: tuple(qs) for area, qs in needs.items()},
                urgency=roles["scale"],
                alone=roles["yesno"],
                help_from=roles["multi"],
                solution=solution,
            )
        )
    return specs


def _participation(audience: Sequence[OrgFacts], counted: Sequence[_Counted]) -> Participation:
    submitted_codes = {c.org.code for c in counted}
    counties: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for org in audience:
        tally = counties.setdefault(org.county_code, [0, 0])
        names[org.county_code] = org.county_name
        tally[0] += 1
        tally[1] += org.code in submitted_codes
    return Participation(
        audience=len(audience),
        submitted=len(counted),
        rate=_share(len(counted), len(audience)) or 0.0,
        counties=tuple(
            CountyParticipation(code, names[code], total, done, _share(done, total) or 0.0)
            for code, (total, done) in sorted(counties.items())
        ),
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _columns(question: Question) -> list[tuple[OptionValue, str]]:
    """The values a choice or scale question is counted over, with their labels."""
    if question.type in ("single", "multi"):
        return [(option.value, option.label) for option in question.options]
    if question.type == "yesno":
        return [(True, YES_LABEL), (False, NO_LABEL)]
    if question.type in ("scale", "matrix"):  # a matrix row is counted as a scale
        points: list[tuple[OptionValue, str]] = []
        for point in range(question.scale_min, question.scale_max + 1):
            end = (
                question.scale_min_label
                if point == question.scale_min
                else question.scale_max_label
                if point == question.scale_max
                else None
            )
            points.append((point, f"{point} – {end}" if end else str(point)))
        return points
    return []


def _matches(question: Question, answer: AnswerValue, value: OptionValue) -> bool:
    if question.type == "multi":
        return isinstance(answer, list) and value in answer
    if isinstance(value, bool) or isinstance(answer, bool):
        return isinstance(answer, bool) and isinstance(value, bool) and answer is value
    return answer == value


def _numbers(values: Sequence[AnswerValue]) -> list[float]:
    return [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]


def numeric_stats(question: Question, values: Sequence[AnswerValue]) -> NumericStats:
    """Mean, sample standard deviation, median and (for scales) the distribution."""
    numbers = _numbers(values)
    n = len(numbers)
    distribution = tuple(
        OptionCount(value, label, count, _share(count, n) or 0.0)
        for value, label in _columns(question)
        for count in [sum(1 for x in numbers if x == value)]
    )
    return NumericStats(
        n=n,
        mean=statistics.fmean(numbers) if n else None,
        std_dev=statistics.stdev(numbers) if n >= 2 else None,
        median=float(statistics.median(numbers)) if n else None,
        minimum=min(numbers) if n else None,
        maximum=max(numbers) if n else None,
        distribution=distribution if question.type in ("scale", "matrix") else (),
    )


ROW_TYPES = ("ranking", "matrix")


def _rows(question: Question, values: Sequence[AnswerValue]) -> tuple[RowSummary, ...]:
    """Per option of a ranking (places) or row of a matrix (the scale's figures)."""
    rows = []
    for option in question.options:
        if question.type == "ranking":
            places = [v.index(option.value) + 1 for v in values
                      if isinstance(v, list) and option.value in v]  # fmt: skip
            rows.append(
                RowSummary(
                    option.value,
                    option.label,
                    len(places),
                    first=sum(1 for place in places if place == 1),
                    mean_rank=statistics.fmean(places) if places else None,
                )  # fmt: skip
            )
        else:
            cells: list[AnswerValue] = [v[option.value] for v in values
                                        if isinstance(v, dict) and option.value in v]  # fmt: skip
            rows.append(
                RowSummary(
                    option.value, option.label, len(cells), stats=numeric_stats(question, cells)
                )  # fmt: skip
            )
    return tuple(rows)


def _question_summary(question: Question, counted: Sequence[_Counted]) -> QuestionSummary:
    asked = [c for c in counted if question.id in c.asked]
    values = [c.answers[question.id] for c in asked if c.answers.get(question.id) is not None]
    options: tuple[OptionCount, ...] = ()
    stats = None
    rows: tuple[RowSummary, ...] = ()
    if question.type in ROW_TYPES:
        rows = _rows(question, values)
    elif question.type in ("scale", "number"):
        stats = numeric_stats(question, values)
    else:
        options = tuple(
            OptionCount(value, label, count, _share(count, len(asked)) or 0.0)
            for value, label in _columns(question)
            for count in [sum(1 for v in values if _matches(question, v, value))]
        )
    return QuestionSummary(
        id=question.id,
        type=question.type,
        label=question_label(question),
        text=question.text,
        asked=len(asked),
        answered=len(values),
        options=options,
        stats=stats,
        rows=rows,
    )


def _need_order(need: Need, code: str) -> tuple[bool, float, str, str]:
    urgency = need.urgency if need.urgency is not None else -math.inf
    return (need.urgency is None, -urgency, need.text.casefold(), code)


def _area_group(spec: AreaSpec, counted: Sequence[_Counted]) -> AreaGroup:
    question = spec.question
    asked = [c for c in counted if question.id in c.asked]
    areas = []
    help_labels: list[str] = []
    for index, option in enumerate(question.options):
        area = option.value
        chose = [c for c in asked if _matches(question, c.answers.get(question.id), area)]
        urgency_q = spec.urgency.get(area)
        alone_q = spec.alone.get(area)
        help_q = spec.help_from.get(area)
        urgency = None
        if urgency_q is not None:
            urgency = numeric_stats(urgency_q, [c.answers.get(urgency_q.id) for c in chose])
        alone = [c.answers[alone_q.id] for c in chose if alone_q and alone_q.id in c.answers]
        alone_answers = [a for a in alone if isinstance(a, bool)]
        help_from: tuple[OptionCount, ...] = ()
        if help_q is not None:
            help_summary = _question_summary(help_q, chose)
            help_from = help_summary.options
            help_labels = help_labels or [o.label for o in help_q.options]
        solution_q = spec.solution.get(area)
        if alone_q is None and solution_q is not None:
            chosen = [c.answers.get(solution_q.id) for c in chose]
            alone_answers = [a == ALONE_OPTION for a in chosen if isinstance(a, str)]
            help_from = tuple(
                o for o in _question_summary(solution_q, chose).options if o.value != ALONE_OPTION
            )
            help_labels = help_labels or [
                o.label for o in solution_q.options if o.value != ALONE_OPTION
            ]
        cooperation = sum(1 for a in alone_answers if a is False)
        ordered: list[tuple[tuple[bool, float, str, str], Need]] = []
        for need_q in spec.needs.get(area, ()):
            for c in chose:
                need = _need_in(spec, option, need_q, c)
                if need is not None:
                    ordered.append((_need_order(need, c.org.code), need))
        ordered.sort(key=lambda pair: pair[0])
        areas.append(
            (
                index,
                AreaSummary(
                    value=area,
                    label=option.label,
                    chosen=len(chose),
                    share=_share(len(chose), len(asked)) or 0.0,
                    urgency=urgency,
                    alone_answered=len(alone_answers),
                    needs_cooperation=cooperation,
                    cooperation_share=_share(cooperation, len(alone_answers)),
                    help_from=help_from,
                    needs=tuple(need for _, need in ordered),
                ),
            )
        )
    by_choice = [a for _, a in sorted(areas, key=lambda pair: (-pair[1].chosen, pair[0]))]
    ranking = sorted(
        areas,
        key=lambda pair: (-pair[1].needs_cooperation, -(pair[1].cooperation_share or 0), pair[0]),
    )
    return AreaGroup(
        question_id=question.id,
        label=question_label(question),
        asked=len(asked),
        areas=tuple(by_choice),
        cooperation=tuple(
            CooperationRank(
                a.value, a.label, a.needs_cooperation, a.alone_answered, a.cooperation_share
            )
            for _, a in ranking
        ),
        help_from_labels=tuple(help_labels),
    )


def needs_of(
    survey: Survey, response: ResponseFacts, specs: Sequence[AreaSpec] | None = None
) -> list[Need]:
    """Every need one response describes, by the summary's own rules: effective answers
    only (the area still chosen), non-empty text, the organisation named only with
    consent. In survey order: area question, its options, their need questions.

    The caller decides which responses count (the summary: submitted ones of the
    audience); ``specs`` saves working out ``area_specs(survey)`` once per response.
    """
    counted = _count(survey, response, consent_question(survey))
    found = []
    for spec in area_specs(survey) if specs is None else specs:
        question = spec.question
        if question.id not in counted.asked:
            continue
        for option in question.options:
            if not _matches(question, counted.answers.get(question.id), option.value):
                continue
            for need_q in spec.needs.get(option.value, ()):
                need = _need_in(spec, option, need_q, counted)
                if need is not None:
                    found.append(need)
    return found


def _need_in(spec: AreaSpec, option: Option, need_q: Question, counted: _Counted) -> Need | None:
    """The need ``need_q`` holds in one response for one area, if its text says anything."""
    text = counted.answers.get(need_q.id)
    if not isinstance(text, str) or not text.strip():
        return None
    area = option.value
    return _need(
        option.label, area, need_q, text.strip(), counted,
        spec.urgency.get(area), spec.alone.get(area), spec.help_from.get(area),
        spec.solution.get(area),
    )  # fmt: skip


def _need(
    area_label: str,
    area: str,
    need_q: Question,
    text: str,
    counted: _Counted,
    urgency_q: Question | None,
    alone_q: Question | None,
    help_q: Question | None,
    solution_q: Question | None = None,
) -> Need:
    urgency = counted.answers.get(urgency_q.id) if urgency_q else None
    alone = counted.answers.get(alone_q.id) if alone_q else None
    helpers = counted.answers.get(help_q.id) if help_q else None
    labels: tuple[str, ...] = ()
    if help_q is not None and isinstance(helpers, list):
        labels = tuple(_option_label(help_q, value) for value in helpers)
    solved = counted.answers.get(solution_q.id) if solution_q else None
    if alone_q is None and isinstance(solved, str) and solution_q is not None:
        alone = solved == ALONE_OPTION
        labels = () if alone else (_option_label(solution_q, solved),)
    return Need(
        area=area,
        area_label=area_label,
        question_id=need_q.id,
        text=text,
        urgency=float(urgency)
        if isinstance(urgency, int | float) and not isinstance(urgency, bool)
        else None,
        can_solve_alone=alone if isinstance(alone, bool) else None,
        help_from=labels,
        org_name=counted.org.name if counted.named_with_needs else None,
        county_name=counted.org.county_name if counted.named_with_needs else None,
    )


def _option_label(question: Question, value: str) -> str:
    option = question.option(value)
    return option.label if option else value


# Questions whose answers fall in exactly one cell: a row's cells add up to its total.
PARTITIONING_TYPES = ("single", "yesno", "scale")


def _hide_a_second_cell(cells: tuple[int | None, ...]) -> tuple[int | None, ...]:
    """Secondary suppression: with the row total shown, one hidden cell could be worked out
    by subtraction, so the smallest other non-zero cell is hidden too."""
    if sum(1 for cell in cells if cell is None) != 1:
        return cells
    shown = [(cell, index) for index, cell in enumerate(cells) if cell]
    if not shown:
        return cells
    _, smallest = min(shown)
    return tuple(None if index == smallest else cell for index, cell in enumerate(cells))


def suppress(count: int, min_group: int) -> int | None:
    """The small-group rule for one cell: 0 and counts of at least ``min_group`` are shown."""
    return count if count == 0 or count >= min_group else None


def _breakdown(
    question: Question,
    counted: Sequence[_Counted],
    audience: Sequence[OrgFacts],
    min_group: int,
) -> CountyBreakdown:
    columns = _columns(question)
    counties = sorted({(org.county_code, org.county_name) for org in audience})
    rows = []
    for code, name in counties:
        values = [
            c.answers[question.id]
            for c in counted
            if c.org.county_code == code and c.answers.get(question.id) is not None
        ]
        if len(values) < min_group:
            rows.append(CountyRow(code, name, None, tuple(None for _ in columns), True))
            continue
        cells = tuple(
            suppress(sum(1 for v in values if _matches(question, v, value)), min_group)
            for value, _ in columns
        )
        if question.type in PARTITIONING_TYPES:
            cells = _hide_a_second_cell(cells)
        rows.append(CountyRow(code, name, len(values), cells, False))
    return CountyBreakdown(
        question_id=question.id,
        label=question_label(question),
        columns=tuple(label for _, label in columns),
        rows=tuple(rows),
    )


def _free_text(question: Question, counted: Sequence[_Counted]) -> FreeTextQuestion:
    entries = []
    for c in counted:
        text = c.answers.get(question.id)
        if isinstance(text, str) and text.strip():
            entry = FreeTextEntry(
                text.strip(),
                c.org.name if c.named_with_other_text else None,
                c.org.county_name if c.named_with_other_text else None,
            )
            entries.append(((entry.text.casefold(), c.org.code), entry))
    entries.sort(key=lambda pair: pair[0])
    return FreeTextQuestion(question.id, question_label(question), tuple(e for _, e in entries))
