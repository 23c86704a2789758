"""Loader benchmark: the Taobao loader next to ``pandas.read_csv`` on the same file.

``python -m helpers.benchmark --task loaders`` (or ``python -m helpers.loader_benchmark``)
writes Taobao-shaped files (:mod:`helpers.synthetic_logs`) at two densities — the real
file's ~100 events per user, and ~5 events per user (many users, the hard case for
per-user work) — and measures, each in a fresh process so peak memory is its own:

* ``pandas.read_csv`` of the file with explicit dtypes (the C parser's speed: the floor);
* :func:`helpers.loaders.load_taobao_user_behavior` with its defaults (validation, time
  cutoff, last 50 events per user, popularity-ranked ids, features).

Printed per file: seconds, lines per second, peak resident memory (VmHWM), and the
loader's time as a multiple of ``read_csv``'s, in wall-clock and in CPU seconds (the
process's own; steadier when the machine is busy). ``--file PATH`` measures an existing file instead
(e.g. the real ``UserBehavior.csv``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

# (lines, users): the two shapes of a 5,000,000-line file
DEFAULT_FILES = ((5_000_000, 50_000), (5_000_000, 976_000))

_MEASURE = r"""
import json, resource, sys, time
path, what = sys.argv[1], sys.argv[2]
start = time.perf_counter()
if what == "read_csv":
    import pandas as pd
    frame = pd.read_csv(
        path, header=None,
        names=["user_id", "item_id", "category_id", "behavior_type", "timestamp"],
        dtype={"user_id": "int64", "item_id": "int64", "category_id": "int64",
               "behavior_type": "category", "timestamp": "int64"},
    )
    rows = len(frame)
else:
    from helpers.loaders import load_taobao_user_behavior
    rows = len(load_taobao_user_behavior(path))
seconds = time.perf_counter() - start
# VmHWM: this process's own peak. ru_maxrss would also count the parent's memory at
# fork time (Linux keeps it across exec), i.e. the file generator's.
try:
    with open("/proc/self/status") as status:
        peak = next(int(l.split()[1]) for l in status if l.startswith("VmHWM")) * 1024
except OSError:  # not Linux
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
usage = resource.getrusage(resource.RUSAGE_SELF)  # CPU: steadier than wall time on a busy machine
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_bytes": peak, "rows": rows}))
"""


def measure(path, what: str) -> dict:
    """Run one reader on ``path`` in a fresh Python process; seconds and peak memory."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), what],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} on {path} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(files, quiet=False) -> list[dict]:
    """Measure every ``(path, lines, users)``; one dict per file."""
    results = []
    for path, lines, users in files:
        pandas = measure(path, "read_csv")
        loader = measure(path, "loader")
        row = {
            "file": Path(path).name,
            "lines": lines,
            "users": users,
            "bytes": Path(path).stat().st_size,
            "read_csv_seconds": round(pandas["seconds"], 2),
            "read_csv_peak_gb": round(pandas["peak_bytes"] / 1e9, 2),
            "loader_seconds": round(loader["seconds"], 2),
            "loader_peak_gb": round(loader["peak_bytes"] / 1e9, 2),
            "loader_lines_per_second": round(lines / loader["seconds"]),
            "loader_over_read_csv": round(loader["seconds"] / pandas["seconds"], 2),
            "read_csv_cpu_seconds": round(pandas["cpu_seconds"], 2),
            "loader_cpu_seconds": round(loader["cpu_seconds"], 2),
            "loader_over_read_csv_cpu": round(loader["cpu_seconds"] / pandas["cpu_seconds"], 2),
            "sequences": loader["rows"],
        }
        results.append(row)
        if not quiet:
            print(
                f"{row['file']}: read_csv {row['read_csv_seconds']} s, loader "
                f"{row['loader_seconds']} s ({row['loader_over_read_csv']}x)",
                file=sys.stderr,
            )
    return results


def count_lines(path) -> int:
    with open(path, "rb") as stream:
        return sum(block.count(b"\n") for block in iter(lambda: stream.read(1 << 24), b""))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument("--file", help="measure this Taobao-format file instead")
    parser.add_argument("--lines", type=int, help="generate one file with this many lines")
    parser.add_argument("--users", type=int, help="users in the generated file")
    parser.add_argument("--keep", help="folder to keep the generated files in")
    args = parser.parse_args(argv)

    from helpers.synthetic_logs import write_taobao_like

    folder = Path(args.keep or tempfile.mkdtemp(prefix="loader-benchmark-"))
    folder.mkdir(parents=True, exist_ok=True)
    if args.file:
        files = [(args.file, count_lines(args.file), None)]
    else:
        shapes = DEFAULT_FILES if args.lines is None else ((args.lines, args.users),)
        files = []
        for lines, users in shapes:
            path = folder / f"taobao_{lines}_lines_{users or 'default'}_users.csv"
            if not path.exists():
                info = write_taobao_like(path, lines, users=users)
                users = info["users"]
            files.append((path, lines, users))
    try:
        results = run(files, quiet=args.json)
    finally:
        if not args.keep and not args.file:
            for path, *_ in files:
                Path(path).unlink(missing_ok=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for row in results:
        print(
            f"{row['file']} ({row['lines']:,} lines, {row['users'] or '?'} users, "
            f"{row['bytes'] / 1e9:.2f} GB)\n"
            f"  pandas.read_csv  {row['read_csv_seconds']:7.2f} s  "
            f"peak {row['read_csv_peak_gb']:.2f} GB\n"
            f"  loader           {row['loader_seconds']:7.2f} s  "
            f"peak {row['loader_peak_gb']:.2f} GB  "
            f"{row['loader_lines_per_second']:,} lines/s  = "
            f"{row['loader_over_read_csv']}x read_csv\n"
            f"  CPU seconds      read_csv {row['read_csv_cpu_seconds']}, loader "
            f"{row['loader_cpu_seconds']} = {row['loader_over_read_csv_cpu']}x"
        )
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, "
          f"Python {platform.python_version()}")


if __name__ == "__main__":
    main()
