"""Every question a solution notebook asks has a spoken Chinese answer (issue 15).

A question's English answer is a folded ``<details>`` block whose ``<summary>`` is one of
ENGLISH_ANSWER (the think-first key, "Key points" of each follow-up, notebook 09's design
key). Each one must be followed, before the next English answer, by a
``<summary>口述版（中文）</summary>`` block: natural Chinese (CJK characters, at least
MIN_CJK of them), not the English key points pasted again, and not a copy of another
Chinese answer. Any other ``<summary>`` text fails until it is classified here, so a new
kind of question cannot slip past the count.
"""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))

ZH_SUMMARY = "口述版（中文）"
# summaries of English answers, as the notebooks write them (think-first keys carry a
# "(open after ...)" tail, which the prefix match allows)
ENGLISH_ANSWER = re.compile(
    r"^(Key points|What a strong answer covers|What strong candidates do|A strong design)\b"
)
# folded blocks that are not answers to a question (none yet; add e.g. "Hint" here)
NOT_AN_ANSWER = re.compile(r"^(Hint|Hints)\b")
DETAILS = re.compile(r"<details>\s*<summary>(.*?)</summary>(.*?)</details>", re.S)
CJK = re.compile(r"[\u4e00-\u9fff]")
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
MIN_CJK = 80  # about half a minute of speech; the answers in use run 150-500 characters
COPIED_RUN = 8  # this many consecutive English words of the key shared = pasted, not spoken


def blocks(path):
    """Folded blocks of the notebook's markdown in order: (summary, body, question)."""
    nb = nbformat.read(path, as_version=4)
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for match in DETAILS.finditer(cell.source):
            before = cell.source[: match.start()]
            bold = re.findall(r"\*\*(.+?)\*\*", before, re.S)
            question = bold[-1] if bold else cell.source.strip().splitlines()[0]
            found.append((match.group(1).strip(), match.group(2), " ".join(question.split())))
    return found


def paired(path):
    """(English answer, its Chinese answers) for each question, in notebook order."""
    pairs = []
    for summary, body, question in blocks(path):
        if ENGLISH_ANSWER.match(summary):
            pairs.append(((summary, body, question), []))
        elif summary == ZH_SUMMARY and pairs:
            pairs[-1][1].append(body)
    return pairs


def word_runs(text, n):
    words = [w.lower() for w in WORD.findall(text)]
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_there_are_solution_notebooks():
    assert len(SOLUTIONS) >= 10


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_every_folded_block_is_classified(path):
    unknown = [
        summary
        for summary, _, _ in blocks(path)
        if summary != ZH_SUMMARY
        and not ENGLISH_ANSWER.match(summary)
        and not NOT_AN_ANSWER.match(summary)
    ]
    assert not unknown, (
        f"<summary> texts that are neither an English answer nor {ZH_SUMMARY}: {unknown}; "
        "add them to ENGLISH_ANSWER (then they need a Chinese answer) or NOT_AN_ANSWER"
    )


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_every_question_has_a_chinese_answer(path):
    pairs = paired(path)
    assert pairs, "no English answer block found: is the think-first key missing?"
    missing = [question for (_, _, question), chinese in pairs if not chinese]
    assert not missing, (
        f"{len(missing)} of {len(pairs)} questions have no <summary>{ZH_SUMMARY}</summary> "
        f"block after their English answer: {missing}"
    )
    n_zh = sum(summary == ZH_SUMMARY for summary, _, _ in blocks(path))
    assert n_zh >= len(pairs)


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_chinese_answers_are_spoken_chinese_not_copies(path):
    problems = []
    seen = {}
    for (_, english, question), chinese in paired(path):
        for body in chinese:
            n_cjk = len(CJK.findall(body))
            if n_cjk < MIN_CJK:
                problems.append(f"{question}: only {n_cjk} Chinese characters (< {MIN_CJK})")
            shared = word_runs(english, COPIED_RUN) & word_runs(body, COPIED_RUN)
            if shared:
                run = " ".join(next(iter(shared)))
                problems.append(f"{question}: copies the English key points ('{run}')")
            key = " ".join(body.split())
            if key in seen:
                problems.append(f"{question}: same Chinese answer as '{seen[key]}'")
            seen.setdefault(key, question)
    assert not problems, "\n".join(problems)


def test_the_rules_catch_what_they_should():
    """The helpers above reject a missing answer, an English copy and a short answer."""
    english = "Shard the table across devices or parameter servers so only looked-up rows travel."
    assert word_runs(english, COPIED_RUN) & word_runs(f"（{english}）我会分片。", COPIED_RUN)
    assert len(CJK.findall("把表分片（sharding）。")) < MIN_CJK
    assert ENGLISH_ANSWER.match("What a strong answer covers (open after writing yours)")
    assert not ENGLISH_ANSWER.match(ZH_SUMMARY)
