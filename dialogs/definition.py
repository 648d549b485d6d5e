"""Survey definition files: YAML in, a validated, compiled ``Survey`` out.

Every problem is reported with the file, the line and the field (``questions[3].options``),
all at once, so an author can fix a file in one go. Follow-ups declared per option are
compiled into plain questions with conditions (see ``dialogs/model.py``).

Format (see ``dialogs/surveys/kvartalsvis-behov.yaml`` for a full example)::

    key: kvartalsvis-behov        # ^[a-z][a-z0-9-]{1,59}$
    version: 1
    title: / intro: / receipt:    # texts; may use {org_name} {contact_name} {closes} {retention}
    language: nb                  # optional; the plain texts are bokmål
    needs_review: [se]            # optional: languages a translator has yet to review
    questions:
      - id: omrader               # ^[a-z][a-z0-9_]{0,29}$
        type: multi               # single | multi | scale | yesno | text | number
        text: ...                 # label:, help:, required: (default true), when: {condition}
        options: [{value: digitalisering, label: Digitalisering, followups: [...]}]
        min_select: 1             # multi; max_select
        followups_each: [...]     # asked for every selected option; texts may use {option}
        # scale: scale_min, scale_max, scale_min_label, scale_max_label
        # text: min_length, max_length (<= 4000); number: number_min, number_max, integer, unit
        # yesno: consent_to_name: needs | free_text  (at most one question: a yes lets KS
        #   show the organisation's name with its needs, or with all its free text)
        # ranking: options: [...] or options_from: <earlier multi id>; rank_count: N (top N)
        # matrix: rows: [{value, label}] or rows_from: <earlier multi id>; scale_min,
        #   scale_max (at most 7 steps), scale_min_label, scale_max_label

Every text a member reads (title, intro, receipt, a question's text, label, help,
scale_min_label, scale_max_label and unit, option and row labels) is either a plain
string, bokmål, or a text per language: ``text: {nb: "...", nn: "...", se: "...",
en: "..."}`` with ``nb`` required. Each translation must have the same ``{placeholders}``
as the bokmål; a language a text lacks is reported (``SurveySource.translation_report``),
not refused: members reading it get that text in bokmål (``Survey.in_language``).

A follow-up ``sub`` of option ``opt`` of question ``q`` becomes question ``q.opt.sub``,
asked when ``q`` includes (multi) or equals (single) ``opt``; inside follow-ups, ``when``
may name sibling follow-ups by their short id.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError
from pydantic_core import PydanticCustomError

from dialogs.i18n import LANGUAGES, SOURCE
from dialogs.matrix import MAX_STEPS as MATRIX_STEPS
from dialogs.messages import MAX_PAYLOAD_BYTES
from dialogs.model import Condition, ConsentScope, Option, Question, QuestionType, Survey
from dialogs.yamlsource import (
    LineReader,
    Path_,
    SourceError,
    SourceProblem,
    compose,
    field_name,
    read_text_file,
)

SURVEY_DIR = Path(__file__).resolve().parent / "surveys"
KEY = re.compile(r"^[a-z][a-z0-9-]{1,59}$")
QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
OPTION_VALUE = re.compile(r"^[a-z0-9_]{1,20}$")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
TEXT_PLACEHOLDERS = {"org_name", "contact_name", "closes", "retention"}
TRANSLATED: tuple[str, ...] = tuple(
    code for code in LANGUAGES if code != SOURCE
)  # what a text may lack
# A question's texts besides option labels, in the order they are reported.
QUESTION_TEXTS = ("text", "label", "help", "scale_min_label", "scale_max_label", "unit")
CHOICE_TYPES = {"single", "multi"}
ORDERED_TYPES = {"ranking", "matrix"}  # options (rows) given, or taken from a multi question


SurveyProblem = SourceProblem


class SurveyDefinitionError(SourceError):
    """A survey file that cannot be used; ``problems`` lists every problem found."""


class Locator(Protocol):
    """Says where a part of the survey's data was written: a YAML line and field, or a
    spreadsheet's sheet, row and column (``dialogs/xlsform.py``)."""

    def problem(self, path: Path_, message: str) -> SurveyProblem:
        """A problem with the data at ``path`` (``("questions", 3, "when")``)."""
        ...


