"""One logging setup for every entry point, and nothing secret in any line it writes.

``configure_logging`` sends logs to stderr and puts a ``RedactingFilter`` on every handler
of the root logger. The filter rewrites each record before any handler formats it:

- secrets from the settings, wherever they appear (also percent-encoded): the Telegram
  bot token (Bot API and file URLs contain it), TELEGRAM_WEBHOOK_SECRET,
  MICROSOFT_APP_PASSWORD, FILE_LINK_SECRET, METRICS_TOKEN and the database password; anything shaped
  like a Telegram token, bearer tokens and JWTs, and passwords in URLs, even when not
  configured;
- values of secret-looking fields (``secret_token``, ``password``, ...);
- members' message texts and names (``text``, ``caption``, ``first_name`` ... fields, in
  dicts, reprs and JSON; python-telegram-bot logs whole updates and requests at DEBUG)
  unless LOG_MESSAGE_TEXTS is on;
- invitation codes always: ``/start`` payloads and code-shaped words inside texts.

It works on the record's arguments (dicts and lists are walked), the formatted message,
extra fields, the traceback of an exception and ``stack_info``, and never raises: a record
it cannot rewrite is replaced by a notice. Uncaught exceptions and warnings are routed
through logging, so they are redacted too.

``LOG_FORMAT=json`` swaps the text formatter for ``JsonFormatter``: one JSON object per
line, with the ids of the chat, contact, round or event at hand (``ContextFilter`` reads
them from ``services.log_context``). Formatters run after the filters, so a JSON line is
built from the already redacted record: the same masking holds in both formats.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from services.log_context import FIELDS, current_log_context

if TYPE_CHECKING:
    from bot.settings import Settings

SECRET = "[secret]"
TOKEN = "[token]"
TEXT = "[text]"
NAME = "[name]"
CODE = "[code]"

# Shorter secrets are not masked: replacing every "ab" would garble the log, and a
# secret that short protects nothing anyway.
MIN_SECRET_LENGTH = 4
SECRET_KEYS = frozenset(
    {"secret_token", "password", "client_secret", "access_token", "authorization", "bot_token"}
)
TEXT_KEYS = frozenset({"text", "caption", "input_value"})
NAME_KEYS = frozenset({"first_name", "last_name", "username"})

_TOKEN_SHAPE = re.compile(r"(?<![0-9])\d{3,}(?::|%3[Aa])[A-Za-z0-9_-]{8,}")
# Bearer tokens and JWTs (Teams' Bot Connector and Entra tokens), should one be logged.
_BEARER = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+|\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
)
# The workspace's secrets in request lines (aiohttp's access log): a single-use login
# link's path, and the code and state Entra sends back to the sign-in's callback.
_LOGIN_LINK = re.compile(r"(/logg-inn/lenke/)[^\s\"'?#]+")
_OAUTH_QUERY = re.compile(r"(?i)([?&](?:code|state|session_state|id_token)=)[^&\s\"'#]+")
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/\s@'\"]*:)[^@/\s'\"]+@")
_START_PAYLOAD = re.compile(r"(/start(?:@\w+)?[ \t]+)[^\s'\"\\,}\]]+")
# A code as typed: 10 characters of the code alphabet (no I, O, 0, 1), any case, with a
# digit or in capitals; plain lower-case words such as "barnehager" are left alone.
_CODE_WORD = re.compile(
    r"(?<![A-Za-z0-9])(?=[A-Za-z]*[2-9]|[A-HJ-NP-Z2-9]{10}(?![A-Za-z0-9]))"
    r"[A-HJ-NP-Za-hj-np-z2-9]{10}(?![A-Za-z0-9])"
)
# ``'text': '...'``, ``"text": "..."``, ``text='...'``: a repr, JSON or keyword argument.
_FIELD = (
    r"(?P<key>(?P<kq>['\"]?)\b(?P<name>{keys})(?P=kq)\s*[:=]\s*)"
    r"(?P<value>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
)
# The same fields inside a JSON document that is itself inside a string (\"text\": \"...\").
_ESCAPED_FIELD = r"(?P<key>\\\"(?P<name>{keys})\\\"\s*:\s*)(?P<value>\\\"(?:[^\\]|\\[^\"])*?\\\")"
_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def _keys_pattern(keys: Iterable[str], template: str) -> re.Pattern[str]:
    names = "|".join(sorted((re.escape(k) for k in keys), key=len, reverse=True))
    return re.compile(template.replace("{keys}", names), re.IGNORECASE)


_FIELDS = _keys_pattern(SECRET_KEYS | TEXT_KEYS | NAME_KEYS, _FIELD)
_ESCAPED_FIELDS = _keys_pattern(SECRET_KEYS | TEXT_KEYS | NAME_KEYS, _ESCAPED_FIELD)


def mask_codes(text: str) -> str:
    """Invitation codes out of a member's text: the /start payload and code-shaped words."""
    return _CODE_WORD.sub(CODE, _START_PAYLOAD.sub(rf"\1{CODE}", text))


