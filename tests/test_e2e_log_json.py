"""End to end: ``lyttepost run`` with LOG_FORMAT=json writes JSON lines, ids and no secret.

The real process, at DEBUG against the Bot API stand-in: a member registers with a code,
a round opened from the CLI invites them, they press its start button. Every line the
process and the CLI write to stderr is one JSON object; the conversation's lines name the
event, chat, contact (and round), the sends their message, contact and round; no secret,
code or member's name is in any of it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e_support import TOKEN, Deployment
from tests.telegram_standin import TelegramStandIn

pytestmark = pytest.mark.e2e

CHAT = 626262
FILE_LINK_SECRET = "FileLinkSecret-json-5c1d"
APP_PASSWORD = "App~Password.json.77"


def json_lines(output: str) -> list[dict[str, Any]]:
    """Every non-empty line parsed; a line that is not a JSON object fails the test."""
    documents: list[dict[str, Any]] = []
    for line in output.splitlines():
        if line.strip():
            try:
                document = json.loads(line)
            except ValueError:
                raise AssertionError(f"not a JSON line: {line!r}") from None
            assert isinstance(document, dict), line
            documents.append(document)
    return documents


async def test_lyttepost_run_writes_json_lines_with_ids_and_no_secret(tmp_path: Path) -> None:
    stderr: list[str] = []
    async with TelegramStandIn() as standin:
        deployment = Deployment(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'json.db'}",
            api_base_url=standin.base_url,
            workdir=tmp_path,
            extra_env={
                "LOG_FORMAT": "json",
                "LOG_LEVEL": "DEBUG",
                "FILE_LINK_SECRET": FILE_LINK_SECRET,
                "MICROSOFT_APP_PASSWORD": APP_PASSWORD,
            },
        )
        try:
            for args in (
                ("db", "upgrade"),
                ("contacts", "add", "--org", "3301", "--name", "Kari Nordmann",
                 "--role", "kommunedirektor", "--json"),
            ):  # fmt: skip
                result = await asyncio.to_thread(deployment.cli, *args)
                stderr.append(result.stderr)
            contact_id = json.loads(result.stdout)["id"]
            created = await asyncio.to_thread(
                deployment.cli, "invites", "create", "--contact", str(contact_id), "--json"
            )
            stderr.append(created.stderr)
            code = json.loads(created.stdout)[0]["code"]
            await asyncio.to_thread(deployment.start)
            standin.user_sends_text(CHAT, f"/start {code}", first_name="Kari")
            await standin.wait_for_message(CHAT, lambda m: "Velkommen" in m.text, timeout=20)
            count = len(standin.messages_for(CHAT))
            await asyncio.to_thread(
                deployment.cli, "rounds", "create", "--survey", "kvartalsvis-behov",
                "--closes", "2099-12-31", "--orgs", "3301",
            )  # fmt: skip
            invitation = await standin.wait_for_message(
                CHAT, lambda m: any(d.startswith("r:") for _, d in sum(m.buttons, [])), 20, count
            )
            start = next(d for _, d in sum(invitation.buttons, []) if d.startswith("r:"))
            count = len(standin.messages_for(CHAT))
            standin.user_presses(CHAT, invitation.message_id, start)
            await standin.wait_for_message(CHAT, timeout=20, after_count=count)
        finally:
            await asyncio.to_thread(deployment.stop)
    round_id = int(start.split(":")[1])
    log = deployment.log()
    lines = json_lines(log)
    cli_lines = json_lines("\n".join(stderr))
    # At DEBUG the process logs from many places (Bot API calls, updates, the cycle), and
    # every line is JSON: count the loggers, not the lines (their number varies by run).
    loggers = {line["logger"] for line in lines}
    assert len(loggers) >= 5 and cli_lines, loggers
    assert {"time", "level", "logger", "message"} <= set(lines[0])

    # The member's events: processed with their event, update, chat and contact ids, and
    # the round once they pressed its start button.
    handled = [line for line in lines if line["logger"] == "services.conversation"]
    assert len(handled) == 2, [line["message"] for line in lines]
    for line in handled:
        assert line["channel"] == "telegram" and line["contact_id"] == contact_id
        assert {"event_id", "update_id", "chat_id"} <= set(line)
    assert "round_id" not in handled[0] and handled[1]["round_id"] == round_id
    # The sends: the invitation names its round, the replies their contact.
    sends = [line for line in lines if "outbox_id" in line and "sendMessage" in line["message"]]
    assert sends and all(line["contact_id"] == contact_id for line in sends)
    assert any(line.get("round_id") == round_id for line in sends)
    # Lines about nobody in particular carry no ids.
    assert not any("chat_id" in line for line in lines if "getUpdates" in line["message"])

    everything = log + "\n".join(stderr)
    secrets = {
        "bot token": TOKEN,
        "token's secret half": TOKEN.split(":")[1],
        "file link secret": FILE_LINK_SECRET,
        "app password": APP_PASSWORD,
        "invitation code": code,
        "member's name": "'first_name': 'Kari'",
    }
    assert [name for name, secret in secrets.items() if secret in everything] == []
    assert any("/bot[token]/" in line["message"] for line in lines)
