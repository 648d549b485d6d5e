"""A synthetic, deterministic survey round for the report tests and ``bench/report.py``.

``generate_answers`` gives every member a plausible set of answers to the shipped
survey (seeded, so the same seed always gives the same round), including answers an
edit left behind (a deselected area's follow-ups, "who" after "alone" became yes, a
reason after satisfaction went up): the report must ignore those. ``seed_report_round``
writes a round with those answers straight into the database through the ORM.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.definition import load_survey_file, shipped_survey_files
from dialogs.model import AnswerValue, Survey
from dialogs.state import ResponseState
from reports.summary import OrgFacts
from services.surveys import register_survey_file
from storage.orm import Contact, Organisation, Response, Round, RoundOrganisation
from storage.seed import reference_members

SURVEY_KEY = "kvartalsvis-behov"
ROUND_TITLE = "Behovsinnhenting 1. kvartal 2030"
CLOSES_AT = datetime(2030, 2, 1, 22, 59, tzinfo=UTC)  # 23:59 Oslo time
OPENS_AT = CLOSES_AT - timedelta(days=18)

AREA_WEIGHTS = {
    "okonomi": 9,
    "digitalisering": 7,
    "arbeidsgiver": 6,
    "helse": 5,
    "oppvekst": 3,
    "struktur": 1,
}
# Chance that an organisation can solve a need in the area on its own.
ALONE_CHANCE = {
    "okonomi": 0.2,
    "digitalisering": 0.45,
    "arbeidsgiver": 0.6,
    "helse": 0.3,
    "oppvekst": 0.7,
    "struktur": 0.1,
}
HELPERS = ("ks", "naboer", "fylke", "staten", "andre")
FRA_KS_WEIGHTS = {"interesse": 8, "kunnskap": 6, "nettverk": 5, "verktoy": 3, "kompetanse": 2}
SATISFACTION_WEIGHTS = (1, 2, 5, 8, 4)  # for 1..5
NEED_PHRASES = (
    "Vi trenger bedre verktøy for planlegging",
    "Det mangler fagfolk med riktig kompetanse",
    "Rammene strekker ikke til for økt etterspørsel",
    "Vi ønsker felles løsninger med andre",
    "Regelverket er uklart og tar tid å tolke",
    "Vi trenger støtte til å gjennomføre endringer",
    "Samhandlingen med staten må bli enklere",
    "Det er behov for bedre data og analyser",
)
COMMENTS = (
    "Mer kontakt med administrasjonen lokalt",
    "Raskere svar på henvendelser",
    "Tydeligere prioriteringer i interessepolitikken",
    "Flere nettverk for små kommuner",
)
STALE = "Gammelt svar som ikke skal telle"


PREVIOUS_SURVEY = Path(__file__).resolve().parent / "fixtures" / "surveys" / f"{SURVEY_KEY}-v2.yaml"


def shipped_survey() -> Survey:
    """The survey these report tests were written for: the shipped file as it was before
    its third version (yes/no "alone" and a list of helpers), which rounds opened on it
    keep using; reports must keep reading it."""
    return load_survey_file(PREVIOUS_SURVEY)


def current_survey() -> Survey:
    """The compiled shipped survey (the version a fresh database registers)."""
    return load_survey_file(next(p for p in shipped_survey_files() if p.stem == SURVEY_KEY))


def member_facts() -> list[OrgFacts]:
    """The 371 members as the report sees them, ordered by code."""
    return sorted(
        (
            OrgFacts(m.code, m.name, m.county_code, m.county_name, kind=m.kind)
            for m in reference_members()
        ),
        key=lambda org: org.code,
    )


def _weighted_sample(rng: random.Random, weights: Mapping[str, int], k: int) -> list[str]:
    pool = dict(weights)
    picked = []
    for _ in range(k):
        value = rng.choices(list(pool), weights=list(pool.values()))[0]
        picked.append(value)
        del pool[value]
    return picked


def generate_answers(codes: Sequence[str], seed: int = 2030) -> dict[str, dict[str, AnswerValue]]:
    """Answers (as stored in a response's state) for every code, deterministically."""
    rng = random.Random(seed)
    everything: dict[str, dict[str, AnswerValue]] = {}
    for index, code in enumerate(codes):
        answers: dict[str, AnswerValue] = {}
        areas = _weighted_sample(rng, AREA_WEIGHTS, rng.randint(1, 3))
        answers["omrader"] = areas
        for area in areas:
            prefix = f"omrader.{area}"
            answers[f"{prefix}.behov"] = f"{rng.choice(NEED_PHRASES)} (nr. {rng.randint(1, 40)})"
            answers[f"{prefix}.haster"] = rng.choices(range(1, 6), weights=(1, 2, 4, 4, 2))[0]
            alone = rng.random() < ALONE_CHANCE[area]
            answers[f"{prefix}.alene"] = alone
            if not alone:
                answers[f"{prefix}.hvem"] = rng.sample(HELPERS, rng.randint(1, 3))
            elif index % 7 == 0:
                answers[f"{prefix}.hvem"] = ["andre"]  # left behind: alone became yes
        if index % 10 == 3:  # left behind: an area chosen, answered, then deselected
            dropped = next(a for a in AREA_WEIGHTS if a not in areas)
            answers[f"omrader.{dropped}.behov"] = STALE
            answers[f"omrader.{dropped}.haster"] = 5
            answers[f"omrader.{dropped}.alene"] = False
        answers["fra_ks"] = _weighted_sample(rng, FRA_KS_WEIGHTS, rng.randint(1, 3))
        satisfaction = rng.choices(range(1, 6), weights=SATISFACTION_WEIGHTS)[0]
        answers["fornoyd"] = satisfaction
        if satisfaction <= 2:
            answers["fornoyd_hvorfor"] = rng.choice(COMMENTS) if rng.random() < 0.7 else None
        elif index % 11 == 0:
            answers["fornoyd_hvorfor"] = STALE  # left behind: satisfaction went up
        answers["kontakt"] = rng.random() < 0.65
        answers["navngi"] = rng.random() < 0.4
        roll = rng.random()
        if roll < 0.2:
            answers["annet"] = f"{rng.choice(COMMENTS)}, takk for nå"
        elif roll < 0.6:
            answers["annet"] = None  # skipped
        everything[code] = answers
    return everything


async def seed_report_round(
    session: AsyncSession,
    answers_by_code: Mapping[str, Mapping[str, AnswerValue]],
    *,
    statuses: Mapping[str, str] | None = None,
    title: str = ROUND_TITLE,
) -> int:
    """A closed round for all members with one response per code in ``answers_by_code``.

    Responses are submitted unless ``statuses`` says otherwise (``in_progress`` or
    ``incomplete``); the members must already be seeded. Returns the round id.
    """
    version = (await register_survey_file(session, PREVIOUS_SURVEY)).version
    round_ = Round(
        survey_version_id=version.id,
        title=title,
        status="closed",
        audience={"kind": "all"},
        opens_at=OPENS_AT,
        closes_at=CLOSES_AT,
        opened_at=OPENS_AT,
        closed_at=CLOSES_AT,
    )
    session.add(round_)
    organisations = list(await session.scalars(select(Organisation)))
    orgs = {row.code: row for row in organisations}
    contacts = {
        code: Contact(organisation_id=org.id, name=f"Kontakt {code}", role="kommunedirektør")
        for code, org in orgs.items()
    }
    session.add_all(contacts.values())
    await session.flush()
    session.add_all(
        RoundOrganisation(round_id=round_.id, organisation_id=org.id) for org in orgs.values()
    )
    statuses = statuses or {}
    for code, answers in answers_by_code.items():
        status = statuses.get(code, "submitted")
        phase = {"submitted": "submitted", "incomplete": "closed"}.get(status, "answering")
        state = ResponseState(phase=phase, answers=dict(answers))
        session.add(
            Response(
                round_id=round_.id,
                organisation_id=orgs[code].id,
                contact_id=contacts[code].id,
                status=status,
                state=state.model_dump(mode="json"),
                started_at=OPENS_AT + timedelta(hours=1),
                updated_at=OPENS_AT + timedelta(days=1),
                submitted_at=OPENS_AT + timedelta(days=1) if status == "submitted" else None,
            )
        )
    await session.flush()
    return round_.id


def pdf_pages(path: Path) -> list[str]:
    """The text of each page of a PDF, runs of white space made one space (the PDF wraps
    long lines), so a test can look for whole sentences in it."""
    from pypdf import PdfReader  # a test dependency; bench/report.py does not need it

    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(path).pages]
