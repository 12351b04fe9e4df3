"""The production backend (BigQuery + GCS) against the emulators the fixtures start in-process."""

import datetime as dt

import pandas as pd
import pytest
from dagster import DagsterInstance

from bestbets_dagster.resources.artifacts import ArtifactIntegrityError

DAY = pd.Timestamp("2025-11-19")


@pytest.fixture()
def gcp_env(gcp_emulators, monkeypatch):
    for key, value in gcp_emulators.items():
        monkeypatch.setenv(key, value)
    return gcp_emulators


def _warehouse(dataset: str):
    from bestbets_dagster.resources.bigquery import BigQueryWarehouse

    return BigQueryWarehouse(project="bestbets-test", dataset=dataset)


def _alerts(n: int, message: str = "turned COLD") -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "game_date": DAY,
                "alert_type": "signal_cold",
                "subject": f"signal_{i}",
                "severity": "WARN",
                "message": message,
                "created_at": pd.Timestamp("2025-11-20T12:00:00Z"),
            }
            for i in range(n)
        ]
    )


def test_a_partition_replace_leaves_one_copy_and_a_failed_load_leaves_the_old_rows(gcp_env, monkeypatch):
    from google.cloud import bigquery

    warehouse = _warehouse("replace_test")
    other_day = _alerts(1).assign(game_date=DAY + pd.Timedelta(days=1))
    warehouse.replace_partitions("monitoring_alerts", other_day, DAY.date() + dt.timedelta(days=1))
    for _ in range(3):
        assert warehouse.replace_partitions("monitoring_alerts", _alerts(3), DAY.date()) == 3
    stored = warehouse.read("monitoring_alerts", DAY.date(), DAY.date() + dt.timedelta(days=1))
    assert len(stored) == 4 and stored["subject"].tolist() == ["signal_0", "signal_1", "signal_2", "signal_0"]

    def broken_load(self, *args, **kwargs):
        raise RuntimeError("load failed half way")

    monkeypatch.setattr(bigquery.Client, "load_table_from_dataframe", broken_load)
    with pytest.raises(RuntimeError, match="load failed half way"):
        warehouse.replace_partitions("monitoring_alerts", _alerts(5, "new"), DAY.date())
    monkeypatch.undo()
    for key, value in gcp_env.items():
        monkeypatch.setenv(key, value)
    after = warehouse.read("monitoring_alerts", DAY.date(), DAY.date())
    assert len(after) == 3 and set(after["message"]) == {"turned COLD"}
    # The staging tables are gone after success and after failure.
    with warehouse._client() as client:
        names = [t.table_id for t in client.list_tables("bestbets-test.replace_test")]
    assert names == ["monitoring_alerts"]


