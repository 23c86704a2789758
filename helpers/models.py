"""Model builders: the corrected reference answers and the baselines.

* :func:`build_lstm_classifier` — question 4: an LSTM over float event
  features ``(time, features)``.
* :func:`build_lstm_attention_model` — section 4: item and behavior ids →
  embeddings → LSTM → :class:`~helpers.layers.AttentionLayer` → probability.
* :func:`build_lstm_last_state_model` — the same without attention (baseline).
* :func:`build_order_blind_baseline` + :func:`count_features` — scikit-learn on
  per-session counts: it cannot see order, which is the point.
"""

from __future__ import annotations

import keras
import numpy as np

from helpers.data import N_ITEMS
from helpers.layers import AttentionLayer
from helpers.sequences import N_BEHAVIORS, N_FEATURES, BehaviorSequences
from helpers.training import build_optimizer_state


def compile_classifier(model: keras.Model, learning_rate: float) -> keras.Model:
    # Accuracy is useless at a ~4 % positive rate (always "no" scores 96 %):
    # track ranking quality instead. Keras' AUC is a 200-threshold
    # approximation; report final numbers with scikit-learn.
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="binary_crossentropy",
        metrics=[
            keras.metrics.AUC(curve="ROC", name="roc_auc"),
            keras.metrics.AUC(curve="PR", name="pr_auc"),
        ],
    )
    return build_optimizer_state(model)


def build_lstm_classifier(
    timesteps: int | None = None,
    n_features: int = N_FEATURES,
    *,
    units: int = 32,
    masking: bool = True,
    dropout: float = 0.0,
    learning_rate: float = 3e-3,
) -> keras.Model:
    """Question 4, corrected: ``(batch, timesteps, n_features)`` floats → ``(batch, 1)``.

    Differences from the article's code, each for a reason:

    * ``keras.Input`` instead of ``input_shape=`` (deprecated in Keras 3);
      ``timesteps=None`` accepts any length.
    * ``Masking(0.0)``: all-zero rows are padding; without it the LSTM reads
      padding as events and the prediction depends on how much padding follows.
    * LSTM with its default ``tanh``: ``relu`` replaces it on the candidate and in
      ``h_t = o_t * relu(c_t)`` (the cell state is never squashed, with either), so
      ``h_t`` is unbounded and, fed back through the recurrent kernel, can blow up
      on long sequences; it also rules out the fused cuDNN kernel on a GPU.
    * ROC-AUC / PR-AUC metrics, not accuracy, for a rare positive class.
    """
    inputs = keras.Input((timesteps, n_features), name="features")
    x = keras.layers.Masking(0.0, name="masking")(inputs) if masking else inputs
    x = keras.layers.LSTM(units, dropout=dropout, name="lstm")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="purchase")(x)
    return compile_classifier(keras.Model(inputs, outputs, name="lstm_classifier"), learning_rate)


def _embedded_ids(max_len, item_vocab_size, item_dim, behavior_dim, item_l2):
    """Integer ids ``(batch, max_len)`` ×2 → ``(batch, max_len, item_dim + behavior_dim)``.

    ``mask_zero=True`` makes id 0 padding; the mask travels through
    Concatenate and LSTM to the attention layer.
    """
    item_ids = keras.Input((max_len,), dtype="int32", name="item_ids")
    behavior_ids = keras.Input((max_len,), dtype="int32", name="behavior_ids")
    items = keras.layers.Embedding(
        item_vocab_size,
        item_dim,
        mask_zero=True,
        name="item_embedding",
        embeddings_regularizer=keras.regularizers.L2(item_l2) if item_l2 else None,
    )
    behaviors = keras.layers.Embedding(
        N_BEHAVIORS, behavior_dim, mask_zero=True, name="behavior_embedding"
    )
    x = keras.layers.Concatenate(name="events")([items(item_ids), behaviors(behavior_ids)])
    return {"item_ids": item_ids, "behavior_ids": behavior_ids}, x


