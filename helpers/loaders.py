"""Load real e-commerce behavior logs into :class:`~helpers.sequences.BehaviorSequences`.

Two public behavior logs are supported:

* :func:`load_taobao_user_behavior` reads Taobao ``UserBehavior.csv`` (Tianchi / Alibaba):
  no header, lines ``user_id,item_id,category_id,behavior_type,timestamp`` with
  ``behavior_type`` one of ``pv, cart, fav, buy`` and ``timestamp`` in unix seconds.
* :func:`load_retailrocket_events` reads RetailRocket ``events.csv`` (Kaggle): header
  ``timestamp,visitorid,event,itemid,transactionid``, timestamps in milliseconds, ``event``
  one of ``view, addtocart, transaction`` (read as pv, cart, buy). The file has no
  categories, so every real event gets category id 1.

A third, :func:`load_cdnow`, reads the CDNOW purchase log (shipped inside the ``lifetimes``
package) into a plain purchase table; :mod:`helpers.churn` turns it into weekly sequences.
It is described in its own section at the end of this module.

How a log becomes a labelled dataset (the same for both files):

* **One sequence per user.** Time is cut in two at ``cutoff``: the events *before* the
  cutoff are what the model sees, the time *after* it is only used for the label.
  ``label = 1`` if the user buys anything at or after the cutoff, else 0. Nothing from after
  the cutoff leaks into the inputs. Users with no event before the cutoff are dropped.
* ``cutoff`` is in the file's own time unit (seconds for Taobao, milliseconds for
  RetailRocket). By default it is 75 % of the way from the first to the last timestamp in
  the file, found by a first pass over the file.
* Each user keeps their last ``max_len`` events before the cutoff, in time order (events
  with the same timestamp stay in file order). Users are sorted by user id.
* **Ids.** Item ids are renumbered by popularity among the kept events: 0 = padding,
  1 = "rare/other" (any item outside the ``max_items`` most frequent), 2 = the most frequent
  item, 3 = the next, ... Taobao categories are renumbered the same way. Behavior ids follow
  :data:`~helpers.sequences.BEHAVIOR_ID` (pv=2, fav=3, cart=4, buy=5).
* ``time_gaps`` are seconds since the user's previous kept event (0 for the first one).
* **Streaming.** The file is read ``chunksize`` lines at a time, so a multi-GB log never has
  to fit in memory. Only a bounded buffer is kept: each user's latest ``max_len`` events
  before the cutoff (plus at most as many not yet trimmed) and the set of users who buy
  after the cutoff.
* **Bad input** raises ``FileNotFoundError`` (missing file) or ``ValueError`` naming the file
  and the 1-based line number (the RetailRocket header is line 1), what is wrong there and
  what was expected.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.sequences import BEHAVIOR_ID, BehaviorSequences, encode_features, pad

_INT = r"-?\d{1,18}"  # fits in int64


@dataclass(frozen=True)
class _Format:
    """What one dataset's CSV looks like; drives parsing, checking and error messages."""

    name: str
    fields: tuple[str, ...]  # the columns of the file, in order
    roles: dict[str, str]  # our column (user, item, category, behavior, time) -> file column
    behaviors: dict[str, str]  # behavior value in the file -> key of BEHAVIOR_ID
    seconds_per_unit: float
    header: str | None
    optional: tuple[str, ...]  # fields that may be empty
    example: str
    source: str


TAOBAO = _Format(
    name="Taobao UserBehavior.csv",
    fields=("user_id", "item_id", "category_id", "behavior_type", "timestamp"),
    roles={
        "user": "user_id",
        "item": "item_id",
        "category": "category_id",
        "behavior": "behavior_type",
        "time": "timestamp",
    },
    behaviors={"pv": "pv", "cart": "cart", "fav": "fav", "buy": "buy"},
    seconds_per_unit=1.0,
    header=None,
    optional=(),
    example="1,2268318,2520377,pv,1511544070",
    source="Tianchi / Alibaba, https://tianchi.aliyun.com/dataset/649",
)