def test_numeric_values_are_rounded_at_the_schema_s_scale_and_types_round_trip(gcp_env):
    warehouse = _warehouse("types_test")
    tags = pd.DataFrame(
        [
            {
                "game_date": DAY,
                "person_id": 1629029,
                "player_lookup": "lukadoncic",
                "player_name": "Luka Doncic",
                "team_abbr": "LAL",
                "opponent_abbr": "UTA",
                "game_id": "0022500253",
                "is_home": True,
                "source_model_id": "m",
                "source_model_family": "v9_mae",
                "source_model_status": "shadow",
                "predicted_points": 5.600000000000001,
                "line_value": 40.5,
                "line_book": "draftkings",
                "line_over_price": -110,
                "line_under_price": None,
                "bet_book": "draftkings",
                "bet_line": 40.5,
                "bet_price": -110,
                "bet_price_is_nominal": False,
                "calibration_n": 0,
                "edge": -34.9,
                "recommendation": "UNDER",
                "confidence": 0.8700000001,
                "feature_quality_score": 69.0,
                "available_quality_score": 95.5,
                "n_models_eligible": 2,
                "champion_edge": None,
                "direction_conflict": False,
                "model_agreement_count": 2,
                "agreeing_model_ids": ["m", "n"],
                "feature_set_diversity": 1,
                "consensus_bonus": 0.0,
                "quantile_consensus_under": False,
                "model_health_status": "unknown",
                "model_health_hr_7d": None,
                "signal_tags": ["model_health", "high_edge"],
                "signal_count": 2,
                "signal_strengths": '{"high_edge": 1.0}',
                "prototype_signal_tags": [],
                "matched_combo_id": "high_edge",
                "combo_classification": "ANTI_PATTERN",
                "combo_hit_rate": 43.8,
                "games_played_season": 12,
                "minutes_last_3": 35.5,
                "minutes_season": 34.0,
                "points_std_last_5": 7.1,
                "usage_season": 33.2,
                "rest_days": 2,
                "opponent_rest_days": None,
                "games_vs_opponent": 1,
                "line_delta": None,
                "negative_plus_minus_streak": 0,
                "multi_book_line_std": 0.5,
                "n_books": 8,
                "algorithm_version": "a",
                "evaluated_at": pd.Timestamp("2025-11-19T17:00:00Z"),
            }
        ]
    )
    warehouse.replace_partitions("pick_signal_tags", tags, DAY.date())
    back = warehouse.read("pick_signal_tags", DAY.date(), DAY.date()).iloc[0]
    assert back["predicted_points"] == 5.6 and back["confidence"] == 0.87 and back["edge"] == -34.9
    assert back["agreeing_model_ids"] == ["m", "n"] and back["prototype_signal_tags"] == []
    assert back["game_date"] == DAY and pd.isna(back["line_under_price"]) and back["line_over_price"] == -110
    assert bool(back["is_home"]) and back["signal_strengths"] == '{"high_edge": 1.0}'
    # The same query text runs on both engines.
    rows = warehouse.query(
        "SELECT player_lookup, ARRAY_LENGTH(signal_tags) AS n FROM {pick_signal_tags} "
        "WHERE game_date = @day AND person_id IN UNNEST(@ids)",
        {"day": DAY.date(), "ids": [1629029]},
    )
    assert rows.to_dict("records") == [{"player_lookup": "lukadoncic", "n": 2}]


def test_gcs_store_keeps_sha256_and_headers(gcp_env):
    from bestbets_dagster.resources.gcs import GCSArtifactStore

    store = GCSArtifactStore(bucket="bestbets-test", project="bestbets-test")
    ref = store.put(
        "signal-best-bets/2025-11-19.json",
        b'{"picks": []}',
        content_type="application/json",
        cache_control="public, max-age=300",
    )
    assert ref.uri == "gs://bestbets-test/signal-best-bets/2025-11-19.json"
    assert store.get("signal-best-bets/2025-11-19.json") == b'{"picks": []}'
    meta = store.metadata("signal-best-bets/2025-11-19.json")
    assert meta["cache_control"] == "public, max-age=300" and meta["content_type"] == "application/json"
    assert meta["sha256"] == ref.sha256 and store.exists("signal-best-bets/2025-11-19.json")
    assert not store.exists("models/v9_mae/none.cbm")
    # Bytes changed behind the store's back (the recorded sha256 kept) fail the check on read.
    blob = store._client().bucket("bestbets-test").blob("signal-best-bets/2025-11-19.json")
    blob.metadata = {"sha256": ref.sha256}
    blob.upload_from_string(b"tampered")
    with pytest.raises(ArtifactIntegrityError):
        store.get("signal-best-bets/2025-11-19.json")
    with pytest.raises(ValueError):
        store.put("../escape", b"x")


