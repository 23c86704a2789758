"""Data for every notebook: a behavior-sequence simulator with a known answer.

There is no network at run time, so the default data is simulated, modeled on
Taobao's UserBehavior log (page views, favorites, add-to-cart, buys, plus
searches; items nested in categories; long-tailed popularity; time gaps).
Real logs in the Taobao and RetailRocket formats load into the same structure
(:func:`load_taobao_user_behavior`, :func:`load_retailrocket_events`).

How a simulated session is generated
------------------------------------
1. Length: 5 to 40 events (log-normal, median about 14).
2. Behavior types follow a Markov chain (``TRANSITIONS``): a session starts with
   a search (35 %) or a page view; page views dominate; favorites and
   add-to-carts follow each other in *both* orders about equally often, so
   their counts alone do not say which came first.
3. Items: each user has three favorite categories. After a search the session
   jumps to a new category (usually a favorite one), otherwise it stays in the
   current category with probability 0.75. Favorite / cart / buy events act on
   the item just viewed with probability 0.85. Popularity is long-tailed (Zipf)
   both over categories and over items within a category.
4. Time gaps between events: log-normal around 40 s, longer after a buy.
5. The label "the session ends in a purchase" is drawn with probability
   ``sigmoid(z)``, where ``z`` depends only on the observed behavior types::

       z = -5.9
           + 1.2 * [first event is a search]           far back: intent at the start
           + 1.4 * [an add-to-cart after a favorite]   order: fav → cart, not cart → fav
           + 1.8 * exp(-(events since last cart) / 4)  recency: a fresh cart
           + 0.25 * log(1 + page views)                engagement (order-blind)

   About 4 % of sessions end in a purchase. Because ``z`` is a function of the
   observed sequence, ``true_prob = sigmoid(z)`` is exactly
   P(label = 1 | observed sequence): its ROC-AUC (``bayes_roc_auc``) is the
   ceiling no model can beat in expectation. Three of the four terms need the
   *order* of events, so a model that sees only counts cannot reach it.
   Items and time gaps do not enter ``z``: they are realistic nuisance inputs.

Scoring a session while it runs
-------------------------------
A production system scores *prefixes*: the first ``k`` events of a session that
is still going on. :func:`take_prefix` cuts every session to its first
``ceil(fraction * length)`` events and replaces ``true_prob`` with
P(label = 1 | those events, and that they are that fraction of the session),
computed exactly (:func:`prefix_purchase_probability`): the rest of the session
is the Markov chain of step 2 started from the last observed event, its length
is the step-1 length distribution restricted to the lengths that give this
prefix, and ``z`` needs only a small summary of what has happened so far
(first event, whether a favorite and a favorite → cart have occurred, page
views, events since the last cart), so the expectation of ``sigmoid(z)`` over
every possible rest is a backward recursion over that summary.
"""

from __future__ import annotations

import numpy as np

from helpers.loaders import load_cdnow, load_retailrocket_events, load_taobao_user_behavior
from helpers.sequences import (
    BEHAVIOR_ID,
    BEHAVIORS,
    N_BEHAVIORS,
    N_FEATURES,
    BehaviorSequences,
    encode_features,
)

__all__ = [
    "BEHAVIORS",
    "BEHAVIOR_ID",
    "N_BEHAVIORS",
    "N_FEATURES",
    "N_ITEMS",
    "BehaviorSequences",
    "load_cdnow",
    "load_retailrocket_events",
    "load_taobao_user_behavior",
    "length_probabilities",
    "make_dataset",
    "prefix_lengths",
    "prefix_purchase_probability",
    "purchase_logit",
    "purchase_probability",
    "split_by_user",
    "take_prefix",
]

N_ITEMS = 1000  # default simulated catalogue: item ids 1..1000 (0 = padding)
N_CATEGORIES = 50
MIN_LEN, MAX_LEN = 5, 40
MEDIAN_LEN, LEN_SIGMA = 14.0, 0.6  # session length: log-normal, then rounded and clipped

SEARCH, PV, FAV, CART, BUY = (BEHAVIOR_ID[b] for b in BEHAVIORS)
START_PROBS = {SEARCH: 0.35, PV: 0.65}
# TRANSITIONS[a][b-1] = P(next behavior = b | current behavior = a); columns search..buy
TRANSITIONS = {
    SEARCH: [0.05, 0.85, 0.04, 0.05, 0.01],
    PV: [0.08, 0.72, 0.09, 0.09, 0.02],
    FAV: [0.08, 0.70, 0.04, 0.15, 0.03],
    CART: [0.08, 0.70, 0.12, 0.06, 0.04],
    BUY: [0.30, 0.65, 0.02, 0.02, 0.01],
}

