"""Churn from a purchase log: weekly sequences, RFM features and labels, leakage-free.

The setting is the one of Fader, Hardie & Lee (2005) on the CDNOW log
(:func:`helpers.loaders.load_cdnow`): a *non-contractual* business, where a customer never
says "I quit", so "churned" can only mean "did not buy again within a given window".

Time is split at a **cutoff** (by default 39 weeks after 1 January 1997, i.e. 1 October 1997):

* **calibration period** ``[start, cutoff)``: weeks 1..39, the only purchases any feature
  may use. Week ``w`` (1-based) holds the days ``start + 7(w-1)`` .. ``start + 7w - 1``.
* **holdout period** ``[cutoff, cutoff + 39 weeks)`` = 1 Oct 1997 .. 30 Jun 1998: used only
  for the label ``buys_again = 1`` if the customer buys anything in it, else 0
  (churned = 0). Purchases after the holdout are ignored.

Every feature function takes the *whole* log and the cutoff and drops the purchases at or
after the cutoff itself, so no caller can leak the future by passing the wrong table.

Two views of each customer's calibration history:

* :func:`weekly_sequences` — ``(n, weeks, 5)`` floats for an LSTM, one step per week from
  the customer's first purchase week to week 39, post-padded with all-zero rows (masked).
* :func:`rfm_features` — recency, frequency, monetary value and age: the classic summary.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from helpers.data import random_parts
from helpers.feedback import not_attempted, report
from helpers.loaders import CDNOW_HEADER

START = pd.Timestamp("1997-01-01")  # CDNOW's first day; week 1 starts here
CALIBRATION_WEEKS = 39
HOLDOUT_WEEKS = 39

# per-week features of weekly_sequences, in this order
SEQUENCE_FEATURES = ("log_orders", "log_cds", "log_dollars", "observed", "weeks_to_cutoff")
RFM_FEATURES = ("recency_weeks", "frequency", "monetary", "age_weeks")
_COLUMNS = CDNOW_HEADER  # the columns load_cdnow returns


def cutoff_date(start=START, calibration_weeks: int = CALIBRATION_WEEKS) -> pd.Timestamp:
    """First day of the holdout: ``start + 7 * calibration_weeks`` days (1997-10-01)."""
    return pd.Timestamp(start) + pd.Timedelta(weeks=calibration_weeks)


def _before(purchases: pd.DataFrame, cutoff, start=None) -> pd.DataFrame:
    """The purchases strictly before ``cutoff`` (and at or after ``start``, when given)."""
    missing = [c for c in _COLUMNS if c not in purchases.columns]
    if missing:
        raise ValueError(
            f"purchases need the columns {list(_COLUMNS)} (as load_cdnow returns); "
            f"missing {missing}"
        )
    if start is not None and (purchases["date"] < start).any():
        first = purchases["date"].min().date()
        raise ValueError(f"a purchase on {first} is before the start {pd.Timestamp(start).date()}")
    return purchases[purchases["date"] < cutoff]


def weekly_sequences(
    purchases: pd.DataFrame, customers, *, start=START, weeks: int = CALIBRATION_WEEKS
) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's weekly history before the cutoff ``start + weeks`` weeks.

    Step 0 is the week of the customer's first purchase, the last real step is week
    ``weeks`` (the last week before the cutoff); a customer whose first purchase is in week
    ``f`` (1-based) has ``weeks - f + 1`` real steps, then all-zero padding
    (``keras.layers.Masking(0.0)`` skips it). Features per step (``SEQUENCE_FEATURES``):
    ``log1p`` of the week's number of purchase lines, CDs and dollars; ``observed`` = 1 on
    every real step (so a week without purchases is not mistaken for padding); and
    ``weeks_to_cutoff`` = (weeks left before the cutoff, this one included) / ``weeks``.

    Args:
        purchases: the log (columns of :func:`~helpers.loaders.load_cdnow`); purchases at or
            after the cutoff are ignored.
        customers: ``(n,)`` customer ids, the rows of the result; each needs a purchase
            before the cutoff.

    Returns:
        ``(sequences (n, weeks, 5) float32, lengths (n,) int32)``.
    """
    before = _before(purchases, cutoff_date(start, weeks), start)
    customers = np.asarray(customers)
    row = pd.Index(customers).get_indexer(before["customer_id"])
    before, row = before[row >= 0], row[row >= 0]
    week = ((before["date"] - pd.Timestamp(start)).dt.days // 7).to_numpy()  # 0-based
    first_week = np.full(len(customers), weeks)
    np.minimum.at(first_week, row, week)
    if (first_week == weeks).any():
        absent = customers[first_week == weeks][:5].tolist()
        raise ValueError(f"customers without a purchase before the cutoff, e.g. {absent}")
    step = week - first_week[row]

    totals = np.zeros((len(customers), weeks, 3))
    values = np.column_stack(
        [np.ones(len(before)), before["number_of_cds"], before["dollar_value"]]
    )
    np.add.at(totals, (row, step), values)
    lengths = weeks - first_week
    real = np.arange(weeks)[None, :] < lengths[:, None]
    week_of_step = first_week[:, None] + np.arange(weeks)[None, :]  # 0-based calendar week
    sequences = np.concatenate(
        [
            np.log1p(totals),
            real[..., None].astype(float),
            ((weeks - week_of_step) / weeks)[..., None],
        ],
        axis=-1,
    )
    return (sequences * real[..., None]).astype(np.float32), lengths.astype(np.int32)


def rfm_features(purchases: pd.DataFrame, customers, cutoff) -> pd.DataFrame:
    """Recency, frequency, monetary value and age of each customer at ``cutoff``.

    Counted in purchase *days* (several lines on one day are one visit), as Fader, Hardie &
    Lee do, from the purchases strictly before ``cutoff`` only:

    * ``recency_weeks``: weeks from the last purchase day to the cutoff;
    * ``frequency``: *repeat* purchase days (purchase days − 1; the ``x`` of Pareto/NBD);
    * ``monetary``: mean dollars per purchase day;
    * ``age_weeks``: weeks from the first purchase day to the cutoff (``T``).

    Returns a DataFrame with columns ``RFM_FEATURES``, indexed by ``customers``, in that order.
    """
    before = _before(purchases, cutoff)
    days = before.groupby(["customer_id", "date"])["dollar_value"].sum().reset_index()
    per_customer = days.groupby("customer_id").agg(
        first=("date", "min"),
        last=("date", "max"),
        n_days=("date", "size"),
        dollars=("dollar_value", "sum"),
    )
    per_customer = per_customer.reindex(pd.Index(np.asarray(customers), name="customer_id"))
    if per_customer["n_days"].isna().any():
        absent = per_customer.index[per_customer["n_days"].isna()][:5].tolist()
        raise ValueError(f"customers without a purchase before the cutoff, e.g. {absent}")
    cutoff = pd.Timestamp(cutoff)
    return pd.DataFrame(
        {
            "recency_weeks": (cutoff - per_customer["last"]).dt.days / 7,
            "frequency": per_customer["n_days"] - 1,
            "monetary": per_customer["dollars"] / per_customer["n_days"],
            "age_weeks": (cutoff - per_customer["first"]).dt.days / 7,
        }
    )


def rfm_matrix(rfm: pd.DataFrame) -> np.ndarray:
    """Model input ``(n, 4)`` from :func:`rfm_features`: frequency and monetary value are
    long-tailed, so they enter as ``log1p``; a ``StandardScaler`` follows in the pipeline."""
    return np.column_stack(
        [
            rfm["recency_weeks"],
            np.log1p(rfm["frequency"]),
            np.log1p(rfm["monetary"]),
            rfm["age_weeks"],
        ]
    )


def buys_again(purchases: pd.DataFrame, customers, cutoff, end) -> np.ndarray:
    """Label ``(n,)`` int32: 1 if the customer buys anything in ``[cutoff, end)``, else 0."""
    window = purchases[(purchases["date"] >= cutoff) & (purchases["date"] < end)]
    return np.isin(np.asarray(customers), window["customer_id"].unique()).astype(np.int32)


@dataclass
class ChurnData:
    """One row per customer: calibration-period inputs and the holdout label.

    Attributes:
        customer_ids: ``(n,)`` int64, sorted.
        sequences: ``(n, weeks, len(SEQUENCE_FEATURES))`` float32, post-padded with zeros.
        lengths: ``(n,)`` int32, real weekly steps (first purchase week .. last week).
        rfm: DataFrame ``(n, 4)``, columns ``RFM_FEATURES``.
        labels: ``(n,)`` int32, 1 = buys again in the holdout, 0 = churned.
    """

    customer_ids: np.ndarray
    sequences: np.ndarray
    lengths: np.ndarray
    rfm: pd.DataFrame
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index) -> ChurnData:
        """Rows ``index`` (integer array or boolean mask) as a new object."""
        values = {}
        for field in fields(self):
            value = getattr(self, field.name)
            values[field.name] = value.iloc[index] if field.name == "rfm" else value[index]
        return ChurnData(**values)


