"""Terminal sessions: ``lyttepost chat`` (talk as a contact) and ``lyttepost demo``.

They run the very same pipeline as Telegram — record the event, process it in one
transaction, deliver through the outbox — with the console as the only transport.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import Runtime, build_runtime
from bot.console import CHANNEL, ConsoleTransport
from bot.settings import Settings
from dialogs.i18n import speaking, t
from dialogs.messages import OutgoingMessage
from services.inbound import Inbound
from services.languages import contact_language
from services.local_chat import bind_chat, has_submitted

QUIT_WORDS = {"/avslutt", "/quit", "/exit"}
DEMO_ORG = "3301"  # Drammen
DEMO_ORG_NAME = "Drammen"
DEMO_NAME = "Kari Nordmann"
DEMO_NEED = (
    "Vi trenger felles løsninger for digital samhandling med innbyggerne, "
    "så vi slipper å utvikle det samme hver for oss."
)


async def keyboard_lines() -> AsyncIterator[str]:
    """Lines typed at the terminal (or piped in), until end of input."""
    while True:
        try:
            yield await asyncio.to_thread(input, "> ")
        except EOFError:
            return


class ConsoleSession:
    """One contact's conversation in the terminal."""

    def __init__(self, runtime: Runtime, transport: ConsoleTransport, contact_id: int) -> None:
        self.runtime = runtime
        self.transport = transport
        self.contact_id = contact_id
        self.address = f"contact-{contact_id}"

    async def bind(self) -> None:
        """Make the console chat this contact's (no code needed locally).

        From then on the terminal shows this chat only: messages queued for other
        chats (other contacts' console chats, or Telegram and Teams) stay pending.
        """
        async with self.runtime.sessions() as session, session.begin():
            await bind_chat(session, CHANNEL, self.address, self.contact_id)
        self.runtime.sender.serve_only({(CHANNEL, self.address)})

    async def send(self, typed: str) -> None:
        """Hand one typed line to the pipeline and print the replies."""
        payload = self.transport.press_for(typed)
        event = Inbound(
            channel=CHANNEL,
            address=self.address,
            user_id=f"console-{self.contact_id}",
            update_key=uuid.uuid4().hex,
            kind="press" if payload else "text",
            text="" if payload else typed,
            payload=payload or "",
        )
        for row_id, _ in await self.runtime.processor.record([event]):
            await self.runtime.processor.process(row_id)
        await self.runtime.sender.drain()

    async def language(self) -> str:
        """The language this contact reads (the terminal's own lines follow it too)."""
        async with self.runtime.sessions() as session:
            return await contact_language(session, self.contact_id)

    async def submitted(self) -> bool:
        """Whether this contact has submitted a response."""
        async with self.runtime.sessions() as session:
            return await has_submitted(session, self.contact_id)

    async def run(self, lines: AsyncIterator[str], *, until_submitted: bool = False) -> None:
        """Start with /svar, then pass lines on until the input ends (or the survey is sent)."""
        await self.send("/svar")
        async for line in lines:
            if line.strip().lower() in QUIT_WORDS:
                return
            await self.send(line)
            if until_submitted and await self.submitted():
                return


def _console_runtime(
    config: Settings, write: Callable[[str], None]
) -> tuple[Runtime, ConsoleTransport]:
    transport = ConsoleTransport(write=write)
    console_only = config.model_copy(update={"teams_enabled": False})
    runtime = build_runtime(console_only, transports={CHANNEL: transport}, with_telegram=False)
    return runtime, transport


async def run_console(
    config: Settings, contact_id: int, write: Callable[[str], None] = print
) -> None:
    """``lyttepost chat --contact ID``."""
    from services.setup import require_current_schema

    await require_current_schema(config.database_url)
    runtime, transport = _console_runtime(config, write)
    try:
        session = ConsoleSession(runtime, transport, contact_id)
        await session.bind()
        with speaking(await session.language()):
            write(t("notices.console.chatting_as", contact_id=str(contact_id)) + "\n")
        await session.run(keyboard_lines())
    finally:
        await runtime.close()


def choose_answer(
    buttons: Sequence[tuple[str, str]], pick: Callable[[list[str]], str]
) -> str | None:
    """What a member would press for the question on screen, as (label, payload) pairs:
    two options of a multiple choice, then "Neste"; a ranking in the order shown; a number
    per matrix row; one answer button (``pick`` chooses);
    None when the question wants typed text. Shared by the demo, tests and benchmarks."""
    toggles = [(label, payload) for label, payload in buttons if payload.startswith("t:")]
    if toggles:
        if sum(1 for label, _ in toggles if label.startswith("☑")) < min(2, len(toggles)):
            return pick([payload for label, payload in toggles if not label.startswith("☑")])
        return next(payload for _, payload in buttons if payload.startswith("n:"))
    ranks = [(label, payload) for label, payload in buttons
             if payload.startswith("r:") and payload.count(":") == 2]  # not "r:{round}"  # fmt: skip
    if ranks:  # a ranking: pick what is still unpicked (the last place fills itself), then Neste
        unpicked = [p for label, p in ranks if not label[:1].isdigit()]
        return unpicked[0] if unpicked else next(p for _, p in buttons if p.startswith("n:"))
    cells = [(label, payload) for label, payload in buttons if payload.count(":") == 3
             and payload.startswith("m:")]  # fmt: skip
    if cells:  # a matrix: a number on the first row without one, then Neste
        done = {p.rsplit(":", 1)[0] for label, p in cells if not label[:1].isdigit()}
        open_rows = [p for _, p in cells if p.rsplit(":", 1)[0] not in done]
        if not open_rows:
            return next(p for _, p in buttons if p.startswith("n:"))
        row = open_rows[0].rsplit(":", 1)[0]
        return pick([p for p in open_rows if p.rsplit(":", 1)[0] == row])
    answers = [payload for _, payload in buttons if payload.startswith("a:")]
    return pick(answers) if answers else None


