"""A retrieval simulator: a skewed catalogue, users with one or several interests.

The generating process (everything vectorised, same seed → same bytes):

* **Catalogue.** ``n_items`` items (ids ``1..n_items``; 0 is padding) in
  ``n_categories`` categories, assigned at random. Item popularity is Zipf-like:
  the item of global rank r gets weight ``r ** -zipf`` (ranks shuffled over ids),
  so a few items take a large share of all events and most items are a long tail.
* **Users.** Each user has 1..3 interests (categories drawn in proportion to the
  category's total popularity, without repetition) with weights from a
  Dirichlet(``concentration``) distribution.
* **Events.** A hidden state z_t (the interest being served) follows a Markov
  chain: with probability ``stay`` it keeps the previous interest, otherwise it is
  redrawn from the user's weights. The item is drawn from category z_t in
  proportion to item popularity, except with probability ``noise`` it is drawn
  from the whole catalogue by popularity (an impulse click).
* **Target.** The event after the ``history_len`` observed ones, drawn by the same
  process. Given the user's hidden interests and the hidden last state, its
  distribution is known exactly (:meth:`RetrievalData.next_item_probs`):

      P(i) = (1 − noise) · [stay · p(i | z_T) + (1 − stay) · Σ_k w_k p(i | c_k)] + noise · pop(i)

  Ranking items by P is the best any model can do; its expected recall@K (the
  sum of the top-K probabilities, :meth:`RetrievalData.oracle_recall`) is the
  ceiling. A model sees only the history, not the hidden state, so the ceiling
  is not quite reachable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_INTERESTS = 3


@dataclass
class Catalogue:
    """``item_category`` ``(n_items + 1,)`` int32 (entry 0 = padding, category 0);
    ``popularity`` ``(n_items + 1,)`` float64, sums to 1 (0 for padding);
    ``within`` ``(n_items + 1,)`` float64: p(item | its category)."""

    item_category: np.ndarray
    popularity: np.ndarray
    within: np.ndarray
    n_categories: int

    @property
    def n_items(self) -> int:
        return len(self.popularity) - 1

    def category_mass(self) -> np.ndarray:
        """``(n_categories,)``: share of all popularity in each category."""
        return np.bincount(self.item_category[1:], self.popularity[1:], self.n_categories)


@dataclass
class RetrievalData:
    """Users with a history and a next item, plus the hidden truth behind them.

    ``history`` ``(n, history_len)`` int32 item ids, oldest first (no padding);
    ``target`` ``(n,)`` int32: the next item; ``interests`` ``(n, 3)`` int32
    categories (−1 = unused) with ``weights`` ``(n, 3)`` (0 where unused);
    ``n_interests`` ``(n,)``; ``last_state`` ``(n,)``: the hidden interest category
    that produced the last history event.
    """

    history: np.ndarray
    target: np.ndarray
    interests: np.ndarray
    weights: np.ndarray
    n_interests: np.ndarray
    last_state: np.ndarray
    catalogue: Catalogue
    stay: float
    noise: float

    def __len__(self) -> int:
        return len(self.target)

    def subset(self, rows) -> RetrievalData:
        pick = {k: getattr(self, k)[rows] for k in ("history", "target", "interests", "weights",
                                                     "n_interests", "last_state")}  # fmt: skip
        return RetrievalData(**pick, catalogue=self.catalogue, stay=self.stay, noise=self.noise)

    def next_item_probs(self) -> np.ndarray:
        """``(n, n_items + 1)``: the true distribution of each user's next item."""
        cat = self.catalogue
        # p(i | category c) for every category: (n_categories, n_items + 1)
        by_category = np.zeros((cat.n_categories, cat.n_items + 1))
        by_category[cat.item_category[1:], np.arange(1, cat.n_items + 1)] = cat.within[1:]
        # each user's weight on each category, (n, n_categories): stay on the last state's
        # category, or redraw from the interests; then one matrix product
        n = len(self)
        mixing = np.zeros((n, cat.n_categories))
        np.add.at(mixing, (np.repeat(np.arange(n), self.interests.shape[1]),
                           np.maximum(self.interests, 0).ravel()),
                  (1 - self.stay) * self.weights.ravel())  # fmt: skip
        mixing[np.arange(n), self.last_state] += self.stay
        return (1 - self.noise) * (mixing @ by_category) + self.noise * cat.popularity[None, :]

    def oracle_recall(self, k: int) -> float:
        """Expected recall@k of ranking by the true next-item distribution (the ceiling)."""
        probs = self.next_item_probs()
        return float(np.partition(probs, -k, axis=1)[:, -k:].sum(axis=1).mean())


