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
* Every figure about answers follows the small-group rule (``reports/disclosure.py``,
  ``min_group`` = 5 organisations), the national ones included: a count, share, mean or
  median resting on 1 to 4 organisations is hidden (``None``; "–" wherever it is shown),
  and so is the smallest other figure where the hidden one could otherwise be worked out
  by subtraction (secondary suppression). A question's options add up to those who
  answered it (single, yes/no, scale points: ``hidden_parts``); an option of a multi
  question is chose/did not (``binary_hidden``). A lowest or highest answer is shown only
  when at least ``min_group`` organisations gave it.
* Per-county breakdowns are tables with two kinds of sums (a county's cells add up to its
  answers; a column of counties adds up to the national figure): a county with 1 to 4
  answers to a question is hidden, with the next smallest counties while the hidden ones
  rest on fewer than ``min_group``, and ``disclosure.protect`` hides cells until no hidden
  figure can be worked out from any combination of shown ones. Peer groups
  (``reports/peers.py``) use the same tables (``group_cells``), so a county's figures are
  the same wherever they are shown. Participation (who took part, per county) is shown as
  is: it says who took part, not what anyone answered.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Hashable, Mapping, Sequence, Set
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from dialogs.model import AnswerValue, ConsentScope, Option, Question, Survey
from reports.disclosure import (
    MIN_ORGANISATIONS,
    Line,
    binary_hidden,
    hidden_parts,
    protect,
    too_few,
)

NAMED_CONSENT_QUESTION = "navngi"
# The option of a single-choice "who is needed" follow-up that means "we can do it alone"
# (the survey since its third file version asks one choice instead of yes/no + a list).
ALONE_OPTION = "alene"
ANONYMOUS = "uten navn"  # how every file shows a text whose organisation may not be named
SUBMITTED = "submitted"
DEFAULT_MIN_GROUP = MIN_ORGANISATIONS
YES_LABEL = "Ja"
NO_LABEL = "Nei"

OptionValue = str | bool | int
G = TypeVar("G", bound=Hashable)


# --- input facts ------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgFacts:
    """A member organisation in the round's audience, with the facts peer groups use
    (``population`` and ``kostra_group`` are unknown until imported; ``kind`` is
    ``kommune``, ``fylkeskommune`` or ``kommune_og_fylkeskommune`` for Oslo)."""

    code: str
    name: str
    county_code: str
    county_name: str
    population: int | None = None
    kostra_group: str | None = None
    kind: str = "kommune"


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
    to more than 1); for a scale distribution it is of those who answered. ``None``: hidden
    by the small-group rule.
    """

    value: OptionValue
    label: str
    count: int | None
    share: float | None


@dataclass(frozen=True)
class NumericStats:
    """Scale or number answers: ``std_dev`` is the sample one (n-1), None below two answers.

    Every figure is ``None`` where the small-group rule hides it (``n`` too, when the
    figures belong to an area whose count of choosers is hidden).
    """

    n: int | None
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
    ``None``: hidden by the small-group rule.
    """

    value: str
    label: str
    answered: int | None
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
    """One area (an option of a multi question with follow-ups) and what was said about it.

    ``None``: hidden by the small-group rule (an area chosen by 1 to 4, or by all but 1
    to 4, hides every figure about it; the needs themselves follow the consent rules).
    """

    value: str
    label: str
    chosen: int | None
    share: float | None
    urgency: NumericStats | None
    alone_answered: int | None
    needs_cooperation: int | None
    cooperation_share: float | None
    help_from: tuple[OptionCount, ...]
    needs: tuple[Need, ...]

    @property
    def mean_urgency(self) -> float | None:
        """The mean urgency, if the area has an urgency follow-up with answers."""
        return self.urgency.mean if self.urgency else None


