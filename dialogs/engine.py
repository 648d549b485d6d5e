"""The conversation engine: one event in, the next state and the replies out.

``step`` is a pure function (no I/O, clock or randomness) so every path through a
survey can be tested with plain calls, and so the services can store the state after
every step. Member input never raises: anything unexpected becomes a transition that
leaves the state as it was and answers with a helpful message.

Button payloads (the engine owns them; question ids and option values never hold ':'):

- ``a:{qid}:{value}`` answer a single, scale (the number) or yes/no (``ja``/``nei``) question
- ``t:{qid}:{value}`` toggle an option of a multiple-choice question; ``n:{qid}`` confirms
- ``r:{qid}:{value}`` pick the next place of a ranking (again: unpick); ``n:{qid}`` confirms
- ``m:{qid}:{row}:{n}`` set a matrix cell (``m:{qid}:{row}``: its row label); ``n:{qid}`` confirms
- ``c:back|skip|pause|review|submit`` navigation, the same as ``Control`` events
- ``e:{qid}`` reopen an answer from the review
- ``k:{qid}`` keep last round's answer ("still true?"); ``x:{qid}`` change it instead
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import get_args

from babel.numbers import get_decimal_symbol

from dialogs import matrix, ranking, still_true, texts, type_texts
from dialogs.events import (
    Begin,
    Control,
    ControlName,
    Event,
    Pressed,
    Reopen,
    RoundClosed,
    TextEntered,
)
from dialogs.i18n import SOURCE, language, speaking, t
from dialogs.messages import OutgoingMessage
from dialogs.model import AnswerValue, Question, Survey
from dialogs.render import (
    answered_message,
    fill,
    missing_questions,
    needs_answer,
    question_message,
    review_message,
    review_submitted,
    short_label,
)
from dialogs.state import ResponseState

ENGINE_PREFIXES = ("a", "t", "n", "c", "e", "r", "m", still_true.KEEP, still_true.CHANGE)
CONTROL_NAMES: frozenset[str] = frozenset(get_args(ControlName))
MAX_PAYLOAD = 256  # longer payloads are never ours
MAX_NUMBER_INPUT = 40  # characters; anything longer is not a number a person means


@dataclass(frozen=True)
class StepContext:
    """Who is answering and the deadline, for placeholders and reminders."""

    org_name: str
    contact_name: str
    closes: str  # already formatted deadline, e.g. "15. desember 2026"
    # Until when a submitted response can be changed (formatted); None: it cannot.
    editable_until: str | None = None
    retention: str = ""  # how long free text is kept after the round, e.g. "24 måneder"
    # The language the member reads (dialogs/i18n.py): every text of this step is in it.
    # The survey passed to ``step`` must be the same language's (``Survey.in_language``).
    language: str = SOURCE


@dataclass(frozen=True)
class StepResult:
    """The new state, the replies, and whether this step submitted the response."""

    state: ResponseState
    messages: list[OutgoingMessage]
    submitted: bool = False


def is_engine_payload(payload: str) -> bool:
    """Whether a button payload belongs to the engine (services route others elsewhere)."""
    if payload.startswith("r:") and payload.count(":") < 2:
        return False  # "r:{round id}" starts a round (dialogs/notices.py); rankings are r:{qid}:{v}
    return len(payload) >= 2 and payload[0] in ENGINE_PREFIXES and payload[1] == ":"


def step(survey: Survey, state: ResponseState, event: Event, context: StepContext) -> StepResult:
    """Apply one member event to a copy of ``state``."""
    turn = _Turn(survey, state.model_copy(deep=True), context)
    with speaking(context.language):
        turn.handle(event)
    return StepResult(state=turn.state, messages=turn.messages, submitted=turn.submitted)


@dataclass(frozen=True)
class _Press:
    """A parsed engine payload."""

    kind: str
    target: str
    value: str = ""


def _parse_payload(payload: str) -> _Press | None:
    if not is_engine_payload(payload) or len(payload) > MAX_PAYLOAD:
        return None
    kind, parts = payload[0], payload[2:].split(":")
    if kind == "m":  # m:{qid}:{row}:{n}, or m:{qid}:{row} for a row's label
        if len(parts) not in (2, 3) or not all(parts):
            return None
        return _Press(kind, parts[0], ":".join(parts[1:]))
    if kind in ("a", "t", "r"):
        if len(parts) != 2 or not parts[0] or not parts[1]:
            return None
        return _Press(kind, parts[0], parts[1])
    if len(parts) != 1 or not parts[0]:
        return None
    if kind == "c" and parts[0] not in CONTROL_NAMES:
        return None
    return _Press(kind, parts[0])


@dataclass(frozen=True)
class _Invalid:
    """Member input that does not answer the question, with the reason to show."""

    message: str


@dataclass
class _Turn:
    """One step's work on a private copy of the state."""

    survey: Survey
    state: ResponseState
    context: StepContext
    messages: list[OutgoingMessage] = field(default_factory=list)
    submitted: bool = False

    # -- plumbing ---------------------------------------------------------------

    def say(self, text: str) -> None:
        self.messages.append(OutgoingMessage(text=text))

    def reask(self, problem: str) -> None:
        """Say what was wrong *in* the current question's message, buttons and all, so a
        member who reads only the last message can answer from there (no scrolling up)."""
        question = self.current() if self.state.phase == "answering" else None
        if question is None:
            self.say(problem)
            return
        asked = question_message(self.survey, self.state, question, self.context)
        self.messages.append(asked.model_copy(update={"text": f"{problem}\n\n{asked.text}"}))

    def order(self, question_id: str) -> int:
        try:
            return self.survey.index_of(question_id)
        except ValueError:
            return len(self.survey.questions)

    def asked(self) -> list[Question]:
        return self.survey.asked_questions(self.state.answers)

    def current(self) -> Question | None:
        if self.state.current is None:
            return None
        return self.survey.question(self.state.current)

    def first_unanswered(self) -> Question | None:
        return next((q for q in self.asked() if needs_answer(q, self.state.answers)), None)

    def selection_from_answer(self, question: Question) -> list[str]:
        value = self.state.answers.get(question.id)
        return _in_option_order(question, value if isinstance(value, list) else [])

    # -- repairs ----------------------------------------------------------------

    def normalise(self) -> None:
        """Make an old or odd state consistent with the survey before acting on it.

        A no-op for every state the engine itself produces; it protects against a
        survey that changed under a stored state, or a hand-edited row.
        """
        state = self.state
        known = {q.id for q in self.survey.questions}
        seen: set[str] = set()
        history: list[str] = []
        for qid in state.history:
            if qid in known and qid not in seen:
                seen.add(qid)
                history.append(qid)
        state.history = history
        if state.phase == "paused" and state.paused_from is None:
            state.paused_from = "answering"
        on_question = state.phase == "answering" or (
            state.phase == "paused" and state.paused_from == "answering"
        )
        if on_question:
            asked_ids = {q.id for q in self.asked()}
            if state.current not in asked_ids:
                target = self.first_unanswered()
                if target is not None:
                    state.current = target.id
                    state.selection = self.selection_from_answer(target)
                elif state.phase == "answering":
                    state.phase = "reviewing"
                else:
                    state.paused_from = "reviewing"
        question = self.current()
        if question is not None and question.type == "multi" and on_question:
            state.selection = _in_option_order(question, state.selection)
        elif question is not None and question.type == "ranking" and on_question:
            state.selection = ranking.kept(question, state.selection, state.answers)
        else:
            state.selection = []
        if question is not None and question.type == "matrix" and on_question:
            state.grid = matrix.kept(question, state.grid, state.answers)
        else:
            state.grid = {}

    # -- dispatch ---------------------------------------------------------------

    def handle(self, event: Event) -> None:
        self.normalise()
        phase = self.state.phase
        if phase == "submitted":
            if isinstance(event, Reopen):
                self.reopen()
            else:
                self.submitted_notice()
        elif isinstance(event, RoundClosed):
            self.close()
        elif phase == "closed":
            self.say(texts.round_closed(self.context.org_name))
        elif phase == "not_started":
            self.start()
        elif isinstance(event, Begin | Reopen):
            self.resume()
        elif isinstance(event, Control):
            self.control(event.name)
        elif isinstance(event, TextEntered):
            self.typed(event.text)
        elif isinstance(event, Pressed):
            self.pressed(event.payload)
        else:  # not a member event the engine knows
            self.say(t("survey.nav.unknown_input"))

    def start(self) -> None:
        self.messages.append(OutgoingMessage(text=fill(self.survey.intro, self.context)))
        if self.state.previous:
            self.say(t("survey.still_true.intro"))
        first = next(iter(self.asked()), None)
        if first is None:
            self.show_review()
        else:
            self.go_to(first)

    def resume(self) -> None:
        state = self.state
        if state.phase == "paused":
            resume_review = state.paused_from == "reviewing"
            state.phase = "reviewing" if resume_review else "answering"
            state.paused_from = None
            self.say(
                t("survey.nav.welcome_back_review")
                if resume_review
                else t("survey.nav.welcome_back")
            )
        if state.phase == "reviewing":
            self.messages.append(review_message(self.survey, state, self.context))
        else:
            self.show_current()

    def close(self) -> None:
        if self.state.reopened:
            self.close_reopened()
            return
        self.state.phase = "closed"
        self.state.paused_from = None
        self.state.editing = False
        self.state.selection = []
        self.say(texts.round_closed(self.context.org_name))

    # -- controls ---------------------------------------------------------------

    def control(self, name: str) -> None:
        if self.state.phase == "paused":
            self.control_while_paused(name)
        elif name == "back":
            self.back()
        elif name == "skip":
            self.skip()
        elif name == "pause":
            self.pause()
        elif name == "review":
            self.show_review()
        elif name == "submit":
            self.submit()
        else:
            self.say(t("survey.nav.unknown_button"))

    def control_while_paused(self, name: str) -> None:
        """Review and submit resume where that is safe; the rest asks for /svar."""
        state = self.state
        if name == "pause":
            self.say(texts.paused(self.context.closes))
        elif name == "review":
            state.paused_from = None
            self.show_review()
        elif name == "submit":
            state.phase = state.paused_from or "answering"
            state.paused_from = None
            self.submit()
        else:
            self.say(t("survey.nav.paused_reminder"))

    def back(self) -> None:
        """From the review: the last asked question. Otherwise: the one before."""
        state = self.state
        asked = self.asked()
        if state.phase == "reviewing":
            if not asked:
                self.say(t("survey.nav.first_question"))
                return
            state.editing = False
            self.go_to(asked[-1])
            return
        # The previous asked question in survey order: in a straight walk that is the
        # top of the history, and after an edit or a changed condition it is still the
        # question the member expects, never one that is no longer asked.
        before = self.order(state.current or "")
        target = next((q for q in reversed(asked) if self.order(q.id) < before), None)
        if target is None:
            self.reask(t("survey.nav.first_question"))
        else:
            self.go_to(target)

    def skip(self) -> None:
        question = self.current()
        if self.state.phase != "answering" or question is None:
            self.say(texts.review_typed(not missing_questions(self.survey, self.state.answers)))
            return
        if question.required:
            self.reask(t("survey.nav.must_answer"))
            return
        self.record(question, question.if_skipped)

    def pause(self) -> None:
        state = self.state
        state.paused_from = "reviewing" if state.phase == "reviewing" else "answering"
        state.phase = "paused"
        self.say(texts.paused(self.context.closes))

    def submit(self) -> None:
        state = self.state
        if state.phase != "reviewing":
            self.show_review()
            return
        missing = missing_questions(self.survey, state.answers)
        if missing:
            self.say(texts.submit_missing([short_label(q, self.context) for q in missing]))
            state.editing = True
            self.go_to(missing[0])
            return
        review = review_message(self.survey, state, self.context)
        state.answers = self.survey.effective_answers(state.answers)
        resubmitted = state.reopened
        self.settle_submitted()
        self.submitted = True
        self.messages.append(review_submitted(review))
        receipt = fill(self.survey.receipt, self.context).rstrip()
        if resubmitted:
            receipt = f"{t('survey.receipt.changes_submitted')}\n\n{receipt}"
        if self.context.editable_until:
            receipt = f"{receipt}\n\n{texts.editable_until(self.context.editable_until)}"
        self.messages.append(OutgoingMessage(text=receipt))

    # -- a submitted response opened again ---------------------------------------

    def reopen(self) -> None:
        """The review of what was sent in, with "Endre" for each answer; sending it in
        again replaces the submission (the services keep the old one in force till then)."""
        if self.context.editable_until is None:
            self.submitted_notice()
            return
        self.state.reopened = True
        self.say(texts.reopened(self.context.editable_until))
        self.show_review()

    def submitted_notice(self) -> None:
        text = texts.already_submitted(self.context.org_name)
        if self.context.editable_until:
            text = f"{text}\n{texts.submitted_change_hint(self.context.editable_until)}"
        self.say(text)

    def close_reopened(self) -> None:
        """The round closed before the changes were sent in: the submission stands."""
        self.settle_submitted()
        self.say(texts.round_closed_while_reopened(self.context.org_name))

    def settle_submitted(self) -> None:
        """Phase ``submitted`` with nothing on screen: after sending in, or when a round
        closes on a response reopened for changes."""
        state = self.state
        state.phase = "submitted"
        state.reopened = False
        state.current = None
        state.history = []
        state.selection = []
        state.editing = False
        state.paused_from = None

    # -- moving between questions -----------------------------------------------

    def go_to(self, question: Question, *, push_current: bool = False) -> None:
        """Put ``question`` on screen; history keeps only questions before it, in order."""
        state = self.state
        if push_current and state.current is not None:
            state.history.append(state.current)
        limit = self.order(question.id)
        kept: list[str] = []
        for qid in state.history:
            if self.order(qid) < limit and qid not in kept:
                kept.append(qid)
        state.history = kept
        state.current = question.id
        state.phase = "answering"
        state.paused_from = None
        state.selection = self.selection_from_answer(question) if question.type == "multi" else []
        if question.type == "ranking":
            state.selection = ranking.from_answer(question, state.answers)
        state.grid = (
            matrix.from_answer(question, state.answers) if question.type == "matrix" else {}
        )
        self.show_current()

    def show_current(self) -> None:
        question = self.current()
        if question is None:  # only an empty survey gets here
            self.show_review()
            return
        if still_true.offered(self.state, question):
            self.messages.append(still_true.prompt(self.survey, self.state, question, self.context))
            return
        self.messages.append(question_message(self.survey, self.state, question, self.context))

    def show_review(self) -> None:
        state = self.state
        state.phase = "reviewing"
        state.editing = False
        state.selection = []
        state.grid = {}
        state.paused_from = None
        self.messages.append(review_message(self.survey, state, self.context))

    def record(self, question: Question, value: AnswerValue) -> None:
        """Store an answer to the current question and move on."""
        self.state.answers[question.id] = value
        self.state.selection = []
        self.state.grid = {}
        if question.id in self.state.kept:  # answered afresh: no longer "kept as it was"
            self.state.kept.remove(question.id)
        self.messages.append(answered_message(self.survey, self.state, question, self.context))
        self.advance(question)

    def advance(self, question: Question) -> None:
        """The next asked question; while editing, the first one still without an answer."""
        state = self.state
        if state.editing:
            target = self.first_unanswered()
        else:
            position = self.order(question.id)
            target = next((q for q in self.asked() if self.order(q.id) > position), None)
        if target is None:
            state.history.append(question.id)
            state.history = list(dict.fromkeys(state.history))
            self.show_review()
        else:
            self.go_to(target, push_current=True)

    def edit(self, question_id: str) -> None:
        """Reopen an answer; answering it returns to the review once nothing is missing."""
        question = self.survey.question(question_id)
        if question is None:
            self.unknown_button()
            return
        if question.id not in {q.id for q in self.asked()}:
            self.say(t("survey.nav.not_applicable"))
            return
        self.state.editing = True
        self.go_to(question)

    # -- buttons ----------------------------------------------------------------

    def unknown_button(self) -> None:
        if self.state.phase == "answering":
            self.reask(t("survey.nav.unknown_button"))
            return
        self.say(t("survey.nav.unknown_button") + " " + self.where_hint())

    def where_hint(self) -> str:
        if self.state.phase == "reviewing":
            return t("survey.nav.hint_in_review")
        if self.state.phase == "paused":
            return t("survey.nav.hint_while_paused")
        return t("survey.nav.hint_on_question")

    def stale(self) -> None:
        phase = self.state.phase
        if phase == "reviewing":
            self.say(t("survey.nav.stale_reviewing"))
        elif phase == "paused":
            self.say(t("survey.nav.stale_paused"))
        else:
            self.reask(t("survey.nav.stale_answering"))

    def pressed(self, payload: str) -> None:
        """Answer buttons only count for the question on screen; others are stale."""
        press = _parse_payload(payload)
        if press is None:
            self.unknown_button()
            return
        if press.kind == "c":
            self.control(press.target)
            return
        if press.kind == "e":
            self.edit(press.target)
            return
        question = self.survey.question(press.target)
        if question is None:
            self.unknown_button()
            return
        if self.state.phase != "answering" or self.state.current != question.id:
            self.stale()
            return
        if press.kind == "t" and question.type == "multi":
            self.toggle(question, press.value)
        elif press.kind == "n" and question.type == "multi":
            self.confirm(question)
        elif press.kind in ("r", "m", "n") and question.type in ("ranking", "matrix"):
            self.pressed_ordered(question, press)
        elif press.kind in (still_true.KEEP, still_true.CHANGE):
            self.still_true(question, keep=press.kind == still_true.KEEP)
        elif press.kind == "a" and question.type in ("single", "scale", "yesno"):
            value = _pressed_value(question, press.value)
            if value is None:
                self.unknown_button()
            else:
                self.record(question, value)
        else:
            self.unknown_button()

    def still_true(self, question: Question, *, keep: bool) -> None:
        """Keep last round's answer, or show the ordinary question to change it."""
        value = still_true.previous_value(self.state, question)
        if value is None:
            self.unknown_button()
        elif keep:
            self.record(question, value)
            self.state.kept.append(question.id)
        else:
            if question.id not in self.state.answers:
                self.state.selection = still_true.change_selection(self.state, question)
            self.messages.append(
                question_message(self.survey, self.state, question, self.context, replace=True)
            )

    def toggle(self, question: Question, value: str) -> None:
        if question.option(value) is None:
            self.unknown_button()
            return
        selection = list(self.state.selection)
        if value in selection:
            selection.remove(value)
        else:
            if question.max_select is not None and len(selection) >= question.max_select:
                self.reask(texts.multi_full(question.max_select))
                return
            selection.append(value)
        self.state.selection = _in_option_order(question, selection)
        self.messages.append(
            question_message(self.survey, self.state, question, self.context, replace=True)
        )

    def confirm(self, question: Question) -> None:
        chosen = _in_option_order(question, self.state.selection)
        problem = _count_problem(question, chosen)
        if problem is not None:
            self.reask(problem)
            return
        self.record(question, chosen)

    def pressed_ordered(self, question: Question, press: _Press) -> None:
        """Ranking picks and matrix cells (``dialogs/ranking.py``, ``dialogs/matrix.py``)."""
        answers = self.state.answers
        if press.kind == "n":
            value: AnswerValue | str = (
                ranking.confirm(question, self.state.selection, answers)
                if question.type == "ranking"
                else matrix.confirm(question, self.state.grid, answers)
            )
            if isinstance(value, str):
                self.reask(value)
            else:
                self.record(question, value)
            return
        problem: str | None = None
        if press.kind == "r" and question.type == "ranking":
            picks = ranking.pick(question, self.state.selection, press.value, answers)
            if picks is None:
                self.unknown_button()
                return
            if isinstance(picks, str):
                problem = picks
            else:
                self.state.selection = picks
        elif press.kind == "m" and question.type == "matrix" and ":" not in press.value:
            label = matrix.row_label(question, press.value, answers)
            if label is None:
                self.unknown_button()
                return
            problem = type_texts.matrix_row_pressed(label, question.scale_min, question.scale_max)
        elif press.kind == "m" and question.type == "matrix":
            grid = matrix.set_cell(question, self.state.grid, press.value, answers)
            if grid is None:
                self.unknown_button()
                return
            self.state.grid = grid
        else:
            self.unknown_button()
            return
        if problem is not None:
            self.reask(problem)
        else:
            self.messages.append(
                question_message(self.survey, self.state, question, self.context, replace=True)
            )

    def typed_ordered(self, question: Question, text: str) -> None:
        """A written ranking, or matrix cells: complete answers are recorded, a matrix that
        still lacks rows is shown again with what was written filled in."""
        answers = self.state.answers
        if _normal(text) in texts.next_words():
            self.pressed_ordered(question, _Press("n", question.id))
            return
        if question.type == "ranking":
            value: list[str] | dict[str, int] | str = ranking.typed(question, text, answers)
        else:
            value = matrix.typed(question, text, self.state.grid, answers)
        if isinstance(value, str):
            self.reask(value)
        elif isinstance(value, dict) and not matrix.complete(question, value, answers):
            self.state.grid = value
            self.show_current()
        else:
            self.record(question, value)

    # -- typed text -------------------------------------------------------------

    def typed(self, text: str) -> None:
        state = self.state
        if state.phase == "paused":
            # Writing an answer is the clearest way to say "let's go on".
            state.phase = state.paused_from or "answering"
            state.paused_from = None
        if state.phase == "reviewing":
            self.say(texts.review_typed(not missing_questions(self.survey, state.answers)))
            return
        question = self.current()
        if question is None:
            self.show_review()
            return
        if question.type in ("ranking", "matrix"):
            self.typed_ordered(question, text)
            return
        if question.type == "multi" and _normal(text) in texts.next_words():
            self.confirm(question)
            return
        value = _typed_value(question, text)
        if isinstance(value, _Invalid):
            self.reask(value.message)
        else:
            self.record(question, value)


