"""What members receive from a round's results, in their language (issue 15): the summary
text, the personal comparison, the charts, the PDF and the workbook, and numbers written
as the language writes them; through the database, a summary publication whose nynorsk
recipients get the nynorsk text and files while bokmål recipients get what they got before.

The survey's own labels (area names, question texts) come from the survey file, which is
bokmål in these tests' fixtures; ``without_survey_texts`` takes them out before looking
for bokmål words, so what is checked is the report's own wording.
"""

from __future__ import annotations

import re
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from dialogs.i18n import speaking
from dialogs.model import Survey
from reports.build import write_report
from reports.charts import chart_specs, render_charts
from reports.format import nb_count, nb_decimal, nb_percent
from reports.summary import ResponseFacts, RoundInfo, RoundSummary, summarise
from reports.text import own_answers_text, summary_text
from reports.trend_charts import trend_chart_specs
from reports.trend_text import trend_paragraphs
from reports.trends import compute_trends
from services import publications
from services.personal import personalise_for
from services.segments import Segment
from services.summaries import draft_summary
from storage.orm import Organisation
from tests.bokmal_words import bokmal_words
from tests.cycle_support import ZONE, World, oslo
from tests.report_fixtures import (
    CLOSES_AT,
    generate_answers,
    member_facts,
    pdf_pages,
    shipped_survey,
)
from tests.test_peer_comparison import SURVEY, summarised
from tests.test_publications import ORGS, closed_round
from tests.trend_fixtures import round_facts

OSLO = ZoneInfo("Europe/Oslo")


