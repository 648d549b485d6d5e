"""``lyttepost publications``, ``broadcast`` and ``notice``: results and news back to members.

Everything sent to many members is a publication: created as a draft, edited and
previewed, then sent to a segment after a confirmation that says how many it reaches.
Sending is done by the running bot (``lyttepost run``); the CLI shows its progress and
the delivery report.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Literal

import typer

from bot.cli_context import CliContext, cli_context
from bot.cli_support import JsonOption, counted, echo_lines, emit, fail, run_async

publications_app = typer.Typer(
    help="Summaries, notices and broadcasts: drafts, previews, sending, delivery reports.",
    no_args_is_help=True,
)
broadcast_app = typer.Typer(help="Any message to any segment of the members.", no_args_is_help=True)
notice_app = typer.Typer(
    help="Dissemination notices: what KS does with a round's input.", no_args_is_help=True
)

report_app = typer.Typer(
    help="A round's summary: figures, charts, workbook, PDF.", no_args_is_help=True
)

SEGMENT_HELP = (
    "all | county:NN | kind:kommune|fylkeskommune | role:ROLE | respondents:ROUND | "
    "non-respondents:ROUND | invited:ROUND | orgs:NNNN,NN | area:ROUND:AREA | action:ID"
)
IdArgument = typer.Argument(..., help="The publication's id (see lyttepost publications list).")
TextNn = typer.Option(
    None, "--text-nn", help="The text in nynorsk (else nynorsk readers get bokmål)."
)
TextSe = typer.Option(None, "--text-se", help="The text in nordsamisk (else they get bokmål).")
TextEn = typer.Option(None, "--text-en", help="The text in English (for demos; else bokmål).")
LANG_HELP = "nb (the text itself), nn, se or en (a translation)"


def _translations(nn: str | None, se: str | None, en: str | None) -> dict[str, str]:
    """The translations given on the command line (the service drops empty ones)."""
    given = {"nn": nn, "se": se, "en": en}
    return {language: text.strip() for language, text in given.items() if text is not None}


def _text(text: str | None, text_file: Path | None) -> str:
    if (text is None) == (text_file is None):
        fail("give --text or --text-file")
    if text_file is not None:
        try:
            return text_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            fail(f"{text_file}: cannot read it as UTF-8 text ({error})")
    return (text or "").strip()


def _segment(text: str) -> Any:
    from services.segments import Segment, SegmentError

    try:
        return Segment.parse(text)
    except SegmentError as error:
        fail(str(error))


def _files(image: Path | None, document: Path | None) -> list[Any]:
    """The files given to send with a draft, read (the checks are the service's)."""
    from services.publications import NewFile

    files = []
    given: tuple[tuple[Path | None, Literal["photo", "document"]], ...] = (
        (image, "photo"),
        (document, "document"),
    )
    for path, kind in given:
        if path is None:
            continue
        try:
            content = path.read_bytes()
        except OSError as error:
            fail(f"{path}: {error.strerror or error}")
        files.append(NewFile(kind=kind, filename=path.name, content=content, source=str(path)))
    return files


def _create(
    kind: str, title: str, text: str, image: Path | None, document: Path | None,
    segment: Any, round_id: int | None, as_json: bool, translations: dict[str, str],
) -> None:  # fmt: skip
    from services import audit, publications
    from services.segments import SegmentError

    files = _files(image, document)
    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            try:
                draft = await publications.create_draft(
                    session, kind=kind, title=title, text=text, actor=ctx.actor(), now=ctx.now(),
                    round_id=round_id, files=files, segment=segment,
                    translations=translations,
                )  # fmt: skip
            except (
                LookupError, publications.AttachmentError, publications.PublicationError,
                SegmentError,
            ) as error:  # fmt: skip
                fail(str(error))
            publication, reached = draft.publication, draft.reach
            audit.record(
                session, audit.CLI, "publication.draft", f"publication:{publication.id}",
                ctx.now(), kind=kind, round=round_id,
                languages=["nb", *publication.translations],
            )  # fmt: skip
            return {
                "id": publication.id, "kind": kind, "status": publication.status,
                "languages": ["nb", *publication.translations],
                "recipients": len(reached.reachable) if reached else None,
                "unreachable": len(reached.unreachable) if reached else None,
            }  # fmt: skip

    result = run_async(work)
    reach = (
        f"; it would reach {counted(result['recipients'], 'contact')} "
        f"({result['unreachable']} unreachable)"
        if result["recipients"] is not None
        else ""
    )
    emit(
        result,
        as_json,
        lambda: typer.echo(
            f"draft {result['id']} created{reach}. Next: lyttepost publications preview "
            f"{result['id']} --contact ID, then lyttepost publications send {result['id']}"
        ),
    )


@broadcast_app.command("create")
def broadcast_create(
    to: str = typer.Option(..., "--to", help=SEGMENT_HELP),
    text: str | None = typer.Option(None, "--text"),
    text_file: Path | None = typer.Option(None, "--text-file", help="UTF-8 text file."),
    title: str = typer.Option("Melding fra KS", "--title", help="For lists and reports."),
    image: Path | None = typer.Option(None, "--image", help="A PNG or JPEG to send with it."),
    document: Path | None = typer.Option(None, "--document", help="A file to send with it."),
    text_nn: str | None = TextNn,
    text_se: str | None = TextSe,
    text_en: str | None = TextEn,
    as_json: bool = JsonOption,
) -> None:
    """Draft a broadcast to a segment (send it with lyttepost publications send).

    --text is bokmål; each recipient gets --text-nn or --text-se if their language is
    nynorsk or nordsamisk, and bokmål when that translation is missing."""
    _create(
        "broadcast", title, _text(text, text_file), image, document, _segment(to), None, as_json,
        _translations(text_nn, text_se, text_en),
    )  # fmt: skip


@notice_app.command("create")
def notice_create(
    round_id: int = typer.Option(..., "--round", help="The round the notice is about."),
    text: str | None = typer.Option(None, "--text"),
    text_file: Path | None = typer.Option(None, "--text-file", help="UTF-8 text file."),
    title: str | None = typer.Option(
        None,
        "--title",
        help="Shown under the round in /arshjul (default: «Dette gjør KS med innspillene "
        "deres», which members read in their own language).",
    ),
    image: Path | None = typer.Option(None, "--image"),
    document: Path | None = typer.Option(None, "--document"),
    text_nn: str | None = TextNn,
    text_se: str | None = TextSe,
    text_en: str | None = TextEn,
    as_json: bool = JsonOption,
) -> None:
    """Draft a dissemination notice tied to a round (listed under it in /arshjul).

    --text is bokmål; --text-nn and --text-se go to those who read nynorsk or nordsamisk."""
    from dialogs.i18n import SOURCE, texts_for

    _create(
        "notice", title or texts_for(SOURCE).text("publications.notice.title"),
        _text(text, text_file), image, document, None, round_id, as_json,
        _translations(text_nn, text_se, text_en),
    )  # fmt: skip


@publications_app.command("list")
def publications_list(as_json: bool = JsonOption) -> None:
    """Drafts and published summaries, notices and broadcasts."""
    from dialogs.dates import iso
    from services.views_publications import publication_rows

    ctx = cli_context()

    async def work() -> list[dict[str, Any]]:
        async with ctx.sessions() as sessions, sessions() as session:
            return [
                {"id": p.id, "kind": p.kind, "title": p.title, "status": p.status,
                 "round": p.round_id, "recipients": p.recipients,
                 "published_at": iso(p.published_at)}
                for p in await publication_rows(session, with_delivery=False)
            ]  # fmt: skip

    rows = run_async(work)
    emit(
        rows,
        as_json,
        lambda: (
            echo_lines(
                f"{r['id']:>4} {r['kind']:<9} {r['status']:<9} {r['title']}"
                + (f" (round {r['round']})" if r["round"] else "")
                + (
                    f", {counted(r['recipients'] or 0, 'recipient')}"
                    if r["status"] == "published"
                    else ""
                )
                for r in rows
            )
            if rows
            else typer.echo("no publications yet", err=True)
        ),
    )


@publications_app.command("show")
def publications_show(publication_id: int = IdArgument, as_json: bool = JsonOption) -> None:
    """A publication's text, files and state."""
    from services import publications

    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session:
            try:
                p = await publications.load(session, publication_id)
            except publications.PublicationError as error:
                fail(str(error))
            return {"id": p.id, "kind": p.kind, "title": p.title, "status": p.status,
                    "round": p.round_id, "text": p.text,
                    "translations": dict(p.translations or {}), "attachments": p.attachments,
                    "segment": p.segment, "recipients": p.recipients}  # fmt: skip

    document = run_async(work)

    def human() -> None:
        from services.publications import LANGUAGE_NAMES

        typer.echo(
            f"#{document['id']} {document['kind']} «{document['title']}» – {document['status']}\n"
        )
        typer.echo(document["text"])
        for language, translated in document["translations"].items():
            typer.echo(f"\n--- {LANGUAGE_NAMES.get(language, language)} ({language}) ---")
            typer.echo(translated)
        for attachment in document["attachments"]:
            typer.echo(f"[{attachment['kind']}: {attachment['filename']}]")

    emit(document, as_json, human)


@publications_app.command("edit")
def publications_edit(
    publication_id: int = IdArgument,
    text: str | None = typer.Option(None, "--text"),
    text_file: Path | None = typer.Option(None, "--text-file", help="UTF-8 text file."),
    lang: str = typer.Option("nb", "--lang", help=LANG_HELP + "; an empty translation removes it."),
    as_json: bool = JsonOption,
) -> None:
    """Replace a draft's text, or (with --lang nn|se|en) its translation into that language."""
    from services import audit, publications

    new_text = _text(text, text_file)
    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            try:
                p = await publications.edit_text(
                    session, publication_id, new_text, actor=ctx.actor(), now=ctx.now(),
                    language=lang,
                )  # fmt: skip
            except publications.PublicationError as error:
                fail(str(error))
            characters = len(p.text if lang == "nb" else (p.translations or {}).get(lang, ""))
            audit.record(
                session, audit.CLI, "publication.edit", f"publication:{p.id}", ctx.now(),
                characters=characters, language=lang,
            )  # fmt: skip
            return {"id": p.id, "language": lang, "characters": characters,
                    "languages": ["nb", *(p.translations or {})]}  # fmt: skip

    result = run_async(work)

    def human() -> None:
        if result["language"] == "nb":
            what = "text"
        elif result["characters"]:
            what = f"{result['language']} translation"
        else:
            typer.echo(
                f"draft {result['id']}: {result['language']} translation removed "
                f"(those readers get bokmål)"
            )
            return
        typer.echo(
            f"draft {result['id']}: {what} replaced ({counted(result['characters'], 'character')})"
        )

    emit(result, as_json, human)


@publications_app.command("preview")
def publications_preview(
    publication_id: int = IdArgument,
    contact: int | None = typer.Option(
        None, "--contact", help="Send the preview to this contact's chat."
    ),
    staff: str | None = typer.Option(
        None, "--staff", help="Or to this staff member's chat (e-mail; see lyttepost staff code)."
    ),
    lang: str | None = typer.Option(
        None, "--lang", help="Preview in this language (default: the contact's): " + LANG_HELP
    ),
    as_json: bool = JsonOption,
) -> None:
    """Send a draft to one contact's or staff member's own chat, exactly as members will get it."""
    from services import admins, audit, publications
    from services.personal import personalise_for
    from services.staff import StaffError, require_staff

    if (contact is None) == (staff is None):
        fail("give either --contact ID or --staff EMAIL")
    ctx = cli_context()

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            now = ctx.now()
            try:
                if staff is not None:
                    account = await require_staff(session, staff)
                    chat = await admins.latest_chat(session, account.id)
                    if chat is None:
                        fail(f"{account.email} has no chat: lyttepost staff code --email {staff}")
                    queued = await publications.preview_in_chat(
                        session, publication_id, chat, now=now,
                        personalise=personalise_for(ctx.zone), language=lang,
                    )  # fmt: skip
                else:
                    assert contact is not None
                    queued = await publications.preview(
                        session, publication_id, contact, now=now,
                        personalise=personalise_for(ctx.zone), language=lang,
                    )  # fmt: skip
            except (publications.PublicationError, StaffError) as error:
                fail(str(error))
            if queued == 0:
                fail(f"contact {contact} has no chat Lyttepost can reach")
            audit.record(
                session, audit.CLI, "publication.preview", f"publication:{publication_id}", now,
                messages=queued, **({"contact": contact} if contact is not None else {"staff": staff}),
            )  # fmt: skip
            if staff is not None:
                return {"id": publication_id, "staff": account.email, "messages": queued}
            return {"id": publication_id, "contact": contact, "messages": queued}

    result = run_async(work)
    emit(
        result,
        as_json,
        lambda: typer.echo(
            f"preview queued: {counted(result['messages'], 'message')} to "
            + (f"contact {contact}" if contact is not None else str(result["staff"]))
        ),
    )


@publications_app.command("send")
def publications_send(
    publication_id: int = IdArgument,
    to: str | None = typer.Option(None, "--to", help=SEGMENT_HELP + " (default: the draft's own)"),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    bokmal_ok: bool = typer.Option(
        False,
        "--bokmal-ok",
        help="With --yes: send even though some recipients' language has no translation "
        "(they get bokmål). Without --yes the question asks it.",
    ),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Show progress until delivered."),
    as_json: bool = JsonOption,
) -> None:
    """Send a draft: shows how many it reaches and who would get bokmål for want of a
    translation, asks, queues, then shows progress and the report."""
    from services import audit, publications
    from services.personal import personalise_for
    from services.segments import SegmentError

    ctx = cli_context()
    chosen = _segment(to) if to else None

    async def reach() -> Any:
        async with ctx.sessions() as sessions, sessions() as session:
            try:
                audience = await publications.audience_for_sending(session, publication_id, chosen)
                draft = await publications.load(session, publication_id)
            except publications.AlreadyPublished:
                fail(f"publication {publication_id} is already published")
            except publications.NoAudience:
                fail("say who gets it: --to " + SEGMENT_HELP)
            except (publications.PublicationError, SegmentError) as error:
                fail(str(error))
            return audience, await publications.language_check(session, draft, audience.reachable)

    audience, languages = run_async(reach)
    segment = audience.segment
    typer.echo(
        f"«{segment.describe()}»: {counted(len(audience.reachable), 'contact')} in "
        f"{counted(audience.organisations, 'organisation')} will get it; "
        f"{counted(len(audience.unreachable), 'contact has', 'contacts have')} no chat "
        "Lyttepost can reach.",
        err=True,
    )
    if not audience.reachable:
        fail("nobody to send to")
    if set(languages.readers) - {"nb"} or languages.translated:
        typer.echo(_languages_line(languages), err=True)
    if languages.fallback:
        typer.echo(f"warning: {_fallback_sentence(languages)}", err=True)
        if yes and not bokmal_ok:
            fail(
                "some recipients would get bokmål for want of a translation; add it with "
                f"lyttepost publications edit {publication_id} --lang LANG --text-file FILE, "
                "or send anyway with --yes --bokmal-ok"
            )
    question = "Send it now, with bokmål to them?" if languages.fallback else "Send it now?"
    if not yes and not typer.confirm(question, err=True):
        raise typer.Exit(1)

    async def send() -> None:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            now = ctx.now()
            try:
                reached = await publications.publish(
                    session, publication_id, segment, actor=ctx.actor(), now=now,
                    personalise=personalise_for(ctx.zone),
                    confirmed_fallback=languages.fallback,
                )  # fmt: skip
            except publications.FallbackChanged as error:
                fail(f"nothing sent: {error}; run the command again to see the new counts")
            except publications.PublicationError as error:
                fail(str(error))
            audit.record(
                session, audit.CLI, "publication.publish", f"publication:{publication_id}", now,
                segment=segment.describe(), recipients=len(reached.reachable),
                unreachable=len(reached.unreachable), languages=languages.readers,
                fallback=languages.fallback,
            )  # fmt: skip

    run_async(send)
    typer.echo(
        f"queued for {counted(len(audience.reachable), 'contact')}; lyttepost run delivers it",
        err=True,
    )
    if wait:
        _follow(ctx, publication_id, len(audience.reachable))
    _print_report(ctx, publication_id, as_json)


LANGUAGE_WORDS = {"nb": "bokmål", "nn": "nynorsk", "se": "North Sámi", "en": "English"}


def _languages_line(check: Any) -> str:
    """'Languages: 40 read bokmål, 12 nynorsk (translated), 3 North Sámi (gets bokmål).'"""
    parts = []
    for index, (language, count) in enumerate(check.readers.items()):
        name = LANGUAGE_WORDS.get(language, language)
        state = ""
        if language != "nb":
            state = " (translated)" if language in check.translated else " (gets bokmål)"
        parts.append(f"{count} read {name}{state}" if index == 0 else f"{count} {name}{state}")
    return "Languages: " + ", ".join(parts) + "."


def _fallback_sentence(check: Any) -> str:
    """'12 recipients read nynorsk, but the text is only in bokmål: they get bokmål.'"""
    missing = list(check.fallback.items())
    readers = [
        f"{counted(count, 'recipient')} read{'s' if count == 1 else ''} "
        f"{LANGUAGE_WORDS.get(language, language)}"
        if index == 0
        else f"{count} read {LANGUAGE_WORDS.get(language, language)}"
        for index, (language, count) in enumerate(missing)
    ]
    who = readers[0] if len(readers) == 1 else ", ".join(readers[:-1]) + " and " + readers[-1]
    they = "they get" if sum(check.fallback.values()) > 1 else "that recipient gets"
    if not check.translated:
        return f"{who}, but the text is only in bokmål: {they} bokmål."
    names = [LANGUAGE_WORDS.get(language, language) for language, _ in missing]
    lacking = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"{who}, but the text has no {lacking} translation: {they} bokmål."


def _follow(ctx: CliContext, publication_id: int, total: int, stall_hint: float = 15.0) -> None:
    """A progress bar over delivered recipients until nothing is pending (Ctrl-C stops watching)."""
    from services import publications

    async def poll() -> Any:
        async with ctx.sessions() as sessions, sessions() as session:
            return await publications.delivery_report(session, publication_id)

    done_before, last_change, hinted = 0, time.monotonic(), False
    try:
        with typer.progressbar(length=total, label="delivering", file=sys.stderr) as bar:
            while True:
                report = run_async(poll)
                finished = total - report.pending
                if finished > done_before:
                    bar.update(finished - done_before)
                    done_before, last_change = finished, time.monotonic()
                if report.done:
                    break
                if not hinted and time.monotonic() - last_change > stall_hint:
                    typer.echo("\nno progress: is 'lyttepost run' running?", err=True)
                    hinted = True
                time.sleep(1.0)
    except KeyboardInterrupt:
        typer.echo(
            "\nstopped watching; the bot keeps sending (lyttepost publications report ID)", err=True
        )


def _print_report(ctx: CliContext, publication_id: int, as_json: bool) -> None:
    from services import publications

    async def work() -> Any:
        async with ctx.sessions() as sessions, sessions() as session:
            try:
                return await publications.delivery_report(session, publication_id)
            except publications.PublicationError as error:
                fail(str(error))

    report = run_async(work)

    def human() -> None:
        typer.echo(
            f"publication {report.publication_id}: {report.delivered} of {report.recipients} "
            f"delivered, {report.pending} pending, {len(report.unreachable)} unreachable, "
            f"{len(report.failed)} failed, {len(report.uncertain)} uncertain"
        )
        for who in report.unreachable:
            typer.echo(
                f"  unreachable: {who.get('org', '')} {who.get('org_name', '')} – {who.get('name', '')}"
            )
        for who in report.failed:
            typer.echo(
                f"  failed: {who.get('org', '')} {who.get('org_name', '')} – {who.get('reason', '')}"
            )
        for who in report.uncertain:
            typer.echo(
                f"  uncertain ({who.get('status')}): {who.get('org', '')} {who.get('org_name', '')}"
            )

    emit(report.to_json(), as_json, human)


@publications_app.command("report")
def publications_report(publication_id: int = IdArgument, as_json: bool = JsonOption) -> None:
    """The delivery report: delivered, pending, unreachable (who), failed (why)."""
    _print_report(cli_context(), publication_id, as_json)


@report_app.command("build")
def report_build(
    round_id: int = typer.Argument(..., help="A closed round's id."),
    out: Path | None = typer.Option(
        None, "--out", help="Folder for the files (default exports/round-ID-report)."
    ),
    draft: bool = typer.Option(
        True, "--draft/--no-draft", help="Also make it a publication draft."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Build a round's summary (text, charts, XLSX, PDF) and make it a draft to preview and send."""
    from services import audit, publications
    from services.summaries import draft_summary, report_files

    ctx = cli_context()
    zone = ctx.zone
    folder = out or Path("exports") / f"round-{round_id}-report"

    async def work() -> dict[str, Any]:
        async with ctx.sessions() as sessions, sessions() as session, session.begin():
            try:
                if draft:
                    publication = await draft_summary(
                        session, round_id, zone, actor=ctx.actor(), now=ctx.now(),
                        keep_files_in=folder,
                    )  # fmt: skip
                    draft_id: int | None = publication.id
                    audit.record(
                        session, audit.CLI, "publication.draft", f"publication:{publication.id}",
                        ctx.now(), kind="summary", round=round_id,
                    )  # fmt: skip
                else:
                    await report_files(session, round_id, folder, zone)
                    draft_id = None
            except LookupError:
                fail(f"no round with id {round_id}")
            except publications.PublicationError as error:
                fail(str(error))
            files = sorted(str(p) for p in folder.iterdir())
            return {"round": round_id, "draft": draft_id, "files": files}

    result = run_async(work)

    def human() -> None:
        for name in result["files"]:
            typer.echo(name)
        if result["draft"] is not None:
            typer.echo(
                f"draft {result['draft']} made: lyttepost publications show {result['draft']}, "
                f"preview {result['draft']} --contact ID, send {result['draft']} --to invited:{round_id}",
                err=True,
            )

    emit(result, as_json, human)
