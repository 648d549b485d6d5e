"""A minimal python-telegram-bot survey bot: the reference bench/ptb_reference.py measures
Lyttepost against (issue 16, "side by side"). Not part of the product; nothing imports it.

It is what a small team would write with PTB alone: an ``Application`` polling for updates,
``/start CODE`` checked against a table of codes, and the quarterly survey
(dialogs/surveys/kvartalsvis-behov.yaml, in bokmål only) as a ``ConversationHandler`` with a
state per question, answers in ``context.user_data`` and a ``PicklePersistence``. It speaks
the same button payloads as Lyttepost (``a:``, ``t:``, ``n:``, ``c:submit`` ...), so the
benchmark's simulated members drive both bots with the same code. SIGUSR1 sends every
registered member the invitation, like opening a round does in Lyttepost.

    .venv/bin/python bench/ptb_reference_bot.py --base-url URL --codes CODES.json
        --pickle FILE [--persist-every 60] [--concurrent 1]

``--codes`` is a JSON object {code: organisation}. ``--persist-every`` is PTB's
``update_interval`` (its default, 60 s: data changed since is lost in a crash, where
Lyttepost commits every event). ``--concurrent`` > 1 lets PTB handle that many updates at
once (its default, 1, keeps a chat's updates in order, which ConversationHandler relies on).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)
from telegram.warnings import PTBUserWarning

Context = ContextTypes.DEFAULT_TYPE
TOKEN = "123456:TEST-TOKEN"
CHECKED, UNCHECKED = "☑", "☐"
REVIEW = "review"

AREAS = {
    "digitalisering": "Digitalisering",
    "okonomi": "Økonomi og handlingsrom",
    "struktur": "Kommunestruktur og samarbeid",
    "oppvekst": "Oppvekst og utdanning",
    "helse": "Helse og omsorg",
    "arbeidsgiver": "Arbeidsgiverpolitikk, rekruttering og ledelse",
    "annet": "Annet (noe som ikke står her)",
}
SCALE = {str(n): str(n) for n in range(1, 6)}
YES_NO = {"ja": "Ja", "nei": "Nei"}


@dataclass(frozen=True)
class Question:
    id: str
    type: str  # multi | single | scale | yesno | text
    text: str
    options: dict[str, str] | None = None
    required: bool = True
    per_area: bool = False  # asked once for each chosen area


QUESTIONS = {
    q.id: q
    for q in (
        Question("omrader", "multi", "Hvilke områder er viktigst for {org} å få hjelp med nå? "
                 "Velg ett til tre.", AREAS),
        Question("behov", "text", "{area}: Hva er det viktigste behovet dere har her? Beskriv "
                 "det med egne ord.", per_area=True),
        Question("haster", "scale", "{area}: Hvor mye haster det å få løst dette behovet? "
                 "(1 kan vente, 5 svært akutt)", SCALE, per_area=True),
        Question("losning", "single", "{area}: Hvem trenger {org} for å løse dette?",
                 {"alene": "Vi kan løse det alene", "naboer": "Med nabokommuner eller regionen",
                  "ks": "Vi trenger KS", "staten": "Vi trenger staten"}, per_area=True),
        Question("fra_ks", "multi", "Hva ønsker dere mest fra KS fremover? Velg opptil tre.",
                 {"interesse": "Interessepolitikk overfor staten",
                  "kunnskap": "Kunnskap og analyse", "nettverk": "Nettverk og erfaringsdeling",
                  "verktoy": "Verktøy og metoder", "kompetanse": "Kompetanseutvikling"}),
        Question("fornoyd", "scale", "Hvor fornøyd har {org} vært med KS som utviklingspartner "
                 "det siste kvartalet? (1 lite, 5 svært)", SCALE),
        Question("fornoyd_hvorfor", "text", "Hva kunne KS gjort bedre for dere det siste "
                 "kvartalet?", required=False),
        Question("kontakt", "yesno", "Kan KS kontakte deg for å høre mer om behovene dere har "
                 "beskrevet?", YES_NO),
        Question("navngi", "yesno", "Kan KS vise det dere har skrevet med egne ord, med navnet "
                 "{org}, i oppsummeringen som deles med medlemmene?", YES_NO, required=False),
        Question("annet", "text", "Er det noe annet du vil si til KS? (Valgfritt)",
                 required=False),
    )
}  # fmt: skip


def path(answers: dict[str, Any]) -> list[str]:
    """The steps this member is asked, in order: "question" or "question:area"."""
    steps = ["omrader"]
    for area in answers.get("omrader", []):
        steps += [f"behov:{area}", f"haster:{area}", f"losning:{area}"]
    steps += ["fra_ks", "fornoyd"]
    if int(answers.get("fornoyd", "5")) <= 2:
        steps.append("fornoyd_hvorfor")
    return [*steps, "kontakt", "navngi", "annet"]


def question_of(step: str) -> Question:
    return QUESTIONS[step.split(":", 1)[0]]


def render(step: str, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    """The message for one step: its text, answer buttons, then back / skip / pause."""
    question = question_of(step)
    area = AREAS.get(step.partition(":")[2], "")
    number = path(data["answers"]).index(step) + 1
    text = f"{number}. " + question.text.format(org=data["org"], area=area)
    rows: list[list[InlineKeyboardButton]] = []
    options = question.options or {}
    if question.type == "multi":
        chosen = data["selection"]
        rows += [
            [InlineKeyboardButton(f"{CHECKED if v in chosen else UNCHECKED} {label}",
                                  callback_data=f"t:{question.id}:{v}")]
            for v, label in options.items()
        ]  # fmt: skip
        rows.append([InlineKeyboardButton("Neste", callback_data=f"n:{question.id}")])
    elif question.type == "scale" or question.type == "yesno":
        rows.append(
            [InlineKeyboardButton(label, callback_data=f"a:{question.id}:{v}") for v, label in options.items()]
        )  # fmt: skip
    elif question.type == "single":
        rows += [
            [InlineKeyboardButton(label, callback_data=f"a:{question.id}:{v}")]
            for v, label in options.items()
        ]
    controls = []
    if number > 1:
        controls.append(InlineKeyboardButton("Tilbake", callback_data="c:back"))
    if not question.required:
        controls.append(InlineKeyboardButton("Hopp over", callback_data="c:skip"))
    controls.append(InlineKeyboardButton("Pause", callback_data="c:pause"))
    return text, InlineKeyboardMarkup([*rows, controls])


def shown(step: str, answer: Any) -> str:
    options = question_of(step).options or {}
    if isinstance(answer, list):
        return ", ".join(options[v] for v in answer)
    return options.get(answer, answer) if answer is not None else "(hoppet over)"


async def ask(update: Update, context: Context, step: str) -> str:
    """Send the step's question (or the review after the last one); the state to be in."""
    data = context.user_data
    assert data is not None and update.effective_chat is not None
    data["at"] = step
    if step == REVIEW:
        lines = ["Se over svarene:", ""]
        lines += [f"{i}. {s}: {shown(s, data['answers'].get(s))}"
                  for i, s in enumerate(path(data["answers"]), start=1)]  # fmt: skip
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton("Send inn", callback_data="c:submit"),
              InlineKeyboardButton("Pause", callback_data="c:pause")]]
        )  # fmt: skip
        await update.effective_chat.send_message("\n".join(lines), reply_markup=keyboard)
        return REVIEW
    data["selection"] = list(data["answers"].get(step, []))
    text, keyboard = render(step, data)
    await update.effective_chat.send_message(text, reply_markup=keyboard)
    return question_of(step).id


