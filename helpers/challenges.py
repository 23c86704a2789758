"""Perturbations of behavior sequences that expose the challenges of question 1.

Each function takes a :class:`~helpers.sequences.BehaviorSequences` and returns
a new one (the input is never modified), so a notebook can score the same
trained model on the original and on the perturbed sessions:

* :func:`shuffle_events` — same events, random order within each session
  (order-blind features are exactly unchanged; what order-aware models see is not).
* :func:`keep_last` — only the last ``k`` events (truncating long histories).
* :func:`leak_target_event` — the sequence cut *after* the purchase it should
  predict: a ``buy`` event is appended to every positive session (label leakage).
* :func:`shifted_labels` — labels drawn from a changed purchase process
  (concept drift), using the simulator's own terms.
* :func:`without_mask` — a copy of a trained id model that ignores padding masks
  (to measure what masking buys).

And one remedy for the cost of padding (challenge 4): :func:`length_buckets`
batches sessions of similar length, each batch cut to its longest session.

Labels (and ``true_prob``) are carried over unchanged: they describe the
*original* sessions, which is what "score the model on perturbed inputs" means.
"""

from __future__ import annotations

import numpy as np

from helpers.data import LOGIT_INTERCEPT, LOGIT_WEIGHTS, purchase_probability
from helpers.sequences import BEHAVIOR_ID, BehaviorSequences, encode_features

__all__ = [
    "keep_last", "leak_target_event", "length_buckets", "shifted_labels", "shuffle_events",
    "without_mask",
]  # fmt: skip

_ID_FIELDS = ("item_ids", "category_ids", "behavior_ids")


def _rebuild(data: BehaviorSequences, ids: dict, gaps: np.ndarray, lengths, labels=None):
    return BehaviorSequences(
        **ids,
        time_gaps=gaps.astype(np.float32),
        features=encode_features(ids["behavior_ids"], gaps, ids["item_ids"], ids["category_ids"]),
        labels=data.labels.copy() if labels is None else labels,
        lengths=np.asarray(lengths, dtype=np.int32),
        user_ids=data.user_ids.copy(),
        true_prob=None if data.true_prob is None else data.true_prob.copy(),
    )


def shuffle_events(data: BehaviorSequences, seed: int = 0) -> BehaviorSequences:
    """Randomly permute the real events of every session; padding stays at the end.

    An event keeps its item, category and behavior (the whole event moves); the
    time gaps stay where they were (the session's rhythm is kept, only *which*
    event happens when changes). Features are re-encoded, so the result is a
    valid post-padded batch of the same shape, and every column of
    :func:`helpers.models.count_features` is exactly unchanged.
    """
    rng = np.random.default_rng(seed)
    n, width = data.behavior_ids.shape
    real = np.arange(width)[None, :] < data.lengths[:, None]
    # sort random keys: real steps get keys in [0, 1), padding keys 2 → padding stays last
    order = np.argsort(np.where(real, rng.random((n, width)), 2.0), axis=1, kind="stable")
    take = lambda a: np.take_along_axis(a, order, axis=1)  # noqa: E731
    ids = {name: take(getattr(data, name)) for name in _ID_FIELDS}
    return _rebuild(data, ids, data.time_gaps.copy(), data.lengths)


def keep_last(data: BehaviorSequences, k: int) -> BehaviorSequences:
    """Keep each session's last ``k`` real events (all of them if it has fewer).

    The result has the same width, post-padded; ``lengths`` become ``min(length, k)``.
    """
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    n, width = data.behavior_ids.shape
    new_lengths = np.minimum(data.lengths, k)
    start = data.lengths - new_lengths  # first kept position of each row
    source = start[:, None] + np.arange(width)[None, :]
    keep = np.arange(width)[None, :] < new_lengths[:, None]
    source = np.where(keep, source, 0)

    def take(a):
        return np.where(keep, np.take_along_axis(a, source, axis=1), 0).astype(a.dtype)

    ids = {name: take(getattr(data, name)) for name in _ID_FIELDS}
    gaps = take(data.time_gaps)
    gaps[:, 0] = 0.0
    return _rebuild(data, ids, gaps, new_lengths)


