"""Tests for helpers.loaders.load_cdnow and helpers.churn on tiny hand-made CDNOW files."""

import importlib.metadata
import re

import numpy as np
import pandas as pd
import pytest

from helpers.churn import (
    build_churn_dataset,
    buys_again,
    check_rfm_features,
    cutoff_date,
    rfm_features,
    split_customers,
    weekly_sequences,
)
from helpers.data import load_cdnow
from helpers.loaders import cdnow_path
from tests.test_loaders import error_at

HEADER = " customer_id  date number_of_cds  dollar_value"
# With start 1997-01-01 and 3 calibration weeks the cutoff is 1997-01-22; a 2-week holdout
# ends (exclusive) on 1997-02-05. Week 1 = Jan 1-7, week 2 = Jan 8-14, week 3 = Jan 15-21.
# customer 1: week 1: Jan 1 (1 CD, $10) and Jan 7 (2 CDs, $20); week 3: two lines on Jan 15
#             (1 CD $5, 1 CD $3); buys on the cutoff day itself (holdout) -> label 1
# customer 2: first buys in week 2 (Jan 8, 3 CDs, $30); buys on Feb 5 = after the holdout -> 0
# customer 3: buys only in the holdout -> not a calibration customer, dropped
LINES = [
    " 00001 19970101  1   10.00",
    " 00001 19970107  2   20.00",
    " 00002 19970108  3   30.00",
    " 00001 19970115  1    5.00",
    " 00001 19970115  1    3.00",
    " 00001 19970122  4   40.00",
    " 00003 19970125  1    9.99",
    " 00002 19970205  1   12.00",
]
WEEKS = 3


def write(tmp_path, lines, name="CDNOW_master.txt", header=HEADER, newline="\n"):
    path = tmp_path / name
    path.write_text("".join(line + newline for line in ([header] if header else []) + lines))
    return path


def test_parses_a_good_file(tmp_path):
    path = write(tmp_path, LINES[:3] + [""] + LINES[3:] + [""], newline="\r\n")
    purchases = load_cdnow(path)
    assert list(purchases.columns) == ["customer_id", "date", "number_of_cds", "dollar_value"]
    np.testing.assert_array_equal(purchases["customer_id"], [1, 1, 2, 1, 1, 1, 3, 2])
    assert purchases["date"].iloc[2] == pd.Timestamp("1997-01-08")
    np.testing.assert_array_equal(purchases["number_of_cds"], [1, 2, 3, 1, 1, 4, 1, 1])
    np.testing.assert_allclose(purchases["dollar_value"], [10, 20, 30, 5, 3, 40, 9.99, 12])
    assert purchases["customer_id"].dtype == np.int64
    assert purchases["number_of_cds"].dtype == np.int64
    assert pd.api.types.is_datetime64_any_dtype(purchases["date"])
    assert len(load_cdnow(path, nrows=2)) == 2


def test_weekly_aggregation_by_hand(tmp_path):
    purchases = load_cdnow(write(tmp_path, LINES))
    sequences, lengths = weekly_sequences(purchases, [1, 2], weeks=WEEKS)
    log = np.log1p
    expected = np.array(
        [
            # orders, CDs, dollars (log1p), observed, weeks to cutoff (this one included) / 3
            [[log(2), log(3), log(30), 1, 3 / 3],   # week 1: Jan 1 and Jan 7
             [0, 0, 0, 1, 2 / 3],                   # week 2: nothing bought, still observed
             [log(2), log(2), log(8), 1, 1 / 3]],   # week 3: two lines on Jan 15
            [[log(1), log(3), log(30), 1, 2 / 3],   # customer 2 starts in week 2
             [0, 0, 0, 1, 1 / 3],
             [0, 0, 0, 0, 0]],                      # padding
        ]
    )  # fmt: skip
    np.testing.assert_allclose(sequences, expected, rtol=1e-6)
    np.testing.assert_array_equal(lengths, [3, 2])
    assert sequences.dtype == np.float32


