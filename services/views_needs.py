"""The needs browser: every need members described in free text, filtered, paged and tagged.

What a need is comes from the report (``reports.summary.needs_of``): the text follow-up
of an area chosen in a multi question with per-option follow-ups (``omrader.helse.behov``),
with that area's urgency, "can solve it alone" and "who is needed" answers. Only
submitted responses of a round's audience count, and only effective answers, exactly as
in the summary. A need is named by its response and question (``NeedKey``), which stays
the same when other answers change.

Filtering happens in Python after one read of the submitted responses (a few thousand
needs at most), so the full-text search is the same case-insensitive substring match
(``str.casefold``) on SQLite and PostgreSQL, for Norwegian letters too.

Staff's labels and quotable marks are written by ``services/need_tags.py``; they are
read here with the needs.

A need is *new* (``new_area``) when its organisation had not chosen the area in its
previous submitted response to the same survey key (in an earlier open or closed round,
by opening time); None when it has no such response. ``reports/trends.py`` decides it
(``chosen_areas``, ``is_new_area``), as for the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.model import Survey
from dialogs.state import ResponseState
from reports.needs_sheet import needs_workbook
from reports.summary import AreaSpec, Need, OrgFacts, ResponseFacts, area_specs, needs_of
from reports.trends import chosen_areas, is_new_area
from services.surveys import SurveyCatalog
from storage.orm import (
    ActionNeed,
    KsAction,
    NeedTag,
    Organisation,
    QuotableNeed,
    Response,
    Round,
    RoundOrganisation,
    SurveyVersion,
)

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class NeedError(LookupError):
    """No need by that key: no submitted response, or no need text at that question.

    The message is Norwegian: staff read it in the workspace."""


@dataclass(frozen=True, order=True)
class NeedKey:
    """A need: the response it is in and the question that holds its text."""

    response_id: int
    question_id: str

    @property
    def token(self) -> str:
        """``123:omrader.helse.behov``: for links and forms."""
        return f"{self.response_id}:{self.question_id}"

    @classmethod
    def parse(cls, token: str) -> NeedKey:
        """Read ``token`` back; ``NeedError`` when it is not one."""
        response, _, question = token.strip().partition(":")
        if not response.isdigit() or not question:
            raise NeedError(f"ugyldig behov {token!r}")
        return cls(int(response), question)


@dataclass(frozen=True)
class NeedRow:
    """One need, with where it came from and what staff said about it.

    ``org_*`` and ``county_*`` are None only where names are withheld (``show_names``
    off and no consent); ``may_name`` says whether the organisation agreed to be named
    with it in what KS publishes.
    """

    key: NeedKey
    round_id: int
    round_title: str
    area: str
    area_label: str
    text: str
    urgency: int | None
    can_solve_alone: bool | None
    help_from: tuple[str, ...]  # labels, e.g. ("KS", "Staten")
    org_code: str | None
    org_name: str | None
    county_code: str | None
    county_name: str | None
    may_name: bool
    submitted_at: datetime | None
    tags: tuple[str, ...]
    quotable: bool
    # the area was not chosen in the organisation's previous response to the survey key
    # (None: it has no earlier response)
    new_area: bool | None = None
    # KS's actions this need is linked to, so staff see what is already being done about it
    actions: tuple[LinkedAction, ...] = ()


@dataclass(frozen=True)
class LinkedAction:
    """An action a need is linked to, as the needs browser names it."""

    id: int
    title: str
    status: str


@dataclass(frozen=True)
class NeedFilter:
    """What to show; None (or empty) means any. ``text`` is a case-insensitive substring
    of the need's text; ``tag`` a label (case-insensitive); ``help_from`` a label."""

    round_id: int | None = None
    area: str | None = None
    urgency: int | None = None
    min_urgency: int | None = None
    can_solve_alone: bool | None = None
    help_from: str | None = None
    org: str | None = None
    county: str | None = None
    text: str | None = None
    tag: str | None = None
    quotable: bool | None = None
    new_area: bool | None = None  # True: only new areas; False: only areas chosen before

    def matches(self, need: NeedRow) -> bool:
        """Whether a need passes every filter given."""
        checks = (
            self.area is None or need.area == self.area,
            self.urgency is None or need.urgency == self.urgency,
            self.min_urgency is None
            or (need.urgency is not None and need.urgency >= self.min_urgency),
            self.can_solve_alone is None or need.can_solve_alone is self.can_solve_alone,
            not self.help_from or self.help_from in need.help_from,
            not self.org or need.org_code == self.org,
            not self.county or need.county_code == self.county.zfill(2),
            not self.text or self.text.strip().casefold() in need.text.casefold(),
            not self.tag or self.tag.strip().casefold() in {t.casefold() for t in need.tags},
            self.quotable is None or need.quotable is self.quotable,
            self.new_area is None or need.new_area is self.new_area,
        )
        return all(checks)


