"""Medlemmer, facts about each member (population, KOSTRA group, region, written
language): an admin edits one organisation's facts on its page, or uploads a CSV for
many, through the same service and audit names as ``lyttepost members
import-attributes`` (services/organisation_facts.py)."""

from __future__ import annotations

from aiohttp import web

from bot.web.context import workspace_of
from bot.web.members import MAX_CSV_BYTES, ORG, _detail_page, _form_text, _org_code
from bot.web.render import page
from bot.web.security import actor_of, guarded, see_other
from dialogs.texts import antall
from services.organisation_facts import (
    LANGUAGES,
    NAMES_NB,
    FactsError,
    FactsForm,
    decode_csv,
    import_facts,
    set_facts,
)

# The form's field for each fact (Norwegian names, as in the workspace's other forms).
FIELDS = {"population": "innbyggere", "kostra_group": "kostra", "region": "region",
          "language": "sprak"}  # fmt: skip
NOT_UTF8 = (
    "Filen er ikke lagret som UTF-8, så æ, ø og å kan bli feil. Lagre den på nytt fra Excel "
    "som «CSV UTF-8 (kommadelt)», og last den opp igjen."
)
TOO_BIG = "Filen er for stor (mer enn 512 kB) til å være en liste over medlemmene."


@guarded("admin")
async def edit_facts(request: web.Request) -> web.StreamResponse:
    """Save one organisation's facts; bad values are named beside their fields."""
    workspace = workspace_of(request)
    form = {name: await _form_text(request, name) for name in FIELDS.values()}
    typed = FactsForm(
        population=form["innbyggere"],
        kostra_group=form["kostra"],
        region=form["region"],
        language=form["sprak"],
    )
    try:
        async with workspace.sessions.begin() as session:
            changes = await set_facts(
                session, _org_code(request), typed, actor_of(request), workspace.now()
            )
    except FactsError as error:
        if any(p.column == "org" for p in error.problems):
            raise web.HTTPNotFound() from None
        problems = {FIELDS[p.column]: p.reason_nb + "." for p in error.problems if p.column}
        return await _detail_page(
            request,
            problem="Faktaene er ikke lagret. Rett det som er merket under Fakta.",
            facts_form=form,
            facts_problems=problems,
            status=422,
        )
    if any(change.column == "language" for change in changes):
        workspace.menus_changed()
    done = "fakta" if changes else "fakta-uendret"
    return see_other(f"/medlemmer/{_org_code(request)}?utfort={done}#fakta")


def _import_page(
    request: web.Request, outcome: dict[str, object] | None, text: str = "", status: int = 200
) -> web.StreamResponse:
    return page(
        request,
        "member_facts_import.html",
        {
            "outcome": outcome,
            "text": text,
            "antall": antall,
            "names": NAMES_NB,
            "languages": LANGUAGES,
        },
        title="Importer fakta om medlemmene",
        status=status,
    )


@guarded("admin")
async def facts_import_page(request: web.Request) -> web.StreamResponse:
    return _import_page(request, None)


async def _upload(request: web.Request) -> tuple[str, str, str]:
    """The CSV from the form (a chosen file, else the text field): its text, the file's
    name and a problem reading it."""
    form = await request.post()
    upload = form.get("fil")
    if isinstance(upload, web.FileField) and upload.filename:
        raw = upload.file.read(MAX_CSV_BYTES + 1)
        if len(raw) > MAX_CSV_BYTES:
            return "", upload.filename, TOO_BIG
        text = decode_csv(raw)
        return (text, upload.filename, "") if text is not None else ("", upload.filename, NOT_UTF8)
    pasted = form.get("tekst")
    return (pasted if isinstance(pasted, str) else ""), "", ""


@guarded("admin")
async def facts_import(request: web.Request) -> web.StreamResponse:
    """All lines or none: with any problem nothing is saved and each one is named with
    its line and column."""
    workspace = workspace_of(request)
    text, filename, problem = await _upload(request)
    if problem:
        return _import_page(request, {"errors": [problem]}, status=422)
    async with workspace.sessions.begin() as session:
        outcome = await import_facts(
            session, text, actor_of(request), workspace.now(), filename or None
        )
    if outcome.problems:
        errors = [p.norwegian for p in outcome.problems]
        return _import_page(request, {"errors": errors}, text, status=422)
    if any(change.column == "language" for change in outcome.changes):
        workspace.menus_changed()
    return _import_page(
        request,
        {
            "errors": [],
            "lines": outcome.lines,
            "updated": outcome.updated,
            "unchanged": outcome.unchanged,
            "changed": outcome.changed_per_column(),
            "changes": outcome.changes,
        },
    )


def add_member_facts_routes(app: web.Application) -> None:
    app.router.add_get("/medlemmer/fakta", facts_import_page)
    app.router.add_post("/medlemmer/fakta", facts_import)
    app.router.add_post(f"/medlemmer/{ORG}/fakta", edit_facts)
