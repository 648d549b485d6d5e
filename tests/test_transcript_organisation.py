# ruff: noqa: F811  (world is the conversation tests' fixture, imported)
"""A transcript of the organisation answering across two rounds, on both databases.

Kari (kommunedirektør in Drammen) lets Ola answer for her (a delegate), her colleague Per
takes the started response over and sends it in, changes an answer after submitting,
Kari is replaced by Nina (a handover), and in the next round Nina confirms last round's
answers with "Ja, fortsatt riktig". Every person acts only on the newest message in
their chat (an edit of an older message is not new): a button pressed must be on it.
The transcript is printed (``pytest -s``) and checked line by line for what matters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from dialogs.messages import OutgoingMessage
from services import lifecycle
from services.export import round_export
from services.organisation import NewPerson, replace_contact
from storage.orm import Contact, Response, ResponseVersion, Round
from tests.shipped_walk import Member as Walker
from tests.test_conversation import (  # noqa: F401  (world is a fixture)
    Harness,
    Member,
    open_new_round,
    world,
)

AREAS = ("helse", "digitalisering")


@dataclass
class Person:
    """A named member in one chat who reads only the newest message there."""

    name: str
    chat: Member
    log: list[str] = field(default_factory=list)

    def newest(self) -> OutgoingMessage:
        """The last message that arrived as new (edits change older messages in place)."""
        sent = self.chat.harness.sent.get(self.chat.address, [])
        return next(m for m in reversed(sent) if not m.edit_only)

    def payloads(self) -> list[str]:
        return [b.payload for b in self.newest().all_buttons()]

    async def say(self, text: str) -> str:
        """Write ``text``; returns what came back as new messages."""
        self.log.append(f"{self.name}: {text}")
        return self._record(await self.chat.say(text))

    async def press(self, payload: str) -> str:
        """Press a button of the newest message; returns what came back as new messages."""
        newest = self.newest()
        label = next((b.label for b in newest.all_buttons() if b.payload == payload), None)
        assert label is not None, f"{self.name} must scroll for {payload!r}: {newest.text!r}"
        self.log.append(f"{self.name} [{label}]")
        return self._record(await self.chat.press(payload))

    def _record(self, replies: list[OutgoingMessage]) -> str:
        for reply in replies:
            kind = " (endret)" if reply.edit_only else ""
            first = reply.text.strip().splitlines()[0] if reply.text.strip() else ""
            self.log.append(f"  bot→{self.name}{kind}: {first}")
        return "\n".join(reply.text for reply in replies if not reply.edit_only)

    async def walk_to_receipt(self, walker: Walker, *, keep: bool = False) -> tuple[str, int]:
        """Answer from the newest message until the receipt; ``keep``: "Ja, fortsatt riktig"
        wherever it is offered. Returns the receipt and the number of presses and texts."""
        moves = 0
        for _ in range(60):
            payloads = self.payloads()
            if not payloads:
                return self.newest().text, moves
            keeps = [p for p in payloads if p.startswith("k:")]
            moves += 1
            if keep and keeps:
                await self.press(keeps[0])
                continue
            action, value = walker.next_move(self.newest().text, payloads)
            if action == "press":
                await self.press(value)
            else:
                await self.say(value)
        raise AssertionError(f"{self.name} never reached the receipt")


def code_in(text: str) -> str:
    """The code a reply shows (the word after «...: »)."""
    return text.split(": ", 1)[1].split()[0]


async def test_delegate_takeover_edit_handover_and_still_true(world) -> None:
    harness, code_kari, code_per = world
    transcript: list[str] = []

    def person(name: str, address: str) -> Person:
        return Person(name, Member(harness, address), transcript)

    kari, per, ola = person("Kari", "100"), person("Per", "200"), person("Ola", "300")
    await kari.say(f"/start {code_kari}")
    await per.say(f"/start {code_per}")
    first_round = await open_new_round(harness)
    await harness.collect("100")

    # A delegate: Kari's /deleger gives a code; Ola pastes it and answers "på vegne av".
    issued = await kari.say("/deleger Ola Delegat")
    welcome = await ola.say(code_in(issued))
    assert "på vegne av Drammen" in welcome
    await ola.press(f"r:{first_round}")
    assert ola.payloads()
    walker = Walker(areas=AREAS)
    for _ in range(3):
        action, value = walker.next_move(ola.newest().text, ola.payloads())
        await (ola.press(value) if action == "press" else ola.say(value))  # noqa: RUF100
    await harness.collect("100")
    assert "Ola Delegat har begynt" in kari.chat.harness.sent["100"][-1].text

    # A takeover: Per meets Ola's started response and takes it over; nothing is lost.
    offer = await per.say("/svar")
    assert "Ola Delegat har allerede begynt" in offer
    take = next(p for p in per.payloads() if p.startswith("org:"))
    await per.press(take)
    assert per.payloads()  # Per goes on from the question Ola had reached
    await harness.collect("300")
    assert "Per Hansen har tatt over" in harness.sent["300"][-1].text
    receipt, _ = await per.walk_to_receipt(walker)
    assert "Takk" in receipt and "Dere kan endre svarene til" in receipt

    # An edit after submitting: /svar shows the review with «Endre»; a new version is kept.
    review = await per.say("/svar")
    edits = [p for p in per.payloads() if p.startswith("e:")]
    assert edits and "c:submit" in per.payloads(), review
    await per.press(next(p for p in edits if p == "e:fornoyd"))
    await per.press(next(p for p in per.payloads() if p.startswith("a:fornoyd:5")))
    changed = await per.press("c:submit")
    assert "Endringene er sendt inn" in changed
    async with harness.sessions() as session:
        versions = list(await session.scalars(select(ResponseVersion.number)))
        response = await session.scalar(select(Response).where(Response.round_id == first_round))
        assert response is not None and response.state["answers"]["fornoyd"] == 5
    assert sorted(versions) == [1, 2]

    # A handover: Kari leaves, Nina comes; Kari's chat is told and unbound.
    async with harness.sessions() as session, session.begin():
        kari_id = await session.scalar(select(Contact.id).where(Contact.name == "Kari Nordmann"))
        assert kari_id is not None
        done = await replace_contact(
            session, kari_id, NewPerson("Nina Ny", None, None),
            harness.clock.now, timedelta(days=60), "test",
        )  # fmt: skip
    await harness.collect("100")
    farewell = harness.sent["100"][-1].text
    transcript.append(f"  bot→Kari: {farewell.splitlines()[0]}")
    assert "Nina Ny som ny kontaktperson" in farewell
    assert done.code is not None
    nina = person("Nina", "400")
    assert "Velkommen, Nina Ny" in await nina.say(f"/start {done.code}")

    # The next quarter: the first round closes, a new one opens on the same survey, and
    # Nina confirms last round's answers with one press each.
    harness.clock.now += timedelta(days=15)
    async with harness.sessions() as session, session.begin():
        closing = await session.get(Round, first_round)
        assert closing is not None
        await lifecycle.close_round(
            session, closing, harness.clock.now, harness.conversation.catalog, actor="test"
        )
    second_round = await open_new_round(harness)
    await harness.collect("400")
    prompt = await nina.say("/svar")
    assert "Sist svarte dere" in prompt and "Er det fortsatt riktig?" in prompt
    receipt, moves = await nina.walk_to_receipt(Walker(areas=AREAS), keep=True)
    assert "Takk" in receipt
    # One press per question and one to send in: well under two minutes at a few seconds
    # a press (15 questions at most with three areas; two here).
    assert moves <= 16, moves
    async with harness.sessions() as session:
        _, documents = await round_export(session, harness.conversation.catalog, second_round)
    (document,) = documents
    assert document["contact_name"] == "Nina Ny"
    assert all(answer["unchanged"] for answer in document["answers"]), document["answers"]

    print("\n".join(transcript))  # noqa: T201  (the transcript, for pytest -s)
    text = "\n".join(transcript)
    for expected in ("Kari: /deleger Ola Delegat", "Per [", "Per: /svar", "Nina: /svar"):
        assert expected in text