def test_labels_and_customers(tmp_path):
    purchases = load_cdnow(write(tmp_path, LINES))
    assert cutoff_date(calibration_weeks=WEEKS) == pd.Timestamp("1997-01-22")
    data = build_churn_dataset(purchases, calibration_weeks=WEEKS, holdout_weeks=2)
    np.testing.assert_array_equal(data.customer_ids, [1, 2])  # customer 3: holdout only
    # the cutoff day is in the holdout (label 1); the end day is not (label 0)
    np.testing.assert_array_equal(data.labels, [1, 0])
    end = pd.Timestamp("1997-02-06")  # one day later, customer 2's Feb 5 purchase counts
    np.testing.assert_array_equal(buys_again(purchases, [1, 2], pd.Timestamp("1997-01-22"), end),
                                  [1, 1])  # fmt: skip
    assert len(data.subset(np.array([1]))) == 1


def test_rfm_features_by_hand(tmp_path):
    purchases = load_cdnow(write(tmp_path, LINES))
    rfm = rfm_features(purchases, [2, 1], pd.Timestamp("1997-01-22"))
    assert list(rfm.index) == [2, 1]
    # customer 1: purchase days Jan 1, Jan 7, Jan 15 ($10, $20, $5 + $3); cutoff Jan 22
    np.testing.assert_allclose(rfm.loc[1], [7 / 7, 2, (10 + 20 + 8) / 3, 21 / 7])
    # customer 2: one purchase day, Jan 8
    np.testing.assert_allclose(rfm.loc[2], [14 / 7, 0, 30, 14 / 7])


def test_holdout_purchases_do_not_change_features(tmp_path):
    purchases = load_cdnow(write(tmp_path, LINES))
    cutoff = cutoff_date(calibration_weeks=WEEKS)
    data = build_churn_dataset(purchases, calibration_weeks=WEEKS, holdout_weeks=2)

    changed = purchases.copy()
    holdout = changed["date"] >= cutoff
    # move every holdout purchase, change what it bought, and add a big one for customer 2
    changed.loc[holdout, "date"] = changed.loc[holdout, "date"] + pd.Timedelta(days=3)
    changed.loc[holdout, "dollar_value"] *= 100
    extra = pd.DataFrame({"customer_id": [2], "date": [cutoff], "number_of_cds": [50],
                          "dollar_value": [999.0]})  # fmt: skip
    changed = pd.concat([changed, extra], ignore_index=True)
    moved = build_churn_dataset(changed, calibration_weeks=WEEKS, holdout_weeks=2)

    np.testing.assert_array_equal(moved.customer_ids, data.customer_ids)
    np.testing.assert_array_equal(moved.sequences, data.sequences)
    np.testing.assert_array_equal(moved.lengths, data.lengths)
    pd.testing.assert_frame_equal(moved.rfm, data.rfm)
    np.testing.assert_array_equal(moved.labels, [1, 1])  # only the label may change
    # and the features equal those computed from the calibration purchases alone
    calibration_only = purchases[purchases["date"] < cutoff]
    np.testing.assert_array_equal(
        weekly_sequences(calibration_only, [1, 2], weeks=WEEKS)[0], data.sequences
    )
    pd.testing.assert_frame_equal(rfm_features(calibration_only, [1, 2], cutoff), data.rfm)


def test_a_calibration_purchase_does_change_features(tmp_path):
    # the counterpart of the test above: the features are not blind to everything
    purchases = load_cdnow(write(tmp_path, LINES))
    data = build_churn_dataset(purchases, calibration_weeks=WEEKS)
    changed = purchases.copy()
    changed.loc[2, "date"] = pd.Timestamp("1997-01-20")  # customer 2 buys a week later
    moved = build_churn_dataset(changed, calibration_weeks=WEEKS)
    assert not np.array_equal(moved.sequences[1], data.sequences[1])
    assert moved.rfm.loc[2, "recency_weeks"] != data.rfm.loc[2, "recency_weeks"]


def test_customers_without_calibration_purchases_are_refused(tmp_path):
    purchases = load_cdnow(write(tmp_path, LINES))
    with pytest.raises(ValueError, match=r"customers without a purchase before the cutoff.*3"):
        weekly_sequences(purchases, [1, 3], weeks=WEEKS)
    with pytest.raises(ValueError, match=r"customers without a purchase before the cutoff.*3"):
        rfm_features(purchases, [1, 3], cutoff_date(calibration_weeks=WEEKS))
    with pytest.raises(ValueError, match="before the start 1997-01-08"):
        weekly_sequences(purchases, [1, 2], start="1997-01-08", weeks=WEEKS)


