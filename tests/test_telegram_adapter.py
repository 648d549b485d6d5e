"""The Telegram adapter in isolation: update translation, text splitting, error translation."""

from __future__ import annotations

import pytest
from telegram import Bot

from bot.telegram import TelegramTransport, split_text, translate_update
from dialogs.messages import Button, OutgoingMessage
from services.delivery import PermanentFailure, RecipientUnreachable, RetryLater
from tests.telegram_standin import TelegramStandIn


def test_text_and_button_updates_translate_to_neutral_events() -> None:
    text = translate_update(
        {
            "update_id": 7,
            "message": {"chat": {"id": 5, "type": "private"}, "from": {"id": 5}, "text": "/svar"},
        }
    )
    assert text is not None and (text.kind, text.text, text.address, text.update_key) == (
        "text",
        "/svar",
        "5",
        "7",
    )
    press = translate_update(
        {
            "update_id": 8,
            "callback_query": {
                "id": "q",
                "data": "a:x:1",
                "from": {"id": 5},
                "message": {"chat": {"id": 5, "type": "private"}},
            },
        }
    )
    assert press is not None and (press.kind, press.payload) == ("press", "a:x:1")
    sticker = translate_update(
        {"update_id": 9, "message": {"chat": {"id": 5, "type": "private"}, "sticker": {}}}
    )
    assert sticker is not None and sticker.kind == "other"


def test_group_chats_and_other_update_kinds_are_ignored() -> None:
    assert (
        translate_update(
            {"update_id": 1, "message": {"chat": {"id": -5, "type": "group"}, "text": "hi"}}
        )
        is None
    )
    assert translate_update({"update_id": 2, "edited_message": {"text": "x"}}) is None


@pytest.mark.parametrize("raw", [None, [], {"message": {}}, {"update_id": "1"}])
def test_updates_without_an_id_are_malformed(raw) -> None:
    with pytest.raises(ValueError):
        translate_update(raw)


def test_long_text_is_split_on_boundaries_within_the_limit() -> None:
    paragraph = ("ord " * 300).strip()
    text = "\n\n".join([paragraph] * 6)
    parts = split_text(text)
    assert len(parts) > 1 and all(len(p) <= 4096 for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())
    assert all(not p.startswith(" ") and not p.endswith(" ") for p in parts)
    assert split_text("x" * 5000) == ["x" * 4096, "x" * 904]
    assert split_text("kort") == ["kort"]


@pytest.fixture
async def transport():
    async with TelegramStandIn() as standin:
        bot = Bot("1:T", base_url=standin.base_url)
        async with bot:
            yield standin, TelegramTransport(bot)


async def test_messages_render_as_text_with_inline_keyboards_and_edits(transport) -> None:
    standin, telegram = transport
    message = OutgoingMessage(
        text="Velg <b>",
        buttons=((Button(label="Ja", payload="a:q:ja"), Button(label="Nei", payload="a:q:nei")),),
    )
    sent_id = await telegram.deliver("5", message, None)
    stored = standin.last_message(5)
    assert stored.text == "Velg <b>" and stored.buttons == [[("Ja", "a:q:ja"), ("Nei", "a:q:nei")]]
    edited = OutgoingMessage(text="Velg ☑", buttons=message.buttons)
    assert await telegram.deliver("5", edited, sent_id) == sent_id
    assert standin.last_message(5).text == "Velg ☑" and len(standin.messages_for(5)) == 1
    # Editing a message that is gone falls back to sending a new one.
    assert await telegram.deliver("5", edited, "999999") != sent_id
    long_id = await telegram.deliver("6", OutgoingMessage(text="a " * 3000), None)
    assert len(standin.messages_for(6)) == 2 and long_id == str(
        standin.messages_for(6)[-1].message_id
    )


