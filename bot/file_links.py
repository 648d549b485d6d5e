"""Links to stored files, for channels that cannot take a file in a message (Teams documents).

A link names the file and an expiry and is signed with HMAC-SHA256 under FILE_LINK_SECRET,
so it cannot be guessed or altered, works from any process, and stops working after
``LINK_DAYS``. The route serves the bytes from the database.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from dialogs.messages import Attachment
from storage.files import FileStore

log = logging.getLogger(__name__)

LINK_DAYS = 60
ROUTE = "/files/{file_id}/{name}"


def _signature(secret: str, file_id: int, expires: int) -> str:
    return hmac.new(secret.encode(), f"{file_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def file_link(
    base_url: str, secret: str, attachment: Attachment, *, now: float | None = None
) -> str:
    """A signed, expiring URL for a stored file."""
    expires = int((now or time.time()) + LINK_DAYS * 86400)
    signature = _signature(secret, attachment.file_id, expires)
    name = quote(attachment.filename)
    return f"{base_url.rstrip('/')}/files/{attachment.file_id}/{name}?exp={expires}&sig={signature}"


def file_handler(
    files: FileStore, secret: str
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Serves a stored file to whoever holds a valid link; 404 for anything else."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            file_id = int(request.match_info["file_id"])
            expires = int(request.query.get("exp", "0"))
        except ValueError:
            raise web.HTTPNotFound() from None
        expected = _signature(secret, file_id, expires)
        if not hmac.compare_digest(expected, request.query.get("sig", "")) or expires < time.time():
            log.info("files: refused a link that is wrong or expired")
            raise web.HTTPNotFound()
        try:
            stored = await files.load(file_id)
        except LookupError:
            raise web.HTTPNotFound() from None
        disposition = f"attachment; filename*=UTF-8''{quote(stored.filename)}"
        return web.Response(
            body=stored.content,
            content_type=stored.media_type,
            headers={"Content-Disposition": disposition, "Cache-Control": "private, max-age=3600"},
        )

    return handle