# the label's logit: intercept and one coefficient per documented term
LOGIT_INTERCEPT = -5.9
LOGIT_WEIGHTS = {
    "first_is_search": 1.2,
    "fav_then_cart": 1.4,
    "cart_recency": 1.8,
    "log_page_views": 0.25,
}
CART_RECENCY_SCALE = 4.0  # events


def purchase_terms(behavior_ids: np.ndarray, lengths: np.ndarray) -> dict[str, np.ndarray]:
    """The four terms of the label's logit, each ``(n,)``, from ``(n, max_len)`` behavior ids.

    Works on any post-padded behavior array, so notebooks can ask "what if"
    questions: swap two events and see the true probability move.
    """
    behavior_ids = np.asarray(behavior_ids)
    lengths = np.asarray(lengths)
    positions = np.arange(behavior_ids.shape[1])
    is_cart = behavior_ids == CART
    is_fav = behavior_ids == FAV
    fav_before = (np.cumsum(is_fav, axis=1) - is_fav) > 0  # a favorite strictly earlier
    last_cart = np.where(is_cart, positions, -1).max(axis=1)
    events_since_cart = lengths - 1 - last_cart
    return {
        "first_is_search": (behavior_ids[:, 0] == SEARCH).astype(float),
        "fav_then_cart": (is_cart & fav_before).any(axis=1).astype(float),
        "cart_recency": np.where(
            last_cart >= 0, np.exp(-events_since_cart / CART_RECENCY_SCALE), 0.0
        ),
        "log_page_views": np.log1p((behavior_ids == PV).sum(axis=1)),
    }


def purchase_logit(
    behavior_ids: np.ndarray,
    lengths: np.ndarray,
    weights: dict[str, float] = LOGIT_WEIGHTS,
    intercept: float = LOGIT_INTERCEPT,
) -> np.ndarray:
    """``z`` of the module docstring, ``(n,)``; other ``weights`` / ``intercept``
    give a changed purchase process on the same terms (e.g. for concept drift)."""
    terms = purchase_terms(behavior_ids, lengths)
    return intercept + sum(weights[name] * value for name, value in terms.items())


def purchase_probability(
    behavior_ids: np.ndarray,
    lengths: np.ndarray,
    weights: dict[str, float] = LOGIT_WEIGHTS,
    intercept: float = LOGIT_INTERCEPT,
) -> np.ndarray:
    """P(purchase | observed behavior sequence) = ``sigmoid(z)``, ``(n,)`` float64."""
    return 1.0 / (1.0 + np.exp(-purchase_logit(behavior_ids, lengths, weights, intercept)))


