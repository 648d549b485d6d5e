"""Publiseringer: drafts composed with title, text, image and document for a segment of the
members; a preview as Telegram and Teams will show it; sending after a confirmation that
names the count; and delivery followed live until the report is complete.

Every page works without JavaScript; static/publications.js only adds live recipient
counts while picking a segment and a progress bar that updates itself.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from pathlib import PureWindowsPath
from typing import Any, Literal, ParamSpec, TypeVar

from aiohttp import web

from bot.web.context import workspace_of
from bot.web.render import page
from bot.web.security import Handler, actor_of, guarded, path_id, refusal, visitor_of
from dialogs.action_texts import STATUS_NAMES as STATUS_NAMES_ACTIONS
from dialogs.i18n import MEMBER_LANGUAGES, SOURCE
from dialogs.messages import OutgoingMessage, one_call_each
from dialogs.texts import antall
from services import audit, publications
from services.personal import personalise_for
from services.publications import (
    LANGUAGE_NAMES,
    MAX_PHOTO_BYTES,
    AttachedFile,
    AttachmentError,
    DeliveryReport,
    FallbackChanged,
    LanguageCheck,
    NewFile,
    PublicationError,
    Reach,
)
from services.segments import Segment, SegmentChoices, SegmentError, segment_choices
from storage.files import MAX_FILE_BYTES

KIND_NAMES = {"summary": "Oppsummering", "notice": "Tilbakemelding", "broadcast": "Melding"}
STATUS_NAMES = {"draft": "utkast", "published": "sendt"}
ROUND_STATUS = {"planned": "planlagt", "open": "åpen", "closed": "stengt", "cancelled": "avlyst"}
ACTION_STATUS = STATUS_NAMES_ACTIONS
# The segment picker: the form's value for each kind of segment, in the order shown.
SEGMENT_KINDS = [
    ("all", "Alle medlemmer"),
    ("county", "Medlemmene i ett fylke"),
    ("member_type", "Kommunene eller fylkeskommunene"),
    ("role", "Kontaktpersoner med en bestemt rolle"),
    ("respondents", "Medlemmer som svarte i en runde"),
    ("non_respondents", "Medlemmer som ikke svarte i en runde"),
    ("invited", "Medlemmer som ble invitert til en runde"),
    ("orgs", "Utvalgte organisasjoner"),
    ("area", "Medlemmer som valgte et område i en runde"),
    ("action", "Medlemmer med behov knyttet til et tiltak"),
]
# Which form field holds each kind's value, and what to say when it is empty.
SEGMENT_FIELDS = {
    "county": ("fylke", "Velg et fylke."),
    "member_type": ("type", "Velg kommuner eller fylkeskommuner."),
    "role": ("rolle", "Velg en rolle."),
    "respondents": ("runde", "Velg en runde."),
    "non_respondents": ("runde", "Velg en runde."),
    "invited": ("runde", "Velg en runde."),
    "orgs": ("organisasjoner", "Skriv organisasjonsnumrene, skilt med komma."),
    "area": ("omrade", "Velg en runde og et område."),
    "action": ("tiltak", "Velg et tiltak."),
}
# Title, text (20 000 characters at most) and two files: room for the largest files the
# checks allow, so they are refused with their own message rather than a bare 413.
UPLOAD_LIMIT = MAX_PHOTO_BYTES + MAX_FILE_BYTES + 1024 * 1024
POLL_SECONDS = 2
# The translations the compose form offers, with their field names and labels: the
# members' languages besides bokmål. English (for demos) gets a field only when a draft
# already has it (made with the CLI), so saving the form never drops it.
TRANSLATION_FIELDS = {language: f"tekst_{language}" for language in ("nn", "se", "en")}
TRANSLATION_LABELS = {"nn": "Nynorsk", "se": "Nordsamisk", "en": "Engelsk"}
OFFERED = tuple(language for language in MEMBER_LANGUAGES if language != SOURCE)


# --- reading the form ---------------------------------------------------------------------


P = ParamSpec("P")
T = TypeVar("T")


def _or_404(call: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """``call``, with a publication that does not exist answered as 404 Not Found."""

    @wraps(call)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await call(*args, **kwargs)
        except PublicationError:
            raise web.HTTPNotFound() from None

    return wrapper


_load = _or_404(publications.load)


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def segment_from(form: Mapping[str, Any]) -> tuple[Segment | None, str | None]:
    """The segment the picker's fields name, or a Norwegian reason why there is none."""
    kind = _text(form, "mottakere") or "all"
    if kind == "all":
        return Segment("all"), None
    if kind not in SEGMENT_FIELDS:
        return None, "Velg hvem publiseringen skal til."
    name, missing = SEGMENT_FIELDS[kind]
    value = _text(form, name).strip()
    if kind == "orgs":
        value = ",".join(code for code in re.split(r"[\s,;]+", value) if code)
    if not value:
        return None, missing
    try:
        return Segment.parse(f"{kind}:{value}"), None
    except SegmentError:
        return None, missing