def test_split_customers():
    parts = split_customers(101, (0.6, 0.2, 0.2), seed=3)
    assert [len(p) for p in parts] == [61, 20, 20]
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(101))
    again = split_customers(101, (0.6, 0.2, 0.2), seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again, strict=True))
    with pytest.raises(ValueError, match="sum to 1"):
        split_customers(10, (0.5, 0.2))


@pytest.mark.parametrize(
    "bad_line, message",
    [
        (" 00004 19971341  1   11.77", "date '19971341' is not a calendar date written YYYYMMDD"),
        (" 00004 1997011  1   11.77", "date '1997011' is not a calendar date"),
        (" 00004 1997-01-01  1   11.77", "date '1997-01-01' is not a calendar date"),
        (" 00004 19970101  1   abc", "dollar_value 'abc' is not a non-negative number"),
        (" 00004 19970101  1   11,77", "dollar_value '11,77' is not a non-negative number"),
        (" 00004 19970101  x   11.77", "number_of_cds 'x' is not a non-negative integer"),
        (" A0004 19970101  1   11.77", "customer_id 'A0004' is not a non-negative integer"),
        (" 00004 19970101  1", "expected 4 whitespace-separated fields .* found 3"),
        (" 00004 19970101  1   11.77  2", "expected 4 whitespace-separated fields .* found 5"),
        ("00004,19970101,1,11.77", "expected 4 whitespace-separated fields .* found 1"),
    ],
)
def test_bad_line_names_file_and_line(tmp_path, bad_line, message):
    # header = line 1, then LINES[0], a blank line 3, LINES[1:3]: the bad line is line 6
    path = write(tmp_path, LINES[:1] + [""] + LINES[1:3] + [bad_line] + LINES[3:])
    with pytest.raises(ValueError, match=error_at(path, 6) + " " + message + ".*looks like"):
        load_cdnow(path)


def test_header_is_required(tmp_path):
    path = write(tmp_path, LINES, header=None)
    with pytest.raises(ValueError, match=error_at(path, 1) + " expected the CDNOW header"):
        load_cdnow(path)
    empty = write(tmp_path, [], "empty.txt", header=None)
    with pytest.raises(ValueError, match=error_at(empty, 1) + ".*an empty file"):
        load_cdnow(empty)
    with pytest.raises(ValueError, match="no purchases after the header"):
        load_cdnow(write(tmp_path, [], "header_only.txt"))


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere" / "CDNOW_master.txt"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path)) + ".*pip install lifetimes"):
        load_cdnow(path)


def test_missing_package_says_how_to_install(monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", not_installed)
    with pytest.raises(FileNotFoundError, match=re.escape("pip install lifetimes==0.11.3")):
        load_cdnow()


def test_package_without_the_file(monkeypatch, tmp_path):
    class Installed:
        def locate_file(self, name):
            return tmp_path / name

    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: Installed())
    with pytest.raises(FileNotFoundError, match="not found in the installed 'lifetimes'"):
        cdnow_path()


def test_the_installed_file():
    path = cdnow_path()
    # an independent count with plain Python: data lines after the header, distinct first fields
    with open(path) as file:
        rows = [line.split() for line in file.readlines()[1:] if line.strip()]
    purchases = load_cdnow()
    assert len(purchases) == len(rows) == 69_659
    assert purchases["customer_id"].nunique() == len({r[0] for r in rows}) == 23_570
    # every customer's first purchase is in the first quarter of 1997 (weeks 1-12)
    first = purchases.groupby("customer_id")["date"].min()
    assert first.min() >= pd.Timestamp("1997-01-01")
    assert first.max() < pd.Timestamp("1997-04-01")


def test_lstm_attention_classifier_ignores_padding():
    from helpers.churn import build_lstm_attention_classifier

    model = build_lstm_attention_classifier(None, 5, units=4)
    rng = np.random.default_rng(0)
    x = rng.uniform(0.1, 1.0, size=(3, 6, 5)).astype("float32")
    padded = np.concatenate([x, np.zeros((3, 4, 5), "float32")], axis=1)
    np.testing.assert_allclose(
        model.predict(x, verbose=0), model.predict(padded, verbose=0), atol=1e-6
    )
    assert model.output_shape == (None, 1)


# --- the exercise checker ---


