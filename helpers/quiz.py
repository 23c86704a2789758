"""Interview question bank and an auto-graded self-quiz (notebook 09).

The bank is data: ``helpers/question_bank/<notebook>.json``, one file per notebook
(the file's stem is the notebook that answers its questions), each with

* ``questions`` — open interview questions: the source article's five questions
  and its section-4 model, plus the follow-ups an interviewer asks next. Each has
  a difficulty (warm-up / core / deep), a kind (concept / coding / design), the
  text in English and Chinese, and a rubric in both languages: the points a
  strong answer contains;
* ``quiz`` — short items with one right answer (multiple choice or a number with
  a tolerance), with English and Chinese prompts; a missed item points to the
  notebook to revisit.

Loading builds ``QUESTIONS``, ``QUIZ``, ``ANSWER_KEY`` and ``NOTEBOOKS`` (the
notebooks that have a bank file); a malformed file raises ``ValueError`` naming
the file and the field. ``show_question`` / ``show_rubric`` / ``rubric_markdown``
/ ``bank_table`` / ``show_quiz`` print English by default, Chinese with
``lang="zh"``.

``grade(answers)`` scores a sheet ``{item id: answer}``; ``check_self_quiz``
wraps it in the exercise protocol of ``helpers.feedback`` (✓ / "not attempted
yet" / ``AssertionError`` naming what to fix or revisit); ``check_and_grade`` is
the notebook's check cell: it prints the same verdict without raising and returns
the result of the gradable part of the sheet. Only the standard library is
imported: the bank loads instantly, without TensorFlow.
"""

from __future__ import annotations

import json
import math
import numbers
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from helpers.feedback import not_attempted, print_failure, report

__all__ = [
    "ANSWER_KEY",
    "ARTICLE_SOURCES",
    "BANK_DIR",
    "DIFFICULTIES",
    "KINDS",
    "LANGS",
    "NOTEBOOKS",
    "QUESTIONS",
    "QUIZ",
    "Bank",
    "MultipleChoice",
    "Numeric",
    "Question",
    "QuizResult",
    "bank_table",
    "check_and_grade",
    "check_self_quiz",
    "grade",
    "interview_plan",
    "item",
    "load_bank",
    "question",
    "rubric_markdown",
    "show_question",
    "show_quiz",
    "show_rubric",
]

DIFFICULTIES = ("warm-up", "core", "deep")
KINDS = ("concept", "coding", "design")
ARTICLE_SOURCES = ("题目", "§")  # how a question's source names the article's own questions
LANGS = ("en", "zh")  # the language switch of every show_* function
BANK_DIR = Path(__file__).with_name("question_bank")
_DIFFICULTY_ZH = {"warm-up": "热身", "core": "核心", "deep": "深入"}
_KIND_ZH = {"concept": "概念题", "coding": "编程题", "design": "设计题"}


@dataclass(frozen=True)
class Question:
    """An open interview question and what a strong answer must contain, in English
    and in Chinese."""

    id: str
    text: str
    difficulty: str  # one of DIFFICULTIES
    kind: str  # one of KINDS
    notebook: str  # the notebook that answers it, e.g. "04_lstm_classifier"
    rubric: tuple[str, ...]  # the points a strong answer contains
    source: str = ""  # the article's "题目 4" / "§4", or the paper or code it comes from, or ""
    text_zh: str = ""  # the question as a Chinese interviewer asks it
    rubric_zh: tuple[str, ...] = ()  # the rubric in Chinese


@dataclass(frozen=True)
class MultipleChoice:
    """A quiz item answered with one letter: "a" for the first choice, "b" for the next..."""

    id: str
    prompt: str
    choices: tuple[str, ...]
    answer: str  # the correct letter
    notebook: str  # where to revisit when it is missed
    prompt_zh: str = ""
    choices_zh: tuple[str, ...] = ()

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple("abcdefgh"[: len(self.choices)])


@dataclass(frozen=True)
class Numeric:
    """A quiz item answered with a number; within ``tolerance`` of ``answer`` counts."""

    id: str
    prompt: str
    answer: float
    tolerance: float  # absolute
    notebook: str
    prompt_zh: str = ""


# --- loading the bank ----------------------------------------------------------------
class Bank(NamedTuple):
    """Everything read from a question-bank folder."""

    notebooks: tuple[str, ...]  # file stems, sorted
    questions: tuple[Question, ...]
    quiz: tuple[MultipleChoice | Numeric, ...]


