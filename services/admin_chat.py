"""Staff's chat commands, carried out: the same steps as the CLI's ``rounds`` and
``publications`` commands.

The caller has checked the staff member's role against the database; this runs the
request in the caller's transaction, records every write in the audit log in that same
transaction (``Actor("staff:<id>", "chat")``) and returns the replies.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import admin
from dialogs.dates import format_datetime
from dialogs.messages import OutgoingMessage
from dialogs.texts import antall, nb_number
from services import audit, lifecycle, publications
from services.personal import personalise_for
from services.response_rate import progress_lines, round_progress
from services.segments import Segment, SegmentError
from services.surveys import SurveyCatalog
from services.views_rounds import round_rows
from storage.orm import Chat, Publication, Round, RoundInvitee, Staff

PUBLICATION_ACTIONS = {"report", "preview", "edit", "publish", "notice", "broadcast"}
STATUS_NB = {"planned": "planlagt", "open": "åpen", "closed": "stengt", "cancelled": "avlyst"}
LIST_LIMIT = 30  # organisations listed in chat; the CLI lists all


def actor_for(staff: Staff) -> str:
    """How a staff member in chat is named in a round's history and on publications."""
    return f"staff:{staff.id}"


def _audit(
    session: AsyncSession, staff: Staff, action: str, target: str, now: datetime, **detail: object
) -> None:
    audit.record(session, audit.Actor.for_staff(staff, "chat"), action, target, now, **detail)


async def rounds_overview(session: AsyncSession, zone: ZoneInfo) -> OutgoingMessage:
    """Every round that is not cancelled, newest first, with submitted / audience."""
    shown = sorted(
        (r for r in await round_rows(session) if r.status != "cancelled"),
        key=lambda r: r.opens_at,
        reverse=True,
    )[:20]
    lines = ["Runder (nyeste først):"]
    for row in shown:
        status = STATUS_NB.get(row.status, row.status)
        if row.paused:
            status += ", på pause"
        lines.append(
            f"{row.id}. «{row.title}» – {status}\n"
            f"   åpner {format_datetime(row.opens_at, zone)}, frist "
            f"{format_datetime(row.closes_at, zone)}; svar {row.submitted}/{row.organisations}"
        )
    if len(lines) == 1:
        lines.append("Ingen runder ennå. Planlegg året med lyttepost plan apply.")
    return OutgoingMessage(text="\n".join(lines))


async def carry_out(
    session: AsyncSession,
    staff: Staff,
    chat: Chat,
    request: admin.AdminRequest,
    now: datetime,
    zone: ZoneInfo,
) -> list[OutgoingMessage]:
    """Run one staff request from ``chat``; errors come back as a reply, never as an
    exception. ``login`` is the conversation's (it needs the workspace's address)."""
    if request.action == "help":
        return [admin.help_text(staff.role, member=chat.contact_id is not None)]
    if request.action == "list":
        return [await rounds_overview(session, zone)]
    try:
        if request.action in PUBLICATION_ACTIONS:
            return await _on_publication(session, staff, chat, request, now, zone)
        assert request.round_id is not None
        return await _on_round(session, staff, request, request.round_id, now, zone)
    except LookupError:
        return [admin.done(f"Fant ingen runde {request.round_id}. Skriv /runder for å se rundene.")]
    except (lifecycle.LifecycleError, publications.PublicationError, SegmentError) as error:
        return [admin.done(f"Det gikk ikke: {error}.")]