@dataclass(frozen=True)
class Choice:
    """A value to filter by, its label, and how many needs have it (before filtering)."""

    value: str
    label: str
    needs: int


@dataclass(frozen=True)
class NeedChoices:
    """What the filters can choose from, among the needs of the chosen round(s)."""

    rounds: tuple[Choice, ...]
    areas: tuple[Choice, ...]
    urgencies: tuple[Choice, ...]
    help_from: tuple[Choice, ...]
    counties: tuple[Choice, ...]
    tags: tuple[Choice, ...]


@dataclass(frozen=True)
class NeedsPage:
    """One page of the filtered needs, and how many there are in all."""

    needs: tuple[NeedRow, ...]
    total: int
    offset: int
    limit: int
    choices: NeedChoices

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.needs) < self.total


# --- reading ------------------------------------------------------------------------------------


class NeedCache:
    """The needs found in each submitted response, by response id and row version: one
    per database per process, like ``SurveyCatalog``.

    Working out a response's needs runs the survey's conditions over its answers; with a
    few thousand needs that is most of a page's time. A response's ``version`` changes
    with every change of its row (SQLAlchemy's version counter), an erasure of its free
    text included, so an entry is used only while the row is exactly as it was read.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self._needs: dict[int, tuple[int, tuple[Need, ...]]] = {}
        self._areas: dict[int, tuple[int, frozenset[tuple[str, str]]]] = {}
        self._max = max_entries

    def areas(self, response_id: int, version: int) -> frozenset[tuple[str, str]] | None:
        """The areas that response chose at that version, if known."""
        found = self._areas.get(response_id)
        return found[1] if found is not None and found[0] == version else None

    def put_areas(self, response_id: int, version: int, areas: frozenset[tuple[str, str]]) -> None:
        """Remember the areas a response chose (all are forgotten when the cache is full)."""
        if len(self._areas) >= self._max:
            self._areas.clear()
        self._areas[response_id] = (version, areas)

    def get(self, response_id: int, version: int) -> tuple[Need, ...] | None:
        """The needs of that response at that version, if known."""
        found = self._needs.get(response_id)
        return found[1] if found is not None and found[0] == version else None

    def put(self, response_id: int, version: int, needs: tuple[Need, ...]) -> None:
        """Remember a response's needs (all are forgotten when the cache is full)."""
        if len(self._needs) >= self._max:
            self._needs.clear()
        self._needs[response_id] = (version, needs)


STATE_BATCH = 5_000  # response ids per query for their states (under both databases' limits)


