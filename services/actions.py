"""KS's actions ("dere sa, vi gjorde", ADR 23): what KS does about what members said.

An action has a title, a description, a status (planned, in progress, done, dropped), a
responsible unit and dates. It answers areas of a round (options of the round survey's
area question) and single needs (free-text need answers, named by ``NeedKey`` exactly as
the needs browser and staff's tags name them). The CLI, the chat and the workspace call
these functions; each write is recorded in the audit log in the caller's transaction.

An organisation is *linked* to an action through its needs only: an area link says what
the action is about, but it names no organisation's own words, and a notice must name
the organisation's own need. Linked organisations are told, in their chat and through the
paced outbox, when an action is created with their needs, when their first need is linked
to it (about its current state), and when its status changes: once per organisation per
change, held by the ``action_notices`` primary key (inserted first; on conflict nothing is
sent). A status is news once: an organisation already told that an action started is not
told again when its status goes back and forth.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import action_texts
from dialogs.action_texts import CriterionRating, MemberAction, NeedQuote
from dialogs.i18n import SOURCE, speaking
from dialogs.model import Survey
from dialogs.state import ResponseState
from reports.actions_section import ActionLine, ActionsSection, actions_section
from reports.summary import OrgFacts, ResponseFacts, area_specs, needs_of
from services import action_plans, audit
from services.action_plans import PlanStep, linked_organisations
from services.languages import language_of
from services.rounds import reachable_chats
from services.surveys import SurveyCatalog
from services.views_needs import NeedKey
from storage import outbox
from storage.orm import (
    ActionArea,
    ActionCriterion,
    ActionNeed,
    ActionNotice,
    KsAction,
    NeedTag,
    Organisation,
    Response,
    Round,
    RoundOrganisation,
)
from storage.upsert import insert_ignoring_conflicts

STATUSES = action_texts.STATUSES
STATUS_SPELLINGS = {  # what staff may type: the stored value, or the Norwegian name
    "planned": "planned", "planlagt": "planned",
    "in_progress": "in_progress", "in-progress": "in_progress", "started": "in_progress",
    "i_gang": "in_progress", "igang": "in_progress", "i gang": "in_progress",
    "done": "done", "gjennomført": "done", "gjennomfort": "done", "ferdig": "done",
    "dropped": "dropped", "lagt_bort": "dropped", "lagt bort": "dropped",
}  # fmt: skip
MAX_TITLE = 200
MAX_UNIT = 200
MAX_DESCRIPTION = 4000
NOTICE_KIND = "action_notice"
CREATED = "created"  # the change key of an organisation's first notice about an action


class ActionError(ValueError):
    """Something about an action that cannot be done; the message is Norwegian (staff
    read it in the workspace and the CLI)."""


class _Keep(Enum):
    KEEP = 0


KEEP = _Keep.KEEP  # "leave this field as it is" for ``edit_action``


def parse_status(text: str) -> str:
    """The stored status for what staff typed; ``ActionError`` if it is none."""
    status = STATUS_SPELLINGS.get(" ".join(text.strip().lower().split()))
    if status is None:
        raise ActionError(
            f"ukjent status «{text.strip()}»: planned (planlagt), in_progress (i gang), "
            "done (gjennomført) eller dropped (lagt bort)"
        )
    return status


# --- what the doors see -------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaLink:
    """An area of a round an action answers."""

    round_id: int
    round_title: str
    area: str
    area_label: str


@dataclass(frozen=True)
class LinkedNeed:
    """A need linked to an action, with where it came from (staff see the organisation)."""

    key: NeedKey
    organisation_id: int
    org_code: str
    org_name: str
    round_id: int
    round_title: str
    area: str
    area_label: str
    text: str  # empty when the free text is no longer kept


@dataclass(frozen=True)
class ActionSummary:
    """An action in a list: its fields and how much it is linked to."""

    id: int
    title: str
    status: str
    responsible_unit: str
    starts_on: date | None
    ends_on: date | None
    areas: int
    needs: int
    organisations: int
    status_changed_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "status": self.status,
            "status_name": action_texts.status_name(self.status),
            "responsible_unit": self.responsible_unit,
            "starts_on": self.starts_on.isoformat() if self.starts_on else None,
            "ends_on": self.ends_on.isoformat() if self.ends_on else None,
            "areas": self.areas, "needs": self.needs, "organisations": self.organisations,
            "status_changed_at": self.status_changed_at.isoformat(),
        }  # fmt: skip


@dataclass(frozen=True)
class ActionDetail:
    """One action with everything linked to it and staff's assessment."""

    id: int
    title: str
    description: str
    status: str
    responsible_unit: str
    starts_on: date | None
    ends_on: date | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime
    areas: tuple[AreaLink, ...]
    needs: tuple[LinkedNeed, ...]
    criteria: tuple[CriterionRating, ...]

    @property
    def organisations(self) -> tuple[int, ...]:
        """The organisations linked through their needs."""
        return tuple(sorted({need.organisation_id for need in self.needs}))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "description": self.description,
            "status": self.status, "status_name": action_texts.status_name(self.status),
            "responsible_unit": self.responsible_unit,
            "starts_on": self.starts_on.isoformat() if self.starts_on else None,
            "ends_on": self.ends_on.isoformat() if self.ends_on else None,
            "created_by": self.created_by, "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "status_changed_at": self.status_changed_at.isoformat(),
            "areas": [
                {"round_id": a.round_id, "round_title": a.round_title, "area": a.area,
                 "area_label": a.area_label}
                for a in self.areas
            ],
            "needs": [
                {"need": n.key.token, "response_id": n.key.response_id,
                 "question_id": n.key.question_id, "org": n.org_code, "org_name": n.org_name,
                 "round_id": n.round_id, "round_title": n.round_title, "area": n.area,
                 "area_label": n.area_label, "text": n.text}
                for n in self.needs
            ],
            "organisations": len(self.organisations),
            "criteria": [
                {"criterion": c.criterion, "rating": c.rating, "reasoning": c.reasoning}
                for c in self.criteria
            ],
        }  # fmt: skip


