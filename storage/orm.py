"""SQLAlchemy 2 models: the database is the source of truth for everything.

Times are stored in UTC (``UtcDateTime`` makes SQLite's naive values aware again).
Constraint names come from one naming convention so Alembic migrations are the same
on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware and in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON}


class Organisation(Base):
    """A KS member: a municipality, a county authority, or Oslo (both).

    ``code`` is the kommunenummer (4 digits) for municipalities and Oslo, and the
    fylkesnummer (2 digits) for county authorities.
    """

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(4), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(30))
    county_code: Mapped[str] = mapped_column(String(2), index=True)
    county_name: Mapped[str] = mapped_column(String(120))
    # Facts for peer groups (``members import-attributes``); unknown until imported.
    population: Mapped[int | None] = mapped_column(Integer)
    kostra_group: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(60))
    # The organisation's written language for what its members read: nb, nn or se.
    language: Mapped[str] = mapped_column(String(2), default="nb", server_default="nb")


class Contact(Base):
    """A person at a member organisation whom Lyttepost talks to.

    ``active`` false: deactivated (no invitations, reminders or broadcasts; history
    kept). ``erased_at`` set: erased on request; the row is a tombstone with no personal
    data left, kept so its id is never reused and references to it stay valid
    (docs/decisions/0011).
    """

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(60))
    email: Mapped[str | None] = mapped_column(String(254))
    # The channel to reach them on when they have several (set by an admin); None: the
    # one they used last.
    preferred_channel: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    deactivated_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]
    # A delegate: a colleague answering on behalf of this contact (issue 13, ADR 20).
    delegate_for_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    # The language the contact chose with /sprak (nb, nn, se); None: the organisation's.
    language: Mapped[str | None] = mapped_column(String(2))


class Chat(Base):
    """One conversation on one channel (a Telegram private chat, a Teams 1:1 chat...).

    Exists before registration too, so failed code attempts and the "waiting for a
    code" state have somewhere to live. ``active_response_id`` is the survey the
    member is currently answering here.
    """

    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(String(200))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    # A KS staff member's chat (bound with a staff code): admin commands and previews,
    # never a respondent's. A chat may carry both while an old admin contact is migrated.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    awaiting_code: Mapped[bool] = mapped_column(Boolean, default=False)
    active_response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id"))
    conversation_ref: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    unreachable_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What the chat app says the person reads (Telegram language_code, Teams locale):
    # offered as a suggestion at registration, never applied silently (issue 15).
    language_hint: Mapped[str | None] = mapped_column(String(20))


class Invitation(Base):
    """A personal, single-use invitation code. Only its SHA-256 hash is kept."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id"))
    revoked_at: Mapped[datetime | None]
    # 'invite' (the contact's own), 'delegate' (registers a delegate of issued_by) or
    # 'link' (binds another chat, e.g. Teams after Telegram, to the same contact).
    kind: Mapped[str] = mapped_column(String(20), default="invite", server_default="invite")
    issued_by_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))


