"""Tekster og språk: admins see how far each language's catalogue is, download the
spreadsheet a translator fills in, and upload it back through the same service and
checks as ``lyttepost texts export/import`` (services/texts_io.py)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.web.context import workspace_of
from bot.web.render import page
from bot.web.security import actor_of, guarded
from dialogs import catalogues, i18n
from services import audit, texts_io

MAX_XLSX_BYTES = 900 * 1024  # under the app's body limit; the catalogues' file is far smaller
TITLE = "Tekster og språk"


def _use_settings(request: web.Request) -> None:
    """Make this process read TEXTS_DIR as its settings say (``lyttepost run`` already
    does at start; this keeps a workspace built another way consistent)."""
    directory = workspace_of(request).settings.texts_directory()
    if directory != catalogues.override_dir():
        catalogues.use_override_dir(directory)
        i18n.reload()


def _texts_page(
    request: web.Request,
    *,
    errors: list[str] | None = None,
    result: texts_io.ImportResult | None = None,
    status: int = 200,
) -> web.StreamResponse:
    directory = workspace_of(request).settings.texts_directory()
    return page(
        request,
        "texts.html",
        {
            "languages": texts_io.status(),
            "errors": errors or [],
            "result": result,
            "texts_dir": str(directory) if directory else "",
            "packaged_dir": str(catalogues.LOCALE_DIR),
            "restart_note": texts_io.RESTART_NOTE,
        },
        title=TITLE,
        status=status,
    )


@guarded("admin")
async def texts_page(request: web.Request) -> web.StreamResponse:
    _use_settings(request)
    return _texts_page(request)


@guarded("admin")
async def texts_download(request: web.Request) -> web.StreamResponse:
    """The same spreadsheet as ``lyttepost texts export --lang <language>``."""
    language = request.match_info["language"]
    if language not in texts_io.TRANSLATED:
        raise web.HTTPNotFound()
    _use_settings(request)
    data = await asyncio.to_thread(texts_io.export_workbook, language)
    response = web.Response(body=data, content_type=texts_io.XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="lyttepost-{language}.xlsx"'
    return response


@guarded("admin")
async def texts_upload(request: web.Request) -> web.StreamResponse:
    """All rows or none: with any problem nothing is written, and each one is named with
    its row, as the command line names it."""
    _use_settings(request)
    workspace = workspace_of(request)
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        return _texts_page(request, errors=["filen er for stor til å være en tekstfil"], status=422)
    upload = form.get("fil")
    if not isinstance(upload, web.FileField) or not upload.filename:
        return _texts_page(
            request, errors=["velg regnearket (.xlsx) som skal importeres"], status=422
        )
    data = upload.file.read(MAX_XLSX_BYTES + 1)
    if len(data) > MAX_XLSX_BYTES:
        return _texts_page(request, errors=["filen er for stor til å være en tekstfil"], status=422)
    directory = workspace.settings.texts_directory()
    try:
        result = await asyncio.to_thread(texts_io.import_texts, data, directory=directory)
    except texts_io.TextsImportError as error:
        return _texts_page(request, errors=[p.in_norwegian() for p in error.problems], status=422)
    except OSError as error:
        return _texts_page(
            request, errors=[f"tekstkatalogene kunne ikke skrives: {error}"], status=422
        )
    async with workspace.sessions.begin() as session:
        audit.record(
            session,
            actor_of(request),
            "texts.import",
            result.language,
            workspace.now(),
            rows=result.rows,
            changed=len(result.changed),
            reviewed=len(result.reviewed),
            flagged=len(result.flagged),
            file=upload.filename[:120],
        )
    return _texts_page(request, result=result)


def add_texts_routes(app: web.Application) -> None:
    app.router.add_get("/tekster", texts_page)
    app.router.add_post("/tekster", texts_upload)
    app.router.add_get("/tekster/{language}.xlsx", texts_download)