def _zipf_probs(n: int, exponent: float = 1.1) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def _sample_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` ``(n, k)`` → ``(n,)`` indices."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.random((len(probs), 1)) * cdf[:, -1:]
    return (u > cdf).sum(axis=1)


def _simulate_behaviors(rng, lengths, max_len):
    n = len(lengths)
    behaviors = np.zeros((n, max_len), dtype=np.int32)
    behaviors[:, 0] = np.where(rng.random(n) < START_PROBS[SEARCH], SEARCH, PV)
    table = np.zeros((N_BEHAVIORS, len(BEHAVIORS)))
    for state, row in TRANSITIONS.items():
        table[state] = row
    for t in range(1, max_len):
        behaviors[:, t] = _sample_rows(rng, table[behaviors[:, t - 1]]) + 1
    behaviors[np.arange(max_len) >= lengths[:, None]] = 0
    return behaviors


def _simulate_items(rng, behaviors, user_ids, n_users, n_items, n_categories):
    n, max_len = behaviors.shape
    items_per_category = n_items // n_categories
    category_probs = _zipf_probs(n_categories)
    favorite_categories = rng.choice(n_categories, size=(n_users, 3), p=category_probs)
    item_probs = _zipf_probs(items_per_category)

    category = np.zeros((n, max_len), dtype=np.int64)
    item = np.zeros((n, max_len), dtype=np.int64)
    for t in range(max_len):
        # a new category at the start, after a search, and 25 % of the time otherwise
        jump = (t == 0) | (behaviors[:, t] == SEARCH) | (rng.random(n) < 0.25)
        favorite = favorite_categories[user_ids, rng.integers(0, 3, n)]
        popular = rng.choice(n_categories, size=n, p=category_probs)
        new_category = np.where(rng.random(n) < 0.6, favorite, popular)
        category[:, t] = (
            new_category if t == 0 else np.where(jump, new_category, category[:, t - 1])
        )
        fresh_item = category[:, t] * items_per_category + rng.choice(
            items_per_category, n, p=item_probs
        )
        # favorite / cart / buy usually act on the item just viewed
        acts_on_previous = (
            (t > 0) & np.isin(behaviors[:, t], (FAV, CART, BUY)) & (rng.random(n) < 0.85)
        )
        item[:, t] = (
            fresh_item if t == 0 else np.where(acts_on_previous, item[:, t - 1], fresh_item)
        )
        if t > 0:
            category[:, t] = np.where(acts_on_previous, category[:, t - 1], category[:, t])
    real = behaviors > 0
    # ids start at 1 so that 0 stays padding
    return ((item + 1) * real).astype(np.int32), ((category + 1) * real).astype(np.int32)


def _simulate_gaps(rng, behaviors):
    gaps = rng.lognormal(mean=np.log(40.0), sigma=1.0, size=behaviors.shape)
    after_buy = np.zeros_like(gaps, dtype=bool)
    after_buy[:, 1:] = behaviors[:, :-1] == BUY
    gaps = np.where(after_buy, gaps * 3.0, gaps)
    gaps[:, 0] = 0.0
    return (gaps * (behaviors > 0)).astype(np.float32)


def make_dataset(
    n_sequences: int = 30_000,
    seed: int = 0,
    *,
    n_users: int | None = None,
    n_items: int = N_ITEMS,
    n_categories: int = N_CATEGORIES,
    min_len: int = MIN_LEN,
    max_len: int = MAX_LEN,
) -> BehaviorSequences:
    """Simulate ``n_sequences`` sessions (see the module docstring).

    Returns a :class:`BehaviorSequences` with ``(n, max_len)`` int32 ids
    (post-padded, 0 = padding), ``(n, max_len, N_FEATURES)`` float32 features,
    ``(n,)`` labels and ``true_prob``. Same arguments → the same bytes.
    ``n_users`` defaults to ``n_sequences // 3`` (about three sessions a user).
    """
    if not isinstance(n_sequences, (int, np.integer)) or n_sequences < 1:
        raise ValueError(f"n_sequences must be a positive int, got {n_sequences!r}")
    if not 1 <= min_len <= max_len:
        raise ValueError(f"need 1 <= min_len <= max_len, got min_len={min_len}, max_len={max_len}")
    if n_items < n_categories or n_categories < 1:
        raise ValueError(f"need n_items >= n_categories >= 1, got {n_items} and {n_categories}")
    rng = np.random.default_rng(seed)
    n_users = n_users or max(1, n_sequences // 3)
    user_ids = rng.integers(0, n_users, n_sequences)
    lengths = np.clip(
        np.round(rng.lognormal(np.log(MEDIAN_LEN), LEN_SIGMA, n_sequences)), min_len, max_len
    )
    lengths = lengths.astype(np.int32)

    behaviors = _simulate_behaviors(rng, lengths, max_len)
    items, categories = _simulate_items(rng, behaviors, user_ids, n_users, n_items, n_categories)
    gaps = _simulate_gaps(rng, behaviors)
    true_prob = purchase_probability(behaviors, lengths)
    labels = (rng.random(n_sequences) < true_prob).astype(np.int32)
    return BehaviorSequences(
        item_ids=items,
        category_ids=categories,
        behavior_ids=behaviors,
        time_gaps=gaps,
        features=encode_features(behaviors, gaps, items, categories),
        labels=labels,
        lengths=lengths,
        user_ids=user_ids.astype(np.int64),
        true_prob=true_prob,
    )


def split_by_user(
    data: BehaviorSequences, fractions=(0.7, 0.15, 0.15), seed: int = 0
) -> tuple[BehaviorSequences, ...]:
    """Split into train / validation / test (or any number of parts) *by user*.

    Every session of a user lands in the same part, so a model cannot score
    well on the test set by recognising users it saw in training. Fractions are
    of users, not of sessions, so part sizes vary a little.
    """
    parts = random_parts(np.unique(data.user_ids), fractions, seed)
    return tuple(data.subset(np.isin(data.user_ids, part)) for part in parts)


def random_parts(values: np.ndarray, fractions, seed: int = 0) -> tuple[np.ndarray, ...]:
    """``values`` shuffled (seeded) and cut into consecutive parts of the given fractions."""
    fractions = np.asarray(fractions, dtype=float)
    if fractions.ndim != 1 or np.any(fractions <= 0) or not np.isclose(fractions.sum(), 1.0):
        raise ValueError(f"fractions must be positive and sum to 1, got {fractions.tolist()}")
    shuffled = np.random.default_rng(seed).permutation(values)
    cuts = np.round(np.cumsum(fractions)[:-1] * len(shuffled)).astype(int)
    return tuple(np.split(shuffled, cuts))


def length_probabilities(min_len: int = MIN_LEN, max_len: int = MAX_LEN) -> np.ndarray:
    """P(session length = L) for L = 0..max_len, ``(max_len + 1,)``: the law of step 1.

    ``round(lognormal(log 14, 0.6))`` clipped to ``[min_len, max_len]``: the
    clipped tails pile up on the two end lengths.
    """
    from math import erf, log, sqrt

    def below(x):  # P(lognormal < x): the normal CDF of log(x)
        return 0.5 * (1.0 + erf((log(x) - log(MEDIAN_LEN)) / (LEN_SIGMA * sqrt(2.0))))

    probs = np.zeros(max_len + 1)
    for length in range(min_len, max_len + 1):
        low = below(length - 0.5) if length > min_len else 0.0
        high = below(length + 0.5) if length < max_len else 1.0
        probs[length] = high - low
    return probs


def prefix_lengths(lengths: np.ndarray, fraction) -> np.ndarray:
    """Events observed after ``fraction`` of each session: ``ceil(fraction * length)``, >= 1.

    ``fraction``: one number, or one per session ``(n,)``.
    """
    fraction = np.asarray(fraction, dtype=float)
    if not np.all((fraction > 0) & (fraction <= 1)):
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    lengths = np.asarray(lengths)
    # the small epsilon keeps 0.1 * 30 = 3.0000000000000004 from rounding up to 4
    return np.clip(np.ceil(fraction * lengths - 1e-9), 1, lengths).astype(np.int32)


def _rest_of_session_table(max_len, weights, intercept):
    """``V[r, first, b, flag, pv, s]`` = E[sigmoid(z) at the end | r events still to come].

    The summary state after the last observed event: ``first`` 1 if the session
    started with a search; ``b`` its behavior; ``flag`` 0 = no favorite yet,
    1 = a favorite but no cart after one, 2 = a cart after a favorite;
    ``pv`` page views so far; ``s`` events since the last cart (``max_len`` =
    no cart yet). One more event of type ``b'`` (probability ``TRANSITIONS``)
    updates the summary; ``z`` at the end is a function of it.
    """
    none = max_len
    pv = np.arange(max_len + 1)
    s = np.arange(max_len + 1)
    cart_recency = np.where(s < none, np.exp(-np.minimum(s, none - 1) / CART_RECENCY_SCALE), 0.0)
    z = (
        intercept
        + weights["first_is_search"] * np.arange(2)[:, None, None, None, None]
        + weights["fav_then_cart"] * (np.arange(3) == 2)[None, None, :, None, None]
        + weights["log_page_views"] * np.log1p(pv)[None, None, None, :, None]
        + weights["cart_recency"] * cart_recency[None, None, None, None, :]
    )
    shape = (2, N_BEHAVIORS, 3, max_len + 1, max_len + 1)
    table = np.zeros((max_len, *shape))
    table[0] = np.broadcast_to(1.0 / (1.0 + np.exp(-z)), shape)
    transitions = np.zeros((N_BEHAVIORS, N_BEHAVIORS))
    for state, row in TRANSITIONS.items():
        transitions[state, 1:] = row
    for remaining in range(1, max_len):
        value = np.zeros(shape)
        for following in range(1, N_BEHAVIORS):
            flag = np.arange(3)
            if following == FAV:
                flag = np.where(flag == 0, 1, flag)
            if following == CART:
                flag = np.where(flag == 1, 2, flag)
            pv_next = np.minimum(pv + (following == PV), max_len)
            s_next = np.zeros_like(s) if following == CART else np.where(
                s < none, np.minimum(s + 1, none - 1), none
            )
            after = table[remaining - 1][:, following][:, flag][:, :, pv_next][..., s_next]
            value += transitions[None, :, following, None, None, None] * after[:, None]
        table[remaining] = value
    return table


def prefix_purchase_probability(
    behavior_ids: np.ndarray,
    observed: np.ndarray,
    fraction,
    *,
    min_len: int = MIN_LEN,
    max_len: int | None = None,
    weights: dict[str, float] = LOGIT_WEIGHTS,
    intercept: float = LOGIT_INTERCEPT,
) -> np.ndarray:
    """P(label = 1 | the first ``observed`` events, ``fraction`` of the session), ``(n,)``.

    Exact under the simulator (no sampling): the sum over every session length
    L that gives this prefix length (``prefix_lengths(L, fraction) == observed``),
    weighted by P(L), of the expected ``sigmoid(z)`` over every possible rest of
    the session (:func:`_rest_of_session_table`). Only the first ``observed``
    behavior ids of each row are read. ``fraction``: one number or one per row;
    ``fraction=1`` gives ``purchase_probability``.
    """
    behavior_ids = np.asarray(behavior_ids)
    observed = np.asarray(observed)
    max_len = max_len or behavior_ids.shape[1]
    if observed.min() < 1 or observed.max() > min(max_len, behavior_ids.shape[1]):
        raise ValueError(
            f"observed must be in 1..{max_len}, got {observed.min()}..{observed.max()}"
        )
    n = len(behavior_ids)
    rows = np.arange(n)
    seen = np.arange(behavior_ids.shape[1])[None, :] < observed[:, None]
    prefix = np.where(seen, behavior_ids, 0)
    terms = purchase_terms(prefix, observed)  # first event, fav → cart so far, page views
    fav_seen = (prefix == FAV).any(axis=1)
    flag = np.where(terms["fav_then_cart"] > 0, 2, np.where(fav_seen, 1, 0))
    last_cart = np.where(prefix == CART, np.arange(prefix.shape[1]), -1).max(axis=1)
    since_cart = np.where(last_cart >= 0, observed - 1 - last_cart, max_len)
    first = terms["first_is_search"].astype(int)
    last = prefix[rows, observed - 1]
    pv = (prefix == PV).sum(axis=1)

    table = _rest_of_session_table(max_len, weights, intercept)
    length_probs = length_probabilities(min_len, max_len)
    total = np.zeros(n)
    norm = np.zeros(n)
    for length in range(min_len, max_len + 1):
        gives = (prefix_lengths(np.full(n, length), fraction) == observed) & (observed <= length)
        if not gives.any():
            continue
        remaining = np.clip(length - observed, 0, max_len - 1)
        value = table[remaining, first, last, flag, pv, since_cart]
        total += np.where(gives, length_probs[length] * value, 0.0)
        norm += np.where(gives, length_probs[length], 0.0)
    if (norm == 0).any():
        raise ValueError(f"no session length in {min_len}..{max_len} gives these prefixes")
    return total / norm


def take_prefix(data: BehaviorSequences, fraction, *, min_len: int = MIN_LEN) -> BehaviorSequences:
    """Every session cut to its first ``ceil(fraction * length)`` events (post-padded again).

    ``fraction``: one number, or one per session ``(n,)`` (e.g. to train one model
    that scores a session at any point).

    Labels stay those of the complete session (what is predicted); ``true_prob``
    becomes the prefix's exact P(label = 1 | prefix) under the simulator
    (:func:`prefix_purchase_probability`), so ``bayes_roc_auc`` is the ceiling
    for scoring at that point of the session. Real logs (no ``true_prob``) are
    cut the same way, with ``true_prob`` left ``None``.
    """
    observed = prefix_lengths(data.lengths, fraction)
    keep = np.arange(data.max_len)[None, :] < observed[:, None]

    def cut(array):
        return array * (keep if array.ndim == 2 else keep[..., None]).astype(array.dtype)

    true_prob = None
    if data.true_prob is not None:
        true_prob = prefix_purchase_probability(
            data.behavior_ids, observed, fraction, min_len=min_len, max_len=data.max_len
        )
    return BehaviorSequences(
        item_ids=cut(data.item_ids),
        category_ids=cut(data.category_ids),
        behavior_ids=cut(data.behavior_ids),
        time_gaps=cut(data.time_gaps),
        features=cut(data.features),
        labels=data.labels,
        lengths=observed,
        user_ids=data.user_ids,
        true_prob=true_prob,
    )