@dataclass(frozen=True)
class LinkResult:
    """What linking or unlinking did: the needs or areas that changed, those that were
    already so, and how many notices were queued (organisations told)."""

    action_id: int
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    organisations_told: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.action_id, "changed": list(self.changed),
            "unchanged": list(self.unchanged), "organisations_told": self.organisations_told,
        }  # fmt: skip


@dataclass(frozen=True)
class StatusChange:
    """A status set: from what, to what, and how many organisations were told."""

    action_id: int
    before: str
    after: str
    organisations_told: int

    @property
    def changed(self) -> bool:
        return self.before != self.after


# --- reading -----------------------------------------------------------------------------------


async def load_action(session: AsyncSession, action_id: int) -> KsAction:
    """The action by id; ``ActionError`` if there is none."""
    action = await session.get(KsAction, action_id)
    if action is None:
        raise ActionError(f"fant ikke tiltak {action_id}")
    return action


async def round_areas(
    session: AsyncSession, catalog: SurveyCatalog, round_id: int, language: str = SOURCE
) -> dict[str, str]:
    """The areas of a round (options of its survey's area question): value -> label, the
    labels in ``language`` (the workspace's are bokmål)."""
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise ActionError(f"fant ikke runde {round_id}")
    return _areas_of(await catalog.get(session, round_.survey_version_id, language))


def _areas_of(survey: Survey) -> dict[str, str]:
    return {o.value: o.label for spec in area_specs(survey) for o in spec.question.options}


async def _require_area(
    session: AsyncSession, catalog: SurveyCatalog, round_id: int, area: str
) -> str:
    """The label of ``area`` in the round; ``ActionError`` if the round does not ask it."""
    areas = await round_areas(session, catalog, round_id)
    if area not in areas:
        listed = ", ".join(areas) if areas else "ingen"
        raise ActionError(f"runde {round_id} har ikke området «{area}» (områdene: {listed})")
    return areas[area]


@dataclass(frozen=True)
class _NeedInfo:
    organisation_id: int
    round_id: int
    round_title: str
    area: str
    area_label: str
    text: str
    found: bool  # a need of a submitted response, with its text, by the summary's rules


async def _needs_info(
    session: AsyncSession, catalog: SurveyCatalog, keys: Iterable[NeedKey]
) -> dict[NeedKey, _NeedInfo]:
    """What each key names, for the keys of existing responses. ``found`` is False where the
    response is not submitted or holds no need text at that question (e.g. erased): the
    area is then read from the survey, and the text is empty."""
    wanted = set(keys)
    if not wanted:
        return {}
    rows = await session.execute(
        select(
            Response.id, Response.organisation_id, Response.status, Response.state,
            Round.id, Round.title, Round.survey_version_id,
        )
        .join(Round, Round.id == Response.round_id)
        .where(Response.id.in_({key.response_id for key in wanted}))
    )  # fmt: skip
    found: dict[NeedKey, _NeedInfo] = {}
    for response_id, org_id, status, state, round_id, title, version_id in rows:
        survey = await catalog.get(session, version_id)
        specs = area_specs(survey)
        needs = {}
        if status == "submitted":
            answers = ResponseState.model_validate(state).answers
            facts = ResponseFacts(OrgFacts("", "", "", ""), "submitted", answers)
            needs = {need.question_id: need for need in needs_of(survey, facts, specs)}
        for key in (k for k in wanted if k.response_id == response_id):
            need = needs.get(key.question_id)
            if need is not None:
                found[key] = _NeedInfo(
                    org_id, round_id, title, need.area, need.area_label, need.text, True
                )
                continue
            area = next(
                (
                    (area, spec.question.option(area))
                    for spec in specs
                    for area, questions in spec.needs.items()
                    if any(q.id == key.question_id for q in questions)
                ),
                None,
            )
            if area is not None:
                option = area[1]
                label = option.label if option is not None else area[0]
                found[key] = _NeedInfo(org_id, round_id, title, area[0], label, "", False)
    return found