def survey_texts(survey: Survey) -> list[str]:
    """Every string in the survey file (labels, texts, options), longest first."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            found.add(value)
            found.update(value.split(" – "))  # a scale point «1 – kan vente» is cut in two
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(survey.model_dump(mode="json"))
    return sorted((text for text in found if len(text) > 2), key=len, reverse=True)


def without_survey_texts(text: str, survey: Survey) -> str:
    """``text`` with every survey-file string taken out (they are bokmål in the fixtures)."""
    for label in survey_texts(survey):
        text = text.replace(label, "□")
    return text


@pytest.fixture(scope="module")
def national() -> RoundSummary:
    """A full round of the shipped survey: 371 members, 218 answers."""
    survey = shipped_survey()
    orgs = member_facts()
    answers = generate_answers([org.code for org in orgs[:218]])
    responses = [ResponseFacts(org, "submitted", answers[org.code]) for org in orgs[:218]]
    return summarise(survey, RoundInfo(7, "Runde 2027-1", "closed", CLOSES_AT), responses, orgs)


# --- numbers ----------------------------------------------------------------------------------


def test_numbers_follow_the_language_and_round_half_up() -> None:
    with speaking("nb"):
        assert (nb_decimal(3.65), nb_percent(0.595), nb_count(12345)) == ("3,7", "60 %", "12 345")
        assert nb_decimal(12345.25) == "12 345,3" and nb_decimal(-0.25) == "-0,3"
    with speaking("nn"):
        assert (nb_decimal(3.65), nb_percent(0.595), nb_count(1234)) == ("3,7", "60 %", "1234")
    with speaking("se"):
        assert (nb_decimal(3.0), nb_percent(0.42)) == ("3,0", "42 %")
    with speaking("en"):
        assert (nb_decimal(3.65), nb_percent(0.595), nb_count(12345)) == ("3.7", "60%", "12,345")
        assert nb_decimal(12345.25) == "12,345.3" and nb_decimal(4, 0) == "4"


# --- the summary text and the personal comparison -----------------------------------------------


def test_the_summary_text_in_nynorsk_reads_as_nynorsk(national: RoundSummary) -> None:
    with speaking("nb"):
        bokmal = summary_text(national, OSLO)
    with speaking("nn"):
        text = summary_text(national, OSLO)
    assert text != bokmal
    assert text.startswith("Oppsummering: Runde 2027-1\nSvarfrist:")
    assert "218 av 371 medlemmer svarte (59 %)." in text
    assert "Størst behov for samarbeid (kan ikkje løysast på eiga hand):" in text
    assert text.endswith("Heile rapporten med figurar, tabellar og alle innspel ligg ved.")
    assert "blir ikkje viste («–»)" in text  # the small-group rule
    assert bokmal_words(without_survey_texts(text, shipped_survey())) == []


def test_the_summary_text_in_english_writes_decimal_points(national: RoundSummary) -> None:
    with speaking("en"):
        text = summary_text(national, OSLO)
    assert "218 of 371 members responded (59%)." in text
    assert re.search(r"average urgency \d\.\d out of 5", text), text
    assert not re.search(r"\d,\d", text)  # no decimal comma anywhere


def test_the_trends_in_nynorsk() -> None:
    trends = compute_trends(round_facts())
    assert trends is not None
    survey = round_facts()[-1].survey
    with speaking("nn"):
        paragraph = "\n".join(trend_paragraphs(trends))
        specs = trend_chart_specs(trends)
    assert paragraph.startswith("Utvikling sidan «Runde 2026-2»:")
    assert (
        "Størst auke: Digitalisering, valt av 78 % mot 54 % i «Runde 2026-2» (+24 prosentpoeng)."
        in paragraph
    )
    assert "Størst nedgang i kor mykje det hastar: Digitalisering, 3,9 i snitt" in paragraph
    assert [spec.title for spec in specs][-1] == "Kor mykje det hastar: utvikling"
    for text in [paragraph, *(spec.alt_text() for spec in specs)]:
        assert bokmal_words(without_survey_texts(text, survey)) == [], text


def test_the_personal_comparison_in_nynorsk_reads_as_nynorsk() -> None:
    _orgs, responses, summary, peers = summarised(1)
    seen = Counter[str]()
    for response in responses:
        org = response.org
        with speaking("nb"):
            bokmal = own_answers_text(summary, SURVEY, response.answers, org.name, peers, org)
        with speaking("nn"):
            text = own_answers_text(summary, SURVEY, response.answers, org.name, peers, org)
        assert text.startswith(f"Svara frå {org.name} samanlikna med landet")
        assert "Tala er til samanlikning og læring, ikkje rangering." in text
        assert "De: valt, hastar" in text
        assert bokmal.startswith(f"Svarene fra {org.name} sammenlignet med landet")
        assert bokmal_words(without_survey_texts(text, SURVEY)) == [], text
        seen.update(label for label in ("Kommunar", "KOSTRA-gruppe") if label in text)
    assert seen["Kommunar"] and seen["KOSTRA-gruppe"]  # the peer groups are named in nynorsk


# --- charts, PDF and workbook ------------------------------------------------------------------


def test_a_chart_in_nynorsk_has_nynorsk_titles_and_alt_text(
    national: RoundSummary, tmp_path
) -> None:
    with speaking("nn"):
        specs = chart_specs(national)
        charts = render_charts(national, tmp_path)
        alt_texts = [spec.alt_text() for spec in specs]
    participation = specs[-1]
    assert participation.title == "Deltaking per fylke"
    assert participation.alt_text().startswith(
        "Deltaking per fylke. Del av medlemmene i fylket som svarte. Heile landet: 59 %."
    )
    cooperation = next(spec for spec in specs if spec.key.endswith("-samarbeid"))
    assert cooperation.subtitle.startswith("Talet på medlemmer som ikkje kan løyse behovet")
    for alt_text in alt_texts:  # the fixture survey (an older version) is bokmål only
        assert bokmal_words(without_survey_texts(alt_text, shipped_survey())) == [], alt_text
    assert [c.title for c in charts] == [s.title for s in specs]
    with speaking("nb"):
        assert chart_specs(national)[-1].title == "Deltakelse per fylke"


def test_the_report_files_in_nynorsk(national: RoundSummary, tmp_path) -> None:
    files = write_report(national, tmp_path / "nn", OSLO, language="nn")
    assert files.pdf is not None
    pages = pdf_pages(files.pdf)
    assert pages[0].startswith("KS Lyttepost – kva medlemmene svarte Oppsummering: Runde 2027-1")
    assert "Om undersøkinga" in pages[0] and "Kven vart spurde: 371 medlemmer" in pages[0]
    assert "side 1 av" in pages[0] and "Heile rapporten med figurar" not in " ".join(pages)
    assert any(page.startswith("Alle behov, med orda til medlemmene") for page in pages)
    sheets = load_workbook(files.workbook).sheetnames
    assert sheets[:2] == ["Oversikt", "Område og samarbeid"] and sheets[-1] == "Andre innspel"
    text = files.summary_text.read_text(encoding="utf-8")
    assert text.startswith("Oppsummering: Runde 2027-1") and "ikkje" in text
    bokmal = write_report(national, tmp_path / "nb", OSLO)  # the default stays bokmål
    assert pdf_pages(bokmal.pdf)[0].startswith("KS Lyttepost – hva medlemmene svarte")  # type: ignore[arg-type]


# --- through the database: a summary publication -----------------------------------------------


@pytest.fixture
async def world(sessions) -> World:
    world = World(sessions, oslo("2027-01-04 08:00"))
    await world.setup(ORGS)
    return world


async def test_nynorsk_members_get_the_summary_its_files_and_their_comparison_in_nynorsk(
    world: World,
) -> None:
    round_id = await closed_round(world)  # 3301, 4601 and 46 submitted
    async with world.sessions() as session, session.begin():
        bergen = await session.scalar(select(Organisation).where(Organisation.code == "4601"))
        assert bergen is not None
        bergen.language = "nn"
    async with world.sessions() as session, session.begin():
        draft = await draft_summary(session, round_id, ZONE, actor="test", now=world.clock.now)
    assert set(draft.translations) == {"nn"}  # nobody reads Sámi: no Sámi files are made
    assert draft.text.startswith("Oppsummering: Behov Q1") and "ikke" in draft.text
    nynorsk = draft.translations["nn"]
    # The shipped survey is translated, so its labels are nynorsk too: nothing is filtered.
    assert "ikkje" in nynorsk and bokmal_words(nynorsk) == [], nynorsk
    tags = Counter(a["language"] for a in draft.attachments)
    assert tags == {"nb": 3, "nn": 3}  # a chart, the workbook and the PDF each
    assert all(
        a["filename"].rsplit(".", 1)[0].endswith("-nn")
        for a in draft.attachments
        if a["language"] == "nn"
    )

    async with world.sessions() as session, session.begin():
        await publications.publish(
            session, draft.id, Segment("invited", str(round_id)), actor="test",
            now=world.clock.now, personalise=personalise_for(ZONE),
        )  # fmt: skip
    sent = await world.of_kind("summary")
    bergen_got = [s.message for s in sent if s.address == "chat-4601"]
    drammen_got = [s.message for s in sent if s.address == "chat-3301"]
    assert bergen_got[0].text == draft.translations["nn"]
    assert drammen_got[0].text == draft.text
    bergen_files = [a.filename for m in bergen_got for a in m.attachments]
    drammen_files = [a.filename for m in drammen_got for a in m.attachments]
    assert len(bergen_files) == len(drammen_files) == 3
    assert all("-nn." in name for name in bergen_files)
    assert not any("-nn." in name for name in drammen_files)
    captions = [a.caption for m in bergen_got for a in m.attachments if a.kind == "document"]
    assert captions == ["Heile rapporten som rekneark", "Rapporten som PDF"]
    own = bergen_got[-1].text
    assert own.startswith("Svara frå Bergen samanlikna med landet, fylket")
    assert bokmal_words(own) == [], own
    assert drammen_got[-1].text.startswith("Svarene fra Drammen sammenlignet med landet")
