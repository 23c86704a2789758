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
