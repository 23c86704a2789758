"""Tests for helpers.loaders on tiny hand-made Taobao and RetailRocket files."""

import re
from dataclasses import fields

import numpy as np
import pytest

from helpers.loaders import load_retailrocket_events, load_taobao_user_behavior
from helpers.sequences import N_FEATURES, encode_features

# Taobao lines (no header), deliberately not sorted by user or time. With cutoff=100:
# user 1: inputs at t=10 (item 10), t=10 (item 11, same time: file order), t=40 (cart);
#         buys at t=150 -> label 1
# user 2: inputs at t=50, 55, 90 (a buy before the cutoff is an input, not a label);
#         a pv exactly at the cutoff is in the label window -> label 0
# user 3: only events after the cutoff -> dropped
# user 4: input at t=5, buys exactly at the cutoff -> label 1
TAOBAO_LINES = [
    "2,20,7,pv,50",
    "1,10,5,pv,10",
    "1,11,5,pv,10",
    "3,10,6,pv,120",
    "1,10,5,cart,40",
    "2,10,6,fav,55",
    "1,10,5,buy,150",
    "4,30,8,pv,5",
    "2,20,7,buy,90",
    "3,10,6,buy,130",
    "2,21,7,pv,100",
    "4,30,8,buy,100",
]

RETAILROCKET_HEADER = "timestamp,visitorid,event,itemid,transactionid"
RETAILROCKET_LINES = [
    "1000000,7,view,500,",
    "1002500,7,addtocart,500,",
    "1001000,8,view,600,",
    "1004000,7,transaction,500,42",
    "1000500,8,view,500,",
]


def write(tmp_path, lines, name="UserBehavior.csv"):
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines))
    return path


def assert_same(a, b):
    for field in fields(a):
        if getattr(a, field.name) is None:
            assert getattr(b, field.name) is None
        else:
            np.testing.assert_array_equal(getattr(a, field.name), getattr(b, field.name))


