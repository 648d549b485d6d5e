"""Årsplan: upload or paste the annual plan, see a dry run of what would change, apply it.

The same checks and the same all-or-nothing apply as ``lyttepost plan apply``
(scheduler/plan_apply.py): nothing changes unless the whole plan is right.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.web.context import Workspace, workspace_of
from bot.web.render import page
from bot.web.security import actor_of, guarded
from scheduler.plan import Plan, PlanError, load_plan_text
from scheduler.plan_apply import apply_all_or_nothing
from services import audit

ACTION_NAMES = {"created": "ny", "updated": "endres", "unchanged": "uendret"}
MAX_PLAN_BYTES = 256 * 1024


@guarded("admin")
async def plan_page(request: web.Request) -> web.StreamResponse:
    return page(request, "plan.html", {"text": "", "outcome": None}, title="Årsplan")


async def _plan_text(request: web.Request) -> tuple[str, str]:
    """The plan from the form: an uploaded file if one was chosen, else the text field."""
    form = await request.post()
    upload = form.get("fil")
    if isinstance(upload, web.FileField) and upload.filename:
        raw = upload.file.read(MAX_PLAN_BYTES + 1)
        if len(raw) > MAX_PLAN_BYTES:
            return "", "Filen er for stor (mer enn 256 kB) til å være en årsplan."
        try:
            return raw.decode("utf-8-sig"), ""
        except UnicodeDecodeError:
            return "", "Filen er ikke en tekstfil i UTF-8 (en årsplan er en YAML-fil)."
    text = form.get("plan")
    return (text if isinstance(text, str) else ""), ""


async def _run(
    workspace: Workspace, text: str, actor: audit.Actor, *, dry_run: bool
) -> dict[str, Any]:
    """Check (and unless ``dry_run`` apply) the plan; what the page shows."""
    problems: list[Any] = []
    if not text.strip():
        return {"problems": ["Velg en planfil eller lim inn planen."], "rounds": [], "orphans": []}
    plan: Plan | None
    try:
        plan = load_plan_text(text, "årsplan", workspace.zone)
    except PlanError as error:
        plan, problems = error.plan, list(error.problems)
    if plan is None or not plan.rounds:
        if not problems:
            problems = ["Planen har ingen runder."]
        return {"problems": [str(p) for p in problems], "rounds": [], "orphans": []}
    result, problems = await apply_all_or_nothing(
        workspace.sessions, plan, workspace.now(), workspace.zone,
        actor=actor.label, dry_run=dry_run, file_problems=problems, audit_as=actor,
    )  # fmt: skip
    if result is None:
        return {"problems": [str(p) for p in problems], "rounds": [], "orphans": []}
    document = result.to_json()
    if not dry_run:
        workspace.rounds_changed()
    return {"problems": [], "rounds": document["rounds"], "orphans": document["not_in_file"]}


async def _plan_page(request: web.Request, *, dry_run: bool) -> web.StreamResponse:
    """Check (and unless ``dry_run`` apply) the plan from the form, and show the outcome."""
    workspace = workspace_of(request)
    text, problem = await _plan_text(request)
    actor = actor_of(request)
    outcome = (
        {"problems": [problem], "rounds": [], "orphans": []}
        if problem
        else await _run(workspace, text, actor, dry_run=dry_run)
    )
    return page(
        request,
        "plan.html",
        {
            "text": text,
            "outcome": outcome,
            "applied": not dry_run and not outcome["problems"],
            "action_names": ACTION_NAMES,
        },
        title="Årsplan: prøvekjøring" if dry_run else "Årsplan",
        status=422 if outcome["problems"] else 200,
    )


@guarded("admin")
async def check_plan(request: web.Request) -> web.StreamResponse:
    """The dry run: every problem with its line, or what would change."""
    return await _plan_page(request, dry_run=True)


@guarded("admin")
async def apply_plan(request: web.Request) -> web.StreamResponse:
    return await _plan_page(request, dry_run=False)


def add_plan_routes(app: web.Application) -> None:
    app.router.add_get("/arsplan", plan_page)
    app.router.add_post("/arsplan/sjekk", check_plan)
    app.router.add_post("/arsplan/bruk", apply_plan)