@pytest.mark.slow
def test_the_replay_on_bigquery_and_gcs_gives_the_duckdb_picks(gcp_env, tmp_path, data_dir, monkeypatch):
    """One week of the 2025-26 season (its box scores and lines only), one family, through Dagster on
    each backend: the same picks, the same report."""
    from bestbets_dagster.replay import run_replay
    from bestbets_dagster.resources import DuckDBWarehouse
    from bestbets_dagster.resources.gcs import GCSArtifactStore

    subset = tmp_path / "data"
    for folder, name in (
        ("box_scores", "player_game_logs_2025-26.csv.gz"),
        ("team_game_logs", "team_game_logs_2025-26.csv.gz"),
    ):
        (subset / folder).mkdir(parents=True)
        (subset / folder / name).symlink_to(data_dir / folder / name)
    (subset / "odds_api_snapshots").symlink_to(data_dir / "odds_api_snapshots")
    start, end = dt.date(2025, 12, 1), dt.date(2025, 12, 6)
    families = ["v12_noveg_q43"]
    picks = {}
    for env in ("local", "gcp"):
        monkeypatch.setenv("BESTBETS_ENV", env)
        monkeypatch.setenv("BESTBETS_HOME", str(tmp_path / env))
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / env / "dagster"))
        monkeypatch.setenv("BESTBETS_DATA_DIR", str(subset))
        monkeypatch.setenv("BESTBETS_BQ_DATASET", "replay")
        # The original's edge rule: six days of one family give no calibration to pick by EV with.
        report = run_replay(start, end, families, instance=DagsterInstance.ephemeral(), selection="edge")
        # Picks to compare (equal empty tables would prove nothing).
        assert report["best_bets"]["n_picks"] > 0 and report["best_bets"]["selection"] == "edge"
        from bestbets_dagster.defs.resources import current_warehouse

        warehouse = current_warehouse()
        assert isinstance(warehouse, DuckDBWarehouse) == (env == "local")
        picks[env] = warehouse.read("signal_best_bets_picks", start, end).drop(columns="created_at")
        picks[f"{env}_report"] = {k: v for k, v in report.items() if k not in ("timing", "data_dir", "files")}
    pd.testing.assert_frame_equal(picks["gcp"], picks["local"], check_dtype=False)
    assert picks["gcp_report"] == picks["local_report"]
    store = GCSArtifactStore(bucket="bestbets-test", project="bestbets-test")
    for day in pd.date_range(start, end).date:
        assert store.exists(f"signal-best-bets/{day}.json")
    assert store.metadata("signal-best-bets/latest.json")["cache_control"] == "public, max-age=60"
    # The gcp run's models are in the bucket, each under the key its registry row names.
    registry = warehouse.read("model_registry")
    assert len(registry) and all(uri.startswith("gs://bestbets-test/") for uri in registry["artifact_uri"])
    assert all(store.exists(uri.removeprefix("gs://bestbets-test/")) for uri in registry["artifact_uri"])


def test_a_column_added_to_a_definition_is_added_to_the_bigquery_table(gcp_env):
    from google.cloud import bigquery

    from bestbets_dagster.resources import bigquery as bigquery_module

    warehouse = _warehouse("migration_test")
    with warehouse._client() as client:  # the table as an older definition created it, with one stored row
        client.create_dataset("bestbets-test.migration_test", exists_ok=True)
        fields = [f for f in warehouse._schema(client, "monitoring_alerts") if f.name != "message"]
        client.create_table(bigquery.Table("bestbets-test.migration_test.monitoring_alerts", schema=fields))
        client.query(
            "INSERT INTO `bestbets-test.migration_test.monitoring_alerts` (game_date, alert_type, subject, "
            "severity, created_at) VALUES (DATE '2025-11-19', 'signal_cold', 'old_row', 'WARN', "
            "TIMESTAMP '2025-11-20 12:00:00+00')"
        ).result()
    bigquery_module._ENSURED.clear()  # a new process
    stored = warehouse.read("monitoring_alerts", DAY.date(), DAY.date())
    assert stored["subject"].tolist() == ["old_row"] and pd.isna(stored["message"].iloc[0])
    assert warehouse.replace_partitions("monitoring_alerts", _alerts(2, "new column"), DAY.date()) == 2
    assert warehouse.read("monitoring_alerts", DAY.date(), DAY.date())["message"].tolist() == ["new column"] * 2


def test_a_retyped_bigquery_column_is_refused(gcp_env):
    from google.cloud import bigquery

    from bestbets_dagster.resources import bigquery as bigquery_module
    from bestbets_dagster.tables import DataValidationError

    warehouse = _warehouse("retype_test")
    with warehouse._client() as client:
        client.create_dataset("bestbets-test.retype_test", exists_ok=True)
        fields = [
            bigquery.SchemaField(f.name, "INT64" if f.name == "subject" else f.field_type, mode=f.mode)
            for f in warehouse._schema(client, "monitoring_alerts")
        ]
        client.create_table(bigquery.Table("bestbets-test.retype_test.monitoring_alerts", schema=fields))
    bigquery_module._ENSURED.clear()
    with pytest.raises(
        DataValidationError,
        match="BigQuery table monitoring_alerts differs .* subject is INT64, the definition says STRING",
    ):
        warehouse.read("monitoring_alerts", DAY.date(), DAY.date())