class YamlLocator:
    """Lines and field names of a YAML file, from its ``LineReader``."""

    def __init__(self, reader: LineReader) -> None:
        self.reader = reader

    def problem(self, path: Path_, message: str) -> SurveyProblem:
        return SurveyProblem(self.reader.source, self.reader.line(path), field_name(path), message)


# --- the file's shape -------------------------------------------------------------------

TextValue = str | dict[str, str]  # as written: bokmål, or a text per language


def _text_value(value: Any, *, required: bool) -> TextValue:
    """A text as written: a plain string (bokmål) or ``{nb: ..., nn: ...}``; which codes
    are known and whether placeholders agree is checked with the line of each language."""
    if isinstance(value, str):
        if required and not value:
            raise PydanticCustomError("string_too_short", "String should have at least 1 character")
        return value
    if isinstance(value, dict):
        for code, text in value.items():
            if not isinstance(text, str) or not text.strip():
                raise PydanticCustomError(
                    "text_missing", "{code}: write the text, or leave the language out",
                    {"code": code},
                )  # fmt: skip
        if SOURCE not in value:
            raise PydanticCustomError(
                "source_missing",
                "a text per language needs nb (bokmål): it is what other languages fall back to",
            )
        return {str(code): text for code, text in value.items()}
    raise PydanticCustomError(
        "text_type", "write a text, or a text per language: {{nb: ..., nn: ...}}"
    )


RequiredText = Annotated[TextValue, PlainValidator(lambda v: _text_value(v, required=True))]
OptionalText = Annotated[TextValue, PlainValidator(lambda v: _text_value(v, required=False))]


def _readable_text(value: Any) -> TextValue | None:
    """``value`` if it is a text of the right shape (else its problem is reported already)."""
    try:
        return _text_value(value, required=False)
    except PydanticCustomError:
        return None


def source_text(value: TextValue) -> str:
    """The bokmål of a text as written."""
    return value if isinstance(value, str) else value[SOURCE]


def optional_source_text(value: TextValue | None) -> str | None:
    return None if value is None else source_text(value)


def text_translations(value: TextValue | None) -> dict[str, str]:
    """A text's known languages other than bokmål, in ``LANGUAGES`` order."""
    if not isinstance(value, dict):
        return {}
    return {code: value[code] for code in TRANSLATED if code in value}


_STRICT = ConfigDict(extra="forbid", populate_by_name=True)
_Spec = TypeVar("_Spec", bound=BaseModel)


class OptionSpec(BaseModel):
    """An option as written, with its follow-ups still nested."""

    model_config = _STRICT
    value: str
    label: RequiredText
    followups: list[QuestionSpec] = Field(default_factory=list)


class QuestionSpec(BaseModel):
    """A question as written: ``when`` names follow-up siblings by their short ids."""

    model_config = _STRICT
    id: str
    type: QuestionType
    text: RequiredText
    label: OptionalText | None = None
    help: OptionalText | None = None
    required: bool = True
    when: dict[str, Any] | None = None
    options: list[OptionSpec] = Field(default_factory=list)
    min_select: int | None = None
    max_select: int | None = None
    followups_each: list[QuestionSpec] = Field(default_factory=list)
    scale_min: int = 1
    scale_max: int = 5
    scale_min_label: OptionalText | None = None
    scale_max_label: OptionalText | None = None
    min_length: int = 1
    max_length: int = 1000
    number_min: float | None = None
    number_max: float | None = None
    integer: bool = True
    unit: OptionalText | None = None
    consent_to_name: ConsentScope | None = None
    options_from: str | None = None
    rank_count: int | None = None
    # yesno, optional only: the answer a skip stands for (the naming question: no).
    if_skipped: bool | None = None
    rows: list[OptionSpec] = Field(default_factory=list)
    rows_from: str | None = None


class SurveySpec(BaseModel):
    """The file's top level; each question is checked on its own (``QuestionSpec``), so a
    question of the wrong shape does not hide the problems of the others."""

    model_config = _STRICT
    key: str
    version: int = Field(ge=1)
    title: RequiredText
    intro: RequiredText
    receipt: RequiredText
    language: str = SOURCE
    # Languages whose texts still need a translator's review (a machine's or a
    # non-native speaker's first draft): shown by ``surveys validate`` and the texts export.
    needs_review: list[str] = Field(default_factory=list)
    questions: list[Any]


