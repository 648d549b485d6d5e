"""The Bot API stand-in, driven by the real python-telegram-bot client.

The end-to-end tests and benchmarks trust the stand-in to behave like Telegram, so these
check that PTB's requests are understood and its exceptions come out of our answers.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import ClientSession, web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from telegram.constants import ChatAction
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
from telegram.warnings import PTBUserWarning

from tests.telegram_standin import TelegramStandIn

TOKEN = "123456:TEST-TOKEN"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


@pytest.fixture
async def api() -> AsyncIterator[TelegramStandIn]:
    async with TelegramStandIn(token=TOKEN) as standin:
        yield standin
        assert standin.errors == []  # no request made the stand-in itself fail


@pytest.fixture
async def bot(api: TelegramStandIn) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=api.base_url) as client:
        yield client


async def raw_get_updates(bot: Bot, **kwargs: Any) -> Any:
    """The project's way: raw dicts through do_api_request (PTB warns it has a method)."""
    with pytest.warns(PTBUserWarning, match="Bot.getUpdates"):
        return await bot.do_api_request("getUpdates", api_kwargs=kwargs)


# --- identity and tokens ------------------------------------------------------------------


async def test_get_me_and_a_wrong_token_is_unauthorized(api: TelegramStandIn) -> None:
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        assert bot.username == "lyttepost_test_bot" and bot.id == 123456
        me = await bot.get_me()
        assert me.is_bot and me.first_name == "Lyttepost"
    with pytest.raises(InvalidToken):
        async with Bot("654321:WRONG", base_url=api.base_url):
            pass
    refused = api.calls[-1]
    assert refused.method == "getMe" and refused.status == 401
    assert refused.response == {"ok": False, "error_code": 401, "description": "Unauthorized"}


# --- sending, reading back, editing -------------------------------------------------------


async def test_send_message_with_inline_keyboard_reads_back(api: TelegramStandIn, bot: Bot) -> None:
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Ja", callback_data="a:q1:ja"),
                InlineKeyboardButton("Nei", callback_data="a:q1:nei"),
            ],
            [InlineKeyboardButton("Les mer", url="https://www.ks.no")],
        ]
    )
    sent = await bot.send_message(42, "  [1/5] Trenger dere hjelp? ☑\n", reply_markup=markup)
    assert sent.chat.id == 42 and sent.from_user.username == "lyttepost_test_bot"
    assert sent.text == "[1/5] Trenger dere hjelp? ☑"  # Telegram trims; "[" is not JSON
    assert sent.reply_markup == markup
    stored = await api.wait_for_message(42)
    assert stored is api.last_message(42) and stored.message_id == sent.message_id
    assert stored.kind == "message" and stored.raw_text.startswith("  [1/5]")
    assert stored.buttons == [[("Ja", "a:q1:ja"), ("Nei", "a:q1:nei")], [("Les mer", "")]]
    assert api.button(stored, "Nei") == "a:q1:nei"
    with pytest.raises(LookupError):
        api.button(stored, "Kanskje")
    call = api.calls_to("sendMessage")[0]
    assert call.params["chat_id"] == 42 and call.params["reply_markup"]["inline_keyboard"]
    second = await bot.send_message(42, "Neste")
    assert second.message_id == sent.message_id + 1
    assert (await bot.send_message(43, "Annen chat")).message_id == 1  # ids count per chat
    assert (await api.wait_for_message(42, after_count=1)).text == "Neste"


async def test_edits_wake_waiters_and_keep_history(api: TelegramStandIn, bot: Bot) -> None:
    markup = keyboard([("☐ Skole", "t:skole"), ("☐ Helse", "t:helse")])
    sent = await bot.send_message(42, "Velg områder", reply_markup=markup)
    waiter = asyncio.create_task(
        api.wait_for_message(42, lambda m: m.labels[:1] == ["☑ Skole"], timeout=3)
    )
    await asyncio.sleep(0.05)
    assert not waiter.done()
    checked = keyboard([("☑ Skole", "t:skole"), ("☐ Helse", "t:helse")])
    await bot.edit_message_reply_markup(42, sent.message_id, reply_markup=checked)
    edited = await asyncio.wait_for(waiter, 2)
    assert edited.message_id == sent.message_id and len(api.messages_for(42)) == 1

    result = await bot.edit_message_text(
        "Velg områder (1 valgt)", chat_id=42, message_id=sent.message_id, reply_markup=checked
    )
    assert result.text == "Velg områder (1 valgt)" and result.edit_date is not None
    assert [v.text for v in edited.history] == [
        "Velg områder",
        "Velg områder",
        "Velg områder (1 valgt)",
    ]
    assert len(edited.edits) == 2 and edited.changed_at > edited.sent_at
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text(
            "Velg områder (1 valgt)", chat_id=42, message_id=sent.message_id, reply_markup=checked
        )
    # Like Telegram: an edit without reply_markup removes the inline keyboard.
    await bot.edit_message_text("Takk!", chat_id=42, message_id=sent.message_id)
    assert api.last_message(42).buttons == [] and api.last_message(42).text == "Takk!"
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=42, message_id=999)
    assert api.stats.sent == 4  # the send and three edits


