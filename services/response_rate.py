"""How a round is going: invited, started and submitted, overall and per county.

Counted per organisation, since each member answers once: an organisation is
*invited* when at least one of its contacts got the invitation queued or, having
registered after the round opened, was offered the round in chat (``round_invitees``
holds both); it has *started* when it has a response (in progress, incomplete or
submitted), and has *submitted* when that response is sent in. Starting means having
been reached, so started ≤ invited always holds, also for rounds answered before late
registrants were recorded. Organisations with no reachable contact cannot be invited;
they are listed so KS can follow them up another way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.orm import Organisation, Response, Round, RoundInvitee, RoundOrganisation


@dataclass
class Tally:
    """Counts for a group of organisations."""

    organisations: int = 0
    invited: int = 0
    started: int = 0
    submitted: int = 0

    @property
    def rate(self) -> float:
        """Share of the organisations that submitted (0 for an empty group)."""
        return self.submitted / self.organisations if self.organisations else 0.0

    def add(self, invited: bool, started: bool, submitted: bool) -> None:
        """Count one organisation."""
        self.organisations += 1
        self.invited += invited
        self.started += started
        self.submitted += submitted


@dataclass(frozen=True)
class Missing:
    """An organisation that has not submitted."""

    org: str
    name: str
    county: str
    invited: bool
    started: bool


@dataclass
class RoundProgress:
    """A round's response rate, for ``rounds status`` and the admins' chat command."""

    round_id: int
    title: str
    status: str
    paused: bool
    total: Tally = field(default_factory=Tally)
    by_county: dict[str, tuple[str, Tally]] = field(default_factory=dict)
    not_answered: list[Missing] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document."""

        def tally(t: Tally) -> dict[str, Any]:
            return {**asdict(t), "rate": round(t.rate, 4)}

        return {
            "round": self.round_id,
            "title": self.title,
            "status": self.status,
            "paused": self.paused,
            **tally(self.total),
            "by_county": [
                {"county": code, "county_name": name, **tally(t)}
                for code, (name, t) in sorted(self.by_county.items())
            ],
            "not_answered": [asdict(m) for m in self.not_answered],
        }


async def round_progress(session: AsyncSession, round_id: int) -> RoundProgress:
    """The response rate of one round; ``LookupError`` if there is no such round."""
    round_ = await session.get(Round, round_id)
    if round_ is None:
        raise LookupError(f"no round with id {round_id}")
    organisations = list(
        await session.scalars(
            select(Organisation)
            .join(RoundOrganisation, RoundOrganisation.organisation_id == Organisation.id)
            .where(RoundOrganisation.round_id == round_id)
            .order_by(Organisation.county_code, Organisation.code)
        )
    )
    invited = set(
        await session.scalars(
            select(RoundInvitee.organisation_id).where(RoundInvitee.round_id == round_id)
        )
    )
    statuses = dict(
        (
            await session.execute(
                select(Response.organisation_id, Response.status).where(
                    Response.round_id == round_id
                )
            )
        ).all()
    )
    progress = RoundProgress(
        round_id=round_.id,
        title=round_.title,
        status=round_.status,
        paused=round_.paused_at is not None,
    )
    for org in organisations:
        started = org.id in statuses
        was_invited = org.id in invited or started
        submitted = statuses.get(org.id) == "submitted"
        progress.total.add(was_invited, started, submitted)
        _, county = progress.by_county.setdefault(org.county_code, (org.county_name, Tally()))
        county.add(was_invited, started, submitted)
        if not submitted:
            progress.not_answered.append(
                Missing(org.code, org.name, org.county_code, was_invited, started)
            )
    return progress


def progress_lines(progress: RoundProgress, *, list_limit: int | None = None) -> list[str]:
    """The progress as Norwegian text lines (CLI and chat)."""
    total = progress.total
    state = {"planned": "planlagt", "open": "åpen", "closed": "stengt", "cancelled": "avlyst"}
    status = state.get(progress.status, progress.status) + (", på pause" if progress.paused else "")
    lines = [
        f"Runde {progress.round_id} «{progress.title}» – {status}",
        f"Invitert: {total.invited} av {total.organisations} · påbegynt: {total.started} · "
        f"sendt inn: {total.submitted} ({total.rate:.0%})",
        "",
        "Per fylke (sendt inn / medlemmer):",
    ]
    for _code, (name, tally) in sorted(progress.by_county.items()):
        lines.append(f"  {name}: {tally.submitted}/{tally.organisations} ({tally.rate:.0%})")
    missing = progress.not_answered
    if missing:
        lines += ["", f"Ikke svart ({len(missing)}; påbegynte og inviterte først):"]
        ordered = sorted(missing, key=lambda m: (not m.started, not m.invited, m.county, m.org))
        shown = ordered if list_limit is None else ordered[:list_limit]
        for m in shown:
            note = "påbegynt" if m.started else ("invitert" if m.invited else "ikke nådd")
            lines.append(f"  {m.org} {m.name} – {note}")
        if len(shown) < len(missing):
            lines.append(f"  … og {len(missing) - len(shown)} til (se lyttepost rounds status)")
    return lines
