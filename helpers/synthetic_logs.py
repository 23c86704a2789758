"""Write Taobao-shaped behavior logs of any size, for the loader benchmark and tests.

The real ``UserBehavior.csv`` (Tianchi) cannot ship with the repository (3.6 GB, its
own licence). This module writes a file with the same *shape*, so that loading speed
and memory can be measured at full scale and the real-data command can be tested end
to end:

* no header; lines ``user_id,item_id,category_id,behavior_type,timestamp``;
* about ``events_per_user`` events per user (the real file: 100,150,807 lines from
  987,994 users, ~101 each), the number per user drawn from a geometric law;
* item popularity Zipf-like (item ``k`` has weight ``1 / k**zipf_exponent``), each item
  in one fixed category; ids are large random-looking integers, as in the real file;
* behavior types in the real file's proportions: pv 89.5 %, cart 5.5 %, fav 2.9 %,
  buy 2.1 % (so "~2 % of events are buy");
* unix timestamps within the real file's nine days (2017-11-25 to 2017-12-03), sorted
  within each user; lines grouped by user, as in the real file.

Nothing here is a model of buying behavior: the only thing a label computed from such
a file depends on is how active a user is (more events before a cutoff, more after it,
so more chances to buy). It measures loaders, and tests the real-data command; it says
nothing about which model is better on real logs.

Command line: ``python -m helpers.synthetic_logs --lines 5000000 --users 50000 out.csv``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

BEHAVIORS = np.array(["pv", "cart", "fav", "buy"])
BEHAVIOR_SHARES = np.array([0.895, 0.055, 0.029, 0.021])
FIRST_SECOND = 1511539200  # 2017-11-25 00:00:00 (Beijing 08:00)
DAYS = 9


def write_taobao_like(
    path,
    lines: int,
    *,
    users: int | None = None,
    n_items: int = 4_000_000,
    n_categories: int = 9_400,
    zipf_exponent: float = 1.0,
    seed: int = 0,
    lines_per_write: int = 2_000_000,
) -> dict:
    """Write ``lines`` Taobao-shaped lines to ``path``; returns what was written.

    Args:
        path: output file (overwritten).
        lines: exact number of lines.
        users: number of users; default ``lines // 101`` (the real file's density).
        n_items, n_categories: catalogue size (real file: ~4.16 M items, 9,439 categories).
        zipf_exponent: item popularity ``∝ 1 / rank**zipf_exponent``.
        seed: same seed → same bytes.
        lines_per_write: lines formatted at once (memory vs. speed).

    Returns:
        ``{"path", "lines", "users", "bytes", "seconds"}``.
    """
    if lines < 1:
        raise ValueError(f"lines must be a positive integer, got {lines!r}")
    users = max(1, lines // 101) if users is None else users
    if not 1 <= users <= lines:
        raise ValueError(f"users must be between 1 and lines ({lines}), got {users!r}")
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    counts = _events_per_user(rng, lines, users)
    user_ids = np.sort(rng.choice(1_100_000 if users <= 1_000_000 else 2 * users, users,
                                  replace=False)) + 1
    item_ids = rng.choice(5_200_000, n_items, replace=False) + 1
    item_category = rng.integers(1, 5_200_000, n_categories)[
        rng.integers(0, n_categories, n_items)
    ]
    # inverse-CDF sampling of Zipf ranks: cheap for millions of items
    weights = 1.0 / np.arange(1, n_items + 1) ** zipf_exponent
    cdf = np.cumsum(weights) / weights.sum()

    first_user = np.repeat(np.arange(users), counts)  # user index of every line
    with open(path, "w", encoding="ascii", newline="\n") as out:
        for begin in range(0, lines, lines_per_write):
            end = min(begin + lines_per_write, lines)
            n = end - begin
            who = first_user[begin:end]
            rank = np.minimum(np.searchsorted(cdf, rng.random(n)), n_items - 1)
            behavior = rng.choice(len(BEHAVIORS), n, p=BEHAVIOR_SHARES)
            stamp = FIRST_SECOND + rng.integers(0, DAYS * 86_400, n)
            # sort time within each user (lines of one user may span two writes: the
            # order is then per block, which the loaders do not rely on anyway)
            order = np.lexsort((stamp, who))
            columns = (
                user_ids[who[order]],
                item_ids[rank[order]],
                item_category[rank[order]],
                BEHAVIORS[behavior[order]],
                stamp[order],
            )
            text = _join_columns(columns)
            out.write(text)
    return {
        "path": str(path),
        "lines": lines,
        "users": users,
        "bytes": Path(path).stat().st_size,
        "seconds": round(time.perf_counter() - start, 1),
    }


def _events_per_user(rng, lines: int, users: int) -> np.ndarray:
    """``users`` positive counts summing to exactly ``lines`` (geometric-like spread)."""
    mean = lines / users
    counts = rng.geometric(min(1.0, 1.0 / mean), users)
    counts = np.maximum(1, np.round(counts * (lines / counts.sum()))).astype(np.int64)
    difference = lines - counts.sum()
    # spread the rounding difference over random users, never going below one event
    while difference != 0:
        pick = rng.integers(0, users, abs(int(difference)))
        if difference > 0:
            np.add.at(counts, pick, 1)
        else:
            pick = pick[counts[pick] > 1]
            np.subtract.at(counts, pick, 1)
            counts = np.maximum(counts, 1)
        difference = lines - counts.sum()
    return counts


def _join_columns(columns) -> str:
    """``columns`` (equal-length arrays) → CSV text, one line per row, ending in a newline."""
    text = [np.asarray(c).astype(str) for c in columns]
    joined = text[0].astype(object)
    for column in text[1:]:
        joined = joined + "," + column.astype(object)
    return "\n".join(joined.tolist()) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="output CSV file")
    parser.add_argument("--lines", type=int, required=True, help="number of lines to write")
    parser.add_argument("--users", type=int, default=None, help="default: lines // 101")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    info = write_taobao_like(args.path, args.lines, users=args.users, seed=args.seed)
    print(
        f"wrote {info['lines']:,} lines for {info['users']:,} users to {info['path']} "
        f"({info['bytes'] / 1e9:.2f} GB) in {info['seconds']} s"
    )


if __name__ == "__main__":
    main()
