"""Tiltak: KS's actions on what members said ("dere sa, vi gjorde", ADR 23 and 24).

The list of actions (filtered by status), a form to create one, and each action's page:
its details to edit, its status changed after a confirmation that says how many
organisations will be told, the areas and needs it answers (areas and a tag's needs are
linked here, single needs from the needs browser), the assessment against KS's ten known
priority criteria, and the plan for spreading its results with a «Send melding til de
berørte» form for a step that has come due.

Everything goes through ``services/actions.py`` and ``services/action_plans.py``, as
``lyttepost actions`` and ``lyttepost action-plans`` do; each write is audited there, in
the same transaction. Viewers read the pages without the organisations' names; staff
write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from aiohttp import web

from bot.web.context import Workspace, workspace_of
from bot.web.render import page
from bot.web.security import actor_of, guarded, path_id, see_other, visitor_of
from dialogs.action_texts import STATUS_NAMES, STATUSES
from dialogs.criteria import RATINGS
from dialogs.dissemination_texts import day, linked_organisations
from dialogs.texts import antall
from services import action_plans, actions
from services.action_plans import PlanError
from services.actions import ActionError
from services.staff import has_role, list_staff, staff_by_id
from services.views_needs import NeedError, NeedKey

ONE = r"/tiltak/{action_id:\d+}"
STEP = ONE + r"/plan/{step_id:\d+}"
MAX_FIELD = 5000  # the longest value read from a form field (the services check their own)
DONE = {
    "opprettet": "Tiltaket er opprettet.",
    "lagret": "Endringene er lagret.",
    "uendret": "Ingenting var endret.",
    "omrade": "Området er knyttet til tiltaket.",
    "omrade-fjernet": "Området er tatt bort fra tiltaket.",
    "behov-fjernet": "Behovet er tatt bort fra tiltaket. Organisasjonen får ingen melding om det.",
    "kriterier": "Vurderingen er lagret.",
    "steg": "Steget er lagt til i planen.",
    "steg-lagret": "Steget er lagret.",
    "steg-fjernet": "Steget er fjernet fra planen.",
}
# The form's name for each field of an action (Norwegian, as the workspace's other forms).
FIELDS = {
    "title": "tittel",
    "description": "beskrivelse",
    "responsible_unit": "enhet",
    "starts_on": "start",
    "ends_on": "slutt",
}


def sentence(message: str) -> str:
    """A service's message as a sentence: capital first, full stop last."""
    message = message.strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith((".", "?", "!")) else ".")


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def _may_write(request: web.Request) -> bool:
    return has_role(visitor_of(request).staff, "staff")


def read_day(text: str) -> date | None:
    """A date field: ``2027-04-01`` (what a date field sends) or ``1.4.2027`` (typed);
    empty is None; ``ValueError`` for anything else."""
    cleaned = text.strip()
    if not cleaned:
        return None
    try:
        return date.fromisoformat(cleaned)
    except ValueError:
        pass
    parts = cleaned.split(".")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return date(int(parts[2]), int(parts[1]), int(parts[0]))
    raise ValueError(cleaned)


BAD_DAY = "Skriv datoen som dag.måned.år, for eksempel 1.4.2027."


@dataclass(frozen=True)
class ActionForm:
    """An action's fields as typed, read into dates where they are dates, and what is
    wrong with each (by the form's field name)."""

    typed: dict[str, str]
    starts_on: date | None
    ends_on: date | None
    problems: dict[str, str]


def read_action_form(form: Mapping[str, Any]) -> ActionForm:
    """The fields of the create and edit forms, with the services' own checks beside each."""
    typed = {name: _text(form, name) for name in (*FIELDS.values(), "status")}
    problems: dict[str, str] = {}
    days: dict[str, date | None] = {}
    for name in ("start", "slutt"):
        try:
            days[name] = read_day(typed[name])
        except ValueError:
            days[name] = None
            problems[name] = BAD_DAY
    found = actions.field_problems(
        title=typed["tittel"], description=typed["beskrivelse"], responsible_unit=typed["enhet"],
        starts_on=days["start"], ends_on=days["slutt"],
    )  # fmt: skip
    for field, message in found.items():
        problems.setdefault(FIELDS[field], sentence(message))
    return ActionForm(typed, days["start"], days["slutt"], problems)


