"""LOG_FORMAT=json: one JSON object per line, the ids at hand, and the same redaction."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pydantic import ValidationError

from bot.logs import (
    ContextFilter,
    JsonFormatter,
    RedactingFilter,
    Redactor,
    configure_logging,
    formatter_for,
)
from bot.settings import Settings
from services.inbound import Inbound
from services.log_context import add_to_log_context, current_log_context, log_context
from tests.cycle_support import World, oslo
from tests.test_log_redaction import (
    CODE,
    DB_PASSWORD,
    EVERY_SECRET,
    FILE_KEY,
    PASSWORD,
    TEXT,
    TOKEN,
    WEBHOOK,
    settings,
)

ISO_UTC_MILLISECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def json_handler(stream: io.StringIO, redactor: Redactor) -> logging.Handler:
    """A handler set up as configure_logging sets up its own with LOG_FORMAT=json."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter_for("json", redactor))
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter(redactor))
    return handler


def captured(redactor: Redactor | None = None) -> tuple[logging.Logger, io.StringIO]:
    """A logger of its own writing JSON lines to a buffer."""
    stream = io.StringIO()
    logger = logging.getLogger(f"test.json.{id(stream)}")
    logger.handlers[:] = [json_handler(stream, redactor or Redactor.from_settings(settings()))]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


@contextmanager
def root_lines() -> Iterator[list[dict[str, Any]]]:
    """Every record reaching the root logger meanwhile, as parsed JSON lines."""
    stream = io.StringIO()
    handler = json_handler(stream, Redactor.from_settings(settings()))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        lines.extend(parse(stream.getvalue()))


def parse(output: str) -> list[dict[str, Any]]:
    """Each line one JSON object (json.loads fails the test otherwise)."""
    documents = [json.loads(line) for line in output.splitlines()]
    assert all(isinstance(document, dict) for document in documents)
    return documents


def test_one_json_object_per_record_with_time_level_logger_and_message() -> None:
    logger, stream = captured()
    logger.info("første linje: %s svar", 3)
    logger.warning("two\nlines in one message")
    lines = parse(stream.getvalue())
    assert len(lines) == 2  # the newline stayed inside the JSON string
    first, second = lines
    assert list(first) == ["time", "level", "logger", "message"]
    assert ISO_UTC_MILLISECONDS.match(first["time"]), first["time"]
    assert first["level"] == "INFO" and first["logger"] == logger.name
    assert first["message"] == "første linje: 3 svar"  # not \u-escaped: ensure_ascii=False
    assert "første" in stream.getvalue()
    assert second["level"] == "WARNING" and second["message"] == "two\nlines in one message"


def test_ids_appear_inside_a_context_and_not_outside() -> None:
    logger, stream = captured()
    logger.info("before")
    with log_context(channel="telegram", event_id=41, update_id="9001"):
        logger.info("event")
        with log_context(chat_id=7, contact_id=12):
            add_to_log_context(round_id=3)
            logger.info("turn")
        logger.info("after the turn")
    with log_context(round_id=5, outbox_id=99):
        with log_context(event_id=1, fresh=True):
            logger.info("fresh")
    logger.info("after")
    before, event, turn, after_turn, fresh, after = parse(stream.getvalue())
    ids = ("channel", "chat_id", "contact_id", "round_id", "event_id", "update_id", "outbox_id")
    assert not any(name in before or name in after for name in ids)
    assert {k: event[k] for k in ids if k in event} == {
        "channel": "telegram",
        "event_id": 41,
        "update_id": "9001",
    }
    assert {k: turn[k] for k in ids if k in turn} == {
        "channel": "telegram",
        "chat_id": 7,
        "contact_id": 12,
        "round_id": 3,
        "event_id": 41,
        "update_id": "9001",
    }
    assert "round_id" not in after_turn and "chat_id" not in after_turn  # the block took them
    assert {k: fresh[k] for k in ids if k in fresh} == {"event_id": 1}
    assert current_log_context() == {}


async def test_concurrent_tasks_keep_their_own_ids() -> None:
    logger, stream = captured()

    async def chat(chat_id: int) -> None:
        with log_context(chat_id=chat_id):
            for step in range(3):
                await asyncio.sleep(0)
                logger.info("chat %s step %s", chat_id, step)

    await asyncio.gather(*(chat(chat_id) for chat_id in (1, 2, 3)))
    lines = parse(stream.getvalue())
    assert len(lines) == 9
    assert all(line["message"].startswith(f"chat {line['chat_id']} ") for line in lines)


