"""The conversation use case: one inbound event in, state saved and replies queued.

Channel-neutral: Telegram, Teams and the console all end up here. It decides what an
event means (a code, a command, a survey answer), runs the pure engine for survey
input, and writes the new state, the answers and the replies in the caller's
transaction.

A chat may belong to a member's contact (``contact_id``: surveys), to a KS staff account
(``staff_id``: staff commands, previews, ``/logginn``), or to both. Staff commands are
checked against the account's role on every use (default deny).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import admin, notices
from dialogs.action_texts import actions_message
from dialogs.commands import (
    ACTIONS_COMMANDS,
    ANSWER_COMMANDS,
    CONTROL_COMMANDS,
    DELEGATE_COMMANDS,
    HELP_COMMANDS,
    LANGUAGE_COMMANDS,
    LINK_COMMANDS,
    PRIVACY_COMMANDS,
    START_COMMANDS,
    STATUS_COMMANDS,
    WHEEL_COMMANDS,
    Command,
    parse_command,
)
from dialogs.dates import format_datetime
from dialogs.engine import StepContext, is_engine_payload, step
from dialogs.events import Begin, Control, Event, Pressed, Reopen, RoundClosed, TextEntered
from dialogs.i18n import language, speaking
from dialogs.messages import OutgoingMessage
from dialogs.privacy import PrivacyTerms, privacy_notice, retention_text
from dialogs.state import ResponseState
from dialogs.wheel import wheel_message
from services import admin_chat, admins, audit, conversation_org, language_choice, staff_access
from services.actions import actions_for_organisation
from services.annual_wheel import wheel_rounds
from services.inbound import Inbound
from services.invites import FloodWatch, Redemption, looks_like_code, redeem_code
from services.languages import contact_language
from services.log_context import add_to_log_context, log_context
from services.organisation import payload as organisation_payload
from services.responses import previous_answers, save_state, working_state
from services.rounds import open_rounds_for, record_invited
from services.staff import has_role
from services.status import status_lines
from services.surveys import SurveyCatalog
from storage import outbox
from storage.orm import (
    Chat,
    Contact,
    Organisation,
    Response,
    Round,
    RoundOrganisation,
    Staff,
    utcnow,
)

log = logging.getLogger(__name__)

# A chat's "last seen" is kept to the minute: a member answering every few seconds does
# not rewrite the chat's row on every answer.
LAST_SEEN_PRECISION = timedelta(minutes=1)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass
class Conversation:
    """Handles inbound events; stateless apart from its survey cache."""

    catalog: SurveyCatalog
    zone: ZoneInfo
    clock: Callable[[], datetime] = utcnow
    on_rounds_changed: Callable[[], None] = lambda: None
    # A chat was bound to a staff account (its command menu changes; services/command_menus).
    on_staff_chat_bound: Callable[[], None] = lambda: None
    # A contact chose a language with /sprak (their chats' menus change, as above).
    on_language_chosen: Callable[[], None] = lambda: None
    privacy: PrivacyTerms = PrivacyTerms()  # what /personvern states (settings)
    flood_watch: FloodWatch = field(default_factory=FloodWatch)
    workspace_url: str = ""  # where /logginn links lead (settings); empty: no workspace
    code_ttl: timedelta = timedelta(days=60)  # delegate and link codes (INVITE_TTL_DAYS)

    def now(self) -> datetime:
        """The current time (injectable, so tests can move it)."""
        return self.clock()

    async def handle(self, session: AsyncSession, event: Inbound, event_id: int) -> None:
        """Handle one recorded inbound event inside the caller's transaction."""
        now = self.now()
        chat, held = await self._chat(session, event, now)
        turn = _Turn(self, session, chat, event_id, now)
        turn.held = held
        with log_context(chat_id=chat.id, contact_id=chat.contact_id):
            with speaking(await contact_language(session, chat.contact_id)):
                await turn.run(event)
            await turn.flush()
            # With LOG_FORMAT=json this line carries the event's, chat's, contact's and
            # round's ids: one member's conversation can be followed at DEBUG.
            log.debug("chat %s: %s handled, %s replies", chat.id, event.kind, len(turn.replies))

    async def apologise(self, session: AsyncSession, event: Inbound, event_id: int) -> None:
        """After a handler failure: tell the member, without touching their state."""
        chat, _ = await self._chat(session, event, self.now())
        with speaking(await contact_language(session, chat.contact_id)):
            sorry = notices.something_went_wrong()
        await outbox.enqueue(
            session,
            outbox.Recipient(chat.channel, chat.address, chat.contact_id),
            [sorry],
            kind="dialog",
            priority=outbox.PRIORITY_DIALOG,
            dedupe_key=f"reply:{event_id}",
        )

    async def _chat(
        self, session: AsyncSession, event: Inbound, now: datetime
    ) -> tuple[Chat, tuple[object, ...]]:
        """The event's chat, created on first contact, with what a turn usually needs
        loaded in the same query: the chat's contact and organisation, and its active
        response and round. The session's identity map then answers the turn's
        ``session.get`` calls without another query (it holds objects weakly: the turn
        keeps them referenced: the second value)."""
        loaded = (
            await session.execute(
                _CHAT_WITH_CONTEXT, {"channel": event.channel, "address": event.address}
            )
        ).first()
        if loaded is None:
            chat = Chat(channel=event.channel, address=event.address, created_at=now)
            session.add(chat)
            held: tuple[object, ...] = ()
        else:
            chat = loaded[0]
            held = tuple(loaded)
        chat.user_id = event.user_id
        chat.language_hint = event.language_hint or chat.language_hint
        if chat.last_seen_at is None or now - _aware(chat.last_seen_at) >= LAST_SEEN_PRECISION:
            chat.last_seen_at = now
        chat.unreachable_at = None  # they wrote to us, so we can write to them
        if event.reference is not None:
            chat.conversation_ref = event.reference
        await session.flush()
        return chat, held

    def closes_text(self, round_: Round) -> str:
        """A round's deadline as members read it."""
        return format_datetime(round_.closes_at, self.zone)


