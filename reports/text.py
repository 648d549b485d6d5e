"""The summary as short chat messages: the national picture, and one member's own.

Written in the language being spoken (``dialogs.i18n.speaking``), from the ``reports``
catalogue; survey labels come from the survey given, so pass the survey (and a summary
made from it) in the reader's language.

Plain text (no markup) of at most ``MAX_TEXT_CHARS`` characters, so it fits in one
Telegram message (4 096) with room for a heading. When it would be longer, lists are
shortened and then whole paragraphs left out; nothing is ever cut mid-sentence.

Figures the small-group rule hides (``None`` in the summary) read "–" or are left out of
lists, never placed by their size; every text that shows figures ends with the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from zoneinfo import ZoneInfo

from dialogs.dates import format_date
from dialogs.i18n import t, tn
from dialogs.model import AnswerValue, Survey
from reports.disclosure import HIDDEN, rule_text, shown
from reports.format import nb_count, nb_decimal, nb_percent
from reports.peers import COUNTY_AUTHORITY, KIND, KOSTRA, SIZE, Figures, PeerGroup, PeerTables
from reports.summary import (
    AreaGroup,
    NumericStats,
    OptionValue,
    OrgFacts,
    QuestionSummary,
    RoundSummary,
    area_specs,
    consent_question,
)
from reports.trend_text import trend_paragraphs
from reports.trends import Trends

MAX_TEXT_CHARS = 3500
LIST_LIMITS = (5, 3, 2, 1, 0)


def attached_note() -> str:
    """The summary text's last line: the files that come with it."""
    return t("reports.summary.attached")


def more_in_report() -> str:
    """Where the personal comparison ends when the rest does not fit."""
    return t("reports.own.more_in_report")


def members(count: int) -> str:
    """``1 medlem``, ``218 medlemmer``."""
    return tn("reports.count.members", count)


def participation_line(summary: RoundSummary) -> str:
    """``218 av 371 medlemmer svarte (59 %).``"""
    p = summary.participation
    return t(
        "reports.summary.participation",
        submitted=nb_count(p.submitted),
        audience=nb_count(p.audience),
        rate=nb_percent(p.rate),
    )


def _scale_range(stats: NumericStats | None) -> str:
    if stats is None or not stats.distribution:
        return ""
    return t("reports.summary.scale_top", top=stats.distribution[-1].value)


def _hidden_line(labels: list[str]) -> str:
    """``Skjult («–») etter regelen for små grupper: Helse og omsorg, Oppvekst.``"""
    return t("reports.summary.hidden_line", hidden=HIDDEN, labels=", ".join(labels))


def _area_paragraphs(group: AreaGroup, limit: int) -> list[str]:
    chosen = [a for a in group.areas if a.chosen][:limit]
    hidden = [a.label for a in group.areas if a.chosen is None]
    paragraphs = []
    if chosen or hidden:
        lines = [t("reports.summary.areas_heading", label=group.label)]
        for area in chosen:
            urgency = ""
            if area.urgency is not None:
                urgency = t(
                    "reports.summary.area_urgency",
                    mean=shown(area.mean_urgency, nb_decimal),
                    scale=_scale_range(area.urgency),
                )
            lines.append(f"• {area.label}: {shown(area.share, nb_percent)}{urgency}")
        if hidden:
            lines.append(_hidden_line(hidden))
        paragraphs.append("\n".join(lines))
    areas = {a.value: a for a in group.areas}
    ranked = [r for r in group.cooperation if r.needs_cooperation][: min(limit, 3)]
    if ranked:
        lines = [t("reports.summary.cooperation_heading")]
        for rank in ranked:
            line = f"• {rank.label}: {members(rank.needs_cooperation or 0)}"
            if rank.share is not None:
                line += t("reports.summary.cooperation_share", share=nb_percent(rank.share))
            helpers = sorted(
                (o for o in areas[rank.value].help_from if o.count), key=lambda o: -(o.count or 0)
            )
            if helpers:
                line += t("reports.summary.most_need_help_from", helper=helpers[0].label)
            lines.append(line)
        paragraphs.append("\n".join(lines))
    return paragraphs


def _choice_paragraph(question: QuestionSummary, limit: int) -> str | None:
    top = sorted((o for o in question.options if o.count), key=lambda o: -(o.count or 0))[:limit]
    hidden = [o.label for o in question.options if o.count is None]
    if not top and not hidden:
        return None
    lines = [t("reports.summary.choice_heading", label=question.label)]
    lines += [f"• {option.label}: {shown(option.share, nb_percent)}" for option in top]
    if hidden:
        lines.append(_hidden_line(hidden))
    return "\n".join(lines)


