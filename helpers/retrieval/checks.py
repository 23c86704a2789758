"""Checker of notebook 12's exercise: the in-batch softmax loss with the logQ correction.

``check_in_batch_softmax(fn)`` for ``fn(user_vectors (B, d), item_vectors (B, d),
log_q (B,) or None) -> float``: the mean cross-entropy where row i's positive is
item i and the logits are ``U Vᵀ − log_q[None, :]`` (no correction when ``log_q``
is None). Inputs are NumPy arrays; NumPy or ``keras.ops`` answers both pass.
Same protocol as every checker (:mod:`helpers.feedback`): ✓, "not attempted yet",
or an ``AssertionError`` naming each mistake found.
"""

from __future__ import annotations

import numpy as np

from helpers.feedback import run_checker, run_probe
from helpers.retrieval.losses import _log_softmax_np, in_batch_softmax_np

NAME = "check_in_batch_softmax"


def _value(result):
    """The answer as a NumPy float64 array (NumPy, Python or keras/TF tensor)."""
    try:
        return np.asarray(result, dtype=np.float64)
    except (TypeError, ValueError):
        from keras import ops

        return np.asarray(ops.convert_to_numpy(result), dtype=np.float64)


def _variants(u, v, log_q):
    """What the usual mistakes compute, by name (NumPy, float64)."""
    logits = u @ v.T
    corrected = logits - log_q[None, :]
    rows = np.arange(len(u))
    off_diagonal = np.where(np.eye(len(u), dtype=bool), -np.inf, corrected)
    top = off_diagonal.max(axis=1)
    lse_off = top + np.log(np.exp(off_diagonal - top[:, None]).sum(axis=1))
    return {
        "sign": in_batch_softmax_np(u, v, -log_q),
        "ignored": in_batch_softmax_np(u, v, None),
        "probabilities": float(-np.mean(np.diag(_log_softmax_np(logits - np.exp(log_q)[None])))),
        "axis": float(-np.mean(_log_softmax_np(corrected, axis=0)[rows, rows])),
        "diagonal": float(-np.mean(corrected[rows, rows] - lse_off)),
    }


MESSAGES = {
    "sign": "the correction has the wrong sign: the logits are U Vᵀ − log_q. A popular item is a "
    "negative in many batches, which pushes its score down; − log q_j lifts a tail item's "
    "training logit more than a popular one's, so the model must give popular items higher "
    "scores, and those are the scores served (no correction at serving). U Vᵀ + log_q "
    "punishes popular items a second time.",
    "ignored": "with log_q given, the loss equals the uncorrected one: log_q is ignored, or "
    "subtracted per row (log_q[:, None]), where it shifts a whole row and cancels in that row's "
    "softmax. The correction belongs to the columns (items): U Vᵀ − log_q[None, :].",
    "probabilities": "subtracts q itself (exp(log_q)) instead of log q: log_q is already the log "
    "of the sampling probability; subtract it as it is.",
    "axis": "softmax over the wrong axis: row i is user i and its candidates are the columns "
    "(items), so normalise over axis 1 (items), not axis 0 (users).",
    "diagonal": "the diagonal is masked out of the softmax: the positive item i must stay in row "
    "i's denominator (loss = −log softmax(row i)[i]); only accidental duplicates of the positive "
    "elsewhere in the batch may be masked.",
}


def check_in_batch_softmax(fn):
    """Check ``fn(user_vectors, item_vectors, log_q=None) -> mean in-batch cross-entropy``."""
    rng = np.random.default_rng(12)
    batch, dim = 6, 4
    u, v = rng.normal(size=(batch, dim)), rng.normal(size=(batch, dim))
    probs = rng.dirichlet(np.full(40, 0.3))[:batch] + 1e-3  # skewed, like real popularity
    log_q = np.log(probs)

    def body(mistakes):
        plain = _value(run_probe(lambda: fn(u.copy(), v.copy(), None), "fn(U, V, None)"))
        if plain.size != 1:
            mistakes.append(
                f"returns shape {plain.shape}; expected one number: the mean over the B rows "
                "of −log softmax(row i)[i] (a (B,) vector is the per-row loss, take its mean)."
            )
            return None
        plain = float(plain.reshape(()))
        expected_plain = in_batch_softmax_np(u, v, None)
        if np.isclose(plain, batch * expected_plain, rtol=1e-4):
            mistakes.append("sums the rows' losses instead of averaging them: with a mean, the "
                            "loss (and the learning rate that suits it) does not depend on B.")
            return None
        answer = _value(run_probe(lambda: fn(u.copy(), v.copy(), log_q.copy()),
                                  "fn(U, V, log_q)")).reshape(())  # fmt: skip
        answer = float(answer)
        if not np.isfinite(answer):
            mistakes.append("the loss with log_q is NaN or inf: log_q is already a log (negative "
                            "numbers); taking its log again gives NaN. Subtract it as it is.")
            return None
        variants = _variants(u, v, log_q)
        expected = in_batch_softmax_np(u, v, log_q)
        if not np.isclose(plain, expected_plain, rtol=1e-4):
            found = [k for k in ("axis", "diagonal") if np.isclose(
                plain, _variants(u, v, np.zeros(batch))[k], rtol=1e-4)]  # fmt: skip
            mistakes.append(MESSAGES[found[0]] if found else (
                f"without log_q the loss is {plain:.4f}, expected {expected_plain:.4f}: "
                "mean over rows of −log softmax(U Vᵀ, axis=1)[i, i]."))  # fmt: skip
            return None
        if not np.isclose(answer, expected, rtol=1e-4):
            found = [k for k, value in variants.items() if np.isclose(answer, value, rtol=1e-4)]
            mistakes.append(MESSAGES[found[0]] if found else (
                f"with log_q the loss is {answer:.4f}, expected {expected:.4f}: "
                "logits = U Vᵀ − log_q[None, :], then the same cross-entropy."))  # fmt: skip
            return None
        big = _value(run_probe(lambda: fn(u * 30, v * 30, log_q.copy()), "large scores"))
        if not np.all(np.isfinite(big)) or not np.isclose(
            float(big.reshape(())), in_batch_softmax_np(u * 30, v * 30, log_q), rtol=1e-3
        ):
            mistakes.append("wrong or NaN for large scores (|U Vᵀ| ~ 1000): subtract each row's "
                            "max before exp, or use a logsumexp.")  # fmt: skip
        return ("row i's positive is item i, softmax over the batch's items, logits U Vᵀ − "
                "log_q[None, :], mean over rows, stable")
    return run_checker(NAME, body)