async def _require_needs(
    session: AsyncSession, catalog: SurveyCatalog, keys: Sequence[NeedKey]
) -> dict[NeedKey, _NeedInfo]:
    """Every key's need; ``ActionError`` naming those that are not a need of a submitted
    response (as staff's tags require)."""
    info = await _needs_info(session, catalog, keys)
    missing = [key.token for key in keys if key not in info or not info[key].found]
    if missing:
        raise ActionError(f"fant ikke behov {', '.join(missing)}")
    return info


async def _linked_keys(session: AsyncSession, action_id: int) -> list[NeedKey]:
    return [
        NeedKey(response_id, question_id)
        for response_id, question_id in await session.execute(
            select(ActionNeed.response_id, ActionNeed.question_id)
            .where(ActionNeed.action_id == action_id)
            .order_by(ActionNeed.response_id, ActionNeed.question_id)
        )
    ]


async def _criteria(
    session: AsyncSession, action_ids: Sequence[int]
) -> dict[int, list[CriterionRating]]:
    found: dict[int, list[CriterionRating]] = defaultdict(list)
    if not action_ids:
        return found
    for row in await session.scalars(
        select(ActionCriterion)
        .where(ActionCriterion.action_id.in_(action_ids))
        .order_by(ActionCriterion.action_id, ActionCriterion.criterion)
    ):
        found[row.action_id].append(CriterionRating(row.criterion, row.rating, row.reasoning))
    return found


async def get_action(session: AsyncSession, catalog: SurveyCatalog, action_id: int) -> ActionDetail:
    """One action with its areas, needs (with their organisations) and assessment."""
    action = await load_action(session, action_id)
    areas = []
    labels: dict[int, dict[str, str]] = {}
    for round_id, round_title, area in await session.execute(
        select(ActionArea.round_id, Round.title, ActionArea.area)
        .join(Round, Round.id == ActionArea.round_id)
        .where(ActionArea.action_id == action_id)
        .order_by(ActionArea.round_id, ActionArea.area)
    ):
        if round_id not in labels:
            labels[round_id] = await round_areas(session, catalog, round_id)
        areas.append(AreaLink(round_id, round_title, area, labels[round_id].get(area, area)))
    keys = await _linked_keys(session, action_id)
    info = await _needs_info(session, catalog, keys)
    orgs = {
        org_id: (code, name)
        for org_id, code, name in await session.execute(
            select(Organisation.id, Organisation.code, Organisation.name).where(
                Organisation.id.in_({i.organisation_id for i in info.values()})
            )
        )
    }
    needs = [
        LinkedNeed(
            key, i.organisation_id, *orgs[i.organisation_id], i.round_id, i.round_title,
            i.area, i.area_label, i.text,
        )
        for key in keys
        if (i := info.get(key)) is not None
    ]  # fmt: skip
    criteria = (await _criteria(session, [action_id])).get(action_id, [])
    return ActionDetail(
        id=action.id, title=action.title, description=action.description,
        status=action.status, responsible_unit=action.responsible_unit,
        starts_on=action.starts_on, ends_on=action.ends_on, created_by=action.created_by,
        created_at=action.created_at, updated_at=action.updated_at,
        status_changed_at=action.status_changed_at, areas=tuple(areas), needs=tuple(needs),
        criteria=tuple(criteria),
    )  # fmt: skip


async def list_actions(session: AsyncSession, status: str | None = None) -> list[ActionSummary]:
    """Every action (or those with ``status``), newest first, with counts of what is linked."""
    statement = select(KsAction).order_by(KsAction.id.desc())
    if status is not None:
        statement = statement.where(KsAction.status == parse_status(status))
    actions = list(await session.scalars(statement))
    ids = [a.id for a in actions]
    areas = dict(
        (await session.execute(
            select(ActionArea.action_id, func.count())
            .where(ActionArea.action_id.in_(ids))
            .group_by(ActionArea.action_id)
        )).all()
    ) if ids else {}  # fmt: skip
    needs = dict(
        (await session.execute(
            select(ActionNeed.action_id, func.count())
            .where(ActionNeed.action_id.in_(ids))
            .group_by(ActionNeed.action_id)
        )).all()
    ) if ids else {}  # fmt: skip
    orgs = dict(
        (await session.execute(
            select(ActionNeed.action_id, func.count(func.distinct(Response.organisation_id)))
            .join(Response, Response.id == ActionNeed.response_id)
            .where(ActionNeed.action_id.in_(ids))
            .group_by(ActionNeed.action_id)
        )).all()
    ) if ids else {}  # fmt: skip
    return [
        ActionSummary(
            a.id, a.title, a.status, a.responsible_unit, a.starts_on, a.ends_on,
            areas.get(a.id, 0), needs.get(a.id, 0), orgs.get(a.id, 0), a.status_changed_at,
        )
        for a in actions
    ]  # fmt: skip