def build_churn_dataset(
    purchases: pd.DataFrame,
    *,
    start=START,
    calibration_weeks: int = CALIBRATION_WEEKS,
    holdout_weeks: int = HOLDOUT_WEEKS,
) -> ChurnData:
    """Customers who bought before the cutoff → sequences, RFM and "buys again" labels.

    The cutoff is ``start + calibration_weeks`` weeks; the label window is the
    ``holdout_weeks`` weeks after it (see the module docstring).
    """
    cutoff = cutoff_date(start, calibration_weeks)
    end = cutoff + pd.Timedelta(weeks=holdout_weeks)
    customers = np.sort(_before(purchases, cutoff, start)["customer_id"].unique())
    if len(customers) == 0:
        raise ValueError(f"no purchases before the cutoff {cutoff.date()}")
    sequences, lengths = weekly_sequences(
        purchases, customers, start=start, weeks=calibration_weeks
    )
    return ChurnData(
        customer_ids=customers.astype(np.int64),
        sequences=sequences,
        lengths=lengths,
        rfm=rfm_features(purchases, customers, cutoff),
        labels=buys_again(purchases, customers, cutoff, end),
    )


def split_customers(n: int, fractions=(0.6, 0.2, 0.2), seed: int = 0) -> tuple[np.ndarray, ...]:
    """Random disjoint row indices (sorted) for train / validation / test customers.

    Customers are independent of one another, so a random split by customer is enough for
    model selection; the *time* split (cutoff) is what keeps the future out of the inputs.
    """
    return tuple(np.sort(part) for part in random_parts(np.arange(n), fractions, seed))