RETAILROCKET = _Format(
    name="RetailRocket events.csv",
    fields=("timestamp", "visitorid", "event", "itemid", "transactionid"),
    roles={"user": "visitorid", "item": "itemid", "behavior": "event", "time": "timestamp"},
    behaviors={"view": "pv", "addtocart": "cart", "transaction": "buy"},
    seconds_per_unit=1e-3,
    header="timestamp,visitorid,event,itemid,transactionid",
    optional=("transactionid",),
    example="1433221332117,257597,view,355908,",
    source="Kaggle, https://www.kaggle.com/datasets/retailrocket/ecommerce-dataset",
)


def load_taobao_user_behavior(
    path, *, max_len=50, cutoff=None, max_items=50_000, chunksize=1_000_000, nrows=None
) -> BehaviorSequences:
    """Taobao ``UserBehavior.csv`` → one padded sequence per user (see the module docstring).

    Args:
        path: the CSV file (no header; ``.gz``/``.zip`` also work).
        max_len: steps per sequence; each user keeps their last ``max_len`` events.
        cutoff: unix seconds splitting inputs (before) from the label window (at/after);
            default 75 % of the file's time range.
        max_items: item/category ids beyond the most frequent ``max_items`` become 1.
        chunksize: lines read at a time (memory vs. speed).
        nrows: read only the first ``nrows`` lines, for a quick look at the huge file.

    Returns:
        ``BehaviorSequences`` with ``n`` users: ids ``(n, max_len)`` int32, ``time_gaps``
        ``(n, max_len)`` float32, ``features`` ``(n, max_len, N_FEATURES)``, ``labels``,
        ``lengths`` ``(n,)`` int32, ``user_ids`` ``(n,)`` int64, ``true_prob`` None.
    """
    return _load(path, TAOBAO, max_len, cutoff, max_items, chunksize, nrows)


def load_retailrocket_events(
    path, *, max_len=50, cutoff=None, max_items=50_000, chunksize=1_000_000, nrows=None
) -> BehaviorSequences:
    """RetailRocket ``events.csv`` → one padded sequence per visitor (see the module docstring).

    Same arguments and result as :func:`load_taobao_user_behavior`, except that ``cutoff``
    is in milliseconds (the file's unit), ``nrows`` counts data lines after the header, and
    ``category_ids`` is 1 for every real event (the file has no categories).
    """
    return _load(path, RETAILROCKET, max_len, cutoff, max_items, chunksize, nrows)


def _load(path, fmt, max_len, cutoff, max_items, chunksize, nrows) -> BehaviorSequences:
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"{path}: no such file. Expected the {fmt.name} file "
            f"(lines like {fmt.example!r}), from {fmt.source}"
        )
    return _build_sequences(
        lambda: _read_events(path, fmt, chunksize, nrows),
        source=path,
        cutoff=cutoff,
        max_len=max_len,
        max_items=max_items,
        seconds_per_unit=fmt.seconds_per_unit,
    )


def _read_events(path, fmt: _Format, chunksize, nrows):
    """Yield the file's events chunk by chunk, every line checked.

    Each DataFrame has columns user, item, [category,] behavior (BEHAVIOR_ID), time (file
    unit), in file order. Raises ``ValueError`` naming the file and line of the first bad line.
    """
    n_header = 0 if fmt.header is None else 1
    reader = _read_lines(
        path, chunksize=chunksize, nrows=None if nrows is None else nrows + n_header
    )
    pattern = _line_pattern(fmt)
    int_fields = [f for f in fmt.roles.values() if f != fmt.roles["behavior"]]
    behavior_ids = {value: BEHAVIOR_ID[name] for value, name in fmt.behaviors.items()}
    n_events = 0
    try:
        with reader:
            for chunk in reader:
                lines = chunk["line"]
                if lines.empty:  # an empty file still yields one empty chunk
                    continue
                if fmt.header is not None and lines.index[0] == 0:
                    if lines.iloc[0] != fmt.header:
                        raise ValueError(
                            f"{path}, line 1: expected the {fmt.name} header "
                            f"{fmt.header!r}, found {lines.iloc[0][:200]!r}"
                        )
                    lines = lines.iloc[1:]
                lines = lines[lines != ""]  # blank lines (often one at the end) carry nothing
                bad = ~lines.str.fullmatch(pattern)
                if bad.any():
                    row = bad.idxmax()
                    raise ValueError(_bad_line_message(path, fmt, row + 1, lines[row]))
                if lines.empty:
                    continue
                # every line is well-formed now: let the fast C parser split and type them
                events = pd.read_csv(
                    io.StringIO("\n".join(lines.tolist())),
                    header=None,
                    names=list(fmt.fields),
                    usecols=list(fmt.roles.values()),
                    dtype={f: "int64" for f in int_fields} | {fmt.roles["behavior"]: str},
                )
                events = events.rename(columns={f: ours for ours, f in fmt.roles.items()})
                events["behavior"] = events["behavior"].map(behavior_ids).astype(np.int8)
                n_events += len(events)
                yield events[list(fmt.roles)]
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ValueError(
            f"{path} cannot be read as a {fmt.name} text file (binary, or compressed without "
            f"a .gz/.zip name?). The CSV parser said: {err}"
        ) from None
    if n_events == 0:
        header = f"the header line {fmt.header!r}, then " if fmt.header else ""
        raise ValueError(
            f"{path}: no events in the file; expected {header}{fmt.name} lines like {fmt.example!r}"
        )