# --- writing -----------------------------------------------------------------------------------


def _clean_text(text: str, limit: int, what: str, *, required: bool = False) -> str:
    cleaned = text.strip()
    if required and not cleaned:
        raise ActionError(f"{what} kan ikke være tom")
    if len(cleaned) > limit:
        raise ActionError(f"{what} kan ha høyst {limit} tegn (har {len(cleaned)})")
    return cleaned


def _check_dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on and ends_on and ends_on < starts_on:
        raise ActionError(
            f"sluttdatoen ({ends_on.isoformat()}) er før startdatoen ({starts_on.isoformat()})"
        )


def field_problems(
    *,
    title: str,
    description: str,
    responsible_unit: str,
    starts_on: date | None,
    ends_on: date | None,
) -> dict[str, str]:
    """Every problem ``create_action`` or ``edit_action`` would refuse these fields for,
    by field (``title``, ``description``, ``responsible_unit``, ``ends_on``), in the same
    words: for a form that names each problem beside its field."""
    checks: dict[str, Callable[[], object]] = {
        "title": lambda: _clean_text(title, MAX_TITLE, "tittelen", required=True),
        "description": lambda: _clean_text(description, MAX_DESCRIPTION, "beskrivelsen"),
        "responsible_unit": lambda: _clean_text(responsible_unit, MAX_UNIT, "ansvarlig enhet"),
        "ends_on": lambda: _check_dates(starts_on, ends_on),
    }
    problems = {}
    for name, check in checks.items():
        try:
            check()
        except ActionError as error:
            problems[name] = str(error)
    return problems


def step_due(step: PlanStep, action_status: str, now: datetime, zone: ZoneInfo) -> bool:
    """Whether a dissemination step is due now, as its reminder and «Til oppfølging» count
    it: its day has come in KS's zone, its notice is not sent, and the action's results are
    to be spread (it is not laid aside)."""
    return (
        step.due_on <= action_plans.today(now, zone)
        and step.notice_sent_at is None
        and action_status not in action_plans.NOT_SPREAD
    )


async def create_action(
    session: AsyncSession,
    catalog: SurveyCatalog,
    *,
    title: str,
    description: str = "",
    status: str = "planned",
    responsible_unit: str = "",
    starts_on: date | None = None,
    ends_on: date | None = None,
    needs: Sequence[NeedKey] = (),
    areas: Sequence[tuple[int, str]] = (),
    actor: audit.Actor,
    now: datetime,
) -> tuple[KsAction, int]:
    """A new action, with any needs and areas (round id, area) linked at once. Returns the
    action and how many organisations were told (those whose needs it answers)."""
    status = parse_status(status)
    _check_dates(starts_on, ends_on)
    for round_id, area in areas:
        await _require_area(session, catalog, round_id, area)
    await _require_needs(session, catalog, needs)
    action = KsAction(
        title=_clean_text(title, MAX_TITLE, "tittelen", required=True),
        description=_clean_text(description, MAX_DESCRIPTION, "beskrivelsen"),
        status=status,
        responsible_unit=_clean_text(responsible_unit, MAX_UNIT, "ansvarlig enhet"),
        starts_on=starts_on, ends_on=ends_on, created_by=actor.label[:120],
        created_at=now, updated_at=now, status_changed_at=now,
    )  # fmt: skip
    session.add(action)
    await session.flush()
    await _insert_areas(session, action.id, areas)
    await _insert_needs(session, action.id, needs, actor, now)
    audit.record(
        session, actor, "action.create", f"action:{action.id}", now,
        status=status, needs=len(set(needs)), areas=len(set(areas)),
    )  # fmt: skip
    told = await _tell_first(
        session, catalog, action, await linked_organisations(session, action.id), now
    )
    return action, told


async def edit_action(
    session: AsyncSession,
    action_id: int,
    *,
    title: str | _Keep = KEEP,
    description: str | _Keep = KEEP,
    responsible_unit: str | _Keep = KEEP,
    starts_on: date | None | _Keep = KEEP,
    ends_on: date | None | _Keep = KEEP,
    actor: audit.Actor,
    now: datetime,
) -> KsAction:
    """Change an action's fields (not its status: ``set_status`` tells members)."""
    action = await load_action(session, action_id)
    changed: list[str] = []
    if not isinstance(title, _Keep):
        cleaned = _clean_text(title, MAX_TITLE, "tittelen", required=True)
        if cleaned != action.title:
            action.title = cleaned
            changed.append("title")
    if not isinstance(description, _Keep):
        cleaned = _clean_text(description, MAX_DESCRIPTION, "beskrivelsen")
        if cleaned != action.description:
            action.description = cleaned
            changed.append("description")
    if not isinstance(responsible_unit, _Keep):
        cleaned = _clean_text(responsible_unit, MAX_UNIT, "ansvarlig enhet")
        if cleaned != action.responsible_unit:
            action.responsible_unit = cleaned
            changed.append("responsible_unit")
    new_start = action.starts_on if isinstance(starts_on, _Keep) else starts_on
    new_end = action.ends_on if isinstance(ends_on, _Keep) else ends_on
    _check_dates(new_start, new_end)
    if new_start != action.starts_on:
        action.starts_on = new_start
        changed.append("starts_on")
    if new_end != action.ends_on:
        action.ends_on = new_end
        changed.append("ends_on")
    if changed:
        action.updated_at = now
        audit.record(session, actor, "action.edit", f"action:{action.id}", now, fields=changed)
    return action