def segment_fields(segment: Segment | None) -> dict[str, str]:
    """The picker's field values for a segment (to show a saved draft's choice)."""
    fields = {"mottakere": segment.kind if segment else "all"}
    if segment is not None and segment.kind in SEGMENT_FIELDS:
        fields[SEGMENT_FIELDS[segment.kind][0]] = segment.value or ""
    return fields


def _uploads(form: Mapping[str, Any]) -> list[NewFile]:
    """The image and the document chosen in the form (an empty file input sends nothing)."""
    files = []
    kinds: tuple[tuple[str, Literal["photo", "document"]], ...] = (
        ("bilde", "photo"),
        ("dokument", "document"),
    )
    for name, kind in kinds:
        upload = form.get(name)
        if not isinstance(upload, web.FileField) or not upload.filename:
            continue
        filename = PureWindowsPath(upload.filename).name[-150:] or "fil"  # any OS's path
        content = upload.file.read()
        files.append(NewFile(kind=kind, filename=filename, content=content, source=filename))
    return files


def _removed(form: Any) -> set[int]:
    return {int(v) for v in form.getall("fjern", []) if isinstance(v, str) and v.isdigit()}


def reach_sentence(reach: Reach, *, sending: bool = False) -> str:
    """'Sendes til 412 kontakter i 356 organisasjoner; 15 organisasjoner kan ikke nås.'"""
    lead = "Sendes til" if sending else "Når"
    sentence = (
        f"{lead} {antall(reach.contacts, 'kontakt', 'kontakter')} i "
        f"{antall(reach.organisations, 'organisasjon', 'organisasjoner')}"
    )
    unreachable = len(reach.unreachable_organisations)
    if unreachable:
        sentence += f"; {antall(unreachable, 'organisasjon', 'organisasjoner')} kan ikke nås"
    return sentence + "."


def reach_details(reach: Reach) -> str:
    """The contacts behind the count who have no chat Lyttepost can use."""
    if not reach.unreachable_contacts:
        return "Alle kontaktpersonene i utvalget kan nås."
    return (
        f"{antall(reach.unreachable_contacts, 'kontaktperson', 'kontaktpersoner')} i utvalget "
        "har ingen chat Lyttepost kan nå."
    )


def translation_fields(translations: Mapping[str, str]) -> list[tuple[str, str, str, str]]:
    """The form's translation fields: (language, field name, label, text), the members'
    languages always, English only when the draft has it."""
    shown = [*OFFERED, *(language for language in ("en",) if translations.get(language))]
    return [
        (language, TRANSLATION_FIELDS[language], TRANSLATION_LABELS[language],
         translations.get(language, ""))
        for language in shown
    ]  # fmt: skip


def translations_from(form: Mapping[str, Any], kept: Mapping[str, str]) -> dict[str, str]:
    """The translations the form holds; a language the form had no field for is ``kept``."""
    found = dict(kept)
    for language, name in TRANSLATION_FIELDS.items():
        if name in form:
            found[language] = _text(form, name).replace("\r\n", "\n").strip()
    return {language: text for language, text in found.items() if text}


