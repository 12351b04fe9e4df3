"""Are two homes' outputs the same? Every warehouse table (rows sorted, column by column), every report
and every exported file, compared between two BESTBETS_HOMEs built from the same data and window (for
example a replay before and after a refactor).

    python bench/compare_homes.py HOME_BEFORE HOME_AFTER

Columns and JSON keys that record when something ran (created_at, graded_at, ...) and the file's own
paths differ between any two runs; they are listed apart, not counted as a difference. Exit 1 when any
other value differs."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import duckdb
import pandas as pd

# Wall-clock stamps of a run and names of its home: never equal between two runs.
# The code's own commit, and a file's hash in its side file (the file itself is compared), likewise.
RUN_STAMP = re.compile(
    r"(_at|_time_s|wall_time.*|_utc|run_id|timestamp|elapsed.*|_seconds|path|file|files|html|json|timing|_uri"
    r"|git_commit|sha256)$"
)


def _tables(home: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()]
        return {name: con.execute(f'select * from "{name}"').df() for name in sorted(names)}


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in df.columns if not RUN_STAMP.search(c)]
    return df.astype(str).sort_values(keys).reset_index(drop=True) if keys else df.astype(str)


def compare_tables(before: Path, after: Path) -> list[str]:
    differences = []
    a, b = _tables(before), _tables(after)
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            differences.append(f"table {name}: only in {'after' if name in b else 'before'}")
            continue
        x, y = _sorted(a[name]), _sorted(b[name])
        if list(x.columns) != list(y.columns) or len(x) != len(y):
            differences.append(f"table {name}: {len(x)} rows {list(x.columns)} vs {len(y)} rows {list(y.columns)}")
            continue
        for column in x.columns:
            unequal = (x[column] != y[column]).sum()
            if unequal and not RUN_STAMP.search(column):
                differences.append(f"table {name}.{column}: {unequal} of {len(x)} rows differ")
        print(f"table {name}: {len(x)} rows compared")
    return differences


def _without_stamps(value):
    if isinstance(value, dict):
        return {k: _without_stamps(v) for k, v in value.items() if not RUN_STAMP.search(str(k))}
    if isinstance(value, list):
        return [_without_stamps(v) for v in value]
    return value


def compare_files(before: Path, after: Path) -> list[str]:
    differences = []
    for folder in ("reports", "artifacts/signal-best-bets", "artifacts/registry", "artifacts/models"):
        names = {p.relative_to(before / folder) for p in (before / folder).rglob("*") if p.is_file()}
        names |= {p.relative_to(after / folder) for p in (after / folder).rglob("*") if p.is_file()}
        for name in sorted(names):
            x, y = before / folder / name, after / folder / name
            if not x.exists() or not y.exists():
                differences.append(f"{folder}/{name}: only in {'after' if y.exists() else 'before'}")
            elif x.suffix == ".json":
                a, b = (_without_stamps(json.loads(p.read_text())) for p in (x, y))
                if name.name.endswith(".meta.json"):  # the file's hash and size: the file itself is compared
                    a, b = ({k: v for k, v in d.items() if k != "size"} for d in (a, b))
                if a != b:
                    differences.append(f"{folder}/{name}: JSON differs")
            elif x.suffix == ".html":
                strip = re.compile(r"\d+(\.\d+)? s\b|/[\w./-]+\.(html|json)|\d{4}-\d\d-\d\dT[\d:.+]+")
                a, b = (strip.sub("", p.read_text()).split("><") for p in (x, y))
                unequal = [(u, v) for u, v in zip(a, b, strict=False) if u != v] + [("", "")] * abs(len(a) - len(b))
                if unequal:
                    first = " / ".join(text[:80] for text in unequal[0])
                    differences.append(f"{folder}/{name}: HTML differs in {len(unequal)} elements, first: {first}")
            elif hashlib.sha256(x.read_bytes()).digest() != hashlib.sha256(y.read_bytes()).digest():
                differences.append(f"{folder}/{name}: bytes differ")
        print(f"{folder}: {len(names)} files compared")
    return differences


def main() -> None:
    before, after = Path(sys.argv[1]), Path(sys.argv[2])
    differences = compare_tables(before, after) + compare_files(before, after)
    print("\n".join(differences) or "no difference")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