async def _on_round(
    session: AsyncSession,
    staff: Staff,
    request: admin.AdminRequest,
    round_id: int,
    now: datetime,
    zone: ZoneInfo,
) -> list[OutgoingMessage]:
    actor = actor_for(staff)
    target = f"round:{round_id}"
    if request.action == "status":
        progress = await round_progress(session, round_id)
        return [admin.done("\n".join(progress_lines(progress, list_limit=LIST_LIMIT)))]
    if request.action == "close":
        ahead = await lifecycle.close_preview(session, round_id)
        return [
            admin.confirm_close(
                round_id, ahead.title, format_datetime(ahead.closes_at, zone),
                ahead.submitted, ahead.unfinished,
            )
        ]  # fmt: skip
    round_ = await lifecycle.load_round(session, round_id)
    if request.action == "cancel":
        lifecycle.require_active(round_, "avlyses")
        invited = await session.scalar(
            select(func.count()).where(RoundInvitee.round_id == round_id)
        )
        return [admin.confirm_cancel(round_id, round_.title, invited or 0)]
    if request.action == "pause":
        result = await lifecycle.pause_round(session, round_, now, actor=actor)
        _audit(session, staff, "round.pause", target, now, withdrawn=result.withdrawn)
        held = antall(result.withdrawn, "melding", "meldinger")
        return [
            admin.done(
                f"Runde {round_id} er satt på pause; {held} holdes tilbake. "
                f"Skriv /fortsettrunde {round_id} for å gjenoppta."
            )
        ]
    if request.action == "resume":
        result = await lifecycle.resume_round(session, round_, now, actor=actor)
        _audit(session, staff, "round.resume", target, now, released=result.released)
        released = antall(result.released, "melding", "meldinger")
        return [admin.done(f"Runde {round_id} går videre; {released} sendes nå.")]
    assert request.moment is not None
    if request.action == "reschedule":
        await lifecycle.change_dates(
            session, round_, now, zone, actor=actor, opens_at=request.moment
        )
        _audit(
            session, staff, "round.reschedule", target, now, opens_at=round_.opens_at.isoformat()
        )
        return [admin.done(f"Runde {round_id} åpner nå {format_datetime(round_.opens_at, zone)}.")]
    result = await lifecycle.change_dates(
        session, round_, now, zone, actor=actor, closes_at=request.moment
    )
    _audit(
        session, staff, "round.deadline", target, now,
        closes_at=round_.closes_at.isoformat(), notified=result.notified,
    )  # fmt: skip
    told = f" {result.notified} som ikke har svart, får beskjed." if result.notified else ""
    return [
        admin.done(
            f"Ny frist for runde {round_id}: {format_datetime(round_.closes_at, zone)}.{told}"
        )
    ]


async def confirm_cancel(
    session: AsyncSession, staff: Staff, round_id: int, now: datetime
) -> list[OutgoingMessage]:
    """The staff member pressed "Ja, avlys runden"."""
    try:
        round_ = await lifecycle.load_round(session, round_id)
        result = await lifecycle.cancel_round(session, round_, now, actor=actor_for(staff))
    except LookupError:
        return [admin.done(f"Fant ingen runde {round_id}.")]
    except lifecycle.LifecycleError as error:
        return [admin.done(f"Det gikk ikke: {error}.")]
    _audit(
        session, staff, "round.cancel", f"round:{round_id}", now,
        withdrawn=result.withdrawn, notified=result.notified,
    )  # fmt: skip
    return [
        admin.done(
            f"Runde {round_id} «{round_.title}» er avlyst. "
            f"{antall(result.withdrawn, 'melding', 'meldinger')} ble trukket tilbake, og "
            f"{nb_number(result.notified)} får beskjed om avlysningen."
        )
    ]


async def confirm_close(
    session: AsyncSession,
    staff: Staff,
    round_id: int,
    now: datetime,
    zone: ZoneInfo,
    catalog: SurveyCatalog,
) -> list[OutgoingMessage]:
    """The staff member pressed "Ja, steng runden": what the deadline does, now."""
    try:
        round_ = await lifecycle.load_round(session, round_id)
        result = await lifecycle.close_now(
            session, round_, now, zone, catalog, actor=actor_for(staff)
        )
    except LookupError:
        return [admin.done(f"Fant ingen runde {round_id}.")]
    except lifecycle.LifecycleError as error:
        return [admin.done(f"Det gikk ikke: {error}.")]
    _audit(
        session, staff, "round.close", f"round:{round_id}", now,
        incomplete=result.incomplete, notified=result.notified,
    )  # fmt: skip
    if result.incomplete == 0:
        kept = "Ingen påbegynte svar sto igjen."
    elif result.notified:
        kept = (
            f"{antall(result.incomplete, 'påbegynt svar', 'påbegynte svar')} er tatt vare på "
            "som ufullstendige, og de som begynte på dem, får beskjed nå."
        )
    else:
        kept = (
            f"{antall(result.incomplete, 'påbegynt svar', 'påbegynte svar')} er tatt vare på "
            "som ufullstendige; de som begynte på dem, får beskjed når det ikke lenger er "
            "stille tid."
        )
    return [
        admin.done(
            f"Runde {round_id} «{round_.title}» er stengt. {kept} "
            f"Lag oppsummeringen med /rapport {round_id}."
        )
    ]