@dataclass(frozen=True)
class CooperationRank:
    """An area ranked by how many organisations cannot solve it alone (hidden ones last)."""

    value: str
    label: str
    needs_cooperation: int | None
    answered: int | None
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
class Counted:
    """A submitted response reduced to what the figures need (``counted_responses``)."""

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
    counted = counted_responses(survey, responses, audience)
    consent = consent_question(survey)
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
        questions=tuple(_question_summary(q, counted, min_group) for q in figures),
        area_groups=tuple(_area_group(spec, counted, min_group) for spec in specs),
        county_breakdowns=tuple(
            _breakdown(q, counted, audience, min_group)
            for q in figures
            if q.type not in ROW_TYPES  # no per-county rows for these (yet)
        ),
        free_texts=tuple(_free_text(q, counted) for q in texts),
        name_consent=consent[1] if consent else None,
    )


def counted_responses(
    survey: Survey, responses: Sequence[ResponseFacts], audience: Sequence[OrgFacts]
) -> list[Counted]:
    """The responses that count: submitted, by an organisation in the audience, each
    reduced to its effective answers."""
    members = {org.code for org in audience}
    consent = consent_question(survey)
    return [
        _count(survey, r, consent)
        for r in responses
        if r.status == SUBMITTED and r.org.code in members
    ]


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
) -> Counted:
    answers = dict(response.answers)
    asked = survey.asked_questions(answers)
    effective = {q.id: answers[q.id] for q in asked if q.id in answers}
    agreed = consent is not None and effective.get(consent[0]) is True
    every_text = agreed and consent is not None and consent[1] == "free_text"
    return Counted(response.org, frozenset(q.id for q in asked), effective, agreed, every_text)


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


def _participation(audience: Sequence[OrgFacts], counted: Sequence[Counted]) -> Participation:
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


def numeric_stats(
    question: Question, values: Sequence[AnswerValue], min_group: int = DEFAULT_MIN_GROUP
) -> NumericStats:
    """Mean, sample standard deviation, median and (for scales) the distribution, with the
    small-group rule applied: nothing but ``n`` below ``min_group`` answers, the
    distribution's points by ``hidden_parts``, a lowest or highest answer only when at
    least ``min_group`` gave it (otherwise it is one organisation's answer)."""
    numbers = _numbers(values)
    n = len(numbers)
    counts = {value: sum(1 for x in numbers if x == value) for value, _ in _columns(question)}
    hidden = hidden_parts(counts, min_group)
    distribution = tuple(
        OptionCount(value, label, None, None)
        if value in hidden
        else OptionCount(value, label, counts[value], _share(counts[value], n) or 0.0)
        for value, label in _columns(question)
    )
    few = too_few(n, min_group)

    def extreme(value: float) -> float | None:
        return value if sum(1 for x in numbers if x == value) >= min_group else None

    return NumericStats(
        n=n,
        mean=statistics.fmean(numbers) if n and not few else None,
        std_dev=statistics.stdev(numbers) if n >= 2 and not few else None,
        median=float(statistics.median(numbers)) if n and not few else None,
        minimum=extreme(min(numbers)) if n else None,
        maximum=extreme(max(numbers)) if n else None,
        distribution=distribution if question.type in ("scale", "matrix") else (),
    )


def hidden_stats(question: Question) -> NumericStats:
    """Every figure hidden, ``n`` too (the figures of an area whose choosers are hidden)."""
    return NumericStats(
        n=None,
        mean=None,
        std_dev=None,
        median=None,
        minimum=None,
        maximum=None,
        distribution=tuple(OptionCount(value, label, None, None) for value, label in
                           _columns(question)) if question.type in ("scale", "matrix") else (),
    )  # fmt: skip


ROW_TYPES = ("ranking", "matrix")


