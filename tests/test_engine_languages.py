"""The survey conversation speaks the member's language (issue 15), through ``engine.step``.

One complete run (buttons, typed answers, wrong answers, pause and resume, back, the
review, a change, sending in, reopening and sending in again) in each language. The
survey's own texts are names and letters (the survey file's translations are another
module's work), so every line and button label the run produces is the engine's own,
and in nynorsk none may carry a bokmål-only word. The bokmål run must be exactly what
the engine said before the texts moved into the catalogue
(``tests/fixtures/engine_languages_nb.json``, written by the code before the move).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from dialogs import texts
from dialogs.catalogues import entries
from dialogs.engine import StepContext, parse_number, step
from dialogs.events import Begin, Control, Event, Pressed, Reopen, RoundClosed, TextEntered
from dialogs.i18n import LANGUAGES, SOURCE, speaking
from dialogs.messages import OutgoingMessage
from dialogs.model import Condition, Option, Question, Survey
from dialogs.state import ResponseState
from tests.bokmal_words import bokmal_words

GOLDEN = Path(__file__).parent / "fixtures" / "engine_languages_nb.json"

# Neutral texts: names, letters and symbols read the same in every language.
AREAS = (
    Option(value="alfa", label="Alfa"),
    Option(value="beta", label="Beta"),
    Option(value="gamma", label="Gamma"),
)
SURVEY = Survey(
    key="sprak",
    version=1,
    title="Sprak",
    intro="{contact_name} · {org_name} · {closes}",
    receipt="{org_name} ✓",
    questions=(
        Question(
            id="areas",
            type="multi",
            text="Alfa?",
            options=AREAS,
            min_select=1,
            max_select=2,
        ),
        Question(id="order", type="ranking", text="Beta?", options=AREAS, options_from="areas"),
        Question(id="grid", type="matrix", text="Gamma?", options=AREAS, options_from="areas"),
        Question(
            id="score", type="scale", text="Delta?", scale_min_label="Min", scale_max_label="Max"
        ),
        Question(id="ok", type="yesno", text="Epsilon?"),
        Question(
            id="kind",
            type="single",
            text="Zeta?",
            when=Condition(question="ok", equals=True),
            options=(Option(value="x", label="X-ray"), Option(value="y", label="Yankee")),
        ),
        Question(
            id="count",
            type="number",
            text="Eta?",
            number_min=0,
            number_max=1000,
            unit="kr",
            required=False,
        ),
        Question(
            id="share",
            type="number",
            text="Iota?",
            integer=False,
            number_min=0,
            number_max=100,
            unit="%",
            required=False,
        ),
        Question(
            id="note", type="text", text="Theta?", min_length=3, max_length=20, required=False
        ),
    ),
)

CONTEXT = StepContext(
    org_name="Oslo",
    contact_name="Kari",
    closes="15.12.2026",
    editable_until="20.12.2026",
    retention="",
)

# What a member of each language types: the yes and no words, «next», «and», a decimal.
WORDS = {
    "nb": {"yes": "ja", "no": "nei", "next": "neste", "and": "og", "decimal": "12,5"},
    "nn": {"yes": "jau", "no": "nei", "next": "neste", "and": "og", "decimal": "12,5"},
    "se": {"yes": "juo", "no": "ii", "next": "viidáset", "and": "ja", "decimal": "12,5"},
    "en": {"yes": "yes", "no": "no", "next": "next", "and": "and", "decimal": "12.5"},
}

Step = Callable[[dict[str, str]], Event]


def _say(text: str) -> Step:
    return lambda _words: TextEntered(text)


def _word(which: str) -> Step:
    return lambda words: TextEntered(words[which])


def _press(payload: str) -> Step:
    return lambda _words: Pressed(payload)


def _control(name: str) -> Step:
    return lambda _words: Control(name)  # type: ignore[arg-type]


def _event(event: Event) -> Step:
    return lambda _words: event


SCRIPT: list[Step] = [
    _event(Begin()),
    _press("n:areas"),  # nothing chosen: too few
    _press("t:areas:alfa"),
    _press("t:areas:beta"),
    _press("t:areas:gamma"),  # a third: only two allowed
    _say("Alfa, Beta, Gamma"),  # typed: too many
    _word("next"),  # «Neste» typed in the member's language
    _say("9 9"),  # not a ranking
    _say("2 1"),
    _say("Alfa 4"),  # one row: shown again with what was written
    _press("m:grid:alfa"),  # a row's label pressed
    _say("4 5"),
    _say("9"),  # off the scale
    _press("a:nope:1"),  # a button the survey does not know
    _press("a:score:3"),
    _say("kanskje"),  # neither yes nor no
    _word("yes"),
    _control("pause"),
    _press("a:score:4"),  # an old button during the pause
    _control("back"),  # a control during the pause
    _event(Begin()),  # /svar: welcome back
    _press("a:score:2"),  # an old question's button
    _say("Quebec"),  # no such option
    _say("2"),
    _say("abc"),  # not a number
    _say("5000"),  # out of range
    _say("12"),
    _control("back"),  # to the single question, with its current answer
    _control("back"),
    _word("yes"),  # yes/no again, now with a current answer
    _press("a:kind:x"),
    _control("skip"),  # count skipped this time
    _word("decimal"),  # the language's decimal mark
    _say("   "),  # an empty text
    _say("ab"),  # too short
    _say("x" * 30),  # too long
    _control("skip"),  # to the review
    _say("Quebec"),  # typed during the review
    _control("skip"),  # a control that means nothing on the review
    _press("e:ok"),  # change the yes/no
    _word("no"),  # kind is no longer asked: back to the review
    _press("e:kind"),  # not asked any more
    _control("submit"),
    _say("Quebec"),  # after sending in
    _event(Reopen()),
    _press("e:areas"),
    _press("t:areas:beta"),  # untick: the answer needs at least one
    _press("t:areas:gamma"),
    _press("n:areas"),  # the ranking and matrix of the new areas are missing now
    _say("1 2"),
    _control("review"),
    _control("submit"),  # the matrix is missing: taken now
    _say("3 3"),
    _control("submit"),
    _event(RoundClosed()),
]


def run(language: str, state: ResponseState | None = None) -> tuple[ResponseState, list[dict]]:
    """The whole script in ``language``: the final state and every message it produced."""
    context = replace(CONTEXT, language=language)
    current = state or ResponseState()
    transcript: list[dict] = []
    for number, make in enumerate(SCRIPT):
        result = step(SURVEY, current, make(WORDS[language]), context)
        current = result.state
        transcript.extend(
            {"step": number, "text": m.text, "buttons": [b.label for b in m.all_buttons()]}
            for m in result.messages
        )
    return current, transcript


def _texts(transcript: list[dict]) -> list[str]:
    return [m["text"] for m in transcript] + [label for m in transcript for label in m["buttons"]]


def test_the_run_reaches_the_same_answers_in_every_language() -> None:
    """Typed words, decimal marks and buttons work alike: every language ends the same."""
    finals = {language: run(language)[0] for language in LANGUAGES}
    nb = finals["nb"]
    assert nb.phase == "submitted"
    assert nb.answers == {
        "areas": ["alfa", "gamma"],
        "order": ["alfa", "gamma"],
        "grid": {"alfa": 3, "gamma": 3},
        "score": 3,
        "ok": False,
        "count": None,
        "share": 12.5,
        "note": None,
    }
    for language, state in finals.items():
        assert state.answers == nb.answers, language


def test_nynorsk_run_has_no_bokmal_word() -> None:
    _state, transcript = run("nn")
    found = {text: bokmal_words(text) for text in _texts(transcript) if bokmal_words(text)}
    assert found == {}
    everything = "\n".join(_texts(transcript))
    for nynorsk in (
        "Velkomen tilbake! Vi held fram der du slapp.",
        "Greitt, vi tek ein pause. Svara dine er lagra.",
        "Vel minst eitt alternativ.",
        "Du har alt valt 2.",
        "Svar «ja» eller «nei».",
        "Eg fann ikkje det alternativet.",
        "Skriv svaret som eit heilt tal, til dømes 12.",
        "Talet må vere frå 0 til 1000 kr.",
        "Noverande svar: Ja",
        "Her er svara dine:",
        "Det spørsmålet er ikkje aktuelt ut frå svara dine no.",
        "Endringane er sende inn.",
        "De kan endre svara til 20.12.2026: skriv /svar.",
        "Svaret for Oslo er alt sendt inn – takk!",
        "Svaret ditt er 2 teikn. Skriv minst 3 teikn.",
        "Svaret ditt er 30 teikn, men kan vere maks 20 teikn.",
    ):
        assert nynorsk in everything
    labels = {label for m in transcript for label in m["buttons"]}
    assert {"⬅️ Tilbake", "⏭ Hopp over", "⏸ Pause", "Neste ➡️", "✅ Send inn"} <= labels
    assert {"📋 Oversikt", "Endre 1", "Ja", "Nei"} <= labels


def test_bokmal_run_is_what_the_engine_said_before_the_catalogue() -> None:
    """Word for word, including the review, receipts and every error."""
    _state, transcript = run("nb")
    assert transcript == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_the_step_context_decides_the_language() -> None:
    """No language in the context is bokmål, whatever the caller happens to be speaking."""
    context = StepContext(org_name="Oslo", contact_name="Kari", closes="15.12.2026")
    with speaking("nn"):
        first = step(SURVEY, ResponseState(), Begin(), context).messages
    assert first == step(SURVEY, ResponseState(), Begin(), replace(context, language="nb")).messages
    assert "Velg 1–2, og trykk «Neste»." in first[-1].text
    with speaking("nb"):
        nynorsk = step(SURVEY, ResponseState(), Begin(), replace(context, language="nn"))
    assert "Vel 1–2, og trykk «Neste»." in nynorsk.messages[-1].text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            {"⬅️ Back", "⏭ Skip", "⏸ Pause", "Next ➡️", "✅ Submit", "📋 Overview", "Change 1"},
        ),
        (
            "se",
            {
                "⬅️ Ruovttoluotta",
                "⏭ Njuike badjel",
                "⏸ Boatkká",
                "Viidáset ➡️",
                "✅ Sádde",
                "📋 Geahčastat",
                "Rievdat 1",
            },
        ),
    ],
)
def test_english_and_sami_runs_use_their_labels(language: str, expected: set[str]) -> None:
    _state, transcript = run(language)
    labels = {label for m in transcript for label in m["buttons"]}
    assert expected <= labels
    nb_labels = {label for m in run("nb")[1] for label in m["buttons"]}
    assert not (labels & {"⬅️ Tilbake", "✅ Send inn", "📋 Oversikt", "Endre 1"})
    assert nb_labels != labels


def test_english_and_sami_refer_to_their_own_buttons() -> None:
    """A text that names a button uses the label the member sees on it."""
    _state, english = run("en")
    everything = "\n".join(m["text"] for m in english)
    assert "Press «Submit». To change something, press «Change» and the number." in everything
    assert "Tilbake" not in everything and "Neste" not in everything
    _state, sami = run("se")
    everything = "\n".join(m["text"] for m in sami)
    assert "Deaddil «Sádde»." in everything and "«Rievdat»" in everything


def still_true_state() -> ResponseState:
    previous = {"areas": ["alfa"], "score": 4, "ok": True, "kind": "y", "note": "Alfa"}
    return ResponseState(previous=previous)


@pytest.mark.parametrize("language", ["nn", "en", "se"])
def test_still_true_prompts_speak_the_language(language: str) -> None:
    context = replace(CONTEXT, language=language)
    state = still_true_state()
    results = []
    for event in (Begin(), Pressed("k:areas"), Pressed("x:score"), Pressed("a:score:5")):
        result = step(SURVEY, state, event, context)
        results.append(result)
        state = result.state
    messages: list[OutgoingMessage] = [m for r in results for m in r.messages]
    labels = [b.label for m in messages for b in m.all_buttons()]
    with speaking(language):
        assert texts.STILL_TRUE_INTRO in [m.text for m in messages]
        assert texts.KEEP_BUTTON in labels and texts.CHANGE_BUTTON in labels
    if language == "nn":
        assert "✅ Ja, framleis rett" in labels
        for text in [m.text for m in messages] + labels:
            assert bokmal_words(text) == [], text
    if language == "en":
        assert "✅ Yes, still right" in labels
    if language == "se":
        assert "✅ Juo, ain riekta" in labels


@pytest.mark.parametrize("language", LANGUAGES)
def test_bokmal_words_are_understood_in_every_language(language: str) -> None:
    """People mix: «ja», «nei», «neste» and «og» work whatever language is spoken."""
    context = replace(CONTEXT, language=language)
    yesno = Survey(
        key="ja",
        version=1,
        title="Ja",
        intro="-",
        receipt="-",
        questions=(
            Question(id="a", type="yesno", text="A?"),
            Question(id="b", type="yesno", text="B?"),
            Question(id="c", type="multi", text="C?", options=AREAS),
        ),
    )
    state = ResponseState()
    for event in (Begin(), TextEntered("Ja"), TextEntered("nei"), TextEntered("1 og 3")):
        state = step(yesno, state, event, context).state
    assert state.answers == {"a": True, "b": False, "c": ["alfa", "gamma"]}
    multi = step(yesno, state, Pressed("e:c"), context).state
    multi = step(yesno, multi, TextEntered("neste"), context).state
    assert multi.phase == "reviewing"


@pytest.mark.parametrize("language", LANGUAGES)
def test_typed_word_lists_do_not_contradict_each_other(language: str) -> None:
    with speaking(language):
        yes, no = texts.yes_words(), texts.no_words()
        assert yes and no and texts.next_words()
        assert not yes & no, "a word may not mean both yes and no"
        assert "ja" in yes and "nei" in no and "neste" in texts.next_words()


def test_every_old_text_name_has_a_bokmal_text() -> None:
    keys = set(entries(SOURCE))
    assert sorted(set(texts.NAMED_TEXTS.values()) - keys) == []
    typed = {"survey.typed.yes_words", "survey.typed.no_words", "survey.typed.next_words"}
    assert typed | {"survey.typed.and_words"} <= keys
    with pytest.raises(AttributeError):
        _ = texts.NO_SUCH_TEXT


@pytest.mark.parametrize(
    ("language", "typed", "integer", "expected"),
    [
        ("nb", "1.000", True, Decimal(1000)),
        ("nb", "12,5", False, Decimal("12.5")),
        ("nb", "12.5", False, Decimal("12.5")),
        ("en", "1,000", True, Decimal(1000)),
        ("en", "1,000,000", False, Decimal(1000000)),
        ("en", "12.5", False, Decimal("12.5")),
        ("en", "12,5", False, Decimal("12.5")),  # a Norwegian habit in an English chat
        ("en", "1,234.5", False, Decimal("1234.5")),
        ("en", "1.2.3", False, None),
        ("se", "12,5", False, Decimal("12.5")),
        ("nn", "1 000", True, Decimal(1000)),
    ],
)
def test_numbers_are_read_with_the_language_decimal_mark(
    language: str, typed: str, integer: bool, expected: Decimal | None
) -> None:
    with speaking(language):
        assert parse_number(typed, integer=integer) == expected


def test_counted_errors_take_their_plural_form_in_every_language() -> None:
    with speaking("en"):
        assert texts.text_too_short(1, 3) == (
            "Your answer is 1 character long. Write at least 3 characters."
        )
        assert texts.review_missing([2, 5, 7]).startswith(
            "You need to answer questions 2, 5, and 7 before"
        )
        assert texts.review_missing([2]).startswith("You need to answer question 2 before")
    with speaking("nn"):
        assert texts.review_missing([2, 5, 7]).startswith("Du må svare på spørsmål 2, 5 og 7 før")
        assert texts.multi_too_few(2) == "Vel minst 2 alternativ."
    with speaking("se"):
        assert texts.review_missing([2, 5]).startswith(
            "Don fertet vástidit gažaldagaide 2 ja 5 ovdal"
        )
        assert texts.multi_too_few(2) == "Vállje unnimusat 2 molssaeavttu."
