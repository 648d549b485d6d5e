"""The redaction filter: secrets, codes and texts out of every part of a log record."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from bot.logs import RedactingFilter, Redactor, configure_logging, mask_codes
from bot.settings import Settings

TOKEN = "7412589630:AAHk3vZ-_secretpartofthetoken1234567"
WEBHOOK = "hook_Secret-99x"
PASSWORD = "app-pass.word~1"
FILE_KEY = "file-link-key-abc"
DB_PASSWORD = "Pg-S3cret"
CODE = "K7MQ2XWE9R"
TEXT = "Vi trenger hjelp med rekruttering"
EVERY_SECRET = (TOKEN, TOKEN.split(":")[1], WEBHOOK, PASSWORD, FILE_KEY, DB_PASSWORD, CODE)


def settings(**extra: object) -> Settings:
    values: dict[str, object] = {
        "telegram_bot_token": TOKEN,
        "telegram_webhook_secret": WEBHOOK,
        "microsoft_app_password": PASSWORD,
        "file_link_secret": FILE_KEY,
        "database_url": f"postgresql+asyncpg://lyttepost:{DB_PASSWORD}@db.example/lyttepost",
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def captured(redactor: Redactor) -> tuple[logging.Logger, io.StringIO]:
    """A logger whose only handler redacts and writes to a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s %(extra_field)s"))
    handler.addFilter(RedactingFilter(redactor))
    logger = logging.getLogger(f"test.redaction.{id(stream)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def assert_clean(output: str) -> None:
    leaked = [secret for secret in EVERY_SECRET if secret in output]
    assert leaked == [], output
    assert TEXT not in output, output


def test_every_kind_of_record_is_redacted() -> None:
    logger, stream = captured(Redactor.from_settings(settings()))
    extra = {"extra_field": {"text": TEXT, "url": f"https://api.telegram.org/bot{TOKEN}/getMe"}}
    logger.debug("Set Bot API URL: %s", f"https://api.telegram.org/bot{TOKEN}", extra=extra)
    logger.debug(
        "Calling Bot API endpoint `%s` with parameters `%s`",
        "setWebhook",
        {"url": "https://x.example/hook", "secret_token": WEBHOOK},
        extra=extra,
    )
    update = [{"update_id": 1, "message": {"text": f"/start {CODE}", "chat": {"id": 1}}}]
    logger.debug("finished with return value `%s`", update, extra=extra)
    logger.info("file: %s", f"https://api.telegram.org/file/bot{TOKEN}/photos/1.jpg", extra=extra)
    logger.info("encoded: /bot%s/sendMessage", TOKEN.replace(":", "%3A"), extra=extra)
    logger.info("repr: Inbound(text=%r, kind='text')", TEXT, extra=extra)
    logger.info('json: {"text": "%s", "caption": "%s"}', TEXT, TEXT, extra=extra)
    logger.info(r'nested: {"payload": "{\"text\": \"%s\"}"}', TEXT, extra=extra)
    logger.info("dsn %s", f"postgresql://lyttepost:{DB_PASSWORD}@db/x", extra=extra)
    logger.info("settings %r %r %r", WEBHOOK, PASSWORD, FILE_KEY, extra=extra)
    logger.info("bad format %s %s", "only one", extra=extra)  # a logging bug must not leak
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage failed")
    except RuntimeError:
        logger.exception("send failed (text=%r)", TEXT, extra=extra)
    logger.warning("where %s", WEBHOOK, stack_info=True, extra=extra)
    output = stream.getvalue()
    assert_clean(output)
    assert "/bot[token]/getMe" in output and "/file/bot[token]/photos" in output
    assert "'secret_token': '[secret]'" in output
    assert "lyttepost:[secret]@db" in output
    assert "Traceback" in output and "RuntimeError" in output
    assert output.count("\n") >= 13  # no record was dropped


def test_a_token_shape_and_url_passwords_are_masked_even_when_not_configured() -> None:
    redactor = Redactor.build([])
    line = redactor.text(
        f"GET https://api.telegram.org/bot{TOKEN}/getMe via http://u:pw123@proxy:3128"
    )
    assert TOKEN not in line and "pw123" not in line
    assert "[token]" in line and "u:[secret]@proxy" in line
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl"
    line = redactor.text(f"{{'Authorization': 'Bearer {jwt}'}}, Bearer {jwt}")
    assert line == "{'Authorization': '[secret]'}, Bearer [secret]"


def test_workspace_secrets_in_request_lines_are_masked() -> None:
    """aiohttp's access log writes each request line: a login link's path and the code and
    state of Entra's answer must not reach the log."""
    redactor = Redactor.build([])
    link = "Qm9ndXMtbG9naW4tbGluay1zZWNyZXQtZm9yLXRlc3Rz"
    line = redactor.text(
        f'127.0.0.1 "GET /logg-inn/lenke/{link} HTTP/1.1" 200; '
        f'"GET /logg-inn/entra/svar?code=0.AXkA-abc123&state=st4te-xyz&session_state=s1 HTTP/1.1"'
    )
    assert link not in line and "abc123" not in line and "st4te" not in line
    assert "/logg-inn/lenke/[secret] HTTP/1.1" in line
    assert "?code=[secret]&state=[secret]&session_state=[secret] HTTP/1.1" in line
    assert redactor.text("GET /resultater/3/behov?omrade=okonomi&side=2") == (
        "GET /resultater/3/behov?omrade=okonomi&side=2"
    )  # other queries stay readable


def test_texts_appear_only_when_asked_for_and_codes_never() -> None:
    quiet = Redactor.from_settings(settings())
    loud = Redactor.from_settings(settings(log_message_texts=True))
    record = {"message": {"text": TEXT, "from": {"first_name": "Kari"}}}
    assert quiet.value(record) == {"message": {"text": "[text]", "from": {"first_name": "[name]"}}}
    assert loud.value(record) == record
    typed = {"text": f"/start {CODE}"}, {"text": CODE.lower()}, {"text": f"koden er {CODE}"}
    for value in typed:
        assert CODE.lower() not in str(loud.value(value)).lower()
    # Ordinary words are not taken for codes.
    assert mask_codes("barnehager og kartlegger") == "barnehager og kartlegger"


def test_short_secrets_are_not_masked_everywhere() -> None:
    redactor = Redactor.build(["ab"], token="")
    assert redactor.text("a table about tabs") == "a table about tabs"


def test_configure_logging_filters_every_root_handler_and_uncaught_exceptions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    existing = logging.StreamHandler(stream)
    monkeypatch.setattr(root, "handlers", [existing])
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    level = root.level
    try:
        configure_logging("DEBUG", Redactor.from_settings(settings()))
        assert all(
            any(isinstance(f, RedactingFilter) for f in handler.filters)
            for handler in root.handlers
        )
        logging.getLogger("telegram.Bot").debug("token %s", TOKEN)
        try:
            raise ValueError(f"webhook secret {WEBHOOK} refused")
        except ValueError:
            sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]
    finally:
        root.setLevel(level)
    output = stream.getvalue()
    assert "token [token]" in output and "uncaught exception" in output
    assert TOKEN not in output and WEBHOOK not in output
