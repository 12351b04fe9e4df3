"""Helpers the assets share to turn a run's partitions into dates."""

import datetime as dt

import pandas as pd
from dagster import (
    AssetDep,
    AssetExecutionContext,
    MetadataValue,
    MultiToSingleDimensionPartitionMapping,
    TimeWindowPartitionMapping,
)

from bestbets_dagster.bestbets.pipeline import HISTORY_LOOKBACK_DAYS

__all__ = [
    "ASSET_PARTITION_RANGE_END_TAG",
    "ASSET_PARTITION_RANGE_START_TAG",
    "GAME_DATE_OF",
    "days_between",
    "days_before",
    "history_deps",
    "partition_dates",
    "range_tags",
]

# The tags of a run that materializes a partition range (what the UI's single-run backfill sets; the
# documented `dagster job execute --tags` form). Dagster exports no public name for them.
ASSET_PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
ASSET_PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"

# A daily asset and the (game_date, model_family) partitions of the same date.
GAME_DATE_OF = MultiToSingleDimensionPartitionMapping(partition_dimension_name="game_date")


def days_before(first: int, last: int = -1) -> TimeWindowPartitionMapping:
    """A daily partition D reads the daily partitions [D - first, D + last] (last -1: up to D - 1;
    0: D itself). Days before the first partition simply do not exist."""
    return TimeWindowPartitionMapping(start_offset=-first, end_offset=last, allow_nonexistent_upstream_partitions=True)


def history_deps(*assets: str, through_the_day: bool) -> list[AssetDep]:
    """Dependencies of a daily partition D on the look-back history of each asset (HISTORY_LOOKBACK_DAYS):
    up to D itself (through_the_day) or up to D - 1."""
    mapping = days_before(HISTORY_LOOKBACK_DAYS, 0 if through_the_day else -1)
    return [AssetDep(name, partition_mapping=mapping) for name in assets]


def partition_dates(context: AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """First and last game date of the run: one date, or a whole range in a single-run backfill."""
    key_range = context.partition_key_range
    return dt.date.fromisoformat(key_range.start), dt.date.fromisoformat(key_range.end)


def range_tags(start: dt.date | str, end: dt.date | str) -> dict[str, str]:
    """Run tags that make one run materialize a partition range (what a single-run backfill sets)."""
    return {ASSET_PARTITION_RANGE_START_TAG: str(start), ASSET_PARTITION_RANGE_END_TAG: str(end)}


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every date of [start, end]."""
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def markdown_table(frame) -> str:
    """A small frame as a Markdown table for metadata (dates as YYYY-MM-DD)."""
    if frame.empty:
        return "no rows"
    cells = frame.astype(object).map(lambda v: f"{v:%Y-%m-%d}" if hasattr(v, "strftime") else str(v))
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(row) + " |" for row in cells.itertuples(index=False)]
    return "\n".join(lines)


def range_metadata(context: AssetExecutionContext, written: int, rows, date_column: str = "game_date") -> dict:
    """Row counts that are true for the partitions they are shown on. A run of one partition reports
    `dagster/row_count`; a ranged run gives every partition the same metadata (Dagster attaches one
    set per step), so it reports the run's total as `range_row_count`, labelled with the range, and
    the rows of each day in a table instead."""
    keys = context.partition_keys
    if len(keys) == 1:
        return {"dagster/row_count": written}
    per_day = (
        rows.groupby(rows[date_column].astype(str).str[:10]).size().rename_axis("date").reset_index(name="rows")
        if written
        else pd.DataFrame()
    )
    return {
        "range": f"{min(keys)}..{max(keys)} ({len(keys)} partitions)",
        "range_row_count": written,
        "rows_per_day": MetadataValue.md(markdown_table(per_day)),
    }