# -- reading answers ------------------------------------------------------------

_SCALE_VALUE = re.compile(r"[+-]?[0-9]{1,6}")
_POSITION = re.compile(r"[0-9]{1,6}")
# The yes/no buttons' places: "1" is the first button (yes) in every language. The words
# are the language's (``texts.yes_words``: the catalogue's list, and bokmål's).
_YES_POSITION = "1"
_NO_POSITION = "2"
_LIST_MARKS = r"[,;/\n]"
_NUMBER_BODY = re.compile(r"[0-9]+(?:[.,][0-9]+)*")


def _in_option_order(question: Question, values: list[str]) -> list[str]:
    """Known option values, each once, in the order the question lists them."""
    chosen = set(values)
    return [o.value for o in question.options if o.value in chosen]


def _normal(text: str) -> str:
    """Case-folded, whitespace collapsed, surrounding punctuation and quotes removed."""
    return " ".join(text.casefold().split()).strip(" .!?«»\"'“”")


def _pressed_value(question: Question, value: str) -> str | int | bool | None:
    """The stored value of an answer button, or None if the payload does not fit it."""
    if question.type == "single":
        return value if question.option(value) is not None else None
    if question.type == "yesno":
        return {"ja": True, "nei": False}.get(value)
    if _SCALE_VALUE.fullmatch(value):
        number = int(value)
        if question.scale_min <= number <= question.scale_max:
            return number
    return None


