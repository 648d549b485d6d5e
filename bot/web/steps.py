"""The annual cycle's automatic steps in words staff understand (scheduler.timing.NextStep)."""

from __future__ import annotations

STEP_NAMES = {
    "open": "Runden åpner",
    "invite": "Invitasjonene sendes",
    "remind": "Påminnelse til dem som ikke har svart",
    "close": "Runden stenger",
    "notify-closed": "Medlemmene får beskjed om at runden er stengt",
}
