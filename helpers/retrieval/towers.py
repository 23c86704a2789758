"""Two-tower retrieval: a user tower over the behavior sequence, an item tower, a dot product.

The towers meet only in the final dot product ``score(u, i) = user(u) · item(i)``.
That is the whole point: item vectors depend on the item alone, so the catalogue
is encoded **once** (offline, :meth:`TwoTower.item_table`) and put in a
nearest-neighbour index; at request time the user tower runs once and the index
returns the top K by inner product (:func:`top_k`, here an exact matrix product).
A model that mixed user and item features before scoring (a ranking model) would
have to run once per (user, item) pair: 10,000 items → 10,000 forward passes per
request.

* item tower: item-id embedding + category embedding (the category lets a rarely
  seen item borrow from its category);
* user tower: the history's item vectors (the item tower's tables, shared, as in
  SASRec) + position-from-the-end embeddings → attention pooling
  (:class:`helpers.layers.AttentionLayer`, notebooks 03/05), concatenated with the
  most recent event and projected; or, with ``n_interests > 1``, K interest vectors
  (:class:`~helpers.retrieval.multi_interest.MultiInterestPooling`, ComiRec-SA);
* the loss (``loss=``) decides which items are the negatives: see
  :mod:`helpers.retrieval.losses`.
"""

from __future__ import annotations

import time

import keras
import numpy as np
from keras import ops

from helpers.layers import AttentionLayer
from helpers.retrieval import losses
from helpers.retrieval.multi_interest import MultiInterestPooling, best_interest
from helpers.training import build_optimizer_state

LOSSES = ("full_softmax", "sampled_softmax", "in_batch", "in_batch_logq", "bce_one_negative",
          "hard_negatives")  # fmt: skip


def sampling_log_q(targets, n_items: int) -> np.ndarray:
    """``(n_items + 1,)`` float32: log of the probability that a batch slot holds each
    item — its share of the training targets (the in-batch sampling distribution).
    Items never seen as a target never sit in a batch; they get the smallest count (1)."""
    counts = np.bincount(np.asarray(targets), minlength=n_items + 1).astype(np.float64)
    counts = np.maximum(counts, 1.0)
    return np.log(counts / counts[1:].sum()).astype(np.float32)


