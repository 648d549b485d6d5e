# ruff: noqa: F811  (world is the conversation tests' fixture, imported)
"""A transcript of one need, on both databases: from a member's answer in chat, to KS's
action (made and linked with ``lyttepost actions`` in a real process), to the notice in
that organisation's chat naming the need, to ``/tiltak`` and ``/arshjul``, and to one more
notice when the action's status changes (and none when nothing new happened).

The transcript is printed (``pytest -s``) and checked for what matters.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from dialogs.action_texts import shorten
from services import lifecycle
from services.views_needs import all_needs
from storage.orm import Round
from tests.e2e_support import Deployment
from tests.shipped_walk import Member as Walker
from tests.test_conversation import (  # noqa: F401  (world is a fixture)
    Member,
    open_new_round,
    world,
)
from tests.test_transcript_organisation import Person

NEED = (
    "Vi får ikke rekruttert nok sykepleiere til hjemmetjenesten, og vikarbyråene tar en "
    "stadig større del av budsjettet til pleie og omsorg i kommunen vår"
)


async def answer_with_need(person: Person, walker: Walker) -> str:
    """Answer the survey from the newest message; the need question gets ``NEED``."""
    for _ in range(60):
        payloads = person.payloads()
        if not payloads:
            return person.newest().text
        text = person.newest().text
        if "viktigste behovet" in text:
            await person.say(NEED)
            continue
        action, value = walker.next_move(text, payloads)
        await (person.press(value) if action == "press" else person.say(value))  # noqa: RUF100
    raise AssertionError("never reached the receipt")


async def test_one_need_from_an_answer_to_an_action_and_back(
    world, migrated_url: str, tmp_path: Path
) -> None:
    harness, code_kari, _ = world
    transcript: list[str] = []
    kari = Person("Kari", Member(harness, "100"), transcript)
    await kari.say(f"/start {code_kari}")
    round_id = await open_new_round(harness)
    await harness.collect("100")
    await kari.press(f"r:{round_id}")
    receipt = await answer_with_need(kari, Walker(areas=("helse",)))
    assert "Takk" in receipt
    assert "ikke knyttet noen tiltak" in await kari.say("/tiltak")

    # The round closes; KS staff find the need in the needs browser and act on it.
    harness.clock.now += timedelta(days=15)
    async with harness.sessions() as session, session.begin():
        closing = await session.get(Round, round_id)
        assert closing is not None
        await lifecycle.close_round(
            session, closing, harness.clock.now, harness.conversation.catalog, actor="test"
        )
    async with harness.sessions() as session:
        (need,) = await all_needs(session, harness.conversation.catalog, round_id)
    assert need.text == NEED and need.area_label == "Helse og omsorg"

    staff = Deployment(
        database_url=migrated_url,
        api_base_url="http://127.0.0.1:9/bot",
        workdir=tmp_path,
    )
    created = staff.cli_json(
        "actions", "create", "Rekrutteringsløft i helse og omsorg",
        "--unit", "KS Arbeidsgiverpolitikk", "--starts", "2027-04-01",
    )  # fmt: skip
    action = str(created["id"])
    transcript.append(f"KS: lyttepost actions create → tiltak {action}")
    linked = staff.cli_json("actions", "link", action, "--needs", need.key.token)
    transcript.append(f"KS: lyttepost actions link {action} --needs {need.key.token}")
    assert linked["organisations_told"] == 1

    # The notice in Drammen's chat names Drammen's own need, shortened.
    (notice,) = await harness.collect("100")
    transcript.append(f"  bot→Kari: {notice.text.splitlines()[0]}")
    assert (
        f"I runden «Behov Q4» meldte dere behov om «{shorten(NEED)}» (Helse og omsorg)."
        in notice.text
    )
    assert (
        "KS har planlagt et tiltak som skal svare på dette: «Rekrutteringsløft i helse og omsorg»."
        in notice.text
    )
    assert "/tiltak" in notice.text and len(shorten(NEED)) <= 120 < len(NEED)

    listed = await kari.say("/tiltak")
    assert "• «Rekrutteringsløft i helse og omsorg» – planlagt" in listed
    assert f"Svarer på: «{shorten(NEED)}» (Helse og omsorg, runden «Behov Q4»)" in listed
    assert "Ansvarlig i KS: KS Arbeidsgiverpolitikk · fra 1. april 2027" in listed
    wheel = await kari.say("/arshjul")
    assert (
        "Dette gjør KS med innspillene:\n  – «Rekrutteringsløft i helse og omsorg» (planlagt)"
        in wheel
    )

    # The status changes: one more notice; the same status again tells no one.
    status = staff.cli_json("actions", "status", action, "in_progress")
    transcript.append(f"KS: lyttepost actions status {action} in_progress")
    assert status["organisations_told"] == 1
    (started,) = await harness.collect("100")
    transcript.append(f"  bot→Kari: {started.text.splitlines()[1]}")
    assert started.text.startswith(f"I runden «Behov Q4» meldte dere behov om «{shorten(NEED)}»")
    assert "KS har startet: «Rekrutteringsløft i helse og omsorg»." in started.text
    assert "• «Rekrutteringsløft i helse og omsorg» – i gang" in await kari.say("/tiltak")
    assert staff.cli_json("actions", "status", action, "i gang")["organisations_told"] == 0
    assert staff.cli_json("actions", "link", action, "--needs", need.key.token)["needs"] == []
    assert await harness.collect("100") == []

    print("\n".join(transcript))  # noqa: T201  (the transcript, for pytest -s)
    text = "\n".join(transcript)
    for expected in ("Kari: /tiltak", "Kari: /arshjul", "bot→Kari: I runden «Behov Q4»",
                     "bot→Kari: KS har startet"):  # fmt: skip
        assert expected in text
