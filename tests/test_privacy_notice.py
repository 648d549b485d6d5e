"""``/personvern``: who sees the answers, how long they are kept, Telegram and Microsoft as
third parties, and whom to ask for access or erasure; in the welcome and in /hjelp."""

from __future__ import annotations

from datetime import timedelta

from dialogs.commands import MEMBER_COMMANDS
from dialogs.privacy import PrivacyTerms, privacy_notice
from services.contacts import add_contact
from services.invites import issue_code
from services.rounds import Audience, create_round
from services.surveys import latest_version, register_shipped_surveys
from tests.test_conversation import Harness, Member, text_of


def test_the_notice_states_the_terms_in_a_few_lines() -> None:
    text = privacy_notice(PrivacyTerms(contact="personvern@ks.no", raw_days=14)).text
    assert "KS er behandlingsansvarlig" in text
    assert "hvem som svarte" in text and "navnet ditt står aldri der" in text
    assert "24 måneder etter at runden er stengt" in text and "etter 14 dager" in text
    assert "Telegram holder til utenfor EØS" in text and "Microsoft" in text
    assert "send en e-post til personvern@ks.no" in text
    assert len(text.splitlines()) <= 10 and len(text) < 1200  # a few lines, one message
    assert "kontakt KS." in privacy_notice(PrivacyTerms()).text
    ranged = privacy_notice(PrivacyTerms(retention_months=(12, 36), raw_days=1)).text
    assert "12–36 måneder" in ranged and "etter 1 dag." in ranged
    assert {"personvern", "privacy"} <= MEMBER_COMMANDS  # Teams' menu words become commands


async def test_personvern_in_chat_before_and_after_registering(sessions) -> None:
    harness = Harness(sessions)
    harness.conversation.privacy = PrivacyTerms(contact="personvern@ks.no", raw_days=30)
    async with sessions() as session, session.begin():
        await register_shipped_surveys(session)
        kari = await add_contact(session, "3301", "Kari Nordmann", "kommunedirektor", None)
        code = (await issue_code(session, kari.id, harness.clock.now, timedelta(days=60))).code
    member = Member(harness, "100")
    unregistered = text_of(await member.say("/personvern"))
    assert "Personvern i Lyttepost" in unregistered and "personvern@ks.no" in unregistered
    assert "/personvern" in text_of(await member.say("hei"))  # the "not registered" help
    welcome = text_of(await member.say(f"/start {code}"))
    assert "Svarene leses av KS" in welcome and "/personvern" in welcome
    assert "/personvern" in text_of(await member.say("/hjelp"))
    assert "24 måneder" in text_of(await member.say("/personvern"))
    async with sessions() as session, session.begin():  # a round that keeps answers longer
        version = await latest_version(session, "kvartalsvis-behov")
        now = harness.clock.now
        await create_round(
            session, survey_version_id=version.id, title="Lang", audience=Audience(county="33"),
            opens_at=now + timedelta(days=1), closes_at=now + timedelta(days=9),
            retention_months=36,
        )  # fmt: skip
    assert "36 måneder" in text_of(await member.say("/personvern"))