@dataclass(frozen=True)
class Redactor:
    """Rewrites strings and structures so that no secret, code or (by default) text is left."""

    secrets: tuple[str, ...] = ()
    token: str = ""
    texts: bool = False
    _literals: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def build(
        cls, secrets: Iterable[str | None], *, token: str = "", texts: bool = False
    ) -> Redactor:
        """A redactor for these secrets (the bot token gets its own marker)."""
        variants: set[str] = set()
        for secret in [token, *secrets]:
            if secret and len(secret) >= MIN_SECRET_LENGTH:
                variants |= {secret, quote(secret, safe=""), quote(secret)}
        ordered = sorted(variants, key=len, reverse=True)
        pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None
        return cls(tuple(ordered), token, texts, pattern)

    @classmethod
    def from_settings(cls, settings: Settings) -> Redactor:
        """Every secret the settings hold."""
        return cls.build(
            [
                settings.telegram_webhook_secret,
                settings.microsoft_app_password,
                settings.file_link_secret,
                settings.entra_client_secret,
                settings.metrics_token,
                _database_password(settings.database_url),
            ],
            token=settings.telegram_bot_token,
            texts=settings.log_message_texts,
        )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Redactor:
        """The same from raw environment variables, for when the settings are invalid."""
        return cls.build(
            [
                environ.get("TELEGRAM_WEBHOOK_SECRET"),
                environ.get("MICROSOFT_APP_PASSWORD"),
                environ.get("FILE_LINK_SECRET"),
                environ.get("ENTRA_CLIENT_SECRET"),
                environ.get("METRICS_TOKEN"),
                _database_password(environ.get("DATABASE_URL", "")),
            ],
            token=environ.get("TELEGRAM_BOT_TOKEN", ""),
            texts=environ.get("LOG_MESSAGE_TEXTS", "").strip().lower() in ("1", "true", "yes"),
        )

    # --- strings ------------------------------------------------------------------------

    def text(self, value: str) -> str:
        """A string with every secret, code and (unless allowed) text or name masked."""
        if self._literals is not None:
            value = self._literals.sub(self._literal_marker, value)
        value = _TOKEN_SHAPE.sub(TOKEN, value)
        value = _BEARER.sub(lambda m: f"{m.group(1) or ''}{SECRET}", value)
        value = _URL_PASSWORD.sub(rf"\1{SECRET}@", value)
        value = _LOGIN_LINK.sub(rf"\1{SECRET}", value)
        value = _OAUTH_QUERY.sub(rf"\1{SECRET}", value)
        value = _FIELDS.sub(self._field_match, value)
        value = _ESCAPED_FIELDS.sub(self._escaped_field_match, value)
        return _START_PAYLOAD.sub(rf"\1{CODE}", value)

    def _literal_marker(self, match: re.Match[str]) -> str:
        token = self.token
        is_token = bool(token) and match.group(0) in (token, quote(token, safe=""), quote(token))
        return TOKEN if is_token else SECRET

    def _masked_value(self, name: str, value: str) -> str:
        key = name.lower()
        if key in SECRET_KEYS:
            return SECRET
        if not self.texts:
            return NAME if key in NAME_KEYS else TEXT
        return mask_codes(value)

    def _field_match(self, match: re.Match[str]) -> str:
        quoted = match.group("value")
        inner = self._masked_value(match.group("name"), quoted[1:-1])
        return f"{match.group('key')}{quoted[0]}{inner}{quoted[0]}"

    def _escaped_field_match(self, match: re.Match[str]) -> str:
        inner = self._masked_value(match.group("name"), match.group("value")[2:-2])
        return f'{match.group("key")}\\"{inner}\\"'

    # --- structures ---------------------------------------------------------------------

    def value(self, value: Any, depth: int = 0) -> Any:
        """A log argument with its strings redacted; dicts, lists and tuples are walked."""
        if depth > 12:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {key: self._entry(key, item, depth) for key, item in value.items()}
        if type(value) in (list, tuple, set, frozenset):
            return type(value)(self.value(item, depth + 1) for item in value)
        return value

    def _entry(self, key: Any, item: Any, depth: int) -> Any:
        name = key.lower() if isinstance(key, str) else ""
        if name in SECRET_KEYS and item:
            return SECRET
        if (name in TEXT_KEYS or name in NAME_KEYS) and isinstance(item, str):
            return self._masked_value(name, item)
        return self.value(item, depth + 1)


def _database_password(url: str) -> str | None:
    """The password in DATABASE_URL (``driver://user:password@host/db``), decoded."""
    try:
        password = urlsplit(url).password if url else None
    except ValueError:  # a malformed URL: the settings report it; nothing to mask here
        return None
    return unquote(password) if password else None