def following(data: dict[str, Any], step: str) -> str:
    steps = path(data["answers"])
    index = steps.index(step)
    return steps[index + 1] if index + 1 < len(steps) else REVIEW


async def record(update: Update, context: Context, answer: Any) -> str:
    """Store the answer to the current step, show it under the question, ask the next."""
    data = context.user_data
    assert data is not None
    step = data["at"]
    data["answers"][step] = answer
    query = update.callback_query
    if query is not None:
        await query.answer()
        text = query.message.text if query.message and hasattr(query.message, "text") else ""
        await query.edit_message_text(f"{text}\n\nSvar: {shown(step, answer)}")
    return await ask(update, context, following(data, step))


# --- handlers ------------------------------------------------------------------------------


async def register(update: Update, context: Context) -> None:
    """/start CODE: a valid, unused code ties this chat to its organisation."""
    assert update.message is not None and context.user_data is not None
    codes: dict[str, str] = context.bot_data["codes"]
    used: set[str] = context.bot_data.setdefault("used", set())
    code = (context.args or [""])[0].strip().upper()
    if code not in codes or code in used:
        await update.message.reply_text("Koden er ukjent eller brukt. Sjekk invitasjonen.")
        return
    used.add(code)
    context.user_data["org"] = codes[code]
    await update.message.reply_text(
        f"Takk! Du er registrert for {codes[code]}. Du får undersøkelsen her når den åpner."
    )


