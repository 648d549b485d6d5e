"""The summary as short Norwegian chat messages: the national picture, and one member's own.

Plain text (no markup) of at most ``MAX_TEXT_CHARS`` characters, so it fits in one
Telegram message (4 096) with room for a heading. When it would be longer, lists are
shortened and then whole paragraphs left out; nothing is ever cut mid-sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

from dialogs.dates import format_date
from dialogs.model import AnswerValue, Survey
from dialogs.texts import antall
from reports.format import nb_count, nb_decimal, nb_percent
from reports.summary import (
    ANONYMOUS,
    AreaGroup,
    NumericStats,
    QuestionSummary,
    RoundSummary,
    consent_question,
)
from reports.trend_text import trend_paragraphs
from reports.trends import Trends

MAX_TEXT_CHARS = 3500
LIST_LIMITS = (5, 3, 2, 1, 0)
ATTACHED = "Hele rapporten med figurer, tabeller og alle innspill er vedlagt."
MORE_IN_REPORT = "Flere tall finner dere i den fullstendige rapporten."


def participation_line(summary: RoundSummary) -> str:
    """``218 av 371 medlemmer svarte (59 %).``"""
    p = summary.participation
    return f"{nb_count(p.submitted)} av {nb_count(p.audience)} medlemmer svarte ({nb_percent(p.rate)})."


def _scale_range(stats: NumericStats | None) -> str:
    if stats is None or not stats.distribution:
        return ""
    return f" av {stats.distribution[-1].value}"


def _area_paragraphs(group: AreaGroup, limit: int) -> list[str]:
    chosen = [a for a in group.areas if a.chosen > 0][:limit]
    paragraphs = []
    if chosen:
        lines = [f"{group.label} (andel av medlemmene som valgte området):"]
        for area in chosen:
            urgency = ""
            if area.mean_urgency is not None:
                urgency = (
                    f", haster i snitt {nb_decimal(area.mean_urgency)}{_scale_range(area.urgency)}"
                )
            lines.append(f"• {area.label}: {nb_percent(area.share)}{urgency}")
        paragraphs.append("\n".join(lines))
    areas = {a.value: a for a in group.areas}
    ranked = [r for r in group.cooperation if r.needs_cooperation > 0][: min(limit, 3)]
    if ranked:
        lines = ["Størst behov for samarbeid (kan ikke løses på egen hånd):"]
        for rank in ranked:
            line = f"• {rank.label}: {antall(rank.needs_cooperation, 'medlem', 'medlemmer')}"
            if rank.share is not None:
                line += f" ({nb_percent(rank.share)} av dem som valgte området)"
            helpers = sorted(areas[rank.value].help_from, key=lambda o: -o.count)
            if helpers and helpers[0].count > 0:
                line += f", flest trenger hjelp fra {helpers[0].label}"
            lines.append(line)
        paragraphs.append("\n".join(lines))
    return paragraphs


def _choice_paragraph(question: QuestionSummary, limit: int) -> str | None:
    top = sorted((o for o in question.options if o.count > 0), key=lambda o: -o.count)[:limit]
    if not top:
        return None
    lines = [f"{question.label} (andel av medlemmene):"]
    lines += [f"• {option.label}: {nb_percent(option.share)}" for option in top]
    return "\n".join(lines)


def _rows_paragraph(question: QuestionSummary) -> str | None:
    """A ranking: first places and average place per option; a matrix: average per row."""
    rows = [r for r in question.rows if r.answered]
    if not rows:
        return None
    if question.type == "ranking":
        rows.sort(key=lambda r: (-(r.first or 0), r.mean_rank or 0))
        lines = [f"{question.label} (satt først av; gjennomsnittlig plass, 1 er viktigst):"]
        lines += [
            f"• {r.label}: {antall(r.first or 0, 'medlem', 'medlemmer')}; "
            f"plass {nb_decimal(r.mean_rank or 0)} (n = {nb_count(r.answered)})"
            for r in rows
        ]
    else:
        lines = [f"{question.label} (snitt per rad):"]
        lines += [
            f"• {r.label}: {nb_decimal(r.stats.mean)} (n = {nb_count(r.stats.n)})"
            for r in rows
            if r.stats is not None and r.stats.mean is not None
        ]
    return "\n".join(lines)


def _scale_point(label: str) -> str:
    """``1 – lite fornøyd`` reads ``1 (lite fornøyd)`` inside a sentence."""
    point, separator, meaning = label.partition(" – ")
    return f"{point} ({meaning})" if separator else point


def _numeric_sentence(question: QuestionSummary) -> str | None:
    stats = question.stats
    if stats is None or stats.mean is None:
        return None
    if question.type == "scale" and stats.distribution:
        low, high = stats.distribution[0], stats.distribution[-1]
        return (
            f"{question.label}: {nb_decimal(stats.mean)} i snitt (n = {nb_count(stats.n)}) "
            f"på en skala fra {_scale_point(low.label)} til {_scale_point(high.label)}."
        )
    return f"{question.label}: {nb_decimal(stats.mean)} i snitt (n = {nb_count(stats.n)})."


def _summary_paragraphs(summary: RoundSummary, zone: ZoneInfo, limit: int) -> list[str]:
    head = "\n".join(
        [
            f"Oppsummering: {summary.title}",
            f"Svarfrist: {format_date(summary.closes_at, zone)}.",
            participation_line(summary),
        ]
    )
    if summary.participation.submitted == 0:
        return [head, "Ingen svar er sendt inn."]
    body: list[str] = []
    groups = {g.question_id: g for g in summary.area_groups}
    if limit > 0:
        for question in summary.questions:
            if question.id in groups:
                body += _area_paragraphs(groups[question.id], limit)
            elif question.type in ("single", "multi"):
                paragraph = _choice_paragraph(question, limit)
                body += [paragraph] if paragraph else []
            elif question.type in ("ranking", "matrix"):
                paragraph = _rows_paragraph(question)
                body += [paragraph] if paragraph else []
    for question in summary.questions:
        if question.type in ("scale", "number"):
            sentence = _numeric_sentence(question)
            body += [sentence] if sentence else []
    return [head, *body, ATTACHED]


def _fit(paragraphs: list[str], limit: int = MAX_TEXT_CHARS) -> str:
    """Whole paragraphs: the first and the last always, those between while they fit."""
    first, *middle, last = paragraphs
    kept = [first]
    for paragraph in middle:
        if len("\n\n".join([*kept, paragraph, last])) <= limit:
            kept.append(paragraph)
    return "\n\n".join([*kept, last])


def summary_text(summary: RoundSummary, zone: ZoneInfo, trends: Trends | None = None) -> str:
    """The national picture for a chat message (≤ ``MAX_TEXT_CHARS`` characters), with the
    biggest rises and falls since the previous round of the survey key (``trends``)."""
    paragraphs: list[str] = []
    for limit in LIST_LIMITS:
        paragraphs = _summary_paragraphs(summary, zone, limit)
        paragraphs[-1:-1] = trend_paragraphs(trends)
        text = "\n\n".join(paragraphs)
        if len(text) <= MAX_TEXT_CHARS:
            return text
    return _fit(paragraphs)


# --- one member's own answers -------------------------------------------------------------


def _own_area_block(
    group: AreaGroup, survey: Survey, answers: Mapping[str, AnswerValue]
) -> list[str]:
    chosen = answers.get(group.question_id)
    if not isinstance(chosen, list) or not chosen:
        return []
    areas = {a.value: a for a in group.areas}
    blocks = []
    for value in chosen:
        area = areas.get(value)
        if area is None:
            continue
        lines = [f"• {area.label} (valgt av {nb_percent(area.share)} av medlemmene)"]
        for question in survey.questions:
            if question.group != value or not question.id.startswith(group.question_id + "."):
                continue
            own = answers.get(question.id)
            if question.type == "scale" and isinstance(own, int | float) and area.urgency:
                if area.urgency.mean is not None:
                    lines.append(
                        f"  Dere: haster {_own_value(own)}"
                        f" – landet: {nb_decimal(area.urgency.mean)} (n = {nb_count(area.urgency.n)})"
                    )
            elif question.type == "yesno" and isinstance(own, bool) and area.alone_answered:
                alone_share = 1 - (area.cooperation_share or 0.0)
                if own:
                    lines.append(
                        f"  Dere: kan løse det alene – landet: {nb_percent(alone_share)} kan det"
                        f" (n = {nb_count(area.alone_answered)})"
                    )
                else:
                    lines.append(
                        f"  Dere: trenger samarbeid – landet: {nb_percent(area.cooperation_share or 0.0)}"
                        f" trenger samarbeid (n = {nb_count(area.alone_answered)})"
                    )
        blocks.append("\n".join(lines))
    if not blocks:
        return []
    return [f"{group.label} – dere valgte:\n{blocks[0]}", *blocks[1:]]


def _own_value(value: AnswerValue) -> str:
    if isinstance(value, bool):
        return "Ja" if value else "Nei"
    if isinstance(value, int | float):
        return nb_decimal(value, 0) if float(value).is_integer() else nb_decimal(value)
    return str(value)


def _own_question_block(question: QuestionSummary, own: AnswerValue) -> list[str]:
    if own is None:
        return []
    if question.type in ("single", "multi"):
        # a choice is stored as its option's value, a string (a list of them for multi)
        picked = own if isinstance(own, list) else [own] if isinstance(own, str) else []
        options = {o.value: o for o in question.options}
        lines = [f"{question.label} – dere valgte:"]
        for value in picked:
            option = options.get(value)
            if option is not None:
                lines.append(
                    f"• {option.label} (valgt av {nb_percent(option.share)} av medlemmene)"
                )
        return ["\n".join(lines)] if len(lines) > 1 else []
    if question.type == "ranking" and isinstance(own, list) and own:
        rows = {r.value: r for r in question.rows}
        first = rows.get(own[0])
        if first is None or first.mean_rank is None:
            return []
        return [
            f"{question.label} – dere satte først: {first.label} – landet: plass "
            f"{nb_decimal(first.mean_rank)} i snitt (n = {nb_count(first.answered)})"
        ]
    if question.type == "matrix" and isinstance(own, dict):
        lines = [f"{question.label} – dere og landet (snitt):"]
        for row in question.rows:
            if row.value in own and row.stats is not None and row.stats.mean is not None:
                lines.append(
                    f"• {row.label}: dere {own[row.value]}, landet {nb_decimal(row.stats.mean)}"
                    f" (n = {nb_count(row.stats.n)})"
                )
        return ["\n".join(lines)] if len(lines) > 1 else []
    if question.type == "yesno" and isinstance(own, bool):
        yes = next((o for o in question.options if o.value is True), None)
        if yes is None or question.asked == 0:
            return []
        return [
            f"{question.label} – dere: {_own_value(own)} – landet: {nb_percent(yes.share)} ja"
            f" (n = {nb_count(question.asked)})"
        ]
    if question.stats is not None and question.stats.mean is not None:
        return [
            f"{question.label} – dere: {_own_value(own)} – landet: {nb_decimal(question.stats.mean)}"
            f" (n = {nb_count(question.stats.n)})"
        ]
    return []


def own_answers_text(
    summary: RoundSummary, survey: Survey, answers: Mapping[str, AnswerValue], org_name: str
) -> str:
    """A member's own answers next to the national picture (≤ ``MAX_TEXT_CHARS`` characters)."""
    effective = survey.effective_answers(dict(answers))
    groups = {g.question_id: g for g in summary.area_groups}
    head = (
        f"Svarene fra {org_name} sammenlignet med landet "
        f"({antall(summary.participation.submitted, 'medlem', 'medlemmer')} svarte)."
    )
    blocks: list[str] = []
    consent = consent_question(survey)
    for question in summary.questions:
        if consent is not None and question.id == consent[0]:
            continue
        if question.id in groups:
            blocks += _own_area_block(groups[question.id], survey, effective)
        else:
            blocks += _own_question_block(question, effective.get(question.id))
    kept = [head]
    for block in blocks:
        if len("\n\n".join([*kept, block, MORE_IN_REPORT])) > MAX_TEXT_CHARS:
            return "\n\n".join([*kept, MORE_IN_REPORT])
        kept.append(block)
    return "\n\n".join(kept)


