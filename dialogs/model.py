"""The compiled survey model: what the engine walks through.

A survey file (see ``dialogs/definition.py``) may declare follow-up questions per
option; loading *compiles* those into this flat, ordered list where every question
carries the full condition under which it is asked. The engine therefore only
knows one rule: ask the next question, in order, whose condition holds.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dialogs.i18n import SOURCE as SOURCE_LANGUAGE  # what other languages fall back to

QuestionType = Literal["single", "multi", "scale", "yesno", "text", "number", "ranking", "matrix"]

# What a yes to a consent question lets KS show with the organisation's name: its needs
# only, or everything it wrote in its own words (needs, comments, criticism).
ConsentScope = Literal["needs", "free_text"]

# What an answer may hold once stored. ``None`` means the member skipped an optional question.
# A ranking is its option values in order (most important first); a matrix maps each row's
# value to the number chosen for it.
AnswerValue = str | int | float | bool | list[str] | dict[str, int] | None

_FROZEN = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Option(BaseModel):
    """One choice of a single- or multiple-choice question; ``value`` is what is stored."""

    model_config = _FROZEN

    value: str
    label: str
    # The label in other languages than bokmål, by language code (``Survey.in_language``).
    translations: dict[str, str] = Field(default_factory=dict)

    def in_language(self, language: str) -> Option:
        """This option with its label in ``language`` (bokmål if it has none); same value."""
        label = self.translations.get(language)
        return self if label is None else self.model_copy(update={"label": label})


class Condition(BaseModel):
    """A test on earlier answers; exactly one operator is set.

    Leaf operators name a ``question``: ``equals``, ``includes`` (a multi answer contains
    the value), ``one_of`` (the answer is one of the values), ``at_least`` / ``at_most``
    (numbers and scales), ``answered`` (true: has a non-skipped answer).
    Combinators: ``all``, ``any``, ``not``.
    """

    model_config = _FROZEN

    question: str | None = None
    equals: str | int | float | bool | None = None
    includes: str | None = None
    one_of: list[str | int | float | bool] | None = None
    at_least: float | None = None
    at_most: float | None = None
    answered: bool | None = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _exactly_one_operator(self) -> Condition:
        leaf = [
            name
            for name in ("equals", "includes", "one_of", "at_least", "at_most", "answered")
            if getattr(self, name) is not None
        ]
        combinators = [name for name in ("all", "any", "not_") if getattr(self, name) is not None]
        if len(leaf) + len(combinators) != 1:
            raise ValueError(
                "a condition needs exactly one of equals, includes, one_of, at_least, "
                "at_most, answered, all, any, not"
            )
        if leaf and not self.question:
            raise ValueError(f"'{leaf[0]}' needs 'question' naming an earlier question")
        if combinators and self.question:
            raise ValueError("'question' goes inside the conditions of all/any/not")
        return self

    def referenced_questions(self) -> set[str]:
        """Every question id this condition reads, for validation."""
        found: set[str] = {self.question} if self.question else set()
        for child in (self.all or []) + (self.any or []):
            found |= child.referenced_questions()
        if self.not_ is not None:
            found |= self.not_.referenced_questions()
        return found

    def holds(self, answers: dict[str, AnswerValue]) -> bool:
        """Evaluate against the answers given so far; a missing answer never matches."""
        if self.all is not None:
            return all(c.holds(answers) for c in self.all)
        if self.any is not None:
            return any(c.holds(answers) for c in self.any)
        if self.not_ is not None:
            return not self.not_.holds(answers)
        assert self.question is not None
        value = answers.get(self.question)
        if self.answered is not None:
            return (value is not None) == self.answered
        if value is None:
            return False
        if self.equals is not None:
            return _same(value, self.equals)
        if self.includes is not None:
            return isinstance(value, list) and self.includes in value
        if self.one_of is not None:
            return any(_same(value, v) for v in self.one_of)
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        if self.at_least is not None:
            return value >= self.at_least
        if self.at_most is not None:
            return value <= self.at_most
        return False  # pragma: no cover - the validator guarantees one operator


def _same(value: AnswerValue, expected: Any) -> bool:
    """Compare without letting ``True == 1`` blur yes/no and numeric answers."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return isinstance(value, bool) and isinstance(expected, bool) and value == expected
    return bool(value == expected)