def leaky_rfm(purchases, customers, cutoff):
    # the classic mistake: recency and frequency from the whole log, future included
    return rfm_features(purchases, customers, pd.Timestamp("2100-01-01")).assign(
        recency_weeks=lambda f: f["recency_weeks"] - (pd.Timestamp("2100-01-01") - cutoff).days / 7
    )


def learner_rfm(keep="<", recency_at="cutoff", recency_from="last", frequency="days - 1",
                monetary="mean per day", age_at="cutoff", age_to=None, unit_days=7):
    """The notebook's solution with one step changed: the answers learners plausibly write."""

    def rfm_at_cutoff(purchases, customers, cutoff):
        if keep == "<":
            before = purchases[purchases["date"] < cutoff]
        elif keep == "<=":
            before = purchases[purchases["date"] <= cutoff]
        else:
            before = purchases  # no filter
        dates = {"cutoff": cutoff, "log end": purchases["date"].max(),
                 "last seen": before["date"].max()}
        days = before.groupby(["customer_id", "date"], as_index=False)["dollar_value"].sum()
        per_customer = days.groupby("customer_id")
        first, last = per_customer["date"].min(), per_customer["date"].max()
        if recency_from == "first":
            recency = (last - first).dt.days / unit_days  # lifetimes' recency, t_x
        else:
            recency = (dates[recency_at] - last).dt.days / unit_days
        n_lines = before.groupby("customer_id").size()
        counts = {"days - 1": per_customer.size() - 1, "days": per_customer.size(),
                  "lines - 1": n_lines - 1, "lines": n_lines}
        first_day = days.sort_values("date").groupby("customer_id")["dollar_value"].first()
        money = {"mean per day": per_customer["dollar_value"].mean(),
                 "mean per line": before.groupby("customer_id")["dollar_value"].mean(),
                 "total": per_customer["dollar_value"].sum(),
                 "repeat only": ((per_customer["dollar_value"].sum() - first_day)
                                 / (per_customer.size() - 1)).fillna(0.0)}
        age_end = last if age_to == "last" else dates[age_at]
        return pd.DataFrame({
            "recency_weeks": recency,
            "frequency": counts[frequency],
            "monetary": money[monetary],
            "age_weeks": (age_end - first).dt.days / unit_days,
        }).reindex(customers)

    return rfm_at_cutoff


WRONG_RFM = {
    "cutoff day counted (<=)": (learner_rfm(keep="<="), "cutoff day itself"),
    "no filter at all": (learner_rfm(keep="none"), "^check_rfm_features: LEAKAGE. The features"),
    "recency at the log's end": (learner_rfm(recency_at="log end"),
                                 "recency_weeks is measured at the last date in the log"),
    "recency at the last purchase seen": (learner_rfm(recency_at="last seen"),
                                          "recency_weeks is measured at the last purchase date"),
    "lifetimes' recency": (learner_rfm(recency_from="first"), "lifetimes' 'recency', t_x"),
    "frequency counts the first purchase": (learner_rfm(frequency="days"),
                                            "counts every purchase day"),
    "frequency counts lines": (learner_rfm(frequency="lines - 1"), r"counts lines \(minus one\)"),
    "frequency counts all lines": (learner_rfm(frequency="lines"), "first purchase included"),
    "monetary per line": (learner_rfm(monetary="mean per line"), "monetary averages lines"),
    "monetary total": (learner_rfm(monetary="total"), "monetary is the total spend"),
    "monetary over repeat purchases": (learner_rfm(monetary="repeat only"), "repeat purchases"),
    "age at the log's end": (learner_rfm(age_at="log end"), "age_weeks is measured at the last "
                             "date in the log"),
    "age to the last purchase": (learner_rfm(age_to="last"), "age_weeks runs from the first"),
    "weeks in days": (learner_rfm(unit_days=1), "recency_weeks: It is in days"),
    "wrong order": (lambda p, c, t: rfm_features(p, c, t).iloc[::-1], "indexed by the customers"),
    "missing column": (lambda p, c, t: rfm_features(p, c, t).drop(columns="monetary"),
                       "'monetary'.* missing"),
    "crash": (lambda p, c, t: p.groupby("customer")["date"].max(), "raised KeyError"),
}


def test_the_learner_template_is_right(capsys):
    assert check_rfm_features(learner_rfm()) is True