# --- how the report was made (PDF, workbook) -------------------------------------------------


def other_texts_rule(summary: RoundSummary) -> str:
    """Whose name stands beside the other free text, as the consent question asked it."""
    if summary.name_consent == "free_text":
        return (
            "Organisasjonen står med navn bare når den har sagt ja til det i undersøkelsen; "
            f"ellers står det «{ANONYMOUS}»."
        )
    if summary.name_consent == "needs":
        return (
            f"Ingen organisasjon står med navn her (det står «{ANONYMOUS}»): samtykket til navn "
            "i denne versjonen av undersøkelsen gjaldt bare behovene."
        )
    return (
        f"Ingen organisasjon står med navn her (det står «{ANONYMOUS}»): undersøkelsen "
        "spurte ikke om samtykke til navn."
    )


def _names_rule(summary: RoundSummary) -> str:
    if summary.name_consent == "free_text":
        return (
            "En organisasjon står med navn ved det den har skrevet med egne ord (behov og "
            "andre innspill) bare når den har sagt ja til det i undersøkelsen; ellers står "
            f"det «{ANONYMOUS}»."
        )
    if summary.name_consent == "needs":
        return (
            "En organisasjon står med navn ved behovene sine bare når den har sagt ja til det "
            "i undersøkelsen. Andre innspill står alltid uten navn: samtykket i denne versjonen "
            "av undersøkelsen gjaldt bare behovene."
        )
    return "Ingen organisasjon står med navn: undersøkelsen spurte ikke om samtykke til det."


def method_note(summary: RoundSummary, zone: ZoneInfo) -> list[str]:
    """A short account of how the figures were made: who, how many, and the rules."""
    p = summary.participation
    return [
        f"Hvem ble spurt: {nb_count(p.audience)} medlemmer (kommuner og fylkeskommuner) i "
        f"runden «{summary.title}», med undersøkelsen «{summary.survey_title}» (versjon "
        f"{summary.survey_version}). Svarfrist: {format_date(summary.closes_at, zone)}.",
        f"Svar: {nb_count(p.submitted)} av {nb_count(p.audience)} sendte inn ({nb_percent(p.rate)}). "
        "Bare innsendte svar er tatt med, og bare svar på spørsmål medlemmet faktisk fikk.",
        f"Små grupper: tall per fylke under {summary.min_group} vises ikke, heller ikke et tall "
        f"som kan regnes ut av de andre, og fylker med færre enn {summary.min_group} svar på et "
        "spørsmål vises ikke, så ingen kan kjennes igjen.",
        f"Navn: {_names_rule(summary)}",
    ]