def make_catalogue(n_items: int = 5000, n_categories: int = 50, zipf: float = 1.0,
                   seed: int = 0) -> Catalogue:  # fmt: skip
    """Items in categories with Zipf-like popularity (see the module docstring)."""
    if n_items < n_categories or n_categories < 2:
        raise ValueError(
            f"need n_categories >= 2 and n_items >= n_categories, got n_items={n_items}, "
            f"n_categories={n_categories}"
        )
    if zipf < 0:
        raise ValueError(f"zipf must be >= 0 (0 = uniform popularity), got {zipf}")
    rng = np.random.default_rng(seed)
    weights = np.arange(1, n_items + 1, dtype=np.float64) ** -zipf
    popularity = np.zeros(n_items + 1)
    popularity[1:] = rng.permutation(weights) / weights.sum()
    # every category gets at least one item, the rest at random
    category = np.concatenate([np.arange(n_categories),
                               rng.integers(0, n_categories, n_items - n_categories)])  # fmt: skip
    item_category = np.zeros(n_items + 1, dtype=np.int32)
    item_category[1:] = rng.permutation(category)
    mass = np.bincount(item_category[1:], popularity[1:], n_categories)
    within = np.zeros(n_items + 1)
    within[1:] = popularity[1:] / mass[item_category[1:]]
    return Catalogue(item_category, popularity, within, n_categories)


def _draw(rng, cumulative, u=None):
    """Inverse-CDF sampling: ``cumulative`` ``(..., m)`` rows of a CDF → indices."""
    u = rng.random(cumulative.shape[:-1]) if u is None else u
    return np.minimum((cumulative < u[..., None]).sum(axis=-1), cumulative.shape[-1] - 1)


def make_retrieval_data(
    n_users: int,
    catalogue: Catalogue | None = None,
    *,
    history_len: int = 20,
    interest_probs=(0.4, 0.35, 0.25),
    concentration: float = 5.0,
    stay: float = 0.7,
    noise: float = 0.1,
    seed: int = 0,
) -> RetrievalData:
    """Simulate ``n_users`` users: a history of ``history_len`` events and the next item.

    ``interest_probs``: probability of 1, 2, 3 interests; ``concentration``: the
    Dirichlet parameter of the interest weights (large = equal weights); ``stay``
    and ``noise`` as in the module docstring. Same arguments → same bytes.
    """
    catalogue = catalogue or make_catalogue(seed=seed)
    interest_probs = np.asarray(interest_probs, dtype=np.float64)
    if interest_probs.shape != (MAX_INTERESTS,) or (interest_probs < 0).any() or not np.isclose(
        interest_probs.sum(), 1
    ):
        raise ValueError(
            f"interest_probs must be 3 probabilities summing to 1, got {interest_probs}"
        )
    for name, value in (("stay", stay), ("noise", noise)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be in [0, 1], got {value}")
    if n_users < 1 or history_len < 1:
        raise ValueError(f"n_users and history_len must be >= 1, got {n_users}, {history_len}")
    rng = np.random.default_rng([seed, 1])
    n, cat = n_users, catalogue
    n_interests = 1 + _draw(rng, np.cumsum(interest_probs)[None, :].repeat(n, 0))
    # interest categories ∝ category mass, without repetition (Gumbel top-k trick)
    keys = np.log(cat.category_mass())[None, :] + rng.gumbel(size=(n, cat.n_categories))
    interests = np.argsort(-keys, axis=1)[:, :MAX_INTERESTS].astype(np.int32)
    used = np.arange(MAX_INTERESTS)[None, :] < n_interests[:, None]
    interests = np.where(used, interests, -1)
    weights = np.where(used, rng.gamma(concentration, size=(n, MAX_INTERESTS)), 0.0)
    weights /= weights.sum(axis=1, keepdims=True)

    # items of each category sorted, with the CDF of p(item | category) inside it
    order = np.argsort(cat.item_category[1:], kind="stable") + 1
    starts = np.searchsorted(cat.item_category[order], np.arange(cat.n_categories + 1))
    cdf_within = np.cumsum(cat.within[order])
    cdf_global = np.cumsum(cat.popularity[1:])
    weight_cdf = np.cumsum(weights, axis=1)

    steps = history_len + 1
    state = np.empty((n, steps), dtype=np.int32)
    slot = _draw(rng, weight_cdf)
    for t in range(steps):  # the Markov chain over interests (steps is small)
        if t:
            redraw = rng.random(n) >= stay
            slot = np.where(redraw, _draw(rng, weight_cdf), slot)
        state[:, t] = interests[np.arange(n), slot]
    # item from the state's category: a uniform number mapped into that category's CDF range
    lo, hi = starts[state], starts[state + 1]
    base = np.where(lo > 0, cdf_within[np.maximum(lo - 1, 0)], 0.0)
    u = base + rng.random((n, steps)) * (cdf_within[hi - 1] - base)
    pos = np.clip(np.searchsorted(cdf_within, u, side="right"), lo, hi - 1)
    items = order[pos]
    impulse = rng.random((n, steps)) < noise
    anywhere = np.searchsorted(cdf_global, rng.random((n, steps)))
    random_items = 1 + np.minimum(anywhere, cat.n_items - 1)
    items = np.where(impulse, random_items, items).astype(np.int32)
    return RetrievalData(
        history=items[:, :history_len],
        target=items[:, history_len],
        interests=interests,
        weights=weights,
        n_interests=n_interests.astype(np.int32),
        last_state=state[:, history_len - 1],
        catalogue=catalogue,
        stay=stay,
        noise=noise,
    )