_CJK = re.compile(r"[\u4e00-\u9fff]")
_QUESTION_FIELDS = ("id", "difficulty", "kind", "text", "text_zh", "rubric", "rubric_zh")
_CHOICE_FIELDS = ("id", "type", "prompt", "prompt_zh", "choices", "choices_zh", "answer")
_NUMERIC_FIELDS = ("id", "type", "prompt", "prompt_zh", "answer", "tolerance")


class _Reader:
    """Checks one bank file's fields; every error names the file and the field."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, where: str, message: str):
        raise ValueError(f"{self.path.name}: {where}: {message}")

    def fields(self, entry, where, required, optional=()):
        if not isinstance(entry, dict):
            self.fail(where, f"expected an object {{...}}, got {type(entry).__name__}")
        missing = [f for f in required if f not in entry]
        if missing:
            self.fail(where, f"missing field(s) {missing}")
        unknown = sorted(set(entry) - set(required) - set(optional))
        if unknown:
            self.fail(where, f"unknown field(s) {unknown}; expected {list(required)}")

    def text(self, entry, field, where):
        value = entry[field]
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"field '{field}' must be a non-empty string, got {value!r}")
        return value

    def texts(self, entry, field, where, minimum=1):
        value = entry[field]
        if (not isinstance(value, list) or len(value) < minimum
                or not all(isinstance(v, str) and v.strip() for v in value)):
            self.fail(where, f"field '{field}' must be a list of at least {minimum} non-empty "
                             f"string(s), got {value!r}")
        return tuple(value)

    def chinese(self, entry, field, english_field, where):
        """A Chinese field: non-empty, with Chinese characters, not a copy of the English."""
        english = entry[english_field]
        if isinstance(english, str):
            value = self.text(entry, field, where)
            texts = [value]
        else:
            value = texts = self.texts(entry, field, where)
        if not any(_CJK.search(t) for t in texts):
            self.fail(where, f"field '{field}' has no Chinese characters: {entry[field]!r}")
        if entry[field] == english:
            self.fail(where, f"field '{field}' copies '{english_field}'; write it in Chinese")
        return value

    def number(self, entry, field, where, positive=False):
        value = entry[field]
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not math.isfinite(value) or (positive and value <= 0)):
            kind = "a positive number" if positive else "a finite number"
            self.fail(where, f"field '{field}' must be {kind}, got {value!r}")
        return float(value) if isinstance(value, float) else value

    def choice(self, entry, field, where, allowed):
        value = entry[field]
        if value not in allowed:
            self.fail(where, f"field '{field}' is {value!r}; expected one of {list(allowed)}")
        return value


def _read_file(path: Path):
    """(questions, quiz items) of one bank file; ValueError naming the file and field."""
    reader = _Reader(path)
    notebook = path.stem
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        reader.fail(f"line {error.lineno}", f"not valid JSON ({error.msg})")
    reader.fields(doc, "top level", ("notebook", "questions", "quiz"))
    if doc["notebook"] != notebook:
        reader.fail("field 'notebook'", f"is {doc['notebook']!r}; it must equal the file's "
                                        f"stem {notebook!r}")
    for field in ("questions", "quiz"):
        if not isinstance(doc[field], list):
            reader.fail(f"field '{field}'", f"must be a list, got {type(doc[field]).__name__}")
    questions = []
    for i, entry in enumerate(doc["questions"]):
        where = f"questions[{i}]" + (f" ({entry.get('id')!r})" if isinstance(entry, dict) else "")
        reader.fields(entry, where, _QUESTION_FIELDS, optional=("source",))
        source = entry.get("source", "")
        if not isinstance(source, str):
            reader.fail(where, f"field 'source' must be a string, got {source!r}")
        questions.append(Question(
            id=reader.text(entry, "id", where),
            text=reader.text(entry, "text", where),
            difficulty=reader.choice(entry, "difficulty", where, DIFFICULTIES),
            kind=reader.choice(entry, "kind", where, KINDS),
            notebook=notebook,
            rubric=reader.texts(entry, "rubric", where),
            source=source,
            text_zh=reader.chinese(entry, "text_zh", "text", where),
            rubric_zh=reader.chinese(entry, "rubric_zh", "rubric", where),
        ))
    items = []
    for i, entry in enumerate(doc["quiz"]):
        where = f"quiz[{i}]" + (f" ({entry.get('id')!r})" if isinstance(entry, dict) else "")
        if not isinstance(entry, dict) or entry.get("type") not in ("choice", "numeric"):
            got = entry.get("type") if isinstance(entry, dict) else entry
            reader.fail(where, f"field 'type' is {got!r}; expected 'choice' or 'numeric'")
        if entry["type"] == "choice":
            reader.fields(entry, where, _CHOICE_FIELDS)
            choices = reader.texts(entry, "choices", where, minimum=2)
            choices_zh = reader.texts(entry, "choices_zh", where, minimum=2)
            if len(choices_zh) != len(choices):
                reader.fail(where, f"field 'choices_zh' has {len(choices_zh)} choices, "
                                   f"'choices' has {len(choices)}")
            letters = tuple("abcdefgh"[: len(choices)])
            items.append(MultipleChoice(
                id=reader.text(entry, "id", where),
                prompt=reader.text(entry, "prompt", where),
                choices=choices,
                answer=reader.choice(entry, "answer", where, letters),
                notebook=notebook,
                prompt_zh=reader.chinese(entry, "prompt_zh", "prompt", where),
                choices_zh=reader.chinese(entry, "choices_zh", "choices", where),
            ))
        else:
            reader.fields(entry, where, _NUMERIC_FIELDS)
            items.append(Numeric(
                id=reader.text(entry, "id", where),
                prompt=reader.text(entry, "prompt", where),
                answer=reader.number(entry, "answer", where),
                tolerance=reader.number(entry, "tolerance", where, positive=True),
                notebook=notebook,
                prompt_zh=reader.chinese(entry, "prompt_zh", "prompt", where),
            ))
    return questions, items


def load_bank(directory: str | Path = BANK_DIR) -> Bank:
    """Read every ``*.json`` in ``directory`` (sorted by name; the stem is the notebook).

    Raises ValueError naming the file and the field for a malformed file, and
    naming both files for an id used twice.
    """
    directory = Path(directory)
    paths = sorted(directory.glob("*.json"))
    if not paths:
        raise ValueError(f"no question-bank files (*.json) in {directory}")
    questions, items, seen = [], [], {}
    for path in paths:
        file_questions, file_items = _read_file(path)
        for entry, kind in [(q, "question") for q in file_questions] + [
            (i, "quiz item") for i in file_items
        ]:
            key = (kind, entry.id)
            if key in seen:
                raise ValueError(
                    f"{path.name}: field 'id': {kind} id {entry.id!r} is also used in {seen[key]}"
                )
            seen[key] = path.name
        questions += file_questions
        items += file_items
    return Bank(tuple(p.stem for p in paths), tuple(questions), tuple(items))


_BANK = load_bank()
# Every notebook that has a bank file, by file stem (solutions/<stem>.ipynb).
NOTEBOOKS: tuple[str, ...] = _BANK.notebooks
QUESTIONS: tuple[Question, ...] = _BANK.questions
QUIZ: tuple[MultipleChoice | Numeric, ...] = _BANK.quiz
ANSWER_KEY: Mapping[str, str | float] = MappingProxyType(
    {item.id: item.answer for item in QUIZ}
)
_BY_ID = {q.id: q for q in QUESTIONS}
_ITEMS = {item.id: item for item in QUIZ}


# --- the bank ----------------------------------------------------------------------
def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown lang {lang!r}; expected one of {LANGS} ('en' English, "
                         "'zh' Chinese)")
    return lang


def question(question_id: str) -> Question:
    """The bank's question with this id; ValueError naming the known ids otherwise."""
    if question_id not in _BY_ID:
        raise ValueError(
            f"unknown question id {question_id!r}; expected one of: {', '.join(_BY_ID)}"
        )
    return _BY_ID[question_id]


