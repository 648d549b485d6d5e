"""Running the real ``lyttepost`` process against the Telegram stand-in, for e2e tests and benches."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST-TOKEN"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def lyttepost_command() -> list[str]:
    """The installed console script, run with this interpreter's environment."""
    script = Path(sys.executable).parent / "lyttepost"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


@dataclass
class Deployment:
    """One Lyttepost installation: a database, settings, and maybe a running process."""

    database_url: str
    api_base_url: str
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    http_port: int = field(default_factory=free_port)
    # Put before the command, e.g. a profiler: [python, "-m", "cProfile", "-o", FILE].
    command_prefix: list[str] = field(default_factory=list)
    _log: Any = None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
        env.update(
            DATABASE_URL=self.database_url,
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=self.api_base_url,
            TELEGRAM_BOT_USERNAME="lyttepost_test_bot",
            HTTP_PORT=str(self.http_port),
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run one CLI command to completion."""
        result = subprocess.run(
            [*lyttepost_command(), *args],
            env=self.env(),
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"lyttepost {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def cli_json(self, *args: str) -> Any:
        """Run a ``--json`` command and parse its single document."""
        return json.loads(self.cli(*args, "--json").stdout)

    def start(self) -> None:
        """Start ``lyttepost run`` and wait until its health check answers."""
        assert self.process is None
        self._log = open(self.workdir / "run.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [*self.command_prefix, *lyttepost_command(), "run"], env=self.env(), cwd=self.workdir,
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"lyttepost run exited early:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.http_port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"lyttepost run did not start:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbyes."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None
        self._close_log()

    def stop(self) -> None:
        """SIGTERM and wait for a clean exit."""
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log(self) -> str:
        path = self.workdir / "run.log"
        return path.read_text(errors="replace") if path.exists() else ""


async def bind_contacts(
    database_url: str, count: int, first_chat: int, *, per_organisation: int = 1
) -> dict[int, str]:
    """``per_organisation`` contacts per member (the first ``count`` by code), each with its
    own Telegram chat, as if each had redeemed their invitation code; returns {chat id:
    organisation code}. Chat ids are consecutive from ``first_chat``: organisation by
    organisation, its contacts in turn. The first contact of each is "Leder CODE"."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from storage.db import create_engine, session_factory
    from storage.orm import Chat, Contact, Organisation

    if per_organisation < 1:
        raise ValueError("per_organisation must be at least 1")
    engine = create_engine(database_url)
    chats: dict[int, str] = {}
    try:
        async with session_factory(engine)() as session, session.begin():
            organisations = (
                await session.execute(
                    select(Organisation.id, Organisation.code)
                    .order_by(Organisation.code)
                    .limit(count)
                )
            ).all()
            contacts: list[tuple[int, str, Contact]] = []
            for index, (org_id, code) in enumerate(organisations):
                for nth in range(per_organisation):
                    contact = Contact(
                        organisation_id=org_id,
                        name=f"Leder {code}" if nth == 0 else f"Kontakt {nth + 1} {code}",
                        role="kommunedirektor" if nth == 0 else "radgiver",
                    )
                    session.add(contact)
                    contacts.append((first_chat + index * per_organisation + nth, code, contact))
            await session.flush()  # one round of INSERTs gives every contact its id
            now = datetime.now(UTC)
            for chat_id, code, contact in contacts:
                session.add(
                    Chat(channel="telegram", address=str(chat_id), user_id=str(chat_id),
                         contact_id=contact.id, last_seen_at=now)
                )  # fmt: skip
                chats[chat_id] = code
    finally:
        await engine.dispose()
    return chats