async def all_needs(
    session: AsyncSession,
    catalog: SurveyCatalog,
    round_id: int | None = None,
    *,
    show_names: bool = True,
    cache: NeedCache | None = None,
) -> list[NeedRow]:
    """Every need of a round (None: of every round), newest round first, then by area,
    urgency (most urgent first) and text.

    Six queries (responses, the states of those not in ``cache``, tags, quotable marks,
    every submitted response's round and survey key, and the states of the previous
    responses not in ``cache``) and the surveys (cached by ``catalog``). Without a cache
    every state is read and worked out again.
    """
    cache = cache if cache is not None else NeedCache()
    statement = (
        select(
            Response.id, Response.version, Response.round_id, Response.submitted_at,
            Round.title, Round.survey_version_id, Organisation.code, Organisation.name,
            Organisation.county_code, Organisation.county_name,
        )
        .join(Round, Round.id == Response.round_id)
        .join(Organisation, Organisation.id == Response.organisation_id)
        .join(
            RoundOrganisation,
            and_(
                RoundOrganisation.round_id == Response.round_id,
                RoundOrganisation.organisation_id == Response.organisation_id,
            ),
        )
        .where(Response.status == "submitted")
        .order_by(Round.closes_at.desc(), Round.id.desc(), Response.id)
    )  # fmt: skip
    if round_id is not None:
        statement = statement.where(Response.round_id == round_id)
    responses = (await session.execute(statement)).all()
    states = await _states(session, [r[0] for r in responses if cache.get(r[0], r[1]) is None])
    tags, quotable, linked = await _marks(session, round_id)
    earlier = await previous_areas(session, catalog, {r[0] for r in responses}, cache)
    surveys: dict[int, tuple[Survey, list[AreaSpec], dict[str, int]]] = {}
    area_questions: dict[int, dict[str, str]] = {}  # need question id -> area question id
    rounds: dict[int, int] = {}  # round id -> its place in the query's order (newest first)
    found: list[tuple[tuple[int, int, float, str, int], NeedRow]] = []
    for response_id, version, in_round, submitted_at, title, version_id, *org in responses:
        if version_id not in surveys:
            survey = await catalog.get(session, version_id)
            specs = area_specs(survey)
            areas = [o.value for spec in specs for o in spec.question.options]
            surveys[version_id] = (survey, specs, {area: i for i, area in enumerate(areas)})
            area_questions[version_id] = {
                q.id: spec.question.id for spec in specs for qs in spec.needs.values() for q in qs
            }
        survey, specs, area_order = surveys[version_id]
        needs = cache.get(response_id, version)
        if needs is None:
            facts = ResponseFacts(OrgFacts(*org), "submitted", states[response_id])
            needs = tuple(needs_of(survey, facts, specs))
            cache.put(response_id, version, needs)
        rank = rounds.setdefault(in_round, len(rounds))
        for need in needs:
            key = NeedKey(response_id, need.question_id)
            named = show_names or need.named
            row = NeedRow(
                key=key, round_id=in_round, round_title=title, area=need.area,
                area_label=need.area_label, text=need.text,
                urgency=round(need.urgency) if need.urgency is not None else None,
                can_solve_alone=need.can_solve_alone, help_from=need.help_from,
                org_code=org[0] if named else None, org_name=org[1] if named else None,
                county_code=org[2] if named else None, county_name=org[3] if named else None,
                may_name=need.named, submitted_at=submitted_at,
                tags=tuple(sorted(tags[key], key=str.casefold)) if key in tags else (),
                quotable=key in quotable, actions=tuple(linked.get(key, ())),
                new_area=is_new_area(area_questions[version_id][need.question_id], need.area,
                                     earlier.get(response_id)),
            )  # fmt: skip
            urgency = need.urgency if need.urgency is not None else -1.0
            order = (rank, area_order[need.area], -urgency, need.text.casefold(), response_id)
            found.append((order, row))
    found.sort(key=lambda pair: pair[0])
    return [row for _, row in found]