# Built once (statements are immutable; building one costs more than running it).
_CHAT_WITH_CONTEXT = (
    select(Chat, Contact, Organisation, Response, Round)
    .outerjoin(Contact, Contact.id == Chat.contact_id)
    .outerjoin(Organisation, Organisation.id == Contact.organisation_id)
    .outerjoin(Response, Response.id == Chat.active_response_id)
    .outerjoin(Round, Round.id == Response.round_id)
    .where(Chat.channel == bindparam("channel"), Chat.address == bindparam("address"))
)


class _Turn:
    """One event's handling: collects replies and queues them at the end."""

    def __init__(
        self, owner: Conversation, session: AsyncSession, chat: Chat, event_id: int, now: datetime
    ) -> None:
        self.owner = owner
        self.session = session
        self.chat = chat
        self.event_id = event_id
        self.now = now
        self.replies: list[OutgoingMessage] = []
        self.held: tuple[object, ...] = ()  # rows loaded with the chat, kept in the identity map
        self.priority = outbox.PRIORITY_DIALOG
        self.dedupe_key = f"reply:{event_id}"
        self.bound_staff: Staff | None = None  # a staff code bound the chat in this turn

    def reply(self, *messages: OutgoingMessage) -> None:
        self.replies.extend(messages)

    async def flush(self) -> None:
        if not self.replies:
            return
        await outbox.enqueue(
            self.session,
            outbox.Recipient(self.chat.channel, self.chat.address, self.chat.contact_id),
            self.replies,
            kind="dialog",
            priority=self.priority,
            dedupe_key=self.dedupe_key,
        )

    async def run(self, event: Inbound) -> None:
        command = parse_command(event.text) if event.kind == "text" else None
        if command and command.name in START_COMMANDS:
            await self.start(command.argument)
            return
        contact = await self.contact()
        staff = await admins.chat_staff(self.session, self.chat)
        if contact is None:
            if staff is None:
                await self.unregistered(event, command)
            else:
                await self.staff_only(staff, event, command)
            return
        if command is not None:
            await self.command(contact, staff, command)
            return
        if event.kind == "press":
            round_id = notices.parse_start_payload(event.payload)
            if event.payload.startswith(admin.PAYLOAD_PREFIX):
                await self.admin_press(staff, event.payload)
            elif round_id is not None:
                await self.begin(contact, round_id)
            elif event.payload.startswith(notices.ORG_PREFIX):
                await conversation_org.press(self, contact, event.payload)
            elif event.payload.startswith(language_choice.PAYLOAD_PREFIX):
                before = contact.language
                self.reply(
                    *await language_choice.press(
                        self.session, contact, event.payload, self.now, staff=staff is not None
                    )
                )
                self.language_chosen(contact, before)
            elif is_engine_payload(event.payload):
                await self.survey_input(Pressed(event.payload))
            else:
                log.info("chat %s: unknown button payload ignored", self.chat.id)
                self.reply(notices.no_active_survey())
            return
        if event.kind == "other":
            self.reply(notices.not_understood())
            return
        await self.survey_input(TextEntered(event.text))

    def language_chosen(self, contact: Contact, before: str | None) -> None:
        """After /sprak or its buttons: tell the owner when the choice changed (menus)."""
        if contact.language != before:
            self.owner.on_language_chosen()

    async def contact(self) -> Contact | None:
        if self.chat.contact_id is None:
            return None
        return await self.session.get(Contact, self.chat.contact_id)

    async def organisation(self, contact: Contact) -> Organisation:
        organisation = await self.session.get(Organisation, contact.organisation_id)
        assert organisation is not None  # foreign key
        return organisation

    async def start(self, argument: str) -> None:
        if argument:
            await self.redeem(argument)
            return
        contact = await self.contact()
        if contact is None:
            staff = await admins.chat_staff(self.session, self.chat)
            if staff is not None:
                self.reply(admin.staff_welcome(staff.name, staff.role))
                return
            self.chat.awaiting_code = True
            self.reply(notices.ask_for_code())
            return
        organisation = await self.organisation(contact)
        self.reply(
            *notices.welcome(
                contact_name=contact.name,
                org_name=organisation.name,
                channel=self.chat.channel,
                offers=await self.offers(contact, organisation),
            )
        )

    async def unregistered(self, event: Inbound, command: Command | None) -> None:
        if command is None and event.kind == "text" and self.chat.awaiting_code:
            await self.redeem(event.text)
            return
        if command is None and event.kind == "text" and looks_like_code(event.text):
            # The code pasted from the letter, without /start: redeemed all the same; a
            # wrong one counts, but the chat's other texts are not taken for codes.
            await self.redeem(event.text, keep_waiting=False)
            return
        if command is not None and command.name in HELP_COMMANDS:
            self.reply(notices.help_text(registered=False))
            return
        if command is not None and command.name in PRIVACY_COMMANDS:
            self.reply(privacy_notice(self.owner.privacy))
            return
        if command is not None and command.name in LANGUAGE_COMMANDS:
            self.reply(language_choice.unregistered())
            return
        if command is not None and command.name in admin.ADMIN_COMMANDS:
            self.refuse_admin(None, command.name)
            return
        self.reply(notices.not_registered())

    async def staff_only(self, staff: Staff, event: Inbound, command: Command | None) -> None:
        """A chat that belongs to a staff member and to no member's contact."""
        if command is None:
            if event.kind == "press" and event.payload.startswith(admin.PAYLOAD_PREFIX):
                await self.admin_press(staff, event.payload)
            elif event.kind == "text" and self.chat.awaiting_code:
                await self.redeem(event.text)
            else:
                self.reply(admin.staff_only())
        elif command.name in HELP_COMMANDS:
            self.reply(admin.help_text(staff.role, member=False))
        elif command.name in PRIVACY_COMMANDS:
            self.reply(privacy_notice(self.owner.privacy))
        elif command.name in admin.ADMIN_COMMANDS:
            await self.admin_command(staff, command)
        else:
            self.reply(admin.staff_only())

    async def redeem(self, code: str, *, keep_waiting: bool = True) -> None:
        result = await redeem_code(
            self.session, self.chat, code, self.now, watch=self.owner.flood_watch,
            other=self.staff_code,
        )  # fmt: skip
        if result.outcome == "other" and self.bound_staff is not None:
            self.reply(admin.staff_welcome(self.bound_staff.name, self.bound_staff.role))
            return
        if result.outcome in ("ok", "already_yours") and result.contact is not None:
            add_to_log_context(contact_id=result.contact.id)
            # The turn began speaking the unbound chat's language (bokmål); from here on
            # it is the newly bound contact's (their own choice, else their organisation's).
            with speaking(await contact_language(self.session, result.contact.id)):
                await self.welcome_redeemed(result)
            return
        self.chat.awaiting_code = self.chat.awaiting_code or keep_waiting
        if result.flood:
            self.refuse_quietly(result)
        if result.outcome == "locked":
            self.reply(notices.code_locked(_minutes(result.retry_in), flood=result.flood))
        elif result.outcome == "expired":
            self.reply(notices.code_expired())
        elif result.outcome == "used":
            self.reply(notices.code_used())
        else:
            self.reply(
                notices.code_unknown(
                    result.attempts_left,
                    flood=result.flood,
                    wait_minutes=_minutes(result.retry_in) if result.retry_in else None,
                )
            )

    async def welcome_redeemed(self, result: Redemption) -> None:
        """The welcome after a code that bound this chat to a contact (or already had)."""
        assert result.contact is not None
        organisation = await self.organisation(result.contact)
        if result.outcome == "already_yours":
            self.reply(notices.already_registered(result.contact.name, organisation.name))
            return
        if not await conversation_org.redeemed(self, result, organisation):
            self.reply(
                *notices.welcome(
                    contact_name=result.contact.name,
                    org_name=organisation.name,
                    channel=self.chat.channel,
                    offers=await self.offers(result.contact, organisation),
                )
            )
        # The chat app's language, if it differs: one suggestion in it (never a switch).
        self.reply(*await language_choice.suggestion(self.session, self.chat, result.contact))

    async def staff_code(self, code: str) -> Literal["ok", "unknown", "expired", "used"]:
        """A staff member's chat code typed where invitation codes go: binds the chat to
        the account (``redeem_code`` counts a wrong one against the chat's limit)."""
        redeemed = await staff_access.redeem(self.session, code, "chat_code", self.now)
        if redeemed.outcome == "ok" and redeemed.staff is not None:
            await admins.bind_chat(self.session, self.chat, redeemed.staff, self.now)
            self.bound_staff = redeemed.staff
            self.owner.on_staff_chat_bound()
            log.info("chat %s bound to staff %s", self.chat.id, redeemed.staff.id)
            return "ok"
        if redeemed.outcome == "used":
            return "used"
        if redeemed.outcome == "expired":
            return "expired"
        return "unknown"  # no such code, or its account was deactivated

    def refuse_quietly(self, result: Redemption) -> None:
        """During a flood of wrong codes, answers to them wait behind every other message
        (members in a dialog, a welcome, invitations, bulk), and a locked chat hears so
        at most once in five minutes, so the flood cannot crowd out anyone else."""
        self.priority = outbox.PRIORITY_CODE_REFUSAL
        if result.outcome == "locked" and result.unlocks_at is not None:
            bucket = int(self.now.timestamp() // 300)
            unlocks = int(result.unlocks_at.timestamp())
            self.dedupe_key = f"code-locked:{self.chat.id}:{unlocks}:{bucket}"

    async def offers(
        self, contact: Contact, organisation: Organisation
    ) -> list[notices.RoundOffer]:
        """The open rounds the organisation has not submitted; offering them invites ``contact``."""
        rounds = await open_rounds_for(self.session, organisation.id, self.now)
        submitted = set(
            await self.session.scalars(
                select(Response.round_id).where(
                    Response.organisation_id == organisation.id, Response.status == "submitted"
                )
            )
        )
        offered = [r for r in rounds if r.id not in submitted]
        await record_invited(self.session, [r.id for r in offered], contact, self.now)
        return [notices.RoundOffer(r.id, r.title, self.owner.closes_text(r)) for r in offered]

    async def command(self, contact: Contact, staff: Staff | None, command: Command) -> None:
        name = command.name
        if name in ANSWER_COMMANDS:
            await self.begin(contact, None)
        elif name in STATUS_COMMANDS:
            organisation = await self.organisation(contact)
            lines = await status_lines(
                self.session, self.owner.catalog, organisation, self.now, self.owner.zone
            )
            self.reply(notices.status(lines))
        elif name in WHEEL_COMMANDS:
            organisation = await self.organisation(contact)
            rounds = await wheel_rounds(self.session, organisation, self.now)
            self.reply(wheel_message(organisation.name, rounds, self.now, self.owner.zone))
        elif name in ACTIONS_COMMANDS:
            organisation = await self.organisation(contact)
            found = await actions_for_organisation(
                self.session, self.owner.catalog, organisation.id
            )
            self.reply(actions_message(organisation.name, found))
        elif name in HELP_COMMANDS:
            self.reply(notices.help_text(registered=True, staff=staff is not None))
        elif name in PRIVACY_COMMANDS:
            self.reply(privacy_notice(await self.privacy_terms(contact)))
        elif name in CONTROL_COMMANDS:
            await self.survey_input(Control(CONTROL_COMMANDS[name]))
        elif name in DELEGATE_COMMANDS:
            await conversation_org.delegate_command(self, contact, command.argument)
        elif name in LINK_COMMANDS:
            await conversation_org.link_command(self, contact)
        elif name in LANGUAGE_COMMANDS:
            before = contact.language
            self.reply(
                *await language_choice.command(
                    self.session, contact, command.argument, self.now, staff=staff is not None
                )
            )
            self.language_chosen(contact, before)
        elif name in admin.ADMIN_COMMANDS:
            await self.admin_command(staff, command)
        else:
            self.reply(notices.unknown_command(name))

    async def privacy_terms(self, contact: Contact) -> PrivacyTerms:
        """The settings' terms, with the retention of the rounds asking this organisation
        (rounds may keep answers for different periods)."""
        low, high = (
            await self.session.execute(
                select(func.min(Round.retention_months), func.max(Round.retention_months))
                .join(RoundOrganisation, RoundOrganisation.round_id == Round.id)
                .where(
                    RoundOrganisation.organisation_id == contact.organisation_id,
                    Round.personal_data_erased_at.is_(None),
                    Round.status != "cancelled",
                )
            )
        ).one()
        if low is None or high is None:
            return self.owner.privacy
        return replace(self.owner.privacy, retention_months=(int(low), int(high)))

    def refuse_admin(self, staff: Staff | None, what: str) -> None:
        """Default deny: a polite no, and a line in the log for whoever watches it."""
        log.warning(
            "staff command %r refused: chat %s (%s), %s",
            what[:40],
            self.chat.id,
            self.chat.channel,
            f"staff {staff.id} has role {staff.role}" if staff else "no staff account",
        )
        self.reply(admin.refused())

    def allowed(self, staff: Staff | None, action: admin.Action) -> bool:
        """The role check, against the account as read in this turn."""
        return staff is not None and has_role(staff, "viewer") and admin.may(staff.role, action)

    async def admin_command(self, staff: Staff | None, command: Command) -> None:
        if staff is None or not self.allowed(staff, admin.ADMIN_COMMANDS[command.name]):
            self.refuse_admin(staff, command.name)
            return
        request = admin.parse_admin(command.name, command.argument, self.owner.zone)
        if isinstance(request, str):
            self.reply(admin.done(request))
            return
        log.info("staff command /%s by staff %s", command.name, staff.id)
        if request.action == "login":
            await self.login_link(staff)
            return
        self.reply(
            *await admin_chat.carry_out(
                self.session, staff, self.chat, request, self.now, self.owner.zone
            )
        )
        if request.action not in ("list", "status", "help"):
            self.owner.on_rounds_changed()

    async def login_link(self, staff: Staff) -> None:
        """/logginn: a single-use link to the workspace, valid for 15 minutes."""
        if not self.owner.workspace_url:
            self.reply(admin.no_workspace())
            return
        url, expires = await staff_access.issue_login_link(
            self.session, staff, self.now, self.owner.workspace_url
        )
        audit.record(
            self.session, audit.Actor.for_staff(staff, "chat"), "staff.login_link",
            f"staff:{staff.id}", self.now, chat=self.chat.id,
        )  # fmt: skip
        self.reply(admin.login_link(url, format_datetime(expires, self.owner.zone)))

    async def admin_press(self, staff: Staff | None, payload: str) -> None:
        if staff is None or not self.allowed(staff, admin.payload_action(payload) or "help"):
            self.refuse_admin(staff, payload)
            return
        publish = admin.parse_publish_payload(payload)
        if publish is not None:
            log.info("staff %s confirmed publishing %s", staff.id, publish[0])
            self.reply(
                *await admin_chat.confirm_publish(
                    self.session, staff, publish[0], publish[1], self.now, self.owner.zone
                )
            )
            return
        closing = admin.parse_close_payload(payload)
        if closing is not None:
            log.info("staff %s confirmed closing round %s", staff.id, closing)
            self.reply(
                *await admin_chat.confirm_close(
                    self.session, staff, closing, self.now, self.owner.zone, self.owner.catalog
                )
            )
            self.owner.on_rounds_changed()
            return
        round_id = admin.parse_cancel_payload(payload)
        if round_id is None:
            self.reply(admin.kept())
            return
        log.info("staff %s confirmed cancelling round %s", staff.id, round_id)
        self.reply(*await admin_chat.confirm_cancel(self.session, staff, round_id, self.now))
        self.owner.on_rounds_changed()

    async def begin(self, contact: Contact, round_id: int | None) -> None:
        """Start or resume a round: the one asked for, the one in progress, or the only one."""
        organisation = await self.organisation(contact)
        open_rounds = await open_rounds_for(self.session, organisation.id, self.now)
        if round_id is not None:
            chosen = next((r for r in open_rounds if r.id == round_id), None)
            if chosen is None:
                self.reply(notices.round_not_available())
                return
        else:
            active = await self.active_response()
            chosen = next(
                (
                    r
                    for r in open_rounds
                    if active is not None
                    and r.id == active.round_id
                    and (active.status == "in_progress" or active.draft is not None)
                ),
                None,
            )
            if chosen is None:
                offers = await self.offers(contact, organisation)
                editable = [r for r in open_rounds if r.allow_edit_after_submit]
                if not offers and len(editable) == 1:
                    offers = [notices.RoundOffer(editable[0].id, editable[0].title, "")]
                elif not offers and open_rounds:
                    self.reply(await self.already_submitted(contact, organisation, open_rounds))
                    return
                if len(offers) != 1:
                    self.reply(notices.offer_rounds(offers))
                    return
                chosen = next(r for r in open_rounds if r.id == offers[0].round_id)
        add_to_log_context(round_id=chosen.id)
        response = await self.session.scalar(
            select(Response).where(
                Response.round_id == chosen.id, Response.organisation_id == organisation.id
            )
        )
        if response is not None and response.status == "awaiting_approval":
            await conversation_org.awaiting(self, response, contact, chosen)
            return
        event: Event = Begin()
        if response is not None and response.status == "submitted":
            # A colleague's answer: /svar (or an old start button) says who sent it in, with
            # an «Endre» button of its own (services/conversation_org.change) as the
            # deliberate step that moves it to this contact to change it.
            if not chosen.allow_edit_after_submit or not await self.may_change(response, contact):
                self.reply(await self.already_submitted(contact, organisation, [chosen]))
                return
            event = Reopen()  # changes while the round is open; see services.responses
        if response is None:
            await record_invited(self.session, [chosen.id], contact, self.now)
            survey = await self.owner.catalog.get(self.session, chosen.survey_version_id)
            previous = await previous_answers(self.session, organisation.id, chosen, survey.key)
            response = Response(
                round_id=chosen.id,
                organisation_id=organisation.id,
                contact_id=contact.id,
                status="in_progress",
                state=ResponseState(previous=previous).model_dump(mode="json"),
                started_at=self.now,
                updated_at=self.now,
            )
            self.session.add(response)
            await self.session.flush()
        elif response.contact_id != contact.id:
            other = (
                await self.session.get(Contact, response.contact_id)
                if response.contact_id is not None
                else None
            )
            if other is not None and other.active:
                if not await conversation_org.may_carry_on(self, response, contact, other):
                    self.reply(
                        notices.someone_else_answers_take_over(
                            other.name, organisation.name, response.id
                        )
                    )
                    return
            # Its author was deactivated or erased, or delegated to them: they carry on.
            log.info("response %s taken over by contact %s", response.id, contact.id)
            response.contact_id = contact.id
        self.chat.active_response_id = response.id
        await conversation_org.before_engine(self, response, contact, organisation, chosen)
        await self.run_engine(response, chosen, contact, organisation, event)

    async def already_submitted(
        self, contact: Contact, organisation: Organisation, rounds: list[Round]
    ) -> OutgoingMessage:
        """Word that the organisation has answered these open rounds: when, by whom, until when."""
        responses = await self.session.scalars(
            select(Response).where(
                Response.round_id.in_([r.id for r in rounds]),
                Response.organisation_id == organisation.id,
                Response.status == "submitted",
            )
        )
        by_round = {response.round_id: response for response in responses}
        done = []
        for round_ in rounds:
            response = by_round.get(round_.id)
            if response is None:
                continue
            author = await self.session.get(Contact, response.contact_id)
            by_reader = response.contact_id == contact.id
            done.append(
                notices.SubmittedRound(
                    title=round_.title,
                    submitted_at=format_datetime(
                        response.submitted_at or response.updated_at, self.owner.zone
                    ),
                    closes=self.owner.closes_text(round_),
                    submitted_by=author.name if author is not None else None,
                    by_reader=by_reader,
                    round_id=round_.id,
                    editable=round_.allow_edit_after_submit,
                    change_payload=(
                        None if by_reader else organisation_payload("change", response.id)
                    ),
                )
            )
        return notices.already_submitted(organisation.name, done)

    async def may_change(self, response: Response, contact: Contact) -> bool:
        """Whether ``contact`` may reopen a submitted response: its author may, and a
        colleague may when the author is no longer active (as with a started one)."""
        if response.contact_id in (None, contact.id):
            return True
        author = await self.session.get(Contact, response.contact_id)
        return author is None or not author.active

    async def active_response(self) -> Response | None:
        if self.chat.active_response_id is None:
            return None
        return await self.session.get(Response, self.chat.active_response_id)

    async def survey_input(self, event: Event) -> None:
        response = await self.active_response()
        contact = await self.contact()
        if response is None or contact is None or response.contact_id != contact.id:
            self.reply(notices.no_active_survey())
            return
        add_to_log_context(round_id=response.round_id)
        round_ = await self.session.get(Round, response.round_id)
        assert round_ is not None
        if response.status == "awaiting_approval":
            await conversation_org.awaiting(self, response, contact, round_)
            return
        await self.run_engine(response, round_, contact, await self.organisation(contact), event)

    async def run_engine(
        self,
        response: Response,
        round_: Round,
        contact: Contact,
        organisation: Organisation,
        event: Event,
    ) -> None:
        survey = await self.owner.catalog.get(self.session, round_.survey_version_id)
        state = working_state(response)
        closed = round_.status in ("closed", "cancelled") or self.now >= round_.closes_at
        if closed and state.phase not in ("submitted", "closed"):
            event = RoundClosed()
        context = StepContext(
            org_name=organisation.name,
            contact_name=contact.name,
            closes=self.owner.closes_text(round_),
            editable_until=(
                self.owner.closes_text(round_)
                if round_.allow_edit_after_submit and not closed
                else None
            ),
            retention=retention_text(round_.retention_months),
            language=language(),
        )
        result = step(survey.in_language(context.language), state, event, context)
        if result.submitted and await conversation_org.submitted(
            self, response, round_, contact, organisation, result
        ):
            return  # a delegate's answer, held for approval
        self.reply(*result.messages)
        await save_state(self.session, response, result.state, self.now, submitted=result.submitted)


def _minutes(wait: timedelta | None) -> int:
    """Whole minutes to tell a member to wait, rounded up."""
    return max(1, math.ceil((wait or timedelta(minutes=1)).total_seconds() / 60))
