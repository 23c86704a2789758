"""A candidate-aware click simulator with a known click (and conversion) probability.

Who clicks what, and why (all vectorised NumPy, same seed → same bytes)
----------------------------------------------------------------------
1. **Catalogue.** ``n_categories`` categories with Zipf popularity, each with
   ``items_per_category`` items (Zipf within the category). Item id
   ``1 + category * items_per_category + rank`` (0 = padding); category ids are
   ``1 + category``. Each item has a quality ``q_item ~ N(0, 0.3)`` and a price
   tier ``rank % 3`` (cheap, mid, expensive).
2. **Users.** 1–3 interest categories, drawn by category popularity; their weights
   *drift*: a Dirichlet draw at the start of the history and another at the end,
   linearly interpolated. A user segment (0..4, observed, like an activity level)
   shifts every click logit of that user.
3. **History** (``history_len`` events, the last one most recent; 10–20 % shorter
   histories are left-padded with 0). Each event comes from the current interests
   with probability 0.85, else from the popular catalogue. Behavior types page
   view / favorite / add-to-cart / buy (ids 1..4) with probabilities
   0.78 / 0.08 / 0.10 / 0.04.
4. **Impressions.** ``impressions_per_user`` candidates per user: from the user's
   *current* (end-of-history) interests 45 %, popular categories 35 %, uniform 20 %.
5. **Click.** ``s`` = the recency- and behavior-weighted share of the candidate's
   category in the history (weights ``0.5 ** (age / half_life)`` times 1 / 2 / 3 / 4
   for pv / fav / cart / buy)::

       logit = -4.0 + 5.0 * sqrt(s) + q_item + 0.5 * (segment - 2)

   ``p_click = sigmoid(logit)`` is a function of what the model sees, so it *is*
   P(click | inputs): its ROC-AUC and GAUC are the ceilings (``bayes_roc_auc``,
   ``bayes_gauc``). Only a model that looks at the history *with the candidate's
   category in mind* can compute ``s``.
6. **Conversion** after a click, with its own probability: the buy/cart share of
   the candidate's category ``b`` and the price tier::

       logit_cvr = -1.6 + 3.0 * sqrt(b) + (0.6, 0.0, -0.8)[tier] - 1.2 * sqrt(s)

   (the last term: impulse clicks on a strong interest convert less often) —
   observed only when the impression was clicked (``conv = click * cvr_draw``).
   ``p_conv`` = P(conversion | click, inputs); ``p_ctcvr = p_click * p_conv``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BEHAVIORS = ("pv", "fav", "cart", "buy")  # ids 1..4, 0 = padding
BEHAVIOR_PROBS = (0.78, 0.08, 0.10, 0.04)
BEHAVIOR_WEIGHT = np.array([0.0, 1.0, 2.0, 3.0, 4.0])  # by id; 0 = padding
CLICK_BIAS, CLICK_SLOPE, ITEM_QUALITY_SD, SEGMENT_SLOPE = -4.0, 5.0, 0.3, 0.5
N_SEGMENTS = 5
PRICE_EFFECT = np.array([0.6, 0.0, -0.8])
CVR_BIAS, CVR_SLOPE, CVR_IMPULSE = -1.6, 3.0, -1.2
CANDIDATE_MIX = (0.45, 0.35, 0.20)  # interests, popular, uniform


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class CTRData:
    """Users' histories and their impressions.

    Per user (``n_users`` rows): ``hist_items``, ``hist_cats``, ``hist_behaviors``
    ``(n_users, T)`` int32, left-padded with 0 (the last column is the most recent
    event); ``segment`` ``(n_users,)``.
    Per impression (``n`` rows): ``user`` (row in the user arrays), ``cand_item``,
    ``cand_cat``, ``click``, ``p_click``, ``conv``, ``p_conv`` (P(conv | click)),
    ``share`` (the ``s`` of the click formula).
    """

    hist_items: np.ndarray
    hist_cats: np.ndarray
    hist_behaviors: np.ndarray
    segment: np.ndarray
    user: np.ndarray
    cand_item: np.ndarray
    cand_cat: np.ndarray
    click: np.ndarray
    p_click: np.ndarray
    conv: np.ndarray
    p_conv: np.ndarray
    share: np.ndarray
    n_items: int
    n_categories: int
    info: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.user)

    @property
    def history_len(self):
        return self.hist_items.shape[1]

    @property
    def p_ctcvr(self):
        return self.p_click * self.p_conv

    @property
    def bayes_roc_auc(self):
        from sklearn.metrics import roc_auc_score

        return float(roc_auc_score(self.click, self.p_click))

    @property
    def bayes_gauc(self):
        from helpers.metrics import gauc

        return gauc(self.click, self.p_click, self.user)

    def subset(self, rows) -> CTRData:
        """The impressions ``rows`` (bool mask or indices); user arrays stay shared."""
        rows = np.asarray(rows)
        per_imp = {k: getattr(self, k)[rows] for k in IMPRESSION_FIELDS}
        return CTRData(
            **{k: getattr(self, k) for k in USER_FIELDS}, **per_imp,
            n_items=self.n_items, n_categories=self.n_categories, info=self.info,
        )

    def split(self, fractions=(0.7, 0.1, 0.2), seed=0) -> tuple[CTRData, ...]:
        """Train / validation / test *by user*: all of a user's impressions in one part."""
        from helpers.data import random_parts

        parts = random_parts(np.arange(len(self.segment)), fractions, seed)
        return tuple(self.subset(np.isin(self.user, part)) for part in parts)

    def inputs(self, max_len=None, negatives_seed=None) -> dict:
        """Model inputs, one row per impression (histories gathered per impression).

        ``max_len`` keeps the most recent events. ``negatives_seed`` adds
        ``neg_items`` / ``neg_cats``: for each history event, a random catalogue item
        (DIEN's auxiliary loss contrasts the next real behavior with it).
        """
        t = slice(None) if max_len is None else slice(-max_len, None)
        out = {
            "hist_items": self.hist_items[self.user, t],
            "hist_cats": self.hist_cats[self.user, t],
            "hist_behaviors": self.hist_behaviors[self.user, t],
            "cand_item": self.cand_item[:, None],
            "cand_cat": self.cand_cat[:, None],
            "segment": self.segment[self.user][:, None],
        }
        if negatives_seed is not None:
            rng = np.random.default_rng(negatives_seed)
            ipc = self.n_items // self.n_categories
            neg = rng.integers(1, self.n_items + 1, size=out["hist_items"].shape)
            out["neg_items"] = neg.astype(np.int32)
            out["neg_cats"] = ((neg - 1) // ipc + 1).astype(np.int32)
        return out


USER_FIELDS = ("hist_items", "hist_cats", "hist_behaviors", "segment")
IMPRESSION_FIELDS = (
    "user", "cand_item", "cand_cat", "click", "p_click", "conv", "p_conv", "share",
)


def _zipf(n, exponent):
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def _draw(rng, probs, size):
    """Draw indices from ``probs`` (last axis) for a batch of distributions."""
    cdf = np.cumsum(probs, axis=-1)
    u = rng.random(size + (1,)) * cdf[..., -1:]
    return np.minimum((u > cdf).sum(-1), probs.shape[-1] - 1)


def category_share(hist_cats, hist_behaviors, categories, half_life, behavior_weight=None):
    """Recency- and behavior-weighted share of ``categories`` in each history.

    hist_cats, hist_behaviors: ``(n, T)`` (0 = padding, last column most recent);
    categories: ``(n,)``. Returns ``(n,)`` in [0, 1].
    """
    weight_by_behavior = BEHAVIOR_WEIGHT if behavior_weight is None else behavior_weight
    T = hist_cats.shape[1]
    age = np.arange(T - 1, -1, -1)
    w = 0.5 ** (age / half_life)[None, :] * weight_by_behavior[hist_behaviors]
    match = hist_cats == np.asarray(categories)[:, None]
    return (w * match).sum(1) / np.maximum(w.sum(1), 1e-12)


def make_ctr_dataset(
    n_users: int = 20_000,
    seed: int = 0,
    *,
    history_len: int = 40,
    impressions_per_user: int = 6,
    n_categories: int = 100,
    items_per_category: int = 10,
    half_life: float | None = None,
) -> CTRData:
    """Simulate users, histories and impressions (see the module docstring).

    ``half_life`` (events) of the recency weight defaults to ``history_len / 3``,
    so the whole history matters but recent events count more; long histories
    (hundreds of events) keep long-term interests in the click probability.
    """
    for name, value in (
        ("n_users", n_users), ("history_len", history_len),
        ("impressions_per_user", impressions_per_user), ("n_categories", n_categories),
        ("items_per_category", items_per_category),
    ):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if impressions_per_user < 2:
        raise ValueError("impressions_per_user must be >= 2 so that GAUC is defined")
    half_life = history_len / 3 if half_life is None else float(half_life)
    rng = np.random.default_rng(seed)
    C, ipc, T, M = n_categories, items_per_category, history_len, impressions_per_user
    cat_pop = _zipf(C, 0.9)[rng.permutation(C)]
    item_pop = _zipf(ipc, 1.0)
    quality = rng.normal(0, ITEM_QUALITY_SD, size=C * ipc + 1)
    quality[0] = 0.0

    # users: up to 3 interests, weights drifting from a start to an end draw
    n_interests = rng.integers(1, 4, size=n_users)
    interests = rng.choice(C, size=(n_users, 3), p=cat_pop)
    present = np.arange(3)[None, :] < n_interests[:, None]
    w_start = rng.dirichlet(np.ones(3), size=n_users) * present
    w_end = rng.dirichlet(np.ones(3), size=n_users) * present
    w_start /= w_start.sum(1, keepdims=True)
    w_end /= w_end.sum(1, keepdims=True)
    segment = rng.integers(0, N_SEGMENTS, size=n_users)

    # history: event t of T uses the weights interpolated at t / (T - 1)
    tau = np.linspace(0.0, 1.0, T)[None, :, None]
    w_t = (1 - tau) * w_start[:, None, :] + tau * w_end[:, None, :]  # (n, T, 3)
    pick = _draw(rng, w_t, (n_users, T))
    from_interest = np.take_along_axis(interests, pick, axis=1)
    popular = rng.choice(C, size=(n_users, T), p=cat_pop)
    cats = np.where(rng.random((n_users, T)) < 0.85, from_interest, popular)
    ranks = rng.choice(ipc, size=(n_users, T), p=item_pop)
    behaviors = rng.choice(len(BEHAVIORS), size=(n_users, T), p=BEHAVIOR_PROBS) + 1
    # some histories are shorter: left-pad them
    lengths = np.where(
        rng.random(n_users) < 0.15, rng.integers(max(T // 2, 1), T + 1, size=n_users), T
    )
    pad = np.arange(T)[None, :] < (T - lengths)[:, None]
    hist_cats = np.where(pad, 0, cats + 1).astype(np.int32)
    hist_items = np.where(pad, 0, 1 + cats * ipc + ranks).astype(np.int32)
    hist_behaviors = np.where(pad, 0, behaviors).astype(np.int32)

    # impressions: current interests / popular / uniform
    user = np.repeat(np.arange(n_users), M)
    source = rng.choice(3, size=n_users * M, p=CANDIDATE_MIX)
    own = np.take_along_axis(
        interests[user], _draw(rng, w_end[user], (n_users * M,))[:, None], axis=1
    )[:, 0]
    pop = rng.choice(C, size=n_users * M, p=cat_pop)
    uni = rng.integers(0, C, size=n_users * M)
    cand_c = np.choose(source, [own, pop, uni])
    cand_rank = rng.choice(ipc, size=n_users * M, p=item_pop)
    cand_item = (1 + cand_c * ipc + cand_rank).astype(np.int32)
    cand_cat = (cand_c + 1).astype(np.int32)

    share = category_share(hist_cats[user], hist_behaviors[user], cand_cat, half_life)
    logit = (
        CLICK_BIAS + CLICK_SLOPE * np.sqrt(share) + quality[cand_item]
        + SEGMENT_SLOPE * (segment[user] - 2)
    )
    p_click = sigmoid(logit)
    click = (rng.random(len(user)) < p_click).astype(np.int32)
    buy_weight = np.array([0.0, 0.0, 0.0, 1.0, 2.0])  # cart and buy events only
    b = category_share(hist_cats[user], hist_behaviors[user], cand_cat, half_life, buy_weight)
    p_conv = sigmoid(
        CVR_BIAS + CVR_SLOPE * np.sqrt(b) + PRICE_EFFECT[cand_rank % 3]
        + CVR_IMPULSE * np.sqrt(share)
    )
    conv = (click * (rng.random(len(user)) < p_conv)).astype(np.int32)
    return CTRData(
        hist_items=hist_items, hist_cats=hist_cats, hist_behaviors=hist_behaviors,
        segment=segment.astype(np.int32), user=user, cand_item=cand_item, cand_cat=cand_cat,
        click=click, p_click=p_click, conv=conv, p_conv=p_conv, share=share,
        n_items=C * ipc, n_categories=C,
        info=dict(seed=seed, half_life=half_life, candidate_source=source),
    )