def _rows(
    question: Question, values: Sequence[AnswerValue], min_group: int
) -> tuple[RowSummary, ...]:
    """Per option of a ranking (places) or row of a matrix (the scale's figures).

    A ranking option is placed only by those who had it on offer (e.g. chose the area),
    so how many placed it is chose/did not of those who answered (``binary_hidden``);
    hidden, it hides its first places and mean place too.
    """
    rows = []
    for option in question.options:
        if question.type == "ranking":
            places = [v.index(option.value) + 1 for v in values
                      if isinstance(v, list) and option.value in v]  # fmt: skip
            if binary_hidden(len(places), len(values), min_group):
                rows.append(RowSummary(option.value, option.label, None, first=None))
                continue
            first = sum(1 for place in places if place == 1)
            rows.append(
                RowSummary(
                    option.value,
                    option.label,
                    len(places),
                    first=None if binary_hidden(first, len(places), min_group) else first,
                    mean_rank=statistics.fmean(places)
                    if places and not too_few(len(places), min_group)
                    else None,
                )  # fmt: skip
            )
        else:
            cells: list[AnswerValue] = [v[option.value] for v in values
                                        if isinstance(v, dict) and option.value in v]  # fmt: skip
            rows.append(
                RowSummary(
                    option.value,
                    option.label,
                    len(cells),
                    stats=numeric_stats(question, cells, min_group),
                )  # fmt: skip
            )
    return tuple(rows)


@dataclass(frozen=True)
class ChoiceCounts:
    """How a set of responses answered one choice or scale question, before any hiding:
    ``asked`` got the question, ``answered`` answered it, ``counts`` per column value."""

    asked: int
    answered: int
    counts: dict[OptionValue, int]


def choice_counts(question: Question, counted: Sequence[Counted]) -> ChoiceCounts:
    """The raw counts of one question over ``counted`` (shares are of ``asked``)."""
    asked = [c for c in counted if question.id in c.asked]
    values = [c.answers[question.id] for c in asked if c.answers.get(question.id) is not None]
    counts = {
        value: sum(1 for v in values if _matches(question, v, value))
        for value, _ in _columns(question)
    }
    return ChoiceCounts(len(asked), len(values), counts)


def hidden_options(
    question: Question, counts: ChoiceCounts, min_group: int = DEFAULT_MIN_GROUP
) -> set[OptionValue]:
    """The column values whose national count the small-group rule hides: a multi option
    is chose/did not of those who answered; single, yes/no and scale columns add up to
    those who answered."""
    if question.type == "multi":
        return {
            value
            for value, count in counts.counts.items()
            if binary_hidden(count, counts.answered, min_group)
        }
    return hidden_parts(counts.counts, min_group)


def _question_summary(
    question: Question, counted: Sequence[Counted], min_group: int
) -> QuestionSummary:
    asked = [c for c in counted if question.id in c.asked]
    values = [c.answers[question.id] for c in asked if c.answers.get(question.id) is not None]
    options: tuple[OptionCount, ...] = ()
    stats = None
    rows: tuple[RowSummary, ...] = ()
    if question.type in ROW_TYPES:
        rows = _rows(question, values, min_group)
    elif question.type in ("scale", "number"):
        stats = numeric_stats(question, values, min_group)
    else:
        counts = choice_counts(question, counted)
        hidden = hidden_options(question, counts, min_group)
        options = tuple(
            OptionCount(value, label, None, None)
            if value in hidden
            else OptionCount(value, label, counts.counts[value], _share(counts.counts[value],
                                                                         len(asked)) or 0.0)
            for value, label in _columns(question)
        )  # fmt: skip
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


def _hide_options(
    options: Sequence[OptionCount], hidden: Set[OptionValue]
) -> tuple[OptionCount, ...]:
    return tuple(replace(o, count=None, share=None) if o.value in hidden else o for o in options)


