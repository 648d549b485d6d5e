"""One platform call per outbox row: long text split, files on their own, captions within limits."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from telegram import Bot

from bot.telegram import TelegramTransport
from dialogs.messages import Attachment, Button, OutgoingMessage, one_call_each, split_text
from storage import outbox
from storage.files import FileStore, store_file
from storage.orm import OutboxMessage, StoredFile
from tests.telegram_standin import TelegramStandIn

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 2000


def test_long_text_is_split_and_buttons_stay_on_the_last_part() -> None:
    text = "\n\n".join(["avsnitt " * 200] * 5)
    message = OutgoingMessage(text=text, buttons=((Button(label="OK", payload="x"),),), key="k")
    parts = one_call_each(message, "telegram")
    assert len(parts) == 3 and all(len(p.text) <= 4096 for p in parts)  # at paragraphs
    assert parts[0].buttons == () and parts[0].key is None
    assert parts[-1].buttons == message.buttons and parts[-1].key == "k"
    assert " ".join(" ".join(p.text for p in parts).split()) == " ".join(text.split())
    assert one_call_each(message, "teams") == [message]  # Teams carries far more


def test_every_file_is_its_own_part_and_long_captions_go_as_text() -> None:
    photo = Attachment(kind="photo", file_id=1, filename="a.png", caption="Figur 1")
    document = Attachment(kind="document", file_id=2, filename="r.xlsx", caption="x" * 1500)
    parts = one_call_each(
        OutgoingMessage(text="Oppsummering", attachments=(photo, document)), "telegram"
    )
    assert [(p.text[:12], [a.filename for a in p.attachments]) for p in parts] == [
        ("Oppsummering", []),
        ("", ["a.png"]),
        ("x" * 12, []),
        ("", ["r.xlsx"]),
    ]
    assert parts[1].attachments[0].caption == "Figur 1"
    assert parts[3].attachments[0].caption is None
    only_file = one_call_each(OutgoingMessage(text="", attachments=(photo,)), "telegram")
    assert len(only_file) == 1 and only_file[0].attachments == (photo,)


def test_split_text_never_exceeds_the_limit() -> None:
    assert split_text("x" * 5000, 4096) == ["x" * 4096, "x" * 904]
    words = ("ord " * 5000).strip()
    assert all(len(part) <= 1024 for part in split_text(words, 1024))


async def test_enqueue_stores_one_row_per_call(sessions) -> None:
    async with sessions() as session, session.begin():
        file_id = await store_file(session, "figur.png", PNG)
        again = await store_file(session, "samme.png", PNG)
        queued = await outbox.enqueue(
            session,
            outbox.Recipient("telegram", "42"),
            [OutgoingMessage(text="a " * 3000,
                             attachments=(Attachment(kind="photo", file_id=file_id, filename="figur.png"),))],
            kind="broadcast", priority=outbox.PRIORITY_BULK, dedupe_key="b:1:42",
        )  # fmt: skip
        repeated = await outbox.enqueue(
            session, outbox.Recipient("telegram", "42"),
            [OutgoingMessage(text="a " * 3000,
                             attachments=(Attachment(kind="photo", file_id=file_id, filename="figur.png"),))],
            kind="broadcast", priority=outbox.PRIORITY_BULK, dedupe_key="b:1:42",
        )  # fmt: skip
    assert again == file_id, "the same bytes are stored once"
    assert (queued, repeated) == (3, 0)
    async with sessions() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        stored = (await session.scalars(select(StoredFile))).all()
    assert [r.dedupe_key for r in rows] == ["b:1:42:0", "b:1:42:1", "b:1:42:2"]
    assert len(stored) == 1 and stored[0].media_type == "image/png" and stored[0].size == len(PNG)


@pytest.fixture
async def telegram(sessions):
    async with TelegramStandIn() as standin:
        bot = Bot("1:T", base_url=standin.base_url)
        async with bot:
            yield standin, TelegramTransport(bot, FileStore(sessions)), sessions


async def test_a_file_is_uploaded_once_then_sent_by_telegrams_id(telegram) -> None:
    standin, transport, sessions = telegram
    async with sessions() as session, session.begin():
        file_id = await store_file(session, "figur.png", PNG)
    photo = OutgoingMessage(
        text="",
        attachments=(
            Attachment(kind="photo", file_id=file_id, filename="figur.png", caption="Figur"),
        ),
    )
    for chat in ("5", "6", "7"):
        await transport.deliver(chat, photo, None)
    calls = standin.calls_to("sendPhoto")
    assert [isinstance(call.params.get("photo"), str) for call in calls] == [False, True, True]
    assert [standin.last_message(c).kind for c in (5, 6, 7)] == ["photo"] * 3
    assert standin.last_message(7).text == "Figur"
    async with sessions() as session:
        stored = await session.get(StoredFile, file_id)
    assert stored is not None and stored.telegram_file_id == calls[0 + 1].params["photo"]


async def test_a_document_keeps_its_file_name(telegram) -> None:
    standin, transport, sessions = telegram
    async with sessions() as session, session.begin():
        file_id = await store_file(session, "rapport.xlsx", b"PK\x03\x04" + b"1" * 500)
    message = OutgoingMessage(
        text="",
        attachments=(Attachment(kind="document", file_id=file_id, filename="rapport.xlsx"),),
    )
    await transport.deliver("9", message, None)
    sent = standin.last_message(9)
    assert sent.kind == "document" and sent.filename == "rapport.xlsx"