class TwoTower(keras.Model):
    """Two-tower retriever trained with one of :data:`LOSSES`.

    Call: ``history`` ``(batch, time)`` int item ids → user vectors ``(batch, dim)``,
    or ``(batch, n_interests, dim)`` when ``n_interests > 1``. ``fit(history, target)``
    with ``target`` ``(batch,)`` item ids; the loss is computed in :meth:`compute_loss`.

    Args:
        item_category: ``(n_items + 1,)`` int, the category of each item id (0 = padding).
        log_q: ``(n_items + 1,)`` log sampling probability of each item in a batch
            (:func:`sampling_log_q`); used by ``in_batch_logq`` and ``hard_negatives``.
        loss: one of :data:`LOSSES`.
        n_negatives: shared uniform negatives per batch (``sampled_softmax``).
        n_hard: same-category negatives per row (``hard_negatives``), drawn uniformly
            from the positive's category and added to the logQ-corrected in-batch ones.
    """

    def __init__(self, item_category, log_q, *, loss="in_batch_logq", dim=32, history_len=20,
                 n_interests=1, n_negatives=512, n_hard=8, seed=0, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        item_category = np.asarray(item_category, dtype=np.int32)
        if np.shape(log_q) != item_category.shape:
            raise ValueError(f"log_q must be shaped like item_category {item_category.shape}, "
                             f"got {np.shape(log_q)}")  # fmt: skip
        self.options = dict(loss=loss, dim=dim, history_len=history_len, n_interests=n_interests,
                            n_negatives=n_negatives, n_hard=n_hard)  # for restart()
        self.loss_name, self.dim, self.n_interests = loss, dim, n_interests
        self.n_items = len(item_category) - 1
        self.n_negatives, self.n_hard = n_negatives, n_hard
        self.item_category = ops.convert_to_tensor(item_category)
        # a (non-trainable) variable, not a constant: restart() re-estimates it on new data
        # without retracing the training step
        self.log_q = self.add_weight(shape=item_category.shape, trainable=False, name="log_q",
                                     initializer=keras.initializers.Constant(log_q))  # fmt: skip
        # same-category candidates for hard negatives: (n_categories, largest category)
        n_categories = int(item_category[1:].max()) + 1
        members = [np.flatnonzero(item_category == c) for c in range(n_categories)]
        width = max(len(m) for m in members)
        table = np.zeros((n_categories, width), dtype=np.int32)
        for c, m in enumerate(members):
            table[c, : len(m)] = m
        self.category_items = ops.convert_to_tensor(table.reshape(-1))
        self.category_sizes = ops.convert_to_tensor(np.array([len(m) for m in members], "float32"))
        self.category_width = width
        self.item_embedding = keras.layers.Embedding(self.n_items + 1, dim, name="item_id")
        self.category_embedding = keras.layers.Embedding(n_categories, dim, name="category")
        self.position_embedding = keras.layers.Embedding(history_len, dim, name="position")
        if n_interests > 1:
            self.pooling = MultiInterestPooling(n_interests, name="interests")
        else:
            self.pooling = AttentionLayer(name="attention")
            self.project = keras.layers.Dense(dim, name="user_vector")
        self.seed_generator = keras.random.SeedGenerator(seed)

    # -- item tower -----------------------------------------------------------------
    def item_vectors(self, ids):
        """``(...)`` item ids → ``(..., dim)``: id embedding + category embedding."""
        ids = ops.cast(ids, "int32")
        return self.item_embedding(ids) + self.category_embedding(ops.take(self.item_category, ids))

    def item_table(self) -> np.ndarray:
        """Every item's vector, ``(n_items + 1, dim)`` NumPy: computed once for serving."""
        return ops.convert_to_numpy(self.item_vectors(ops.arange(self.n_items + 1)))

    # -- user tower -----------------------------------------------------------------
    def call(self, history, training=False):
        history = ops.cast(history, "int32")
        events = self.item_vectors(history)  # (batch, time, dim)
        time_steps = ops.shape(history)[1]
        from_end = ops.flip(ops.arange(time_steps), axis=0)  # 0 = most recent event
        events_pos = events + self.position_embedding(from_end)[None]
        mask = ops.greater(history, 0)
        if self.n_interests > 1:
            return self.pooling(events_pos, values=events, mask=mask)  # (batch, K, dim)
        context = self.pooling(events_pos, mask=mask)  # (batch, dim)
        return self.project(ops.concatenate([context, events[:, -1]], axis=-1))

    # -- the loss: which items are the negatives ------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        targets = ops.cast(ops.reshape(y, (-1,)), "int32")
        positive = self.item_vectors(targets)  # (B, dim)
        user = y_pred
        if self.n_interests > 1:  # train the interest closest to the target (ComiRec)
            user = best_interest(y_pred, positive)
        name = self.loss_name
        if name == "full_softmax":
            loss = losses.full_softmax_loss(
                user, self.item_vectors(ops.arange(self.n_items + 1)), targets
            )
        elif name == "sampled_softmax":  # uniform q: the log q correction is a constant
            negatives = keras.random.randint((self.n_negatives,), 1, self.n_items + 1,
                                             seed=self.seed_generator, dtype="int32")  # fmt: skip
            hits = ops.equal(targets[:, None], negatives[None, :])
            loss = losses.sampled_softmax_loss(user, positive, self.item_vectors(negatives),
                                               accidental_hits=hits)  # fmt: skip
        elif name == "in_batch":
            loss = losses.in_batch_softmax_loss(user, positive)
        elif name == "in_batch_logq":
            loss = losses.in_batch_softmax_loss(user, positive, ops.take(self.log_q, targets))
        elif name == "bce_one_negative":
            negatives = keras.random.randint(ops.shape(targets), 1, self.n_items + 1,
                                             seed=self.seed_generator, dtype="int32")  # fmt: skip
            loss = losses.bce_one_negative_loss(user, positive, self.item_vectors(negatives))
        else:  # hard_negatives: logQ in-batch + same-category negatives, one set per row
            loss = self._hard_negative_loss(user, positive, targets)
        return loss + (ops.sum(self.losses) if self.losses else 0.0)

    def _hard_negative_loss(self, user, positive, targets):
        category = ops.take(self.item_category, targets)  # (B,)
        size = ops.take(self.category_sizes, category)
        draw = keras.random.uniform((ops.shape(targets)[0], self.n_hard),
                                    seed=self.seed_generator)  # fmt: skip
        slot = ops.cast(ops.floor(draw * size[:, None]), "int32")
        hard = ops.take(self.category_items, category[:, None] * self.category_width + slot)
        # Mixed negative sampling (Yang et al., WWW 2020): each in-batch column is corrected
        # by the log of its expected count in the batch, log(B q_j), as a sampled softmax
        # should; the hard negatives are left uncorrected on purpose, so they weigh as if
        # they were rare: the loss then insists on beating the positive's own category.
        batch = ops.cast(ops.shape(targets)[0], "float32")
        log_count = ops.take(self.log_q, targets) + ops.log(batch)
        in_batch = ops.matmul(user, ops.transpose(positive)) - log_count[None]
        hard_logits = ops.sum(user[:, None, :] * self.item_vectors(hard), axis=-1)  # (B, n_hard)
        hard_logits = ops.where(ops.equal(hard, targets[:, None]), -1e9, hard_logits)
        logits = ops.concatenate([in_batch, hard_logits], axis=1)
        labels = ops.arange(ops.shape(user)[0])
        return ops.mean(ops.sparse_categorical_crossentropy(labels, logits, from_logits=True))


def build_two_tower(item_category, train_targets, *, loss="in_batch_logq", dim=32,
                    history_len=20, n_interests=1, learning_rate=3e-3, seed=0,
                    **options) -> TwoTower:  # fmt: skip
    """A compiled :class:`TwoTower`; ``train_targets`` give the in-batch log q."""
    keras.utils.set_random_seed(seed)
    model = TwoTower(item_category, sampling_log_q(train_targets, len(item_category) - 1),
                     loss=loss, dim=dim, history_len=history_len, n_interests=n_interests,
                     seed=seed, **options)  # fmt: skip
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    model(np.ones((1, history_len), dtype=np.int32))  # build the weights
    return build_optimizer_state(model)


def restart(model, train_targets, seed) -> TwoTower:
    """Give ``model`` fresh weights (initialised with ``seed``), a fresh optimizer state
    and the log q of ``train_targets``, keeping its traced training step: training the
    same architecture again (another seed, another sample of users from the same
    catalogue) then skips the costly first-step tracing. Returns ``model``."""
    twin = build_two_tower(ops.convert_to_numpy(model.item_category), train_targets,
                           seed=seed, **model.options)  # fmt: skip
    model.set_weights(twin.get_weights())
    for variable in model.optimizer.variables:  # step count and Adam's moments, not the rate
        if "learning_rate" not in variable.path:
            variable.assign(ops.zeros_like(variable))
    model.seed_generator.state.assign(twin.seed_generator.state)
    return model


def fit_two_tower(model, train, *, epochs=4, batch_size=512, seed=0, verbose=0) -> float:
    """Train on ``train`` (a :class:`~helpers.retrieval.simulator.RetrievalData`) for
    ``epochs`` passes over the users in a fresh random order (``seed``); returns the
    training seconds.

    Whole batches only: each epoch leaves out its last ``len(train) % batch_size`` users
    (different ones every epoch). A smaller last batch would make TensorFlow trace the
    training step a second time (its shape differs) and would give the in-batch losses
    fewer negatives; one trace is a good part of the cost of a small model.
    """
    n = len(train.target)
    if n < batch_size:
        raise ValueError(f"need at least batch_size={batch_size} training users, got {n}")
    whole = n - n % batch_size
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(n)[:whole] for _ in range(epochs)])
    start = time.perf_counter()
    # the epochs laid end to end: one fit call, batches in order, never a partial one
    model.fit(train.history[order], train.target[order], batch_size=batch_size, epochs=1,
              shuffle=False, verbose=verbose)  # fmt: skip
    return time.perf_counter() - start