def test_taobao_exact_arrays(tmp_path):
    seqs = load_taobao_user_behavior(write(tmp_path, TAOBAO_LINES), max_len=4, cutoff=100)
    np.testing.assert_array_equal(seqs.user_ids, [1, 2, 4])
    # item frequency among kept inputs: 10 (x3) -> 2, 20 (x2) -> 3, 11 -> 4, 30 -> 5
    np.testing.assert_array_equal(seqs.item_ids, [[2, 4, 2, 0], [3, 2, 3, 0], [5, 0, 0, 0]])
    # category frequency: 5 (x3) -> 2, 7 (x2) -> 3, 6 -> 4, 8 -> 5
    np.testing.assert_array_equal(seqs.category_ids, [[2, 2, 2, 0], [3, 4, 3, 0], [5, 0, 0, 0]])
    np.testing.assert_array_equal(seqs.behavior_ids, [[2, 2, 4, 0], [2, 3, 5, 0], [2, 0, 0, 0]])
    np.testing.assert_array_equal(seqs.time_gaps, [[0, 0, 30, 0], [0, 5, 35, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(seqs.lengths, [3, 3, 1])
    np.testing.assert_array_equal(seqs.labels, [1, 0, 1])
    assert seqs.true_prob is None
    for name in ("item_ids", "category_ids", "behavior_ids", "labels", "lengths"):
        assert getattr(seqs, name).dtype == np.int32, name
    assert seqs.time_gaps.dtype == np.float32
    assert seqs.user_ids.dtype == np.int64
    assert seqs.features.shape == (3, 4, N_FEATURES)
    np.testing.assert_array_equal(
        seqs.features,
        encode_features(seqs.behavior_ids, seqs.time_gaps, seqs.item_ids, seqs.category_ids),
    )


def test_taobao_truncation_keeps_most_recent_events(tmp_path):
    seqs = load_taobao_user_behavior(write(tmp_path, TAOBAO_LINES), max_len=2, cutoff=100)
    # user 1 keeps (item 11, t=10) and (item 10, t=40); user 2 keeps t=55 and t=90.
    # Kept item counts: 10 (x2) -> 2, then 11, 20, 30 (x1 each, smaller id first) -> 3, 4, 5
    np.testing.assert_array_equal(seqs.item_ids, [[3, 2], [2, 4], [5, 0]])
    np.testing.assert_array_equal(seqs.behavior_ids, [[2, 4], [3, 5], [2, 0]])
    np.testing.assert_array_equal(seqs.time_gaps, [[0, 30], [0, 35], [0, 0]])
    np.testing.assert_array_equal(seqs.lengths, [2, 2, 1])


def test_rare_items_map_to_one(tmp_path):
    seqs = load_taobao_user_behavior(
        write(tmp_path, TAOBAO_LINES), max_len=4, cutoff=100, max_items=2
    )
    np.testing.assert_array_equal(seqs.item_ids, [[2, 1, 2, 0], [3, 2, 3, 0], [1, 0, 0, 0]])
    np.testing.assert_array_equal(seqs.category_ids, [[2, 2, 2, 0], [3, 1, 3, 0], [1, 0, 0, 0]])


@pytest.mark.parametrize("chunksize", [1, 2, 3, 5])
@pytest.mark.parametrize("max_len", [1, 2, 4])
def test_small_chunks_give_the_same_result(tmp_path, chunksize, max_len):
    path = write(tmp_path, TAOBAO_LINES)
    expected = load_taobao_user_behavior(path, max_len=max_len, cutoff=100)
    got = load_taobao_user_behavior(path, max_len=max_len, cutoff=100, chunksize=chunksize)
    assert_same(got, expected)
    assert_same(
        load_taobao_user_behavior(path, max_len=max_len, chunksize=chunksize),
        load_taobao_user_behavior(path, max_len=max_len),
    )


def test_default_cutoff_is_75_percent_of_the_time_range(tmp_path):
    # time range 0..1000 -> cutoff 750: t=749 is an input, t=750 is in the label window
    lines = ["1,1,1,pv,0", "1,2,1,buy,749", "2,1,1,pv,100", "2,3,1,buy,750", "3,1,1,pv,1000"]
    path = write(tmp_path, lines)
    seqs = load_taobao_user_behavior(path, max_len=3, chunksize=2)
    np.testing.assert_array_equal(seqs.user_ids, [1, 2])
    np.testing.assert_array_equal(seqs.lengths, [2, 1])
    np.testing.assert_array_equal(seqs.labels, [0, 1])
    assert_same(seqs, load_taobao_user_behavior(path, max_len=3, cutoff=750))


def test_nrows_reads_only_the_first_lines(tmp_path):
    path = write(tmp_path, TAOBAO_LINES + ["not,even,a,valid,line"])
    seqs = load_taobao_user_behavior(path, max_len=4, cutoff=100, nrows=3)
    np.testing.assert_array_equal(seqs.user_ids, [1, 2])
    np.testing.assert_array_equal(seqs.lengths, [2, 1])
    np.testing.assert_array_equal(seqs.labels, [0, 0])


def test_blank_lines_are_skipped(tmp_path):
    path = write(tmp_path, TAOBAO_LINES[:6] + [""] + TAOBAO_LINES[6:] + ["", ""])
    assert_same(
        load_taobao_user_behavior(path, max_len=4, cutoff=100, chunksize=2),
        load_taobao_user_behavior(write(tmp_path, TAOBAO_LINES, "b.csv"), max_len=4, cutoff=100),
    )


def test_retailrocket_exact_arrays(tmp_path):
    path = write(tmp_path, [RETAILROCKET_HEADER, *RETAILROCKET_LINES], "events.csv")
    for chunksize in (1, 2, 1000):
        seqs = load_retailrocket_events(path, max_len=3, cutoff=1_003_000, chunksize=chunksize)
        np.testing.assert_array_equal(seqs.user_ids, [7, 8])
        np.testing.assert_array_equal(seqs.item_ids, [[2, 2, 0], [2, 3, 0]])
        np.testing.assert_array_equal(seqs.category_ids, [[1, 1, 0], [1, 1, 0]])
        np.testing.assert_array_equal(seqs.behavior_ids, [[2, 4, 0], [2, 2, 0]])
        # milliseconds -> seconds
        np.testing.assert_allclose(seqs.time_gaps, [[0, 2.5, 0], [0, 0.5, 0]])
        np.testing.assert_array_equal(seqs.lengths, [2, 2])
        np.testing.assert_array_equal(seqs.labels, [1, 0])


def test_retailrocket_default_cutoff(tmp_path):
    # range 1_000_000..1_004_000 ms -> cutoff 1_003_000, as in the explicit test above
    path = write(tmp_path, [RETAILROCKET_HEADER, *RETAILROCKET_LINES], "events.csv")
    assert_same(
        load_retailrocket_events(path, max_len=3, chunksize=2),
        load_retailrocket_events(path, max_len=3, cutoff=1_003_000),
    )


def error_at(path, line_no):
    return re.escape(f"{path.name}, line {line_no}:")


@pytest.mark.parametrize(
    "bad_line, message",
    [
        ("1,2,3,pv,100,7", "expected 5 comma-separated fields .* found 6"),
        ("1,2,3,pv", "expected 5 comma-separated fields .* found 4"),
        ("1,2,3", "expected 5 comma-separated fields .* found 3"),
        ("1,abc,3,pv,100", "item_id 'abc' is not an integer"),
        ("1,2,3,pv,1.5e9", "timestamp '1.5e9' is not an integer"),
        ("1,2,3,click,100", "unknown behavior_type 'click'; allowed: pv, cart, fav, buy"),
        ("1,,3,pv,100", "item_id is empty"),
        ("1,2,3,pv,", "timestamp is empty"),
        ("1,2,3,,100", "behavior_type is empty"),
    ],
)
@pytest.mark.parametrize("cutoff", [None, 100])
def test_taobao_bad_line_names_file_and_line(tmp_path, bad_line, message, cutoff):
    # a blank line 3 and chunksize=2: the bad line 6 is in the third chunk
    path = write(tmp_path, TAOBAO_LINES[:2] + [""] + TAOBAO_LINES[2:4] + [bad_line])
    with pytest.raises(ValueError, match=error_at(path, 6) + " " + message):
        load_taobao_user_behavior(path, cutoff=cutoff, chunksize=2)


@pytest.mark.parametrize("sep, name", [("\t", "tabs"), (";", "semicolons")])
def test_taobao_file_with_another_separator_names_it(tmp_path, sep, name):
    path = write(tmp_path, [line.replace(",", sep) for line in TAOBAO_LINES])
    message = error_at(path, 1) + f" the fields are separated by {name}, but Taobao"
    with pytest.raises(ValueError, match=message):
        load_taobao_user_behavior(path)


def test_taobao_header_row_is_reported(tmp_path):
    path = write(tmp_path, ["user_id,item_id,category_id,behavior_type,timestamp", *TAOBAO_LINES])
    with pytest.raises(
        ValueError, match=error_at(path, 1) + " Taobao UserBehavior.csv has no header"
    ):
        load_taobao_user_behavior(path)


@pytest.mark.parametrize(
    "bad_line, message",
    [
        ("1000000,7,view,500", "expected 5 comma-separated fields .* found 4"),
        ("1000000,7,view,500,,", "expected 5 comma-separated fields .* found 6"),
        ("1000000,7,buy,500,", "unknown event 'buy'; allowed: view, addtocart, transaction"),
        ("1000000,,view,500,", "visitorid is empty"),
        ("1000000,7,view,500,x", "transactionid 'x' is not an integer"),
    ],
)
def test_retailrocket_bad_line_counts_the_header(tmp_path, bad_line, message):
    path = write(tmp_path, [RETAILROCKET_HEADER, *RETAILROCKET_LINES[:2], bad_line], "events.csv")
    with pytest.raises(ValueError, match=error_at(path, 4) + " " + message):
        load_retailrocket_events(path, chunksize=2)


@pytest.mark.parametrize("header", ["timestamp,visitorid,event,itemid", RETAILROCKET_LINES[0]])
def test_retailrocket_wrong_header(tmp_path, header):
    path = write(tmp_path, [header, *RETAILROCKET_LINES], "events.csv")
    with pytest.raises(ValueError, match=error_at(path, 1) + " expected the RetailRocket events"):
        load_retailrocket_events(path)


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere" / "UserBehavior.csv"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path)) + ".*Taobao UserBehavior"):
        load_taobao_user_behavior(path)
    with pytest.raises(FileNotFoundError, match=re.escape(str(path)) + ".*RetailRocket events"):
        load_retailrocket_events(path)


@pytest.mark.parametrize("cutoff", [None, 100])
def test_empty_file(tmp_path, cutoff):
    path = write(tmp_path, [])
    with pytest.raises(ValueError, match=re.escape(path.name) + ": no events in the file"):
        load_taobao_user_behavior(path, cutoff=cutoff)
    header_only = write(tmp_path, [RETAILROCKET_HEADER], "events.csv")
    with pytest.raises(ValueError, match=re.escape(header_only.name) + ": no events"):
        load_retailrocket_events(header_only, cutoff=cutoff)
    with pytest.raises(ValueError, match="no events in the file; expected the header line"):
        load_retailrocket_events(write(tmp_path, [], "empty_events.csv"), cutoff=cutoff)


def test_no_events_before_cutoff(tmp_path):
    path = write(tmp_path, TAOBAO_LINES)
    with pytest.raises(ValueError, match="no events before the cutoff 5"):
        load_taobao_user_behavior(path, cutoff=5)


def test_random_log_matches_a_plain_pandas_reference(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    users = rng.integers(1, 30, n)
    times = rng.integers(0, 60, n)  # few distinct times: many ties, kept in file order
    behaviors = rng.choice(["pv", "cart", "fav", "buy"], n)
    items = rng.integers(1, 15, n)
    lines = [
        f"{u},{i},{i % 4},{b},{t}"
        for u, i, b, t in zip(users, items, behaviors, times, strict=True)
    ]
    path = write(tmp_path, lines)
    cutoff, max_len = 40, 6

    ids = {"pv": 2, "fav": 3, "cart": 4, "buy": 5}
    expected_users, expected_rows, expected_labels = [], [], []
    for user in sorted(set(users.tolist())):
        mine = np.flatnonzero(users == user)
        before = mine[times[mine] < cutoff]
        if len(before) == 0:
            continue
        before = before[np.argsort(times[before], kind="stable")][-max_len:]
        expected_users.append(user)
        expected_rows.append([ids[b] for b in behaviors[before]])
        after = mine[times[mine] >= cutoff]
        expected_labels.append(int("buy" in behaviors[after]))

    for chunksize in (1, 7, 1000):
        seqs = load_taobao_user_behavior(path, max_len=max_len, cutoff=cutoff, chunksize=chunksize)
        np.testing.assert_array_equal(seqs.user_ids, expected_users)
        np.testing.assert_array_equal(seqs.labels, expected_labels)
        np.testing.assert_array_equal(seqs.lengths, [len(row) for row in expected_rows])
        for row, expected in zip(seqs.behavior_ids, expected_rows, strict=True):
            np.testing.assert_array_equal(row, expected + [0] * (max_len - len(expected)))


def random_taobao_lines(seed, n=600):
    rng = np.random.default_rng(seed)
    users, items = rng.integers(1, 40, n), rng.integers(1, 12, n)
    behaviors, times = rng.choice(["pv", "cart", "fav", "buy"], n), rng.integers(0, 60, n)
    rows = zip(users, items, behaviors, times, strict=True)
    return [f"{u},{i},{i % 3},{b},{t}" for u, i, b, t in rows]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_path_equals_the_line_by_line_path_and_encode_features(tmp_path, seed):
    # nrows takes the checked, line-by-line path; no nrows takes the fast C-parser path
    lines = random_taobao_lines(seed)
    path = write(tmp_path, lines)
    fast = load_taobao_user_behavior(path, max_len=5, chunksize=97)
    checked = load_taobao_user_behavior(path, max_len=5, chunksize=97, nrows=len(lines))
    assert_same(fast, checked)
    np.testing.assert_array_equal(
        fast.features,
        encode_features(fast.behavior_ids, fast.time_gaps, fast.item_ids, fast.category_ids),
    )


def test_gzip_file_takes_the_fast_path_with_the_same_result(tmp_path):
    import gzip

    lines = random_taobao_lines(3)
    plain = write(tmp_path, lines)
    packed = tmp_path / "UserBehavior.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert_same(load_taobao_user_behavior(plain), load_taobao_user_behavior(packed))


@pytest.mark.parametrize(
    "bad_value, message",
    [
        (" 12", "user_id ' 12' is not an integer"),  # the C parser would accept these ...
        ("+12", "user_id '\\+12' is not an integer"),
        ("12.0", "user_id '12.0' is not an integer"),
        ('"12"', "user_id '\"12\"' is not an integer"),
        ("1e3", "user_id '1e3' is not an integer"),  # ... as the integers they look like
    ],
)
def test_values_the_c_parser_reads_leniently_are_still_reported(tmp_path, bad_value, message):
    lines = random_taobao_lines(4, n=50)
    lines[30] = bad_value + lines[30][lines[30].index(","):]
    path = write(tmp_path, lines)
    with pytest.raises(ValueError, match=error_at(path, 31) + " " + message):
        load_taobao_user_behavior(path, chunksize=10)


def test_an_extra_field_late_in_a_big_file_is_found(tmp_path):
    lines = random_taobao_lines(5, n=500)
    lines[420] += ",7"
    path = write(tmp_path, lines)
    with pytest.raises(ValueError, match=error_at(path, 421) + " expected 5 comma-separated"):
        load_taobao_user_behavior(path, chunksize=50)
