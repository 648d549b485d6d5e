"""Three rounds of one survey key with constructed answers, for the trend tests.

The audience is the same in every round: 13 members in Buskerud (county 33), 11 in
Vestland (46) and 3 in Møre og Romsdal (15). Rounds 1 and 2 use ``trender`` version 1
(areas Digitalisering and Helse og omsorg, "can you solve it alone" as yes/no); round 3
uses version 2 (a third area, Økonomi og handlingsrom, and "who is needed" as a single
choice where ``alene`` means alone). ``tests/test_trends.py`` works every figure out by
hand from the table in ``ROUNDS``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dialogs.definition import load_survey_file
from dialogs.model import AnswerValue, Survey
from reports.summary import OrgFacts, ResponseFacts
from reports.trends import TrendRoundFacts

SURVEYS = Path(__file__).resolve().parent / "fixtures" / "surveys"
V1 = SURVEYS / "trender-v1.yaml"
V2 = SURVEYS / "trender-v2.yaml"
KEY = "trender"

BUSKERUD = ["3301", "3303", "3305", "3310", "3312", "3314", "3316", "3318", "3320", "3322",
            "3324", "3326", "3328"]  # fmt: skip
VESTLAND = ["4601", "4602", "4611", "4612", "4613", "4614", "4615", "4616", "4617", "4618",
            "4619"]  # fmt: skip
MORE = ["1505", "1506", "1508"]
AUDIENCE = BUSKERUD + VESTLAND + MORE
COUNTY_NAMES = {"33": "Buskerud", "46": "Vestland", "15": "Møre og Romsdal"}

# An area's answers: (urgency, alone). Round 3 stores alone as the "who is needed" choice.
Area = tuple[int, bool]


@dataclass(frozen=True)
class Org:
    """One organisation's answers in one round."""

    areas: dict[str, Area]
    fornoyd: int
    kontakt: bool


def _same(codes: Sequence[str], org: Org) -> dict[str, Org]:
    return {code: org for code in codes}


D, H, OK = "digitalisering", "helse", "okonomi"

ROUNDS: list[dict[str, Org]] = [
    # Round 1: 12 of 13 in Buskerud, 10 of 11 in Vestland, 2 of 3 in Møre og Romsdal.
    _same(BUSKERUD[0:3], Org({D: (4, False)}, 4, True))
    | _same(BUSKERUD[3:6], Org({D: (5, True)}, 4, True))
    | _same(BUSKERUD[6:12], Org({H: (3, False)}, 2, False))
    | _same(VESTLAND[0:5], Org({D: (3, False), H: (4, False)}, 5, True))
    | _same(VESTLAND[5:10], Org({D: (3, True)}, 3, False))
    | _same(MORE[0:2], Org({D: (5, False)}, 1, False)),
    # Round 2: 13 of 13, 8 of 11, 3 of 3.
    _same(BUSKERUD[0:5], Org({D: (5, False)}, 4, True))
    | _same(BUSKERUD[5:13], Org({D: (4, True), H: (2, True)}, 3, True))
    | _same(VESTLAND[0:8], Org({H: (5, False)}, 2, False))
    | _same(MORE[0:3], Org({H: (1, True)}, 5, False)),
    # Round 3 (version 2): 12 of 13, 10 of 11, 1 of 3.
    _same(BUSKERUD[0:6], Org({D: (5, False), H: (4, True)}, 5, True))
    | _same(BUSKERUD[6:12], Org({D: (3, True)}, 4, True))
    | _same(VESTLAND[0:5], Org({H: (5, False), OK: (2, False)}, 3, False))
    | _same(VESTLAND[5:10], Org({D: (4, False), OK: (3, False)}, 3, False))
    | _same(MORE[0:1], Org({D: (2, True)}, 1, True)),
]
TITLES = ["Runde 2026-1", "Runde 2026-2", "Runde 2026-3"]
OPENS = [datetime(2026, 1, 5, 7, tzinfo=UTC), datetime(2026, 4, 6, 6, tzinfo=UTC),
         datetime(2026, 9, 7, 6, tzinfo=UTC)]  # fmt: skip
CLOSES = [datetime(2026, 1, 30, 22, 59, tzinfo=UTC), datetime(2026, 4, 30, 21, 59, tzinfo=UTC),
          datetime(2026, 9, 30, 21, 59, tzinfo=UTC)]  # fmt: skip
# A different organisation's answers that must never count: a response still in progress
# (round 1) and one from outside the audience (round 2).
NOT_COUNTED = Org({D: (1, True), H: (1, True)}, 1, True)
IN_PROGRESS = (0, BUSKERUD[12])
OUTSIDER = (1, "4620")


