"""What a round's report is made from, read from the database: the survey, the audience and
its responses, handed to ``reports/`` as plain facts.

``reports/`` computes figures and writes files without a database; this module is the
only place the report reads one, so every rule in ``reports/summary.py`` can be checked on
plain data and the query can change without touching them.
"""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.i18n import SOURCE
from dialogs.model import Survey
from dialogs.state import ResponseState
from reports.peers import PeerTables, peer_tables
from reports.summary import (
    DEFAULT_MIN_GROUP,
    OrgFacts,
    ResponseFacts,
    RoundInfo,
    RoundSummary,
    counted_responses,
    summarise,
)
from services.surveys import SurveyCatalog
from storage.orm import Organisation, Response, Round, RoundOrganisation


def survey_in(survey: Survey, language: str) -> Survey:
    """The survey with its texts (area names, labels, options) in ``language``, from the
    survey file's translations (bokmål where a text has none)."""
    return survey if language == SOURCE else survey.in_language(language)


async def build_summary(
    session: AsyncSession,
    catalog: SurveyCatalog,
    round_id: int,
    *,
    min_group: int = DEFAULT_MIN_GROUP,
    language: str = SOURCE,
) -> RoundSummary:
    """The summary of one round, its labels in ``language``; ``LookupError`` if there is no
    such round. The figures do not depend on the language, only the words."""
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise LookupError(f"no round with id {round_id}")
    survey = survey_in(await catalog.get(session, round_.survey_version_id), language)
    audience, responses = await round_facts(session, round_id)
    info = RoundInfo(round_.id, round_.title, round_.status, round_.closes_at)
    return summarise(survey, info, responses, audience, min_group)


async def build_peer_tables(
    session: AsyncSession,
    catalog: SurveyCatalog,
    round_id: int,
    *,
    min_group: int = DEFAULT_MIN_GROUP,
    language: str = SOURCE,
) -> PeerTables:
    """Every peer group's figures for one round (``reports/peers.py``), named in
    ``language``; ``LookupError`` if there is no such round."""
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise LookupError(f"no round with id {round_id}")
    survey = survey_in(await catalog.get(session, round_.survey_version_id), language)
    audience, responses = await round_facts(session, round_id)
    return peer_tables(survey, counted_responses(survey, responses, audience), audience, min_group)


def org_facts(organisation: Organisation) -> OrgFacts:
    """An organisation as the report sees it, with the facts its peer groups come from."""
    return OrgFacts(
        organisation.code,
        organisation.name,
        organisation.county_code,
        organisation.county_name,
        population=organisation.population,
        kostra_group=organisation.kostra_group,
        kind=organisation.kind,
    )


async def round_facts(
    session: AsyncSession, round_id: int
) -> tuple[list[OrgFacts], list[ResponseFacts]]:
    """The audience and every response of it, in one query (responses by outer join)."""
    rows = await session.execute(
        select(Organisation, Response.status, Response.state)
        .select_from(RoundOrganisation)
        .join(Organisation, Organisation.id == RoundOrganisation.organisation_id)
        .outerjoin(
            Response,
            and_(
                Response.round_id == RoundOrganisation.round_id,
                Response.organisation_id == RoundOrganisation.organisation_id,
            ),
        )
        .where(RoundOrganisation.round_id == round_id)
        .order_by(Organisation.code)
    )
    audience: list[OrgFacts] = []
    responses: list[ResponseFacts] = []
    for organisation, status, state in rows:
        org = org_facts(organisation)
        audience.append(org)
        if status is not None:
            answers = ResponseState.model_validate(state).answers
            responses.append(ResponseFacts(org, status, answers))
    return audience, responses