async def test_an_edit_only_message_edits_or_does_nothing(transport) -> None:
    standin, telegram = transport
    question = OutgoingMessage(
        text="Spørsmål 1 · om lag 3 igjen\nEnig?",
        buttons=((Button(label="Ja", payload="a:q:ja"), Button(label="Nei", payload="a:q:nei")),),
        key="q:q",
    )
    sent_id = await telegram.deliver("5", question, None)
    answered = OutgoingMessage(text="Enig?\n\n✓ Svar: Ja", replaces="q:q", edit_only=True)
    assert await telegram.deliver("5", answered, sent_id) == sent_id
    stored = standin.last_message(5)
    assert stored.text == "Enig?\n\n✓ Svar: Ja" and stored.buttons == [] and stored.edits
    # Done once: the same edit again is "not modified", still done, nothing new.
    assert await telegram.deliver("5", answered, sent_id) == sent_id
    # A message that cannot be edited (gone) is left alone: no copy is sent.
    assert await telegram.deliver("5", answered, "999999") == "999999"
    assert await telegram.deliver("5", answered, None) == ""
    assert len(standin.messages_for(5)) == 1


async def test_platform_errors_become_delivery_errors(transport) -> None:
    standin, telegram = transport
    standin.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    with pytest.raises(RetryLater) as throttled:
        await telegram.deliver("5", OutgoingMessage(text="x"), None)
    assert throttled.value.seconds == 3
    standin.block(7)
    with pytest.raises(RecipientUnreachable):
        await telegram.deliver("7", OutgoingMessage(text="x"), None)
    standin.fail_next("sendMessage", 400, "Bad Request: chat not found")
    with pytest.raises(RecipientUnreachable):
        await telegram.deliver("8", OutgoingMessage(text="x"), None)
    standin.fail_next("sendMessage", 400, "Bad Request: can't parse entities")
    with pytest.raises(PermanentFailure):
        await telegram.deliver("8", OutgoingMessage(text="x"), None)


def _request_factory(kind: str):
    """PTB's own httpx request, and Lyttepost's aiohttp one (what ``lyttepost run`` uses)."""
    from telegram.request import HTTPXRequest

    from bot.telegram_http import AiohttpRequest

    return HTTPXRequest if kind == "httpx" else AiohttpRequest


@pytest.mark.parametrize("client", ["httpx", "aiohttp"])
async def test_a_send_that_got_no_answer_is_uncertain_but_one_never_sent_is_not(client) -> None:
    """Telegram slower than the read timeout: the message is in the chat, so the transport
    must not report a plain network error (that would be retried blindly)."""
    from services.delivery import DeliveryUncertain, TransientFailure
    from tests.e2e_support import free_port

    request = _request_factory(client)
    async with TelegramStandIn() as standin:
        impatient = request(read_timeout=0.3, connect_timeout=1)
        async with Bot("1:T", base_url=standin.base_url, request=impatient) as bot:
            telegram = TelegramTransport(bot)
            sent_id = await telegram.deliver("5", OutgoingMessage(text="først"), None)
            standin.answer_late(1.0, method="sendMessage")
            with pytest.raises(DeliveryUncertain):
                await telegram.deliver("5", OutgoingMessage(text="hei"), None)
            assert [m.text for m in standin.messages_for(5)] == ["først", "hei"]  # it arrived
            # An edit done twice changes nothing: a plain transient failure, retried as before.
            standin.answer_late(1.0, method="editMessageText")
            with pytest.raises(TransientFailure) as edit:
                await telegram.deliver("5", OutgoingMessage(text="endret"), sent_id)
            assert not isinstance(edit.value, DeliveryUncertain)
    # Nothing listens: the request never went out.
    unreachable = Bot(
        "1:T", base_url=f"http://127.0.0.1:{free_port()}/bot", request=request(connect_timeout=1)
    )
    try:
        with pytest.raises(TransientFailure) as refused:
            await TelegramTransport(unreachable).deliver("5", OutgoingMessage(text="hei"), None)
    finally:
        await unreachable.shutdown()
    assert not isinstance(refused.value, DeliveryUncertain)