async def _on_publication(
    session: AsyncSession,
    staff: Staff,
    chat: Chat,
    request: admin.AdminRequest,
    now: datetime,
    zone: ZoneInfo,
) -> list[OutgoingMessage]:
    """Summaries, notices and broadcasts from chat: draft, preview here, then publish."""
    actor = actor_for(staff)
    personalise = personalise_for(zone)
    if request.action == "report":
        from services.summaries import draft_summary

        assert request.round_id is not None
        draft = await draft_summary(session, request.round_id, zone, actor=actor, now=now)
        _audit(session, staff, "publication.draft", f"publication:{draft.id}", now,
               kind="summary", round=request.round_id)  # fmt: skip
    elif request.action == "notice":
        assert request.round_id is not None and request.text is not None
        if await session.get(Round, request.round_id) is None:
            raise LookupError(request.round_id)
        draft = await publications.create(
            session, kind="notice", title="Dette gjør KS med innspillene deres",
            text=request.text, actor=actor, now=now, round_id=request.round_id,
        )  # fmt: skip
        _audit(session, staff, "publication.draft", f"publication:{draft.id}", now,
               kind="notice", round=request.round_id)  # fmt: skip
    elif request.action == "broadcast":
        assert request.text is not None and request.segment is not None
        segment = Segment.parse(request.segment)
        draft = await publications.create(
            session, kind="broadcast", title="Melding fra KS", text=request.text,
            actor=actor, now=now, segment=segment,
        )  # fmt: skip
        _audit(session, staff, "publication.draft", f"publication:{draft.id}", now,
               kind="broadcast", segment=segment.describe())  # fmt: skip
    elif request.action == "edit":
        assert request.publication_id is not None and request.text is not None
        draft = await publications.edit_text(
            session, request.publication_id, request.text, actor=actor, now=now
        )
        _audit(session, staff, "publication.edit", f"publication:{draft.id}", now,
               characters=len(request.text))  # fmt: skip
    elif request.action == "preview":
        assert request.publication_id is not None
        draft = await publications.load(session, request.publication_id)
    else:
        assert request.publication_id is not None and request.segment is not None
        return [await _confirm_publish(session, request.publication_id, request.segment)]
    queued = await publications.preview_in_chat(
        session, draft.id, chat, now=now, personalise=personalise
    )
    _audit(session, staff, "publication.preview", f"publication:{draft.id}", now,
           chat=chat.id, messages=queued)  # fmt: skip
    return [
        admin.done(
            f"Utkast {draft.id} («{draft.title}») kommer her, slik medlemmene får det. "
            f"Rett teksten med /rediger {draft.id} ny tekst, og send med /publiser {draft.id}"
            + (" [inviterte|svarte|alle]." if draft.round_id else ".")
        )
    ]


async def _confirm_publish(
    session: AsyncSession, publication_id: int, segment_kind: str
) -> OutgoingMessage:
    draft = await publications.load(session, publication_id)
    if draft.status != "draft":
        raise publications.PublicationError(f"utkast {publication_id} er allerede sendt")
    segment = _segment_for(draft, segment_kind)
    reached = await publications.audience(session, segment)
    question = admin.confirm_publish(
        publication_id, draft.title, segment.describe(), len(reached.reachable),
        reached.organisations, len(reached.unreachable), segment_kind,
    )  # fmt: skip
    # Who would get bokmål for want of a translation, said before the staff member presses.
    warning = (await publications.language_check(session, draft, reached.reachable)).warning()
    return (
        question.model_copy(update={"text": f"{question.text}\n\n{warning}"})
        if warning
        else question
    )


def _segment_for(draft: Publication, segment_kind: str) -> Segment:
    """Who ``/publiser`` sends to: ``default`` is the draft's own segment, or everyone invited
    to its round; otherwise all members, or its round's invitees or respondents."""
    if segment_kind == "default" and draft.segment:
        return Segment.from_json(draft.segment)
    if segment_kind == "default" and draft.round_id is not None:
        return Segment("invited", str(draft.round_id))
    if segment_kind in ("all", "default") or draft.round_id is None:
        return Segment("all")
    return Segment(segment_kind, str(draft.round_id))


async def confirm_publish(
    session: AsyncSession, staff: Staff, publication_id: int, segment_kind: str,
    now: datetime, zone: ZoneInfo,
) -> list[OutgoingMessage]:  # fmt: skip
    """The staff member pressed "Ja, send"."""
    try:
        draft = await publications.load(session, publication_id)
        segment = _segment_for(draft, segment_kind)
        reached = await publications.publish(
            session, publication_id, segment, actor=actor_for(staff), now=now,
            personalise=personalise_for(zone),
        )  # fmt: skip
    except (publications.PublicationError, SegmentError) as error:
        return [admin.done(f"Det gikk ikke: {error}.")]
    _audit(
        session, staff, "publication.publish", f"publication:{publication_id}", now,
        segment=segment.describe(), recipients=len(reached.reachable),
        unreachable=len(reached.unreachable),
    )  # fmt: skip
    return [
        admin.done(
            f"«{draft.title}» sendes nå til "
            f"{antall(len(reached.reachable), 'kontaktperson', 'kontaktpersoner')}. "
            f"Leveringsrapport: lyttepost publications report {publication_id}."
        )
    ]
