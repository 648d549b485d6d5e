"""Medlemmer: the member organisations, their contacts and how Lyttepost reaches them.

Staff read (contacts are personal data, so not viewers); admins add, import, deactivate
and activate contacts and issue or revoke invitation codes, through the same services
and with the same audit names as ``lyttepost contacts ...`` and ``lyttepost invites
create`` (bot/cli.py, bot/cli_privacy.py). Each organisation's facts are shown here and
changed in bot/web/members_facts.py.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import segno
from aiohttp import web

from bot.web.context import Workspace, workspace_of
from bot.web.render import page
from bot.web.security import actor_of, guarded, see_other, visitor_of
from dialogs.texts import antall
from services import audit, privacy
from services.contacts import (
    ContactError,
    activate_contact,
    add_contact,
    deactivate_contact,
    deactivation_preview,
    import_contacts,
)
from services.invites import deep_link, invite_contacts, revoke_codes, teams_chat_link
from services.organisation_facts import LANGUAGES, Facts, facts_by_code, facts_of
from services.staff import has_role
from services.views_members import (
    ContactRow,
    UnknownOrganisation,
    contact_rows,
    members_overview,
    organisation_by_code,
    organisation_detail,
    organisations,
)

CHANNEL_NAMES = {"telegram": "Telegram", "teams": "Teams", "console": "konsoll"}
INVITATION_STATES = {
    "pending": "venter",
    "used": "brukt",
    "revoked": "trukket tilbake",
    "expired": "utløpt",
}
RESPONSE_NAMES = {
    "in_progress": "har begynt",
    "incomplete": "ikke fullført",
    "submitted": "sendt inn",
    "awaiting_approval": "venter på godkjenning",
}
DONE = {
    "lagt-til": "Kontakten er lagt til. Lag en invitasjonskode, så kan de koble til en chat.",
    "deaktivert": (
        "Kontakten er deaktivert: chattene er koblet fra, ubrukte koder og meldinger i kø "
        "er trukket tilbake."
    ),
    "aktivert": "Kontakten er aktiv igjen. Lag en ny invitasjonskode, så kan de koble til en chat.",
    "trukket": "Invitasjonskoden er trukket tilbake og virker ikke lenger.",
    "ingen-kode": "Kontakten hadde ingen invitasjonskode som kunne brukes.",
    "fakta": "Faktaene er lagret.",
    "fakta-uendret": "Ingenting ble endret: faktaene var allerede slik.",
}
MAX_CSV_BYTES = 512 * 1024
ORG = r"{org_code:\d{1,4}}"
CONTACT = r"{contact_id:\d{1,9}}"


def _may_change(request: web.Request) -> bool:
    return has_role(visitor_of(request).staff, "admin")


def facts_form_of(facts: Facts) -> dict[str, str]:
    """An organisation's facts as the edit form shows them (population plain, no spaces)."""
    return {
        "innbyggere": "" if facts.population is None else str(facts.population),
        "kostra": facts.kostra_group or "",
        "region": facts.region or "",
        "sprak": facts.language,
    }


# --- the overview ---------------------------------------------------------------------------


@guarded("staff")
async def members_page(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    query = request.query
    only_unreachable = query.get("uten") == "1"
    async with workspace.sessions() as session:
        everyone = await organisations(session)
        counties = sorted({(o.county_code, o.county_name) for o in everyone}, key=lambda c: c[1])
        county = query.get("fylke", "")
        if county not in {code for code, _ in counties}:
            county = ""
        overview = await members_overview(
            session, workspace.now(), county=county or None, unreachable_only=only_unreachable
        )
        facts = await facts_by_code(session)
    return page(
        request,
        "members.html",
        {
            "overview": overview,
            "counties": counties,
            "county": county,
            "county_name": dict(counties).get(county, ""),
            "only_unreachable": only_unreachable,
            "channel_names": CHANNEL_NAMES,
            "antall": antall,
            "may_change": _may_change(request),
            "facts": facts,
        },
        title="Medlemmer",
    )


# --- one organisation -----------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedView:
    """A code just issued, with what the admin copies or prints: shown once, never again."""

    contact_name: str
    code: str
    expires_at: datetime
    telegram_link: str | None
    teams_link: str | None
    qr_svg: str | None  # data: URIs of the QR code for the first link there is
    qr_png: str | None
    qr_of: str


def qr_images(link: str) -> tuple[str, str]:
    """The link as a QR code, as SVG (for the page) and PNG (for a letter), both data:
    URIs: the code exists only now, so the image is never stored or served again."""
    qr = segno.make(link, error="m")
    svg, png = io.BytesIO(), io.BytesIO()
    qr.save(svg, kind="svg", scale=6, border=4, xmldecl=False, svgns=True)
    qr.save(png, kind="png", scale=10, border=4)
    return (
        "data:image/svg+xml;base64," + base64.b64encode(svg.getvalue()).decode("ascii"),
        "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii"),
    )


