"""Retrieval with behavior sequences (notebook 12): two towers and their negatives.

* :mod:`~helpers.retrieval.simulator` — a skewed catalogue and users with one or
  several interests; the true next-item distribution, hence the recall ceiling.
* :mod:`~helpers.retrieval.towers` — the two-tower model, training, serving (top-K).
* :mod:`~helpers.retrieval.losses` — full / sampled / in-batch softmax (with and
  without logQ), SASRec's BCE; NumPy references beside the ``keras.ops`` versions.
* :mod:`~helpers.retrieval.multi_interest` — ComiRec-SA-style K interest vectors.
* :mod:`~helpers.retrieval.metrics` — recall@K / NDCG@K by full ranking, head vs tail,
  sampled AUC and how its negatives change its meaning.
* :mod:`~helpers.retrieval.checks` — the in-batch softmax exercise's checker.
* :mod:`~helpers.retrieval.benchmark` — ``python -m helpers.benchmark --task retrieval``.

Modules that need Keras import it themselves; importing this package is cheap.
"""
