"""How far back can a recurrent layer remember? A synthetic task and a gradient probe.

Question 2 claims that an LSTM "avoids the vanishing gradient of a plain RNN". Two
measurements test that claim on the same footing for any Keras recurrent layer:

* :func:`make_memory_task` — sessions of random "noise" events (search, page view,
  favorite, buy) in which an add-to-cart may sit exactly ``lag`` events before the
  end. The label is "was there an add-to-cart ``lag`` steps ago"; nothing else in
  the sequence carries information, so a model can only score above chance by
  carrying that one event across ``lag`` steps.
* :func:`gradient_norms_by_lag` — the size of ``d h_T / d x_{T-1-n}`` for every lag
  ``n``: how strongly the last hidden state still reacts to an event ``n`` steps
  back. This is the quantity Bengio et al. (1994) showed shrinks exponentially.

Features are the one-hot behavior-type columns of :mod:`helpers.sequences`
(``is_search`` … ``is_buy``), so a step looks like the first five features the
question-4 model reads.
"""

from __future__ import annotations

import random

import numpy as np

from helpers.sequences import BEHAVIOR_ID, BEHAVIORS

__all__ = ["CART_COLUMN", "NOISE_PROBS", "gradient_norms_by_lag", "make_memory_task"]

CART_COLUMN = BEHAVIOR_ID["cart"] - 1  # column of "is_cart" in the one-hot features
# noise events: everything except add-to-cart, page views dominating as in real logs
NOISE_PROBS = {"search": 0.1, "pv": 0.7, "fav": 0.1, "buy": 0.1}


def make_memory_task(
    n_sequences: int,
    lag: int,
    *,
    lead: int = 5,
    seed: int = 0,
    positive_rate: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Sessions where the label is "an add-to-cart happened exactly ``lag`` events ago".

    Each sequence has ``lead + 1 + lag`` events: ``lead`` noise events, then the event
    that matters (an add-to-cart with probability ``positive_rate``, else a noise
    event), then ``lag`` more noise events. Add-to-cart never appears anywhere else,
    so the label is exactly ``x[:, -1 - lag, CART_COLUMN]``.

    Returns ``(x, y)``: ``x`` ``(n_sequences, lead + 1 + lag, 5)`` float32 one-hot
    behavior types in the order of ``helpers.sequences.BEHAVIORS``; ``y``
    ``(n_sequences,)`` int32 0/1. Same arguments → the same bytes.
    """
    if not isinstance(lag, (int, np.integer)) or lag < 0:
        raise ValueError(f"lag must be an int >= 0 (events after the add-to-cart), got {lag!r}")
    if not isinstance(lead, (int, np.integer)) or lead < 0:
        raise ValueError(f"lead must be an int >= 0, got {lead!r}")
    if not isinstance(n_sequences, (int, np.integer)) or n_sequences < 1:
        raise ValueError(f"n_sequences must be a positive int, got {n_sequences!r}")
    if not 0.0 < positive_rate < 1.0:
        raise ValueError(f"positive_rate must be in (0, 1), got {positive_rate!r}")
    rng = np.random.default_rng(seed)
    time = lead + 1 + lag
    noise_columns = np.array([BEHAVIOR_ID[name] - 1 for name in NOISE_PROBS])
    noise_p = np.array(list(NOISE_PROBS.values()))
    columns = rng.choice(noise_columns, size=(n_sequences, time), p=noise_p / noise_p.sum())
    y = (rng.random(n_sequences) < positive_rate).astype(np.int32)
    columns[y == 1, lead] = CART_COLUMN  # position lead == time - 1 - lag
    x = np.eye(len(BEHAVIORS), dtype=np.float32)[columns]
    return x, y


def gradient_norms_by_lag(layer, x) -> np.ndarray:
    """``norms[n]`` = mean over the batch of ``|| d h_T / d x_{T-1-n} ||`` (Frobenius).

    ``layer``: a Keras recurrent layer returning only its last output ``h_T``
    ``(batch, units)`` (``return_sequences=False``, the default); it is built on
    first call if needed. ``x``: ``(batch, time, features)`` float. Returns a float64
    array ``(time,)`` indexed by lag: ``norms[0]`` is the last event's influence on
    ``h_T``, ``norms[time - 1]`` the first event's. Uses the full Jacobian (one
    backward pass per unit), so it is exact, not a random projection.

    The backward pass is compiled once per layer configuration and input shape and
    run on a copy of ``layer``'s weights, so probing several fresh layers of one
    configuration (e.g. one per seed) compiles it once; ``layer`` is not modified.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (batch, time, features), got shape {x.shape}")
    if not layer.built:
        layer.build(x.shape)
    out = layer.compute_output_shape(x.shape)  # (batch, units) for the last output only
    if len(out) != 2 or any(isinstance(d, (tuple, list)) for d in out):
        raise ValueError(
            f"layer must return its last output (batch, units), got shape {out}: "
            "use return_sequences=False (and return_state=False)"
        )
    batch, units = len(x), out[-1]
    twin, jacobian_rows = _compiled_jacobian(layer, x.shape)
    twin.set_weights(layer.get_weights())
    # Jacobian rows in one backward pass: copy k of sample b differentiates unit k only
    # (samples never interact, so summing their selected outputs separates them)
    tiled = np.repeat(x, units, axis=0)  # (batch * units, time, features)
    select = np.tile(np.eye(units, dtype=np.float32), (batch, 1))
    rows = np.asarray(jacobian_rows(tiled, select)).reshape(batch, units, *x.shape[1:])
    norms = np.sqrt(np.square(rows.astype(np.float64)).sum(axis=(1, 3)))  # (batch, time)
    return norms.mean(axis=0)[::-1].copy()


# (layer class, configuration, input shape) -> (twin layer, compiled Jacobian rows)
_COMPILED: dict = {}


def _compiled_jacobian(layer, shape):
    """A twin of ``layer`` (same class and configuration, its own weights) and a compiled
    ``(tiled, select) -> d sum(twin(tiled) * select) / d tiled``, cached per configuration
    and shape: tracing costs about as much as one eager pass, and a traced pass is ~20x
    faster than an eager one."""
    import json

    import tensorflow as tf

    config = {k: v for k, v in layer.get_config().items() if k != "name"}
    key = (type(layer), json.dumps(config, sort_keys=True, default=str), tuple(shape))
    if key not in _COMPILED:
        # The twin's weights are always overwritten, and making it must not move the
        # caller's random state: zero initialisers draw nothing, and Keras seeds each new
        # layer's generator from Python's `random`, so that state is put back.
        zeros = {k: "zeros" for k in config if k.endswith("_initializer")}
        state = random.getstate()
        try:
            twin = type(layer).from_config({**config, **zeros})
            twin.build(tuple(shape))
        finally:
            random.setstate(state)

        @tf.function
        def jacobian_rows(tiled, select):
            with tf.GradientTape() as tape:
                tape.watch(tiled)
                picked = tf.reduce_sum(twin(tiled) * select)
            return tape.gradient(picked, tiled)

        _COMPILED[key] = twin, jacobian_rows
    return _COMPILED[key]
