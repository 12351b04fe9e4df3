import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bestbets_dagster import settings
from bestbets_dagster.partitions import game_date_partitions, training_week_partitions
from bestbets_dagster.timeutil import eastern_game_date, eastern_game_dates, today_eastern


def test_the_partitions_start_at_the_setting_not_at_the_data():
    # The default is a fixed season start: the definitions read no data file to know it.
    expected = os.environ.get("BESTBETS_PARTITION_START") or settings.DEFAULT_PARTITION_START
    assert game_date_partitions.get_first_partition_key() == expected
    assert "2025-10-21" in game_date_partitions.get_partition_keys()
    # The training weeks start on that date's Monday.
    first = dt.date.fromisoformat(expected)
    assert training_week_partitions.get_first_partition_key() == str(first - dt.timedelta(days=first.weekday()))


def test_a_partition_start_that_is_not_a_date_is_refused_naming_the_setting(monkeypatch):
    monkeypatch.setenv("BESTBETS_PARTITION_START", "2025-13-01")
    with pytest.raises(ValueError, match=r"BESTBETS_PARTITION_START must be a date \(YYYY-MM-DD\), got '2025-13-01'"):
        settings.partition_start()


_OPENS_UNDER_DATA = """
import sys
from pathlib import Path
data = str(Path(sys.argv[1]).resolve())
opened = []
def record(event, args):
    if event == "open" and str(args[0]).startswith(data):
        opened.append(str(args[0]))
sys.addaudithook(record)
from bestbets_dagster.definitions import build_definitions
defs = build_definitions()
assert defs.resolve_asset_graph().get_all_asset_keys(), "no assets"
print("opened:", opened)
"""


@pytest.mark.xdist_group("dg")  # one `dg check defs` at a time
@pytest.mark.parametrize("data", ["empty", "truncated"])
def test_loading_the_definitions_opens_no_data_file(tmp_path, data):
    """Every command and the UI's code location load the definitions: with an empty data directory, and
    with a box-score file cut half-way, they load, and no file under the data directory is opened."""
    folder = tmp_path / "data"
    (folder / "box_scores").mkdir(parents=True)
    if data == "truncated":
        whole = (settings.data_dir() / "box_scores" / "player_game_logs_2025-26.csv.gz").read_bytes()
        (folder / "box_scores" / "player_game_logs_2025-26.csv.gz").write_bytes(whole[: len(whole) // 2])
    env = {k: v for k, v in os.environ.items() if k != "BESTBETS_PARTITION_START"}
    env |= {"BESTBETS_DATA_DIR": str(folder), "BESTBETS_HOME": str(tmp_path / "home")}
    env["DAGSTER_HOME"] = str(tmp_path / "home" / "dagster")
    env["VIRTUAL_ENV"] = str(Path(sys.executable).parent.parent)  # dg runs in this interpreter's venv
    loaded = subprocess.run(
        [sys.executable, "-c", _OPENS_UNDER_DATA, str(folder)],
        env=env,
        cwd=settings.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert "opened: []" in loaded.stdout
    # Dagster's own check of the code location, as the issue asks it (`dg check defs`).
    checked = subprocess.run(
        [str(Path(sys.executable).parent / "dg"), "check", "defs"],
        env=env,
        cwd=settings.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout[-1000:] + checked.stderr[-2000:]
    assert "All definitions loaded successfully." in checked.stdout + checked.stderr


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
