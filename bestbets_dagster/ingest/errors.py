"""Errors raised on bad input: each names the file and, where it can, the row or event."""

from __future__ import annotations

from pathlib import Path


class IngestError(ValueError):
    def __init__(self, path: Path | str, problem: str, where: str | None = None):
        self.path = str(path)
        self.where = where
        location = f"{self.path}, {where}" if where else self.path
        super().__init__(f"{location}: {problem}")