class CodeAttempt(Base):
    """A failed invitation-code attempt, for slowing down guessing."""

    __tablename__ = "code_attempts"
    __table_args__ = (Index("ix_code_attempts_chat_at", "channel", "address", "attempted_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SurveyVersion(Base):
    """One version of a survey definition, kept verbatim so a round never changes under
    its respondents when the file is edited."""

    __tablename__ = "survey_versions"
    __table_args__ = (
        UniqueConstraint("key", "version"),
        UniqueConstraint("key", "content_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Round(Base):
    """A collection round: one survey version, an audience, a period and a reminder plan.

    ``status`` moves planned -> open -> closed (ready for reporting), or to cancelled;
    ``paused_at`` holds the round's outreach without changing its status. The markers
    (``invitations_queued_at``, ``last_reminder_for``, ``closed_notices_at``) make every
    transition idempotent: a scheduler job that fires twice or late changes nothing it
    should not. ``version`` is an optimistic lock against concurrent changes.
    """

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="planned", index=True)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    invitations_queued_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    plan_key: Mapped[str | None] = mapped_column(String(60), unique=True)
    reminder_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    quiet_rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    paused_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    last_reminder_for: Mapped[datetime | None]
    closed_notices_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    retention_months: Mapped[int] = mapped_column(Integer, default=24, server_default="24")
    personal_data_erased_at: Mapped[datetime | None]
    # A delegate's submission waits for approval by the contact they answer for.
    require_approval: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Whether a submitted response can be opened again and changed while the round is open.
    allow_edit_after_submit: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )

    __mapper_args__ = {"version_id_col": version}


class RoundInvitee(Base):
    """A contact invited to a round: written when the invitation is queued, never twice.

    ``contact_id`` becomes NULL when the contact is erased or the round's retention ends:
    the organisation stays counted as invited, no longer linked to anyone.
    """

    __tablename__ = "round_invitees"
    __table_args__ = (UniqueConstraint("round_id", "contact_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoundEvent(Base):
    """The history of a round: what happened, when, and who or what did it."""

    __tablename__ = "round_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Lease(Base):
    """A named, expiring lease: who runs the scheduler when several processes share a database."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200))
    acquired_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]


class RoundOrganisation(Base):
    """Membership of an organisation in a round's audience, fixed when the round is made."""

    __tablename__ = "round_organisations"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)


class Response(Base):
    """An organisation's response to a round (one per organisation and round).

    ``state`` is the engine's ``ResponseState`` as JSON; ``answers`` mirror its
    answers row by row for exports and reports. ``contact_id`` (who answered) becomes
    NULL when that contact is erased or the round's retention ends.
    """

    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("round_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    status: Mapped[str] = mapped_column(String(20), default="in_progress")
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # status 'awaiting_approval': a delegate sent it in and the round requires approval.
    awaiting_approval_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    approved_by_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    # The engine state of a submitted response opened again for changes; ``state`` and
    # the answers keep the submitted version in force until it is sent in again.
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)

    __mapper_args__ = {"version_id_col": version}


class ResponseVersion(Base):
    """One submission of a response: every time it is sent in (again) its answers are
    kept here, numbered from 1, with who sent it in (NULL once that contact is erased)."""

    __tablename__ = "response_versions"
    __table_args__ = (UniqueConstraint("response_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_at: Mapped[datetime]
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))


class Answer(Base):
    """One answer of a response, mirrored from the engine state."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(120))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboundEvent(Base):
    """An inbound update, recorded before it is acknowledged to the platform.

    The unique (channel, address, update_key) makes a redelivered update a no-op (Teams
    activity ids are unique only within a conversation, so the address is part of it); rows without
    ``processed_at`` are processed again after a crash.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("channel", "address", "update_key"),
        Index("ix_inbound_events_pending", "processed_at", "id"),
        # Ids are never reused after an erasure deletes the newest rows: a processor may
        # still hold a deleted row's id (PostgreSQL's sequences never reuse them anyway).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    update_key: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(500))


class OutboxMessage(Base):
    """A message waiting to be delivered, or delivered. Every send goes through here.

    ``status`` is pending, sending (claimed), sent, failed, held (its round is paused),
    cancelled (its round was cancelled or closed first), interrupted (a crash mid-send;
    see ``outbox.release_stale_claims``) or uncertain (sent twice without an answer; it
    may have arrived, and is not sent again: see ``services.delivery``). ``dedupe_key`` (unique) makes enqueueing
    idempotent, e.g. one invitation per contact and round. ``message_key`` copies the
    payload's key so a later message can replace (edit) the one delivered under
    ``provider_message_id``. ``round_id`` ties invitations and reminders to their round.
    ``purged_at``: the text was removed after RAW_MESSAGE_RETENTION_DAYS (the row's
    delivery metadata stays for reports).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "priority", "id"),
        Index("ix_outbox_chat", "channel", "address", "status"),
        # A sender may be sending a row an erasure deletes; a new row must not get its id.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"), index=True)
    publication_id: Mapped[int | None] = mapped_column(ForeignKey("publications.id"), index=True)
    # Which sender owns the chat when several processes send (see storage.outbox.shard_of).
    shard: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    kind: Mapped[str] = mapped_column(String(30))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    message_key: Mapped[str | None] = mapped_column(String(200))
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(String(500))
    purged_at: Mapped[datetime | None]


class StoredFile(Base):
    """A file sent to members (a chart, a report), kept in the database.

    Every process can send it, and a crash never loses it. ``telegram_file_id`` is the
    id Telegram gave it on the first upload, so later sends reuse it instead of
    uploading the same bytes once per member.
    """

    __tablename__ = "files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    telegram_file_id: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Publication(Base):
    """Something KS sends to many members: a round's summary, a dissemination notice about
    what KS does with the input, or any broadcast.

    A draft until published: staff edit ``text`` and preview it in their own chat.
    ``attachments`` lists stored files ({kind, file_id, filename, caption}); ``segment``
    says who gets it. Its deliveries are the outbox rows with its id.
    """

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # summary | notice | broadcast
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    segment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft | published
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    published_by: Mapped[str | None] = mapped_column(String(100))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    # Contacts the segment named but Lyttepost could not reach when it was sent (no chat).
    unreached: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # ``text`` in other languages ({"nn": ..., "se": ...}); a recipient whose language is
    # missing gets bokmål, and staff are warned before sending (issue 15).
    translations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class PrivacyLogEntry(Base):
    """A privacy action: an access export, an erasure, a deactivation or a retention sweep.

    Says who (``actor``), when and which contact, with counts in ``detail``; never the
    personal data itself.
    """

    __tablename__ = "privacy_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(30))
    contact_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Staff(Base):
    """A KS staff member or admin: the people who run Lyttepost, not members' contacts.

    ``role`` is ``viewer`` (progress and results), ``staff`` (also free text with names,
    tags, publications) or ``admin`` (also rounds, plans, surveys, contacts, staff).
    ``email`` is stored lower-case; it is how Entra sign-in finds the account.
    """

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deactivated_at: Mapped[datetime | None]


class StaffToken(Base):
    """A secret handed to a staff member: a single-use login link, a chat-binding code or
    a personal API token. Only its SHA-256 hash is kept (like invitation codes)."""

    __tablename__ = "staff_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # login_link | chat_code | api
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class StaffSession(Base):
    """A signed-in browser. The cookie holds a random token whose hash is kept here, so a
    session can be ended on the server (logout, idle expiry, a deactivated account)."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(10))  # link | oidc
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One write by a person or a door (workspace, CLI, chat command): who, what, when,
    on what. ``detail`` holds counts and identifiers, never members' answers."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))  # staff:3, cli, scheduler, contact:5
    staff_id: Mapped[int | None] = mapped_column(Integer, index=True)
    door: Mapped[str] = mapped_column(String(10))  # web | api | cli | chat | system
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str | None] = mapped_column(String(120))  # round:5, contact:12 ...
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class NeedTag(Base):
    """A staff member's label on one need: a free-text need answer, named by its response
    and question (``omrader.helse.behov``), so it survives edits of other answers.

    A need has any number of labels, each once; ``added_by`` is the actor (``staff:3``).
    Removed with the need's text when retention or an erasure removes it.
    """

    __tablename__ = "need_tags"
    __table_args__ = (UniqueConstraint("response_id", "question_id", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id"), index=True)
    question_id: Mapped[str] = mapped_column(String(120))
    label: Mapped[str] = mapped_column(String(60), index=True)
    added_by: Mapped[str] = mapped_column(String(120))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuotableNeed(Base):
    """A need staff marked as quotable (good to cite in a publication): the row is the mark."""

    __tablename__ = "quotable_needs"

    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id"), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    marked_by: Mapped[str] = mapped_column(String(120))
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)


class KsAction(Base):
    """Something KS does about what members said ("dere sa, vi gjorde", ADR 23).

    ``status`` is ``planned``, ``in_progress``, ``done`` or ``dropped``. What it answers
    is in ``action_areas`` (areas of a round) and ``action_needs`` (single needs);
    members whose needs are linked are told when it is created or changes status.
    """

    __tablename__ = "ks_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="planned", index=True)
    responsible_unit: Mapped[str] = mapped_column(String(200), default="")
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    created_by: Mapped[str] = mapped_column(String(120))  # actor, as in the audit log
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActionArea(Base):
    """An area (an option value of the round survey's area question) an action answers."""

    __tablename__ = "action_areas"

    action_id: Mapped[int] = mapped_column(ForeignKey("ks_actions.id"), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    area: Mapped[str] = mapped_column(String(60), primary_key=True)


class ActionNeed(Base):
    """A single need (a free-text need answer, named like ``NeedTag``) an action answers."""

    __tablename__ = "action_needs"

    action_id: Mapped[int] = mapped_column(ForeignKey("ks_actions.id"), primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id"), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    linked_by: Mapped[str] = mapped_column(String(120))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActionCriterion(Base):
    """Staff's assessment of an action against one of KS's ten known priority criteria.

    ``criterion`` is 1-10 (the strategy's list); ``rating`` is ``met``, ``partly`` or
    ``not``; ``reasoning`` is the line members see with it.
    """

    __tablename__ = "action_criteria"

    action_id: Mapped[int] = mapped_column(ForeignKey("ks_actions.id"), primary_key=True)
    criterion: Mapped[int] = mapped_column(Integer, primary_key=True)
    rating: Mapped[str] = mapped_column(String(10))
    reasoning: Mapped[str] = mapped_column(Text, default="")
    assessed_by: Mapped[str] = mapped_column(String(120))
    assessed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActionDissemination(Base):
    """One step of an action's plan for spreading what it learns: who, how, when.

    When ``due_on`` comes, the responsible staff member is reminded (``reminded_at``);
    the notice it leads to goes to the organisations linked to the action
    (``notice_sent_at``).
    """

    __tablename__ = "action_disseminations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("ks_actions.id"), index=True)
    responsible_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    channel: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date]
    reminded_at: Mapped[datetime | None]
    notice_sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActionNotice(Base):
    """That an organisation was told about one change of an action: at most once each.

    ``change`` names the change (``created``, ``status:done``, ``dissemination:4``); the
    primary key is what makes "once per organisation per change" hold across restarts
    and several processes.
    """

    __tablename__ = "action_notices"

    action_id: Mapped[int] = mapped_column(ForeignKey("ks_actions.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    change: Mapped[str] = mapped_column(String(40), primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