async def invite_all(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Like opening a round: one invitation with a start button to each registered member."""
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Start", callback_data="r:1")]])
    for user_id, data in list(application.user_data.items()):
        if "org" in data:
            await application.bot.send_message(
                user_id,
                f"Kvartalsvis behovsinnhenting: hva trenger {data['org']} mest nå?",
                reply_markup=keyboard,
            )


async def begin(update: Update, context: Context) -> str | int:
    query, data = update.callback_query, context.user_data
    assert query is not None and data is not None
    await query.answer()
    if "org" not in data or data.get("submitted"):
        await query.edit_message_text("Denne undersøkelsen er ikke åpen for deg.")
        return ConversationHandler.END
    await query.edit_message_reply_markup(None)
    data["answers"] = {}
    return await ask(update, context, "omrader")


async def resume(update: Update, context: Context) -> str | int:
    data = context.user_data
    assert data is not None and update.message is not None
    if "answers" not in data or data.get("submitted"):
        await update.message.reply_text("Du har ingen undersøkelse på pause.")
        return ConversationHandler.END
    return await ask(update, context, data["at"])


async def toggle(update: Update, context: Context) -> str:
    query, data = update.callback_query, context.user_data
    assert query is not None and query.data is not None and data is not None
    value = query.data.rsplit(":", 1)[1]
    chosen: list[str] = data["selection"]
    if value in chosen:
        chosen.remove(value)
    elif len(chosen) < 3:
        chosen.append(value)
    else:
        await query.answer("Velg opptil tre.", show_alert=True)
        return question_of(data["at"]).id
    await query.answer()
    await query.edit_message_reply_markup(render(data["at"], data)[1])
    return question_of(data["at"]).id


async def next_(update: Update, context: Context) -> str:
    query, data = update.callback_query, context.user_data
    assert query is not None and data is not None
    if not data["selection"]:
        await query.answer("Velg minst ett.", show_alert=True)
        return question_of(data["at"]).id
    return await record(update, context, list(data["selection"]))


async def choose(update: Update, context: Context) -> str:
    assert update.callback_query is not None and update.callback_query.data is not None
    return await record(update, context, update.callback_query.data.rsplit(":", 1)[1])


async def typed(update: Update, context: Context) -> str:
    assert update.message is not None and update.message.text is not None
    text = update.message.text.strip()
    if len(text) > 800:
        await update.message.reply_text("Svaret er for langt (høyst 800 tegn).")
        assert context.user_data is not None
        return question_of(context.user_data["at"]).id
    return await record(update, context, text)


async def control(update: Update, context: Context) -> str | int:
    """Back, skip and pause, from any question; a stale button just shows the question again."""
    query, data = update.callback_query, context.user_data
    assert query is not None and data is not None
    action = query.data or ""
    if "at" not in data:
        await query.answer("Denne knappen er utløpt.")
        return ConversationHandler.END
    if action == "c:pause":
        await query.answer()
        await query.edit_message_text("Pause. Skriv /svar for å fortsette der du slapp.")
        return ConversationHandler.END
    if action == "c:skip" and data["at"] != REVIEW and not question_of(data["at"]).required:
        return await record(update, context, None)
    await query.answer()
    steps = path(data["answers"])
    at = data["at"]
    if action == "c:back":
        index = len(steps) if at == REVIEW else steps.index(at)
        return await ask(update, context, steps[max(0, index - 1)])
    return await ask(update, context, at)


async def submit(update: Update, context: Context) -> int:
    query, data = update.callback_query, context.user_data
    assert query is not None and data is not None
    await query.answer()
    context.bot_data.setdefault("responses", {})[data["org"]] = dict(data["answers"])
    data["submitted"] = True
    await query.edit_message_text(
        f"Takk! Svaret fra {data['org']} er sendt inn. KS deler oppsummeringen når runden er over."
    )
    return ConversationHandler.END


def handlers_for(question: Question) -> list[Any]:
    if question.type == "multi":
        return [CallbackQueryHandler(toggle, pattern=r"^t:"), CallbackQueryHandler(next_, pattern=r"^n:")]  # fmt: skip
    if question.type == "text":
        return [MessageHandler(filters.TEXT & ~filters.COMMAND, typed)]
    return [CallbackQueryHandler(choose, pattern=r"^a:")]


def build(args: argparse.Namespace) -> Application[Any, Any, Any, Any, Any, Any]:
    persistence = PicklePersistence(args.pickle, update_interval=args.persist_every)
    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(args.base_url)
        .persistence(persistence)
        .concurrent_updates(args.concurrent if args.concurrent > 1 else False)
        .post_init(lambda app: on_start(app, args))
        .build()
    )
    survey = ConversationHandler(
        entry_points=[CallbackQueryHandler(begin, pattern=r"^r:"), CommandHandler("svar", resume)],
        states={
            **{q.id: handlers_for(q) for q in QUESTIONS.values()},
            REVIEW: [CallbackQueryHandler(submit, pattern=r"^c:submit$")],
        },
        fallbacks=[CallbackQueryHandler(control)],
        name="survey",
        persistent=True,
        allow_reentry=True,
    )
    application.add_handler(survey)
    application.add_handler(CommandHandler("start", register))
    return application


async def on_start(application: Application[Any, Any, Any, Any, Any, Any], args: argparse.Namespace) -> None:  # fmt: skip
    application.bot_data["codes"] = json.loads(Path(args.codes).read_text(encoding="utf-8"))
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(
        signal.SIGUSR1, lambda: application.create_task(invite_all(application))
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", required=True, help="the Bot API's base URL (…/bot)")
    parser.add_argument("--codes", required=True, help="JSON file {code: organisation}")
    parser.add_argument("--pickle", required=True, help="PicklePersistence's file")
    parser.add_argument("--persist-every", type=float, default=60.0)
    parser.add_argument("--concurrent", type=int, default=1)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=PTBUserWarning)  # per_message=False is meant
    build(args).run_polling(poll_interval=0.0, timeout=10)


if __name__ == "__main__":
    main()