def item(item_id: str) -> MultipleChoice | Numeric:
    """The quiz item with this id; ValueError naming the known ids otherwise."""
    if item_id not in _ITEMS:
        raise ValueError(f"unknown quiz item id {item_id!r}; expected one of: {', '.join(_ITEMS)}")
    return _ITEMS[item_id]


def _select(difficulty=None, notebook=None, kind=None):
    for value, allowed, what in ((difficulty, DIFFICULTIES, "difficulty"),
                                 (kind, KINDS, "kind"), (notebook, NOTEBOOKS, "notebook")):
        if value is not None and value not in allowed:
            raise ValueError(f"unknown {what} {value!r}; expected one of {allowed}")
    return [
        q for q in QUESTIONS
        if difficulty in (None, q.difficulty) and notebook in (None, q.notebook)
        and kind in (None, q.kind)
    ]


def bank_table(difficulty=None, notebook=None, kind=None, lang="en"):
    """The bank as a pandas DataFrame (rubrics left out), optionally filtered;
    ``lang="zh"`` puts the Chinese text in the ``question`` column."""
    import pandas as pd

    zh = _check_lang(lang) == "zh"
    rows = [
        {"id": q.id, "difficulty": q.difficulty, "kind": q.kind, "notebook": q.notebook,
         "question": q.text_zh if zh else q.text}
        for q in _select(difficulty, notebook, kind)
    ]
    return pd.DataFrame(rows, columns=["id", "difficulty", "kind", "notebook", "question"])