# --- updates: polling ---------------------------------------------------------------------


async def test_get_updates_returns_text_and_callbacks_and_confirms_offsets(
    api: TelegramStandIn, bot: Bot
) -> None:
    question = await bot.send_message(7, "Hvor mange?", reply_markup=keyboard([("1", "a:n:1")]))
    first = api.user_sends_text(7, "/start ABC123", first_name="Kari", username="kari")
    second = api.user_presses(7, question.message_id, "a:n:1")
    assert second == first + 1

    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first, second]
    message = updates[0].message
    assert message.text == "/start ABC123" and message.chat.type == "private"
    assert message.from_user.username == "kari" and message.from_user.first_name == "Kari"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 6)]
    query = updates[1].callback_query
    assert query.data == "a:n:1" and query.from_user.id == 7
    assert query.message.message_id == question.message_id and query.message.text == "Hvor mange?"
    assert query.message.reply_markup.inline_keyboard[0][0].callback_data == "a:n:1"

    # Not confirmed yet: asked again, the same updates come back.
    assert [u.update_id for u in await bot.get_updates()] == [first, second]
    assert await bot.answer_callback_query(query.id, text="Lagret")
    assert api.callback_answers[query.id]["text"] == "Lagret"
    with pytest.raises(BadRequest, match="(?i)query ID is invalid"):
        await bot.answer_callback_query(query.id)  # a query is answered once
    assert await bot.get_updates(offset=second + 1) == ()
    assert api.pending_updates() == []

    ids = [api.user_sends_text(7, f"melding {n}") for n in range(5)]
    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == ids[-1:]
    assert [u["update_id"] for u in api.pending_updates()] == ids[-1:]


