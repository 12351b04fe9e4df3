"""Reading tabular source files (CSV, CSV.gz, parquet) with row-precise error messages."""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from bestbets_dagster.ingest.errors import IngestError, refuse_first

TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet")


def table_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and p.name.endswith(TABLE_SUFFIXES))


# What a truncated (EOFError: an interrupted download), corrupt or undecodable file raises when read.
UNREADABLE = (ValueError, OSError, EOFError, zlib.error, UnicodeDecodeError, pd.errors.ParserError)


def unreadable(path: Path | str, exc: Exception) -> IngestError:
    return IngestError(path, f"cannot be read as a table: {type(exc).__name__}: {exc or 'the file ends early'}")


def read_table_file(path: Path, required: Iterable[str]) -> pd.DataFrame:
    """All columns as text (so ids keep leading zeros), with a `_row` column naming the source row."""
    try:
        if path.name.endswith(".parquet"):
            df = pd.read_parquet(path)
            df = df.astype(object).where(df.notna(), None)
            df = df.map(lambda v: None if v is None else str(v))
            df["_row"] = [f"row {i}" for i in range(len(df))]
        else:
            data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
            df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""])
            _check_complete(path, data)  # after the parse: bytes that are no table say so first
            # Line 1 is the header, so data row i is on line i + 2.
            df["_row"] = [f"line {i + 2}" for i in range(len(df))]
    except IngestError:
        raise
    except UNREADABLE as exc:
        raise unreadable(path, exc) from exc
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise IngestError(path, f"missing required column(s) {missing}; found {list(df.columns[:-1])}")
    return df


# The strings spreadsheets and exports write for a missing value (pandas' default NA markers): never a
# player's name.
MISSING_MARKERS = frozenset(
    {"#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA"}
    | {"NULL", "NaN", "None", "n/a", "nan", "null", "none", "-", "?"}
)


def not_a_name(names: pd.Series) -> pd.Series:
    """Where a name is missing: empty, blank, or a missing-value marker ("N/A", "null", "None", ...)."""
    text = names.astype("string").str.strip()
    return text.isna() | (text == "") | text.isin(MISSING_MARKERS)


def _check_complete(path: Path, data: bytes) -> None:
    """A CSV cut short (a download or a copy interrupted mid-row) is refused: its last line has no newline
    at its end, or fewer fields than the header. Pandas would read the cut row with the fields it has
    (23 points read as 2)."""
    body = data.rstrip(b"\r\n")
    if not body.strip():
        return
    n_lines = body.count(b"\n") + 1
    if len(body) == len(data):
        raise IngestError(
            path, f"the file ends in the middle of line {n_lines} (no newline after it): it is incomplete"
        )
    if n_lines == 1:
        return
    first_line, last_line = body.split(b"\n", 1)[0], body.rsplit(b"\n", 1)[1]
    header, last = (next(csv.reader([line.decode("utf-8-sig").rstrip("\r")])) for line in (first_line, last_line))
    if len(last) < len(header):
        raise IngestError(
            path,
            f"line {n_lines}, the last, has {len(last)} fields where the header has {len(header)}: the file is "
            "incomplete",
        )


def parse_numbers(df: pd.DataFrame, column: str, path: Path, integer: bool = False, required: bool = True):
    raw = df[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = raw.notna() & values.isna()
    if required:
        bad |= raw.isna()
    refuse_first(df, bad, path, lambda row: f"column {column} is not a number: {row[column]!r}")
    infinite = values.notna() & ~np.isfinite(values.astype("float64"))
    refuse_first(df, infinite, path, lambda row: f"column {column} is not a finite number: {row[column]!r}")
    if integer:
        frac = values.notna() & (values != np.floor(values.fillna(0)))
        refuse_first(df, frac, path, lambda row: f"column {column} is not a whole number: {row[column]!r}")
    return values


_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


def parse_bools(df: pd.DataFrame, column: str, path: Path) -> pd.Series:
    text = df[column].astype(str).str.strip().str.lower()
    bad = ~text.isin(_TRUE | _FALSE)
    if bad.any():
        first = df.loc[bad].iloc[0]
        raise IngestError(path, f"column {column} is not true/false: {first[column]!r}", first["_row"])
    return text.isin(_TRUE)


def check_unique(df: pd.DataFrame, keys: list[str], path: Path, what: str) -> None:
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        rows = df.loc[dup]
        first = rows.iloc[0]
        others = ", ".join(rows["_row"].head(4))
        raise IngestError(path, f"duplicated {what} {dict((k, first[k]) for k in keys)} ({others})", first["_row"])