def show_question(question_id: str, lang: str = "en") -> None:
    """Print one question, without its rubric (``lang="zh"``: in Chinese)."""
    zh = _check_lang(lang) == "zh"
    q = question(question_id)
    article = q.source.startswith(ARTICLE_SOURCES)
    if zh:
        source = f"，原文{q.source}" if article else (f"，出处：{q.source}" if q.source else "")
        print(f"[{q.id}] {_DIFFICULTY_ZH[q.difficulty]}，{_KIND_ZH[q.kind]}{source} — "
              f"答案见 {q.notebook}")
        print(q.text_zh)
        return
    source = f", {q.source} of the article" if article else (
        f", after {q.source}" if q.source else ""
    )
    print(f"[{q.id}] {q.difficulty}, {q.kind}{source} — answered in {q.notebook}")
    print(q.text)


def show_rubric(question_id: str, lang: str = "en") -> None:
    """Print what a strong answer to this question contains (``lang="zh"``: in Chinese)."""
    zh = _check_lang(lang) == "zh"
    q = question(question_id)
    print(f"[{q.id}] 好的回答应包含：" if zh else f"[{q.id}] a strong answer covers:")
    for point in q.rubric_zh if zh else q.rubric:
        print(f"  - {point}")


def rubric_markdown(difficulty=None, notebook=None, kind=None, lang="en") -> str:
    """Markdown: each selected question with its rubric folded inside <details>
    (``lang="zh"``: in Chinese)."""
    zh = _check_lang(lang) == "zh"
    blocks = []
    for q in _select(difficulty, notebook, kind):
        points = "\n".join(f"- {p}" for p in (q.rubric_zh if zh else q.rubric))
        if zh:
            blocks.append(
                f"**{q.text_zh}** *（{_DIFFICULTY_ZH[q.difficulty]}，{_KIND_ZH[q.kind]}；"
                f"`{q.id}`，答案见 `{q.notebook}`）*\n<details><summary>评分要点</summary>\n\n"
                f"{points}\n</details>\n"
            )
        else:
            blocks.append(
                f"**{q.text}** *({q.difficulty}, {q.kind}; `{q.id}`, answered in "
                f"`{q.notebook}`)*\n<details><summary>Rubric</summary>\n\n{points}\n</details>\n"
            )
    return "\n".join(blocks)


# The 45-minute interview: (part, minutes, how questions are drawn, what is assessed)
PLAN = (
    ("warm-up", 5, dict(difficulty="warm-up", kind="concept"), 2,
     "clear definitions, the vocabulary (mask, ROC-AUC, split by user), no rambling"),
    ("deep dive", 15, dict(difficulty="core", kind="concept"), 2,
     "mechanism and equations, a measured claim rather than a slogan, honest limits"),
    ("coding", 15, dict(kind="coding"), 1,
     "working code first, shapes stated, masking and metrics right, tests it as it goes"),
    ("system design", 10, dict(kind="design"), 1,
     "features, training data without leakage, serving latency, monitoring; trade-offs"),
)


