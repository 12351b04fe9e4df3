"""The ingestion assets run through Dagster on the real data."""

import shutil
import sys

import pandas as pd
import pytest
from dagster import DagsterInstance, materialize

from bestbets_dagster import settings
from bestbets_dagster.defs import ingest_assets
from bestbets_dagster.defs.partition_range import range_tags
from bestbets_dagster.ingest.errors import IngestError
from bestbets_dagster.resources import DuckDBWarehouse, NbaDataSource
from bestbets_dagster_tests.conftest import DATA_FIRST_GAME_DATE, raw_counts, run_cli, run_in_project, subprocess_env

# Tests that share the session's warehouse fixtures run on one xdist worker.
pytestmark = pytest.mark.xdist_group("warehouse")

TABLES = ["player_game_logs", "team_game_logs", "prop_lines", "player_game_lines"]


def _run(warehouse, data_dir, start, end, assets=ingest_assets, instance=None):
    return materialize(
        assets,
        instance=instance or DagsterInstance.ephemeral(),
        resources={"warehouse": warehouse, "nba_data": NbaDataSource(data_dir=str(data_dir))},
        tags=range_tags(start, end),
    )


def _metadata(result, asset):
    events = result.asset_materializations_for_node(asset)
    assert events, asset
    return {k: v.value for k, v in events[0].metadata.items()}


def test_match_rate_is_at_least_99_percent_and_shown_as_metadata(ingested, data_dir):
    warehouse, result = ingested
    meta = _metadata(result, "player_game_lines")
    raw = raw_counts(data_dir)  # both line windows, pre-game lines only
    lined = raw["lined_player_games"]
    assert meta["lined_player_games"] == lined
    assert meta["lined_player_games_with_box_score"] == raw["lined_player_games_with_box_score"] < lined
    assert meta["match_rate"] >= 0.99
    assert meta["matched_player_games"] >= 0.99 * raw["lined_player_games_with_box_score"]
    # The baseline: a plain string join on the game's box-score names, recounted here; the matcher beats it.
    offered = warehouse.read("prop_lines")
    offered = offered[offered["game_id"].notna()].drop_duplicates(["event_id", "book_player_name"])
    box = warehouse.read("player_game_logs", columns=["game_id", "player_name"])
    names = set(zip(box["game_id"], box["player_name"]))
    plain = sum((g, n) in names for g, n in zip(offered["game_id"], offered["book_player_name"])) / len(offered)
    assert meta["plain_name_join_rate"] == round(plain, 4) < meta["match_rate"]
    assert _metadata(result, "prop_lines")["match_rate"] == meta["match_rate"]
    lines = warehouse.read("player_game_lines")
    assert len(lines) == lined
    resolved = lines["match_status"] == "resolved"
    # resolved lines of games without a box score (a Cup final) are not "matched": nothing to match against
    assert resolved.sum() >= meta["matched_player_games"] and lines.loc[resolved, "person_id"].notna().all()


def test_one_run_materializes_every_partition_of_the_range(ingested):
    _, result = ingested
    partitions = {
        e.partition
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "player_game_logs"
    }
    assert len(partitions) == (pd.Timestamp("2026-02-09") - pd.Timestamp(DATA_FIRST_GAME_DATE)).days + 1
    assert len(result.get_step_success_events()) == 5  # one step per asset, not one per date


def test_selected_line_follows_the_book_cascade(ingested, data_dir):
    warehouse, _ = ingested
    lines = warehouse.read("player_game_lines", "2025-10-21", "2025-10-21")
    luka = lines[lines["player_name"] == "Luka Dončić"].iloc[0]
    raw = pd.read_csv(data_dir / "odds_api_snapshots" / "raw_20251021_170000.csv.gz")
    raw = raw[(raw["market"] == "player_points") & (raw["player"] == "Luka Doncic")]
    dk = raw[raw["bookmaker"] == "draftkings"]
    assert len(dk) == 1
    assert (luka["selected_book"], luka["selected_line"]) == ("draftkings", dk["line"].item())
    assert luka["n_books"] == raw["bookmaker"].nunique()
    assert luka["game_id"] == "0022500002" and luka["opponent_abbr"] == "GSW" and luka["is_home"]
    assert luka["opening_line"] == luka["selected_line"]  # one snapshot per game in this data


