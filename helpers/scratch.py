"""From-scratch NumPy versions of an LSTM and of `AttentionLayer`, using the Keras weight layout.

Each function takes the arrays that ``layer.get_weights()`` returns and reproduces the Keras
output to about 1e-5 (``tests/test_scratch.py`` checks this), so you can read the equations here
and then check that the library does exactly the same thing. NumPy only: no Keras import.
"""

import numpy as np


def sigmoid(x):
    """Logistic ``1 / (1 + exp(-x))`` that never overflows: exp() only ever sees ``-|x|``."""
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(x, axis=-1, mask=None):
    """Softmax along ``axis``, shifted by the max so ``exp`` cannot overflow.

    With a boolean ``mask`` (same shape as ``x``) masked entries get weight exactly 0, and a
    slice with every entry masked gives all zeros instead of NaN, like ``masked_softmax``.
    """
    x = np.asarray(x, dtype=float)
    if mask is not None:
        x = np.where(mask, x, -np.inf)  # exp(-inf) == 0 exactly
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)  # fully masked slice: avoid -inf - -inf = NaN
    e = np.exp(x - top)
    return e / np.maximum(np.sum(e, axis=axis, keepdims=True), np.finfo(float).tiny)


def masked_softmax(scores, mask):
    """Attention weights over time: ``scores`` ``(batch, time)`` float, ``mask`` ``(batch, time)``
    bool → weights ``(batch, time)``: a softmax over the ``True`` steps of each row, exactly 0 on
    the ``False`` steps, all zeros for a row with no ``True`` step (the reference answer of
    notebook 03's exercise)."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2:
        raise ValueError(f"scores must be (batch, time), got shape {scores.shape}")
    mask = _check_mask(mask, *scores.shape)
    if mask is None:
        raise ValueError("mask is required: a (batch, time) bool array, True = real step")
    return softmax(scores, axis=1, mask=mask)


def _check_mask(mask, batch, time):
    if mask is None:
        return None
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (batch, time):
        raise ValueError(f"mask must have shape (batch, time) = {(batch, time)}, got {mask.shape}")
    return mask


def lstm_forward(x, kernel, recurrent_kernel, bias, mask=None, return_gates=False):
    """Run an LSTM over ``x`` from a zero state; same numbers as ``keras.layers.LSTM``.

    Shapes (``u`` = units; the weights exactly as ``LSTM(u).get_weights()`` returns them)::

        x (batch, time, features)  kernel (features, 4u)  recurrent_kernel (u, 4u)  bias (4u,)

    The ``4u`` columns are four blocks in the Keras order i, f, c, o. At each step t::

        z_t = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias     (batch, 4u)
        i_t = sigmoid(z_t[:, 0u:1u])     input gate
        f_t = sigmoid(z_t[:, 1u:2u])     forget gate
        g_t = tanh(z_t[:, 2u:3u])        cell candidate
        o_t = sigmoid(z_t[:, 3u:4u])     output gate
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)

    ``mask`` (batch, time) bool: where False the step is skipped, as Keras does: ``h`` and
    ``c`` are carried over unchanged and the output repeats the previous output (zeros if
    nothing came before). Returns ``h`` for every step, (batch, time, u); with
    ``return_gates=True`` returns ``(h, gates)``, ``gates`` a dict of (batch, time, u) arrays
    "input", "forget", "candidate", "output", "cell". At skipped steps the gates were not
    used, so they are NaN (a gap in a plot) while "cell" holds the carried-over state.
    """
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    recurrent_kernel, bias = np.asarray(recurrent_kernel, dtype=float), np.asarray(bias, float)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (batch, time, features), got shape {x.shape}")
    if kernel.ndim != 2 or kernel.shape[1] % 4:
        raise ValueError(f"kernel must have shape (features, 4*units), got {kernel.shape}")
    units = kernel.shape[1] // 4
    if kernel.shape[0] != x.shape[2]:
        raise ValueError(
            f"kernel must have shape (features, 4*units) = ({x.shape[2]}, {4 * units}) "
            f"to match x's {x.shape[2]} features, got {kernel.shape}"
        )
    if recurrent_kernel.shape != (units, 4 * units):
        raise ValueError(
            f"recurrent_kernel must have shape (units, 4*units) = {(units, 4 * units)} "
            f"(units from kernel), got {recurrent_kernel.shape}"
        )
    if bias.shape != (4 * units,):
        raise ValueError(f"bias must have shape (4*units,) = ({4 * units},), got {bias.shape}")
    batch, time, _ = x.shape
    mask = _check_mask(mask, batch, time)

    h, c = np.zeros((batch, units)), np.zeros((batch, units))
    names = ("input", "forget", "candidate", "output", "cell")
    gates = {name: np.full((batch, time, units), np.nan) for name in names}
    hidden = np.zeros((batch, time, units))
    for t in range(time):
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias
        i = sigmoid(z[:, :units])  # input gate: how much of the candidate to write
        f = sigmoid(z[:, units : 2 * units])  # forget gate: how much old cell to keep
        g = np.tanh(z[:, 2 * units : 3 * units])  # cell candidate: what could be written
        o = sigmoid(z[:, 3 * units :])  # output gate: how much of the cell to show
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        keep = np.ones((batch, 1), bool) if mask is None else mask[:, t, None]
        c, h = np.where(keep, c_new, c), np.where(keep, h_new, h)  # masked: carry over
        hidden[:, t], gates["cell"][:, t] = h, c
        for name, value in zip(names[:4], (i, f, g, o), strict=True):
            gates[name][:, t] = np.where(keep, value, np.nan)
    return (hidden, gates) if return_gates else hidden


def attention_pooling(h, weights, mask=None, scoring="additive"):
    """NumPy ``AttentionLayer.call``: ``(context (batch, features), attention (batch, time))``.

    ``h`` (batch, time, features); ``weights`` is ``AttentionLayer.get_weights()``, in the
    order the layer creates them: additive ``[W (features, units), b (units,), v (units, 1)]``,
    linear ``[w (features, 1)]``. Scores, then a softmax over time, then a weighted sum::

        additive: e_t = tanh(h_t @ W + b) @ v        linear: e_t = h_t @ w
        a = softmax(e) over unmasked steps           context = sum_t a_t * h_t

    Masked steps get weight exactly 0; a fully masked row gives zero weights and context.
    """
    h = np.asarray(h, dtype=float)
    if h.ndim != 3:
        raise ValueError(f"h must have shape (batch, time, features), got shape {h.shape}")
    features = h.shape[2]
    weights = [np.asarray(w, dtype=float) for w in weights]
    if scoring == "linear":
        if len(weights) != 1 or weights[0].shape != (features, 1):
            got = [w.shape for w in weights]
            raise ValueError(f"linear scoring needs weights [w ({features}, 1)], got {got}")
        scores = h @ weights[0]
    elif scoring == "additive":
        shapes = [w.shape for w in weights]
        units = shapes[0][-1] if shapes else None
        if shapes != [(features, units), (units,), (units, 1)]:
            raise ValueError(
                f"additive scoring needs weights [W ({features}, units), b (units,), "
                f"v (units, 1)], got shapes {shapes}"
            )
        W, b, v = weights
        scores = np.tanh(h @ W + b) @ v
    else:
        raise ValueError(f"scoring must be 'additive' or 'linear', got {scoring!r}")
    mask = _check_mask(mask, h.shape[0], h.shape[1])
    attention = softmax(scores[..., 0], axis=1, mask=mask)  # (batch, time)
    context = np.sum(h * attention[..., None], axis=1)  # (batch, features)
    return context, attention