def interview_plan(seed: int = 0) -> list[dict]:
    """A 45-minute mock interview: each part with its minutes and questions drawn
    from the bank (same seed → same interview)."""
    rng = random.Random(seed)
    plan = []
    for part, minutes, selector, count, looks_for in PLAN:
        pool = _select(**selector)
        if part == "system design":  # always end on the service-design question
            picks = [question("09-system-design")]
        else:
            picks = rng.sample(pool, count)
        plan.append({"part": part, "minutes": minutes, "questions": [q.id for q in picks],
                     "interviewer looks for": looks_for})
    return plan


# --- the quiz ----------------------------------------------------------------------
def show_quiz(lang: str = "en") -> None:
    """Print every quiz item with its choices, no answers (``lang="zh"``: in Chinese)."""
    zh = _check_lang(lang) == "zh"
    for entry in QUIZ:
        print(f"{entry.id}. {entry.prompt_zh if zh else entry.prompt}")
        if isinstance(entry, MultipleChoice):
            choices = entry.choices_zh if zh else entry.choices
            for letter, choice in zip(entry.letters, choices, strict=True):
                print(f"    {letter}) {choice}")


@dataclass(frozen=True)
class QuizResult:
    """Score of one sheet. ``missed`` holds (item id, notebook) for every wrong or
    missing answer, in quiz order; ``blank`` the ids left out (or None)."""

    score: int
    total: int
    missed: tuple[tuple[str, str], ...]
    blank: tuple[str, ...] = ()

    def revisit(self) -> dict[str, list[str]]:
        """{notebook: [item ids]} for the missed items, notebooks in order."""
        out: dict[str, list[str]] = {}
        for item_id, notebook in self.missed:
            out.setdefault(notebook, []).append(item_id)
        return dict(sorted(out.items()))

    def summary(self) -> str:
        """e.g. "12/15 — revisit 02_lstm (q3, q7), 04_lstm_classifier (q10)"."""
        if not self.missed:
            return f"{self.score}/{self.total} — full marks"
        where = ", ".join(f"{nb} ({', '.join(ids)})" for nb, ids in self.revisit().items())
        return f"{self.score}/{self.total} — revisit {where}"


# --- reading an answer sheet: each plausible slip gets its own message ----------------------
_WRAPPED_LETTER = re.compile(r"^\(?([a-h])\s*[).:]\s*$|^\(([a-h])\)$")
_SEVERAL_LETTERS = re.compile(r"^[a-h](\s*[,;/&+ ]\s*[a-h]|[a-h])+$")
_NUMBER_TEXT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$")


def _choice_problem(entry: MultipleChoice, given) -> str | None:
    letters = ", ".join(entry.letters)
    if isinstance(given, bool):
        return f"{entry.id}: expected a choice letter (one of {letters}), got {given!r}"
    if isinstance(given, numbers.Number):
        return (f"{entry.id}: got the number {given!r}, but this is a multiple-choice item: "
                f"answer with a letter as a string, one of {letters}")
    if isinstance(given, (list, tuple, set, frozenset)):
        return (f"{entry.id}: got a {type(given).__name__} {given!r}; exactly one choice is "
                f"right: answer with one letter, one of {letters}")
    if not isinstance(given, str):
        return (f"{entry.id}: expected a choice letter (one of {letters}) as a string, got "
                f"{type(given).__name__} {given!r}")
    text = given.strip().lower()
    if text in entry.letters:
        return None
    wrapped = _WRAPPED_LETTER.match(text)
    if wrapped and (wrapped.group(1) or wrapped.group(2)) in entry.letters:
        letter = wrapped.group(1) or wrapped.group(2)
        return f"{entry.id}: write just the letter {letter!r}, not {given!r}"
    if len(text) == 1 and text.isalpha():
        return f"{entry.id}: choice {given!r} is not offered; expected one of {letters}"
    if _SEVERAL_LETTERS.match(text):
        return (f"{entry.id}: {given!r} names several choices; exactly one is right: answer "
                f"with one letter, one of {letters}")
    if any(text == c.strip().lower() or (len(text) > 3 and text in c.lower())
           for c in entry.choices + entry.choices_zh):
        return (f"{entry.id}: got the text of a choice; answer with its letter instead, one "
                f"of {letters}")
    if _NUMBER_TEXT.match(text):
        return (f"{entry.id}: got the number {given!r} as a string, but this is a "
                f"multiple-choice item: answer with a letter, one of {letters}")
    return f"{entry.id}: {given!r} is not a choice letter; expected one of {letters}"