def _typed_value(question: Question, text: str) -> AnswerValue | _Invalid:
    if question.type == "single":
        return _typed_option(question, text)
    if question.type == "multi":
        return _typed_options(question, text)
    if question.type == "scale":
        raw = text.strip()
        if _SCALE_VALUE.fullmatch(raw) and question.scale_min <= int(raw) <= question.scale_max:
            return int(raw)
        return _Invalid(texts.scale_invalid(question.scale_min, question.scale_max))
    if question.type == "yesno":
        word = _normal(text)
        if word == _YES_POSITION or word in texts.yes_words():
            return True
        if word == _NO_POSITION or word in texts.no_words():
            return False
        return _Invalid(t("survey.error.yesno_invalid"))
    if question.type == "text":
        return _typed_text(question, text)
    return _typed_number(question, text)


def _match_option(question: Question, word: str) -> str | None:
    """An option by label, position (1-based) or stored value."""
    for option in question.options:
        if _normal(option.label) == word:
            return option.value
    if _POSITION.fullmatch(word) and 1 <= int(word) <= len(question.options):
        return question.options[int(word) - 1].value
    for option in question.options:
        if option.value.casefold() == word:
            return option.value
    return None


def _typed_option(question: Question, text: str) -> str | _Invalid:
    value = _match_option(question, _normal(text))
    if value is None:
        return _Invalid(texts.single_invalid(len(question.options)))
    return value