class Question(BaseModel):
    """One question of a compiled survey.

    ``group`` and ``template`` are set on questions generated from follow-ups: ``group``
    is the option value that caused them (e.g. a priority area), ``template`` the id of
    the follow-up they were made from, so reports can gather them across areas.
    ``consent_to_name`` marks the yes/no question whose yes lets KS show the organisation's
    name with its free text in what is shared, and says which free text its wording covers.
    """

    model_config = _FROZEN

    id: str
    type: QuestionType
    text: str
    label: str | None = None
    help: str | None = None
    required: bool = True
    when: Condition | None = None
    options: tuple[Option, ...] = ()
    min_select: int = 1
    max_select: int | None = None
    scale_min: int = 1
    scale_max: int = 5
    scale_min_label: str | None = None
    scale_max_label: str | None = None
    min_length: int = 1
    max_length: int = 1000
    number_min: float | None = None
    number_max: float | None = None
    integer: bool = True
    unit: str | None = None
    group: str | None = None
    template: str | None = None
    consent_to_name: ConsentScope | None = None
    options_from: str | None = None
    rank_count: int | None = None
    if_skipped: bool | None = None  # yesno: what a skip stands for (None: not answered)
    # Texts in other languages than bokmål: language -> field name (text, label, help,
    # scale_min_label, scale_max_label, unit) -> text. Option labels are on the options.
    translations: dict[str, dict[str, str]] = Field(default_factory=dict)

    def in_language(self, language: str) -> Question:
        """This question with every text in ``language``, each falling back to bokmål."""
        texts = self.translations.get(language, {})
        options = tuple(option.in_language(language) for option in self.options)
        if not texts and options == self.options:
            return self
        return self.model_copy(update={**texts, "options": options})

    def option(self, value: str) -> Option | None:
        """The option with this stored value, if any."""
        return next((o for o in self.options if o.value == value), None)

    def choices(self, answers: dict[str, AnswerValue]) -> tuple[Option, ...]:
        """The options (a matrix: rows) on offer: all of them, or with ``options_from`` those
        the member chose in that multi question, in option order."""
        if self.options_from is None:
            return self.options
        chosen = answers.get(self.options_from)
        if not isinstance(chosen, list):
            return ()
        return tuple(o for o in self.options if o.value in chosen)

    def applies(self, answers: dict[str, AnswerValue]) -> bool:
        """Whether there is anything to ask: ranking one option tells nothing, so a ranking
        of chosen options needs two of them, and a matrix at least one row."""
        if self.options_from is None:
            return True
        return len(self.choices(answers)) >= (2 if self.type == "ranking" else 1)

    def rank_length(self, answers: dict[str, AnswerValue]) -> int:
        """How many options a ranking orders: all on offer, or the top ``rank_count``."""
        offered = len(self.choices(answers))
        return min(self.rank_count, offered) if self.rank_count else offered

    def fits(self, value: AnswerValue, answers: dict[str, AnswerValue]) -> bool:
        """Whether a stored ranking or matrix answer still matches what is on offer (an edit
        of the multi question it ranks can leave it behind); other answers always fit."""
        if value is None or self.type not in ("ranking", "matrix"):
            return True
        offered = [o.value for o in self.choices(answers)]
        if self.type == "ranking":
            return (
                isinstance(value, list)
                and len(value) == self.rank_length(answers)
                and len(set(value)) == len(value)
                and all(item in offered for item in value)
            )
        return (
            isinstance(value, dict)
            and set(value) == set(offered)
            and all(
                isinstance(n, int) and self.scale_min <= n <= self.scale_max for n in value.values()
            )
        )


class Survey(BaseModel):
    """A compiled, validated survey. ``texts`` may use the placeholders
    ``{org_name}``, ``{contact_name}``, ``{closes}`` and ``{retention}``.

    Its texts are bokmål; ``translations`` (and those of its questions and options) hold
    the other languages the file gives, and ``in_language`` the survey a member reads.
    """

    model_config = _FROZEN

    key: str
    version: int
    title: str
    intro: str
    receipt: str
    # The file's ``language`` (its plain texts'); ``in_language`` sets the one it chose.
    language: str = SOURCE_LANGUAGE
    questions: tuple[Question, ...]
    # title, intro and receipt in other languages: language -> field name -> text
    translations: dict[str, dict[str, str]] = Field(default_factory=dict)
    # Languages whose texts a translator has yet to review (the file's ``needs_review``).
    needs_review: tuple[str, ...] = ()

    @cached_property
    def _in_languages(self) -> dict[str, Survey]:
        """The surveys ``in_language`` made from this one, by language (built once each)."""
        return {}

    def in_language(self, language: str) -> Survey:
        """The same survey with every text in ``language``, each text falling back to
        bokmål where the file gives none; ids and option values are unchanged, so answers
        and reports are the same whichever language a member read. Built once per language.
        """
        origin = self._in_languages.get(SOURCE_LANGUAGE, self)
        if language == SOURCE_LANGUAGE:
            return origin
        cached = origin._in_languages.get(language)
        if cached is None:
            cached = origin.model_copy(
                update={
                    **origin.translations.get(language, {}),
                    "language": language,
                    "questions": tuple(q.in_language(language) for q in origin.questions),
                }
            )
            # the copy shares nothing of the cache but the way back to its origin
            vars(cached)["_in_languages"] = {SOURCE_LANGUAGE: origin}
            origin._in_languages[language] = cached
        return cached

    def question(self, question_id: str) -> Question | None:
        """Look a question up by id."""
        return next((q for q in self.questions if q.id == question_id), None)

    def index_of(self, question_id: str) -> int:
        """Position of a question in the asking order (ValueError if unknown)."""
        for index, question in enumerate(self.questions):
            if question.id == question_id:
                return index
        raise ValueError(question_id)

    def asked_questions(self, answers: dict[str, AnswerValue]) -> list[Question]:
        """The questions that apply, in order, given these answers.

        Conditions are evaluated in order over the answers of questions that are
        themselves asked, so an answer left behind by an edit (a deselected area's
        follow-ups, say) never switches later questions on.
        """
        effective: dict[str, AnswerValue] = {}
        asked: list[Question] = []
        for question in self.questions:
            if (question.when is None or question.when.holds(effective)) and question.applies(
                effective
            ):
                asked.append(question)
                if question.id in answers:
                    effective[question.id] = answers[question.id]
        return asked

    def effective_answers(self, answers: dict[str, AnswerValue]) -> dict[str, AnswerValue]:
        """Only the answers to questions that are asked, and still fit: what a submission
        contains."""
        return {
            q.id: answers[q.id]
            for q in self.asked_questions(answers)
            if q.id in answers and q.fits(answers[q.id], answers)
        }