def _rows_paragraph(question: QuestionSummary) -> str | None:
    """A ranking: first places and average place per option; a matrix: average per row."""
    rows = [r for r in question.rows if r.answered]
    if not rows:
        return None
    if question.type == "ranking":
        rows.sort(key=lambda r: (r.first is None, -(r.first or 0), r.mean_rank or 0))
        lines = [t("reports.summary.ranking_heading", label=question.label)]
        lines += [
            f"• {r.label}: "
            + (HIDDEN if r.first is None else members(r.first))
            + t(
                "reports.summary.ranking_place",
                place=shown(r.mean_rank, nb_decimal),
                n=nb_count(r.answered or 0),
            )
            for r in rows
        ]
        hidden = [r.label for r in question.rows if r.answered is None]
        lines += [_hidden_line(hidden)] if hidden else []
    else:
        lines = [t("reports.summary.matrix_heading", label=question.label)]
        lines += [
            f"• {r.label}: {shown(r.stats.mean, nb_decimal)} (n = {nb_count(r.stats.n or 0)})"
            for r in rows
            if r.stats is not None
        ]
    return "\n".join(lines)


def _scale_point(label: str) -> str:
    """``1 – lite fornøyd`` reads ``1 (lite fornøyd)`` inside a sentence."""
    point, separator, meaning = label.partition(" – ")
    return f"{point} ({meaning})" if separator else point


def _numeric_sentence(question: QuestionSummary) -> str | None:
    stats = question.stats
    if stats is None or not stats.n:
        return None
    if stats.mean is None:
        return t("reports.summary.mean_hidden", label=question.label, hidden=HIDDEN)
    mean, n = nb_decimal(stats.mean), nb_count(stats.n or 0)
    if question.type == "scale" and stats.distribution:
        low, high = stats.distribution[0], stats.distribution[-1]
        return t(
            "reports.summary.mean_on_scale", label=question.label, mean=mean, n=n,
            low=_scale_point(low.label), high=_scale_point(high.label),
        )  # fmt: skip
    return t("reports.summary.mean", label=question.label, mean=mean, n=n)


def _summary_paragraphs(summary: RoundSummary, zone: ZoneInfo, limit: int) -> list[str]:
    head = "\n".join(
        [
            t("reports.summary.title", title=summary.title),
            t("reports.summary.deadline", date=format_date(summary.closes_at, zone)),
            participation_line(summary),
        ]
    )
    if summary.participation.submitted == 0:
        return [head, t("reports.summary.no_responses")]
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
    return [head, *body, f"{rule_text(summary.min_group)}\n\n{attached_note()}"]


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


def country() -> str:
    """What the national figures are called beside the member's own (``Landet``)."""
    return t("reports.own.country")


def _summary_figures(summary: RoundSummary, survey: Survey) -> Figures:
    """The national figures as the summary shows them (without peer tables)."""
    shares: dict[tuple[str, OptionValue], float | None] = {}
    means: dict[str, float | None] = {}
    for question in summary.questions:
        shares |= {(question.id, o.value): o.share for o in question.options}
        if question.stats is not None:
            means[question.id] = question.stats.mean
    urgency = {spec.question.id: spec.urgency for spec in area_specs(survey)}
    for group in summary.area_groups:
        shares |= {(group.question_id, a.value): a.share for a in group.areas}
        for area in group.areas:
            urgency_q = urgency.get(group.question_id, {}).get(area.value)
            if urgency_q is not None:
                means[urgency_q.id] = area.mean_urgency
    return Figures(summary.participation.submitted, shares, means)


Comparison = list[tuple[str, Figures]]


def peer_label(group: PeerGroup) -> str:
    """A peer group's name in the language being spoken (a county keeps its own name)."""
    if group.partition == SIZE:
        sizes = {
            "under-5000": t("reports.peer.size_under_5000"),
            "5000-19999": t("reports.peer.size_5000_19999"),
            "20000-49999": t("reports.peer.size_20000_49999"),
            "50000-": t("reports.peer.size_50000"),
        }
        return sizes.get(group.key, group.label)
    if group.partition == KOSTRA:
        return t("reports.peer.kostra", group=group.key)
    if group.partition == KIND:
        if group.key == COUNTY_AUTHORITY:
            return t("reports.peer.county_authorities")
        return t("reports.peer.municipalities")
    return group.label


