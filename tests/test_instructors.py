"""INSTRUCTORS.md quotes what the checkers print for common mistakes; keep it true.

Each quoted block is compared with the message the checker gives today for the
same wrong answer, digits aside (layer-name counters and measured gaps vary).
"""

import re

import pytest

from helpers import checks, quiz
from helpers import transformers as tr
from helpers.churn import check_rfm_features
from tests import test_checks as wrong
from tests.article_code import ArticleAttentionLayer, article_full_model_build, article_q4_build
from tests.test_cdnow import leaky_rfm
from tests.test_notebooks import ROOT
from tests.test_transformers import unscaled


def _two_wrong_quiz_answers():
    sheet = dict(quiz.ANSWER_KEY)
    sheet["q4"] = 1000
    sheet["q12"] = "b" if sheet["q12"] == "a" else "a"
    return sheet


# the bold title of each quoted block in INSTRUCTORS.md -> (checker, wrong answer)
CASES = {
    "The article's question-4 LSTM (`check_lstm_classifier`, notebook 04)": (
        checks.check_lstm_classifier, article_q4_build),
    "The article's question-5 layer (`check_attention_layer`, notebook 05)": (
        checks.check_attention_layer, ArticleAttentionLayer),
    "The article's section-4 model (`check_full_model`, notebook 06)": (
        checks.check_full_model, article_full_model_build),
    "An LSTM classifier without `Masking` (04)": (
        checks.check_lstm_classifier, lambda t, n: wrong.classifier(t, n, masking=False)),
    "An LSTM classifier with `loss='mse'` (04)": (
        checks.check_lstm_classifier, lambda t, n: wrong.classifier(t, n, loss="mse")),
    "A masked softmax that ignores the mask (03)": (
        checks.check_masked_softmax, wrong._ignores_mask),
    "A masked softmax normalised before masking (03)": (
        checks.check_masked_softmax, wrong._multiplies_after_softmax),
    "A masked softmax without the max shift (03)": (
        checks.check_masked_softmax, wrong._no_shift),
    "Scaled dot-product attention without the 1/√d (`check_scaled_dot_product_attention`, 07)": (
        tr.check_scaled_dot_product_attention, unscaled),
    "RFM features computed over the whole log, future included (`check_rfm_features`, 08)": (
        check_rfm_features, leaky_rfm),
    "A self-quiz sheet with two wrong answers (`check_self_quiz`, 09)": (
        quiz.check_self_quiz, _two_wrong_quiz_answers),
}  # fmt: skip


def quoted_blocks():
    """{bold title: text of the ```text block that follows it} in INSTRUCTORS.md."""
    text = (ROOT / "INSTRUCTORS.md").read_text()
    return dict(re.findall(r"^\*\*([^\n]+?)\*\*\n\n```text\n(.*?)\n```", text, re.M | re.S))


def normalised(message):
    return [re.sub(r"\d+", "N", line.rstrip()) for line in message.strip().splitlines()]


def test_every_quoted_block_has_a_case():
    assert set(quoted_blocks()) >= set(CASES), "a case lost its block in INSTRUCTORS.md"
    checker_blocks = {t for t in quoted_blocks() if "check_" in t or "(0" in t}
    assert checker_blocks <= set(CASES), f"blocks without a case: {checker_blocks - set(CASES)}"


@pytest.mark.parametrize("title", list(CASES))
def test_quoted_message_is_what_the_checker_prints(title):
    check, answer = CASES[title]
    with pytest.raises(AssertionError) as info:
        check(answer)
    assert normalised(quoted_blocks()[title]) == normalised(str(info.value)), (
        f"INSTRUCTORS.md quotes an outdated message for: {title}\nThe checker now says:\n"
        f"{info.value}"
    )
