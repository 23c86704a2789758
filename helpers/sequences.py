"""The one data structure every notebook uses: padded behavior sequences.

Both the simulator (:mod:`helpers.data`) and the real-log loaders
(:mod:`helpers.loaders`) return a :class:`BehaviorSequences`. Arrays are
post-padded (real events first, zeros after), the layout Keras' cuDNN LSTM
kernel needs for masked sequences; id 0 always means padding.

Behavior-type ids (``BEHAVIORS[id - 1]`` is the name)::

    1 search   2 pv (page view)   3 fav (favorite)   4 cart (add-to-cart)   5 buy
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

BEHAVIORS = ("search", "pv", "fav", "cart", "buy")
BEHAVIOR_ID = {name: i + 1 for i, name in enumerate(BEHAVIORS)}
N_BEHAVIORS = len(BEHAVIORS) + 1  # + padding id 0: the Embedding input_dim

# float features per event for question 4: one-hot behavior type (5),
# log time gap, same item as previous event, same category as previous event
FEATURE_NAMES = (*(f"is_{b}" for b in BEHAVIORS), "log_gap", "same_item", "same_category")
N_FEATURES = len(FEATURE_NAMES)


@dataclass
class BehaviorSequences:
    """Padded behavior sequences with labels; ``n`` sequences of ``max_len`` steps.

    Attributes:
        item_ids: ``(n, max_len)`` int32, 0 = padding.
        category_ids: ``(n, max_len)`` int32, 0 = padding.
        behavior_ids: ``(n, max_len)`` int32 in 0..5 (see ``BEHAVIORS``).
        time_gaps: ``(n, max_len)`` float32, seconds since the previous event
            (0 for the first event and for padding).
        features: ``(n, max_len, N_FEATURES)`` float32; all-zero rows are padding
            (a real event always has one behavior flag set).
        labels: ``(n,)`` int32 0/1.
        lengths: ``(n,)`` int32, number of real events.
        user_ids: ``(n,)`` int64, the user each sequence belongs to (split on it).
        true_prob: ``(n,)`` float64 P(label = 1 | observed sequence) when the
            data is simulated, ``None`` for real logs.
    """

    item_ids: np.ndarray
    category_ids: np.ndarray
    behavior_ids: np.ndarray
    time_gaps: np.ndarray
    features: np.ndarray
    labels: np.ndarray
    lengths: np.ndarray
    user_ids: np.ndarray
    true_prob: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def max_len(self) -> int:
        return self.item_ids.shape[1]

    @property
    def n_items(self) -> int:
        """Embedding ``input_dim`` for ``item_ids`` (largest id + 1)."""
        return int(self.item_ids.max()) + 1

    @property
    def positive_rate(self) -> float:
        return float(np.mean(self.labels))

    @property
    def bayes_roc_auc(self) -> float:
        """ROC-AUC of ``true_prob`` against ``labels``: the best any model can
        expect on these sequences (simulated data only)."""
        if self.true_prob is None:
            raise ValueError("bayes_roc_auc needs true_prob, which only simulated data has")
        from sklearn.metrics import roc_auc_score

        return float(roc_auc_score(self.labels, self.true_prob))

    @property
    def bayes_pr_auc(self) -> float:
        """Average precision of ``true_prob``: the PR-AUC ceiling (simulated data only)."""
        if self.true_prob is None:
            raise ValueError("bayes_pr_auc needs true_prob, which only simulated data has")
        from sklearn.metrics import average_precision_score

        return float(average_precision_score(self.labels, self.true_prob))

    def inputs(self) -> dict[str, np.ndarray]:
        """The integer inputs of ``build_lstm_attention_model``."""
        return {"item_ids": self.item_ids, "behavior_ids": self.behavior_ids}

    def subset(self, index) -> BehaviorSequences:
        """Rows ``index`` (a slice, integer array or boolean mask) as a new object."""
        values = {}
        for field in fields(self):
            array = getattr(self, field.name)
            values[field.name] = None if array is None else array[index]
        return BehaviorSequences(**values)


def pad(sequences, max_len: int, dtype=np.int32) -> np.ndarray:
    """Post-pad a list of 1-D sequences with zeros into ``(len(sequences), max_len)``.

    Sequences longer than ``max_len`` keep their *last* ``max_len`` events: the
    most recent behavior matters most for what the user does next.
    """
    out = np.zeros((len(sequences), max_len), dtype=dtype)
    for row, seq in enumerate(sequences):
        seq = np.asarray(seq)[-max_len:]
        out[row, : len(seq)] = seq
    return out


def encode_features(
    behavior_ids: np.ndarray,
    time_gaps: np.ndarray,
    item_ids: np.ndarray,
    category_ids: np.ndarray,
) -> np.ndarray:
    """Float features for question 4: ``(n, max_len)`` ids → ``(n, max_len, N_FEATURES)``.

    One-hot behavior type, ``log1p(gap seconds) / 10`` (gaps span seconds to
    days; the log keeps them on the scale of the one-hot columns), and two flags
    that say whether the item / category repeats the previous event's. Padding
    steps get all-zero rows so ``keras.layers.Masking(0.0)`` can find them.
    """
    real = behavior_ids > 0
    one_hot = np.eye(N_BEHAVIORS, dtype=np.float32)[behavior_ids][..., 1:]
    log_gap = (np.log1p(np.maximum(time_gaps, 0)) / 10.0).astype(np.float32)

    def repeats(ids):
        same = np.zeros(ids.shape, dtype=np.float32)
        same[:, 1:] = (ids[:, 1:] == ids[:, :-1]) & real[:, 1:]
        return same

    features = np.concatenate(
        [
            one_hot,
            log_gap[..., None],
            repeats(item_ids)[..., None],
            repeats(category_ids)[..., None],
        ],
        axis=-1,
    )
    return features * real[..., None]