# --- loading ------------------------------------------------------------------------------


def definition_hash(text: str) -> str:
    """Content hash used to version stored surveys."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def shipped_survey_files() -> list[Path]:
    """The survey files that ship with Lyttepost."""
    return sorted(SURVEY_DIR.glob("*.yaml"))


def load_survey_file(path: str | Path) -> Survey:
    """Load and validate a survey file."""
    try:
        text = read_text_file(path)
    except SourceError as error:
        raise SurveyDefinitionError(error.problems) from None
    return load_survey_text(text, str(path))


def load_survey_text(text: str, source_name: str) -> Survey:
    """Load and validate survey YAML; ``source_name`` names it in error messages."""
    return load_survey_source(text, source_name).survey


@dataclass(frozen=True)
class SurveySource:
    """A survey as its author wrote it (checked, follow-ups still nested: what an XLSForm
    workbook shows) and as compiled (what the engine asks)."""

    survey: Survey
    spec: SurveySpec
    questions: tuple[QuestionSpec, ...]
    # language -> the fields (``questions[3].text``) that do not give it, in file order
    missing: dict[str, tuple[str, ...]] = field(default_factory=dict)
    texts: int = 0  # how many texts the file has (each written once, follow-ups included)

    def translation_report(self) -> list[str]:
        """Warnings for staff: which texts lack which language (members reading it get
        those texts in bokmål), and which languages await a translator's review."""
        lines = []
        for code in TRANSLATED:
            fields = self.missing.get(code, ())
            if not fields:
                continue
            if len(fields) == self.texts:
                lines.append(f"{code}: not translated (members who read {code} get bokmål)")
            else:
                lines.append(f"{code} missing for: {', '.join(fields)}")
        for reviewed in self.survey.needs_review:
            lines.append(f"{reviewed}: needs a translator's review (needs_review)")
        return lines


def load_survey_source(text: str, source_name: str) -> SurveySource:
    """Load and validate survey YAML, keeping the written form next to the compiled one."""
    problems: list[SurveyProblem] = []
    try:
        node = compose(text, source_name)
    except SourceError as error:
        raise SurveyDefinitionError(error.problems) from None
    reader = LineReader(problems, source_name)
    data = reader.read(node)
    if not isinstance(data, dict):
        raise SurveyDefinitionError(
            [SurveyProblem(source_name, 1, "", "a survey file is a mapping (key: value)")]
        )
    return compile_survey_data(data, YamlLocator(reader), problems)


def compile_survey_data(
    data: dict[str, Any],
    locator: Locator,
    problems: list[SurveyProblem],
    *,
    reported: Collection[int] = (),
    broken: Collection[str] = (),
) -> SurveySource:
    """Check and compile survey data read from any format (YAML mapping, XLSForm rows);
    ``problems`` already holds what reading found: ``reported`` are the indexes of
    questions whose problems it has told, ``broken`` ids that conditions may name without
    a second complaint. Raises ``SurveyDefinitionError`` listing every problem, in the
    order ``locator`` gave them lines."""
    spec = _validated(SurveySpec, data, (), locator, problems)
    raw_questions = data.get("questions")
    questions: list[tuple[int, QuestionSpec]] = []
    malformed = set(broken)  # ids of questions too malformed to check further
    if isinstance(raw_questions, list):
        for index, raw in enumerate(raw_questions):
            if index in reported:
                continue
            question = _validated(QuestionSpec, raw, ("questions", index), locator, problems)
            if question is not None:
                questions.append((index, question))
            elif isinstance(raw, dict) and isinstance(raw.get("id"), str):
                malformed.add(raw["id"])
    compiler = _Compiler(locator, malformed)
    survey = compiler.compile(data, spec, questions, listed=isinstance(raw_questions, list))
    problems.extend(compiler.problems)
    if problems or survey is None or spec is None:
        raise SurveyDefinitionError(sorted(problems, key=lambda p: p.line or 0))
    missing = {
        code: tuple(name for _, _, name in sorted(fields))
        for code, fields in compiler.missing.items()
        if fields
    }
    return SurveySource(
        survey, spec, tuple(question for _, question in questions), missing,
        len(compiler.texts_seen),
    )  # fmt: skip