def test_rematerializing_a_partition_gives_identical_rows(ingested, data_dir):
    warehouse, _ = ingested
    before = {t: warehouse.read(t, "2025-11-15", "2025-11-15") for t in TABLES}
    assert len(before["prop_lines"]) == 434
    assert _run(warehouse, data_dir, "2025-11-15", "2025-11-15").success
    for t in TABLES:
        pd.testing.assert_frame_equal(warehouse.read(t, "2025-11-15", "2025-11-15"), before[t], obj=t)


def test_a_malformed_file_fails_the_run_and_writes_nothing(ingested, data_dir, tmp_path):
    warehouse, _ = ingested
    broken = tmp_path / "nba"
    shutil.copytree(data_dir, broken)
    bad = pd.read_csv(data_dir / "odds_api_snapshots" / "raw_20251115_170000.csv.gz", dtype=str)
    row = bad.index[bad["market"] == "player_points"][3]
    bad.loc[row, "line"] = "twenty"
    bad.to_csv(broken / "odds_api_snapshots" / "raw_20251115_170000.csv.gz", index=False)
    before = warehouse.read("prop_lines", "2025-11-15", "2025-11-15")
    with pytest.raises(IngestError, match=rf"raw_20251115_170000.csv.gz, line {row + 2}: column line is not a number"):
        _run(
            warehouse,
            broken,
            "2025-11-15",
            "2025-11-15",
            assets=[a for a in ingest_assets if a.key.path[-1] == "prop_lines"],
        )
    pd.testing.assert_frame_equal(warehouse.read("prop_lines", "2025-11-15", "2025-11-15"), before)


def test_a_day_without_games_materializes_empty(ingested, data_dir):
    warehouse, _ = ingested
    assert _run(warehouse, data_dir, "2025-08-01", "2025-08-01").success
    assert all(warehouse.read(t, "2025-08-01", "2025-08-01").empty for t in TABLES)


@pytest.mark.slow
def test_dagster_cli_materializes_a_partition_range_in_one_run(tmp_path):
    home = tmp_path / "home"
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    result = run_in_project(
        [
            sys.executable,
            "-m",
            "dagster",
            "asset",
            "materialize",
            "-m",
            "bestbets_dagster.definitions",
            "--select",
            "player_game_logs,team_game_logs,prop_lines",
            "--partition-range",
            "2024-10-22...2025-12-06",
        ],
        subprocess_env(home),
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    warehouse = DuckDBWarehouse(path=str(home / "warehouse.duckdb"))
    box = pd.concat(
        pd.read_csv(p, usecols=["game_date"]) for p in sorted((settings.data_dir() / "box_scores").glob("*.csv.gz"))
    )
    teams = pd.concat(
        pd.read_csv(p, usecols=["game_date"]) for p in sorted((settings.data_dir() / "team_game_logs").glob("*.csv.gz"))
    )
    assert len(warehouse.read("player_game_logs", columns=["game_date"])) == (box["game_date"] <= "2025-12-06").sum()
    assert len(warehouse.read("team_game_logs", columns=["game_date"])) == (teams["game_date"] <= "2025-12-06").sum()
    assert (
        len(warehouse.read("prop_lines", columns=["game_date"]))
        == raw_counts(settings.data_dir(), "2024-10-22", "2025-12-06")["prop_lines"]
    )
    assert "RUN_SUCCESS" in result.stderr + result.stdout


def test_bestbets_build_prints_counts_and_the_match_rate(tmp_path):
    home = tmp_path / "home"
    # Last season's box scores first: the identity fallback for players with no appearance yet.
    run_cli(home, "build", "--start", "2025-04-01", "--end", "2025-04-13").check_returncode()
    result = run_cli(home, "build", "--start", "2025-10-21", "--end", "2025-10-23")
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "Materialized 2025-10-21..2025-10-23" in out
    assert "player_game_lines" in out and "match rate" in out
    # Rosters are the season so far (three days), then last April's: every lined player resolves.
    assert "lined player-games 231, in games with box scores 231, resolved 231: match rate 100.00%" in out, out
