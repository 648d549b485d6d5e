"""Files sent to members (charts, reports), kept in the database by content hash.

Storing the bytes in the database means every process can send them and nothing is
lost between a report being built and the last member receiving it. A file is stored
once however often it is sent; Telegram's own id for it is remembered after the first
upload so the rest of a broadcast reuses it.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.orm import StoredFile

MAX_FILE_BYTES = 50 * 1024 * 1024  # Telegram bots may send documents up to 50 MB


@dataclass(frozen=True)
class FileContent:
    """What a transport needs to send a stored file."""

    file_id: int
    filename: str
    media_type: str
    content: bytes
    telegram_file_id: str | None


async def store_file(session: AsyncSession, filename: str, content: bytes) -> int:
    """Store bytes (once per content) and return the file's id."""
    if len(content) > MAX_FILE_BYTES:
        raise ValueError(f"{filename}: {len(content)} bytes is more than a chat can carry")
    digest = hashlib.sha256(content).hexdigest()
    existing = await session.scalar(select(StoredFile.id).where(StoredFile.sha256 == digest))
    if existing is not None:
        return existing
    media_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    row = StoredFile(
        sha256=digest, filename=filename, media_type=media_type, size=len(content), content=content
    )
    session.add(row)
    await session.flush()
    return row.id


class FileStore:
    """Reads stored files for the transports, with sessions of its own."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def load(self, file_id: int) -> FileContent:
        """A stored file; ``LookupError`` if it does not exist."""
        async with self._sessions() as session:
            row = await session.get(StoredFile, file_id)
            if row is None:
                raise LookupError(f"no stored file {file_id}")
            return FileContent(
                row.id, row.filename, row.media_type, row.content, row.telegram_file_id
            )

    async def remember_telegram_id(self, file_id: int, telegram_file_id: str) -> None:
        """Telegram's id for the file, so the next send needs no upload."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(StoredFile)
                .where(StoredFile.id == file_id)
                .values(telegram_file_id=telegram_file_id[:300])
            )
