"""Errors raised on bad input: each names the file and, where it can, the row or event."""

from __future__ import annotations

from pathlib import Path


class IngestError(ValueError):
    def __init__(self, path: Path | str, problem: str, where: str | None = None):
        self.path = str(path)
        self.where = where
        location = f"{self.path}, {where}" if where else self.path
        super().__init__(f"{location}: {problem}")


def refuse_first(df, bad, path, describe) -> None:
    """Raise IngestError at the first row of `df` where the mask `bad` holds; describe(row) says what is
    wrong with it (the row's `_row` names its line)."""
    if bad.any():
        first = df.loc[bad].iloc[0]
        raise IngestError(path, describe(first), first["_row"])
