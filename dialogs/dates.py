"""Date formatting: Norwegian for texts members read (pure: the zone is passed in), and
ISO 8601 for the JSON documents the CLI and exports write."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

MONTHS_NB = (
    "januar", "februar", "mars", "april", "mai", "juni",
    "juli", "august", "september", "oktober", "november", "desember",
)  # fmt: skip


def format_date(moment: datetime, zone: ZoneInfo) -> str:
    """``15. desember 2026`` in the given zone."""
    local = moment.astimezone(zone)
    return f"{local.day}. {MONTHS_NB[local.month - 1]} {local.year}"


def format_datetime(moment: datetime, zone: ZoneInfo) -> str:
    """``15. desember 2026 kl. 12.00`` in the given zone (Norwegian time notation)."""
    local = moment.astimezone(zone)
    return f"{format_date(moment, zone)} kl. {local.hour:02d}.{local.minute:02d}"


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with its offset, or None: how JSON documents carry a moment that may be unset."""
    return moment.isoformat() if moment else None