def _rows(labels, probs) -> tuple[np.ndarray, np.ndarray]:
    labels, probs = np.asarray(labels, dtype=float), np.asarray(probs, dtype=float)
    if labels.ndim != 2 or labels.shape != probs.shape:
        raise ValueError(
            "labels and probs must be 2-D arrays of one shape (resamples, customers), "
            f"got {labels.shape} and {probs.shape}"
        )
    return labels, probs


def roc_auc_rows(labels, probs) -> np.ndarray:
    """ROC-AUC of every row: ``(r, n)`` 0/1 labels and ``(r, n)`` scores -> ``(r,)``.

    Row ``k`` gives ``sklearn.metrics.roc_auc_score(labels[k], probs[k])``, computed for all
    rows at once by :func:`helpers.metrics.grouped_roc_auc` (a row is a group): the
    Mann-Whitney statistic, a tie counting one half. For a bootstrap, row ``k`` is
    resample ``k``: ``labels[resamples]``, ``probs[resamples]``. A row with one class only
    gives NaN.
    """
    from helpers.metrics import grouped_roc_auc

    labels, probs = _rows(labels, probs)
    r, n = labels.shape
    if n == 0:
        return np.full(r, np.nan)  # no customer: no pair to order
    _, auc = grouped_roc_auc(labels.ravel(), probs.ravel(), np.repeat(np.arange(r), n))
    return auc