def _beside(own: str, compared: Comparison, figure: Callable[[Figures, bool], str]) -> str:
    """``Dere: valgt · Landet: 42 % valgte · Vestland: 38 % · KOSTRA-gruppe 1: –``."""
    parts = [t("reports.own.yours", own=own)]
    parts += [f"{label}: {figure(figures, index == 0)}" for index, (label, figures)
              in enumerate(compared)]  # fmt: skip
    return " · ".join(parts)


def _area_lines(
    group: AreaGroup,
    survey: Survey,
    answers: Mapping[str, AnswerValue],
    value: str,
    compared: Comparison,
) -> list[str]:
    key = (group.question_id, value)
    followups = [
        q for q in survey.questions
        if q.group == value and q.id.startswith(group.question_id + ".")
    ]  # fmt: skip
    urgency_q = next((q for q in followups if q.type == "scale"), None)
    own = t("reports.own.chosen")
    if urgency_q is not None and isinstance(answers.get(urgency_q.id), int | float):
        own += t("reports.own.urgency", value=_own_value(answers[urgency_q.id]))

    def figure(figures: Figures, country: bool) -> str:
        share = figures.shares.get(key)
        mean = figures.means.get(urgency_q.id) if urgency_q is not None else None
        if share is None and mean is None:
            return HIDDEN
        text = shown(share, nb_percent)
        if country and share is not None:
            text = t("reports.own.country_chose", share=text)
        if urgency_q is None:
            return text
        return text + t("reports.own.urgency", value=shown(mean, nb_decimal))

    return [_beside(own, compared, figure)]