def _read_lines(path, *, chunksize=None, nrows=None):
    """The file as one text column ``line`` (a DataFrame, or an iterator of chunks).

    Whole lines, not fields (``sep="\\0"`` never occurs in text): pandas silently fills
    missing trailing fields, so the loaders count fields themselves. Blank lines are
    kept, so row ``i`` is line ``i + 1`` of the file.
    """
    return pd.read_csv(
        path,
        header=None,
        names=["line"],
        sep="\0",
        dtype=str,
        na_filter=False,
        quoting=csv.QUOTE_NONE,
        skip_blank_lines=False,
        index_col=False,
        chunksize=chunksize,
        nrows=nrows,
    )


def _line_pattern(fmt: _Format) -> str:
    """Regex one good line matches in full, e.g. ``int,int,int,(pv|cart|fav|buy),int``."""
    parts = []
    for field in fmt.fields:
        part = "|".join(fmt.behaviors) if field == fmt.roles["behavior"] else _INT
        parts.append(f"(?:{part})" + ("?" if field in fmt.optional else ""))
    return ",".join(parts)


def _bad_line_message(path, fmt: _Format, line_no: int, line: str) -> str:
    """Say in words what is wrong with a line that does not match ``_line_pattern``."""
    values = line.split(",")
    problem = "does not match the expected format"
    if fmt.header is None and line_no == 1 and not re.fullmatch(_INT, values[0]):
        problem = f"{fmt.name} has no header row, but line 1 does not start with an integer"
    elif len(values) != len(fmt.fields):
        problem = (
            f"expected {len(fmt.fields)} comma-separated fields "
            f"({','.join(fmt.fields)}), found {len(values)}"
        )
    else:
        for field, value in zip(fmt.fields, values, strict=True):
            if value == "" and field not in fmt.optional:
                problem = f"{field} is empty, but it is required"
            elif field == fmt.roles["behavior"] and value not in fmt.behaviors:
                problem = f"unknown {field} {value!r}; allowed: {', '.join(fmt.behaviors)}"
            elif field != fmt.roles["behavior"] and value and not re.fullmatch(_INT, value):
                problem = f"{field} {value!r} is not an integer"
            else:
                continue
            break
    return (
        f"{path}, line {line_no}: {problem}. The line is {line[:200]!r}; "
        f"a valid {fmt.name} line looks like {fmt.example!r}"
    )


