"""Partitions: game dates (daily, US Eastern), training weeks, and the dynamic model families."""

from __future__ import annotations

import datetime as dt

from dagster import (
    DailyPartitionsDefinition,
    DynamicPartitionsDefinition,
    MultiPartitionsDefinition,
    WeeklyPartitionsDefinition,
)

from bestbets_dagster.settings import GAME_TIMEZONE, partition_start
from bestbets_dagster.timeutil import monday_of, today_eastern

MODEL_FAMILY_PARTITIONS_NAME = "model_family"


def _first_training_week() -> str:
    """The Monday of the first game date's week: a replay from the data's first week trains (or
    records why it cannot) for that week too."""
    return monday_of(dt.date.fromisoformat(partition_start())).isoformat()


# end_offset=1 makes today's (Eastern) slate a partition before the day is over.
game_date_partitions = DailyPartitionsDefinition(start_date=partition_start(), timezone=GAME_TIMEZONE, end_offset=1)

# A training week's key is its Monday W, the model's cutoff: it trains on games before W-7, is
# evaluated on [W-7, W) and may serve from W on. end_offset=1 makes the current week trainable.
training_week_partitions = WeeklyPartitionsDefinition(
    start_date=_first_training_week(), day_offset=1, timezone=GAME_TIMEZONE, end_offset=1
)

model_family_partitions = DynamicPartitionsDefinition(name=MODEL_FAMILY_PARTITIONS_NAME)

game_date_x_family_partitions = MultiPartitionsDefinition(
    {"game_date": game_date_partitions, "model_family": model_family_partitions}
)

training_week_x_family_partitions = MultiPartitionsDefinition(
    {"training_week": training_week_partitions, "model_family": model_family_partitions}
)


def check_game_dates(start: dt.date, end: dt.date) -> None:
    """Refuse a range outside the game-date partitions: before the first, or after today's slate."""
    first, last = dt.date.fromisoformat(partition_start()), today_eastern() + dt.timedelta(days=1)
    if start > end:
        raise SystemExit(f"--start {start} is after --end {end}")
    if end > last:
        raise SystemExit(
            f"{end} is after the last game-date partition, {last} (today's slate): "
            "a date in the future has no partition yet"
        )
    if start < first:
        raise SystemExit(f"{start} is before the first game-date partition, {first} (BESTBETS_PARTITION_START)")


# One partition per experiment name (`bestbets experiment --name N` adds it): each experiment's
# materialization, run and figures sit under its own key in the UI.
EXPERIMENT_PARTITIONS_NAME = "experiment"
experiment_partitions = DynamicPartitionsDefinition(name=EXPERIMENT_PARTITIONS_NAME)