async def previous_areas(
    session: AsyncSession,
    catalog: SurveyCatalog,
    response_ids: set[int],
    cache: NeedCache | None = None,
) -> dict[int, frozenset[tuple[str, str]]]:
    """For each of these submitted responses that has one: the areas its organisation chose
    in its previous submitted response to the same survey key, in an earlier open or closed
    round (by opening time, then id) whose audience it was in. Two queries at most."""
    if not response_ids:
        return {}
    cache = cache if cache is not None else NeedCache()
    rows = await session.execute(
        select(
            Response.id, Response.version, Response.organisation_id, Round.status,
            Round.survey_version_id, SurveyVersion.key,
        )
        .join(Round, Round.id == Response.round_id)
        .join(SurveyVersion, SurveyVersion.id == Round.survey_version_id)
        .join(
            RoundOrganisation,
            and_(
                RoundOrganisation.round_id == Response.round_id,
                RoundOrganisation.organisation_id == Response.organisation_id,
            ),
        )
        .where(Response.status == "submitted")
        .order_by(Round.opens_at, Round.id)
    )  # fmt: skip
    last: dict[tuple[int, str], tuple[int, int, int]] = {}  # (org, key) -> previous response
    wanted: dict[int, tuple[int, int, int]] = {}  # response -> (id, version, survey version)
    for response_id, version, organisation_id, status, version_id, key in rows:
        before = last.get((organisation_id, key))
        if response_id in response_ids and before is not None:
            wanted[response_id] = before
        if status in ("open", "closed"):
            last[(organisation_id, key)] = (response_id, version, version_id)
    unknown = [rid for rid, ver, _ in wanted.values() if cache.areas(rid, ver) is None]
    states = await _states(session, sorted(set(unknown)))
    found: dict[int, frozenset[tuple[str, str]]] = {}
    for response_id, (previous_id, version, version_id) in wanted.items():
        areas = cache.areas(previous_id, version)
        if areas is None:
            survey = await catalog.get(session, version_id)
            areas = chosen_areas(survey, states[previous_id])
            cache.put_areas(previous_id, version, areas)
        found[response_id] = areas
    return found