def _area_group(spec: AreaSpec, counted: Sequence[Counted], min_group: int) -> AreaGroup:
    question = spec.question
    asked = [c for c in counted if question.id in c.asked]
    answered = choice_counts(question, counted).answered
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
            urgency = numeric_stats(
                urgency_q, [c.answers.get(urgency_q.id) for c in chose], min_group
            )
        alone = [c.answers[alone_q.id] for c in chose if alone_q and alone_q.id in c.answers]
        alone_answers = [a for a in alone if isinstance(a, bool)]
        help_from: tuple[OptionCount, ...] = ()
        help_hidden: set[OptionValue] = set()
        if help_q is not None:
            help_counts = choice_counts(help_q, chose)
            help_from = _question_summary(help_q, chose, 1).options
            help_hidden = hidden_options(help_q, help_counts, min_group)
            help_labels = help_labels or [o.label for o in help_q.options]
        solution_q = spec.solution.get(area)
        if alone_q is None and solution_q is not None:
            chosen = [c.answers.get(solution_q.id) for c in chose]
            alone_answers = [a == ALONE_OPTION for a in chosen if isinstance(a, str)]
            solution = choice_counts(solution_q, chose)
            helpers = {v: n for v, n in solution.counts.items() if v != ALONE_OPTION}
            help_hidden = hidden_parts(helpers, min_group)  # they add up to the cooperation count
            help_from = tuple(
                o for o in _question_summary(solution_q, chose, 1).options
                if o.value != ALONE_OPTION
            )  # fmt: skip
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
        needs = tuple(need for _, need in ordered)
        if binary_hidden(len(chose), answered, min_group):
            summary = AreaSummary(
                value=area, label=option.label, chosen=None, share=None,
                urgency=hidden_stats(urgency_q) if urgency_q is not None else None,
                alone_answered=None, needs_cooperation=None, cooperation_share=None,
                help_from=_hide_options(help_from, {o.value for o in help_from}), needs=needs,
            )  # fmt: skip
        else:
            cooperation_hidden = binary_hidden(cooperation, len(alone_answers), min_group)
            if cooperation_hidden:
                help_hidden = {o.value for o in help_from}
            summary = AreaSummary(
                value=area,
                label=option.label,
                chosen=len(chose),
                share=_share(len(chose), len(asked)) or 0.0,
                urgency=urgency,
                alone_answered=len(alone_answers),
                needs_cooperation=None if cooperation_hidden else cooperation,
                cooperation_share=None
                if cooperation_hidden
                else _share(cooperation, len(alone_answers)),
                help_from=_hide_options(help_from, help_hidden),
                needs=needs,
            )
        areas.append((index, summary))
    # Hidden figures are never placed by their size: hidden areas come last, in survey order.
    by_choice = [
        a
        for _, a in sorted(
            areas, key=lambda pair: (pair[1].chosen is None, -(pair[1].chosen or 0), pair[0])
        )
    ]
    ranking = sorted(
        areas,
        key=lambda pair: (
            pair[1].needs_cooperation is None,
            -(pair[1].needs_cooperation or 0),
            -(pair[1].cooperation_share or 0),
            pair[0],
        ),
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


def _need_in(spec: AreaSpec, option: Option, need_q: Question, counted: Counted) -> Need | None:
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
    counted: Counted,
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


@dataclass(frozen=True)
class GroupCells:
    """One group's counts for one question, with the small-group rule applied.

    ``asked``/``answered`` say who took part (shown); ``counts`` per column value, ``None``
    where hidden; ``hidden``: the whole group is hidden (too few answers, or taken with a
    small one so that it cannot be worked out from the national figure).
    """

    asked: int
    answered: int
    counts: dict[OptionValue, int | None]
    hidden: bool


def group_cells(
    question: Question,
    counted: Sequence[Counted],
    group_of: Callable[[OrgFacts], G | None],
    groups: Sequence[G],
    min_group: int = DEFAULT_MIN_GROUP,
) -> dict[G, GroupCells]:
    """A question's counts per group of a partition (every county; every size class...),
    suppressed over the whole partition at once, never group by group.

    Organisations in no group (``group_of`` is None) are a part that is never shown.
    Groups: a group with 1 to 4 answers is hidden, and the smallest others while the
    hidden ones rest on fewer than ``min_group`` (``hidden_parts``). Cells: the table of
    groups by columns, with each group's answers and the national figures (as the
    summary shows them, ``hidden_options``) as its sums, goes through ``protect``.
    Multi questions are one such table per option (chose, did not).
    """
    columns = [value for value, _ in _columns(question)]
    national = choice_counts(question, counted)
    national_hidden = hidden_options(question, national, min_group)
    members: dict[G | None, list[Counted]] = {g: [] for g in groups}
    for c in counted:
        members.setdefault(group_of(c.org), []).append(c)
    counts = {g: choice_counts(question, cs) for g, cs in members.items()}
    answered = {g: counts[g].answered for g in members}
    outside: set[G | None] = {None} if None in members else set()
    hidden_groups: set[G | None] = {*hidden_parts(answered, min_group, outside), *outside}
    shown_cells: dict[G | None, dict[OptionValue, int | None]] = {
        g: {v: None if g in hidden_groups else counts[g].counts[v] for v in columns}
        for g in members
    }
    if question.type == "multi":
        tables = [([v], {v: national.answered - national.counts[v]}) for v in columns]
    else:
        tables = [(columns, {})]
    for values, complements in tables:
        entries: dict[tuple[Any, ...], int] = {("all",): national.answered}
        lines: list[Line[tuple[Any, ...]]] = []
        cells = [*values, *(("not", v) for v in complements)]

        def cell_count(g: G | None, cell: Any) -> int:
            if isinstance(cell, tuple):
                return counts[g].answered - counts[g].counts[cell[1]]
            return counts[g].counts[cell]

        for cell in cells:
            whole = ("national", cell)
            entries[whole] = (
                complements[cell[1]] if isinstance(cell, tuple) else national.counts[cell]
            )
            entries |= {("cell", g, cell): cell_count(g, cell) for g in members}
            lines.append(Line(whole, tuple(("cell", g, cell) for g in members)))
        lines.append(Line(("all",), tuple(("national", cell) for cell in cells)))
        for g in members:
            entries[("group", g)] = answered[g]
            lines.append(Line(("group", g), tuple(("cell", g, cell) for cell in cells)))
        national_off = {
            ("national", cell)
            for cell in cells
            if (cell[1] if isinstance(cell, tuple) else cell) in national_hidden
        }
        hidden = protect(
            entries,
            lines,
            national_off | {("cell", g, cell) for g in hidden_groups for cell in cells},
            keep={e for e in entries if e[0] in ("all", "group")}
            | {("national", cell) for cell in cells} - national_off,
            min_count=min_group,
        )
        for g in members:
            for value in values:
                if ("cell", g, value) in hidden:
                    shown_cells[g][value] = None
    return {
        g: GroupCells(counts[g].asked, counts[g].answered, shown_cells[g], g in hidden_groups)
        for g in groups
    }


def _county(org: OrgFacts) -> str:
    return org.county_code


def _breakdown(
    question: Question,
    counted: Sequence[Counted],
    audience: Sequence[OrgFacts],
    min_group: int,
) -> CountyBreakdown:
    columns = _columns(question)
    counties = sorted({(org.county_code, org.county_name) for org in audience})
    table = group_cells(question, counted, _county, [code for code, _ in counties], min_group)
    rows = []
    for code, name in counties:
        cells = table[code]
        if cells.hidden:
            rows.append(CountyRow(code, name, None, tuple(None for _ in columns), True))
            continue
        counts = tuple(cells.counts[value] for value, _ in columns)
        rows.append(CountyRow(code, name, cells.answered, counts, False))
    return CountyBreakdown(
        question_id=question.id,
        label=question_label(question),
        columns=tuple(label for _, label in columns),
        rows=tuple(rows),
    )


def _free_text(question: Question, counted: Sequence[Counted]) -> FreeTextQuestion:
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