def test_a_json_line_never_holds_a_secret_code_or_text() -> None:
    """The same records as the text format's redaction test, written as JSON."""
    logger, stream = captured()
    extra = {"detail": {"text": TEXT, "url": f"https://api.telegram.org/bot{TOKEN}/getMe"}}
    logger.debug("Set Bot API URL: %s", f"https://api.telegram.org/bot{TOKEN}", extra=extra)
    logger.debug("params `%s`", {"url": "https://x.example/hook", "secret_token": WEBHOOK})
    logger.debug("update `%s`", [{"update_id": 1, "message": {"text": f"/start {CODE}"}}])
    logger.info("encoded: /bot%s/sendMessage", TOKEN.replace(":", "%3A"))
    logger.info('json: {"text": "%s", "caption": "%s"}', TEXT, TEXT)
    logger.info("dsn %s", f"postgresql://lyttepost:{DB_PASSWORD}@db/x")
    logger.info("settings %r %r %r", WEBHOOK, PASSWORD, FILE_KEY)
    logger.info("bad format %s %s", "only one")

    class Request:  # an object in ``extra``: the text format never shows it, JSON does
        def __str__(self) -> str:
            return f"Request(token={TOKEN}, secret_token={WEBHOOK!r})"

    logger.info("an object", extra={"request": Request()})
    with log_context(chat_id=5):
        logger.info("stack", stack_info=True, extra={"note": f"password={PASSWORD}"})
    output = stream.getvalue()
    lines = parse(output)
    assert len(lines) == 10  # no record was dropped
    leaked = [secret for secret in EVERY_SECRET if secret in output]
    assert leaked == [], output
    assert TEXT not in output
    # JSON escapes quotes and backslashes; the unescaped text must be clean as well.
    decoded = json.dumps(lines, ensure_ascii=False).replace('\\"', '"').replace("\\\\", "\\")
    assert not [secret for secret in EVERY_SECRET if secret in decoded]
    assert lines[0]["detail"] == {
        "text": "[text]",
        "url": "https://api.telegram.org/bot[token]/getMe",
    }
    assert "'secret_token': '[secret]'" in lines[1]["message"]
    assert lines[2]["message"] == "update `[{'update_id': 1, 'message': {'text': '[text]'}}]`"
    assert lines[8]["request"] == "Request(token=[token], secret_token='[secret]')"
    assert lines[9]["chat_id"] == 5 and "stack" in lines[9]


def test_an_exception_is_a_redacted_field() -> None:
    logger, stream = captured()
    with log_context(round_id=4):
        try:
            raise RuntimeError(f"refused {TOKEN} with secret {WEBHOOK} for '/start {CODE}'")
        except RuntimeError:
            logger.exception("sending failed")
    (line,) = parse(stream.getvalue())
    assert line["message"] == "sending failed" and line["level"] == "ERROR"
    assert line["round_id"] == 4
    exception = line["exception"]
    assert exception.startswith("Traceback (most recent call last):")
    assert "RuntimeError: refused [token] with secret [secret] for '/start [code]'" in exception
    assert not [secret for secret in EVERY_SECRET if secret in stream.getvalue()]