async def set_status(
    session: AsyncSession,
    catalog: SurveyCatalog,
    action_id: int,
    status: str,
    *,
    actor: audit.Actor,
    now: datetime,
) -> StatusChange:
    """Set an action's status and tell each linked organisation, once per status."""
    action = await load_action(session, action_id)
    status = parse_status(status)
    before = action.status
    if status == before:
        return StatusChange(action.id, before, status, 0)
    action.status = status
    action.status_changed_at = now
    action.updated_at = now
    audit.record(
        session, actor, "action.status", f"action:{action.id}", now, before=before, after=status
    )
    told = 0
    for organisation_id in await linked_organisations(session, action.id):
        if await _claim_notice(session, action.id, organisation_id, _status_change(status), now):
            told += await _send_notice(session, catalog, action, organisation_id, False, now)
    return StatusChange(action.id, before, status, told)


def _status_change(status: str) -> str:
    """How ``action_notices`` names the news that an action got ``status``."""
    return f"status:{status}"


async def status_change_preview(session: AsyncSession, action_id: int, new_status: str) -> int:
    """How many organisations ``set_status`` would tell if the action got ``new_status``
    now, by the same rule: linked organisations not yet told about that status, with a
    contact it can reach in chat (0 when the status is the one it has)."""
    action = await load_action(session, action_id)
    status = parse_status(new_status)
    if status == action.status:
        return 0
    told = set(
        await session.scalars(
            select(ActionNotice.organisation_id).where(
                ActionNotice.action_id == action.id,
                ActionNotice.change == _status_change(status),
            )
        )
    )
    waiting = [o for o in await linked_organisations(session, action.id) if o not in told]
    if not waiting:
        return 0
    return len({organisation.id for _, _, organisation in await reachable_chats(session, waiting)})


async def _insert_areas(
    session: AsyncSession, action_id: int, areas: Iterable[tuple[int, str]]
) -> list[tuple[int, str]]:
    added = []
    for round_id, area in dict.fromkeys(areas):
        if await insert_ignoring_conflicts(
            session, ActionArea.__table__,
            [{"action_id": action_id, "round_id": round_id, "area": area}],
            ["action_id", "round_id", "area"], returning="area",
        ):  # fmt: skip
            added.append((round_id, area))
    return added


async def _insert_needs(
    session: AsyncSession,
    action_id: int,
    keys: Iterable[NeedKey],
    actor: audit.Actor,
    now: datetime,
) -> list[NeedKey]:
    added = []
    for key in dict.fromkeys(keys):
        row = {
            "action_id": action_id, "response_id": key.response_id,
            "question_id": key.question_id, "linked_by": actor.label[:120], "linked_at": now,
        }  # fmt: skip
        if await insert_ignoring_conflicts(
            session, ActionNeed.__table__, [row],
            ["action_id", "response_id", "question_id"], returning="question_id",
        ):  # fmt: skip
            added.append(key)
    return added


async def link_needs(
    session: AsyncSession,
    catalog: SurveyCatalog,
    action_id: int,
    keys: Sequence[NeedKey],
    *,
    actor: audit.Actor,
    now: datetime,
) -> LinkResult:
    """Link needs to an action; organisations linked for the first time are told about it
    as it stands now."""
    action = await load_action(session, action_id)
    if not keys:
        raise ActionError("ingen behov å knytte til tiltaket")
    await _require_needs(session, catalog, keys)
    before = set(await linked_organisations(session, action.id))
    added = await _insert_needs(session, action.id, keys, actor, now)
    after = set(await linked_organisations(session, action.id))
    told = await _tell_first(session, catalog, action, sorted(after - before), now)
    if added:
        audit.record(
            session, actor, "action.link_needs", f"action:{action.id}", now,
            needs=[k.token for k in added], organisations=len(after - before), told=told,
        )  # fmt: skip
    return _link_result(action.id, [k.token for k in added], [k.token for k in keys], told)


