"""The exercise checkers of notebooks 10 and 11 accept the reference and name each
plausible wrong answer with its own message."""

import itertools

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from helpers.ctr import checks
from helpers.ctr.layers import din_pooling
from helpers.metrics import gauc, recalibrate


def rejected(checker, fn):
    with pytest.raises(AssertionError) as info:
        checker(fn)
    return str(info.value)


# --- GAUC ------------------------------------------------------------------
def test_probe_variants_all_differ():
    values = list(checks.gauc_variants(*checks.gauc_probe_data()).values())
    for a, b in itertools.combinations(values, 2):
        assert abs(a - b) > 1e-4


def test_check_gauc_accepts_reference(capsys):
    assert checks.check_gauc(gauc) is True
    assert "✓" in capsys.readouterr().out


def test_check_gauc_not_attempted(capsys):
    def stub(labels, scores, groups):
        raise NotImplementedError

    assert checks.check_gauc(stub) is False
    assert "not attempted yet" in capsys.readouterr().out


def _per_user(labels, scores, groups, skip=True):
    out = []
    for g in np.unique(groups):
        y, s = labels[groups == g], scores[groups == g]
        if y.min() == y.max():
            if skip:
                continue
            out.append((0.5, len(y), y.sum()))
        else:
            out.append((roc_auc_score(y, s), len(y), y.sum()))
    if not out:
        raise ValueError("no user with both classes")
    return np.array(out)


def _weighted(pairs):
    return np.average(pairs[:, 0], weights=pairs[:, 1])


WRONG_GAUC = {
    "plain mean": (lambda y, s, g: _per_user(y, s, g)[:, 0].mean(), "plain mean over users"),
    "pooled": (lambda y, s, g: roc_auc_score(y, s), "all impressions pooled"),
    "one-class as 0.5": (
        lambda y, s, g: _weighted(_per_user(y, s, g, skip=False)[:, :2]), "counted (as 0.5)"
    ),
    "by clicks": (
        lambda y, s, g: np.average(_per_user(y, s, g)[:, 0], weights=_per_user(y, s, g)[:, 2]),
        "weighted by clicks",
    ),
    "one-class crash": (
        lambda y, s, g: np.average(
            [roc_auc_score(y[g == k], s[g == k]) for k in np.unique(g)],
            weights=[np.sum(g == k) for k in np.unique(g)],
        ),
        "one class only",
    ),
    "groupby unsorted": (
        lambda y, s, g: _weighted(
            np.array([
                (roc_auc_score(y[r], s[r]), len(r))
                for r in np.split(np.arange(len(g)), np.nonzero(np.diff(g))[0] + 1)
                if 0 < y[r].sum() < len(r)
            ])
        ),
        "groupby",
    ),
    "nan": (
        lambda y, s, g: float("nan"), "NaN",
    ),
}


@pytest.mark.parametrize("name", sorted(WRONG_GAUC))
def test_check_gauc_names_each_mistake(name):
    fn, words = WRONG_GAUC[name]
    assert words in rejected(checks.check_gauc, fn)


def test_check_gauc_wants_value_error_when_undefined():
    def no_raise(labels, scores, groups):
        try:
            return gauc(labels, scores, groups)
        except ValueError:
            return 0.5

    assert "raise ValueError" in rejected(checks.check_gauc, no_raise)


# --- DIN pooling -----------------------------------------------------------
def _din(**change):
    def fn(query, keys, mask, score_fn, use_softmax):
        return checks._din_variant(query, keys, mask, score_fn, use_softmax, **change)

    return fn


def test_check_din_pooling_accepts_reference(capsys):
    assert checks.check_din_pooling(din_pooling) is True
    assert "✓" in capsys.readouterr().out


def test_check_din_pooling_not_attempted(capsys):
    def stub(*args):
        raise NotImplementedError

    assert checks.check_din_pooling(stub) is False
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    "change, words",
    [
        (dict(masked=False), "padding steps get weight"),
        (dict(axis=0), "wrong axis"),
        (dict(scaled=False), "sqrt(d)"),
        (dict(softmax=True), "no softmax"),
        (dict(order=(1, 0, 2, 3)), "order"),
    ],
)
def test_check_din_pooling_names_each_mistake(change, words):
    assert words in rejected(checks.check_din_pooling, _din(**change))


def test_check_din_pooling_size_one_axis_and_wrong_features():
    def size_one(query, keys, mask, score_fn, use_softmax):
        pooled, w = din_pooling(query, keys, mask, score_fn, use_softmax)
        if use_softmax:
            w = np.ones(mask.shape) * mask
            pooled = (keys * w[..., None]).sum(1)
        return pooled, w

    assert "size 1" in rejected(checks.check_din_pooling, size_one)

    def three_blocks(query, keys, mask, score_fn, use_softmax):
        c = np.broadcast_to(query[:, None], keys.shape)
        score_fn(np.concatenate([keys, c, keys * c], -1))
        return din_pooling(query, keys, mask, score_fn, use_softmax)

    assert "[h, c, h − c, h ⊙ c]" in rejected(checks.check_din_pooling, three_blocks)


# --- recalibration ---------------------------------------------------------
def test_check_recalibrate(capsys):
    assert checks.check_recalibrate(recalibrate) is True
    assert "✓" in capsys.readouterr().out
    assert "odds" in rejected(checks.check_recalibrate, lambda q, r: np.asarray(q) * r)
    assert "wrong way" in rejected(
        checks.check_recalibrate, lambda q, r: q / (q + (1 - q) * r)
    )

    def no_validation(q, r):
        return q / (q + (1 - q) / r) if r else q

    assert "raise ValueError" in rejected(checks.check_recalibrate, no_validation)