def languages_sentence(check: LanguageCheck) -> str:
    """'Språk: 40 leser bokmål, 12 nynorsk og 3 nordsamisk.' (empty when all read bokmål)."""
    if not set(check.readers) - {SOURCE}:
        return ""
    parts = [
        f"{count} {'leser ' if index == 0 else ''}{LANGUAGE_NAMES.get(language, language)}"
        for index, (language, count) in enumerate(check.readers.items())
    ]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " og " + parts[-1]
    return f"Mottakernes språk: {listed}."


def fallback_token(check: LanguageCheck) -> str:
    """Who gets bokmål for want of a translation, as the confirmation form carries it
    ('nn:12,se:3'), so sending can tell whether that changed after staff saw it."""
    return ",".join(f"{language}:{count}" for language, count in sorted(check.fallback.items()))


def fallback_of(token: str) -> dict[str, int] | None:
    """``fallback_token`` read back; None for a form that carries none (or a broken one)."""
    found: dict[str, int] = {}
    for part in filter(None, token.split(",")):
        language, _, count = part.partition(":")
        if not count.isdigit():
            return None
        found[language] = int(count)
    return found


def size_text(size: int) -> str:
    """1536 -> '1,5 kB', as a file list shows it."""
    if size < 1024:
        return f"{size} byte"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} kB".replace(".", ",")
    return f"{size / 2**20:.1f} MB".replace(".", ",")


ROUND_SEGMENTS = {
    "respondents": "medlemmer som svarte i",
    "non_respondents": "medlemmer som ikke svarte i",
    "invited": "medlemmer invitert til",
}


def describer(choices: SegmentChoices) -> Callable[[Segment | None], str]:
    """A segment in words, with the county's name and the round's title where known."""
    counties = dict(choices.counties)
    rounds = {str(round_id): title for round_id, title, _ in choices.rounds}
    areas = {f"{round_id}:{area}": label for round_id, area, label in choices.areas}
    actions = {str(action_id): title for action_id, title, _ in choices.actions}

    def describe(segment: Segment | None) -> str:
        if segment is None:
            return "ingen valgt"
        value = segment.value or ""
        if segment.kind == "county" and value in counties:
            return f"medlemmene i {counties[value]}"
        if segment.kind in ROUND_SEGMENTS and value in rounds:
            return f"{ROUND_SEGMENTS[segment.kind]} «{rounds[value]}»"
        if segment.kind == "role":
            return f"kontaktpersoner med rollen «{value}»"
        if segment.kind == "area" and value in areas:
            round_id = value.partition(":")[0]
            in_round = f"«{rounds[round_id]}»" if round_id in rounds else f"runde {round_id}"
            return f"medlemmer som valgte «{areas[value]}» i {in_round}"
        if segment.kind == "action" and value in actions:
            return f"medlemmer med behov knyttet til tiltaket «{actions[value]}»"
        return segment.describe()

    return describe


def _sentence_case(message: str) -> str:
    message = message.strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


# --- the list -------------------------------------------------------------------------------


