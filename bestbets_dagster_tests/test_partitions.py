import datetime as dt

import pandas as pd
import pytest

from bestbets_dagster import settings
from bestbets_dagster.partitions import game_date_partitions, training_week_partitions
from bestbets_dagster.timeutil import eastern_game_date, eastern_game_dates, today_eastern


def test_the_partitions_start_where_the_data_does():
    keys = game_date_partitions.get_partition_keys()
    assert "2025-10-21" in keys
    box_scores = sorted((settings.data_dir() / "box_scores").glob("*.csv.gz"))
    first = min(pd.read_csv(path, usecols=["game_date"])["game_date"].min() for path in box_scores)
    assert keys[0] == first
    # The training weeks start on that date's Monday.
    monday = dt.date.fromisoformat(first) - dt.timedelta(days=dt.date.fromisoformat(first).weekday())
    assert training_week_partitions.get_first_partition_key() == str(monday)


def test_todays_eastern_slate_is_the_last_partition():
    assert game_date_partitions.get_last_partition_key() == today_eastern().isoformat()


@pytest.mark.parametrize(
    "utc, eastern",
    [
        ("2025-10-22T02:00:00Z", "2025-10-21"),  # 22:00 EDT the evening before
        ("2025-10-22T03:59:59Z", "2025-10-21"),
        ("2025-10-22T04:00:00Z", "2025-10-22"),  # midnight EDT
        ("2025-12-02T04:30:00Z", "2025-12-01"),  # 23:30 EST (UTC-5 in winter)
        ("2025-12-02T05:00:00Z", "2025-12-02"),
        ("2025-10-21T23:35:00Z", "2025-10-21"),
    ],
)
def test_utc_tipoff_maps_to_the_eastern_game_date(utc, eastern):
    assert eastern_game_date(utc) == dt.date.fromisoformat(eastern)


def test_vectorized_eastern_dates_agree_with_scalar():
    import pandas as pd

    stamps = pd.Series(["2025-10-22T02:00:00Z", "2025-12-02T04:30:00Z", "2025-10-21T23:35:00Z"])
    assert list(eastern_game_dates(stamps)) == [eastern_game_date(s) for s in stamps]


def test_training_weeks_start_on_mondays():
    keys = training_week_partitions.get_partition_keys()
    assert all(dt.date.fromisoformat(k).weekday() == 0 for k in keys[:10] + keys[-3:])
    assert "2025-10-27" in keys


def test_the_range_tags_are_dagsters_own():
    """The two tag names are written here (Dagster exports them only from a private module): a Dagster
    upgrade that renamed them fails here, not in a backfill."""
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG as END_TAG
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_START_TAG as START_TAG

    from bestbets_dagster.defs.partition_range import range_tags

    assert range_tags("2025-11-01", "2025-11-03") == {START_TAG: "2025-11-01", END_TAG: "2025-11-03"}