async def unlink_needs(
    session: AsyncSession,
    action_id: int,
    keys: Sequence[NeedKey],
    *,
    actor: audit.Actor,
    now: datetime,
) -> LinkResult:
    """Take needs off an action (their organisations are not told; notices already sent
    stay recorded, so linking them again does not tell them twice)."""
    action = await load_action(session, action_id)
    if not keys:
        raise ActionError("ingen behov å ta bort fra tiltaket")
    removed = []
    for key in dict.fromkeys(keys):
        result = await session.execute(
            delete(ActionNeed)
            .where(
                ActionNeed.action_id == action.id,
                ActionNeed.response_id == key.response_id,
                ActionNeed.question_id == key.question_id,
            )
            .returning(ActionNeed.question_id)
        )
        if result.all():
            removed.append(key.token)
    if removed:
        audit.record(
            session, actor, "action.unlink_needs", f"action:{action.id}", now, needs=removed
        )
    return _link_result(action.id, removed, [k.token for k in keys], 0)


def _area_token(round_id: int, area: str) -> str:
    return f"{round_id}:{area}"


async def link_area(
    session: AsyncSession,
    catalog: SurveyCatalog,
    action_id: int,
    round_id: int,
    area: str,
    *,
    actor: audit.Actor,
    now: datetime,
) -> LinkResult:
    """Say that an action answers an area of a round (no one is told: see the docstring)."""
    action = await load_action(session, action_id)
    await _require_area(session, catalog, round_id, area)
    added = await _insert_areas(session, action.id, [(round_id, area)])
    token = _area_token(round_id, area)
    if added:
        audit.record(
            session, actor, "action.link_area", f"action:{action.id}", now,
            round_id=round_id, area=area,
        )  # fmt: skip
    return _link_result(action.id, [token] if added else [], [token], 0)


async def unlink_area(
    session: AsyncSession,
    action_id: int,
    round_id: int,
    area: str,
    *,
    actor: audit.Actor,
    now: datetime,
) -> LinkResult:
    """Take an area of a round off an action."""
    action = await load_action(session, action_id)
    result = await session.execute(
        delete(ActionArea)
        .where(
            ActionArea.action_id == action.id,
            ActionArea.round_id == round_id,
            ActionArea.area == area,
        )
        .returning(ActionArea.area)
    )
    removed = bool(result.all())
    token = _area_token(round_id, area)
    if removed:
        audit.record(
            session, actor, "action.unlink_area", f"action:{action.id}", now,
            round_id=round_id, area=area,
        )  # fmt: skip
    return _link_result(action.id, [token] if removed else [], [token], 0)


async def tagged_needs(session: AsyncSession, round_id: int, label: str) -> list[NeedKey]:
    """The needs of a round's submitted responses that carry ``label`` (capitals ignored):
    an accepted need group is such a label."""
    wanted = " ".join(label.split()).casefold()
    rows = await session.execute(
        select(NeedTag.response_id, NeedTag.question_id, NeedTag.label)
        .join(Response, Response.id == NeedTag.response_id)
        .where(Response.round_id == round_id, Response.status == "submitted")
        .order_by(NeedTag.response_id, NeedTag.question_id)
    )
    return list(dict.fromkeys(NeedKey(r, q) for r, q, used in rows if used.casefold() == wanted))


async def _tagged_or_refuse(session: AsyncSession, round_id: int, label: str) -> list[NeedKey]:
    if await session.get(Round, round_id) is None:
        raise ActionError(f"fant ikke runde {round_id}")
    keys = await tagged_needs(session, round_id, label)
    if not keys:
        raise ActionError(f"ingen behov i runde {round_id} har merkelappen «{label.strip()}»")
    return keys


async def link_tag(
    session: AsyncSession,
    catalog: SurveyCatalog,
    action_id: int,
    round_id: int,
    label: str,
    *,
    actor: audit.Actor,
    now: datetime,
) -> LinkResult:
    """Link every need of a round that carries a label (e.g. an accepted need group)."""
    await load_action(session, action_id)
    keys = await _tagged_or_refuse(session, round_id, label)
    return await link_needs(session, catalog, action_id, keys, actor=actor, now=now)


async def unlink_tag(
    session: AsyncSession,
    action_id: int,
    round_id: int,
    label: str,
    *,
    actor: audit.Actor,
    now: datetime,
) -> LinkResult:
    """Take off every need of a round that carries a label."""
    await load_action(session, action_id)
    keys = await _tagged_or_refuse(session, round_id, label)
    return await unlink_needs(session, action_id, keys, actor=actor, now=now)


def _link_result(action_id: int, changed: list[str], asked: list[str], told: int) -> LinkResult:
    unchanged = tuple(t for t in dict.fromkeys(asked) if t not in set(changed))
    return LinkResult(action_id, tuple(changed), unchanged, told)


# --- notices -----------------------------------------------------------------------------------


async def _claim_notice(
    session: AsyncSession, action_id: int, organisation_id: int, change: str, now: datetime
) -> bool:
    """Record that the organisation is told about ``change``; False if it was already."""
    inserted = await insert_ignoring_conflicts(
        session, ActionNotice.__table__,
        [{"action_id": action_id, "organisation_id": organisation_id, "change": change[:40],
          "queued_at": now}],
        ["action_id", "organisation_id", "change"], returning="organisation_id",
    )  # fmt: skip
    return bool(inserted)