# --- the list and the create form ------------------------------------------------------------


@guarded("viewer")
async def actions_list(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    chosen = request.query.get("status", "")
    status = chosen if chosen in STATUSES else None
    async with workspace.sessions() as session:
        listed = await actions.list_actions(session, status)
        every = await actions.list_actions(session) if status else listed
    counts = {s: sum(1 for a in every if a.status == s) for s in STATUSES}
    return page(
        request,
        "actions.html",
        {
            "actions": listed,
            "chosen_status": status or "",
            "counts": counts,
            "total": len(every),
            "status_names": STATUS_NAMES,
            "statuses": STATUSES,
            "may_write": _may_write(request),
            "antall": antall,
            "day": day,
        },
        title="Tiltak",
    )


def _create_page(
    request: web.Request, form: ActionForm | None = None, *, status: int = 200
) -> web.StreamResponse:
    return page(
        request,
        "action_new.html",
        {
            "form": form.typed if form else {"status": "planned"},
            "problems": form.problems if form else {},
            "status_names": STATUS_NAMES,
            "statuses": STATUSES,
            "max_title": actions.MAX_TITLE,
            "max_unit": actions.MAX_UNIT,
            "max_description": actions.MAX_DESCRIPTION,
        },
        title="Nytt tiltak",
        status=status,
    )


@guarded("staff")
async def new_action_page(request: web.Request) -> web.StreamResponse:
    return _create_page(request)


@guarded("staff")
async def create(request: web.Request) -> web.StreamResponse:
    """Create an action; what is wrong is named beside its field, with what was typed kept."""
    workspace = workspace_of(request)
    form = read_action_form(await request.post())
    if form.typed["status"] not in STATUSES:
        form.problems["status"] = "Velg en status."
    if form.problems:
        return _create_page(request, form, status=422)
    try:
        async with workspace.sessions.begin() as session:
            action, _ = await actions.create_action(
                session, workspace.catalog, title=form.typed["tittel"],
                description=form.typed["beskrivelse"], status=form.typed["status"],
                responsible_unit=form.typed["enhet"], starts_on=form.starts_on,
                ends_on=form.ends_on, actor=actor_of(request), now=workspace.now(),
            )  # fmt: skip
    except ActionError as error:  # checked above; the service has the last word
        form.problems["tittel"] = sentence(str(error))
        return _create_page(request, form, status=422)
    return see_other(f"/tiltak/{action.id}?utfort=opprettet")


# --- an action's page ------------------------------------------------------------------------


@dataclass(frozen=True)
class Problems:
    """What a form on the action's page got wrong, to show beside it (with what was typed)."""

    edit: dict[str, str] | None = None  # field -> message
    edit_form: dict[str, str] | None = None
    links: str = ""  # areas, tags, needs
    criteria: dict[int, str] | None = None
    criteria_form: dict[int, tuple[str, str]] | None = None
    new_step: str = ""
    new_step_form: dict[str, str] | None = None
    step: int | None = None  # the step whose form (edit or notice) had a problem
    step_problem: str = ""
    step_form: dict[str, str] | None = None


async def _action_page(
    request: web.Request, action_id: int, problems: Problems = Problems(), *, status: int = 200
) -> web.StreamResponse:
    workspace = workspace_of(request)
    may_write = _may_write(request)
    now = workspace.now()
    async with workspace.sessions() as session:
        try:
            detail = await actions.get_action(session, workspace.catalog, action_id)
        except ActionError:
            raise web.HTTPNotFound() from None
        assessment = await action_plans.assessment(session, action_id)
        steps = await action_plans.plan(session, action_id)
        organisations = len(await action_plans.linked_organisations(session, action_id))
        created_by = await _who(session, detail.created_by)
        if may_write:
            areas = await actions.area_choices(session, workspace.catalog)
            tags = await actions.tag_choices(session)
            staff = list(await list_staff(session, include_inactive=False))
        else:
            areas, tags, staff = [], [], []
    rounds: dict[int, str] = {}
    for choice in areas:
        rounds.setdefault(choice.round_id, choice.round_title)
    done = request.query.get("utfort", "")
    notice = DONE.get(done, "")
    told = request.query.get("fortalt", "")
    if done == "status":
        notice = "Statusen er endret."
        if told.isdigit() and len(told) <= 6:
            notice += f" {antall(int(told), 'organisasjon', 'organisasjoner')} får melding i chat."
    elif done == "melding" and told.isdigit() and len(told) <= 6:
        notice = (
            f"Meldingen er lagt i kø til {antall(int(told), 'organisasjon', 'organisasjoner')}"
            " og sendes nå. Steget er gjennomført."
        )
    elif done == "tag" and told.isdigit() and len(told) <= 6:
        notice = f"Behovene med merkelappen er knyttet til tiltaket. {_told(int(told))}"
    return page(
        request,
        "action.html",
        {
            "action": detail,
            "assessment": assessment,
            "steps": steps,
            "due": {s.id for s in steps if actions.step_due(s, detail.status, now, workspace.zone)},
            "organisations": organisations,
            "organisations_text": linked_organisations(organisations)
            if organisations
            else "organisasjonene som meldte behovene tiltaket svarer på",
            "created_by": created_by,
            "may_write": may_write,
            "area_choices": areas,
            "tag_choices": tags,
            "rounds": rounds,
            "staff": staff,
            "status_names": STATUS_NAMES,
            "statuses": STATUSES,
            "ratings": RATINGS,
            "day": day,
            "antall": antall,
            "p": problems,
            "edit_form": problems.edit_form or _fields_of(detail),
            "notice": notice,
            "max_title": actions.MAX_TITLE,
            "max_unit": actions.MAX_UNIT,
            "max_description": actions.MAX_DESCRIPTION,
            "max_reasoning": action_plans.MAX_REASONING,
            "max_channel": action_plans.MAX_CHANNEL,
            "max_step_description": action_plans.MAX_DESCRIPTION,
            "max_notice": action_plans.MAX_NOTICE,
        },
        title=f"Tiltak: {detail.title}",
        status=status,
    )


async def _who(session: Any, label: str) -> str:
    """Who the audit label names: a staff member's name for ``staff:<id>``, else the label
    (``cli``, ``test``)."""
    kind, _, number = label.partition(":")
    if kind == "staff" and number.isdigit():
        try:
            return (await staff_by_id(session, int(number))).name
        except LookupError:
            return label
    return "kommandolinjen" if label == "cli" else label


def _told(count: int) -> str:
    if not count:
        return "Ingen nye organisasjoner får melding."
    return f"{antall(count, 'organisasjon', 'organisasjoner')} får melding i chat."


def _fields_of(detail: actions.ActionDetail) -> dict[str, str]:
    return {
        "tittel": detail.title,
        "beskrivelse": detail.description,
        "enhet": detail.responsible_unit,
        "start": detail.starts_on.isoformat() if detail.starts_on else "",
        "slutt": detail.ends_on.isoformat() if detail.ends_on else "",
    }


@guarded("viewer")
async def action_page(request: web.Request) -> web.StreamResponse:
    return await _action_page(request, path_id(request, "action_id"))


async def _exists(workspace: Workspace, action_id: int) -> None:
    async with workspace.sessions() as session:
        try:
            await actions.load_action(session, action_id)
        except ActionError:
            raise web.HTTPNotFound() from None


@guarded("staff")
async def edit(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    action_id = path_id(request, "action_id")
    await _exists(workspace, action_id)
    form = read_action_form(await request.post())
    if form.problems:
        problems = Problems(edit=form.problems, edit_form=form.typed)
        return await _action_page(request, action_id, problems, status=422)
    try:
        async with workspace.sessions.begin() as session:
            before = (await actions.load_action(session, action_id)).updated_at
            saved = await actions.edit_action(
                session, action_id, title=form.typed["tittel"],
                description=form.typed["beskrivelse"], responsible_unit=form.typed["enhet"],
                starts_on=form.starts_on, ends_on=form.ends_on, actor=actor_of(request),
                now=workspace.now(),
            )  # fmt: skip
            changed = saved.updated_at != before
    except ActionError as error:
        problems = Problems(edit={"tittel": sentence(str(error))}, edit_form=form.typed)
        return await _action_page(request, action_id, problems, status=422)
    return see_other(f"/tiltak/{action_id}?utfort={'lagret' if changed else 'uendret'}#detaljer")


# --- status, with a confirmation that names the count ----------------------------------------


@guarded("staff")
async def confirm_status(request: web.Request) -> web.StreamResponse:
    """What changing the status will do: how many organisations get a notice in chat."""
    workspace = workspace_of(request)
    action_id = path_id(request, "action_id")
    wanted = request.query.get("status", "")
    async with workspace.sessions() as session:
        try:
            action = await actions.load_action(session, action_id)
        except ActionError:
            raise web.HTTPNotFound() from None
        if wanted not in STATUSES:
            return see_other(f"/tiltak/{action_id}#status")
        count = await actions.status_change_preview(session, action_id, wanted)
        linked = len(await action_plans.linked_organisations(session, action_id))
        title, before = action.title, action.status
    return page(
        request,
        "action_status.html",
        {
            "action_id": action_id,
            "action_title": title,
            "before": before,
            "after": wanted,
            "count": count,
            "linked": linked,
            "status_names": STATUS_NAMES,
            "antall": antall,
        },
        title=f"Endre status til {STATUS_NAMES[wanted]}?",
    )


@guarded("staff")
async def set_status(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    action_id = path_id(request, "action_id")
    await _exists(workspace, action_id)
    wanted = _text(await request.post(), "status")
    if wanted not in STATUSES:
        return see_other(f"/tiltak/{action_id}#status")
    async with workspace.sessions.begin() as session:
        change = await actions.set_status(
            session, workspace.catalog, action_id, wanted, actor=actor_of(request),
            now=workspace.now(),
        )  # fmt: skip
    if not change.changed:
        return see_other(f"/tiltak/{action_id}?utfort=uendret#status")
    return see_other(f"/tiltak/{action_id}?utfort=status&fortalt={change.organisations_told}")


# --- links: areas, a tag's needs, single needs ------------------------------------------------


def _round_and(value: str) -> tuple[int, str] | None:
    """``3:helse`` -> ``(3, "helse")``; None when it is not that."""
    round_id, _, rest = value.partition(":")
    if not round_id.isdigit() or len(round_id) > 9 or not rest.strip():
        return None
    return int(round_id), rest.strip()


async def _link(request: web.Request, what: str) -> web.StreamResponse:
    workspace = workspace_of(request)
    action_id = path_id(request, "action_id")
    await _exists(workspace, action_id)
    form = await request.post()
    actor, now = actor_of(request), workspace.now()
    chosen = _round_and(_text(form, "valg"))
    missing = {
        "area": "Velg en runde og et område.",
        "unlink_area": "Velg området som skal tas bort.",
        "tag": "Velg en runde og en merkelapp.",
    }
    if what != "unlink_need" and chosen is None:
        return await _action_page(request, action_id, Problems(links=missing[what]), status=422)
    try:
        async with workspace.sessions.begin() as session:
            if what == "unlink_need":
                key = NeedKey.parse(_text(form, "behov"))
                await actions.unlink_needs(session, action_id, [key], actor=actor, now=now)
                return see_other(f"/tiltak/{action_id}?utfort=behov-fjernet#behov")
            assert chosen is not None
            round_id, value = chosen
            if what == "area":
                await actions.link_area(
                    session, workspace.catalog, action_id, round_id, value, actor=actor, now=now
                )
                return see_other(f"/tiltak/{action_id}?utfort=omrade#omrader")
            if what == "unlink_area":
                await actions.unlink_area(session, action_id, round_id, value, actor=actor, now=now)
                return see_other(f"/tiltak/{action_id}?utfort=omrade-fjernet#omrader")
            linked = await actions.link_tag(
                session, workspace.catalog, action_id, round_id, value, actor=actor, now=now
            )
            return see_other(
                f"/tiltak/{action_id}?utfort=tag&fortalt={linked.organisations_told}#behov"
            )
    except ActionError as error:
        return await _action_page(
            request, action_id, Problems(links=sentence(str(error))), status=422
        )
    except NeedError:
        return await _action_page(
            request, action_id, Problems(links="Fant ikke behovet."), status=422
        )


@guarded("staff")
async def link_area(request: web.Request) -> web.StreamResponse:
    return await _link(request, "area")


@guarded("staff")
async def unlink_area(request: web.Request) -> web.StreamResponse:
    return await _link(request, "unlink_area")


@guarded("staff")
async def link_tag(request: web.Request) -> web.StreamResponse:
    return await _link(request, "tag")


@guarded("staff")
async def unlink_need(request: web.Request) -> web.StreamResponse:
    return await _link(request, "unlink_need")


# --- the criteria ----------------------------------------------------------------------------


@guarded("staff")
async def assess(request: web.Request) -> web.StreamResponse:
    """Save the ten rows of the assessment that changed; with any row wrong nothing is
    saved, and each problem is named beside its row."""
    workspace = workspace_of(request)
    action_id = path_id(request, "action_id")
    form = await request.post()
    async with workspace.sessions() as session:
        try:
            current = await action_plans.assessment(session, action_id)
        except PlanError:
            raise web.HTTPNotFound() from None
    typed: dict[int, tuple[str, str]] = {}
    problems: dict[int, str] = {}
    changes: list[tuple[int, str, str]] = []
    for row in current.criteria:
        number = row.criterion
        rating = _text(form, f"vurdering-{number}")
        reasoning = _text(form, f"begrunnelse-{number}")
        typed[number] = (rating, reasoning)
        if not rating:
            if row.rating:
                changes.append((number, action_plans.UNASSESSED, ""))  # taken back
            elif reasoning.strip():
                problems[number] = "Velg en vurdering til begrunnelsen, eller ta bort begrunnelsen."
            continue
        try:
            rating, reasoning = action_plans.check_rating(rating, reasoning)
        except PlanError as error:
            problems[number] = sentence(str(error))
            continue
        if (rating, reasoning) != (row.rating, row.reasoning):
            changes.append((number, rating, reasoning))
    if problems:
        shown = Problems(criteria=problems, criteria_form=typed)
        return await _action_page(request, action_id, shown, status=422)
    if changes:
        async with workspace.sessions.begin() as session:
            for number, rating, reasoning in changes:
                await action_plans.assess(
                    session, action_id, number, rating, reasoning, actor=actor_of(request),
                    now=workspace.now(),
                )  # fmt: skip
    return see_other(
        f"/tiltak/{action_id}?utfort={'kriterier' if changes else 'uendret'}#kriterier"
    )


# --- the dissemination plan ------------------------------------------------------------------


@dataclass(frozen=True)
class StepForm:
    typed: dict[str, str]
    staff_id: int | None
    due_on: date | None
    problem: str


def read_step_form(form: Mapping[str, Any]) -> StepForm:
    typed = {name: _text(form, name) for name in ("ansvarlig", "kanal", "beskrivelse", "frist")}
    staff = typed["ansvarlig"]
    staff_id = int(staff) if staff.isdigit() and len(staff) <= 9 else None
    try:
        due_on = read_day(typed["frist"])
    except ValueError:
        return StepForm(typed, staff_id, None, "Fristen: " + BAD_DAY[:1].lower() + BAD_DAY[1:])
    if staff_id is None:
        return StepForm(typed, None, due_on, "Velg hvem som er ansvarlig.")
    if due_on is None:
        return StepForm(typed, staff_id, None, "Velg en frist.")
    return StepForm(typed, staff_id, due_on, "")


async def _step_of(workspace: Workspace, action_id: int, step_id: int) -> action_plans.PlanStep:
    """The step, if it belongs to the action; 404 otherwise."""
    async with workspace.sessions() as session:
        try:
            found = await action_plans.step(session, step_id)
        except PlanError:
            raise web.HTTPNotFound() from None
    if found.action_id != action_id:
        raise web.HTTPNotFound()
    return found


@guarded("staff")
async def add_step(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    action_id = path_id(request, "action_id")
    await _exists(workspace, action_id)
    form = read_step_form(await request.post())
    problem = form.problem
    if not problem:
        assert form.staff_id is not None and form.due_on is not None
        try:
            async with workspace.sessions.begin() as session:
                await action_plans.add_step(
                    session, action_id, staff_id=form.staff_id, channel=form.typed["kanal"],
                    due_on=form.due_on, description=form.typed["beskrivelse"],
                    actor=actor_of(request), now=workspace.now(),
                )  # fmt: skip
        except PlanError as error:
            problem = sentence(str(error))
    if problem:
        shown = Problems(new_step=problem, new_step_form=form.typed)
        return await _action_page(request, action_id, shown, status=422)
    return see_other(f"/tiltak/{action_id}?utfort=steg#plan")


@guarded("staff")
async def edit_step(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    action_id = path_id(request, "action_id")
    step_id = path_id(request, "step_id")
    await _step_of(workspace, action_id, step_id)
    form = read_step_form(await request.post())
    problem = form.problem
    if not problem:
        try:
            async with workspace.sessions.begin() as session:
                await action_plans.edit_step(
                    session, step_id, staff_id=form.staff_id, channel=form.typed["kanal"],
                    due_on=form.due_on, description=form.typed["beskrivelse"],
                    actor=actor_of(request), now=workspace.now(),
                )  # fmt: skip
        except PlanError as error:
            problem = sentence(str(error))
    if problem:
        shown = Problems(step=step_id, step_problem=problem, step_form=form.typed)
        return await _action_page(request, action_id, shown, status=422)
    return see_other(f"/tiltak/{action_id}?utfort=steg-lagret#steg-{step_id}")


@guarded("staff")
async def remove_step(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    action_id = path_id(request, "action_id")
    step_id = path_id(request, "step_id")
    await _step_of(workspace, action_id, step_id)
    try:
        async with workspace.sessions.begin() as session:
            await action_plans.remove_step(
                session, step_id, actor=actor_of(request), now=workspace.now()
            )
    except PlanError as error:
        shown = Problems(step=step_id, step_problem=sentence(str(error)))
        return await _action_page(request, action_id, shown, status=409)
    return see_other(f"/tiltak/{action_id}?utfort=steg-fjernet#plan")


@guarded("staff")
async def send_notice(request: web.Request) -> web.StreamResponse:
    """A step's notice: first a confirmation naming how many organisations get it, then
    (``handling=send``) queued once to each, and the step is done."""
    workspace = workspace_of(request)
    action_id = path_id(request, "action_id")
    step_id = path_id(request, "step_id")
    step = await _step_of(workspace, action_id, step_id)
    form = await request.post()
    text = _text(form, "tekst")
    if not text.strip() or len(text.strip()) > action_plans.MAX_NOTICE:
        problem = (
            "Skriv hva organisasjonene skal få vite."
            if not text.strip()
            else f"Meldingen kan ha høyst {action_plans.MAX_NOTICE} tegn."
        )
        shown = Problems(step=step_id, step_problem=problem, step_form={"tekst": text})
        return await _action_page(request, action_id, shown, status=422)
    if _text(form, "handling") != "send":
        async with workspace.sessions() as session:
            count = len(await action_plans.linked_organisations(session, action_id))
        return page(
            request,
            "action_notice_confirm.html",
            {
                "step": step,
                "text": text,
                "count": count,
                "organisations_text": linked_organisations(count),
                "day": day,
                "antall": antall,
            },
            title="Send melding til de berørte?",
        )
    try:
        async with workspace.sessions.begin() as session:
            sent = await action_plans.send_dissemination_notice(
                session, step_id, text, actor=actor_of(request), now=workspace.now()
            )
    except PlanError as error:
        shown = Problems(step=step_id, step_problem=sentence(str(error)), step_form={"tekst": text})
        return await _action_page(request, action_id, shown, status=409)
    return see_other(
        f"/tiltak/{action_id}?utfort=melding&fortalt={sent.organisations}#steg-{step_id}"
    )


def add_action_routes(app: web.Application) -> None:
    app.router.add_get("/tiltak", actions_list)
    app.router.add_get("/tiltak/nytt", new_action_page)
    app.router.add_post("/tiltak/nytt", create)
    app.router.add_get(ONE, action_page)
    app.router.add_post(ONE + "/endre", edit)
    app.router.add_get(ONE + "/status", confirm_status)
    app.router.add_post(ONE + "/status", set_status)
    app.router.add_post(ONE + "/omrader", link_area)
    app.router.add_post(ONE + "/omrader/fjern", unlink_area)
    app.router.add_post(ONE + "/merkelapp", link_tag)
    app.router.add_post(ONE + "/behov/fjern", unlink_need)
    app.router.add_post(ONE + "/kriterier", assess)
    app.router.add_post(ONE + "/plan", add_step)
    app.router.add_post(STEP + "/endre", edit_step)
    app.router.add_post(STEP + "/fjern", remove_step)
    app.router.add_post(STEP + "/melding", send_notice)
