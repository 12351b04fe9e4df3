"""Where raw files come from: a directory laid out like ../shared/data/nba."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource


class NbaDataSource(ConfigurableResource):
    data_dir: str

    @property
    def path(self) -> Path:
        return Path(self.data_dir)