def holdout_monetary(purchases, customers, cutoff):
    # the holdout enters only the spend: every other column is computed before the cutoff
    whole = rfm_features(purchases, customers, purchases["date"].max() + pd.Timedelta(days=1))
    return rfm_features(purchases, customers, cutoff).assign(monetary=whole["monetary"])


def holdout_frequency(purchases, customers, cutoff):
    whole = rfm_features(purchases, customers, purchases["date"].max() + pd.Timedelta(days=1))
    return rfm_features(purchases, customers, cutoff).assign(frequency=whole["frequency"])


WRONG_RFM["monetary summed over the holdout"] = (holdout_monetary, "spend of the holdout")
WRONG_RFM["frequency over the holdout"] = (holdout_frequency, "purchases of the holdout too")


@pytest.mark.parametrize("mistake", WRONG_RFM)
def test_check_rejects_wrong_answers(mistake):
    wrong, message = WRONG_RFM[mistake]
    with pytest.raises(AssertionError, match=message) as failure:
        check_rfm_features(wrong)
    text = str(failure.value)
    others = [m for other, (_, m) in WRONG_RFM.items() if other != mistake and m != message]
    assert not [m for m in others if re.search(m, text)], f"{mistake} also named:\n{text}"


def test_leaky_rfm_gets_the_leakage_message():
    with pytest.raises(AssertionError, match="LEAKAGE"):
        check_rfm_features(leaky_rfm)


def test_check_accepts_the_reference(capsys):
    assert check_rfm_features(rfm_features) is True
    assert "✓" in capsys.readouterr().out


def not_attempted(purchases, customers, cutoff):
    raise NotImplementedError


def test_check_says_not_attempted(capsys):
    assert check_rfm_features(not_attempted) is False
    assert "not attempted yet" in capsys.readouterr().out


def test_row_wise_measures_equal_sklearn_and_the_loop():
    """churn.roc_auc_rows / brier_rows / ece_rows give, row by row, what scikit-learn and a
    plain loop over equal-size groups give (ties in the scores included)."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    from helpers.churn import brier_rows, ece_rows, roc_auc_rows

    rng = np.random.default_rng(3)
    labels = (rng.random((7, 53)) < 0.3).astype(int)
    probs = np.round(rng.random((7, 53)), 1)  # rounded: many tied scores
    labels[:, :2] = [0, 1]  # both classes in every row

    def ece_loop(y, p, n_groups=10):
        groups = np.array_split(np.argsort(p, kind="stable"), n_groups)
        return sum(len(g) * abs(y[g].mean() - p[g].mean()) for g in groups) / len(y)

    pairs = list(zip(labels, probs, strict=True))
    np.testing.assert_allclose(
        roc_auc_rows(labels, probs), [roc_auc_score(y, p) for y, p in pairs], rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(
        brier_rows(labels, probs), [brier_score_loss(y, p) for y, p in pairs], rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(
        ece_rows(labels, probs), [ece_loop(y, p) for y, p in pairs], rtol=0, atol=1e-12
    )
    assert np.isnan(roc_auc_rows(np.zeros((1, 5)), rng.random((1, 5))))[0]
    with pytest.raises(ValueError, match="resamples, customers"):
        brier_rows(labels[0], probs[0])


def test_roc_auc_rows_nan_only_for_one_class_rows_and_clear_errors():
    """roc_auc_rows is helpers.metrics.grouped_roc_auc with a row per group: a one-class row
    is NaN among defined rows, and labels other than 0/1 or non-finite scores are refused."""
    from sklearn.metrics import roc_auc_score

    from helpers.churn import roc_auc_rows

    labels = np.array([[0, 1, 1, 0], [1, 1, 1, 1], [0, 0, 1, 0]])
    probs = np.array([[0.2, 0.2, 0.9, 0.1], [0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.6, 0.1]])
    auc = roc_auc_rows(labels, probs)
    assert auc[0] == roc_auc_score(labels[0], probs[0])
    assert np.isnan(auc[1])
    assert auc[2] == roc_auc_score(labels[2], probs[2])
    assert roc_auc_rows(np.zeros((2, 0)), np.zeros((2, 0))).shape == (2,)
    with pytest.raises(ValueError, match="0 or 1"):
        roc_auc_rows(labels * 2, probs)
    with pytest.raises(ValueError, match="finite"):
        roc_auc_rows(labels, np.where(labels == 1, np.nan, probs))