def brier_rows(labels, probs) -> np.ndarray:
    """Brier score of every row, ``(r, n)`` -> ``(r,)``: the mean squared error of the
    probability, as ``sklearn.metrics.brier_score_loss`` per row."""
    labels, probs = _rows(labels, probs)
    return np.square(probs - labels).mean(axis=1)


def ece_rows(labels, probs, n_groups: int = 10) -> np.ndarray:
    """Expected calibration error of every row, ``(r, n)`` -> ``(r,)``.

    Per row: sort by probability (stable sort), cut into ``n_groups`` groups of equal size
    (``np.array_split`` sizes), and average ``|share of positives - mean probability|`` over
    the groups, weighted by size.
    """
    labels, probs = _rows(labels, probs)
    order = np.argsort(probs, axis=1, kind="stable")
    labels, probs = np.take_along_axis(labels, order, 1), np.take_along_axis(probs, order, 1)
    total = np.zeros(len(labels))
    for group in np.array_split(np.arange(labels.shape[1]), n_groups):
        gap = labels[:, group].mean(axis=1) - probs[:, group].mean(axis=1)
        total += len(group) * np.abs(gap)
    return total / labels.shape[1]


def build_lstm_attention_classifier(
    timesteps: int | None = None,
    n_features: int = len(SEQUENCE_FEATURES),
    *,
    units: int = 32,
    learning_rate: float = 3e-3,
):
    """Float steps ``(batch, timesteps, n_features)`` → ``(batch, 1)``, LSTM + attention.

    :func:`helpers.build_lstm_classifier` with attention pooling over all LSTM outputs
    instead of the last state: ``Masking(0.0)`` → ``LSTM(return_sequences=True)`` →
    :class:`~helpers.layers.AttentionLayer` (named ``attention``, so
    :func:`helpers.models.attention_explainer` can read its weights) → ``Dense(1, sigmoid)``.
    Compiled like the other builders (Adam, binary cross-entropy, ROC-AUC / PR-AUC).
    """
    import keras

    from helpers.layers import AttentionLayer
    from helpers.models import compile_classifier  # the same optimizer and metric names everywhere

    inputs = keras.Input((timesteps, n_features), name="features")
    x = keras.layers.Masking(0.0, name="masking")(inputs)
    x = keras.layers.LSTM(units, return_sequences=True, name="lstm")(x)
    context, _ = AttentionLayer(return_attention=True, name="attention")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="buys_again")(context)
    model = keras.Model(inputs, outputs, name="lstm_attention_classifier")
    return compile_classifier(model, learning_rate)


# --- exercise checker (the protocol of helpers.feedback, without importing Keras) ---


def _probe_log() -> tuple[pd.DataFrame, list[int], pd.Timestamp]:
    """A tiny log with the traps an RFM function can fall into, its customers and cutoff.

    Customer 7 buys on two days before the cutoff, three lines on the second, and again on
    the cutoff day itself (holdout); customer 5 buys once before the cutoff and twice in the
    holdout, the last time on the last date of the log. Every mistake in
    :func:`_wrong_rfm_values` gives different numbers on it.
    """
    rows = [
        (7, "1997-01-02", 1, 10.0),
        (7, "1997-01-20", 2, 20.0),
        (7, "1997-01-20", 1, 6.0),
        (7, "1997-01-20", 1, 4.0),
        (5, "1997-01-09", 3, 30.0),
        (7, "1997-02-03", 1, 50.0),  # on the cutoff day: holdout
        (5, "1997-02-15", 1, 5.0),  # holdout
        (5, "1997-03-01", 4, 80.0),  # holdout, the last date in the log
    ]
    log = pd.DataFrame(rows, columns=list(_COLUMNS))
    log["date"] = pd.to_datetime(log["date"])
    return log, [7, 5], pd.Timestamp("1997-02-03")


LEAKAGE = (
    "LEAKAGE. The features change when purchases at or after the cutoff are removed from "
    "the log, so they use the future the label is made of. Keep only "
    "purchases[purchases['date'] < cutoff] before computing anything."
)