def _typed_options(question: Question, text: str) -> list[str] | _Invalid:
    invalid = _Invalid(texts.multi_invalid(len(question.options)))
    whole = _match_option(question, _normal(text))
    chosen: list[str] = [whole] if whole is not None else []
    for part in [] if whole is not None else _multi_separators().split(text):
        word = _normal(part)
        if not word:
            continue
        value = _match_option(question, word)
        if value is not None:
            chosen.append(value)
            continue
        for token in word.split():
            value = _match_option(question, token) if _POSITION.fullmatch(token) else None
            if value is None:
                return invalid
            chosen.append(value)
    if not chosen:
        return invalid
    ordered = _in_option_order(question, chosen)
    problem = _count_problem(question, ordered)
    return _Invalid(problem) if problem is not None else ordered


def _multi_separators() -> re.Pattern[str]:
    """What separates typed choices: list marks, ``&``, and the language's «and» words."""
    return re.compile(rf"{_LIST_MARKS}|{texts.and_separator().pattern}", re.IGNORECASE)


def _count_problem(question: Question, chosen: list[str]) -> str | None:
    """Why this many options is not allowed, or None."""
    if len(chosen) < question.min_select:
        return texts.multi_too_few(question.min_select)
    if question.max_select is not None and len(chosen) > question.max_select:
        return texts.multi_too_many(question.max_select)
    return None


