"""A member who reads only the newest message: the choices it makes for any question
it meets, so the engine tests and the end-to-end tests walk the shipped survey alike."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PROGRESS = re.compile(r"Spørsmål (\d+) · (?:om lag (\d+) igjen|snart ferdig)")


@dataclass
class Member:
    """Decides, from one message's text and buttons, what to press or write next.

    ``areas`` are the area option values to tick; ``skip_naming`` skips the naming
    question instead of answering it. ``seen`` records (position, estimate) of every
    question message it answered.
    """

    areas: tuple[str, ...]
    skip_naming: bool = False
    seen: list[tuple[int, int]] = field(default_factory=list)
    ticked: set[str] = field(default_factory=set)

    def progress(self, text: str) -> tuple[int, int] | None:
        match = PROGRESS.search(text)
        if match is None:
            return None
        return int(match.group(1)), int(match.group(2) or 0)

    def next_move(self, text: str, payloads: list[str]) -> tuple[str, str]:
        """("press", payload) or ("say", text) for the newest message."""
        self.note(text)
        if "c:submit" in payloads:
            return "press", "c:submit"
        toggles = [p for p in payloads if p.startswith("t:")]
        if toggles:
            qid = toggles[0].split(":")[1]
            wanted = (
                [p for p in toggles if p.split(":")[2] in self.areas]
                if qid == "omrader"
                else toggles[:1]
            )
            for payload in wanted:
                if payload not in self.ticked:
                    self.ticked.add(payload)
                    return "press", payload
            return "press", next(p for p in payloads if p.startswith("n:"))
        if "navngi" in "".join(payloads) or "med navnet" in text:
            if self.skip_naming and "c:skip" in payloads:
                return "press", "c:skip"
        answers = [p for p in payloads if p.startswith("a:")]
        if answers:
            middle = answers[len(answers) // 2] if ":losning:" not in answers[0] else answers[2]
            return "press", middle
        if "c:skip" in payloads and "Valgfritt" in text:
            return "press", "c:skip"
        return "say", "Vi trenger flere fagfolk og bedre verktøy."

    def note(self, text: str) -> None:
        found = self.progress(text)
        if found is not None and (not self.seen or self.seen[-1] != found):
            self.seen.append(found)