def answers(org: Org, version: int, need: str = "Et behov") -> dict[str, AnswerValue]:
    """The stored answers: the areas chosen, a need, urgency and alone for each."""
    stored: dict[str, AnswerValue] = {"omrader": list(org.areas)}
    for area, (urgency, alone) in org.areas.items():
        stored[f"omrader.{area}.behov"] = f"{need} ({area})"
        stored[f"omrader.{area}.haster"] = urgency
        if version == 1:
            stored[f"omrader.{area}.alene"] = alone
        else:
            stored[f"omrader.{area}.losning"] = "alene" if alone else "ks"
    stored["fornoyd"] = org.fornoyd
    stored["kontakt"] = org.kontakt
    return stored


def survey_of(index: int) -> Survey:
    return load_survey_file(V1 if index < 2 else V2)


def org_facts(code: str) -> OrgFacts:
    county = code[:2]
    return OrgFacts(code, f"Kommune {code}", county, COUNTY_NAMES.get(county, "Annet"))


def round_facts(round_ids: Sequence[int] = (1, 2, 3)) -> list[TrendRoundFacts]:
    """The three rounds as plain facts, with the responses that must not count."""
    found = []
    for index, given in enumerate(ROUNDS):
        version = 1 if index < 2 else 2
        responses = [
            ResponseFacts(org_facts(code), "submitted", answers(org, version))
            for code, org in given.items()
        ]
        if index == IN_PROGRESS[0]:
            code = IN_PROGRESS[1]
            responses.append(
                ResponseFacts(org_facts(code), "in_progress", answers(NOT_COUNTED, version))
            )
        if index == OUTSIDER[0]:
            code = OUTSIDER[1]
            responses.append(
                ResponseFacts(org_facts(code), "submitted", answers(NOT_COUNTED, version))
            )
        found.append(
            TrendRoundFacts(
                id=round_ids[index],
                title=TITLES[index],
                opens_at=OPENS[index],
                closes_at=CLOSES[index],
                survey=survey_of(index),
                responses=responses,
                audience=[org_facts(code) for code in AUDIENCE],
            )  # fmt: skip
        )
    return found


def statuses(index: int) -> dict[str, str]:
    """Responses written to the database for round ``index`` with their status."""
    found = {code: "submitted" for code in ROUNDS[index]}
    if index == IN_PROGRESS[0]:
        found[IN_PROGRESS[1]] = "in_progress"
    if index == OUTSIDER[0]:
        found[OUTSIDER[1]] = "submitted"
    return found


def stored_answers(index: int, code: str) -> dict[str, Any]:
    version = 1 if index < 2 else 2
    org = ROUNDS[index].get(code, NOT_COUNTED)
    return answers(org, version)


async def seed_trend_rounds(
    session: Any, *, statuses_of: Sequence[str] = ("closed",) * 3
) -> list[int]:
    """The three rounds in the database (members seeded), with every response of
    ``statuses_of`` (one per round); returns the round ids in opening order."""
    from sqlalchemy import select

    from dialogs.state import ResponseState
    from services.surveys import register_survey_file
    from storage.orm import Organisation, Response, Round, RoundOrganisation

    orgs = {
        code: org_id
        for code, org_id in await session.execute(select(Organisation.code, Organisation.id))
    }
    ids = []
    for index in range(3):
        version = (await register_survey_file(session, survey_path(index))).version
        round_ = Round(
            survey_version_id=version.id, title=TITLES[index], status=statuses_of[index],
            audience={"kind": "orgs", "codes": AUDIENCE}, opens_at=OPENS[index],
            closes_at=CLOSES[index], opened_at=OPENS[index],
            closed_at=CLOSES[index] if statuses_of[index] == "closed" else None,
        )  # fmt: skip
        session.add(round_)
        await session.flush()
        session.add_all(
            RoundOrganisation(round_id=round_.id, organisation_id=orgs[code]) for code in AUDIENCE
        )
        for code, status in statuses(index).items():
            phase = "submitted" if status == "submitted" else "answering"
            session.add(
                Response(
                    round_id=round_.id,
                    organisation_id=orgs[code],
                    status=status,
                    state=ResponseState(
                        phase=phase, answers=stored_answers(index, code)
                    ).model_dump(mode="json"),
                    started_at=OPENS[index],
                    updated_at=OPENS[index],
                    submitted_at=OPENS[index] if status == "submitted" else None,
                )  # fmt: skip
            )
        await session.flush()
        ids.append(round_.id)
    return ids


def survey_path(index: int) -> Path:
    return V1 if index < 2 else V2