def _build_sequences(
    read_chunks, *, source, cutoff, max_len, max_items, seconds_per_unit
) -> BehaviorSequences:
    """Turn a stream of event DataFrames into padded per-user sequences.

    ``read_chunks()`` must start a fresh pass over the events each time it is called
    (DataFrames with columns user, item, [category,] behavior, time in file order).
    """
    if cutoff is None:  # first pass: only the time range is needed
        t_min, t_max = np.inf, -np.inf
        for events in read_chunks():
            t_min = min(t_min, events["time"].min())
            t_max = max(t_max, events["time"].max())
        cutoff = t_min + 0.75 * (t_max - t_min)

    kept, pending, n_pending, buyers = None, [], 0, set()
    for events in read_chunks():
        after = (events["time"] >= cutoff).to_numpy()
        buys = after & (events["behavior"] == BEHAVIOR_ID["buy"]).to_numpy()
        buyers.update(events["user"].to_numpy()[buys].tolist())
        pending.append(events[~after])
        n_pending += int((~after).sum())
        # Trimming sorts the whole buffer, so wait until the untrimmed part is as large as
        # the trimmed one: memory stays at most ~2x the buffer, total work ~ n log n.
        if kept is None or n_pending >= len(kept):
            kept, pending, n_pending = _keep_last([kept, *pending], max_len), [], 0
    kept = _keep_last([kept, *pending], max_len)
    if kept.empty:
        raise ValueError(f"{source}: no events before the cutoff {cutoff}, so no sequences")

    # kept is sorted by user, then time: each user is one contiguous block of rows
    users = kept["user"].to_numpy()
    user_ids, starts, lengths = np.unique(users, return_index=True, return_counts=True)
    time = kept["time"].to_numpy()
    gaps = np.diff(time, prepend=time[0]) * seconds_per_unit
    gaps[starts] = 0.0  # a user's first kept event has no previous event

    def padded(values, dtype=np.int32):
        return pad(np.split(values, starts[1:]), max_len, dtype)

    item_ids = padded(_frequency_ids(kept["item"].to_numpy(), max_items))
    if "category" in kept:
        category_ids = padded(_frequency_ids(kept["category"].to_numpy(), max_items))
    else:  # no categories in the file: one shared category for every real event
        category_ids = padded(np.ones(len(kept), dtype=np.int32))
    behavior_ids = padded(kept["behavior"].to_numpy())
    time_gaps = padded(gaps, np.float32)
    return BehaviorSequences(
        item_ids=item_ids,
        category_ids=category_ids,
        behavior_ids=behavior_ids,
        time_gaps=time_gaps,
        features=encode_features(behavior_ids, time_gaps, item_ids, category_ids),
        labels=np.isin(user_ids, list(buyers)).astype(np.int32),
        lengths=lengths.astype(np.int32),
        user_ids=user_ids.astype(np.int64),
        true_prob=None,
    )


def _keep_last(frames, max_len: int) -> pd.DataFrame:
    """Concatenate, sort by user then time, keep each user's last ``max_len`` events.

    ``frames`` are in file order (``None`` entries are skipped), and ``np.lexsort`` is
    stable, so events with the same timestamp stay in file order.
    """
    events = pd.concat(frames, ignore_index=True)
    order = np.lexsort((events["time"].to_numpy(), events["user"].to_numpy()))
    return events.iloc[order].groupby("user", sort=False).tail(max_len)


def _frequency_ids(values: np.ndarray, max_items: int) -> np.ndarray:
    """Renumber ids by frequency: 2 = most frequent, ..., 1 = outside the top ``max_items``."""
    uniques, counts = np.unique(values, return_counts=True)
    # stable sort of the (ascending) uniques: equally frequent ids keep smaller-id-first
    top = uniques[np.argsort(-counts, kind="stable")[:max_items]]
    return pd.Index(top).get_indexer(values) + 2  # get_indexer gives -1 (→ 1) when not in top


# --- CDNOW: a purchase log, read as a table (helpers.churn turns it into sequences) ---

CDNOW_HEADER = ("customer_id", "date", "number_of_cds", "dollar_value")
CDNOW_EXAMPLE = " 00001 19970101  1   11.77"
CDNOW_PACKAGE_FILE = "lifetimes/datasets/CDNOW_master.txt"
CDNOW_INSTALL = "pip install lifetimes==0.11.3"
# one data line: customer id, date YYYYMMDD, CDs bought, dollars spent; any whitespace between
_CDNOW_LINE = r"\s*\d{1,18}\s+\d{8}\s+\d{1,9}\s+\d{1,12}(?:\.\d*)?\s*"


def cdnow_path() -> Path:
    """Where the installed ``lifetimes`` package keeps ``CDNOW_master.txt``.

    Found through the package's installed-file metadata, *without importing* ``lifetimes``
    (importing it loads its model-fitting stack, which we do not need). Raises
    ``FileNotFoundError`` with the install command when the package or the file is missing.
    """
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        path = Path(distribution("lifetimes").locate_file(CDNOW_PACKAGE_FILE))
    except PackageNotFoundError:
        raise FileNotFoundError(
            "load_cdnow() reads CDNOW_master.txt from the 'lifetimes' package, which is not "
            f"installed. Run `{CDNOW_INSTALL}` (or pass path= to your own copy of the file)."
        ) from None
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: not found in the installed 'lifetimes' package. Run `{CDNOW_INSTALL}` "
            "(the version that ships the file), or pass path= to your own copy."
        )
    return path