async def _tell_first(
    session: AsyncSession,
    catalog: SurveyCatalog,
    action: KsAction,
    organisation_ids: Iterable[int],
    now: datetime,
) -> int:
    """The first notice to each organisation about an action, as it stands now; not for an
    action laid aside. The current status counts as told, so it is not news again later."""
    if not action_texts.first_notice_possible(action.status):
        return 0
    told = 0
    for organisation_id in organisation_ids:
        if not await _claim_notice(session, action.id, organisation_id, CREATED, now):
            continue
        await _claim_notice(session, action.id, organisation_id, _status_change(action.status), now)
        told += await _send_notice(session, catalog, action, organisation_id, True, now)
    return told


async def _send_notice(
    session: AsyncSession,
    catalog: SurveyCatalog,
    action: KsAction,
    organisation_id: int,
    first: bool,
    now: datetime,
) -> int:
    """Queue the notice to every reachable contact of the organisation; returns 1 if the
    organisation was reached at all (0: no contact has a chat)."""
    quotes = await _quotes(session, catalog, action.id, organisation_id)
    if not quotes:
        return 0
    change = CREATED if first else _status_change(action.status)
    reached = 0
    for chat, contact, organisation in await reachable_chats(session, [organisation_id]):
        with speaking(language_of(contact, organisation)):  # each contact in their language
            message = action_texts.action_notice(
                title=action.title, status=action.status, needs=quotes, first=first
            )
        reached += await outbox.enqueue(
            session,
            outbox.Recipient(chat.channel, chat.address, contact.id),
            [message],
            kind=NOTICE_KIND,
            priority=outbox.PRIORITY_BULK,
            dedupe_key=f"action:{action.id}:{change}:{contact.id}",
            now=now,
        )
    return 1 if reached else 0


async def _quotes(
    session: AsyncSession, catalog: SurveyCatalog, action_id: int, organisation_id: int
) -> list[NeedQuote]:
    """The organisation's own needs linked to the action, oldest round first."""
    keys = [
        NeedKey(response_id, question_id)
        for response_id, question_id in await session.execute(
            select(ActionNeed.response_id, ActionNeed.question_id)
            .join(Response, Response.id == ActionNeed.response_id)
            .where(ActionNeed.action_id == action_id, Response.organisation_id == organisation_id)
            .order_by(ActionNeed.linked_at, ActionNeed.response_id, ActionNeed.question_id)
        )
    ]
    info = await _needs_info(session, catalog, keys)
    return [
        NeedQuote(i.round_title, i.area_label, i.text)
        for key in keys
        if (i := info.get(key)) is not None
    ]


# --- what members see ---------------------------------------------------------------------------


async def actions_for_organisation(
    session: AsyncSession, catalog: SurveyCatalog, organisation_id: int
) -> list[MemberAction]:
    """``/tiltak``: the actions the organisation's needs are linked to, the most recently
    changed first, each with the organisation's own needs and the criteria assessed."""
    actions = list(
        await session.scalars(
            select(KsAction)
            .where(
                KsAction.id.in_(
                    select(ActionNeed.action_id)
                    .join(Response, Response.id == ActionNeed.response_id)
                    .where(Response.organisation_id == organisation_id)
                )
            )
            .order_by(KsAction.status_changed_at.desc(), KsAction.id.desc())
        )
    )
    criteria = await _criteria(session, [a.id for a in actions])
    return [
        MemberAction(
            title=a.title, status=a.status, description=a.description,
            responsible_unit=a.responsible_unit, starts_on=a.starts_on, ends_on=a.ends_on,
            needs=tuple(await _quotes(session, catalog, a.id, organisation_id)),
            criteria=tuple(criteria.get(a.id, ())),
        )
        for a in actions
    ]  # fmt: skip


async def actions_of_rounds(
    session: AsyncSession, round_ids: Sequence[int]
) -> dict[int, list[KsAction]]:
    """For each round, the actions linked to its areas or to needs of its responses (in
    the order they were created)."""
    if not round_ids:
        return {}
    pairs = set(
        (
            await session.execute(
                select(ActionArea.round_id, ActionArea.action_id).where(
                    ActionArea.round_id.in_(round_ids)
                )
            )
        ).all()
    ) | set(
        (
            await session.execute(
                select(Response.round_id, ActionNeed.action_id)
                .join(Response, Response.id == ActionNeed.response_id)
                .where(Response.round_id.in_(round_ids))
            )
        ).all()
    )
    actions = {
        a.id: a
        for a in await session.scalars(
            select(KsAction).where(KsAction.id.in_({action_id for _, action_id in pairs}))
        )
    }
    found: dict[int, list[KsAction]] = defaultdict(list)
    for round_id, action_id in sorted(pairs):
        found[round_id].append(actions[action_id])
    return dict(found)


