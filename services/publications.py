"""Publications: drafts that KS staff edit and preview, then send to a segment, and report on.

One path for everything sent to many members (a round's summary, a dissemination
notice, any broadcast): a draft is previewed in the author's own chat exactly as members
will get it, then published. Publishing queues, in one transaction, one delivery per
recipient (the outbox dedupe key ``pub:{id}:{contact}``): publishing twice, or a
restart in the middle of sending, never sends anyone anything twice.

A publication speaks several languages (issue 15): ``text`` is bokmål and always there,
``translations`` holds the same message in nynorsk, nordsamisk (and English for demos).
Each recipient gets their language (``services/languages.py``); one whose language has no
translation gets bokmål, and staff are told how many before they confirm
(``language_check``), never after: ``publish`` refuses when the fallback has changed
since the confirmation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.i18n import LANGUAGES, SOURCE, speaking, t, texts_for
from dialogs.messages import Attachment, OutgoingMessage
from services.languages import contact_language, contact_languages
from services.rounds import latest_chat
from services.segments import Recipient, Segment, resolve_segment, segment_organisations
from storage import outbox
from storage.files import MAX_FILE_BYTES, FileContent, store_file
from storage.orm import Chat, Contact, Organisation, OutboxMessage, Publication, Round, StoredFile

KINDS = ("summary", "notice", "broadcast")
MAX_TEXT = 20_000  # split into several chat messages on the way out
IMAGE_SIGNATURES = (b"\x89PNG", b"\xff\xd8")  # PNG, JPEG: what every channel shows as a picture
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # Telegram's limit for a photo (documents: MAX_FILE_BYTES)
# Languages a publication's text may be translated into (bokmål is ``text`` itself).
TRANSLATABLE: tuple[str, ...] = tuple(language for language in LANGUAGES if language != SOURCE)
# The languages' names as staff read them (the workspace and the CLI's warnings).
LANGUAGE_NAMES = {"nb": "bokmål", "nn": "nynorsk", "se": "nordsamisk", "en": "engelsk"}
# Captions Lyttepost itself gives a publication's files: stored in bokmål, sent in each
# recipient's language (a caption staff wrote is sent as written).
SYSTEM_CAPTIONS = ("publications.summary.workbook_caption", "publications.summary.pdf_caption")

# Extra messages for one recipient (a respondent's own answers next to the national
# picture): made per session, then given the publication and the recipient.
Personalise = Callable[[Publication, Recipient], Awaitable[Sequence[OutgoingMessage]]]
PersonaliseFactory = Callable[[AsyncSession], Personalise]


class PublicationError(ValueError):
    """A publication change that is not allowed (unknown, already published, empty).

    Its message is Norwegian: admins read it in chat as well as on the command line."""


class AlreadyPublished(PublicationError):
    """The draft has been sent; a publication is sent once."""


class NoAudience(PublicationError):
    """Nobody said whom to send it to: neither the draft nor the caller names a segment."""


class FallbackChanged(PublicationError):
    """Who would get bokmål instead of their language changed after staff confirmed."""


class AttachmentError(ValueError):
    """A file that cannot go with a publication: not a picture, too large for a chat.

    ``nb`` says it in Norwegian for staff on the web (the message is the CLI's)."""

    def __init__(self, message: str, nb: str | None = None) -> None:
        super().__init__(message)
        self.nb = nb or message


@dataclass(frozen=True)
class NewFile:
    """A file to attach, as the caller read it; ``source`` names it in messages (a path)."""

    kind: Literal["photo", "document"]
    filename: str
    content: bytes
    source: str


async def create(
    session: AsyncSession,
    *,
    kind: str,
    title: str,
    text: str,
    actor: str,
    now: datetime,
    round_id: int | None = None,
    attachments: Sequence[Attachment] = (),
    segment: Segment | None = None,
    translations: Mapping[str, str] | None = None,
) -> Publication:
    """A new draft; ``translations`` maps a language (nn, se, en) to the text in it."""
    if kind not in KINDS:
        raise PublicationError(f"ukjent type {kind!r}: {', '.join(KINDS)}")
    _check_text(text, attachments)
    publication = Publication(
        kind=kind, title=title[:200], text=text, round_id=round_id,
        attachments=[a.model_dump(mode="json") for a in attachments],
        segment=segment.to_json() if segment else None,
        translations=clean_translations(translations or {}),
        status="draft", created_by=actor, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(publication)
    await session.flush()
    return publication


@dataclass(frozen=True)
class Draft:
    """A new draft and, when it names a segment, whom it would reach now."""

    publication: Publication
    reach: Audience | None


async def create_draft(
    session: AsyncSession,
    *,
    kind: str,
    title: str,
    text: str,
    actor: str,
    now: datetime,
    round_id: int | None = None,
    files: Sequence[NewFile] = (),
    segment: Segment | None = None,
    translations: Mapping[str, str] | None = None,
) -> Draft:
    """A draft with its files stored: ``LookupError`` for a round that does not exist,
    ``AttachmentError``, ``PublicationError`` or ``SegmentError`` for what cannot be sent."""
    if round_id is not None and await session.get(Round, round_id) is None:
        raise LookupError(f"no round with id {round_id}")
    cleaned = clean_translations(translations or {})  # before any file is stored
    attachments = await store_attachments(session, files)
    publication = await create(
        session, kind=kind, title=title, text=text, actor=actor, now=now,
        round_id=round_id, attachments=attachments, segment=segment, translations=cleaned,
    )  # fmt: skip
    return Draft(publication, await audience(session, segment) if segment else None)


async def store_attachments(session: AsyncSession, files: Sequence[NewFile]) -> list[Attachment]:
    """Store each file once; a picture must be PNG or JPEG, which every channel shows."""
    attachments = []
    for file in files:
        name = file.filename
        if not file.content:
            raise AttachmentError(f"{file.source}: the file is empty", nb=f"«{name}» er tom.")
        if file.kind == "photo" and not file.content.startswith(IMAGE_SIGNATURES):
            raise AttachmentError(
                f"{file.source}: an image must be PNG or JPEG",
                nb=f"«{name}» er ikke et bilde i PNG- eller JPEG-format.",
            )
        if file.kind == "photo" and len(file.content) > MAX_PHOTO_BYTES:
            raise AttachmentError(
                f"{file.source}: an image may be at most {MAX_PHOTO_BYTES // 2**20} MB",
                nb=f"Bildet «{name}» er for stort: høyst {MAX_PHOTO_BYTES // 2**20} MB.",
            )
        try:
            file_id = await store_file(session, file.filename, file.content)
        except ValueError as error:
            raise AttachmentError(
                str(error),
                nb=f"«{name}» er for stor: en chat tar høyst {MAX_FILE_BYTES // 2**20} MB.",
            ) from error
        attachments.append(Attachment(kind=file.kind, file_id=file_id, filename=file.filename))
    return attachments


def _check_text(text: str, attachments: Sequence[Attachment] | Sequence[dict[str, Any]]) -> None:
    if not text.strip() and not attachments:
        raise PublicationError("en melding må ha tekst eller en fil")
    if len(text) > MAX_TEXT:
        raise PublicationError(f"teksten har {len(text)} tegn; høyst {MAX_TEXT} går an")


def clean_translations(translations: Mapping[str, str]) -> dict[str, str]:
    """Translations as stored: known languages only, trimmed, an empty text left out (that
    language gets bokmål). ``PublicationError`` in Norwegian for what cannot be kept."""
    cleaned = {}
    for language, text in translations.items():
        if language == SOURCE:
            raise PublicationError("bokmålsteksten er selve teksten, ikke en oversettelse")
        if language not in TRANSLATABLE:
            raise PublicationError(f"ukjent språk {language!r}: {', '.join(TRANSLATABLE)} går an")
        text = text.replace("\r\n", "\n").strip()
        if len(text) > MAX_TEXT:
            raise PublicationError(
                f"teksten på {LANGUAGE_NAMES[language]} har {len(text)} tegn; "
                f"høyst {MAX_TEXT} går an"
            )
        if text:
            cleaned[language] = text
    return dict(sorted(cleaned.items(), key=lambda item: LANGUAGES.index(item[0])))


def text_in(publication: Publication, language: str) -> str:
    """The publication's text in ``language``, or bokmål when it has no such translation."""
    if language == SOURCE:
        return publication.text
    return (publication.translations or {}).get(language) or publication.text


def has_language(publication: Publication, language: str) -> bool:
    """Whether readers of ``language`` get their own language (bokmål always does)."""
    return language == SOURCE or bool((publication.translations or {}).get(language))


async def load(session: AsyncSession, publication_id: int) -> Publication:
    """A publication, or ``PublicationError`` if there is none."""
    publication = await session.get(Publication, publication_id)
    if publication is None:
        raise PublicationError(f"fant ikke utkast {publication_id}")
    return publication


async def edit_text(
    session: AsyncSession,
    publication_id: int,
    text: str,
    *,
    actor: str,
    now: datetime,
    language: str = SOURCE,
) -> Publication:
    """Replace a draft's text (what staff correct before publishing): bokmål, or the
    translation into ``language``, which an empty text removes."""
    publication = await load(session, publication_id)
    if publication.status != "draft":
        raise PublicationError(f"utkast {publication_id} er allerede sendt")
    if language == SOURCE:
        _check_text(text, publication.attachments)
        publication.text = text
    else:
        translations = {k: v for k, v in (publication.translations or {}).items() if k != language}
        publication.translations = clean_translations({**translations, language: text})
    publication.updated_at = now
    return publication


async def update_draft(
    session: AsyncSession,
    publication_id: int,
    *,
    title: str,
    text: str,
    segment: Segment | None,
    now: datetime,
    remove_file_ids: Collection[int] = (),
    files: Sequence[NewFile] = (),
    translations: Mapping[str, str] | None = None,
) -> Draft:
    """Change a draft as a whole (what the workspace's form holds): title, text, its
    translations (None: keep them), whom it goes to, files dropped and files added.
    ``AlreadyPublished`` once it has been sent."""
    publication = await load(session, publication_id)
    if publication.status != "draft":
        raise AlreadyPublished(f"utkast {publication_id} er allerede sendt")
    cleaned = clean_translations(translations) if translations is not None else None
    kept = [a for a in publication.attachments if a.get("file_id") not in set(remove_file_ids)]
    added = await store_attachments(session, files)
    attachments = [*kept, *(a.model_dump(mode="json") for a in added)]
    _check_text(text, attachments)
    publication.title = title[:200]
    publication.text = text
    if cleaned is not None and cleaned != (publication.translations or {}):
        publication.translations = cleaned
    publication.attachments = attachments
    publication.segment = segment.to_json() if segment else None
    publication.updated_at = now
    await session.flush()
    return Draft(publication, await audience(session, segment) if segment else None)


@dataclass(frozen=True)
class AttachedFile:
    """A draft's file as the workspace lists it: what it is and how large."""

    kind: str
    file_id: int
    filename: str
    caption: str | None
    size: int
    media_type: str


async def attached_files(session: AsyncSession, publication: Publication) -> list[AttachedFile]:
    """A publication's files in order, with their sizes (a file gone from storage: size 0)."""
    ids = [int(a["file_id"]) for a in publication.attachments]
    stored = {
        file_id: (size, media_type)
        for file_id, size, media_type in await session.execute(
            select(StoredFile.id, StoredFile.size, StoredFile.media_type).where(
                StoredFile.id.in_(ids)
            )
        )
    } if ids else {}  # fmt: skip
    files = []
    for a in publication.attachments:
        size, media_type = stored.get(int(a["file_id"]), (0, "application/octet-stream"))
        files.append(
            AttachedFile(str(a["kind"]), int(a["file_id"]), str(a["filename"]),
                         a.get("caption"), size, media_type)
        )  # fmt: skip
    return files


async def attached_file(session: AsyncSession, publication_id: int, file_id: int) -> FileContent:
    """One of a publication's own files (for showing it to staff): ``LookupError`` for a
    file that is not attached to it, so no other stored file can be read this way."""
    publication = await session.get(Publication, publication_id)
    if publication is None:
        raise LookupError(f"no publication {publication_id}")
    attachment = next(
        (a for a in publication.attachments if int(a.get("file_id", -1)) == file_id), None
    )
    row = await session.get(StoredFile, file_id) if attachment else None
    if attachment is None or row is None:
        raise LookupError(f"publication {publication_id} has no file {file_id}")
    return FileContent(
        row.id, str(attachment["filename"]), row.media_type, row.content, row.telegram_file_id
    )


def attachments_for(
    stored: Sequence[dict[str, Any]], language: str | None
) -> tuple[Attachment, ...]:
    """The files a recipient reading ``language`` gets: every file without a ``language``
    key, and those in ``language`` (bokmål's where the publication has none in it). A
    summary carries its charts, PDF and workbook once per member language
    (``services/summaries.py``); a file staff attach has no language and goes to all."""
    tagged = {a.get("language") for a in stored} - {None}
    chosen = language if language in tagged else SOURCE
    return tuple(
        Attachment.model_validate({k: v for k, v in a.items() if k != "language"})
        for a in stored
        if a.get("language") in (None, chosen)
    )


def messages_of(publication: Publication, language: str = SOURCE) -> list[OutgoingMessage]:
    """What a reader of ``language`` gets: the text in it (else bokmål), then each file,
    the captions Lyttepost gave them in that language too."""
    with speaking(language):
        attachments = tuple(
            a.model_copy(update={"caption": _caption(a.caption)})
            for a in attachments_for(publication.attachments, language)
        )
    return [OutgoingMessage(text=text_in(publication, language), attachments=attachments)]


def _caption(caption: str | None) -> str | None:
    """A system caption (stored in bokmål) in the active language; any other as written."""
    source = texts_for(SOURCE)
    for key in SYSTEM_CAPTIONS:
        if caption == source.text(key):
            return t(key)
    return caption


def member_title(title: str) -> str:
    """A publication's title as members see it listed (``/arshjul``), in the active
    language: the titles Lyttepost gives notices and summaries are translated, a title
    staff wrote is shown as written."""
    source = texts_for(SOURCE)
    if title == source.text("publications.notice.title"):
        return t("publications.notice.title")
    prefix = source.text("publications.summary.title", round="")
    if prefix and title.startswith(prefix):
        return t("publications.summary.title", round=title[len(prefix) :])
    return title


async def preview(
    session: AsyncSession,
    publication_id: int,
    contact_id: int,
    *,
    now: datetime,
    personalise: PersonaliseFactory | None = None,
    language: str | None = None,
) -> int:
    """Send a draft to one contact's own chat, exactly as members will get it: in the
    contact's language, or in ``language`` when staff want to see that one.

    Returns how many messages were queued (0: that contact has no reachable chat).
    """
    publication = await load(session, publication_id)
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise PublicationError(f"fant ikke kontakt {contact_id}")
    chat = await latest_chat(session, contact_id)
    if chat is None:
        return 0
    recipient = Recipient(contact.id, contact.name, contact.organisation_id, "", "",
                          chat.channel, chat.address)  # fmt: skip
    extra = personalise(session) if personalise else None
    language = _known(language) or await contact_language(session, contact.id)
    with speaking(language):
        messages = [
            *messages_of(publication, language),
            *(await _extra(publication, recipient, extra)),
        ]
    return await outbox.enqueue(
        session,
        outbox.Recipient(chat.channel, chat.address, contact.id),
        messages,
        kind="preview",
        priority=outbox.PRIORITY_DIALOG,
        dedupe_key=f"preview:{publication.id}:{publication.version}:{contact.id}:{now.timestamp():.0f}",
        now=now,
    )


async def preview_in_chat(
    session: AsyncSession,
    publication_id: int,
    chat: Chat,
    *,
    now: datetime,
    personalise: PersonaliseFactory | None = None,
    language: str | None = None,
) -> int:
    """Send a draft to a KS staff member's chat, as members will get it; the personal part
    only when the chat is also a member's (a staff-only chat answers no survey). In
    ``language``, else the member's language when the chat is also a member's, else bokmål.

    Returns how many messages were queued."""
    publication = await load(session, publication_id)
    language = _known(language) or await contact_language(session, chat.contact_id)
    contact = await session.get(Contact, chat.contact_id) if chat.contact_id else None
    with speaking(language):
        messages = messages_of(publication, language)
        if contact is not None and personalise is not None:
            recipient = Recipient(contact.id, contact.name, contact.organisation_id, "", "",
                                  chat.channel, chat.address)  # fmt: skip
            messages += await _extra(publication, recipient, personalise(session))
    return await outbox.enqueue(
        session,
        outbox.Recipient(chat.channel, chat.address, chat.contact_id),
        messages,
        kind="preview",
        priority=outbox.PRIORITY_DIALOG,
        dedupe_key=f"preview:{publication.id}:{publication.version}:chat{chat.id}:{now.timestamp():.0f}",
        now=now,
    )


async def _extra(
    publication: Publication, recipient: Recipient, personalise: Personalise | None
) -> Sequence[OutgoingMessage]:
    return await personalise(publication, recipient) if personalise else ()


def _known(language: str | None) -> str | None:
    """``language`` if it is one of the catalogues' (``PublicationError`` otherwise)."""
    if language is None:
        return None
    if language not in LANGUAGES:
        raise PublicationError(f"ukjent språk {language!r}: {', '.join(LANGUAGES)} går an")
    return language


@dataclass(frozen=True)
class Audience:
    """Who a publication would reach: for the confirmation step before sending."""

    segment: Segment
    recipients: list[Recipient]

    @property
    def reachable(self) -> list[Recipient]:
        return [r for r in self.recipients if r.reachable]

    @property
    def unreachable(self) -> list[Recipient]:
        return [r for r in self.recipients if not r.reachable]

    @property
    def organisations(self) -> int:
        return len({r.organisation_id for r in self.reachable})


async def audience(session: AsyncSession, segment: Segment) -> Audience:
    """The recipients a segment resolves to now."""
    return Audience(segment, await resolve_segment(session, segment))


@dataclass(frozen=True)
class Reach:
    """A segment's audience counted for staff: contacts and organisations reached, and who
    cannot be reached (contacts with no chat; organisations with no contact that has one)."""

    audience: Audience
    unreachable_organisations: list[tuple[str, str]]  # (code, name)

    @property
    def contacts(self) -> int:
        return len(self.audience.reachable)

    @property
    def organisations(self) -> int:
        return self.audience.organisations

    @property
    def unreachable_contacts(self) -> int:
        return len(self.audience.unreachable)

    def to_json(self) -> dict[str, Any]:
        return {
            "segment": self.audience.segment.to_json(),
            "description": self.audience.segment.describe(),
            "contacts": self.contacts,
            "organisations": self.organisations,
            "unreachable_contacts": self.unreachable_contacts,
            "unreachable_organisations": len(self.unreachable_organisations),
        }


async def reach(session: AsyncSession, segment: Segment) -> Reach:
    """Whom a segment reaches now, counted. An organisation the segment covers is
    unreachable when none of its contacts has a chat (or it has no contact at all); a
    role segment covers only organisations that have a contact with that role."""
    reached = await audience(session, segment)
    if segment.kind == "role":
        covered = {r.organisation_id for r in reached.recipients}
    else:
        covered = set(await segment_organisations(session, segment))
    missing = covered - {r.organisation_id for r in reached.reachable}
    rows = (
        await session.execute(
            select(Organisation.code, Organisation.name)
            .where(Organisation.id.in_(missing))
            .order_by(Organisation.code)
        )
    ).all() if missing else []  # fmt: skip
    return Reach(reached, [(code, name) for code, name in rows])


async def audience_for_sending(
    session: AsyncSession, publication_id: int, segment: Segment | None
) -> Audience:
    """Whom sending a draft would reach: ``segment``, or else the draft's own.

    For the confirmation before ``publish``: ``AlreadyPublished`` once it has been sent,
    ``NoAudience`` when neither names a segment."""
    draft = await load(session, publication_id)
    if draft.status != "draft":
        raise AlreadyPublished(f"utkast {publication_id} er allerede sendt")
    chosen = segment or (Segment.from_json(draft.segment) if draft.segment else None)
    if chosen is None:
        raise NoAudience(f"utkast {publication_id} sier ikke hvem det skal til")
    return await audience(session, chosen)


@dataclass(frozen=True)
class LanguageCheck:
    """Which language each reachable recipient reads, counted, and who gets bokmål because
    their language has no translation: what staff see before they confirm."""

    readers: dict[str, int]  # language -> reachable recipients who read it
    translated: tuple[str, ...]  # the publication's languages besides bokmål

    @property
    def fallback(self) -> dict[str, int]:
        """Language -> recipients who read it but get bokmål (no translation)."""
        return {
            language: count
            for language, count in self.readers.items()
            if count and language != SOURCE and language not in self.translated
        }

    def warning(self) -> str:
        """The staff warning in bokmål (empty when everyone gets their language):
        '12 mottakere leser nynorsk, men teksten finnes bare på bokmål: de får bokmål.'"""
        missing = self.fallback
        if not missing:
            return ""
        parts = [
            f"{count} {'mottaker' if count == 1 else 'mottakere'} leser "
            f"{LANGUAGE_NAMES.get(language, language)}"
            if index == 0
            else f"{count} leser {LANGUAGE_NAMES.get(language, language)}"
            for index, (language, count) in enumerate(missing.items())
        ]
        readers = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " og " + parts[-1]
        total = sum(missing.values())
        they = "mottakeren får" if total == 1 else "de får"
        if not self.translated:
            return f"{readers}, men teksten finnes bare på bokmål: {they} bokmål."
        names = [LANGUAGE_NAMES.get(language, language) for language in missing]
        lacking = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " eller " + names[-1]
        return f"{readers}, men teksten finnes ikke på {lacking}: {they} bokmål."

    def to_json(self) -> dict[str, Any]:
        return {
            "readers": self.readers,
            "translated": list(self.translated),
            "fallback": self.fallback,
            "warning": self.warning(),
        }


async def language_check(
    session: AsyncSession, publication: Publication, recipients: Sequence[Recipient]
) -> LanguageCheck:
    """Count ``recipients`` (the reachable ones) by the language each reads (one query)."""
    languages = await contact_languages(session, [r.contact_id for r in recipients if r.reachable])
    readers: dict[str, int] = {language: 0 for language in LANGUAGES}
    for recipient in recipients:
        if recipient.reachable:
            readers[languages.get(str(recipient.contact_id), SOURCE)] += 1
    translated = tuple(language for language in TRANSLATABLE if has_language(publication, language))
    return LanguageCheck({k: v for k, v in readers.items() if v}, translated)


async def publish(
    session: AsyncSession,
    publication_id: int,
    segment: Segment,
    *,
    actor: str,
    now: datetime,
    personalise: PersonaliseFactory | None = None,
    confirmed_fallback: Mapping[str, int] | None = None,
) -> Audience:
    """Send a draft to a segment: one delivery per reachable recipient, queued at once,
    each in the recipient's language (bokmål where the draft has no translation).

    ``confirmed_fallback`` is the ``LanguageCheck.fallback`` staff confirmed: when who
    would get bokmål has changed since, ``FallbackChanged`` and nothing is queued."""
    publication = await load(session, publication_id)
    if publication.status != "draft":
        raise PublicationError(f"utkast {publication_id} er allerede sendt")
    reached = await audience(session, segment)
    languages = await contact_languages(session, [r.contact_id for r in reached.reachable])
    if confirmed_fallback is not None:
        check = await language_check(session, publication, reached.reachable)
        if check.fallback != dict(confirmed_fallback):
            raise FallbackChanged(
                "hvem som får bokmål i stedet for sitt eget språk, er endret siden du "
                f"bekreftet: {check.warning() or 'nå får alle sitt eget språk.'}"
            )
    common: dict[str, list[OutgoingMessage]] = {}
    extra = personalise(session) if personalise else None
    deliveries: list[tuple[outbox.Recipient, list[OutgoingMessage], str | None]] = []
    for recipient in reached.reachable:
        assert recipient.channel is not None and recipient.address is not None
        language = languages.get(str(recipient.contact_id), SOURCE)
        with speaking(language):
            if language not in common:
                common[language] = messages_of(publication, language)
            messages = [*common[language], *(await _extra(publication, recipient, extra))]
        deliveries.append(
            (
                outbox.Recipient(recipient.channel, recipient.address, recipient.contact_id),
                messages,
                f"pub:{publication.id}:{recipient.contact_id}",
            )
        )
    # All rows in one statement, after the rendering: SQLite's write lock (which the running
    # bot's replies wait for) is held for the insert only.
    await outbox.enqueue_many(
        session,
        deliveries,
        kind=publication.kind,
        priority=outbox.PRIORITY_BULK,
        publication_id=publication.id,
        now=now,
    )
    publication.status = "published"
    publication.segment = segment.to_json()
    publication.published_at = now
    publication.published_by = actor
    publication.recipients = len(reached.reachable)
    publication.unreached = [
        {
            "contact_id": r.contact_id,
            "name": r.contact_name,
            "org": r.org_code,
            "org_name": r.org_name,
        }
        for r in reached.unreachable
    ]
    publication.updated_at = now
    return reached


@dataclass
class DeliveryReport:
    """How a publication's deliveries went, per recipient (all of a recipient's parts)."""

    publication_id: int
    status: str
    recipients: int = 0
    delivered: int = 0
    pending: int = 0
    unreachable: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    uncertain: list[dict[str, Any]] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """Nothing is left to try."""
        return self.pending == 0

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {
            "publication": self.publication_id, "status": self.status,
            "recipients": self.recipients, "delivered": self.delivered, "pending": self.pending,
            "unreachable": self.unreachable, "failed": self.failed, "uncertain": self.uncertain,
        }  # fmt: skip


async def delivery_report(session: AsyncSession, publication_id: int) -> DeliveryReport:
    """Delivered, still pending, unreachable (and who), failed (and why), per recipient."""
    publication = await load(session, publication_id)
    rows = await session.execute(
        select(OutboxMessage.contact_id, OutboxMessage.status, OutboxMessage.last_error)
        .where(OutboxMessage.publication_id == publication_id)
        .order_by(OutboxMessage.id)
    )
    by_contact: dict[int | None, list[tuple[str, str | None]]] = {}
    for contact_id, status, error in rows:
        by_contact.setdefault(contact_id, []).append((status, error))
    names = await _who(session, [c for c in by_contact if c is not None])
    report = DeliveryReport(
        publication_id,
        publication.status,
        recipients=len(by_contact) + len(publication.unreached or []),
        unreachable=[{**who, "reason": "no chat"} for who in publication.unreached or []],
    )
    _tally(report, by_contact, names)
    return report


Parts = dict[int | None, list[tuple[str, str | None]]]  # contact -> (status, error) per part


def _tally(report: DeliveryReport, by_contact: Parts, names: dict[int, dict[str, Any]]) -> None:
    """Count each recipient once, by how all of their parts went."""
    for contact_id, parts in by_contact.items():
        statuses = {status for status, _ in parts}
        who = names.get(contact_id or 0, {"contact_id": contact_id})
        errors = [error for status, error in parts if status == "failed" and error]
        outcome = recipient_outcome(parts)
        if outcome == "delivered":
            report.delivered += 1
        elif outcome == "unreachable":
            report.unreachable.append(who)
        elif outcome == "failed":
            report.failed.append({**who, "reason": errors[0] if errors else "failed"})
        elif outcome == "pending":
            report.pending += 1
        else:
            report.uncertain.append({**who, "status": ",".join(sorted(statuses))})


@dataclass(frozen=True)
class Listed:
    """A publication in the workspace's list: the draft or what was sent, and (once sent)
    how its delivery stands."""

    id: int
    kind: str
    title: str
    status: str
    round_id: int | None
    segment: Segment | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    delivery: DeliveryReport | None


async def listing(session: AsyncSession) -> list[Listed]:
    """Every publication, newest first, with delivery counts for those sent (one query for
    all their deliveries, counted per recipient as ``delivery_report`` does)."""
    rows = list(await session.scalars(select(Publication).order_by(Publication.id.desc())))
    sent = [p.id for p in rows if p.status != "draft"]
    parts: dict[int | None, Parts] = {}
    if sent:
        for publication_id, contact_id, status, error in await session.execute(
            select(
                OutboxMessage.publication_id, OutboxMessage.contact_id,
                OutboxMessage.status, OutboxMessage.last_error,
            ).where(OutboxMessage.publication_id.in_(sent)).order_by(OutboxMessage.id)
        ):  # fmt: skip
            parts.setdefault(publication_id, {}).setdefault(contact_id, []).append((status, error))
    listed = []
    for p in rows:
        report = None
        if p.status != "draft":
            by_contact = parts.get(p.id, {})
            report = DeliveryReport(
                p.id, p.status, recipients=len(by_contact) + len(p.unreached or []),
                unreachable=[{**who, "reason": "no chat"} for who in p.unreached or []],
            )  # fmt: skip
            _tally(report, by_contact, {})
        listed.append(
            Listed(p.id, p.kind, p.title, p.status, p.round_id,
                   Segment.from_json(p.segment) if p.segment else None,
                   p.created_at, p.updated_at, p.published_at, report)
        )  # fmt: skip
    return listed


Outcome = Literal["delivered", "unreachable", "failed", "pending", "uncertain"]


def recipient_outcome(parts: Sequence[tuple[str, str | None]]) -> Outcome:
    """How a publication went for one recipient, from the (status, last error) of each of
    its outbox rows: every part sent is delivered; a refusal as unreachable or any other
    failure decides next; anything still queued is pending; the rest is uncertain."""
    statuses = {status for status, _ in parts}
    errors = [error for status, error in parts if status == "failed" and error]
    if statuses <= {"sent"}:
        return "delivered"
    if any(error.startswith("unreachable") for error in errors):
        return "unreachable"
    if "failed" in statuses:
        return "failed"
    if statuses & {"pending", "sending", "held"}:
        return "pending"
    return "uncertain"


async def _who(session: AsyncSession, contact_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not contact_ids:
        return {}
    rows = await session.execute(
        select(Contact.id, Contact.name, Organisation.code, Organisation.name)
        .join(Organisation, Contact.organisation_id == Organisation.id)
        .where(Contact.id.in_(contact_ids))
    )
    return {
        contact_id: {"contact_id": contact_id, "name": name, "org": code, "org_name": org_name}
        for contact_id, name, code, org_name in rows
    }
