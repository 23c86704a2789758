"""GLOSSARY.md: Chinese ↔ English terms, each defined and linked to notebooks that exist."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "GLOSSARY.md"
LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
CJK = re.compile(r"[\u4e00-\u9fff]")


def rows():
    """The glossary table's body rows, as lists of cells."""
    lines = GLOSSARY.read_text(encoding="utf-8").splitlines()
    table = [line for line in lines if line.startswith("|")]
    header, separator, *body = table
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "中文", "English", "definition", "notebooks"
    ]
    assert set(separator) <= set("|-: ")
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in body]


def test_glossary_has_at_least_40_terms_without_duplicates():
    chinese = [row[0] for row in rows()]
    assert len(chinese) >= 40
    assert len(chinese) == len(set(chinese)), "a Chinese term appears twice"


@pytest.mark.parametrize("row", rows(), ids=lambda row: row[1])
def test_each_row_has_chinese_english_definition_and_a_notebook(row):
    assert len(row) == 4, f"expected 4 cells, got {row}"
    chinese, english, definition, notebooks = row
    assert CJK.search(chinese) or chinese == english, f"no Chinese in {chinese!r}"
    assert re.search(r"[A-Za-z]", english), f"no English in {english!r}"
    assert len(definition) > 15 and not CJK.search(definition)
    links = LINK.findall(notebooks)
    assert links, "each term links at least one notebook"
    for label, target in links:
        assert re.fullmatch(r"solutions/(\d\d)_\w+\.ipynb", target), target
        assert target.startswith(f"solutions/{label}_"), f"label {label} vs {target}"


def test_every_link_in_the_glossary_resolves():
    targets = {target for _, target in LINK.findall(GLOSSARY.read_text(encoding="utf-8"))}
    missing = sorted(t for t in targets if not (ROOT / t).exists())
    assert not missing, f"links to files that do not exist: {missing}"


def test_the_articles_own_terms_are_in_the_glossary():
    article_terms = ["用户行为序列", "浏览", "搜索", "加入购物车", "下单", "高维度特征", "序列建模",
                     "数据不平衡", "长短时记忆网络", "梯度消失", "注意力机制", "用户流失预测",
                     "精准营销", "推荐系统", "嵌入", "全连接层", "大模型"]
    text = GLOSSARY.read_text(encoding="utf-8")
    assert [t for t in article_terms if t not in text] == []


# The Chinese terms an interviewer expects to hear in the spoken answers and the Chinese
# rubrics of the question bank (helpers/question_bank); each needs a row of its own.
INTERVIEW_TERMS = [
    "目标注意力", "梯度消失", "掩码", "分组AUC", "负采样", "兴趣演化", "辅助损失", "召回", "双塔",
    "批内负样本", "流行度纠偏", "多兴趣", "层归一化", "批归一化", "残差连接", "位置编码", "下采样",
    "校准", "可靠性图", "协变量偏移", "概念漂移", "增益模型", "因果掩码", "数据泄露", "冷启动",
]


@pytest.mark.parametrize("term", INTERVIEW_TERMS)
def test_interview_terms_have_a_row(term):
    assert any(term in row[0] for row in rows()), f"no glossary row for {term}"


def test_the_bank_uses_the_glossary_terms_it_relies_on():
    from helpers import quiz

    chinese = "\n".join(
        [q.text_zh for q in quiz.QUESTIONS] + [p for q in quiz.QUESTIONS for p in q.rubric_zh]
    )
    relied_on = ("目标注意力", "梯度消失", "掩码", "负采样", "兴趣演化", "辅助损失", "下采样",
                 "校准")
    for term in relied_on:
        assert term in chinese, f"{term} is no longer used by the Chinese rubrics: update the list"


def test_the_din_row_says_what_the_official_implementation_does():
    (din,) = [row for row in rows() if row[0] == "目标注意力"]
    assert "drops the softmax" in din[2] and "official implementation" in din[2]