_UNION_TAGS = {"function-after", "function-before"}


def _validated(
    model: type[_Spec], data: Any, path: Path_, locator: Locator, problems: list[SurveyProblem]
) -> _Spec | None:
    """``data`` as ``model``, or None after recording every shape problem at its line."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            where = (*path, *(part for part in item["loc"] if part not in _UNION_TAGS))
            problems.append(locator.problem(where, item["msg"].removeprefix("Value error, ")))
        return None


class _Compiler:
    """Semantic checks and compilation of follow-ups into conditional questions."""

    def __init__(self, locator: Locator, broken: set[str]) -> None:
        self.locator = locator
        self.broken = broken  # questions with shape problems: conditions on them are not checked
        self.problems: list[SurveyProblem] = []
        self.paths: list[Path_] = []  # where each compiled question was declared, in order
        self.texts_seen: set[Path_] = set()  # texts checked (follow-ups are compiled per option)
        # language -> (line, order, field) of each text that lacks it
        self.missing: dict[str, list[tuple[int, int, str]]] = {code: [] for code in TRANSLATED}

    def problem(self, path: Path_, message: str) -> None:
        self.problems.append(self.locator.problem(path, message))

    def compile(
        self,
        data: dict[str, Any],
        spec: SurveySpec | None,
        questions: list[tuple[int, QuestionSpec]],
        *,
        listed: bool,
    ) -> Survey | None:
        """Check everything that could be read (``spec`` is None if the top level had shape
        problems; ``questions`` are those of the right shape, with their index)."""
        key = data.get("key")
        if isinstance(key, str) and not KEY.match(key):
            self.problem(
                ("key",), "must be lower-case letters, digits and '-', starting with a letter"
            )
        for name in ("title", "intro", "receipt"):
            value = _readable_text(data.get(name))
            if value is not None:
                self.check_text((name,), value, placeholders=True)
        review = data.get("needs_review")
        for index, code in enumerate(review if isinstance(review, list) else []):
            if code not in TRANSLATED:
                self.problem(
                    ("needs_review", index),
                    f"{code!r} is not a translated language; use {', '.join(TRANSLATED)}",
                )
        if listed and not data["questions"]:
            self.problem(("questions",), "a survey needs at least one question")
            return None
        if questions and questions[0][0] == 0 and questions[0][1].when is not None:
            self.problem(("questions", 0, "when"), "the first question cannot have a condition")
        compiled: list[Question] = []
        for index, question_spec in questions:
            compiled.extend(
                self.question(question_spec, ("questions", index), compiled, parent=None)
            )
        seen: set[str] = set()
        consent: str | None = None
        for question, declared in zip(compiled, self.paths, strict=True):
            if question.id in seen:
                self.problem(declared, f"duplicate question id {question.id!r}")
            seen.add(question.id)
            if question.consent_to_name is not None:
                if consent is not None:
                    self.problem(
                        (*declared[:-1], "consent_to_name"),
                        f"only one question can ask for consent to name; {consent!r} already does",
                    )
                consent = consent or question.id
        if self.problems or spec is None or len(questions) != len(data["questions"]):
            return None
        translations: dict[str, dict[str, str]] = {}
        for name in ("title", "intro", "receipt"):
            for code, text in text_translations(getattr(spec, name)).items():
                translations.setdefault(code, {})[name] = text
        return Survey(
            key=spec.key, version=spec.version, title=source_text(spec.title),
            intro=source_text(spec.intro), receipt=source_text(spec.receipt),
            language=spec.language, questions=tuple(compiled),
            translations=_in_order(translations),
            needs_review=tuple(dict.fromkeys(spec.needs_review)),
        )  # fmt: skip

    def question(
        self,
        spec: QuestionSpec,
        path: Path_,
        earlier: list[Question],
        parent: tuple[Question, Option, dict[str, str], Path_] | None,
    ) -> list[Question]:
        if not QUESTION_ID.match(spec.id):
            self.problem(
                (*path, "id"),
                "must be lower-case letters, digits and '_', starting with a letter, at most 30 characters",
            )
        parent_option = parent[1] if parent else None
        siblings = parent[2] if parent else {}
        question_id = f"{parent[0].id}.{parent[1].value}.{spec.id}" if parent else spec.id
        self.check_shape(spec, path)
        if parent is not None and (spec.followups_each or any(o.followups for o in spec.options)):
            self.problem(path, "follow-ups cannot have follow-ups of their own")
        if spec.if_skipped is not None and (spec.type != "yesno" or spec.required):
            self.problem(
                (*path, "if_skipped"),
                "if_skipped belongs on a yesno question with required: false",
            )
        if spec.consent_to_name is not None and (spec.type != "yesno" or parent is not None):
            self.problem(
                (*path, "consent_to_name"),
                "consent_to_name belongs on a yesno question that is not a follow-up",
            )
        for name in QUESTION_TEXTS:
            value = getattr(spec, name)
            if value:
                self.check_text(
                    (*path, name),
                    value,
                    allow_option=parent is not None,
                    placeholders=name != "unit",
                )

        def with_option(text: str | None, language: str = SOURCE) -> str | None:
            """A follow-up's text for its option, the option's label in the same language."""
            if not text or parent_option is None:
                return text
            label = parent_option.translations.get(language, parent_option.label)
            return text.replace("{option}", label)

        translations: dict[str, dict[str, str]] = {}
        for name in QUESTION_TEXTS:
            for code, text in text_translations(getattr(spec, name)).items():
                translations.setdefault(code, {})[name] = with_option(text, code) or text

        when = (
            self.condition(spec.when, (*path, "when"), earlier, siblings, question_id)
            if spec.when
            else None
        )
        if parent is not None:
            parent_question, option, _, _ = parent
            inclusion = (
                Condition(question=parent_question.id, includes=option.value)
                if parent_question.type == "multi"
                else Condition(question=parent_question.id, equals=option.value)
            )
            if parent_question.when is not None:
                inclusion = Condition(all=[parent_question.when, inclusion])
            when = Condition(all=[inclusion, when]) if when is not None else inclusion
        options = tuple(_option(o) for o in spec.options or spec.rows)
        source_id = spec.options_from or spec.rows_from
        if source_id is not None and spec.type in ORDERED_TYPES:
            source_id = siblings.get(source_id, source_id)
            options = self.source_options(spec, path, earlier, source_id)
        try:
            question = Question(
                id=question_id, type=spec.type, text=with_option(source_text(spec.text)) or "",
                label=with_option(optional_source_text(spec.label)),
                help=with_option(optional_source_text(spec.help)), required=spec.required,
                when=when, options=options,
                min_select=spec.min_select if spec.min_select is not None else 1,
                max_select=spec.max_select, scale_min=spec.scale_min, scale_max=spec.scale_max,
                scale_min_label=with_option(optional_source_text(spec.scale_min_label)),
                scale_max_label=with_option(optional_source_text(spec.scale_max_label)),
                min_length=spec.min_length, max_length=spec.max_length,
                number_min=spec.number_min, number_max=spec.number_max, integer=spec.integer,
                unit=optional_source_text(spec.unit), group=parent[1].value if parent else None,
                template=spec.id if parent else None, consent_to_name=spec.consent_to_name,
                options_from=source_id if spec.type in ORDERED_TYPES else None,
                rank_count=spec.rank_count, if_skipped=spec.if_skipped,
                translations=_in_order(translations),
            )  # fmt: skip
        except ValidationError as error:
            for item in error.errors():
                self.problem(path, str(item["msg"]))
            return []
        self.check_payloads(question, path)
        self.paths.append((*path, "id"))
        result = [question]
        if parent is None and spec.type in CHOICE_TYPES:
            followed: set[str] = set()  # a duplicate option is reported once, by check_shape
            for option_index, option_spec in enumerate(spec.options):
                if option_spec.value in followed:
                    continue
                followed.add(option_spec.value)
                option = _option(option_spec)
                groups = (
                    [("followups_each", index, f) for index, f in enumerate(spec.followups_each)]
                    if spec.type == "multi"
                    else []
                )
                groups += [
                    (f"options[{option_index}].followups", index, f)
                    for index, f in enumerate(option_spec.followups)
                ]
                if spec.type == "single" and spec.followups_each:
                    self.problem(
                        (*path, "followups_each"),
                        "followups_each is for multi questions; use followups on an option",
                    )
                names = {f.id: f"{question.id}.{option.value}.{f.id}" for _, _, f in groups}
                for group, index, followup in groups:
                    sub_path: Path_ = (
                        (*path, "followups_each", index) if group == "followups_each"
                        else (*path, "options", option_index, "followups", index)
                    )  # fmt: skip
                    result.extend(
                        self.question(
                            followup,
                            sub_path,
                            earlier + result,
                            (question, option, names, sub_path),
                        )
                    )
        elif parent is None and spec.followups_each:
            self.problem((*path, "followups_each"), "followups_each is for multi questions")
        return result

    def check_shape(self, spec: QuestionSpec, path: Path_) -> None:
        if spec.type in CHOICE_TYPES:
            if len(spec.options) < 2:
                self.problem((*path, "options"), f"a {spec.type} question needs at least 2 options")
            values: set[str] = set()
            for index, option in enumerate(spec.options):
                self.check_text((*path, "options", index, "label"), option.label)
                if not OPTION_VALUE.match(option.value):
                    self.problem(
                        (*path, "options", index, "value"), "must be 1-20 of a-z, 0-9 and '_'"
                    )
                if option.value in values:
                    self.problem(
                        (*path, "options", index, "value"),
                        f"duplicate option value {option.value!r}",
                    )
                values.add(option.value)
        elif spec.type in ORDERED_TYPES:
            self.check_ordered(spec, path)
        elif spec.options:
            self.problem((*path, "options"), f"a {spec.type} question has no options")
        if spec.type not in ORDERED_TYPES:
            for name in ("rows", "rows_from", "options_from", "rank_count"):
                if getattr(spec, name):
                    self.problem((*path, name), f"{name} is for ranking and matrix questions")
        if spec.type == "multi":
            low = spec.min_select if spec.min_select is not None else 1
            high = spec.max_select if spec.max_select is not None else len(spec.options)
            if not 0 <= low <= high <= max(len(spec.options), 1):
                self.problem((*path, "max_select" if spec.max_select is not None else "min_select"),
                             f"need 0 <= min_select <= max_select <= {len(spec.options)} (number of options)")  # fmt: skip
        elif spec.min_select is not None or spec.max_select is not None:
            self.problem((*path, "min_select"), "min_select/max_select are for multi questions")
        if spec.type == "scale" and not (spec.scale_min < spec.scale_max <= spec.scale_min + 10):
            self.problem((*path, "scale_max"), "need scale_min < scale_max, at most 10 steps apart")
        if spec.type == "text" and not (1 <= spec.min_length <= spec.max_length <= 4000):
            self.problem((*path, "max_length"), "need 1 <= min_length <= max_length <= 4000")
        if (
            spec.type == "number"
            and spec.number_min is not None
            and spec.number_max is not None
            and spec.number_min > spec.number_max
        ):
            self.problem((*path, "number_max"), "number_min is larger than number_max")

    def check_ordered(self, spec: QuestionSpec, path: Path_) -> None:
        """A ranking's options or a matrix's rows: given, or from a multi question, not both."""
        ranking = spec.type == "ranking"
        items, source = ("options", "options_from") if ranking else ("rows", "rows_from")
        wrong = ("rows", "rows_from") if ranking else ("options", "options_from")
        for name in wrong:
            if getattr(spec, name):
                self.problem(
                    (*path, name), f"a {spec.type} question takes {items} or {source}, not {name}"
                )
        given: list[OptionSpec] = getattr(spec, items)
        if given and getattr(spec, source):
            self.problem((*path, source), f"give either {items} or {source}, not both")
        elif not given and not getattr(spec, source):
            self.problem((*path, items), f"a {spec.type} question needs {items} or {source}")
        elif given and len(given) < (2 if ranking else 1):
            self.problem((*path, items), f"a ranking question needs at least 2 {items}")
        values: set[str] = set()
        for index, option in enumerate(given):
            self.check_text((*path, items, index, "label"), option.label)
            if not OPTION_VALUE.match(option.value):
                self.problem((*path, items, index, "value"), "must be 1-20 of a-z, 0-9 and '_'")
            if option.value in values:
                self.problem((*path, items, index, "value"), f"duplicate value {option.value!r}")
            values.add(option.value)
            if option.followups:
                self.problem((*path, items, index, "followups"),
                             f"follow-ups belong to single and multi questions, not {spec.type}")  # fmt: skip
        if spec.rank_count is not None:
            if not ranking:
                self.problem((*path, "rank_count"), "rank_count is for ranking questions")
            elif spec.rank_count < 1 or (given and spec.rank_count > len(given)):
                self.problem((*path, "rank_count"),
                             f"need 1 <= rank_count <= {len(given) or 'the number of options'}")  # fmt: skip
        if not ranking and not (spec.scale_min < spec.scale_max < spec.scale_min + MATRIX_STEPS):
            self.problem(
                (*path, "scale_max"),
                f"need scale_min < scale_max, at most {MATRIX_STEPS} numbers (one keyboard row)",
            )

    def source_options(
        self, spec: QuestionSpec, path: Path_, earlier: list[Question], source_id: str
    ) -> tuple[Option, ...]:
        """The options of the multi question a ranking or matrix takes its options from."""
        name = "options_from" if spec.type == "ranking" else "rows_from"
        source = next((q for q in earlier if q.id == source_id), None)
        if source is None or source.type != "multi":
            if source_id.split(".")[0] not in self.broken:
                self.problem((*path, name), f"{source_id!r} is not an earlier multi question")
            return ()
        if spec.rank_count is not None and spec.rank_count > len(source.options):
            self.problem((*path, "rank_count"),
                         f"need 1 <= rank_count <= {len(source.options)} (options of {source_id!r})")  # fmt: skip
        return source.options

    def check_text(
        self,
        path: Path_,
        value: TextValue,
        *,
        allow_option: bool = False,
        placeholders: bool = False,
    ) -> None:
        """A text as written, once per place: its placeholders (``placeholders``: only
        the allowed ones), each language's code and placeholders (the same as the
        bokmål's), and which languages it lacks (a warning, ``SurveySource.missing``)."""
        if path in self.texts_seen:
            return  # a follow-up's text, compiled again for the next option
        self.texts_seen.add(path)
        source = source_text(value)
        if placeholders:
            self.check_placeholders(path, source, allow_option=allow_option)
        given = value if isinstance(value, dict) else {SOURCE: value}
        expected = set(PLACEHOLDER.findall(source))
        for code, text in given.items():
            if code not in LANGUAGES:
                self.problem(
                    (*path, code),
                    f"unknown language {code!r}; a text per language uses " + ", ".join(LANGUAGES),
                )
                continue
            found = set(PLACEHOLDER.findall(text))
            if code != SOURCE and found != expected:
                self.problem(
                    (*path, code),
                    f"the {code} text must have the same placeholders as the nb text "
                    f"({_names(expected)}); it has {_names(found)}",
                )
        line = self.locator.problem(path, "").line or 0  # reported in the file's order
        for code in TRANSLATED:
            if code not in given:
                self.missing[code].append((line, len(self.texts_seen), field_name(path)))

    def check_placeholders(self, path: Path_, text: str, *, allow_option: bool) -> None:
        allowed = TEXT_PLACEHOLDERS | ({"option"} if allow_option else set())
        for name in PLACEHOLDER.findall(text):
            if name not in allowed:
                self.problem(
                    path,
                    f"unknown placeholder {{{name}}}; allowed: "
                    + ", ".join(f"{{{a}}}" for a in sorted(allowed)),
                )

    def check_payloads(self, question: Question, path: Path_) -> None:
        values: list[str] = []
        if question.type in CHOICE_TYPES:
            values = [o.value for o in question.options]
        elif question.type == "scale":
            values = [str(question.scale_min), str(question.scale_max)]
        elif question.type == "yesno":
            values = ["ja", "nei"]
        payloads = [f"e:{question.id}"] + [
            f"{p}:{question.id}:{v}" for v in values for p in ("a", "t")
        ]
        if question.type == "ranking":
            payloads += [f"r:{question.id}:{o.value}" for o in question.options]
        if question.type == "matrix":
            payloads += [
                f"m:{question.id}:{o.value}:{question.scale_max}" for o in question.options
            ]
        longest = max(payloads, key=lambda p: len(p.encode()))
        if len(longest.encode()) > MAX_PAYLOAD_BYTES:
            self.problem(
                (*path, "id"),
                f"button payload {longest!r} is longer than {MAX_PAYLOAD_BYTES} bytes; shorten ids or option values",
            )

    def condition(
        self,
        raw: dict[str, Any],
        path: Path_,
        earlier: list[Question],
        siblings: dict[str, str],
        own_id: str,
    ) -> Condition | None:
        renamed = _rename(raw, siblings)
        try:
            condition = Condition.model_validate(renamed)
        except ValidationError as error:
            self.problem(
                path,
                "; ".join(sorted({e["msg"].removeprefix("Value error, ") for e in error.errors()})),
            )
            return None
        known = {q.id: q for q in earlier}
        self.check_leaves(condition, path, known, own_id)
        return condition

    def check_leaves(
        self, condition: Condition, path: Path_, known: dict[str, Question], own_id: str
    ) -> None:
        for child in (
            (condition.all or [])
            + (condition.any or [])
            + ([condition.not_] if condition.not_ else [])
        ):
            self.check_leaves(child, path, known, own_id)
        if condition.question is None:
            return
        target = known.get(condition.question)
        if target is None:
            if condition.question.split(".")[0] in self.broken:
                return  # its question has problems of its own, reported already
            if condition.question == own_id:
                self.problem(path, "a question cannot depend on itself")
            else:
                self.problem(
                    path,
                    f"condition refers to {condition.question!r}, which is not an earlier question",
                )
            return
        kind = target.type
        option_values = {o.value for o in target.options}
        if kind in ORDERED_TYPES and condition.answered is None:
            if kind == "matrix" or condition.includes is None:
                self.problem(path, f"{target.id!r} is {kind}: a condition on it can only use "
                             + ("'answered' or 'includes'" if kind == "ranking" else "'answered'"))  # fmt: skip
                return
        if condition.includes is not None:
            if kind not in ("multi", "ranking"):
                self.problem(path, f"'includes' needs a multi question; {target.id!r} is {kind}")
            elif condition.includes not in option_values:
                self.problem(path, f"{condition.includes!r} is not an option of {target.id!r}")
        if condition.equals is not None:
            if kind == "single" and condition.equals not in option_values:
                self.problem(path, f"{condition.equals!r} is not an option of {target.id!r}")
            elif kind == "yesno" and not isinstance(condition.equals, bool):
                self.problem(path, f"{target.id!r} is yes/no: compare with true or false")
            elif kind == "multi":
                self.problem(path, f"{target.id!r} is multi: use 'includes'")
        if condition.one_of is not None and kind in CHOICE_TYPES:
            bad = [v for v in condition.one_of if v not in option_values]
            if bad:
                self.problem(path, f"{bad!r} not options of {target.id!r}")
        if (condition.at_least is not None or condition.at_most is not None) and kind not in (
            "scale",
            "number",
        ):
            self.problem(
                path, f"at_least/at_most need a scale or number question; {target.id!r} is {kind}"
            )


def _names(placeholders: set[str]) -> str:
    return ", ".join(f"{{{name}}}" for name in sorted(placeholders)) or "none"


def _option(spec: OptionSpec) -> Option:
    """An option (or matrix row) as compiled: its bokmål label and its translations."""
    return Option(
        value=spec.value, label=source_text(spec.label), translations=text_translations(spec.label)
    )


def _in_order(translations: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Languages in ``LANGUAGES`` order, so two compilations of one file are equal."""
    return {code: translations[code] for code in LANGUAGES if code in translations}


def _rename(raw: Any, siblings: dict[str, str]) -> Any:
    """Rewrite sibling follow-up ids in a condition to their compiled ids."""
    if isinstance(raw, dict):
        return {
            k: (
                siblings.get(v, v)
                if k == "question" and isinstance(v, str)
                else _rename(v, siblings)
            )
            for k, v in raw.items()
        }
    if isinstance(raw, list):
        return [_rename(item, siblings) for item in raw]
    return raw
