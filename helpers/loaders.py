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

import bz2
import csv
import gzip
import lzma
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.sequences import BEHAVIOR_ID, N_BEHAVIORS, N_FEATURES, BehaviorSequences

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
    """Fast path for a good file, checked path to name the first bad line.

    Fast: one byte scan (only characters a valid line can hold; the number of commas),
    then pandas' C parser with explicit dtypes, which rejects a missing field, a
    non-integer id or an unknown behavior; the comma total catches an extra or a missing
    optional field. Only when either finds something does the checked path read whole
    lines and name the first bad one: good files never pay for it. ``nrows`` (a quick look
    at the head of a huge file) always takes the checked path.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"{path}: no such file. Expected the {fmt.name} file "
            f"(lines like {fmt.example!r}), from {fmt.source}"
        )
    _check_header(path, fmt)
    options = dict(
        source=path,
        cutoff=cutoff,
        max_len=max_len,
        max_items=max_items,
        seconds_per_unit=fmt.seconds_per_unit,
    )
    try:
        if nrows is not None:
            raise _NotValid("nrows: check the head line by line")
        commas = _scan_bytes(path, fmt)
        return _build_sequences(
            lambda time_only=False: _read_events(path, fmt, chunksize, commas, time_only),
            **options,
        )
    except _NotValid:
        return _build_sequences(
            lambda time_only=False: _read_events_checked(path, fmt, chunksize, nrows),
            **options,
        )


def _read_events(path, fmt: _Format, chunksize, commas, time_only=False):
    """The fast path: yield the file's events chunk by chunk (see :func:`_load`).

    Each DataFrame has columns user, item, [category,] behavior (BEHAVIOR_ID), time (file
    unit), in file order; with ``time_only`` just ``time`` (the first pass that finds the
    default cutoff). Raises ``_NotValid`` when the file needs the checked path.
    """
    n_events = 0
    for events in _parse_chunks(path, fmt, chunksize, time_only):
        n_events += len(events)
        yield events
    n_lines = n_events + (fmt.header is not None)
    if commas != (len(fmt.fields) - 1) * n_lines:
        raise _NotValid(f"{commas} commas in {n_lines} lines of {len(fmt.fields)} fields")
    if n_events == 0:
        _no_events(path, fmt)


def _no_events(path, fmt: _Format):
    header = f"the header line {fmt.header!r}, then " if fmt.header else ""
    raise ValueError(
        f"{path}: no events in the file; expected {header}{fmt.name} lines like {fmt.example!r}"
    )


def _open_bytes(path):
    """The file's bytes, decompressed like pandas does for these suffixes."""
    suffix = Path(path).suffix.lower()
    if suffix == ".gz":
        return gzip.open(path, "rb")
    if suffix == ".bz2":
        return bz2.open(path, "rb")
    if suffix == ".xz":
        return lzma.open(path, "rb")
    if suffix == ".zip":
        archive = zipfile.ZipFile(path)
        return archive.open(archive.namelist()[0])
    return open(path, "rb")


def _scan_bytes(path, fmt: _Format, block=1 << 26) -> int:
    """Number of commas in the data; ``_NotValid`` on a character no valid line holds.

    ``bytes.translate`` deletes every allowed byte at C speed: anything left (a '.', an
    'e' of 1.5e9, a space, a tab, a quote) means a line the fast parser might accept
    leniently, so the checked path must look at it.
    """
    letters = "".join(sorted(set("".join(fmt.behaviors))))
    allowed = ("0123456789,-\r\n" + letters).encode()
    commas = 0
    with _open_bytes(path) as stream:
        if fmt.header is not None:
            commas += stream.readline().count(b",")
        while chunk := stream.read(block):
            if chunk.translate(None, allowed):
                raise _NotValid("a character no valid line holds")
            commas += chunk.count(b",")
    return commas


class _NotValid(Exception):
    """The fast parser met something a valid file cannot contain."""


def _check_header(path, fmt: _Format) -> None:
    if fmt.header is None:
        return
    try:
        first = _read_lines(path, nrows=1)["line"]
    except pd.errors.EmptyDataError:
        return  # an empty file: reported as "no events" by the caller
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ValueError(
            f"{path} cannot be read as a {fmt.name} text file (binary, or compressed without "
            f"a .gz/.zip name?). The CSV parser said: {err}"
        ) from None
    if len(first) and first.iloc[0] != fmt.header:
        raise ValueError(
            f"{path}, line 1: expected the {fmt.name} header "
            f"{fmt.header!r}, found {first.iloc[0][:200]!r}"
        )