def _wrong_rfm_values(log, customers, cutoff) -> dict[str, list[tuple[np.ndarray, str]]]:
    """{column: [(values a plausible wrong answer gives on ``log``, message naming it)]}."""

    def per_customer(purchases):
        days = purchases.groupby(["customer_id", "date"])["dollar_value"].sum().reset_index()
        return days.groupby("customer_id").agg(
            first=("date", "min"), last=("date", "max"), n_days=("date", "size"),
            dollars=("dollar_value", "sum"),
        ).reindex(customers)  # fmt: skip

    before, whole = log[log["date"] < cutoff], log
    calibration, inclusive = per_customer(before), per_customer(log[log["date"] <= cutoff])
    everything = per_customer(whole)
    lines = before.groupby("customer_id").size().reindex(customers)
    line_dollars = before.groupby("customer_id")["dollar_value"].mean().reindex(customers)

    def weeks(delta):
        return delta.dt.days.to_numpy(float) / 7

    def days(delta):
        return delta.dt.days.to_numpy(float)

    cutoff_day = (
        "LEAKAGE: purchases on the cutoff day itself are counted. The holdout starts at the "
        "cutoff: keep purchases[purchases['date'] < cutoff] (strictly before, not <=)."
    )
    log_end, last_seen = log["date"].max(), before["date"].max()
    in_days = " It is in days; divide by 7 for weeks."
    repeat_only = ((calibration["dollars"] - _first_day_dollars(before, customers))
                   / (calibration["n_days"] - 1))  # fmt: skip
    repeat_message = (
        "monetary averages the repeat purchases only (lifetimes' monetary_value for the "
        "gamma-gamma model); here it is the mean over all purchase days before the cutoff, "
        "the first included."
    )
    return {
        "recency_weeks": [
            (weeks(cutoff - inclusive["last"]), cutoff_day),
            (weeks(log_end - calibration["last"]), "LEAKAGE: recency_weeks is measured at the "
             "last date in the log, which lies in the holdout (and moves with it). Measure "
             "at the cutoff: (cutoff - last purchase day).days / 7."),
            (weeks(last_seen - calibration["last"]), "recency_weeks is measured at the last "
             "purchase date before the cutoff, not at the cutoff itself: a customer silent "
             "since then looks more recent than they are. (cutoff - last purchase day)."),
            (weeks(calibration["last"] - calibration["first"]), "recency_weeks is the time "
             "from the first to the last purchase (lifetimes' 'recency', t_x). Here it is "
             "the time since the last purchase: (cutoff - last purchase day).days / 7."),
            (days(cutoff - calibration["last"]), "recency_weeks:" + in_days),
        ],
        "frequency": [
            (calibration["n_days"].to_numpy(float), "frequency counts every purchase day, the "
             "first one included; it counts *repeat* purchase days (days - 1)."),
            (lines.to_numpy(float) - 1, "frequency counts lines (minus one); several lines on "
             "one day are one purchase day: count purchase days."),
            (lines.to_numpy(float), "frequency counts lines, the first purchase included: "
             "count purchase *days*, minus the first one."),
            (inclusive["n_days"].to_numpy(float) - 1, cutoff_day),
            (everything["n_days"].to_numpy(float) - 1, "LEAKAGE: frequency counts the "
             "purchases of the holdout too: count purchase days before the cutoff only."),
        ],
        "monetary": [
            (line_dollars.to_numpy(float), "monetary averages lines; add up each day's lines "
             "first (mean dollars per purchase day)."),
            (calibration["dollars"].to_numpy(float), "monetary is the total spend; it is the "
             "mean dollars per purchase day (total / purchase days)."),
            (repeat_only.to_numpy(float), repeat_message),
            (repeat_only.fillna(0.0).to_numpy(float), repeat_message),
            ((inclusive["dollars"] / inclusive["n_days"]).to_numpy(float), cutoff_day),
            ((everything["dollars"] / everything["n_days"]).to_numpy(float), "LEAKAGE: "
             "monetary includes the spend of the holdout: sum the dollars of purchases "
             "before the cutoff only."),
        ],
        "age_weeks": [
            (weeks(log_end - calibration["first"]), "LEAKAGE: age_weeks is measured at the "
             "last date in the log, which lies in the holdout. Measure at the cutoff: "
             "(cutoff - first purchase day).days / 7."),
            (weeks(last_seen - calibration["first"]), "age_weeks is measured at the last "
             "purchase date before the cutoff; measure it at the cutoff: "
             "(cutoff - first purchase day).days / 7."),
            (weeks(calibration["last"] - calibration["first"]), "age_weeks runs from the "
             "first to the last purchase; it runs from the first purchase to the cutoff (T)."),
            (days(cutoff - calibration["first"]), "age_weeks:" + in_days),
        ],
    }  # fmt: skip


