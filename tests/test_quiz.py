"""The interview question bank and the self-quiz (helpers.quiz, notebook 09).

The bank is data, so these tests check its shape (ids, difficulties, rubrics,
notebooks that exist); the quiz is graded, so they check the grader both ways
round and recompute every numeric answer key independently (Keras, scikit-learn
or a formula), so a wrong key fails here rather than in front of a learner.
"""

import math
from pathlib import Path

import numpy as np
import pytest

from helpers import quiz
from helpers.quiz import MultipleChoice, Numeric

ROOT = Path(__file__).resolve().parent.parent
# Every notebook of the collection; a question must point to one of them, and
# helpers.quiz must list them all (a new notebook gets questions too).
EXPECTED_NOTEBOOKS = [p.stem for p in sorted((ROOT / "solutions").glob("*.ipynb"))]
ITEMS = {item.id: item for item in quiz.QUIZ}


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
    sources = {q.source: q.notebook for q in quiz.QUESTIONS if q.source}
    assert sources == {
        "§1": "00_start_here",
        "题目 1": "01_challenges",
        "题目 2": "02_lstm",
        "题目 3": "03_attention",
        "题目 4": "04_lstm_classifier",
        "题目 5": "05_attention_layer",
        "§4": "06_full_model",
    }
    coding = {q.source for q in quiz.QUESTIONS if q.source and q.kind == "coding"}
    assert coding == {"题目 4", "题目 5", "§4"}


@pytest.mark.parametrize("notebook", EXPECTED_NOTEBOOKS[:9])
def test_every_notebook_contributes_follow_ups(notebook):
    follow_ups = [q for q in quiz.QUESTIONS if q.notebook == notebook and not q.source]
    assert follow_ups, f"no follow-up question answered by {notebook}"


@pytest.mark.parametrize(
    "notebook", sorted({q.notebook for q in quiz.QUESTIONS} | {i.notebook for i in quiz.QUIZ})
)
def test_notebook_tags_refer_to_existing_solution_notebooks(notebook):
    assert notebook in EXPECTED_NOTEBOOKS
    assert (ROOT / "solutions" / f"{notebook}.ipynb").exists(), f"solutions/{notebook}.ipynb"


def test_module_notebook_list_matches():
    assert list(quiz.NOTEBOOKS) == EXPECTED_NOTEBOOKS


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


def test_bad_input_raises_a_clear_value_error():
    mc = next(i for i in quiz.QUIZ if isinstance(i, MultipleChoice))
    num = next(i for i in quiz.QUIZ if isinstance(i, Numeric))
    with pytest.raises(ValueError, match=r"unknown quiz item id\(s\) \['q99'\]"):
        quiz.grade({"q99": "a"})
    with pytest.raises(ValueError, match=f"{mc.id}: expected a choice letter"):
        quiz.grade({mc.id: 2})
    beyond = "abcdefgh"[len(mc.choices)]
    with pytest.raises(ValueError, match=f"{mc.id}: choice '{beyond}' is not offered"):
        quiz.grade({mc.id: beyond})
    with pytest.raises(ValueError, match=f"{num.id}: expected a number"):
        quiz.grade({num.id: str(num.answer)})
    with pytest.raises(ValueError, match=f"{num.id}: expected a number"):
        quiz.grade({num.id: True})
    with pytest.raises(ValueError, match="finite"):
        quiz.grade({num.id: float("nan")})
    with pytest.raises(ValueError, match="expected a dict"):
        quiz.grade([("q1", "a")])


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


# ---- every numeric key, recomputed independently ----------------------------------------
def key_of(prompt_words):
    """The answer of the one numeric item whose prompt contains all ``prompt_words``."""
    found = [
        i for i in quiz.QUIZ
        if isinstance(i, Numeric) and all(w in i.prompt for w in prompt_words)
    ]
    assert len(found) == 1, prompt_words
    return found[0].answer, found[0].tolerance


def test_every_numeric_item_is_verified_below():
    # one key_of(...) per numeric item in the tests below; a new item needs a new test
    assert sum(isinstance(i, Numeric) for i in quiz.QUIZ) == 11


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
