"""Helpers the assets share to turn a run's partitions into dates."""


import datetime as dt

from dagster import AssetExecutionContext, MultiToSingleDimensionPartitionMapping
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

__all__ = ["ASSET_PARTITION_RANGE_END_TAG", "ASSET_PARTITION_RANGE_START_TAG", "GAME_DATE_OF", "days_between",
           "partition_dates", "range_tags"]

# A daily asset and the (game_date, model_family) partitions of the same date.
GAME_DATE_OF = MultiToSingleDimensionPartitionMapping(partition_dimension_name="game_date")


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