def leak_target_event(data: BehaviorSequences) -> BehaviorSequences:
    """The window cut one event too late: positive sessions end with their purchase.

    Every session with label 1 gets a ``buy`` event on its last item appended
    (the array grows by one column so no real event is lost); negative sessions
    are unchanged. This is what happens when features are computed from the
    whole log instead of from the events *before* the prediction time.
    """
    n, width = data.behavior_ids.shape
    positive = data.labels == 1
    rows, at = np.flatnonzero(positive), data.lengths[positive]  # where the buy goes
    ids = {}
    for name in _ID_FIELDS:
        wide = np.zeros((n, width + 1), dtype=getattr(data, name).dtype)
        wide[:, :width] = getattr(data, name)
        # the purchase acts on the item (and category) of the last event
        wide[rows, at] = BEHAVIOR_ID["buy"] if name == "behavior_ids" else wide[rows, at - 1]
        ids[name] = wide
    gaps = np.zeros((n, width + 1), dtype=np.float32)
    gaps[:, :width] = data.time_gaps
    gaps[rows, at] = 30.0  # seconds: pay right after
    return _rebuild(data, ids, gaps, data.lengths + positive)


def shifted_labels(
    data: BehaviorSequences,
    weights: dict | None = None,
    intercept: float = LOGIT_INTERCEPT,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels from a changed purchase process on the same sessions (concept drift).

    ``weights`` overrides some of ``helpers.data.LOGIT_WEIGHTS`` (unknown names
    raise ``ValueError``). Returns ``(labels (n,) int32, true_prob (n,) float64)``;
    with no overrides ``true_prob`` equals the simulator's.
    """
    new = dict(LOGIT_WEIGHTS)
    unknown = set(weights or {}) - set(new)
    if unknown:
        raise ValueError(f"unknown logit terms {sorted(unknown)}; known: {sorted(new)}")
    new.update(weights or {})
    true_prob = purchase_probability(data.behavior_ids, data.lengths, new, intercept)
    labels = (np.random.default_rng(seed).random(len(true_prob)) < true_prob).astype(np.int32)
    return labels, true_prob


def without_mask(model):
    """A copy of a trained ``helpers.models`` id model that does not mask padding.

    The embeddings are rebuilt with ``mask_zero=False`` and the trained weights;
    every later layer is *shared* with ``model`` (same weights). On sessions
    without padding both models agree; with padding the copy reads the zeros
    as events, so its prediction depends on how much padding follows.
    """
    import keras

    inputs, embedded = {}, []
    for name, layer_name in (
        ("item_ids", "item_embedding"),
        ("behavior_ids", "behavior_embedding"),
    ):
        trained = model.get_layer(layer_name)
        inputs[name] = keras.Input((None,), dtype="int32", name=name)
        copy = keras.layers.Embedding(
            trained.input_dim, trained.output_dim, mask_zero=False, name=f"{layer_name}_unmasked"
        )
        embedded.append(copy(inputs[name]))
        copy.set_weights(trained.get_weights())
    x = model.get_layer("events")(embedded)
    names = [layer.name for layer in model.layers]
    for layer in model.layers[names.index("events") + 1 :]:
        x = layer(x)
        if isinstance(x, (tuple, list)):  # the attention layer returns (context, weights)
            x = x[0]
    return keras.Model(inputs, x, name=f"{model.name}_unmasked")


def length_buckets(data: BehaviorSequences, batch_size: int = 256, *, x="ids", seed: int = 0):
    """Training batches of sessions of similar length, each cut to its longest session.

    A ``keras.utils.PyDataset`` for ``model.fit``: the sessions are sorted by
    length and cut into batches of ``batch_size`` (so a batch holds sessions of
    about the same length), every batch is trimmed to its longest session, and
    the order of the batches is reshuffled every epoch (``seed``: same seed,
    same order). With right-padded, masked inputs trimming trailing padding
    changes no prediction; it only skips steps that are padding in every
    session of the batch: on the simulator (59 % padding) an epoch costs about
    half as much.

    ``x``: ``"ids"`` gives ``{"item_ids", "behavior_ids"}`` ``(batch, T)`` int
    (the inputs of ``build_lstm_attention_model``), ``"features"`` gives
    ``features`` ``(batch, T, n_features)`` float. Labels ``(batch,)`` float32.
    """
    import keras

    if x not in ("ids", "features"):
        raise ValueError(f"x must be 'ids' or 'features', got {x!r}")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if data.labels is None or len(data) == 0:
        raise ValueError("length_buckets needs a non-empty BehaviorSequences with labels")

    class LengthBuckets(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            by_length = np.argsort(data.lengths, kind="stable")
            self.batches = np.array_split(by_length, -(-len(data) // int(batch_size)))
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(len(self.batches))

        def __len__(self):
            return len(self.batches)

        def __getitem__(self, index):
            rows = self.batches[self.order[index]]
            width = int(data.lengths[rows].max())
            if x == "ids":
                inputs = {k: v[rows, :width] for k, v in data.inputs().items()}
            else:
                inputs = data.features[rows, :width]
            return inputs, data.labels[rows].astype(np.float32)

        def on_epoch_end(self):
            self.order = self.rng.permutation(len(self.batches))

    return LengthBuckets()