@guarded("staff")
async def publications_list(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    async with workspace.sessions() as session:
        listed = await publications.listing(session)
        choices = await segment_choices(session)
    return page(
        request,
        "publications.html",
        {
            "publications": listed,
            "describe": describer(choices),
            "kind_names": KIND_NAMES,
            "status_names": STATUS_NAMES,
        },
        title="Publiseringer",
    )


# --- compose -------------------------------------------------------------------------------


@dataclass
class Compose:
    """What the compose form shows: the values, the files kept, the reach, the problems."""

    publication_id: int | None
    title: str = ""
    text: str = ""
    translations: dict[str, str] = field(default_factory=dict)
    kind: str = "broadcast"
    fields: dict[str, str] = field(default_factory=lambda: {"mottakere": "all"})
    files: list[AttachedFile] = field(default_factory=list)
    removed: set[int] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    reach: Reach | None = None
    reach_error: str | None = None
    files_lost: bool = False


async def _show_compose(
    request: web.Request, compose: Compose, *, status: int = 200
) -> web.StreamResponse:
    workspace = workspace_of(request)
    async with workspace.sessions() as session:
        choices = await segment_choices(session)
        if compose.reach is None and compose.reach_error is None:
            segment, problem = segment_from(compose.fields)
            if segment is None:
                compose.reach_error = problem
            else:
                compose.reach, compose.reach_error = await _reach(session, segment)
    return page(
        request,
        "publication_compose.html",
        {
            "compose": compose,
            "choices": choices,
            "segment_kinds": SEGMENT_KINDS,
            "round_status": ROUND_STATUS,
            "action_status": ACTION_STATUS,
            "reach_sentence": reach_sentence(compose.reach) if compose.reach else "",
            "reach_details": reach_details(compose.reach) if compose.reach else "",
            "translation_fields": translation_fields(compose.translations),
            "action": (
                f"/publiseringer/{compose.publication_id}/rediger"
                if compose.publication_id
                else "/publiseringer/ny"
            ),
            "max_photo_mb": MAX_PHOTO_BYTES // 2**20,
            "max_file_mb": MAX_FILE_BYTES // 2**20,
        },
        status=status,
        title="Rediger utkast" if compose.publication_id else "Ny publisering",
    )


async def _reach(session: Any, segment: Segment) -> tuple[Reach | None, str | None]:
    try:
        return await publications.reach(session, segment), None
    except SegmentError as error:
        return None, error.nb


def larger_body(handler: Handler) -> Handler:
    """Accept a form with files (the app's default body limit is for webhooks), and say in
    Norwegian when even that is too much."""

    @wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        larger = request.clone(client_max_size=UPLOAD_LIMIT)
        try:
            return await handler(larger)
        except web.HTTPRequestEntityTooLarge:
            return refusal(
                request,
                413,
                "Filene er for store",
                f"Bildet kan være på høyst {MAX_PHOTO_BYTES // 2**20} MB og dokumentet på "
                f"høyst {MAX_FILE_BYTES // 2**20} MB. Gå tilbake og velg mindre filer.",
            )
        finally:
            await _close_uploads(larger)

    return wrapper


async def _close_uploads(request: web.Request) -> None:
    """Close the files aiohttp spooled to disk for a form that was read, whatever the
    handler did with them (a refused or recounted form leaves them unread)."""
    if request.can_read_body:
        return  # never read: nothing was spooled
    try:
        form = await request.post()  # the form already read (aiohttp keeps it)
    except (ValueError, web.HTTPException):
        return
    for value in form.values():
        if isinstance(value, web.FileField):
            value.file.close()


@guarded("staff")
async def compose_new(request: web.Request) -> web.StreamResponse:
    return await _show_compose(request, Compose(None))


@guarded("staff")
async def compose_edit(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    publication_id = path_id(request, "publication_id")
    async with workspace.sessions() as session:
        draft = await _load(session, publication_id)
        if draft.status != "draft":
            raise web.HTTPSeeOther(f"/publiseringer/{publication_id}/levering")
        files = await publications.attached_files(session, draft)
        segment = Segment.from_json(draft.segment) if draft.segment else None
        compose = Compose(
            publication_id, title=draft.title, text=draft.text, kind=draft.kind,
            translations=dict(draft.translations or {}), fields=segment_fields(segment),
            files=files,
        )  # fmt: skip
    return await _show_compose(request, compose)


@larger_body
@guarded("staff")
async def save_new(request: web.Request) -> web.StreamResponse:
    return await _save(request, None)


@larger_body
@guarded("staff")
async def save_edit(request: web.Request) -> web.StreamResponse:
    return await _save(request, path_id(request, "publication_id"))


async def _save(request: web.Request, publication_id: int | None) -> web.StreamResponse:
    """Save the form as a draft and go on to its preview; or, for "Beregn mottakere" or a
    problem, show the form again with what was typed and why."""
    workspace = workspace_of(request)
    form = await request.post()
    actor = audit.Actor(
        f"staff:{visitor_of(request).staff.id}", "web", visitor_of(request).staff.id
    )
    segment, segment_problem = segment_from(form)
    files = _uploads(form)
    compose = Compose(
        publication_id,
        title=_text(form, "tittel").strip(),
        text=_text(form, "tekst").replace("\r\n", "\n").strip(),
        fields={k: _text(form, k) for k in ("mottakere", *{f for f, _ in SEGMENT_FIELDS.values()})},
        removed=_removed(form),
        files_lost=bool(files),
    )  # fmt: skip
    kept: dict[str, str] = {}
    if publication_id is not None:
        async with workspace.sessions() as session:
            draft = await _load(session, publication_id)
            if draft.status != "draft":
                raise web.HTTPSeeOther(f"/publiseringer/{publication_id}/levering")
            compose.kind = draft.kind
            compose.files = await publications.attached_files(session, draft)
            kept = dict(draft.translations or {})
    compose.translations = translations_from(form, kept)
    if _text(form, "handling") == "beregn":
        return await _show_compose(request, compose)
    if not compose.title:
        compose.errors.append("Skriv en tittel.")
    if segment is None:
        compose.errors.append(segment_problem or "Velg hvem publiseringen skal til.")
    if compose.errors:
        return await _show_compose(request, compose, status=400)
    assert segment is not None
    now = workspace.now()
    try:
        async with workspace.sessions.begin() as session:
            if publication_id is None:
                made = await publications.create_draft(
                    session, kind="broadcast", title=compose.title, text=compose.text,
                    actor=actor.label, now=now, files=files, segment=segment,
                    translations=compose.translations,
                )  # fmt: skip
            else:
                made = await publications.update_draft(
                    session, publication_id, title=compose.title, text=compose.text,
                    segment=segment, now=now, remove_file_ids=compose.removed, files=files,
                    translations=compose.translations,
                )  # fmt: skip
            saved = made.publication.id
            audit.record(
                session, actor,
                "publication.create" if publication_id is None else "publication.edit",
                f"publication:{saved}", now,
                segment=segment.to_json(), files_added=len(files),
                files_removed=len(compose.removed),
                languages=[SOURCE, *made.publication.translations],
            )  # fmt: skip
    except AttachmentError as error:
        compose.errors.append(error.nb)
    except SegmentError as error:
        compose.errors.append(error.nb)
    except PublicationError as error:
        compose.errors.append(_sentence_case(str(error)))
    if compose.errors:
        return await _show_compose(request, compose, status=400)
    raise web.HTTPSeeOther(f"/publiseringer/{saved}/forhandsvisning?lagret=1")


@guarded("staff")
async def reach_json(request: web.Request) -> web.StreamResponse:
    """Live counts for the segment picker: whom the chosen segment reaches now."""
    workspace = workspace_of(request)
    segment, problem = segment_from(request.query)
    if segment is None:
        return web.json_response({"error": problem}, status=400)
    async with workspace.sessions() as session:
        reach, problem = await _reach(session, segment)
    if reach is None:
        return web.json_response({"error": problem}, status=400)
    return web.json_response(
        {**reach.to_json(), "sentence": reach_sentence(reach), "details": reach_details(reach)}
    )


# --- preview -------------------------------------------------------------------------------


@dataclass
class Bubble:
    """One message in a chat, approximated in HTML: text or caption, its file, its buttons.

    ``lines`` carries a Teams card's text blocks (line, extra space above)."""

    kind: Literal["text", "photo", "document", "card", "link", "missing"]
    text: str = ""
    lines: list[tuple[str, bool]] = field(default_factory=list)
    buttons: list[list[str]] = field(default_factory=list)
    file: AttachedFile | None = None


def telegram_bubbles(
    messages: list[OutgoingMessage], files: dict[int, AttachedFile]
) -> list[Bubble]:
    """As bot/telegram.py sends them: plain text (no markup) in parts of at most 4 096
    characters with the inline keyboard on the last, then each file with its caption."""
    from bot.telegram import MAX_CAPTION

    bubbles = []
    for message in messages:
        for part in one_call_each(message, "telegram"):
            if part.text or not part.attachments:
                bubbles.append(
                    Bubble("text", part.text, buttons=[[b.label for b in r] for r in part.buttons])
                )
            for attachment in part.attachments:
                bubbles.append(
                    Bubble(
                        attachment.kind,
                        (attachment.caption or "")[:MAX_CAPTION],
                        file=files.get(attachment.file_id),
                    )
                )
    return bubbles


def teams_bubbles(
    messages: list[OutgoingMessage], files: dict[int, AttachedFile], links: bool
) -> list[Bubble]:
    """As bot/teams.py sends them: plain text, or an Adaptive Card (one text block per line,
    buttons as actions) when there are buttons; a picture up to 1 MB inline; any other file
    as a link, which needs the web app's public address and file-link key."""
    from bot.teams import MAX_IMAGE_BYTES, adaptive_card

    bubbles = []
    for message in messages:
        for part in one_call_each(message, "teams"):
            if not part.attachments:
                if part.buttons:
                    card = adaptive_card(part)
                    lines = [
                        (block["text"], block.get("spacing") == "medium")
                        for block in card["body"]
                        if block["type"] == "TextBlock"
                    ]
                    buttons = [
                        [action["title"] for action in block["actions"]]
                        for block in card["body"]
                        if block["type"] == "ActionSet"
                    ]
                    bubbles.append(Bubble("card", lines=lines, buttons=buttons))
                else:
                    bubbles.append(Bubble("text", part.text))
                continue
            for attachment in part.attachments:
                stored = files.get(attachment.file_id)
                if attachment.kind == "photo" and stored and stored.size <= MAX_IMAGE_BYTES:
                    bubbles.append(Bubble("photo", attachment.caption or "", file=stored))
                elif links:
                    bubbles.append(Bubble("link", attachment.caption or "", file=stored))
                else:
                    bubbles.append(Bubble("missing", attachment.filename, file=stored))
    return bubbles


@guarded("staff")
async def preview_page(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    publication_id = path_id(request, "publication_id")
    async with workspace.sessions() as session:
        publication = await _load(session, publication_id)
        translations = dict(publication.translations or {})
        offered = [*MEMBER_LANGUAGES, *(["en"] if translations.get("en") else [])]
        language = request.query.get("sprak", SOURCE)
        if language not in offered:
            language = SOURCE
        files = {f.file_id: f for f in await publications.attached_files(session, publication)}
        messages = publications.messages_of(publication, language)
        segment = Segment.from_json(publication.segment) if publication.segment else None
        reach, _ = await _reach(session, segment) if segment else (None, None)
        title, kind, status = publication.title, publication.kind, publication.status
        describe = describer(await segment_choices(session))
    settings = workspace.settings
    links = bool(settings.public_base_url and settings.file_link_secret)
    return page(
        request,
        "publication_preview.html",
        {
            "publication_id": publication_id,
            "publication_title": title,
            "kind": kind,
            "status": status,
            "language": language,
            "languages": [
                (code, LANGUAGE_NAMES[code].capitalize(), code == SOURCE or code in translations)
                for code in offered
            ],
            "language_name": LANGUAGE_NAMES[language],
            "translated": language == SOURCE or language in translations,
            "telegram": telegram_bubbles(messages, files),
            "teams": teams_bubbles(messages, files, links),
            "segment": segment,
            "describe": describe,
            "reach_sentence": reach_sentence(reach) if reach else "",
            "notice": "Utkastet er lagret." if request.query.get("lagret") else "",
            "size_text": size_text,
        },
        title=f"Forhåndsvisning: {title}",
    )


@guarded("staff")
async def attachment(request: web.Request) -> web.StreamResponse:
    """A draft's own file, for its preview: pictures shown, anything else downloaded (an
    uploaded file is never rendered as a page of this site)."""
    workspace = workspace_of(request)
    publication_id = path_id(request, "publication_id")
    file_id = path_id(request, "file_id")
    async with workspace.sessions() as session:
        try:
            stored = await publications.attached_file(session, publication_id, file_id)
        except LookupError:
            raise web.HTTPNotFound() from None
    picture = stored.media_type in ("image/png", "image/jpeg")
    safe_name = re.sub(r"[^A-Za-z0-9._-]+", "_", stored.filename)[:100] or "fil"
    return web.Response(
        body=stored.content,
        content_type=stored.media_type if picture else "application/octet-stream",
        headers={
            "Content-Disposition": f'{"inline" if picture else "attachment"}; filename="{safe_name}"'
        },
    )


# --- sending -------------------------------------------------------------------------------


async def _confirmation(
    request: web.Request, publication_id: int, *, warning: str = "", status: int = 200
) -> web.StreamResponse:
    workspace = workspace_of(request)
    async with workspace.sessions() as session:
        publication = await _load(session, publication_id)
        if publication.status != "draft":
            raise web.HTTPSeeOther(f"/publiseringer/{publication_id}/levering")
        segment = Segment.from_json(publication.segment) if publication.segment else None
        reach, problem = await _reach(session, segment) if segment else (None, None)
        languages = (
            await publications.language_check(session, publication, reach.audience.reachable)
            if reach
            else None
        )
        title, version = publication.title, publication.version
        describe = describer(await segment_choices(session))
    return page(
        request,
        "publication_confirm.html",
        {
            "publication_id": publication_id,
            "publication_title": title,
            "version": version,
            "languages_sentence": languages_sentence(languages) if languages else "",
            "fallback_warning": languages.warning() if languages else "",
            "fallback_token": fallback_token(languages) if languages else "",
            "segment": segment,
            "describe": describe,
            "reach": reach,
            "problem": problem,
            "sentence": reach_sentence(reach, sending=True) if reach else "",
            "details": reach_details(reach) if reach else "",
            "warning": warning,
        },
        status=status,
        title=f"Send: {title}",
    )


@guarded("staff")
async def confirm_send(request: web.Request) -> web.StreamResponse:
    """What sending will do and to how many, and the button that does it."""
    return await _confirmation(request, path_id(request, "publication_id"))


@guarded("staff")
async def send(request: web.Request) -> web.StreamResponse:
    """Publish the draft exactly as confirmed: a draft changed since, is confirmed again."""
    workspace = workspace_of(request)
    publication_id = path_id(request, "publication_id")
    form = await request.post()
    actor = actor_of(request)
    now = workspace.now()
    problem = ""
    async with workspace.sessions.begin() as session:
        draft = await _load(session, publication_id)
        if draft.status != "draft":
            raise web.HTTPSeeOther(f"/publiseringer/{publication_id}/levering")
        confirmed = fallback_of(_text(form, "bokmal"))
        if (
            _text(form, "versjon") != str(draft.version)
            or draft.segment is None
            or confirmed is None
        ):
            problem = "Utkastet er endret siden du så på det. Se over og bekreft på nytt."
        else:
            segment = Segment.from_json(draft.segment)
            try:
                reached = await publications.publish(
                    session, publication_id, segment, actor=actor.label, now=now,
                    personalise=personalise_for(workspace.zone, workspace.catalog),
                    confirmed_fallback=confirmed,
                )  # fmt: skip
            except SegmentError as error:
                problem = error.nb
            except FallbackChanged:
                problem = (
                    "Mottakernes språk er endret siden du så på det, og det endrer hvem som "
                    "får bokmål. Se over og bekreft på nytt."
                )
            else:
                audit.record(
                    session, actor, "publication.publish", f"publication:{publication_id}", now,
                    segment=segment.to_json(), recipients=len(reached.reachable),
                    unreachable=len(reached.unreachable), organisations=reached.organisations,
                    fallback=confirmed,
                )  # fmt: skip
    if problem:
        return await _confirmation(request, publication_id, warning=problem, status=409)
    workspace.rounds_changed()  # also wakes the sender
    raise web.HTTPSeeOther(f"/publiseringer/{publication_id}/levering")


# --- delivery ------------------------------------------------------------------------------


def progress_of(report: DeliveryReport) -> dict[str, Any]:
    """The report's figures for the progress bar: settled is everything no longer pending."""
    settled = report.recipients - report.pending
    percent = 100 if report.recipients == 0 else int(settled * 100 / report.recipients)
    return {
        "recipients": report.recipients,
        "delivered": report.delivered,
        "pending": report.pending,
        "unreachable": len(report.unreachable),
        "failed": len(report.failed),
        "uncertain": len(report.uncertain),
        "settled": settled,
        "percent": percent,
        "done": report.done,
        "summary": (
            f"{antall(report.delivered, 'mottaker', 'mottakere')} har fått den av "
            f"{report.recipients}; {report.pending} venter."
        ),
    }


async def _report(request: web.Request) -> DeliveryReport:
    workspace = workspace_of(request)
    publication_id = path_id(request, "publication_id")
    async with workspace.sessions() as session:
        try:
            report = await publications.delivery_report(session, publication_id)
        except PublicationError:
            raise web.HTTPNotFound() from None
    if report.status == "draft":
        raise web.HTTPSeeOther(f"/publiseringer/{publication_id}/rediger")
    return report


@guarded("staff")
async def delivery_page(request: web.Request) -> web.StreamResponse:
    report = await _report(request)
    workspace = workspace_of(request)
    async with workspace.sessions() as session:
        publication = await publications.load(session, report.publication_id)
        title = publication.title
        published_at = publication.published_at
        segment = Segment.from_json(publication.segment) if publication.segment else None
        describe = describer(await segment_choices(session))
    failed_by_reason: dict[str, list[dict[str, Any]]] = {}
    for who in report.failed:
        failed_by_reason.setdefault(str(who.get("reason", "")), []).append(who)
    return page(
        request,
        "publication_delivery.html",
        {
            "publication_id": report.publication_id,
            "publication_title": title,
            "published_at": published_at,
            "segment": segment,
            "describe": describe,
            "report": report,
            "progress": progress_of(report),
            "failed_by_reason": sorted(failed_by_reason.items()),
            "poll_seconds": POLL_SECONDS,
        },
        title=f"Levering: {title}",
    )


@guarded("staff")
async def delivery_json(request: web.Request) -> web.StreamResponse:
    return web.json_response(progress_of(await _report(request)))


@guarded("staff")
async def publication_page(request: web.Request) -> web.StreamResponse:
    """A publication's own address: its draft form, or its delivery once sent."""
    workspace = workspace_of(request)
    publication_id = path_id(request, "publication_id")
    async with workspace.sessions() as session:
        status = (await _load(session, publication_id)).status
    where = "rediger" if status == "draft" else "levering"
    raise web.HTTPSeeOther(f"/publiseringer/{publication_id}/{where}")


def add_publication_routes(app: web.Application) -> None:
    one = r"/publiseringer/{publication_id:\d+}"
    app.router.add_get("/publiseringer", publications_list)
    app.router.add_get("/publiseringer/ny", compose_new)
    app.router.add_post("/publiseringer/ny", save_new)
    app.router.add_get("/publiseringer/mottakere", reach_json)
    app.router.add_get(one, publication_page)
    app.router.add_get(one + "/rediger", compose_edit)
    app.router.add_post(one + "/rediger", save_edit)
    app.router.add_get(one + "/forhandsvisning", preview_page)
    app.router.add_get(one + r"/filer/{file_id:\d+}", attachment)
    app.router.add_get(one + "/send", confirm_send)
    app.router.add_post(one + "/send", send)
    app.router.add_get(one + "/levering", delivery_page)
    app.router.add_get(one + "/levering.json", delivery_json)