def user_vectors(model, history, batch_size=4096) -> np.ndarray:
    """The user tower alone: ``(n, time)`` → ``(n, dim)`` (or ``(n, K, dim)``).
    Called directly in batches (a few calls do not pay for ``predict``'s tracing)."""
    history = np.asarray(history, dtype=np.int32)
    return np.concatenate([
        ops.convert_to_numpy(model(history[start : start + batch_size], training=False))
        for start in range(0, len(history), batch_size)
    ])  # fmt: skip


def top_k(users, item_table, k=10):
    """Serving: ``users`` ``(n, dim)`` or ``(n, K, dim)`` (best interest per item) and the
    precomputed ``item_table`` ``(n_items + 1, dim)`` → ``(n, k)`` item ids, best first.
    Exact maximum inner product by one matrix product; an ANN index (Faiss, ScaNN,
    HNSW) does the same approximately in sub-linear time on millions of items."""
    scores = item_scores(users, item_table)
    best = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, best, axis=1), axis=1)
    return np.take_along_axis(best, order, axis=1)


def item_scores(users, item_table) -> np.ndarray:
    """``(n, n_items + 1)`` scores; padding (column 0) gets −inf. Multi-interest users
    ``(n, K, dim)`` score each item with their best-matching interest."""
    users = np.asarray(users, dtype=np.float32)
    table = np.asarray(item_table, dtype=np.float32)
    if users.ndim == 3:  # one 2-D product (BLAS), then the best interest per item
        n, k, dim = users.shape
        scores = (users.reshape(n * k, dim) @ table.T).reshape(n, k, -1).max(axis=1)
    else:
        scores = users @ table.T
    scores[:, 0] = -np.inf
    return scores