def _first_day_dollars(before, customers):
    days = before.groupby(["customer_id", "date"])["dollar_value"].sum().reset_index()
    first = days.sort_values("date").groupby("customer_id")["dollar_value"].first()
    return first.reindex(customers)


def check_rfm_features(rfm_fn) -> bool:
    """Check ``rfm_fn(purchases, customers, cutoff)`` against :func:`rfm_features`.

    Prints a ``✓`` line and returns ``True`` when right; raises ``AssertionError`` naming each
    mistake (its own message for each plausible one: the cutoff day counted, recency or age
    measured at the wrong date, lifetimes' recency, frequency counting the first purchase or
    lines, monetary per line, total, repeat-only or over the holdout, days for weeks; a
    generic LEAKAGE message when the features change with the holdout in another way);
    prints "not attempted yet" and returns ``False`` when the answer still raises
    ``NotImplementedError``.
    """
    from helpers.feedback import Crash, NotAttempted, run_probe

    name = "check_rfm_features"
    log, customers, cutoff = _probe_log()
    try:
        got = run_probe(lambda: rfm_fn(log.copy(), list(customers), cutoff),
                        "rfm_fn(purchases, customers, cutoff)")  # fmt: skip
        calibration_only = run_probe(
            lambda: rfm_fn(log[log["date"] < cutoff].copy(), list(customers), cutoff),
            "rfm_fn on the purchases before the cutoff",
        )
    except NotAttempted:
        reference = "The cells below use the reference helpers.churn.rfm_features."
        return not_attempted(name, then=reference)
    except Crash as crash:
        raise AssertionError(f"{name}: {crash}") from None
    expected = rfm_features(log, customers, cutoff)
    for result in (got, calibration_only):
        if not isinstance(result, pd.DataFrame) or list(result.index) != customers:
            raise AssertionError(
                f"{name}: expected a DataFrame indexed by the customers {customers} in that "
                f"order (e.g. .reindex(customers)); got {type(result).__name__} "
                f"with index {list(getattr(result, 'index', []))}"
            )
        missing = [c for c in RFM_FEATURES if c not in result.columns]
        if missing:
            raise AssertionError(f"{name}: columns {missing} are missing; expected {RFM_FEATURES}")
    got = got[list(RFM_FEATURES)].astype(float)
    calibration_only = calibration_only[list(RFM_FEATURES)].astype(float)
    wrong_values = _wrong_rfm_values(log, customers, cutoff)
    mistakes, unexplained_leak = [], False
    for column in RFM_FEATURES:
        mine, right = got[column].to_numpy(), expected[column].to_numpy(dtype=float)
        if np.allclose(mine, right):
            continue
        named = [message for values, message in wrong_values[column]
                 if np.allclose(mine, values, equal_nan=True)]  # fmt: skip
        leaks = not np.allclose(mine, calibration_only[column].to_numpy(), equal_nan=True)
        if named:
            mistakes.extend(named)
        elif leaks:
            unexplained_leak = True
        else:
            mistakes.append(
                f"{column}: expected {right.round(4).tolist()}, got {mine.round(4).tolist()}."
            )
    if unexplained_leak:
        raise AssertionError(f"{name}: {LEAKAGE}")
    passed = "no leakage, recency / frequency / monetary / age match the reference"
    return report(name, list(dict.fromkeys(mistakes)), passed)
