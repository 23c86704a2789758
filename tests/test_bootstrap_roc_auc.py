"""helpers.training.bootstrap_roc_auc equals scikit-learn's roc_auc_score on every resample."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from helpers.training import bootstrap_roc_auc


@pytest.mark.parametrize("decimals", [None, 1])  # continuous scores, and many ties
def test_equals_sklearn_on_each_resample(decimals):
    rng = np.random.default_rng(3)
    labels = (rng.random(500) < 0.1).astype(int)
    scores = rng.normal(size=500) + labels
    if decimals is not None:
        scores = np.round(scores, decimals)
    rows = rng.integers(0, 500, (40, 500))
    expected = [roc_auc_score(labels[r], scores[r]) for r in rows]
    np.testing.assert_allclose(bootstrap_roc_auc(labels, scores, rows), expected, atol=1e-12)


def test_one_class_resample_is_an_error():
    labels = np.array([0, 0, 1])
    with pytest.raises(ValueError, match="one class"):
        bootstrap_roc_auc(labels, [0.1, 0.2, 0.3], [[0, 1, 1], [0, 1, 2]])


def test_bad_shapes_are_errors():
    with pytest.raises(ValueError, match="same shape"):
        bootstrap_roc_auc([0, 1], [0.1, 0.2, 0.3], [[0, 1]])
    with pytest.raises(ValueError, match="rows"):
        bootstrap_roc_auc([0, 1], [0.1, 0.2], [0, 1])
    with pytest.raises(ValueError, match="0 or 1"):
        bootstrap_roc_auc([0, 2], [0.1, 0.2], [[0, 1]])


def test_resamples_of_another_size_and_negative_indices_read_like_numpy():
    rng = np.random.default_rng(4)
    labels = (rng.random(300) < 0.3).astype(int)
    scores = np.round(rng.random(300), 2)
    rows = rng.integers(-300, 300, (25, 120))  # 120 draws per resample, negative indices too
    expected = [roc_auc_score(labels[r], scores[r]) for r in rows]
    np.testing.assert_allclose(bootstrap_roc_auc(labels, scores, rows), expected, atol=1e-12)


def test_bad_indices_and_scores_are_errors():
    with pytest.raises(ValueError, match="rows must index the 3 sessions"):
        bootstrap_roc_auc([0, 1, 1], [0.1, 0.2, 0.3], [[0, 1, 3]])
    with pytest.raises(ValueError, match="finite"):
        bootstrap_roc_auc([0, 1, 1], [0.1, np.nan, 0.3], [[0, 1, 2]])
