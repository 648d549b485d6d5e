"""Undersøkelser (admins): versions in use, upload with every problem shown at its line
(or sheet, row and column), a trial run in the browser with the members' engine, then
registering the file as a new version; any version downloads as an XLSForm workbook."""

from __future__ import annotations

import logging
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from aiohttp import web
from multidict import MultiDictProxy

from bot.web.context import workspace_of
from bot.web.render import page
from bot.web.security import actor_of, guarded, visitor_of
from dialogs.definition import SurveyDefinitionError
from dialogs.xlsform import XlsformUnsupported
from services import survey_trial
from services.surveys import (
    MAX_UPLOAD_BYTES,
    export_xlsform,
    find_version,
    read_upload,
    register,
    survey_versions,
)

log = logging.getLogger(__name__)


@guarded("admin")
async def surveys_page(request: web.Request) -> web.StreamResponse:
    async with workspace_of(request).sessions() as session:
        versions = await survey_versions(session)
    registered = request.query.get("registrert", "")
    return page(
        request,
        "surveys.html",
        {
            "versions": list(reversed(versions)),
            "notice": f"Registrert som ny versjon: {registered}." if registered else "",
            "checked": None,
        },
        title="Undersøkelser",
    )


@guarded("admin")
async def check_upload(request: web.Request) -> web.StreamResponse:
    """Read an uploaded file and show every problem, or what it asks and what to do next."""
    form = await request.post()
    upload = form.get("fil")
    checked: dict[str, object]
    if not isinstance(upload, web.FileField) or not upload.filename:
        checked = {"problems": ["Velg en fil (YAML eller Excel i XLSForm-oppsett)."]}
    else:
        data = upload.file.read(MAX_UPLOAD_BYTES + 1)
        checked = _check(data, PurePath(upload.filename).name)
    async with workspace_of(request).sessions() as session:
        versions = await survey_versions(session)
    return page(
        request,
        "surveys.html",
        {"versions": list(reversed(versions)), "notice": "", "checked": checked},
        title="Undersøkelser: sjekk av fil",
        status=422 if checked["problems"] else 200,
    )


def _check(data: bytes, filename: str) -> dict[str, object]:
    try:
        read = read_upload(data, filename)
    except SurveyDefinitionError as error:
        return {"problems": [str(p) for p in error.problems], "filename": filename}
    survey = read.survey
    return {
        "problems": [],
        "filename": filename,
        "key": survey.key,
        "title": survey.title,
        "questions": len(survey.questions),
        "definition": read.definition,
        "format": read.format,
    }


def _yaml_name(filename: str) -> str:
    """Uploads are stored as YAML (a workbook as its equivalent YAML text)."""
    return f"{PurePath(filename).stem or 'undersokelse'}.yaml"


@guarded("admin")
async def register_upload(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    form = await request.post()
    definition = str(form.get("definisjon", ""))
    filename = _yaml_name(str(form.get("filnavn", "")))
    actor = actor_of(request)
    try:
        async with workspace.sessions.begin() as session:
            done = await register(
                session, definition.encode("utf-8"), filename, actor=actor, now=workspace.now()
            )
            key, version, created = done.version.key, done.version.version, done.created
    except SurveyDefinitionError as error:
        async with workspace.sessions() as session:
            versions = await survey_versions(session)
        return page(
            request,
            "surveys.html",
            {
                "versions": list(reversed(versions)),
                "notice": "",
                "checked": {"problems": [str(p) for p in error.problems], "filename": filename},
            },
            title="Undersøkelser",
            status=422,
        )
    label = f"{key} versjon {version}" + ("" if created else " (fantes allerede)")
    raise web.HTTPSeeOther(f"/undersokelser?registrert={quote(label)}")


@guarded("admin")
async def download_xlsform(request: web.Request) -> web.StreamResponse:
    key = request.match_info["key"]
    raw = request.match_info["version"]
    if not raw.isdigit() or len(raw) > 6:
        raise web.HTTPNotFound()
    try:
        async with workspace_of(request).sessions() as session:
            row, data = await export_xlsform(session, key, int(raw))
    except LookupError:
        raise web.HTTPNotFound() from None
    except XlsformUnsupported as error:  # a matrix: the survey stays YAML
        raise web.HTTPConflict(text=str(error)) from None
    return web.Response(
        body=data,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{row.key}-v{row.version}.xlsx"'},
    )


@guarded("admin")
async def trial(request: web.Request) -> web.StreamResponse:
    """One step of the survey in the browser, as a member would answer it in chat."""
    workspace = workspace_of(request)
    form = await request.post()
    definition = str(form.get("definisjon", ""))
    if not definition:  # a stored version: start from its definition
        key, raw = str(form.get("nokkel", "")), str(form.get("versjon", ""))
        async with workspace.sessions() as session:
            row = await find_version(session, key, int(raw)) if raw.isdigit() else None
        if row is None:
            raise web.HTTPNotFound()
        definition = row.definition
    pressed = form.get("trykk")
    typed = form.get("tekst")
    event = survey_trial.event_for(
        text=typed if isinstance(typed, str) else None,
        pressed=pressed if isinstance(pressed, str) else None,
    )
    try:
        result = survey_trial.trial_step(
            definition, str(form.get("tilstand", "")), event, tester=visitor_of(request).staff.name
        )
    except SurveyDefinitionError as error:
        return page(
            request,
            "refused.html",
            {"text": "; ".join(str(p) for p in error.problems), "back": "/undersokelser"},
            title="Undersøkelsen kan ikke prøves",
            status=422,
        )
    said = pressed_label(form, pressed) if pressed else (typed if isinstance(typed, str) else "")
    return page(
        request,
        "survey_trial.html",
        {
            "definition": definition,
            "state": result.state,
            "messages": result.messages,
            "submitted": result.submitted,
            "restarted": result.restarted,
            "said": said,
            "filnavn": str(form.get("filnavn", "")),
        },
        title="Prøv undersøkelsen",
    )


def pressed_label(form: MultiDictProxy[Any], payload: object) -> str:
    """What the tester pressed, as the button said (the page sends each label along)."""
    label = form.get(f"etikett:{payload}")
    return label if isinstance(label, str) else "(knapp)"


def add_survey_routes(app: web.Application) -> None:
    app.router.add_get("/undersokelser", surveys_page)
    app.router.add_post("/undersokelser/sjekk", check_upload)
    app.router.add_post("/undersokelser/registrer", register_upload)
    app.router.add_post("/undersokelser/prov", trial)
    app.router.add_get("/undersokelser/{key}/{version}.xlsx", download_xlsform)
