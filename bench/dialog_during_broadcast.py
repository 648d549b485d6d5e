"""Members answering while a broadcast goes out, under Telegram's flood limits.

The real ``lyttepost run`` process against the Bot API stand-in with Telegram's limits
enforced (30 messages/s overall, 1/s per chat with bursts of 3, 429 beyond them; see
bench/broadcast.py). ``--recipients`` contacts have their own chat (bench/broadcast.py's
``bind_recipients``); ``--answering`` more register with invitation codes, a round opens
for their organisations, and they answer the survey as bench/dialog_latency.py's
respondents do. A few seconds in, an admin sends a broadcast to everyone
(``broadcast create --to all``, ``publications send --yes --no-wait``).

Prints the answers' reply latency (update queued → first reply, on the stand-in's clock)
while the broadcast was being sent and overall, and the broadcast's own figures: messages
delivered, rate and share of 30/s, 429s, lost and duplicated.

    .venv/bin/python bench/dialog_during_broadcast.py [--recipients 5000] [--answering 30]
        [--think 10]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from broadcast import LIMITS, TEXT, bind_recipients, progress  # noqa: E402
from dialog_latency import Respondent, latency_summary  # noqa: E402

from tests.e2e_support import Deployment  # noqa: E402
from tests.telegram_standin import TelegramStandIn  # noqa: E402


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="lyttepost-bench-during-"))
    url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    async with TelegramStandIn() as api:
        api.enforce_limits(**LIMITS)
        deployment = Deployment(
            database_url=url,
            api_base_url=api.base_url,
            workdir=workdir,
            extra_env={"LOG_LEVEL": "WARNING"},
        )
        await asyncio.to_thread(deployment.cli, "db", "upgrade")
        members = await asyncio.to_thread(deployment.cli_json, "members", "list")
        answering = members[: args.answering]
        with (workdir / "contacts.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["org", "name", "role", "email"])
            for member in answering:
                writer.writerow([member["org"], f"Leder {member['org']}", "kommunedirektor", ""])
        await asyncio.to_thread(deployment.cli, "contacts", "import", str(workdir / "contacts.csv"))
        invites = await asyncio.to_thread(deployment.cli_json, "invites", "create", "--all-pending")
        chats = await bind_recipients(url, len(members), args.recipients)
        await asyncio.to_thread(deployment.start)
        try:
            rng = random.Random(11)
            respondents = [
                Respondent(
                    api, 100_000 + i, invite["code"], args.think, random.Random(rng.random())
                )
                for i, invite in enumerate(invites)
            ]
            progress(f"{len(chats)} broadcast recipients; {len(respondents)} members registering")
            await asyncio.gather(*(r.register(i * 0.2) for i, r in enumerate(respondents)))
            for respondent in respondents:
                respondent.latencies = []
            closes = time.strftime("%Y-%m-%d", time.localtime(time.time() + 14 * 86400))
            await asyncio.to_thread(
                deployment.cli, "rounds", "create", "--survey", "kvartalsvis-behov",
                "--closes", closes, "--orgs", ",".join(m["org"] for m in answering),
            )  # fmt: skip
            answers = [asyncio.create_task(r.answer_survey()) for r in respondents]
            stamped: list[tuple[float, float]] = []  # (when asked, latency) of every answer
            original_act = Respondent.act

            async def act(self: Respondent, action: object) -> None:
                asked = time.monotonic()
                await original_act(self, action)  # type: ignore[arg-type]
                stamped.append((asked, self.latencies[-1]))

            Respondent.act = act  # type: ignore[method-assign]
            await asyncio.sleep(args.lead)
            draft = await asyncio.to_thread(
                deployment.cli_json, "broadcast", "create", "--to", "all", "--text", TEXT
            )
            started = time.monotonic()
            await asyncio.to_thread(
                deployment.cli_json, "publications", "send", str(draft["id"]), "--yes", "--no-wait"
            )
            progress(f"broadcast {draft['id']} to {draft['recipients']} sent to the outbox")
            while True:
                await asyncio.sleep(5)
                reached = sum(
                    1 for chat in chats if any(m.text == TEXT for m in api.messages_for(chat))
                )
                finished = sum(task.done() for task in answers)
                progress(f"  {reached}/{len(chats)} reached, {finished}/{len(answers)} submitted")
                if reached == len(chats) and finished == len(answers):
                    break
                if time.monotonic() - started > args.timeout:
                    progress("timed out")
                    break
            broadcast_times = sorted(
                m.sent_at for chat in chats for m in api.messages_for(chat) if m.text == TEXT
            )
            ended = broadcast_times[-1] if broadcast_times else time.monotonic()
            submitted = sum(1 for task in answers if task.done() and task.result())
            for task in answers:
                task.cancel()

        finally:
            deployment.stop()  # also when the bench itself fails: no bot left running
        first = broadcast_times[0] if broadcast_times else started
        span = max(ended - first, 1e-9)
        all_sent = [m.sent_at for msgs in api.messages.values() for m in msgs]
        together = sum(1 for at in all_sent if first <= at <= ended)
        per_chat = [sum(1 for m in api.messages_for(chat) if m.text == TEXT) for chat in chats]
        result_broadcast = {
            "messages_delivered": len(broadcast_times),
            "recipients_reached": sum(1 for n in per_chat if n),
            "lost": sum(1 for n in per_chat if n == 0),
            "duplicated": sum(n - 1 for n in per_chat if n > 1),
            "broadcast_messages_per_s": round(len(broadcast_times) / span, 2),
            "all_messages_per_s_meanwhile": round(together / span, 2),
            "share_of_30_per_s_together": round(together / span / 30, 3),
            "rate_429": api.stats.rejected_429,
            "max_in_any_1s_window": api.stats.max_in_window(1.0),
        }
    during = [latency for asked, latency in stamped if started <= asked <= ended]
    everything = [latency for _, latency in stamped]
    result = {
        "cpus": os.cpu_count(),
        "broadcast_recipients": len(chats),
        "answering_members": len(respondents),
        "submitted": submitted,
        "think_time_mean_s": args.think,
        "answers_during_broadcast": len(during),
        "answer_latency_during_broadcast_ms": latency_summary(during) if during else None,
        "answer_latency_all_ms": latency_summary(everything) if everything else None,
        "slowest_answers": [
            {"asked_s_after_send": round(asked - started, 1), "latency_ms": round(lat * 1000)}
            for asked, lat in sorted(stamped, key=lambda item: -item[1])[:8]
        ],
        "broadcast_s": round(ended - started, 1),
        "broadcast": result_broadcast,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--answering", type=int, default=30)
    parser.add_argument("--think", type=float, default=10.0, help="mean seconds between answers")
    parser.add_argument("--lead", type=float, default=5.0, help="seconds of answering first")
    parser.add_argument("--timeout", type=float, default=900.0)
    asyncio.run(main(parser.parse_args()))