def load_cdnow(path=None, *, nrows=None) -> pd.DataFrame:
    """The CDNOW purchase log (Fader & Hardie's "CDNOW master" file) as a DataFrame.

    The file is whitespace-separated text with a header line,
    ``customer_id date number_of_cds dollar_value``, then one purchase a line, e.g.
    ``00001 19970101  1   11.77``. The full file holds 69,659 purchases by 23,570 customers
    who all bought for the first time in January–March 1997, followed until June 1998.

    Args:
        path: the file; by default the copy shipped inside the installed ``lifetimes``
            package (:func:`cdnow_path`).
        nrows: read only the first ``nrows`` purchases (after the header).

    Returns:
        One row per purchase, in file order: ``customer_id`` int64, ``date`` datetime64,
        ``number_of_cds`` int64, ``dollar_value`` float64.

    Raises ``FileNotFoundError`` (no file / package) or ``ValueError`` naming the file, the
    1-based line number (the header is line 1) and the line, with the expected format.
    """
    path = cdnow_path() if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no such file. Expected CDNOW_master.txt (lines like {CDNOW_EXAMPLE!r}); "
            f"`{CDNOW_INSTALL}` ships a copy, which load_cdnow() uses when path is None"
        )
    try:  # whole lines first, so every line can be checked
        lines = _read_lines(path, nrows=None if nrows is None else nrows + 1)["line"]
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} cannot be read as CDNOW text: {err}") from None
    except pd.errors.EmptyDataError:
        lines = pd.Series([], dtype=str)
    if lines.empty or tuple(lines.iloc[0].split()) != CDNOW_HEADER:
        found = lines.iloc[0][:200] if len(lines) else "an empty file"
        raise ValueError(
            f"{path}, line 1: expected the CDNOW header {' '.join(CDNOW_HEADER)!r}, found {found!r}"
        )
    lines = lines.iloc[1:]
    lines = lines[lines.str.strip() != ""]  # blank lines (often one at the end) carry nothing
    if lines.empty:
        raise ValueError(
            f"{path}: no purchases after the header; expected lines like {CDNOW_EXAMPLE!r}"
        )
    bad = ~lines.str.fullmatch(_CDNOW_LINE)
    if bad.any():
        row = bad.idxmax()
        raise ValueError(_cdnow_bad_line(path, row + 1, lines[row]))
    fields = lines.str.split(expand=True)
    dates = pd.to_datetime(fields[1], format="%Y%m%d", errors="coerce")
    if dates.isna().any():
        row = dates.isna().idxmax()
        raise ValueError(_cdnow_bad_line(path, row + 1, lines[row]))
    return pd.DataFrame(
        {
            "customer_id": fields[0].astype("int64"),
            "date": dates,
            "number_of_cds": fields[2].astype("int64"),
            "dollar_value": fields[3].astype("float64"),
        }
    ).reset_index(drop=True)


def _cdnow_bad_line(path, line_no: int, line: str) -> str:
    """Say in words what is wrong with a CDNOW line (see :func:`load_cdnow`)."""
    values = line.split()
    if len(values) != len(CDNOW_HEADER):
        problem = (
            f"expected {len(CDNOW_HEADER)} whitespace-separated fields "
            f"({' '.join(CDNOW_HEADER)}), found {len(values)}"
        )
    elif not re.fullmatch(r"\d{1,18}", values[0]):
        problem = f"customer_id {values[0]!r} is not a non-negative integer"
    elif not re.fullmatch(r"\d{8}", values[1]) or pd.isna(
        pd.to_datetime(values[1], format="%Y%m%d", errors="coerce")
    ):
        problem = f"date {values[1]!r} is not a calendar date written YYYYMMDD"
    elif not re.fullmatch(r"\d{1,9}", values[2]):
        problem = f"number_of_cds {values[2]!r} is not a non-negative integer"
    else:
        problem = f"dollar_value {values[3]!r} is not a non-negative number like 11.77"
    return (
        f"{path}, line {line_no}: {problem}. The line is {line[:200]!r}; "
        f"a valid CDNOW_master.txt line looks like {CDNOW_EXAMPLE!r}"
    )