def _parse_chunks(path, fmt: _Format, chunksize, time_only):
    """The C parser over the file with explicit dtypes; ``_NotValid`` on anything odd."""
    behavior = fmt.roles["behavior"]
    wanted = [fmt.roles["time"]] if time_only else [*fmt.roles.values(), *fmt.optional]
    dtypes = {f: "int64" for f in wanted if f != behavior and f not in fmt.optional}
    dtypes |= {f: "float64" for f in fmt.optional if f in wanted}  # numeric or empty
    dtypes |= {behavior: pd.CategoricalDtype(list(fmt.behaviors))} if behavior in wanted else {}
    behavior_ids = np.zeros(len(fmt.behaviors), np.int8)
    for code, name in enumerate(fmt.behaviors.values()):
        behavior_ids[code] = BEHAVIOR_ID[name]
    try:
        reader = pd.read_csv(
            path,
            header=None,
            skiprows=0 if fmt.header is None else 1,
            names=list(fmt.fields),
            usecols=wanted,
            # a line with an extra field must not shift the columns into the index; its
            # data is dropped with a ParserWarning (silenced below), and the comma count
            # then sends the file to the checked path
            index_col=False,
            dtype=dtypes,
            quoting=csv.QUOTE_NONE,
            engine="c",
            chunksize=chunksize,
        )
        with reader:
            while True:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", pd.errors.ParserWarning)
                    chunk = next(reader, None)
                if chunk is None:
                    break
                if chunk.empty:
                    continue
                if time_only:
                    yield chunk.rename(columns={fmt.roles["time"]: "time"})
                    continue
                codes = chunk[behavior].cat.codes.to_numpy()
                if (codes < 0).any():  # NaN: an unknown or empty behavior
                    raise _NotValid(f"a {behavior} outside {', '.join(fmt.behaviors)}")
                events = chunk[list(fmt.roles.values())].rename(
                    columns={f: ours for ours, f in fmt.roles.items()}
                )
                events["behavior"] = behavior_ids[codes]
                yield events[list(fmt.roles)]
    except pd.errors.EmptyDataError:
        return
    except (ValueError, OverflowError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise _NotValid(str(err).splitlines()[0] if str(err) else type(err).__name__) from None


def _read_events_checked(path, fmt: _Format, chunksize, nrows):
    """The slow path: whole lines, each checked against the format, then parsed.

    Raises ``ValueError`` naming the file and line of the first bad line.
    """
    n_header = 0 if fmt.header is None else 1
    int_fields = [f for f in fmt.roles.values() if f != fmt.roles["behavior"]]
    behavior_ids = {value: BEHAVIOR_ID[name] for value, name in fmt.behaviors.items()}
    pattern = _line_pattern(fmt)
    n_events = 0
    try:
        reader = _read_lines(
            path, chunksize=chunksize, nrows=None if nrows is None else nrows + n_header
        )
        with reader:
            for chunk in reader:
                lines = chunk["line"]
                if fmt.header is not None and len(lines) and lines.index[0] == 0:
                    lines = lines.iloc[1:]  # checked by _check_header
                lines = lines[lines != ""]  # blank lines (often one at the end) carry nothing
                bad = ~lines.str.fullmatch(pattern)
                if bad.any():
                    row = bad.idxmax()
                    raise ValueError(_bad_line_message(path, fmt, row + 1, lines[row]))
                if lines.empty:
                    continue
                fields = lines.str.split(",", expand=True)
                fields.columns = list(fmt.fields)
                events = pd.DataFrame(
                    {ours: fields[f] for ours, f in fmt.roles.items()}
                )
                for ours, f in fmt.roles.items():
                    if f in int_fields:
                        events[ours] = events[ours].astype("int64")
                events["behavior"] = events["behavior"].map(behavior_ids).astype(np.int8)
                n_events += len(events)
                yield events
    except pd.errors.EmptyDataError:
        pass
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ValueError(
            f"{path} cannot be read as a {fmt.name} text file (binary, or compressed without "
            f"a .gz/.zip name?). The CSV parser said: {err}"
        ) from None
    if n_events == 0:
        _no_events(path, fmt)


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
    other = {"\t": "tabs", ";": "semicolons", "|": "'|'", " ": "spaces"}
    found = next((s for s in other if len(values) == 1 and line.count(s) >= 2), None)
    if found:  # e.g. a tab-separated export: the first value then looks like "1\t2\t..."
        problem = (
            f"the fields are separated by {other[found]}, but {fmt.name} is comma-separated "
            f"({','.join(fmt.fields)}); convert the file, e.g. with pandas: "
            f"pd.read_csv(path, sep={found!r}, header=None).to_csv(new_path, header=False, "
            "index=False)"
        )
    elif fmt.header is None and line_no == 1 and not re.fullmatch(_INT, values[0]):
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
    (DataFrames with columns user, item, [category,] behavior, time in file order);
    ``read_chunks(time_only=True)`` may return only the ``time`` column.
    """
    if cutoff is None:  # first pass: only the time range is needed
        t_min, t_max = np.inf, -np.inf
        for events in read_chunks(time_only=True):
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
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])  # already sorted: no sort
    user_ids, lengths = users[starts], np.diff(np.r_[starts, len(users)])
    time = kept["time"].to_numpy()
    gaps = np.diff(time, prepend=time[0]) * seconds_per_unit
    gaps[starts] = 0.0  # a user's first kept event has no previous event

    # every kept event's flat index in a (users, max_len) array: users are contiguous
    # blocks, so no Python loop; 1-D scatters are much faster than (row, column) ones
    rows = np.repeat(np.arange(len(user_ids)), lengths)
    positions = np.arange(len(users)) - starts[rows]
    flat = rows * max_len + positions

    def padded(values, dtype=np.int32):
        out = np.zeros((len(user_ids), max_len), dtype=dtype)
        out.ravel()[flat] = values
        return out

    items = _frequency_ids(kept["item"].to_numpy(), max_items)
    if "category" in kept:
        categories = _frequency_ids(kept["category"].to_numpy(), max_items)
    else:  # no categories in the file: one shared category for every real event
        categories = np.ones(len(kept), dtype=np.int32)
    behaviors = kept["behavior"].to_numpy()
    behavior_ids = padded(behaviors)
    item_ids, category_ids = padded(items), padded(categories)
    time_gaps = padded(gaps, np.float32)
    # encode_features' values, written only where there are events: a dense encode of
    # (users, max_len, features) costs several temporaries of the output's size
    features = np.zeros((len(user_ids), max_len, N_FEATURES), dtype=np.float32)
    cells = features.ravel()
    cells[flat * N_FEATURES + behaviors.astype(np.intp) - 1] = 1.0  # one-hot, id 1 → column 0
    gaps32 = gaps.astype(np.float32)  # the same float32 steps as encode_features
    cells[flat * N_FEATURES + N_BEHAVIORS - 1] = np.log1p(np.maximum(gaps32, 0)) / 10.0
    later = positions > 0  # a user's first event repeats nothing
    for column, ids in ((N_BEHAVIORS, items), (N_BEHAVIORS + 1, categories)):
        same = np.zeros(len(ids), dtype=bool)
        same[1:] = ids[1:] == ids[:-1]
        cells[flat * N_FEATURES + column] = same & later
    return BehaviorSequences(
        item_ids=item_ids,
        category_ids=category_ids,
        behavior_ids=behavior_ids,
        time_gaps=time_gaps,
        features=features,
        labels=np.isin(user_ids, list(buyers)).astype(np.int32),
        lengths=lengths.astype(np.int32),
        user_ids=user_ids.astype(np.int64),
        true_prob=None,
    )


def _keep_last(frames, max_len: int) -> pd.DataFrame:
    """Concatenate, sort by user then time, keep each user's last ``max_len`` events.

    ``frames`` are in file order (``None`` entries are skipped). The sort is stable, so
    events with the same timestamp stay in file order.
    """
    events = pd.concat(frames, ignore_index=True)
    order = _user_time_order(events["user"].to_numpy(), events["time"].to_numpy())
    users = events["user"].to_numpy()[order]
    # rows from the end of each user's block: keep the last max_len of each
    block_end = np.append(np.flatnonzero(users[1:] != users[:-1]), len(users) - 1)
    ends = np.repeat(block_end, np.diff(np.concatenate(([-1], block_end))))
    return events.iloc[order[ends - np.arange(len(users)) < max_len]]


def _user_time_order(users: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Stable order by (user, time). One sort of a combined int64 key when it fits (a
    log already grouped by user and sorted by time costs one linear pass), else lexsort."""
    if len(users) == 0:
        return np.arange(0)
    u0, t0 = users.min(), times.min()
    span_u, span_t = int(users.max()) - int(u0) + 1, int(times.max()) - int(t0) + 1
    if span_u * span_t < 2**62:
        key = (users - u0) * np.int64(span_t) + (times - t0)
        return np.argsort(key, kind="stable")
    return np.lexsort((times, users))


def _frequency_ids(values: np.ndarray, max_items: int) -> np.ndarray:
    """Renumber ids by frequency: 2 = most frequent, ..., 1 = outside the top ``max_items``.

    Equally frequent ids keep smaller-id-first. Counting by hashing (``pd.factorize``)
    instead of sorting all values: only the distinct ids are sorted.
    """
    codes, uniques = pd.factorize(values)
    counts = np.bincount(codes, minlength=len(uniques))
    top = np.lexsort((uniques, -counts))[:max_items]  # codes of the most frequent ids
    new_id = np.ones(len(uniques), dtype=np.int32)  # 1 = rare/other
    new_id[top] = np.arange(2, len(top) + 2, dtype=np.int32)
    return new_id[codes]


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
