"""The personal part of a round's summary: a respondent's own answers next to the country,
its county and its peer groups (``reports/peers.py``), each figure under the small-group rule.

Everything else a publication carries is the same for every recipient; this is added
for members whose organisation submitted in the round the summary is about, in the
recipient's language (``services/languages.py``): the fixed texts through the ``reports``
catalogue, the survey's labels from the survey in that language.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.i18n import speaking
from dialogs.messages import OutgoingMessage
from dialogs.model import Survey
from dialogs.state import ResponseState
from reports.peers import PeerTables
from reports.summary import RoundSummary
from reports.text import own_answers_text
from services.languages import contact_language
from services.report_data import build_peer_tables, build_summary, org_facts, survey_in
from services.segments import Recipient
from services.surveys import SurveyCatalog
from storage.orm import Organisation, Publication, Response, Round

Personaliser = Callable[[Publication, Recipient], Awaitable[Sequence[OutgoingMessage]]]


def personalise_for(
    zone: ZoneInfo, catalog: SurveyCatalog | None = None
) -> Callable[[AsyncSession], Personaliser]:
    """A factory: given the session of a publish or preview, the per-recipient additions.

    The round's summary and peer tables are computed once per publish and language, not
    once per recipient, and over every group at once, never for one recipient's group alone.
    """
    catalog = catalog or SurveyCatalog()

    def bind(session: AsyncSession) -> Personaliser:
        summaries: dict[tuple[int, str], tuple[RoundSummary, Survey, PeerTables]] = {}

        async def personalise(
            publication: Publication, recipient: Recipient
        ) -> Sequence[OutgoingMessage]:
            if publication.kind != "summary" or publication.round_id is None:
                return ()
            response = await session.scalar(
                select(Response).where(
                    Response.round_id == publication.round_id,
                    Response.organisation_id == recipient.organisation_id,
                    Response.status == "submitted",
                )
            )
            if response is None:
                return ()
            language = await contact_language(session, recipient.contact_id)
            key = (publication.round_id, language)
            if key not in summaries:
                round_ = await session.get(Round, publication.round_id)
                assert round_ is not None
                survey = survey_in(await catalog.get(session, round_.survey_version_id), language)
                summary = await build_summary(
                    session, catalog, publication.round_id, language=language
                )
                peers = await build_peer_tables(
                    session, catalog, publication.round_id, language=language
                )
                summaries[key] = (summary, survey, peers)
            summary, survey, peers = summaries[key]
            organisation = await session.get(Organisation, recipient.organisation_id)
            answers = ResponseState.model_validate(response.state).answers
            with speaking(language):
                text = own_answers_text(
                    summary,
                    survey,
                    answers,
                    organisation.name if organisation else "",
                    peers,
                    org_facts(organisation) if organisation else None,
                )
            return [OutgoingMessage(text=text)]

        return personalise

    return bind
