"""Date formatting: in the reader's language for texts members read (pure: the zone is
passed in, the language is the one being spoken, ``dialogs.i18n``), and ISO 8601 for the
JSON documents the CLI and exports write."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from dialogs.i18n import date_text

# Staff-facing texts (the planning calendar) still spell months in bokmål; member-facing
# dates go through ``format_date``.
MONTHS_NB = (
    "januar", "februar", "mars", "april", "mai", "juni",
    "juli", "august", "september", "oktober", "november", "desember",
)  # fmt: skip


def format_date(moment: datetime, zone: ZoneInfo) -> str:
    """``15. desember 2026`` in the given zone, in the language being spoken."""
    return date_text(moment.astimezone(zone))


def format_datetime(moment: datetime, zone: ZoneInfo) -> str:
    """``15. desember 2026 kl. 12.00`` in the given zone, in the language being spoken."""
    return date_text(moment.astimezone(zone), with_time=True)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with its offset, or None: how JSON documents carry a moment that may be unset."""
    return moment.isoformat() if moment else None