def build_lstm_attention_model(
    *,
    max_len: int | None = None,
    item_vocab_size: int = N_ITEMS + 1,
    item_dim: int = 8,
    behavior_dim: int = 8,
    lstm_units: int = 32,
    scoring: str = "additive",
    learning_rate: float = 3e-3,
    return_attention: bool = False,
    item_l2: float = 1e-3,
):
    """Section 4, corrected: integer id sequences → purchase probability.

    Inputs (a dict, as ``BehaviorSequences.inputs()`` gives):
        ``item_ids`` ``(batch, time)`` int in ``[0, item_vocab_size)``, 0 = padding;
        ``behavior_ids`` ``(batch, time)`` int in ``[0, 6)``, 0 = padding.
    Output: ``(batch, 1)`` sigmoid probability. Padding is masked end to end,
    so adding or removing trailing padding never changes a prediction.

    ``item_l2``: L2 penalty on the item embeddings. Item popularity is
    long-tailed, so most of the ~1000 item vectors are fitted on a handful of
    sessions; without the penalty they memorise noise (on the simulator:
    test ROC-AUC 0.70-0.78 instead of 0.82; ``python -m helpers.benchmark``).

    With ``return_attention=True`` returns ``(model, explainer)``: the explainer
    shares the model's weights and outputs ``(probability, weights (batch, time))``.
    """
    inputs, x = _embedded_ids(max_len, item_vocab_size, item_dim, behavior_dim, item_l2)
    x = keras.layers.LSTM(lstm_units, return_sequences=True, name="lstm")(x)
    # return_attention=True: the weights stay in the graph for attention_explainer
    context, _ = AttentionLayer(scoring=scoring, return_attention=True, name="attention")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="purchase")(context)
    model = compile_classifier(keras.Model(inputs, outputs, name="lstm_attention"), learning_rate)
    if return_attention:
        return model, attention_explainer(model)
    return model


def attention_explainer(model: keras.Model) -> keras.Model:
    """A model sharing ``model``'s layers that outputs ``(probability, attention weights)``.

    The attention layer of :func:`build_lstm_attention_model` always computes its
    weights; the training model just does not output them. This reaches into the
    graph for them, so it works on a freshly built model and on a reloaded one.
    Weights are ``(batch, time)``, 0 on padding.
    """
    output = model.get_layer("attention").output
    if not isinstance(output, (list, tuple)) or len(output) != 2:
        raise ValueError(
            "attention_explainer needs a layer named 'attention' built with "
            "return_attention=True, so that it outputs (context, weights); "
            f"this model's 'attention' layer outputs {output!r}"
        )
    weights = output[1]
    return keras.Model(model.input, [model.output, weights], name="attention_explainer")


def build_lstm_last_state_model(
    *,
    max_len: int | None = None,
    item_vocab_size: int = N_ITEMS + 1,
    item_dim: int = 8,
    behavior_dim: int = 8,
    lstm_units: int = 32,
    learning_rate: float = 3e-3,
    item_l2: float = 1e-3,
) -> keras.Model:
    """Baseline: the same inputs and LSTM, but only its last state feeds the output.

    With a mask, Keras' LSTM carries its state across padding, so the "last
    state" is the state after the last *real* event.
    """
    inputs, x = _embedded_ids(max_len, item_vocab_size, item_dim, behavior_dim, item_l2)
    x = keras.layers.LSTM(lstm_units, name="lstm")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="purchase")(x)
    return compile_classifier(keras.Model(inputs, outputs, name="lstm_last_state"), learning_rate)


COUNT_FEATURE_NAMES = (
    "n_search", "n_pv", "n_fav", "n_cart", "n_buy",
    "length", "n_distinct_items", "n_distinct_categories", "mean_log_gap",
)  # fmt: skip


def count_features(data: BehaviorSequences) -> np.ndarray:
    """Order-blind summary of each sequence: ``(n, len(COUNT_FEATURE_NAMES))`` float.

    Counts of each behavior type and simple aggregates. Shuffling the events
    of a sequence leaves every column unchanged — that is what "order-blind" means.
    """
    real = data.behavior_ids > 0
    counts = [(data.behavior_ids == b).sum(axis=1) for b in range(1, N_BEHAVIORS)]

    def distinct(ids):  # number of different non-zero ids in each row
        ids = np.sort(ids, axis=1)
        first = np.ones(ids.shape, dtype=bool)
        first[:, 1:] = ids[:, 1:] != ids[:, :-1]
        return (first & (ids > 0)).sum(axis=1)

    mean_log_gap = (np.log1p(data.time_gaps) * real).sum(axis=1) / np.maximum(data.lengths, 1)
    columns = [
        *counts,
        data.lengths,
        distinct(data.item_ids),
        distinct(data.category_ids),
        mean_log_gap,
    ]
    return np.stack(columns, axis=1).astype(float)


def build_order_blind_baseline(kind: str = "logistic"):
    """scikit-learn model for :func:`count_features`: ``"logistic"`` or ``"boosting"``.

    ``class_weight="balanced"`` is not used: it distorts probabilities and does
    not change ROC-AUC ranking much; we compare ranking metrics.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    if kind == "boosting":
        return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=0)
    raise ValueError(f"kind must be 'logistic' or 'boosting', got {kind!r}")
