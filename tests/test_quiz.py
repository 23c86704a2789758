"""The interview question bank and the self-quiz (helpers.quiz, notebook 09).

The bank is data (helpers/question_bank/*.json), so these tests check its shape
(ids, difficulties, rubrics, notebooks that exist, a Chinese version of every
text) and that a malformed file is refused with the file and the field named;
the quiz is graded, so they check the grader both ways round, give each
plausible slip on an answer sheet its own message, and recompute every numeric
answer key of notebooks 00–09 independently (Keras, scikit-learn or a formula),
so a wrong key fails here rather than in front of a learner.
"""

import copy
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from helpers import quiz
from helpers.quiz import MultipleChoice, Numeric

ROOT = Path(__file__).resolve().parent.parent
BANK = ROOT / "helpers" / "question_bank"
# Every notebook of the collection; each has a bank file and each bank file a
# notebook (a new notebook gets questions too).
EXPECTED_NOTEBOOKS = [p.stem for p in sorted((ROOT / "solutions").glob("*.ipynb"))]
ITEMS = {item.id: item for item in quiz.QUIZ}
CJK = re.compile(r"[\u4e00-\u9fff]")


def wrong_answer(item):
    """An answer that is well-formed but wrong for ``item``."""
    if isinstance(item, MultipleChoice):
        return next(letter for letter in item.letters if letter != item.answer)
    return item.answer + 10 * item.tolerance + 1


# ---- the bank -------------------------------------------------------------------------
def test_bank_size_and_difficulties():
    assert len(quiz.QUESTIONS) >= 30
    levels = {q.difficulty for q in quiz.QUESTIONS}
    assert levels == set(quiz.DIFFICULTIES) == {"warm-up", "core", "deep"}


def test_question_ids_are_unique():
    ids = [q.id for q in quiz.QUESTIONS]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.parametrize("q", quiz.QUESTIONS, ids=lambda q: q.id)
def test_every_question_is_complete(q):
    assert q.text.strip().endswith(("?", ".")), "a question is a full sentence"
    assert q.difficulty in quiz.DIFFICULTIES
    assert q.kind in quiz.KINDS
    assert q.notebook in EXPECTED_NOTEBOOKS
    assert q.rubric, "every question needs a rubric"
    assert all(isinstance(p, str) and len(p.strip()) > 10 for p in q.rubric)


def test_the_articles_questions_are_all_in_the_bank():
    article = [q for q in quiz.QUESTIONS if q.source.startswith(quiz.ARTICLE_SOURCES)]
    sources = {q.source: q.notebook for q in article}
    assert sources == {
        "§1": "00_start_here",
        "题目 1": "01_challenges",
        "题目 2": "02_lstm",
        "题目 3": "03_attention",
        "题目 4": "04_lstm_classifier",
        "题目 5": "05_attention_layer",
        "§4": "06_full_model",
    }
    coding = {q.source for q in article if q.kind == "coding"}
    assert coding == {"题目 4", "题目 5", "§4"}


@pytest.mark.parametrize("notebook", [n for n in EXPECTED_NOTEBOOKS if n != "09_mock_interview"])
def test_every_notebook_contributes_follow_ups(notebook):
    follow_ups = [q for q in quiz.QUESTIONS if q.notebook == notebook
                  and not q.source.startswith(quiz.ARTICLE_SOURCES)]
    assert follow_ups, f"no follow-up question answered by {notebook}"


@pytest.mark.parametrize(
    "notebook", sorted({q.notebook for q in quiz.QUESTIONS} | {i.notebook for i in quiz.QUIZ})
)
def test_notebook_tags_refer_to_existing_solution_notebooks(notebook):
    assert notebook in EXPECTED_NOTEBOOKS
    assert (ROOT / "solutions" / f"{notebook}.ipynb").exists(), f"solutions/{notebook}.ipynb"


def test_every_notebook_has_a_bank_file_and_every_bank_file_a_notebook():
    assert list(quiz.NOTEBOOKS) == EXPECTED_NOTEBOOKS
    assert [p.stem for p in sorted(BANK.glob("*.json"))] == EXPECTED_NOTEBOOKS