def _issued_view(workspace: Workspace, name: str, code: str, expires_at: datetime) -> IssuedView:
    username = workspace.settings.telegram_bot_username.strip().lstrip("@")
    app_id = workspace.settings.microsoft_app_id.strip()
    telegram = deep_link(username, code) if username else None
    teams = teams_chat_link(app_id, code) if app_id else None
    target = telegram or teams
    svg, png = qr_images(target) if target else (None, None)
    return IssuedView(
        name, code, expires_at, telegram, teams, svg, png, "Telegram" if telegram else "Teams"
    )


def _org_code(request: web.Request) -> str:
    return request.match_info["org_code"]


def _contact_id(request: web.Request) -> int:
    return int(request.match_info["contact_id"])


async def _detail_page(
    request: web.Request,
    *,
    notice: str = "",
    problem: str = "",
    form: dict[str, str] | None = None,
    issued: IssuedView | None = None,
    facts_form: dict[str, str] | None = None,
    facts_problems: dict[str, str] | None = None,
    status: int = 200,
) -> web.StreamResponse:
    workspace = workspace_of(request)
    now = workspace.now()
    async with workspace.sessions() as session:
        try:
            detail = await organisation_detail(session, _org_code(request), now)
        except UnknownOrganisation:
            raise web.HTTPNotFound() from None
        facts = (await facts_of(session, detail.organisation.code)).facts
    names = {c.id: c.name for c in detail.contacts}
    return page(
        request,
        "member.html",
        {
            "detail": detail,
            "organisation": detail.organisation,
            "contact_names": names,
            "channel_names": CHANNEL_NAMES,
            "invitation_states": INVITATION_STATES,
            "response_names": RESPONSE_NAMES,
            "may_change": _may_change(request),
            "notice": notice,
            "problem": problem,
            "form": form or {},
            "issued": issued,
            "antall": antall,
            "facts": facts,
            "facts_form": facts_form or facts_form_of(facts),
            "facts_problems": facts_problems or {},
            "languages": LANGUAGES,
        },
        title=detail.organisation.name,
        status=status,
    )


@guarded("staff")
async def organisation_page(request: web.Request) -> web.StreamResponse:
    return await _detail_page(request, notice=DONE.get(request.query.get("utfort", ""), ""))


async def _contact_of(workspace: Workspace, org_code: str, contact_id: int) -> ContactRow:
    """The organisation's contact with that id (404 for any other)."""
    async with workspace.sessions() as session:
        try:
            rows = await contact_rows(session, workspace.now(), org_code=org_code)
        except UnknownOrganisation:
            raise web.HTTPNotFound() from None
    found = next((c for c in rows if c.id == contact_id), None)
    if found is None:
        raise web.HTTPNotFound()
    return found


def _refuse(request: web.Request, message: str, back: str) -> web.StreamResponse:
    return page(
        request, "refused.html", {"text": message, "back": back}, title="Det gikk ikke",
        status=409,
    )  # fmt: skip


async def _form_text(request: web.Request, name: str) -> str:
    value = (await request.post()).get(name)
    return value.strip() if isinstance(value, str) else ""