def middle(choices: list[str]) -> str:
    """A deterministic pick: the middle choice."""
    return choices[len(choices) // 2]


class AutoAnswerer:
    """Answers whatever is on screen, for ``lyttepost demo --auto``."""

    def __init__(self, transport: ConsoleTransport, write: Callable[[str], None]) -> None:
        self.transport = transport
        self.write = write

    def next_input(self) -> str:
        message: OutgoingMessage | None = self.transport.last_message
        buttons = [(b.label, b.payload) for b in message.all_buttons()] if message else []
        if any(payload == "c:submit" for _, payload in buttons):
            return "/send"
        payload = choose_answer(buttons, middle)
        if payload is None:
            return DEMO_NEED
        numbered = [b.payload for b in self.transport.buttons]
        return str(numbered.index(payload) + 1)

    async def lines(self) -> AsyncIterator[str]:
        for _ in range(200):  # a survey path is far shorter; this bounds a runaway loop
            typed = self.next_input()
            self.write(f"> {typed}")
            yield typed


async def run_demo(
    config: Settings,
    database: Path,
    *,
    auto: bool,
    exports: Path,
    workspace: bool = False,
    write: Callable[[str], None] = print,
) -> dict[str, Path]:
    """Set up a fresh demo database, answer the survey in the terminal, export it; with
    ``workspace``, then serve KS's workspace with a login link until Ctrl-C."""
    from services.export import render, round_export
    from services.local_chat import open_demo_round
    from services.setup import setup_database

    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    await setup_database(config.database_url)
    zone = ZoneInfo(config.timezone)
    runtime, transport = _console_runtime(config, write)
    served = False
    try:
        async with runtime.sessions() as db, db.begin():
            demo = await open_demo_round(
                db, org_code=DEMO_ORG, name=DEMO_NAME, role="kommunedirektor",
                now=datetime.now(UTC), zone=zone,
            )  # fmt: skip
        contact_id, round_id = demo.contact_id, demo.round_id
        session = ConsoleSession(runtime, transport, contact_id)
        language = await session.language()
        with speaking(language):
            write(t("notices.console.demo_intro", name=DEMO_NAME, org_name=DEMO_ORG_NAME) + "\n")
        await session.bind()
        lines = AutoAnswerer(transport, write).lines() if auto else keyboard_lines()
        await session.run(lines, until_submitted=True)
        async with runtime.sessions() as db:
            survey, documents = await round_export(db, runtime.catalog, round_id)
        exports.mkdir(parents=True, exist_ok=True)
        written = {}
        for fmt in ("json", "csv", "xlsx"):
            path = exports / f"demo-round-{round_id}.{fmt}"
            path.write_bytes(render(survey, documents, fmt))
            written[fmt] = path
        with speaking(language):
            write("\n" + t("notices.console.export_heading"))
            write(written["json"].read_text(encoding="utf-8"))
            write(t("notices.console.export_written", csv=written["csv"], xlsx=written["xlsx"]))
        if workspace:
            served = True
            await serve_demo_workspace(runtime, config, write)
        return written
    finally:
        if not served:  # serving closes the runtime when the web app stops
            await runtime.close()


DEMO_STAFF = ("Ada Rådgiver", "ada.radgiver@ks.no")


async def serve_demo_workspace(
    runtime: Runtime, config: Settings, write: Callable[[str], None]
) -> None:
    """KS's side of the demo: a login link for a demo admin, and the workspace served
    until Ctrl-C (SIGINT) or SIGTERM."""
    from aiohttp import web

    from bot.app import web_app
    from bot.serve import until_stopped
    from services import staff_access
    from services.staff import active_by_email, add_staff

    name, email = DEMO_STAFF
    async with runtime.sessions() as db, db.begin():
        now = datetime.now(UTC)
        staff = await active_by_email(db, email) or await add_staff(db, name, email, "admin", now)
        link, _ = await staff_access.issue_login_link(db, staff, now, config.workspace_base_url())
    runner = web.AppRunner(web_app(runtime), handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, config.http_host, config.http_port).start()
    except OSError as error:
        await runner.cleanup()
        write(
            f"\nKS' arbeidsflate kunne ikke startes på {config.http_host}:{config.http_port} "
            f"({error.strerror}). Sett HTTP_PORT til en ledig port og prøv igjen."
        )
        return
    write(
        "\n=== KS' side: arbeidsflaten ===\n"
        f"Åpne denne lenken i nettleseren for å logge inn som {name} (administrator).\n"
        f"Den virker én gang i 15 minutter:\n\n  {link}\n\n"
        "Trykk Ctrl-C for å avslutte."
    )
    sys.stdout.flush()  # the link must show now, also when the output is a pipe
    try:
        await until_stopped()
    finally:
        await runner.cleanup()
        write("Arbeidsflaten er stoppet.")