def _own_area_block(
    group: AreaGroup,
    survey: Survey,
    answers: Mapping[str, AnswerValue],
    compared: Comparison,
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
        lines = [f"• {area.label}"]
        lines += [f"  {line}" for line in _area_lines(group, survey, answers, value, compared)]
        for question in survey.questions:
            if question.group != value or not question.id.startswith(group.question_id + "."):
                continue
            own = answers.get(question.id)
            if question.type == "yesno" and isinstance(own, bool) and area.alone_answered:
                share = area.cooperation_share
                n = f" (n = {nb_count(area.alone_answered)})"
                if own:
                    alone = None if share is None else 1 - share
                    lines.append("  " + t(
                        "reports.own.can_solve_alone", country=country(),
                        share=shown(alone, nb_percent), n=n,
                    ))  # fmt: skip
                else:
                    lines.append("  " + t(
                        "reports.own.needs_cooperation", country=country(),
                        share=shown(share, nb_percent), n=n,
                    ))  # fmt: skip
        blocks.append("\n".join(lines))
    if not blocks:
        return []
    return [f"{t('reports.own.you_chose', label=group.label)}\n{blocks[0]}", *blocks[1:]]


def _own_value(value: AnswerValue) -> str:
    if isinstance(value, bool):
        return t("common.yes") if value else t("common.no")
    if isinstance(value, int | float):
        return nb_decimal(value, 0) if float(value).is_integer() else nb_decimal(value)
    return str(value)


def _own_question_block(
    question: QuestionSummary, own: AnswerValue, compared: Comparison
) -> list[str]:
    if own is None:
        return []
    if question.type in ("single", "multi"):
        # a choice is stored as its option's value, a string (a list of them for multi)
        picked = own if isinstance(own, list) else [own] if isinstance(own, str) else []
        options = {o.value: o for o in question.options}
        lines = [t("reports.own.you_chose", label=question.label)]
        for value in picked:
            option = options.get(value)
            if option is not None:
                key = (question.id, value)
                lines.append(
                    f"• {option.label} · "
                    + " · ".join(
                        f"{label}: {shown(figures.shares.get(key), nb_percent)}"
                        for label, figures in compared
                    )
                )
        return ["\n".join(lines)] if len(lines) > 1 else []
    if question.type == "ranking" and isinstance(own, list) and own:
        rows = {r.value: r for r in question.rows}
        first = rows.get(own[0])
        if first is None:
            return []
        n = f" (n = {nb_count(first.answered)})" if first.answered is not None else ""
        return [
            t(
                "reports.own.ranked_first", label=question.label, first=first.label,
                country=country(), place=shown(first.mean_rank, nb_decimal), n=n,
            )
        ]  # fmt: skip
    if question.type == "matrix" and isinstance(own, dict):
        lines = [t("reports.own.matrix_heading", label=question.label)]
        for row in question.rows:
            if row.value in own and row.stats is not None:
                lines.append(
                    t(
                        "reports.own.matrix_row", label=row.label, own=own[row.value],
                        mean=shown(row.stats.mean, nb_decimal), n=nb_count(row.stats.n or 0),
                    )
                )  # fmt: skip
        return ["\n".join(lines)] if len(lines) > 1 else []
    if question.type == "yesno" and isinstance(own, bool):
        if question.asked == 0:
            return []
        yes_key: tuple[str, OptionValue] = (question.id, True)

        def yes(figures: Figures, country: bool) -> str:
            share = figures.shares.get(yes_key)
            return HIDDEN if share is None else t("reports.own.yes_share", share=nb_percent(share))

        return [f"{question.label} – " + _beside(_own_value(own), compared, yes)]
    if question.stats is not None and question.stats.n:

        def mean(figures: Figures, country: bool) -> str:
            return shown(figures.means.get(question.id), nb_decimal)

        return [f"{question.label} – " + _beside(_own_value(own), compared, mean)]
    return []


def own_answers_text(
    summary: RoundSummary,
    survey: Survey,
    answers: Mapping[str, AnswerValue],
    org_name: str,
    peers: PeerTables | None = None,
    org: OrgFacts | None = None,
) -> str:
    """A member's own answers next to the country, its county and its peer groups
    (≤ ``MAX_TEXT_CHARS`` characters), ending with the small-group rule.

    Group figures come from ``peers`` (suppressed over whole partitions); without them,
    or without ``org``, the text compares with the country alone.
    """
    effective = survey.effective_answers(dict(answers))
    groups = {g.question_id: g for g in summary.area_groups}
    national = peers.national if peers is not None else _summary_figures(summary, survey)
    mine: list[tuple[PeerGroup, Figures]] = (
        peers.for_org(org) if peers is not None and org is not None else []
    )
    compared: Comparison = [(country(), national), *((peer_label(g), f) for g, f in mine)]
    responded = members(summary.participation.submitted)
    if mine:
        head = t("reports.own.head_peers", org_name=org_name, members=responded)
    else:
        head = t("reports.own.head", org_name=org_name, members=responded)
    blocks: list[str] = []
    consent = consent_question(survey)
    for question in summary.questions:
        if consent is not None and question.id == consent[0]:
            continue
        if question.id in groups:
            blocks += _own_area_block(groups[question.id], survey, effective, compared)
        else:
            blocks += _own_question_block(question, effective.get(question.id), compared)
    ending = rule_text(summary.min_group)
    kept = [head]
    for block in blocks:
        if len("\n\n".join([*kept, block, more_in_report(), ending])) > MAX_TEXT_CHARS:
            return "\n\n".join([*kept, more_in_report(), ending])
        kept.append(block)
    return "\n\n".join([*kept, ending])


# --- how the report was made (PDF, workbook) -------------------------------------------------


def anonymous() -> str:
    """How an organisation that did not consent to its name reads beside its text."""
    return t("reports.anonymous")


def other_texts_rule(summary: RoundSummary) -> str:
    """Whose name stands beside the other free text, as the consent question asked it."""
    if summary.name_consent == "free_text":
        return t("reports.rule.others_named", anonymous=anonymous())
    if summary.name_consent == "needs":
        return t("reports.rule.others_needs_only", anonymous=anonymous())
    return t("reports.rule.others_no_consent", anonymous=anonymous())


def _names_rule(summary: RoundSummary) -> str:
    if summary.name_consent == "free_text":
        return t("reports.rule.names_free_text", anonymous=anonymous())
    if summary.name_consent == "needs":
        return t("reports.rule.names_needs")
    return t("reports.rule.names_no_consent")


def method_note(summary: RoundSummary, zone: ZoneInfo) -> list[str]:
    """A short account of how the figures were made: who, how many, and the rules."""
    p = summary.participation
    return [
        t(
            "reports.method.who", audience=nb_count(p.audience), round=summary.title,
            survey=summary.survey_title, version=summary.survey_version,
            date=format_date(summary.closes_at, zone),
        ),
        t(
            "reports.method.responses", submitted=nb_count(p.submitted),
            audience=nb_count(p.audience), rate=nb_percent(p.rate),
        ),
        t("reports.method.small_groups", rule=rule_text(summary.min_group), min=summary.min_group),
        t("reports.method.names", rule=_names_rule(summary)),
    ]  # fmt: skip