async def round_actions_section(
    session: AsyncSession, catalog: SurveyCatalog, round_id: int, language: str = SOURCE
) -> ActionsSection:
    """The report's list of actions so far for a round: title, status, the round's areas
    each answers and how many of the round's needs are linked to it."""
    linked = (await actions_of_rounds(session, [round_id])).get(round_id, [])
    if not linked:
        return actions_section([])
    ids = [a.id for a in linked]
    labels = await round_areas(session, catalog, round_id, language)
    areas: dict[int, list[str]] = defaultdict(list)
    for action_id, area in await session.execute(
        select(ActionArea.action_id, ActionArea.area)
        .where(ActionArea.round_id == round_id, ActionArea.action_id.in_(ids))
        .order_by(ActionArea.area)
    ):
        areas[action_id].append(labels.get(area, area))
    needs = dict(
        (
            await session.execute(
                select(ActionNeed.action_id, func.count())
                .join(Response, Response.id == ActionNeed.response_id)
                .where(Response.round_id == round_id, ActionNeed.action_id.in_(ids))
                .group_by(ActionNeed.action_id)
            )
        ).all()
    )
    return actions_section(
        [
            ActionLine(a.id, a.title, a.status, tuple(areas.get(a.id, ())), needs.get(a.id, 0))
            for a in linked
        ]
    )


async def organisations_choosing(
    session: AsyncSession, catalog: SurveyCatalog, round_id: int, area: str
) -> list[int]:
    """The organisations whose submitted response in the round chose ``area`` (effective
    answers only, in the round's audience); ``ActionError`` for an unknown round or area."""
    await _require_area(session, catalog, round_id, area)
    round_ = await session.get(Round, round_id)
    assert round_ is not None  # checked by _require_area
    survey = await catalog.get(session, round_.survey_version_id)
    questions = [spec.question.id for spec in area_specs(survey) if spec.question.option(area)]
    rows = await session.execute(
        select(Response.organisation_id, Response.state)
        .join(
            RoundOrganisation,
            and_(
                RoundOrganisation.round_id == Response.round_id,
                RoundOrganisation.organisation_id == Response.organisation_id,
            ),
        )
        .where(Response.round_id == round_id, Response.status == "submitted")
    )
    chose = set()
    for organisation_id, state in rows:
        answers = survey.effective_answers(ResponseState.model_validate(state).answers)
        for question_id in questions:
            answer = answers.get(question_id)
            if isinstance(answer, list) and area in answer:
                chose.add(organisation_id)
    return sorted(chose)


async def action_choices(session: AsyncSession) -> list[tuple[int, str, str]]:
    """Every action as (id, title, status), newest first: for a segment picker."""
    return [
        (action_id, title, status)
        for action_id, title, status in await session.execute(
            select(KsAction.id, KsAction.title, KsAction.status).order_by(KsAction.id.desc())
        )
    ]


@dataclass(frozen=True)
class RoundChoice:
    """Something of a round an action can be linked to: an area (``value`` the area,
    ``label`` its name) or a tag (``value`` and ``label`` the tag, ``needs`` how many of
    the round's needs carry it)."""

    round_id: int
    round_title: str
    value: str
    label: str
    needs: int = 0


LINKABLE_ROUNDS = ("open", "closed")  # rounds whose members have said something


async def area_choices(session: AsyncSession, catalog: SurveyCatalog) -> list[RoundChoice]:
    """The areas of every open or closed round (newest round first), for a picker of
    ``link_area``'s round and area."""
    found: list[RoundChoice] = []
    for round_id, title in await session.execute(
        select(Round.id, Round.title)
        .where(Round.status.in_(LINKABLE_ROUNDS))
        .order_by(Round.id.desc())
    ):
        areas = await round_areas(session, catalog, round_id)
        found += [RoundChoice(round_id, title, area, label) for area, label in areas.items()]
    return found


async def tag_choices(session: AsyncSession) -> list[RoundChoice]:
    """The tags on needs of submitted responses, per round (newest round first, tags
    alphabetically, capitals ignored as ``tagged_needs`` ignores them), with how many
    needs carry each: for a picker of ``link_tag``'s round and tag."""
    rows = await session.execute(
        select(Round.id, Round.title, NeedTag.label, NeedTag.response_id, NeedTag.question_id)
        .join(Response, Response.id == NeedTag.response_id)
        .join(Round, Round.id == Response.round_id)
        .where(Response.status == "submitted")
        .order_by(Round.id.desc(), NeedTag.label)
    )
    tags: dict[tuple[int, str], tuple[str, str, set[tuple[int, str]]]] = {}
    for round_id, title, label, response_id, question_id in rows:
        cleaned = " ".join(label.split())
        _, shown, needs = tags.setdefault((round_id, cleaned.casefold()), (title, cleaned, set()))
        needs.add((response_id, question_id))
    return [
        RoundChoice(round_id, title, shown, shown, len(needs))
        for (round_id, key), (title, shown, needs) in sorted(
            tags.items(), key=lambda item: (-item[0][0], item[0][1])
        )
    ]