def test_each_question_and_item_comes_from_its_notebooks_file():
    for path in sorted(BANK.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert {q.id for q in quiz.QUESTIONS if q.notebook == path.stem} == {
            q["id"] for q in doc["questions"]
        }
        assert {i.id for i in quiz.QUIZ if i.notebook == path.stem} == {
            i["id"] for i in doc["quiz"]
        }


def test_bank_table_hides_rubrics_and_filters():
    table = quiz.bank_table()
    assert len(table) == len(quiz.QUESTIONS)
    assert "rubric" not in table.columns
    deep = quiz.bank_table(difficulty="deep")
    assert len(deep) == sum(q.difficulty == "deep" for q in quiz.QUESTIONS) > 0
    assert set(deep["difficulty"]) == {"deep"}
    with pytest.raises(ValueError, match="difficulty"):
        quiz.bank_table(difficulty="hard")


def test_show_question_and_rubric(capsys):
    quiz.show_question("article-4")
    shown = capsys.readouterr().out
    q = quiz.question("article-4")
    assert q.text in shown and q.rubric[0] not in shown
    quiz.show_rubric("article-4")
    shown = capsys.readouterr().out
    assert all(point in shown for point in q.rubric)
    with pytest.raises(ValueError, match="unknown question id 'nope'"):
        quiz.show_rubric("nope")


def test_show_question_names_a_paper_source_as_such(capsys, monkeypatch):
    paper = quiz.Question("x-1", "Why?", "core", "concept", "03_attention", ("a point.",),
                          "Zhou et al., KDD 2018", "为什么？", ("要点。",))
    monkeypatch.setitem(quiz._BY_ID, "x-1", paper)
    quiz.show_question("x-1")
    assert "after Zhou et al., KDD 2018" in capsys.readouterr().out
    quiz.show_question("x-1", lang="zh")
    assert "出处：Zhou et al., KDD 2018" in capsys.readouterr().out


def test_rubric_markdown_folds_every_rubric():
    text = quiz.rubric_markdown(notebook="03_attention")
    selected = [q for q in quiz.QUESTIONS if q.notebook == "03_attention"]
    assert text.count("<details>") == text.count("</details>") == len(selected)
    assert all(q.text in text and q.rubric[-1] in text for q in selected)


def test_interview_plan_takes_45_minutes_and_is_reproducible():
    plan = quiz.interview_plan(seed=3)
    assert sum(part["minutes"] for part in plan) == 45
    assert [part["part"] for part in plan] == ["warm-up", "deep dive", "coding", "system design"]
    assert plan == quiz.interview_plan(seed=3)
    kinds = {part["part"]: {quiz.question(i).kind for i in part["questions"]} for part in plan}
    assert kinds["coding"] == {"coding"} and kinds["system design"] == {"design"}
    assert {quiz.question(i).difficulty for i in plan[0]["questions"]} == {"warm-up"}


# ---- Chinese: every question and item, new files included ------------------------------
def _is_chinese_version(chinese, english):
    text = chinese.strip()
    return bool(text) and bool(CJK.search(text)) and text != english.strip()


@pytest.mark.parametrize("q", quiz.QUESTIONS, ids=lambda q: q.id)
def test_every_question_has_its_chinese_text_and_rubric(q):
    assert isinstance(q.text_zh, str) and isinstance(q.rubric_zh, tuple)
    assert _is_chinese_version(q.text_zh, q.text), f"text_zh of {q.id}: {q.text_zh!r}"
    assert q.text_zh.strip().endswith(("？", "。", "?", ".")), "a question is a full sentence"
    assert q.rubric_zh, f"{q.id} has no Chinese rubric"
    for point in q.rubric_zh:
        assert isinstance(point, str) and len(point.strip()) > 5
        assert CJK.search(point), f"rubric_zh point of {q.id} without Chinese: {point!r}"
        assert point not in q.rubric, f"rubric_zh point of {q.id} copies the English"


@pytest.mark.parametrize("q", [q for q in quiz.QUESTIONS if q.source.startswith("题目 ")],
                         ids=lambda q: q.id)
def test_the_articles_questions_keep_the_articles_chinese_wording(q):
    title = json.loads((ROOT / "solutions" / f"{q.notebook}.ipynb").read_text())["cells"][0]
    assert f"**{q.source}：** {q.text_zh}" in "".join(title["source"])


@pytest.mark.parametrize("item", quiz.QUIZ, ids=lambda i: i.id)
def test_every_quiz_item_has_a_chinese_prompt_and_choices(item):
    assert _is_chinese_version(item.prompt_zh, item.prompt), f"{item.id}: {item.prompt_zh!r}"
    if isinstance(item, MultipleChoice):
        assert len(item.choices_zh) == len(item.choices)
        assert all(c.strip() for c in item.choices_zh)
        assert len(set(item.choices_zh)) == len(item.choices_zh)
        assert list(item.choices_zh) != list(item.choices)
        assert any(CJK.search(c) for c in item.choices_zh)
        assert not set(item.choices_zh) & set(item.choices), "a Chinese choice copies the English"


def test_the_chinese_rubrics_carry_the_din_dien_and_sasrec_facts():
    din = quiz.question("03-din")
    assert any("softmax" in p and "zhougr1993/DeepInterestNetwork" in p for p in din.rubric)
    assert any("softmax" in p and "官方" in p for p in din.rubric_zh)
    dien = quiz.question("03-dien")
    for words in (("Auxiliary loss", "sampled negative"), ("AUGRU", "AIGRU", "AGRU")):
        assert any(all(w in p for w in words) for p in dien.rubric), words
    assert any("辅助损失" in p and "负采样" in p for p in dien.rubric_zh)
    sasrec = quiz.question("07-sasrec")
    assert any("one sampled negative" in p for p in sasrec.rubric)
    assert any("负样本" in p and "BCE" in p for p in sasrec.rubric_zh)
    assert any("academic" in p for p in quiz.question("07-bst-vs-lstm").rubric)
    s4 = quiz.question("article-s4")
    assert any("did not earn its place" in p for p in s4.rubric)
    assert any("没有比最后状态更好" in p for p in s4.rubric_zh)


# ---- the language switch ------------------------------------------------------------------
def test_show_question_and_rubric_in_chinese(capsys):
    q = quiz.question("article-3")
    quiz.show_question("article-3", lang="zh")
    shown = capsys.readouterr().out
    assert q.text_zh in shown and q.text not in shown and "题目 3" in shown
    assert q.rubric_zh[0] not in shown
    quiz.show_rubric("article-3", lang="zh")
    shown = capsys.readouterr().out
    assert all(point in shown for point in q.rubric_zh)
    assert not any(point in shown for point in q.rubric)
    quiz.show_question("article-3")  # the default stays English
    assert q.text in capsys.readouterr().out


def test_rubric_markdown_and_bank_table_in_chinese():
    text = quiz.rubric_markdown(notebook="03_attention", lang="zh")
    selected = [q for q in quiz.QUESTIONS if q.notebook == "03_attention"]
    assert text.count("<details>") == len(selected)
    assert all(q.text_zh in text and q.rubric_zh[-1] in text for q in selected)
    assert not any(q.text in text for q in selected)
    table = quiz.bank_table(notebook="02_lstm", lang="zh")
    assert list(table["question"]) == [q.text_zh for q in quiz.QUESTIONS
                                       if q.notebook == "02_lstm"]


def test_show_quiz_in_chinese(capsys):
    quiz.show_quiz(lang="zh")
    shown = capsys.readouterr().out
    for item in quiz.QUIZ:
        assert f"{item.id}. {item.prompt_zh}" in shown
        if isinstance(item, MultipleChoice):
            assert all(f") {c}" in shown for c in item.choices_zh)
    assert quiz.QUIZ[0].prompt not in shown


@pytest.mark.parametrize("call", [
    lambda lang: quiz.show_question("article-3", lang=lang),
    lambda lang: quiz.show_rubric("article-3", lang=lang),
    lambda lang: quiz.rubric_markdown(lang=lang),
    lambda lang: quiz.bank_table(lang=lang),
    lambda lang: quiz.show_quiz(lang=lang),
], ids=["show_question", "show_rubric", "rubric_markdown", "bank_table", "show_quiz"])
@pytest.mark.parametrize("lang", ["cn", "ZH", "chinese", None])
def test_a_bad_lang_names_the_choices(call, lang):
    with pytest.raises(ValueError, match=r"unknown lang .*expected one of \('en', 'zh'\)"):
        call(lang)


# ---- loading: a malformed bank file is refused with its file and field named ------------------
def _bank_doc(notebook="02_lstm"):
    """The document of ``notebook``'s bank file (to break a copy of it)."""
    return json.loads((BANK / f"{notebook}.json").read_text(encoding="utf-8"))


def _write(tmp_path, doc, name="02_lstm"):
    (tmp_path / f"{name}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def test_load_bank_reads_a_copy_of_the_real_files(tmp_path):
    for path in BANK.glob("*.json"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    bank = quiz.load_bank(tmp_path)
    assert bank == (quiz.NOTEBOOKS, quiz.QUESTIONS, quiz.QUIZ)


def _break(doc, where, field, value):
    entry = doc if where is None else doc[where[0]][where[1]]
    if value is DELETE:
        del entry[field]
    else:
        entry[field] = value


DELETE = object()
MALFORMED = {  # what is broken: (where, field, new value, expected words in the message)
    "question without text_zh": (
        ("questions", 0), "text_zh", DELETE,
        r"questions\[0\] \('article-2'\): missing field\(s\) \['text_zh'\]"),
    "empty rubric_zh": (("questions", 1), "rubric_zh", [],
                        r"questions\[1\] \('02-gru'\): field 'rubric_zh' must be a list"),
    "blank text_zh": (("questions", 1), "text_zh", "  ",
                      r"field 'text_zh' must be a non-empty string"),
    "rubric_zh not a list": (("questions", 1), "rubric_zh", "要点",
                             r"field 'rubric_zh' must be a list"),
    "unknown difficulty": (("questions", 0), "difficulty", "hard",
                           r"field 'difficulty' is 'hard'; expected one of \['warm-up'"),
    "unknown kind": (("questions", 0), "kind", "essay", r"field 'kind' is 'essay'"),
    "misspelt field": (("questions", 0), "rubric_ch", ["x"],
                       r"unknown field\(s\) \['rubric_ch'\]"),
    "source not a string": (("questions", 0), "source", 3, r"field 'source' must be a string"),
    "item without prompt_zh": (("quiz", 0), "prompt_zh", DELETE,
                               r"quiz\[0\] \('q4'\): missing field\(s\) \['prompt_zh'\]"),
    "numeric answer as a string": (("quiz", 0), "answer", "24832",
                                   r"field 'answer' must be a finite number"),
    "zero tolerance": (("quiz", 0), "tolerance", 0, r"field 'tolerance' must be a positive"),
    "unknown item type": (("quiz", 0), "type", "open", r"field 'type' is 'open'"),
    "choices_zh of another length": (("quiz", 2), "choices_zh", ["甲", "乙"],
                                     r"quiz\[2\] \('q6'\): field 'choices_zh' has 2 choices"),
    "answer letter not offered": (("quiz", 2), "answer", "e",
                                  r"field 'answer' is 'e'; expected one of \['a', 'b', 'c', 'd'\]"),
    "notebook is not the file's stem": (None, "notebook", "03_attention",
                                        r"field 'notebook'.*file's stem '02_lstm'"),
    "quiz not a list": (None, "quiz", {}, r"field 'quiz'.*must be a list"),
    "text_zh in English": (("questions", 1), "text_zh", "GRU or LSTM, which one?",
                           r"\('02-gru'\): field 'text_zh' has no Chinese characters"),
    "rubric_zh in English": (("questions", 1), "rubric_zh", ["fewer parameters"],
                             r"field 'rubric_zh' has no Chinese characters"),
    "prompt_zh in English": (("quiz", 0), "prompt_zh", "How many parameters?",
                             r"\('q4'\): field 'prompt_zh' has no Chinese characters"),
    "choices_zh in English": (("quiz", 2), "choices_zh", ["relu", "gate", "cell", "none"],
                              r"\('q6'\): field 'choices_zh' has no Chinese characters"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_bank_file_names_the_file_and_the_field(tmp_path, case):
    where, field, value, expected = MALFORMED[case]
    doc = copy.deepcopy(_bank_doc())
    assert doc["quiz"][0]["id"] == "q4" and doc["quiz"][2]["id"] == "q6"  # the cases' premise
    _break(doc, where, field, value)
    _write(tmp_path, doc)
    with pytest.raises(ValueError, match=r"^02_lstm\.json: ") as info:
        quiz.load_bank(tmp_path)
    assert re.search(expected, str(info.value)), str(info.value)


def test_a_chinese_field_that_copies_the_english_is_refused(tmp_path):
    doc = _bank_doc("01_challenges")
    article_1 = doc["questions"][0]
    assert article_1["id"] == "article-1" and "高维度特征" in article_1["rubric"][0]
    article_1["rubric_zh"] = list(article_1["rubric"])  # English with Chinese terms in it
    _write(tmp_path, doc, name="01_challenges")
    with pytest.raises(ValueError, match=r"^01_challenges\.json: questions\[0\] \('article-1'\): "
                                         r"field 'rubric_zh' copies 'rubric'"):
        quiz.load_bank(tmp_path)


def test_invalid_json_names_the_file_and_the_line(tmp_path):
    (tmp_path / "02_lstm.json").write_text('{\n  "notebook": "02_lstm",\n  "questions": [,]\n}')
    with pytest.raises(ValueError, match=r"^02_lstm\.json: line 3: not valid JSON"):
        quiz.load_bank(tmp_path)


def test_an_id_used_twice_names_both_files(tmp_path):
    doc = _bank_doc()
    _write(tmp_path, doc)
    _write(tmp_path, {**doc, "notebook": "03_attention"}, name="03_attention")
    with pytest.raises(ValueError, match=r"03_attention\.json: field 'id': question id "
                                         r"'article-2' is also used in 02_lstm\.json"):
        quiz.load_bank(tmp_path)


def test_an_empty_bank_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no question-bank files"):
        quiz.load_bank(tmp_path)


# ---- the quiz: structure ----------------------------------------------------------------
def test_quiz_size_and_unique_ids():
    assert len(quiz.QUIZ) >= 15
    assert len(ITEMS) == len(quiz.QUIZ)
    assert any(isinstance(i, MultipleChoice) for i in quiz.QUIZ)
    assert any(isinstance(i, Numeric) for i in quiz.QUIZ)


@pytest.mark.parametrize("item", quiz.QUIZ, ids=lambda i: i.id)
def test_every_quiz_item_is_well_formed(item):
    assert item.notebook in EXPECTED_NOTEBOOKS and item.prompt.strip()
    if isinstance(item, MultipleChoice):
        assert len(item.choices) >= 3 and len(set(item.choices)) == len(item.choices)
        assert item.answer in item.letters
    else:
        assert 0 < item.tolerance < max(abs(item.answer), 1e-3) / 2 or item.answer == 0


def test_correct_letters_vary():
    letters = [i.answer for i in quiz.QUIZ if isinstance(i, MultipleChoice)]
    assert len(set(letters)) >= 3, "the right answer should not always be the same letter"


# ---- the quiz: grading ------------------------------------------------------------------
def test_the_answer_key_scores_full_marks():
    result = quiz.grade(dict(quiz.ANSWER_KEY))
    assert (result.score, result.total, result.missed) == (len(quiz.QUIZ), len(quiz.QUIZ), ())
    assert result.summary() == f"{len(quiz.QUIZ)}/{len(quiz.QUIZ)} — full marks"


def test_an_all_wrong_sheet_scores_zero_and_points_to_each_notebook():
    result = quiz.grade({item.id: wrong_answer(item) for item in quiz.QUIZ})
    assert result.score == 0
    assert result.missed == tuple((item.id, item.notebook) for item in quiz.QUIZ)
    expected = {}
    for item in quiz.QUIZ:
        expected.setdefault(item.notebook, []).append(item.id)
    assert result.revisit() == expected
    summary = result.summary()
    assert summary.startswith(f"0/{len(quiz.QUIZ)} — revisit ")
    for notebook, ids in expected.items():
        assert f"{notebook} ({', '.join(ids)})" in summary


def test_missing_and_none_answers_count_as_wrong():
    empty = quiz.grade({})
    assert empty.score == 0 and len(empty.missed) == len(quiz.QUIZ)
    sheet = dict(quiz.ANSWER_KEY)
    first, second = quiz.QUIZ[0].id, quiz.QUIZ[1].id
    sheet[first] = None
    del sheet[second]
    result = quiz.grade(sheet)
    assert result.score == len(quiz.QUIZ) - 2
    assert [m[0] for m in result.missed] == [first, second]


def test_partial_summary_names_notebook_and_items():
    sheet = dict(quiz.ANSWER_KEY)
    lstm_items = [i for i in quiz.QUIZ if i.notebook == "02_lstm"][:2]
    for item in lstm_items:
        sheet[item.id] = wrong_answer(item)
    result = quiz.grade(sheet)
    n = len(quiz.QUIZ)
    ids = ", ".join(i.id for i in lstm_items)
    assert result.summary() == f"{n - 2}/{n} — revisit 02_lstm ({ids})"


def test_numeric_tolerance():
    numeric = [i for i in quiz.QUIZ if isinstance(i, Numeric)]
    for item in numeric:
        for offset, expected in ((0.9, True), (-0.9, True), (1.1, False), (-1.1, False)):
            sheet = dict(quiz.ANSWER_KEY)
            sheet[item.id] = item.answer + offset * item.tolerance
            assert (quiz.grade(sheet).score == len(quiz.QUIZ)) is expected, (item.id, offset)
    sheet = dict(quiz.ANSWER_KEY)
    sheet.update({i.id: np.float32(i.answer) for i in numeric})  # numpy numbers are numbers
    assert quiz.grade(sheet).score == len(quiz.QUIZ)


def test_choice_letters_are_case_and_space_insensitive():
    item = next(i for i in quiz.QUIZ if isinstance(i, MultipleChoice))
    for given in (item.answer.upper(), f" {item.answer} "):
        assert quiz.grade({**quiz.ANSWER_KEY, item.id: given}).score == len(quiz.QUIZ)


def test_check_self_quiz_follows_the_checks_protocol(capsys):
    assert quiz.check_self_quiz(lambda: dict(quiz.ANSWER_KEY)) is True
    assert "✓ check_self_quiz" in capsys.readouterr().out

    def stub():
        raise NotImplementedError

    assert quiz.check_self_quiz(stub) is False
    assert "not attempted yet" in capsys.readouterr().out
    item = quiz.QUIZ[-1]
    with pytest.raises(AssertionError, match=f"revisit {item.notebook} \\({item.id}\\)"):
        quiz.check_self_quiz(lambda: {**quiz.ANSWER_KEY, item.id: wrong_answer(item)})


# ---- the grader: each plausible slip on a sheet gets its own message ------------------------
def _first(kind, fraction=False):
    """The first item of a kind (a numeric one with a fraction for an answer if asked)."""
    return next(
        i for i in quiz.QUIZ if isinstance(i, kind)
        and (not fraction or 0 < i.answer < 1)
    )


MC, NUM, FRACTION = _first(MultipleChoice), _first(Numeric), _first(Numeric, fraction=True)
SLIPS = {  # a slip a learner makes -> (the sheet, the words the message must contain)
    "the choice's number instead of its letter": (
        {MC.id: 2}, rf"{MC.id}: got the number 2, but this is a multiple-choice item"),
    "the choice's number as a string": (
        {MC.id: "2"}, rf"{MC.id}: got the number '2' as a string"),
    "a letter the item does not offer": (
        {MC.id: "abcdefgh"[len(MC.choices)]},
        rf"{MC.id}: choice '{'abcdefgh'[len(MC.choices)]}' is not offered"),
    "a letter with its parenthesis": (
        {MC.id: f"{MC.answer})"}, rf"{MC.id}: write just the letter '{MC.answer}'"),
    "several letters": ({MC.id: "a, c"}, rf"{MC.id}: 'a, c' names several choices"),
    "several letters as a list": ({MC.id: ["a", "c"]}, rf"{MC.id}: got a list"),
    "the text of the choice": (
        {MC.id: MC.choices[0]}, rf"{MC.id}: got the text of a choice; answer with its letter"),
    "a bool for a choice": ({MC.id: True}, rf"{MC.id}: expected a choice letter"),
    "a percentage instead of a fraction": (
        {FRACTION.id: FRACTION.answer * 100},
        rf"{FRACTION.id}: .* looks like a percentage; this item expects a fraction"),
    "a percentage written with %": (
        {FRACTION.id: f"{FRACTION.answer * 100:g}%"}, rf"{FRACTION.id}: got the percentage"),
    "a number in quotes": (
        {NUM.id: str(NUM.answer)},
        rf"{NUM.id}: expected a number, got the string .* without quotes"),
    "a formula in quotes": ({NUM.id: "4*(64+32)"}, rf"{NUM.id}: expected a number, got the string"
                                                    r" .*compute the value"),
    "a letter for a numeric item": ({NUM.id: "b"}, rf"{NUM.id}: .*got the letter 'b'"),
    "a bool for a number": ({NUM.id: True}, rf"{NUM.id}: expected a number .*bool"),
    "a list for a number": ({NUM.id: [NUM.answer]}, rf"{NUM.id}: expected one number, got a list"),
    "NaN": ({NUM.id: float("nan")}, rf"{NUM.id}: expected a finite number"),
    "an unknown id": ({"q999": "a"}, r"unknown quiz item id 'q999'; the quiz's ids are q1, "),
    "an id in capitals": ({"Q1": "a"}, r"unknown quiz item id 'Q1' \(did you mean 'q1'\?\)"),
    "an id with a space": ({"q 1": "a"}, r"unknown quiz item id 'q 1' \(did you mean 'q1'\?\)"),
    "an id as a number": ({1: "a"}, r"item id 1 is a number; ids are strings: write 'q1'"),
    "pairs instead of a dict": ([("q1", "a")], r"expected a dict \{item id: answer\}"),
    "the function instead of the sheet": (quiz.item, r"got the function 'item': call it"),
    "no sheet at all": (None, r"the sheet is None: does my_answers end with `return"),
}


@pytest.mark.parametrize("slip", list(SLIPS))
def test_each_slip_gets_its_own_message(slip):
    sheet, expected = SLIPS[slip]
    with pytest.raises(ValueError) as info:
        quiz.grade(sheet)
    assert re.search(expected, str(info.value)), str(info.value)
    others = [re.search(e, str(info.value)) for s, (_, e) in SLIPS.items() if s != slip]
    assert not any(others), f"{slip}: the message also matches another slip's: {info.value}"


def test_every_problem_of_a_sheet_is_listed_at_once():
    sheet = {MC.id: 2, FRACTION.id: FRACTION.answer * 100, "Q1": "a"}
    with pytest.raises(ValueError, match=r"^3 problems in the answer sheet:\n  1\. ") as info:
        quiz.grade(sheet)
    assert [line.strip()[:3] for line in str(info.value).splitlines()[1:]] == ["1. ", "2. ", "3. "]


def test_the_fraction_items_accept_fractions_and_blanks_are_not_slips():
    assert quiz.grade({**quiz.ANSWER_KEY, FRACTION.id: FRACTION.answer}).score == len(quiz.QUIZ)
    assert quiz.grade({**quiz.ANSWER_KEY, FRACTION.id: None}).blank == (FRACTION.id,)
    # a number above 1 that is not the percentage of the key is simply wrong, not a slip
    assert quiz.grade({**quiz.ANSWER_KEY, FRACTION.id: 3.0}).score == len(quiz.QUIZ) - 1


# ---- check_self_quiz: the same slips as the checker protocol's AssertionError ----------------
NOT_A_FUNCTION_RESULT = ("the function instead of the sheet", "no sheet at all")  # see below


@pytest.mark.parametrize("slip", [s for s in SLIPS if s not in NOT_A_FUNCTION_RESULT])
def test_check_self_quiz_lists_the_slip_as_a_numbered_problem(slip):
    sheet, expected = SLIPS[slip]
    with pytest.raises(AssertionError, match=r"^check_self_quiz: 1 problem\(s\) found\n  1\. ") \
            as info:
        quiz.check_self_quiz(lambda: sheet)
    assert re.search(expected, str(info.value)), str(info.value)


def test_check_self_quiz_names_its_own_slips():
    with pytest.raises(AssertionError, match="got the sheet itself; pass the function"):
        quiz.check_self_quiz(dict(quiz.ANSWER_KEY))
    with pytest.raises(AssertionError, match="expected a function that returns the sheet"):
        quiz.check_self_quiz("q1: b")

    def my_answers():
        return {"q1": b}  # noqa: F821 (the learner's NameError)

    with pytest.raises(AssertionError, match=r"my_answers\(\) raised NameError: name 'b'"):
        quiz.check_self_quiz(my_answers)

    def forgot_return():
        sheet = {"q1": "b"}  # noqa: F841 (the learner's missing return)

    with pytest.raises(AssertionError, match=r"forgot_return\(\) returned None"):
        quiz.check_self_quiz(forgot_return)


def test_check_self_quiz_says_which_items_were_left_blank():
    sheet = dict(quiz.ANSWER_KEY)
    blank_id = quiz.QUIZ[1].id
    del sheet[blank_id]
    blank_line = rf"\nLeft blank \(counted as missed\): {blank_id}\.\n"
    with pytest.raises(AssertionError, match=blank_line):
        quiz.check_self_quiz(lambda: sheet)


# ---- check_and_grade: the notebook's check cell never stops Run All -------------------------
def test_check_and_grade_on_full_marks_and_on_the_stub(capsys):
    result = quiz.check_and_grade(lambda: dict(quiz.ANSWER_KEY))
    assert result.score == len(quiz.QUIZ) and "✓ check_self_quiz" in capsys.readouterr().out

    def stub():
        raise NotImplementedError

    result = quiz.check_and_grade(stub)
    assert "not attempted yet" in capsys.readouterr().out
    assert result.score == 0 and len(result.blank) == len(quiz.QUIZ)


def test_check_and_grade_on_a_wrong_sheet_prints_the_score_first(capsys):
    item = quiz.QUIZ[-1]
    result = quiz.check_and_grade(lambda: {**quiz.ANSWER_KEY, item.id: wrong_answer(item)})
    out = capsys.readouterr().out
    assert out.startswith(f"✗ check_self_quiz: {len(quiz.QUIZ) - 1}/{len(quiz.QUIZ)} — revisit")
    assert result.missed == ((item.id, item.notebook),) and "Traceback" not in out


def test_check_and_grade_on_a_malformed_sheet_grades_what_it_can_read(capsys):
    sheet = {**quiz.ANSWER_KEY, MC.id: 2, "Q1": "b"}
    result = quiz.check_and_grade(lambda: sheet)
    out = capsys.readouterr().out
    assert out.startswith("✗ check_self_quiz: 2 problem(s) found\n  1. ")
    assert "The cells below grade the answers that could be read" in out
    assert result.missed == ((MC.id, MC.notebook),)  # the slip counts as missed, the rest is right


def test_check_and_grade_on_a_broken_answer_function(capsys):
    def my_answers():
        raise KeyError("q1")

    result = quiz.check_and_grade(my_answers)
    assert capsys.readouterr().out.startswith("✗ check_self_quiz: my_answers() raised KeyError")
    assert result.score == 0


# ---- every numeric key, recomputed independently ----------------------------------------
# The numeric items of notebooks 00-09, each recomputed by one test below (a new item
# needs a new test; the helpers who add notebooks 10+ verify theirs in their own tests).
VERIFIED = {"q2", "q3", "q4", "q5", "q7", "q9", "q10", "q15", "q16", "q17", "q18"}
OWN_NOTEBOOKS = {f"{n:02d}" for n in range(10)}


def key_of(prompt_words):
    """The answer of the one numeric item of notebooks 00-09 whose prompt contains all
    ``prompt_words``; it must be one of VERIFIED."""
    found = [
        i for i in quiz.QUIZ
        if isinstance(i, Numeric) and i.notebook[:2] in OWN_NOTEBOOKS
        and all(w in i.prompt for w in prompt_words)
    ]
    assert len(found) == 1, prompt_words
    assert found[0].id in VERIFIED, found[0].id
    return found[0].answer, found[0].tolerance


def test_every_numeric_item_is_verified_below():
    numeric = {
        i.id for i in quiz.QUIZ if isinstance(i, Numeric) and i.notebook[:2] in OWN_NOTEBOOKS
    }
    assert numeric == VERIFIED


def test_key_accuracy_of_always_no():
    from sklearn.metrics import accuracy_score

    labels = np.r_[np.ones(3), np.zeros(97)]  # 3 % positives
    answer, tol = key_of(["3 %", "always predicts"])
    assert abs(accuracy_score(labels, np.zeros(100)) - answer) <= tol


def test_key_pr_auc_of_a_constant_score_is_the_positive_rate():
    from sklearn.metrics import average_precision_score

    labels = np.r_[np.ones(3), np.zeros(97)]
    answer, tol = key_of(["PR-AUC", "same score"])
    assert abs(average_precision_score(labels, np.full(100, 0.3)) - answer) <= tol


def test_key_random_roc_auc():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    labels = (rng.random(200_000) < 0.03).astype(int)
    answer, tol = key_of(["ROC-AUC", "random ranking"])
    assert abs(roc_auc_score(labels, rng.random(labels.size)) - answer) <= tol
    assert roc_auc_score(labels, np.zeros(labels.size)) == answer  # all ties: exactly 0.5


def test_key_balanced_class_weight():
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.r_[np.ones(4), np.zeros(96)]  # 4 % positives
    weights = compute_class_weight("balanced", classes=np.array([0, 1]), y=labels)
    answer, tol = key_of(["balanced"])
    assert abs(weights[1] - answer) <= tol


def test_key_lstm_parameter_count():
    import keras

    layer = keras.layers.LSTM(64)
    layer.build((None, None, 32))
    answer, tol = key_of(["LSTM(64)", "32 features"])
    assert abs(layer.count_params() - answer) <= tol
    assert layer.count_params() == 4 * (64 * (32 + 64) + 64)  # 4 blocks of W, U, b


def test_key_forget_gate_at_initialisation():
    import keras

    units = 4
    layer = keras.layers.LSTM(units)
    layer.build((None, None, 3))
    kernel, recurrent, bias = layer.get_weights()
    z = np.zeros(3) @ kernel + np.zeros(units) @ recurrent + bias  # zero event, zero state
    forget = 1 / (1 + np.exp(-z[units : 2 * units]))  # Keras gate order: i, f, c, o
    answer, tol = key_of(["forget gate"])
    assert np.all(np.abs(forget - answer) <= tol)


def test_key_masked_attention_weights_sum_to_one():
    import keras

    import helpers

    layer = helpers.AttentionLayer(return_attention=True)
    x = np.random.default_rng(0).normal(size=(1, 40, 8)).astype("float32")
    mask = np.arange(40)[None] < 12  # 12 real events, 28 padding steps
    _, weights = layer(x, mask=mask)
    weights = keras.ops.convert_to_numpy(weights)[0]
    answer, tol = key_of(["12 real events"])
    assert abs(weights[:12].sum() - answer) <= tol + 1e-6  # float32 rounding
    assert np.all(weights[12:] == 0)


def test_key_embedding_parameter_count():
    import keras

    layer = keras.layers.Embedding(input_dim=1001, output_dim=16)
    layer.build((None, None))
    answer, tol = key_of(["Embedding(input_dim=1001"])
    assert abs(layer.count_params() - answer) <= tol


def test_key_self_attention_score_count():
    import keras

    x = np.zeros((1, 200, 8), "float32")
    attention = keras.layers.MultiHeadAttention(num_heads=1, key_dim=8)
    _, scores = attention(x, x, return_attention_scores=True)
    answer, tol = key_of(["T = 200"])
    assert abs(math.prod(scores.shape[-2:]) - answer) <= tol  # (batch, heads, T, T)


def test_key_hit_rate_of_a_random_ranking_among_101_candidates():
    from sklearn.metrics import top_k_accuracy_score

    # every possible rank of the true item (candidate 0) among 101, once each
    n = 101
    scores = np.tile(np.arange(n, 0, -1, dtype=float), (n, 1))  # candidate j scored n - j
    for rank in range(n):  # move the true item to position `rank`
        scores[rank, [0, rank]] = scores[rank, [rank, 0]]
    hr = top_k_accuracy_score(np.zeros(n, int), scores, k=10, labels=np.arange(n))
    answer, tol = key_of(["HR@10", "100 random"])
    assert abs(hr - answer) <= tol


def test_key_ndcg_of_one_relevant_item_at_rank_3():
    from sklearn.metrics import ndcg_score

    relevance = np.zeros((1, 20))
    relevance[0, 2] = 1
    scores = np.arange(20, 0, -1, dtype=float)[None]  # item 2 is ranked 3rd
    answer, tol = key_of(["NDCG@10"])
    assert abs(ndcg_score(relevance, scores, k=10) - answer) <= tol


# ---- multiple-choice facts that can be checked in code -----------------------------------
def test_mask_zero_is_what_makes_an_embedding_emit_a_mask():
    import keras

    item = ITEMS["q14"]
    assert item.choices["abcd".index(item.answer)] == "mask_zero=True"
    ids = np.array([[3, 1, 0, 0]])
    assert keras.layers.Embedding(5, 2).compute_mask(ids) is None
    mask = keras.layers.Embedding(5, 2, mask_zero=True).compute_mask(ids)
    assert keras.ops.convert_to_numpy(mask).tolist() == [[True, True, False, False]]


def test_softmax_over_time_is_the_right_axis():
    import keras

    item = ITEMS["q12"]
    assert "time" in item.choices["abcd".index(item.answer)]
    scores = np.random.default_rng(0).normal(size=(2, 5, 1))  # (batch, time, 1)
    weights = keras.ops.convert_to_numpy(keras.ops.softmax(scores, axis=1))
    np.testing.assert_allclose(weights.sum(axis=1), 1, rtol=1e-6)
    with pytest.warns(UserWarning, match="axis has size 1"):  # Keras warns about it too
        last = keras.ops.convert_to_numpy(keras.ops.softmax(scores, axis=-1))
    assert np.all(last == 1), "softmax over the size-1 last axis gives all ones"


def test_item_lookup():
    assert quiz.item("q1") is quiz.QUIZ[0]
    with pytest.raises(ValueError, match="unknown quiz item id 'q0'"):
        quiz.item("q0")


# ---- notebook 09 end to end: a wrong sheet never stops Run All ------------------------------
def test_notebook_09_runs_to_the_end_with_a_malformed_sheet():
    from tests.wrong_answers import assert_reached_the_end, check_outputs, run_with_answers

    sheet = 'return {"q1": 2, "q2": 97, "Q3": 0.03, "q4": 24832}'  # three slips, one right
    nb = run_with_answers("09_mock_interview", {0: sheet})
    assert_reached_the_end(nb)
    (check,) = check_outputs(nb)
    assert check.startswith("✗ check_self_quiz: 3 problem(s) found"), check
    for words in ("q1: got the number 2", "q2: 97 looks like a percentage",
                  "unknown quiz item id 'Q3' (did you mean 'q3'?)"):
        assert words in check, words
    study_list = next(
        output for output in map(_output_text, nb.cells)
        if output.startswith(f"1/{len(quiz.QUIZ)} — revisit")
    )
    assert "02_lstm (q5, q6)" in study_list  # q4 was read and right; the slips count as missed


def _output_text(cell):
    from tests.test_notebooks import output_text

    return output_text(cell) if cell.cell_type == "code" else ""


def test_the_solution_sheet_of_09_answers_every_item_correctly(capsys):
    """09's worked answer sheet must keep up with the bank: every quiz item, full marks.

    (nbval runs 09 without comparing outputs, so a sheet missing new items would only
    show as a stale ✓ in the stored notebook.)"""
    import nbformat

    path = Path(__file__).resolve().parents[1] / "solutions" / "09_mock_interview.ipynb"
    cells = nbformat.read(path, 4).cells
    source = next(c.source for c in cells if c.cell_type == "code" and "def my_answers" in c.source)
    namespace = {}
    exec(source, namespace)
    result = quiz.check_and_grade(namespace["my_answers"])
    assert set(namespace["my_answers"]()) == set(quiz.ANSWER_KEY)
    assert result.revisit() == {}, result.summary()
    assert "✓" in capsys.readouterr().out