def _numeric_problem(entry: Numeric, given) -> str | None:
    if isinstance(given, bool):
        return f"{entry.id}: expected a number (int or float), got the bool {given!r}"
    if isinstance(given, str):
        text = given.strip()
        if text.endswith("%") and _NUMBER_TEXT.match(text[:-1].strip()):
            return (f"{entry.id}: got the percentage {given!r}; expected a number as a "
                    f"fraction, e.g. 0.5 for 50 %, without quotes")
        if _NUMBER_TEXT.match(text.lower()):
            return (f"{entry.id}: expected a number, got the string {given!r}: write it "
                    "without quotes")
        if text.lower() in tuple("abcdefgh"):
            return (f"{entry.id}: expected a number, got the letter {given!r}: this is a "
                    "numeric item, not a multiple-choice one")
        return (f"{entry.id}: expected a number, got the string {given!r}: compute the value "
                "(in Python if you like) and write the number")
    if isinstance(given, (list, tuple, set, frozenset, dict)):
        return f"{entry.id}: expected one number, got a {type(given).__name__} {given!r}"
    if not isinstance(given, numbers.Real):
        return f"{entry.id}: expected a number (int or float), got {type(given).__name__} {given!r}"
    if not math.isfinite(given):
        return f"{entry.id}: expected a finite number, got {given!r}"
    value = float(given)
    if (0 < entry.answer <= 1 and 1 < value <= 100
            and abs(value / 100 - entry.answer) <= entry.tolerance):
        return (f"{entry.id}: {given!r} looks like a percentage; this item expects a fraction "
                "between 0 and 1 (divide by 100)")
    return None


def _answer_problem(entry, given) -> str | None:
    """None for a well-formed answer (or None: a blank); else what is wrong with it."""
    if given is None:
        return None
    if isinstance(entry, MultipleChoice):
        return _choice_problem(entry, given)
    return _numeric_problem(entry, given)


def _normalised_id(key: str) -> str:
    """'Q 1', 'q_1', ' q1 ' -> 'q1': the slips a learner makes typing an id."""
    return re.sub(r"[\s_]+", "", key.lower())


_NORMALISED_IDS = {_normalised_id(i): i for i in _ITEMS}


def _id_problem(key) -> str | None:
    if isinstance(key, str) and key in _ITEMS:
        return None
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        return f"item id {key!r} is a {type(key).__name__}; ids are strings such as 'q1'"
    if isinstance(key, int):
        if f"q{key}" in _ITEMS:
            return f"item id {key!r} is a number; ids are strings: write 'q{key}'"
        return f"item id {key!r} is a number; ids are strings such as 'q1'"
    close = _NORMALISED_IDS.get(_normalised_id(key))
    if close:
        return f"unknown quiz item id {key!r} (did you mean {close!r}?)"
    return f"unknown quiz item id {key!r}; the quiz's ids are {', '.join(_ITEMS)}"


def _sheet_type_problem(answers) -> str | None:
    if isinstance(answers, Mapping):
        return None
    if answers is None:
        return "the sheet is None: does my_answers end with `return {...}`?"
    if callable(answers):
        return (f"expected the sheet (a dict), got the function {answers.__name__!r}: call it, "
                f"e.g. grade({answers.__name__}())")
    return (f"expected a dict {{item id: answer}}, e.g. {{'q1': 'b', 'q2': 0.97}}; got "
            f"{type(answers).__name__}")


def _sheet_problems(answers) -> list[str]:
    """Every reason the grader cannot score ``answers``, in sheet order (empty: gradable)."""
    problem = _sheet_type_problem(answers)
    if problem:
        return [problem]
    problems = [p for p in map(_id_problem, answers) if p]
    problems += [
        p for key, given in answers.items() if key in _ITEMS
        for p in [_answer_problem(_ITEMS[key], given)] if p
    ]
    return problems


def _gradable_part(answers) -> dict:
    """The well-formed answers of a sheet (the rest dropped: they count as missed)."""
    if not isinstance(answers, Mapping):
        return {}
    return {
        key: given for key, given in answers.items()
        if isinstance(key, str) and key in _ITEMS and _answer_problem(_ITEMS[key], given) is None
    }


def _is_correct(entry, given) -> bool:
    if isinstance(entry, MultipleChoice):
        return given.strip().lower() == entry.answer
    return abs(float(given) - entry.answer) <= entry.tolerance