def test_without_the_filter_the_formatter_still_redacts_what_it_renders() -> None:
    """Belt and braces: a handler someone set up without RedactingFilter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(Redactor.from_settings(settings())))
    logger = logging.getLogger("test.json.unfiltered")
    logger.handlers[:] = [handler]
    logger.propagate = False
    try:
        raise ValueError(f"token {TOKEN}")
    except ValueError:
        logger.error("failed", exc_info=True, extra={"thing": object()})
    (line,) = parse(stream.getvalue())
    assert TOKEN not in stream.getvalue() and "token [token]" in line["exception"]
    assert line["thing"].startswith("<object object at")


def test_configure_logging_json_and_text(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    level = root.level
    try:
        configure_logging("INFO", Redactor.from_settings(settings()), "json")
        (handler,) = root.handlers
        assert isinstance(handler.formatter, JsonFormatter)
        with log_context(round_id=8):
            logging.getLogger("scheduler.cycle").info("cycle: round 8: opened")
        try:
            raise ValueError(f"webhook secret {WEBHOOK} refused")
        except ValueError:
            sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]
        opened, uncaught = parse(stderr.getvalue())
        assert opened["round_id"] == 8 and opened["logger"] == "scheduler.cycle"
        assert uncaught["level"] == "CRITICAL" and "[secret] refused" in uncaught["exception"]
        assert WEBHOOK not in stderr.getvalue()

        # Called again with the default: the text format, exactly as before.
        configure_logging("INFO", Redactor.from_settings(settings()))
        (handler,) = root.handlers
        assert type(handler.formatter) is logging.Formatter
        assert handler.formatter._fmt == "%(asctime)s %(levelname)s %(name)s: %(message)s"
        assert sum(isinstance(f, ContextFilter) for f in handler.filters) == 1
    finally:
        root.setLevel(level)


def test_log_format_setting() -> None:
    assert settings().log_format == "text"
    assert settings(log_format=" JSON ").log_format == "json"
    with pytest.raises(ValidationError, match="LOG_FORMAT must be text or json, not 'yaml'"):
        Settings(_env_file=None, log_format="yaml")  # type: ignore[call-arg]


async def test_the_processor_the_conversation_and_the_cycle_name_their_ids(
    sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines logged while an event is processed carry its event, update, channel, chat and
    contact (and the round once the member is in one); the scheduler's carry the round."""
    from services import conversation

    world = World(sessions, oslo("2027-01-04 08:00"))
    await world.setup(["3301"])
    round_id = await world.make_round("Behov", "2027-01-11 09:00", "2027-01-29 23:59")
    engine = conversation._Turn.run_engine

    async def logging_engine(self: Any, *args: Any, **kwargs: Any) -> None:
        logging.getLogger("test.engine").info("engine step")
        await engine(self, *args, **kwargs)

    monkeypatch.setattr(conversation._Turn, "run_engine", logging_engine)
    with root_lines() as lines:
        await world.run_until(oslo("2027-01-11 10:00"))  # opens and invites
        await world.press("3301", "nothing-we-know")  # logged by the conversation
        await world.press("3301", f"r:{round_id}")  # begins the survey: the engine runs
    async with sessions() as session:
        from sqlalchemy import select

        from storage.orm import Chat

        chat_id = await session.scalar(select(Chat.id).where(Chat.address == "chat-3301"))
    opened = next(line for line in lines if line["message"].startswith(f"cycle: round {round_id}"))
    assert opened["round_id"] == round_id and "event_id" not in opened
    unknown = next(line for line in lines if "unknown button payload" in line["message"])
    assert unknown["channel"] == "telegram" and isinstance(unknown["event_id"], int)
    assert unknown["chat_id"] == chat_id and unknown["contact_id"] == world.contacts["3301"]
    assert unknown["update_id"] and "round_id" not in unknown
    step = next(line for line in lines if line["message"] == "engine step")
    assert step["round_id"] == round_id and step["event_id"] == unknown["event_id"] + 1
    assert step["contact_id"] == world.contacts["3301"]
    assert current_log_context() == {}


async def test_a_failing_event_is_logged_with_its_ids_and_exception(sessions) -> None:
    from services.inbound import InboundProcessor

    async def handler(session: Any, event: Inbound, row_id: int) -> None:
        raise RuntimeError(f"handler broke on {TOKEN}")

    async def apologise(session: Any, event: Inbound, row_id: int) -> None:
        return None

    processor = InboundProcessor(sessions, handler, apologise, lambda: None)
    event = Inbound(
        channel="teams", address="a:kari", user_id="u", update_key="1733328000123", kind="text"
    )
    with root_lines() as lines:
        for row_id, _ in await processor.record([event]):
            assert await processor.process(row_id)
    (failed,) = [line for line in lines if "failed; marking it failed" in line["message"]]
    assert failed["channel"] == "teams" and failed["update_id"] == "1733328000123"
    assert failed["event_id"] == row_id and failed["level"] == "ERROR"
    assert "RuntimeError: handler broke on [token]" in failed["exception"]


def test_the_access_logs_extra_fields_are_redacted_too() -> None:
    """aiohttp's access log passes the request line and headers as ``extra``: the text
    format never shows them, JSON lines do, so they must be as clean as the message."""
    logger, stream = captured()
    link = "Qm9ndXMtbG9naW4tbGluay1zZWNyZXQtZm9yLXRlc3Rz"
    request_line = f"GET /logg-inn/lenke/{link} HTTP/1.1"
    logger.info(
        f'127.0.0.1 "{request_line}" 200',
        extra={
            "first_request_line": request_line,
            "response_status": 200,
            "request_header": {
                "Referer": "https://ks.example/logg-inn/entra/svar?code=0.AXk&state=s7"
            },
        },
    )
    (line,) = parse(stream.getvalue())
    assert link not in stream.getvalue() and "0.AXk" not in stream.getvalue()
    assert line["first_request_line"] == "GET /logg-inn/lenke/[secret] HTTP/1.1"
    assert line["response_status"] == 200
    assert line["request_header"]["Referer"].endswith("?code=[secret]&state=[secret]")