async def test_do_api_request_returns_raw_dicts(api: TelegramStandIn, bot: Bot) -> None:
    api.inject_raw_update({"message": "garbage"})
    api.user_sends_text(5, "hei")
    raws = await raw_get_updates(bot, timeout=0, allowed_updates=["message", "callback_query"])
    assert isinstance(raws, list) and raws[0]["message"] == "garbage"
    assert raws[1]["message"]["text"] == "hei" and raws[1]["update_id"] == raws[0]["update_id"] + 1
    call = api.calls_to("getUpdates")[-1]
    # PTB form-encodes; the stand-in gives values their JSON types back.
    assert call.params == {"timeout": 0, "allowed_updates": ["message", "callback_query"]}
    assert api.allowed_updates == ["message", "callback_query"]
    api.block(5)  # my_chat_member is not among the allowed updates: Telegram drops it
    assert api.dropped_updates[-1]["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    assert await raw_get_updates(bot, offset=raws[-1]["update_id"] + 1) == []


async def test_odd_raw_updates_keep_their_ids_and_ids_keep_increasing(
    api: TelegramStandIn, bot: Bot
) -> None:
    assert api.inject_raw_update({"update_id": 500, "edited_message": {"text": "x"}}) == 500
    assert api.user_sends_text(1, "etter") == 501
    assert api.inject_raw_update({"update_id": "odd", "callback_query": {"id": "q"}}) == "odd"
    assert api.user_sends_text(1, "til slutt") == 503
    raws = await raw_get_updates(bot)
    assert [r["update_id"] for r in raws] == [500, 501, "odd", 503]
    assert await bot.answer_callback_query("q")  # ids seen in raw updates can be answered
    assert await raw_get_updates(bot, offset=504) == [] and api.pending_updates() == []

    await bot.get_updates(allowed_updates=["message"])
    sent = await bot.send_message(1, "Velg", reply_markup=keyboard([("A", "a")]))
    api.user_presses(1, sent.message_id, "a")  # filtered out, like Telegram
    api.inject_raw_update({"callback_query": {"id": "r"}})  # raw: delivered anyway
    assert [set(r) - {"update_id"} for r in await raw_get_updates(bot)] == [{"callback_query"}]
    assert "callback_query" in api.dropped_updates[0]


async def test_block_sends_my_chat_member_that_ptb_parses(api: TelegramStandIn, bot: Bot) -> None:
    api.user_sends_text(8, "hei")
    api.block(8)
    updates = await bot.get_updates()
    member = updates[-1].my_chat_member
    assert member.chat.id == 8 and member.new_chat_member.status == "kicked"
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_chat_action(8, ChatAction.TYPING)
    api.user_sends_text(8, "/start")  # writing to the bot again unblocks it
    assert (await bot.send_message(8, "Velkommen tilbake")).chat.id == 8


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    api: TelegramStandIn, bot: Bot
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.3)
    assert not poll.done()
    injected = time.monotonic()
    update_id = api.user_sends_text(3, "hei")
    updates = await asyncio.wait_for(poll, 2)
    assert [u.update_id for u in updates] == [update_id]
    assert time.monotonic() - injected < 0.5

    started = time.monotonic()
    assert await bot.get_updates(offset=update_id + 1, timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 2.0


async def test_a_second_poller_ends_the_first_with_conflict(api: TelegramStandIn, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    async with Bot(TOKEN, base_url=api.base_url) as other_instance:
        assert await other_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 2)


async def test_stop_ends_a_pending_long_poll_quickly() -> None:
    standin = await TelegramStandIn().start()
    async with ClientSession() as client:
        poll = asyncio.create_task(client.get(f"{standin.base_url}1:T/getUpdates?timeout=30"))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await standin.stop()
        assert time.monotonic() - started < 1.0
        response = await asyncio.wait_for(poll, 1)
        assert await response.json() == {"ok": True, "result": []}
        response.release()


# --- updates: webhook ---------------------------------------------------------------------


class Receiver:
    """A tiny bot-side webhook endpoint that fails the first ``failures`` requests."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[str | None, dict[str, Any]]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/hook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()

    async def handle(self, request: web.Request) -> web.Response:
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        self.received.append((secret, await request.json()))
        if self.failures:
            self.failures -= 1
            return web.Response(status=500)
        return web.Response(text="ok")


async def test_webhook_delivers_with_the_secret_and_retries_after_500(
    api: TelegramStandIn, bot: Bot
) -> None:
    api.webhook_retry_delays = (0.05, 0.05, 0.05)
    early = api.user_sends_text(9, "før webhooken")
    async with Receiver(failures=1) as receiver:
        assert await bot.set_webhook(receiver.url, secret_token="s3cret_token-1")
        assert api.webhook_url == receiver.url
        later = api.user_sends_text(9, "hei")
        await api.wait_until(lambda: sum(a.status == 200 for a in api.webhook_attempts) == 2)
        assert sorted(a.status for a in api.webhook_attempts) == [200, 200, 500]
        assert {secret for secret, _ in receiver.received} == {"s3cret_token-1"}
        delivered = [body["update_id"] for _, body in receiver.received]
        assert sorted(set(delivered)) == [early, later] and len(delivered) == 3
        assert receiver.received[-1][1]["message"]["text"] in ("hei", "før webhooken")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        info = await bot.get_webhook_info()
        assert info.url == receiver.url and info.pending_update_count == 0
        assert "500" in (info.last_error_message or "")


async def test_undeliverable_webhook_updates_return_to_polling(
    api: TelegramStandIn, bot: Bot
) -> None:
    api.webhook_retry_delays = (0.05, 0.05)
    async with Receiver() as receiver:
        url = receiver.url
    await bot.set_webhook(url)  # nobody listens there any more: connection refused
    update_id = api.user_sends_text(9, "hallo?")
    await api.wait_until(lambda: len(api.webhook_attempts) == 3, timeout=3)
    assert all(a.status == 0 and a.error for a in api.webhook_attempts)
    await api.wait_until(lambda: not api._webhook_inflight, timeout=3)
    assert (await bot.get_webhook_info()).pending_update_count == 1
    assert await bot.delete_webhook()
    assert [u.update_id for u in await bot.get_updates()] == [update_id]


# --- errors -------------------------------------------------------------------------------


async def test_telegram_errors_become_ptb_exceptions(
    api: TelegramStandIn, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # retry_after as timedelta, without a warning
    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3, times=2)
    for _ in range(2):
        with pytest.raises(RetryAfter) as throttled:
            await bot.send_message(1, "x")
        assert throttled.value.retry_after == timedelta(seconds=3)
    assert (await bot.send_message(1, "x")).text == "x"
    assert api.calls_to("sendMessage")[0].response["parameters"] == {"retry_after": 3}

    api.block(2)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(2, "x")
    assert api.stats.rejected_403 == 1

    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(1, "x" * 4097)
    assert len((await bot.send_message(1, "æ" * 4096)).text) == 4096
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(1, " \n ")
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(1, "x", reply_markup=keyboard([("for lang", "æ" * 33)]))
    with pytest.raises(BadRequest, match="(?i)caption is too long"):
        await bot.send_document(1, b"data", filename="a.txt", caption="c" * 1025)
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message("@nobody", "x")
    api.fail_next("*", 502, "Bad Gateway")
    with pytest.raises(Exception, match="Bad Gateway"):
        await bot.get_me()
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})
    assert api.calls[-1].response == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_parse_modes_render_or_fail_like_telegram(api: TelegramStandIn, bot: Bot) -> None:
    sent = await bot.send_message(1, "<b>Hei</b> Kari &amp; Ola&#33;", parse_mode="HTML")
    assert sent.text == "Hei Kari & Ola!"
    assert api.last_message(1).raw_text == "<b>Hei</b> Kari &amp; Ola&#33;"
    for bad, error in [
        ("1 < 2", "Unsupported start tag"),
        ("linje<br>to", 'Unsupported start tag "br"'),
        ("<b>fet <i>skrå</b></i>", "Unmatched end tag"),
        ("<b>åpen", "Can't find end tag"),
    ]:
        with pytest.raises(BadRequest, match="(?i)can't parse entities") as failure:
            await bot.send_message(1, bad, parse_mode="HTML")
        assert error.lower() in failure.value.message.lower()
    assert (await bot.send_message(1, "*Takk* for svaret\\!", parse_mode="MarkdownV2")).text == (
        "Takk for svaret!"
    )
    with pytest.raises(BadRequest, match="(?i)Character '.' is reserved"):
        await bot.send_message(1, "Takk.", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match="(?i)Can't find end of Bold entity"):
        await bot.send_message(1, "*fet", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match="(?i)Can't find end of the entity"):
        await bot.send_message(1, "fil_navn.csv", parse_mode="Markdown")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(1, "<b>" + "x" * 4097 + "</b>", parse_mode="HTML")
    assert len((await bot.send_message(1, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")).text) == 4096  # fmt: skip


# --- flood limits -------------------------------------------------------------------------


async def test_rapid_sends_to_one_chat_get_429s(api: TelegramStandIn, bot: Bot) -> None:
    api.enforce_limits()  # 30/s overall, 1/s per chat with a burst of 3
    results = await asyncio.gather(
        *(bot.send_message(11, f"m{n}") for n in range(50)), return_exceptions=True
    )
    rejected = [r for r in results if isinstance(r, RetryAfter)]
    accepted = [r for r in results if not isinstance(r, BaseException)]
    assert len(accepted) + len(rejected) == 50
    assert 3 <= len(accepted) <= 4  # the burst (plus at most one refill on a slow machine)
    assert api.stats.sent == len(accepted) and api.stats["rejected_429"] == len(rejected)
    assert api.stats.per_chat[11] == len(accepted)
    assert api.stats.per_chat_429[11] == len(rejected)
    assert api.stats.first_sent_at is not None and api.stats.last_sent_at is not None
    assert api.calls_to("sendMessage")[-1].response["parameters"] == {"retry_after": 1}


async def test_overall_limit_is_a_sliding_window_and_per_chat_a_token_bucket(
    api: TelegramStandIn, bot: Bot
) -> None:
    api.enforce_limits(global_per_second=30, per_chat_per_second=None)
    started = time.monotonic()
    results = await asyncio.gather(
        *(bot.send_message(1000 + n, "Ny runde") for n in range(40)), return_exceptions=True
    )
    elapsed = time.monotonic() - started
    accepted = sum(not isinstance(r, BaseException) for r in results)
    if elapsed < 0.9:
        assert accepted == 30
    assert api.stats.max_in_window(1.0) <= 30

    api.enforce_limits(global_per_second=None, per_chat_per_second=20, per_chat_burst=1)
    await bot.send_message(5, "første")
    with pytest.raises(RetryAfter):
        await bot.send_message(5, "for tidlig")
    await asyncio.sleep(0.06)  # one token refills after 1/20 s
    await bot.send_message(5, "andre")
    api.disable_limits()
    assert len(await asyncio.gather(*(bot.send_message(5, "fritt") for _ in range(10)))) == 10


# --- files, commands, the rest ------------------------------------------------------------


async def test_files_arrive_as_multipart_with_name_and_size(api: TelegramStandIn, bot: Bot) -> None:
    photo = await bot.send_photo(12, photo=PNG, caption="Svarfordeling")
    stored = api.last_message(12)
    assert stored.kind == "photo" and stored.text == "Svarfordeling"
    assert stored.file_size == len(PNG) and stored.filename and stored.file_bytes == PNG
    assert photo.caption == "Svarfordeling" and photo.photo

    document = await bot.send_document(12, document=b"org;svar\n3301;ja\n", filename="svar.csv")
    stored = api.last_message(12)
    assert stored.kind == "document" and stored.filename == "svar.csv" and stored.file_size == 17
    assert document.document.file_name == "svar.csv"
    upload = api.calls_to("sendDocument")[0].params["document"]
    assert upload["filename"] == "svar.csv" and upload["size"] == 17 and "_bytes" not in upload

    await bot.send_document(13, document=document.document.file_id)  # by file_id: no upload
    assert api.last_message(13).filename == "svar.csv"
    with pytest.raises(BadRequest, match="(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(12, photo=b"not an image")


async def test_chat_actions_commands_close_and_log_out(api: TelegramStandIn, bot: Bot) -> None:
    assert await bot.send_chat_action(5, ChatAction.TYPING)
    assert api.chat_actions[-1][:2] == (5, "typing")
    with pytest.raises(BadRequest, match="(?i)wrong parameter action"):
        await bot.send_chat_action(5, "dancing")

    commands = [BotCommand("start", "Start med kode"), BotCommand("status", "Se status")]
    assert await bot.set_my_commands(commands)
    assert await bot.set_my_commands([BotCommand("hjelp", "Hjelp")], language_code="nb")
    scope = BotCommandScopeChat(5)
    assert await bot.set_my_commands([BotCommand("admin", "Admin")], scope=scope)
    assert await bot.get_my_commands() == tuple(commands)
    assert [c.command for c in await bot.get_my_commands(language_code="nb")] == ["hjelp"]
    assert [c.command for c in await bot.get_my_commands(scope=scope)] == ["admin"]
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start", "Store bokstaver")])
    assert await bot.close() and await bot.log_out()


async def test_json_form_and_query_bodies_decode_alike(api: TelegramStandIn) -> None:
    markup = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    url = f"{api.base_url}{TOKEN}"
    async with ClientSession() as client:
        body = {"chat_id": 3, "text": "[1]", "reply_markup": markup}
        async with client.post(f"{url}/sendMessage", json=body) as response:
            assert response.status == 200 and (await response.json())["ok"] is True
        form = {"chat_id": "3", "text": '["a"]', "reply_markup": json.dumps(markup)}
        async with client.post(f"{url}/SENDMESSAGE", data=form) as response:
            assert response.status == 200
        async with client.get(f"{url}/getMe") as response:
            assert (await response.json())["result"]["username"] == "lyttepost_test_bot"
        async with client.post(f"{url}/sendMessage", data=b"{", headers={"Content-Type": "application/json"}) as response:  # fmt: skip
            assert response.status == 400
            assert (await response.json())["description"] == "Bad Request: can't parse JSON object"
    first, second = api.messages_for(3)
    assert (first.text, second.text) == ("[1]", '["a"]')  # text is never JSON-decoded
    assert first.buttons == second.buttons == [[("OK", "ok")]]


async def test_helpers_duplicates_delay_and_timeouts(api: TelegramStandIn, bot: Bot) -> None:
    await bot.send_message(1, "Påminnelse")
    await bot.send_message(1, "Påminnelse")
    await bot.send_message(2, "Påminnelse")
    assert api.duplicates() == [(1, "Påminnelse")]
    api.delay(0.3)
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started >= 0.3
    api.delay(0)
    with pytest.raises(TimeoutError, match="no matching message for chat 1"):
        await api.wait_for_message(1, lambda m: "aldri" in m.text, timeout=0.1)
    waiter = asyncio.create_task(api.wait_for_call("answerCallbackQuery", timeout=2))
    await asyncio.sleep(0.05)
    with pytest.raises(BadRequest):
        await bot.answer_callback_query("unknown")
    assert (await waiter).status == 400


async def test_strict_chats_and_wait_for_change() -> None:
    async with TelegramStandIn(strict_chats=True) as api, Bot("1:T", base_url=api.base_url) as bot:
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.send_message(77, "Ingen har skrevet her")
        since = time.monotonic()
        api.user_sends_text(77, "/start")
        waiter = asyncio.create_task(api.wait_for_change(77, since, within=2))
        sent = await bot.send_message(77, "Hei!")
        changed_at = await waiter
        assert since < changed_at == api.find_message(77, sent.message_id).changed_at
        with pytest.raises(TimeoutError, match="no reply in chat 77"):
            await api.wait_for_change(77, changed_at, within=0.05)