class RedactingFilter(logging.Filter):
    """Rewrites every record passing a handler; installed on each root handler."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__("lyttepost-redaction")
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            self._redact(record)
        except Exception as error:  # never lose the line's existence, never leak it
            record.msg = f"[log line withheld: it could not be redacted ({type(error).__name__})]"
            record.args = None
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True

    def _redact(self, record: logging.LogRecord) -> None:
        if getattr(record, "_lyttepost_redacted", False):
            return
        redactor = self.redactor
        args = record.args
        if isinstance(args, Mapping):
            args = redactor.value(args)
        elif isinstance(args, tuple):
            args = tuple(redactor.value(arg) for arg in args)
        msg = str(record.msg)
        try:
            message = msg % args if args else msg
        except (TypeError, ValueError, KeyError):  # a malformed call: keep what was given
            message = f"{msg} {args!r}"
        record.msg = redactor.text(message)
        record.args = None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redactor.text(record.exc_text)
        if record.stack_info:
            record.stack_info = redactor.text(record.stack_info)
        for name in [n for n in record.__dict__ if n not in _STANDARD_ATTRIBUTES]:
            record.__dict__[name] = redactor.value(record.__dict__[name])
        record._lyttepost_redacted = True


class ContextFilter(logging.Filter):
    """Puts the ids of ``services.log_context`` on each record (``record.round_id`` ...).

    Runs where the record is logged (handlers are called synchronously), so it sees the
    context of the code that logged. Fields the caller passed in ``extra`` win.
    """

    def __init__(self) -> None:
        super().__init__("lyttepost-context")

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in current_log_context().items():
            if name not in record.__dict__:
                record.__dict__[name] = value
        return True


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_NOT_EXTRA = _STANDARD_ATTRIBUTES | set(FIELDS)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line, for log collectors.

    ``time`` (ISO 8601, UTC, milliseconds), ``level``, ``logger``, ``message``; then the
    context's ids that are known, any ``extra`` fields, and ``exception`` / ``stack`` as
    formatted text. Expects the record already redacted (``RedactingFilter``), which
    leaves objects in ``extra`` as they are: the text format never shows them, but here
    they are written as their ``str()``, so that goes through the redactor too.
    """

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        try:
            return json.dumps(self.document(record), ensure_ascii=False, default=self._other)
        except Exception as error:  # an extra field json cannot take even as str(): say so
            fallback = self._head(record)
            fallback["message"] = f"[log line not written as JSON ({type(error).__name__})]"
            return json.dumps(fallback, ensure_ascii=False)

    def document(self, record: logging.LogRecord) -> dict[str, Any]:
        """The record as a dict, in the order the line shows it."""
        document = self._head(record)
        document["message"] = record.getMessage()
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                document[name] = value
        for name, value in record.__dict__.items():
            if name not in _NOT_EXTRA and not name.startswith("_") and name not in document:
                document[name] = value
        if record.exc_info and not record.exc_text:  # only without RedactingFilter
            exception = self.formatException(record.exc_info)
            record.exc_text = self.redactor.text(exception) if self.redactor else exception
        if record.exc_text:
            document["exception"] = record.exc_text
        if record.stack_info:
            document["stack"] = self.formatStack(record.stack_info)
        return document

    def _other(self, value: object) -> str:
        """An object json cannot write: its text, redacted (without a redactor, its type)."""
        if self.redactor is None:
            return f"<{type(value).__name__}>"
        return self.redactor.text(str(value))

    @staticmethod
    def _head(record: logging.LogRecord) -> dict[str, Any]:
        moment = datetime.fromtimestamp(record.created, UTC)
        return {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
        }


def formatter_for(log_format: str, redactor: Redactor | None = None) -> logging.Formatter:
    """The formatter LOG_FORMAT names (``text`` for anything unknown)."""
    if log_format.strip().lower() == "json":
        return JsonFormatter(redactor)
    return logging.Formatter(TEXT_FORMAT)


_HANDLER_MARK = "_lyttepost_handler"


def configure_logging(level: str, redactor: Redactor, log_format: str = "text") -> None:
    """Logs to stderr (so ``--json`` output stays clean), every handler redacting.

    ``log_format``: ``text`` (one readable line) or ``json`` (``JsonFormatter``). May be
    called again (a command choosing its own level): the previous setup is
    replaced. Handlers someone else put on the root logger (pytest's) are kept and
    get the filter too.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
            handler.close()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter_for(log_format, redactor))
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactingFilter | ContextFilter)]:
            handler.removeFilter(old)
        handler.addFilter(ContextFilter())  # first: the redaction then sees its fields too
        handler.addFilter(RedactingFilter(redactor))
    if not isinstance(logging.getLevelName(level.upper()), int):
        root.warning("LOG_LEVEL %r is not a level (DEBUG, INFO, WARNING, ERROR); using INFO", level)
        level = "INFO"
    level = level.upper()
    root.setLevel(level)
    # httpx logs each request's URL (with the bot token in it) at INFO: shown at DEBUG only.
    logging.getLogger("httpx").setLevel(logging.INFO if level == "DEBUG" else logging.WARNING)
    for noisy in ("httpcore", "aiosqlite", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught


def _log_uncaught(
    kind: type[BaseException], value: BaseException, traceback: TracebackType | None
) -> None:
    """Uncaught exceptions go through logging (and its redaction), not straight to stderr."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, traceback)
        return
    logging.getLogger("lyttepost").critical("uncaught exception", exc_info=(kind, value, traceback))