def _typed_text(question: Question, text: str) -> str | _Invalid:
    value = text.strip()
    if not value:
        return _Invalid(t("survey.error.text_empty"))
    if len(value) < question.min_length:
        return _Invalid(texts.text_too_short(len(value), question.min_length))
    if len(value) > question.max_length:
        return _Invalid(texts.text_too_long(len(value), question.max_length))
    return value


def parse_number(
    text: str, *, integer: bool, unit: str | None = None, decimal_mark: str | None = None
) -> Decimal | None:
    """A number as people type it: "12", "12,5", "1 000", "-3", "1.000.000", "40 %".

    Spaces group thousands. With both ',' and '.', the last one is the decimal mark.
    Alone, the language's own decimal mark (``decimal_mark``; by default the language
    being spoken: ',' in Norwegian and Sámi, '.' in English) is a decimal mark; the other
    mark followed by exactly three digits groups thousands in whole-number questions
    ("1.000" in Norwegian, "1,000" in English) and is a decimal mark otherwise, since
    people mix ("12.5" in a Norwegian chat, "12,5" in an English one).
    """
    own = decimal_mark or get_decimal_symbol(language())
    own = "." if own == "." else ","
    other = "," if own == "." else "."
    raw = text.strip()
    if not raw or len(raw) > MAX_NUMBER_INPUT:
        return None
    raw = raw.replace("\u2212", "-").replace("\u2013", "-")
    if unit and raw[-len(unit) :].casefold() == unit.casefold():
        raw = raw[: -len(unit)]
    raw = "".join(raw.split())
    sign = ""
    if raw[:1] in ("-", "+"):
        sign, raw = raw[0].replace("+", ""), raw[1:]
    if not _NUMBER_BODY.fullmatch(raw):
        return None
    whole, fraction = raw, ""
    owns, others = raw.count(own), raw.count(other)
    if owns and others:
        last_mark = "," if raw.rfind(",") > raw.rfind(".") else "."
        group_mark = "." if last_mark == "," else ","
        if raw.count(last_mark) != 1:
            return None
        whole, fraction = raw.split(last_mark)
        if not _grouped(whole, group_mark):
            return None
        whole = whole.replace(group_mark, "")
    elif owns:
        if owns != 1:
            return None
        whole, fraction = raw.split(own)
    elif others:
        groups_thousands = _grouped(raw, other) and (others > 1 or integer)
        if groups_thousands:
            whole = raw.replace(other, "")
        elif others == 1:
            whole, fraction = raw.split(other)
        else:
            return None
    try:
        return Decimal(f"{sign}{whole}.{fraction or '0'}")
    except InvalidOperation:  # pragma: no cover - the patterns above rule it out
        return None


def _grouped(text: str, mark: str) -> bool:
    """``1.000.000``: a first group of 1–3 digits, then groups of exactly three."""
    groups = text.split(mark)
    return 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


def _typed_number(question: Question, text: str) -> int | float | _Invalid:
    number = parse_number(text, integer=question.integer, unit=question.unit)
    if number is None:
        return _Invalid(texts.number_invalid(question.integer))
    whole = number == number.to_integral_value()
    if question.integer and not whole:
        return _Invalid(t("survey.error.number_not_integer"))
    low, high = question.number_min, question.number_max
    if (low is not None and number < Decimal(str(low))) or (
        high is not None and number > Decimal(str(high))
    ):
        return _Invalid(texts.number_out_of_range(low, high, question.unit))
    return int(number) if whole else float(number)
