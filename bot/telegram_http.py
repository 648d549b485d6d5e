"""python-telegram-bot's networking on aiohttp instead of httpx (docs/decisions/0030).

PTB sends through a ``BaseRequest``; its own is built on httpx, which spends about 1 ms of
CPU per Bot API call here (measured against a local server: httpx 0.99 ms per POST,
aiohttp 0.26 ms). With three calls per answered question (answer the button, edit the
question, send the next one) that was the largest cost of a turn after the database.
aiohttp is already the web server's library. Subclassing ``BaseRequest`` is PTB's
documented way to bring another HTTP client; PTB keeps doing everything else (encoding
parameters, reading Telegram's answers and errors, ``RetryAfter`` for 429).

Timeouts keep httpx's meaning for connecting (``connect_timeout``), waiting for a free
connection (``pool_timeout``) and waiting for the answer (``read_timeout``). aiohttp has
no timeout for writing the request alone; an upload that stalls is caught by
``read_timeout`` as no answer. Errors become PTB's ``TimedOut`` and ``NetworkError``
with the aiohttp error as their cause, which ``bot/telegram.sent_without_answer`` reads to
tell "never sent" from "sent, no answer".
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)

# What aiohttp raises once a request has gone out and no answer comes back: Telegram may
# have carried it out. Connection and pool timeouts, and failing to connect, mean nothing
# was sent.
_NO_ANSWER = (
    aiohttp.SocketTimeoutError,
    aiohttp.ServerDisconnectedError,
    aiohttp.ClientPayloadError,
)


def went_out_unanswered(error: BaseException | None) -> bool:
    """Whether an aiohttp error came after the request was sent (its effect is unknown)."""
    if isinstance(error, _NO_ANSWER):
        return True
    # A reset or broken connection mid-call; but failing to connect is also an OSError.
    return isinstance(error, aiohttp.ClientOSError) and not isinstance(
        error, aiohttp.ClientConnectorError
    )


class AiohttpRequest(BaseRequest):
    """A ``BaseRequest`` on one ``aiohttp.ClientSession`` with a bounded connection pool."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 1,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        default_write = self._media_write_timeout if files else self._write_timeout
        read = _given(read_timeout, self._read_timeout)
        if files:  # an upload takes longer to send before any answer can come
            write = _given(write_timeout, default_write)
            read = None if read is None or write is None else read + write
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with session.request(
                method, url, data=_body(fields, files), timeout=timeout
            ) as response:
                body = await response.read()
                # As httpx logs it: at DEBUG, with the token in the URL (bot/logs.py redacts).
                log.debug(
                    'HTTP Request: %s %s "%s %s"', method, url, response.status, response.reason
                )
                return response.status, body
        except aiohttp.ConnectionTimeoutError as error:
            raise TimedOut("Timed out connecting to Telegram (request not sent)") from error
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _given(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _body(fields: dict[str, str] | None, files: dict[str, Any] | None) -> Any:
    """Form fields as PTB encodes them, as multipart when there are files to upload."""
    if not files:
        return fields or None
    form = aiohttp.FormData()
    for name, value in (fields or {}).items():
        form.add_field(name, value)
    for name, part in files.items():
        if isinstance(part, tuple):
            filename, content, mimetype = part
            form.add_field(name, content, filename=filename, content_type=mimetype)
        else:
            form.add_field(name, part)
    return form