@guarded("admin")
async def add_member_contact(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    form = {
        "navn": await _form_text(request, "navn"),
        "rolle": await _form_text(request, "rolle"),
        "epost": await _form_text(request, "epost"),
    }
    try:
        async with workspace.sessions.begin() as session:
            organisation = await organisation_by_code(session, _org_code(request))
            contact = await add_contact(
                session, organisation.code, form["navn"], form["rolle"], form["epost"] or None
            )
            audit.record(
                session, actor_of(request), "contact.add", f"contact:{contact.id}",
                workspace.now(), org=organisation.code,
            )  # fmt: skip
    except UnknownOrganisation:
        raise web.HTTPNotFound() from None
    except ContactError as error:
        return await _detail_page(request, problem=in_norwegian(str(error)), form=form, status=422)
    return see_other(f"/medlemmer/{organisation.code}?utfort=lagt-til#kontakter")


@guarded("admin")
async def confirm_deactivation(request: web.Request) -> web.StreamResponse:
    """What deactivating will do, with the counts, before anything changes."""
    workspace = workspace_of(request)
    contact = await _contact_of(workspace, _org_code(request), _contact_id(request))
    back = f"/medlemmer/{contact.org_code}"
    if not contact.active:
        return see_other(back)
    async with workspace.sessions() as session:
        preview = await deactivation_preview(session, contact.id)
    return page(
        request,
        "member_confirm.html",
        {"contact": contact, "preview": preview, "back": back, "antall": antall},
        title=f"Deaktiver {contact.name}?",
    )


@guarded("admin")
async def deactivate(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    contact = await _contact_of(workspace, _org_code(request), _contact_id(request))
    actor = actor_of(request)
    now = workspace.now()
    async with workspace.sessions.begin() as session:
        result = await deactivate_contact(session, contact.id, now)
        if not result.already:
            await privacy.record(
                session, now, actor.label, "deactivate", contact.id,
                chats_unbound=result.chats_unbound, codes_revoked=result.codes_revoked,
                messages_withdrawn=result.messages_withdrawn,
            )  # fmt: skip
            audit.record(
                session, actor, "contact.deactivate", f"contact:{contact.id}", now,
                org=contact.org_code, chats_unbound=result.chats_unbound,
                codes_revoked=result.codes_revoked, messages_withdrawn=result.messages_withdrawn,
            )  # fmt: skip
    return see_other(f"/medlemmer/{contact.org_code}?utfort=deaktivert#kontakter")


@guarded("admin")
async def activate(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    contact = await _contact_of(workspace, _org_code(request), _contact_id(request))
    async with workspace.sessions.begin() as session:
        if await activate_contact(session, contact.id):
            audit.record(
                session, actor_of(request), "contact.activate", f"contact:{contact.id}",
                workspace.now(), org=contact.org_code,
            )  # fmt: skip
    return see_other(f"/medlemmer/{contact.org_code}?utfort=aktivert#kontakter")


@guarded("admin")
async def issue_invitation(request: web.Request) -> web.StreamResponse:
    """A new code (any unused one is revoked), shown once with its links and QR code."""
    workspace = workspace_of(request)
    contact = await _contact_of(workspace, _org_code(request), _contact_id(request))
    back = f"/medlemmer/{contact.org_code}"
    now = workspace.now()
    if not contact.active:
        return _refuse(request, "Kontakten er deaktivert. Aktiver den først.", back)
    ttl = timedelta(days=workspace.settings.invite_ttl_days)
    async with workspace.sessions.begin() as session:
        try:
            (invited,) = await invite_contacts(session, now, ttl, contact.id)
        except LookupError:
            return _refuse(request, "Kontakten er deaktivert. Aktiver den først.", back)
        audit.record(
            session, actor_of(request), "invite.create", f"contact:{contact.id}", now,
            codes=1, org=contact.org_code,
        )  # fmt: skip
    issued = _issued_view(workspace, invited.name, invited.code, invited.expires_at)
    return await _detail_page(request, issued=issued)


@guarded("admin")
async def revoke_invitation(request: web.Request) -> web.StreamResponse:
    workspace = workspace_of(request)
    contact = await _contact_of(workspace, _org_code(request), _contact_id(request))
    now = workspace.now()
    async with workspace.sessions.begin() as session:
        revoked = await revoke_codes(session, contact.id, now)
        if revoked:
            audit.record(
                session, actor_of(request), "invite.revoke", f"contact:{contact.id}", now,
                codes=revoked, org=contact.org_code,
            )  # fmt: skip
    done = "trukket" if revoked else "ingen-kode"
    return see_other(f"/medlemmer/{contact.org_code}?utfort={done}#kontakter")


# --- importing ------------------------------------------------------------------------------


@guarded("admin")
async def import_page(request: web.Request) -> web.StreamResponse:
    return page(
        request, "member_import.html", {"outcome": None, "text": ""}, title="Importer kontakter"
    )


async def _csv_text(request: web.Request) -> tuple[str, str, str]:
    """The CSV from the form (an uploaded file if one was chosen, else the text field):
    its text, the file's name and a problem reading it."""
    form = await request.post()
    upload = form.get("fil")
    if isinstance(upload, web.FileField) and upload.filename:
        raw = upload.file.read(MAX_CSV_BYTES + 1)
        if len(raw) > MAX_CSV_BYTES:
            return (
                "",
                upload.filename,
                "Filen er for stor (mer enn 512 kB) til å være en kontaktliste.",
            )
        try:
            return raw.decode("utf-8-sig"), upload.filename, ""
        except UnicodeDecodeError:
            # Excel on Norwegian Windows saves "CSV (semikolondelt)" in Windows-1252.
            return raw.decode("cp1252", errors="replace"), upload.filename, ""
    text = form.get("tekst")
    return (text if isinstance(text, str) else ""), "", ""


@guarded("admin")
async def import_upload(request: web.Request) -> web.StreamResponse:
    """All lines or none: with any error nothing is saved and every bad line is named."""
    workspace = workspace_of(request)
    text, filename, problem = await _csv_text(request)
    outcome: dict[str, Any]
    if problem:
        outcome = {"errors": [problem], "added": 0, "skipped": 0}
    else:
        async with workspace.sessions.begin() as session:
            result = await import_contacts(session, text)
            if result.added:
                audit.record(
                    session, actor_of(request), "contact.import", None, workspace.now(),
                    added=len(result.added), skipped=result.skipped, file=filename or None,
                )  # fmt: skip
        outcome = {
            "errors": [in_norwegian(e) for e in result.errors],
            "added": len(result.added),
            "skipped": result.skipped,
        }
    return page(
        request,
        "member_import.html",
        {"outcome": outcome, "text": "" if not outcome["errors"] else text, "antall": antall},
        title="Importer kontakter",
        status=422 if outcome["errors"] else 200,
    )


# --- the services' reasons in Norwegian -------------------------------------------------------

HEADER_NB = "«org,navn,rolle,epost» (skilt med komma eller semikolon)"
LINE = re.compile(r"^line (\d+): (.*)$", re.DOTALL)


def _quoted(text: str) -> str:
    """A repr'd value from a service message (``'9999'``) in Norwegian quotes."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return f"«{text}»"


def _separator(text: str) -> str:
    return "tabulator" if text == "tabs" else _quoted(text)


def _plain(text: str) -> str:
    return text


# The services' messages and their Norwegian, each group converted as given.
Convert = Callable[[str], str]
REASONS: list[tuple[re.Pattern[str], str, tuple[Convert, ...]]] = [
    (re.compile(r"^unknown organisation code (.*)$"), "ukjent kommune- eller fylkesnummer {0}",
     (_quoted,)),
    (re.compile(r"^name must be"), "navnet mangler eller er lengre enn 200 tegn", ()),
    (re.compile(r"^role (.*) must look like"),
     "rollen {0} må være 2–60 tegn: små bokstaver a–z (uten æ, ø, å), tall, _ eller -, "
     "for eksempel «kommunedirektor»", (_quoted,)),
    (re.compile(r"^e-mail (.*) does not look like an address$"),
     "e-postadressen {0} ser ikke riktig ut", (_quoted,)),
    (re.compile(r"^(.*) \((.*)\) is already a contact of (.*)$", re.DOTALL),
     "{0} ({1}) er allerede kontakt for {2}", (_plain, _plain, _plain)),
    (re.compile(r"^the header must be .*; found columns separated by (.*)$"),
     "overskriftslinjen må være " + HEADER_NB + "; her er kolonnene skilt med {0}",
     (_separator,)),
    (re.compile(r"^the header must be .*; found one column, (.*)$"),
     "overskriftslinjen må være " + HEADER_NB + "; fant bare én kolonne: {0}", (_quoted,)),
    (re.compile(r"^missing column\(s\) (.*); the header must be"),
     "mangler kolonnen(e) {0}; overskriftslinjen må være " + HEADER_NB, (_plain,)),
    (re.compile(r"^the file is empty"),
     "filen er tom; første linje må være overskriftslinjen " + HEADER_NB, ()),
    (re.compile(r"^not a CSV file"),
     "dette er ikke en CSV-fil; første linje må være overskriftslinjen " + HEADER_NB, ()),
]  # fmt: skip


def _reason(message: str) -> str:
    for pattern, norwegian, converters in REASONS:
        found = pattern.match(message)
        if found:
            return norwegian.format(
                *(c(g) for c, g in zip(converters, found.groups(), strict=True))
            )
    return message


def in_norwegian(message: str) -> str:
    """The contact services' reasons (English, shared with the CLI) in words staff read;
    an import's ``line N: ...`` keeps its line as ``Linje N: ...``."""
    found = LINE.match(message)
    if found:
        return f"Linje {found.group(1)}: {_reason(found.group(2))}."
    reason = _reason(message)
    return reason[:1].upper() + reason[1:] + "."


def add_member_routes(app: web.Application) -> None:
    app.router.add_get("/medlemmer", members_page)
    app.router.add_get("/medlemmer/import", import_page)
    app.router.add_post("/medlemmer/import", import_upload)
    app.router.add_get(f"/medlemmer/{ORG}", organisation_page)
    app.router.add_post(f"/medlemmer/{ORG}/kontakter", add_member_contact)
    base = f"/medlemmer/{ORG}/kontakter/{CONTACT}"
    app.router.add_get(f"{base}/deaktiver", confirm_deactivation)
    app.router.add_post(f"{base}/deaktiver", deactivate)
    app.router.add_post(f"{base}/aktiver", activate)
    app.router.add_post(f"{base}/kode", issue_invitation)
    app.router.add_post(f"{base}/kode/trekk", revoke_invitation)
