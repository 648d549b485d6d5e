"""The console cannot edit a printed message: an answered question shows as one short
line, and the numbered buttons of the question on screen stay as they were."""

from __future__ import annotations

from bot.console import ConsoleTransport
from dialogs.messages import Button, OutgoingMessage


async def test_an_edit_only_message_prints_one_line_and_keeps_the_buttons() -> None:
    lines: list[str] = []
    console = ConsoleTransport(write=lines.append)
    question = OutgoingMessage(
        text="Spørsmål 1 · om lag 2 igjen\nEnig?",
        buttons=((Button(label="Ja", payload="a:q:ja"), Button(label="Nei", payload="a:q:nei")),),
        key="q:q",
    )
    sent_id = await console.deliver("c", question, None)
    answered = OutgoingMessage(text="Enig?\n\n✓ Svar: Ja", replaces="q:q", edit_only=True)
    assert await console.deliver("c", answered, sent_id) == sent_id
    assert lines[-1] == "   ✓ Svar: Ja"
    assert console.last_message == question and console.press_for("2") == "a:q:nei"