def grade(answers: Mapping[str, str | float | None]) -> QuizResult:
    """Score a sheet ``{item id: answer}``: a letter for multiple choice, a number for
    numeric items. Missing items (or None) count as wrong.

    Raises ValueError listing every problem: not a dict, unknown or misspelt item
    ids, an answer of the wrong type (a number for a letter, a string for a
    number, several letters), a letter the item does not offer, a percentage
    where a fraction is expected.
    """
    problems = _sheet_problems(answers)
    if len(problems) == 1:
        raise ValueError(problems[0])
    if problems:
        lines = "\n".join(f"  {i}. {p}" for i, p in enumerate(problems, 1))
        raise ValueError(f"{len(problems)} problems in the answer sheet:\n{lines}")
    missed, blank = [], []
    for entry in QUIZ:
        given = answers.get(entry.id)
        if given is None:
            blank.append(entry.id)
        if given is None or not _is_correct(entry, given):
            missed.append((entry.id, entry.notebook))
    return QuizResult(len(QUIZ) - len(missed), len(QUIZ), tuple(missed), tuple(blank))


def _read(answers_fn, name):
    """The sheet ``answers_fn()`` returns; AssertionError naming the slip otherwise.
    NotImplementedError passes through (the stub is untouched)."""
    if isinstance(answers_fn, Mapping):
        raise AssertionError(
            f"{name}: got the sheet itself; pass the function that returns it, e.g. "
            f"{name}(my_answers) with my_answers defined by `def my_answers(): return {{...}}`"
        )
    if not callable(answers_fn):
        raise AssertionError(
            f"{name}: expected a function that returns the sheet, got "
            f"{type(answers_fn).__name__} {answers_fn!r}"
        )
    label = f"{getattr(answers_fn, '__name__', 'answers_fn')}()"
    try:
        answers = answers_fn()
    except NotImplementedError:
        raise
    except Exception as error:  # the learner's cell is broken: say how, no traceback
        raise AssertionError(f"{name}: {label} raised {type(error).__name__}: {error}") from None
    if answers is None:
        raise AssertionError(f"{name}: {label} returned None: does it end with `return {{...}}`?")
    return answers


def check_self_quiz(answers_fn: Callable[[], Mapping[str, str | float]]) -> bool:
    """Grade the sheet returned by ``answers_fn()`` (the helpers.checks protocol).

    Prints ✓ and returns True on full marks; prints "not attempted yet" and returns
    False while ``answers_fn`` raises NotImplementedError; raises AssertionError
    otherwise: with every problem that keeps the sheet from being graded (numbered),
    or with the score, the blanks and the notebooks to revisit.
    """
    name = "check_self_quiz"
    try:
        answers = _read(answers_fn, name)
    except NotImplementedError:
        return not_attempted(name, "my_answers", "The cell below grades an empty sheet instead.")
    problems = _sheet_problems(answers)
    if problems:  # the sheet cannot be graded: every slip, numbered
        report(name, problems, "")
    result = grade(answers)
    if result.missed:
        blank = (
            f"\nLeft blank (counted as missed): {', '.join(result.blank)}." if result.blank
            else ""
        )
        raise AssertionError(
            f"{name}: {result.summary()}{blank}\n"
            "Each missed item names the notebook that answers it; reread it and try again."
        )
    print(f"✓ {name}: {result.summary()}")
    return True


def check_and_grade(answers_fn: Callable[[], Mapping[str, str | float]]) -> QuizResult:
    """The self-quiz's check cell: ``check_self_quiz``'s verdict, printed, never raised.

    ✓ on full marks; "not attempted yet" while the stub is untouched (the result
    is an empty sheet's); otherwise a ``✗`` line with the score or the numbered
    problems first (no traceback), and the result of the gradable part of the
    sheet: malformed answers count as missed. "Run All" always reaches the end.
    """
    try:
        passed = check_self_quiz(answers_fn)
    except AssertionError as failure:
        print_failure(failure)
        try:
            answers = answers_fn() if callable(answers_fn) else answers_fn
        except Exception:  # a broken sheet: the cells below grade an empty one
            answers = {}
        gradable = _gradable_part(answers)
        if gradable != answers:
            print("→ The cells below grade the answers that could be read; the others count "
                  "as missed. Fix `my_answers`, run its cell and this one again.")
        return grade(gradable)
    return grade(answers_fn() if passed else {})