async def _states(session: AsyncSession, response_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The answers of these responses, as their engine state holds them."""
    answers: dict[int, dict[str, Any]] = {}
    for start in range(0, len(response_ids), STATE_BATCH):
        batch = response_ids[start : start + STATE_BATCH]
        for response_id, state in await session.execute(
            select(Response.id, Response.state).where(Response.id.in_(batch))
        ):
            answers[response_id] = ResponseState.model_validate(state).answers
    return answers


async def _marks(
    session: AsyncSession, round_id: int | None
) -> tuple[dict[NeedKey, list[str]], set[NeedKey], dict[NeedKey, list[LinkedAction]]]:
    """What staff added to the needs: tags, quotable marks and links to actions (never
    cached with the needs, so a change shows at once)."""
    tag_query = select(NeedTag.response_id, NeedTag.question_id, NeedTag.label)
    quote_query = select(QuotableNeed.response_id, QuotableNeed.question_id)
    action_query = (
        select(ActionNeed.response_id, ActionNeed.question_id, KsAction.id, KsAction.title,
               KsAction.status)
        .join(KsAction, KsAction.id == ActionNeed.action_id)
        .order_by(KsAction.id)
    )  # fmt: skip
    if round_id is not None:
        action_query = action_query.join(Response, Response.id == ActionNeed.response_id).where(
            Response.round_id == round_id
        )
        tag_query = tag_query.join(Response, Response.id == NeedTag.response_id).where(
            Response.round_id == round_id
        )
        quote_query = quote_query.join(Response, Response.id == QuotableNeed.response_id).where(
            Response.round_id == round_id
        )
    tags: dict[NeedKey, list[str]] = {}
    for response_id, question_id, label in await session.execute(tag_query):
        tags.setdefault(NeedKey(response_id, question_id), []).append(label)
    quotable = {NeedKey(r, q) for r, q in await session.execute(quote_query)}
    linked: dict[NeedKey, list[LinkedAction]] = {}
    for response_id, question_id, action_id, title, status in await session.execute(action_query):
        linked.setdefault(NeedKey(response_id, question_id), []).append(
            LinkedAction(action_id, title, status)
        )
    return tags, quotable, linked


async def browse_needs(
    session: AsyncSession,
    catalog: SurveyCatalog,
    filters: NeedFilter = NeedFilter(),
    *,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    show_names: bool = True,
    cache: NeedCache | None = None,
) -> NeedsPage:
    """A page of the needs that pass ``filters``, the total, and the filters' choices.

    ``show_names`` off (a viewer): organisations that did not consent are not named, and
    filtering by organisation or county finds only those that did. ``cache``: see
    ``NeedCache`` (the server keeps one).
    """
    offset = max(0, offset)
    limit = min(max(1, limit), MAX_PAGE_SIZE)
    needs = await all_needs(session, catalog, filters.round_id, show_names=show_names, cache=cache)
    chosen = [need for need in needs if filters.matches(need)]
    return NeedsPage(
        needs=tuple(chosen[offset : offset + limit]),
        total=len(chosen),
        offset=offset,
        limit=limit,
        choices=need_choices(needs),
    )


async def needs_xlsx(
    session: AsyncSession,
    catalog: SurveyCatalog,
    filters: NeedFilter = NeedFilter(),
    *,
    show_names: bool = True,
    title: str = "Behov",
    description: Sequence[str] = (),
    cache: NeedCache | None = None,
) -> bytes:
    """Every need that passes ``filters`` as an XLSX workbook (``reports/needs_sheet.py``)."""
    needs = await all_needs(session, catalog, filters.round_id, show_names=show_names, cache=cache)
    return needs_workbook(
        [need for need in needs if filters.matches(need)], title=title, description=description
    )


def need_choices(needs: Iterable[NeedRow]) -> NeedChoices:
    """The values each filter can take among ``needs``, with counts: rounds and areas in
    the order the needs come in, urgencies descending, counties by number, the rest
    alphabetically."""
    buckets: dict[str, dict[str, Choice]] = {
        name: {} for name in ("rounds", "areas", "urgencies", "help_from", "counties", "tags")
    }

    def count(name: str, value: str, label: str) -> None:
        seen = buckets[name].get(value)
        buckets[name][value] = Choice(value, label, seen.needs + 1 if seen else 1)

    for need in needs:
        count("rounds", str(need.round_id), need.round_title)
        count("areas", need.area, need.area_label)
        if need.urgency is not None:
            count("urgencies", str(need.urgency), str(need.urgency))
        for helper in need.help_from:
            count("help_from", helper, helper)
        if need.county_code is not None:
            count("counties", need.county_code, need.county_name or need.county_code)
        for tag in need.tags:
            count("tags", tag.casefold(), tag)

    def listed(name: str) -> list[Choice]:
        return list(buckets[name].values())

    return NeedChoices(
        rounds=tuple(listed("rounds")),
        areas=tuple(listed("areas")),
        urgencies=tuple(sorted(listed("urgencies"), key=lambda c: -int(c.value))),
        help_from=tuple(sorted(listed("help_from"), key=lambda c: c.label.casefold())),
        counties=tuple(sorted(listed("counties"), key=lambda c: c.value)),
        tags=tuple(sorted(listed("tags"), key=lambda c: c.label.casefold())),
    )


async def need_row(
    session: AsyncSession, catalog: SurveyCatalog, key: NeedKey, cache: NeedCache | None = None
) -> NeedRow:
    """One need by its key (with its tags); ``NeedError`` if there is no such need."""
    response = await session.get(Response, key.response_id)
    if response is None or response.status != "submitted":
        raise NeedError(f"fant ikke behov {key.token}")
    for need in await all_needs(session, catalog, response.round_id, cache=cache):
        if need.key == key:
            return need
    raise NeedError(f"fant ikke behov {key.token}")
