"""Families, dynamic partitions, CatBoost training with gates, the registry and serving."""

import datetime as dt
import shutil

import numpy as np
import pandas as pd
import pytest
from catboost import CatBoostRegressor
from dagster import DagsterInstance, MultiPartitionKey, SensorResult, build_sensor_context, materialize

from bestbets_dagster.defs.models import family_models, model_family_partitions_sensor, training_windows
from bestbets_dagster.features.contract import feature_columns
from bestbets_dagster.models import gates
from bestbets_dagster.models.families import (
    SEED_FAMILIES,
    family_id,
    load_families,
    new_family,
    save_families,
)
from bestbets_dagster.models.registry import serving_model, serving_periods, staleness
from bestbets_dagster.models.training import FIXED_ITERATIONS, labeled_rows, train_family_model, training_window
from bestbets_dagster.partitions import MODEL_FAMILY_PARTITIONS_NAME
from bestbets_dagster.resources import DuckDBWarehouse, LocalArtifactStore
from bestbets_dagster_tests.conftest import run_cli

# Tests that share the session's warehouse fixtures run on one xdist worker.
pytestmark = pytest.mark.xdist_group("warehouse")

CUTOFF = dt.date(2025, 12, 1)


@pytest.fixture(scope="module")
def labeled(built):
    return labeled_rows(
        built.read("player_features", "2024-10-22", "2025-11-30"),
        built.read("player_game_logs", "2024-10-22", "2025-11-30"),
    )


# ------------------------------------------------------------------------------------- families


@pytest.mark.parametrize(
    "feature_set, loss, expected",
    [
        ("v9", "MAE", "v9_mae"),
        ("v12_noveg", "Quantile:alpha=0.43", "v12_noveg_q43"),
        ("v9", "Huber:delta=5", "v9_huber"),
        ("v12", "Quantile:alpha=0.4", "v12_q40"),
    ],
)
def test_family_ids(feature_set, loss, expected):
    assert family_id(feature_set, loss) == expected


def test_seed_families():
    enabled = sorted(f.model_family for f in SEED_FAMILIES if f.enabled)
    assert enabled == ["v12_noveg_mae", "v12_noveg_q43", "v12_noveg_q45", "v9_mae", "v9_q43", "v9_q45"]
    assert {f.model_family for f in SEED_FAMILIES if not f.enabled} == {"v12_mae", "v9_huber"}


def _tick(instance, warehouse):
    """One sensor tick, its dynamic-partition requests applied as the daemon applies them."""
    result = model_family_partitions_sensor(build_sensor_context(instance=instance, resources={"warehouse": warehouse}))
    if isinstance(result, SensorResult):
        for request in result.dynamic_partitions_requests:
            if type(request).__name__ == "AddDynamicPartitionsRequest":
                instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
            else:
                for key in request.partition_keys:
                    instance.delete_dynamic_partition(request.partitions_def_name, key)
    return result, sorted(instance.get_dynamic_partitions(MODEL_FAMILY_PARTITIONS_NAME))


def test_family_rows_drive_the_dynamic_partitions(tmp_path):
    warehouse = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    with DagsterInstance.ephemeral() as instance:
        _, partitions = _tick(instance, warehouse)
        assert partitions == ["v12_noveg_mae", "v12_noveg_q43", "v12_noveg_q45", "v9_mae", "v9_q43", "v9_q45"]
        families = load_families(warehouse)
        save_families(warehouse, [*families, new_family("v12", "Quantile:alpha=0.40")])  # one row, no code
        _, partitions = _tick(instance, warehouse)
        assert "v12_q40" in partitions and len(partitions) == 7
        save_families(
            warehouse,
            [
                f if f.model_family != "v9_q45" else f.__class__(**{**f.__dict__, "enabled": False})
                for f in load_families(warehouse)
            ],
        )
        _, partitions = _tick(instance, warehouse)
        assert "v9_q45" not in partitions and len(partitions) == 6
        result, _ = _tick(instance, warehouse)
        assert "already equal" in result.skip_message


# -------------------------------------------------------------------------------------- training


def test_the_window_counts_game_days_and_reaches_into_last_season(labeled):
    days = labeled["game_date"].dt.date.unique()
    window = training_window(days, dt.date(2025, 10, 27), 42)
    assert window.eval_start == dt.date(2025, 10, 20) and window.eval_end == dt.date(2025, 10, 26)
    # The gate fit: the 42 game days before the evaluation week, the end of 2024-25.
    assert len(window.gate_train_days) == 42
    assert window.gate_train_days[0].year == 2025 and window.gate_train_days[0].month in (2, 3)
    assert window.gate_train_days[-1] == dt.date(2025, 4, 13)  # the last regular-season day of 2024-25
    # The serving fit: the 42 game days before the cutoff, so the evaluation week's games too.
    assert len(window.train_days) == 42 and window.train_end == dt.date(2025, 10, 26)
    assert window.train_days[-6:] == tuple(dt.date(2025, 10, d) for d in range(21, 27))
    assert window.train_days[:-6] == window.gate_train_days[6:]


def test_each_family_trains_with_its_registered_loss(labeled, tmp_path):
    for family in SEED_FAMILIES:
        trained = train_family_model(family, labeled, CUTOFF, hyperparameters={"iterations": 60})
        path = tmp_path / f"{family.model_family}.cbm"
        path.write_bytes(trained.model_bytes())
        reloaded = CatBoostRegressor()
        reloaded.load_model(str(path))
        assert reloaded.get_all_params()["loss_function"] == family.loss_function, family.model_family
        assert reloaded.feature_names_ == feature_columns(family.feature_set)


def test_validation_is_the_end_of_the_window_in_time(labeled):
    trained = train_family_model(SEED_FAMILIES[0], labeled, CUTOFF)
    w = trained.window
    assert (w.gate_train_days[-1], w.eval_start, w.train_end) == (
        dt.date(2025, 11, 23),
        dt.date(2025, 11, 24),
        dt.date(2025, 11, 30),
    )
    fits = trained.hyperparameters
    assert fits["early_stopped"] and trained.validation_rows > 0 and trained.training_rows > 1000
    # The validation slice is the gate window's last days, all in 2025-26 here (about 15% of its rows).
    assert 0.10 < trained.validation_rows / fits["gate_fit"]["rows"] <= 0.15
    # The serving fit takes the gate fit's tree count and the week the gates judged.
    assert fits["trees"] == trained.model.tree_count_ and fits["serving_fit"]["train_end"] == "2025-11-30"
    assert trained.evaluation["game_date"].min() == pd.Timestamp("2025-11-24")
    assert trained.evaluation["prediction"].between(0, 60).all()
    assert {g["gate"] for g in trained.gates} == {
        "eval_rows",
        "mae",
        "hit_rate_edge3",
        "n_edge3",
        "vegas_bias",
        "tier_bias",
        "directional_balance",
    }
    assert trained.walkforward[0]["week_start"] == "2025-11-24"


def test_a_cutoff_whose_evaluation_week_has_no_games_registers_a_rejected_model(labeled):
    trained = train_family_model(SEED_FAMILIES[0], labeled, dt.date(2025, 10, 20), hyperparameters={"iterations": 60})
    assert trained.window.train_end == dt.date(2025, 4, 13)  # the end of the previous season
    # Its validation days would be the previous season's: no early stopping, a fixed tree count.
    assert not trained.hyperparameters["early_stopped"] and trained.model.tree_count_ == FIXED_ITERATIONS
    assert not trained.gates_passed
    eval_gate = next(g for g in trained.gates if g["gate"] == "eval_rows")
    assert (eval_gate["status"], eval_gate["value"]) == ("failed", 0)


def test_gates_on_constructed_rows():
    rows = pd.DataFrame(
        {
            "game_date": ["2025-11-24"] * 4,
            "prediction": [30.0, 10.0, 20.0, 15.0],
            "actual": [31.0, 8.0, 20.0, 14.0],
            "line": [25.5, 14.5, 20.0, None],
            "season_avg": [26, 9, 19, 14],
        }
    )
    results, passed = gates.evaluate_gates(rows, min_eval_rows=4)
    by_name = {g["gate"]: g for g in results}
    assert not passed
    assert by_name["mae"]["status"] == "not_evaluated" and "only 3 graded lines" in by_name["mae"]["reason"]
    assert by_name["n_edge3"]["status"] == "failed" and by_name["n_edge3"]["value"] == 2
    # the push (actual == line) is excluded: two edge-3+ bets, both won
    assert gates.hit_rate(rows.dropna(), 3.0) == (2, 100.0)
    assert by_name["directional_balance"]["status"] == "passed"


# --------------------------------------------------------------------------- the asset, registry


def _train(warehouse, artifacts, week, family, instance, enable=False):
    instance.add_dynamic_partitions(MODEL_FAMILY_PARTITIONS_NAME, [family])
    assert materialize(
        [training_windows], instance=instance, resources={"warehouse": warehouse}, partition_key=week
    ).success
    return materialize(
        [family_models],
        instance=instance,
        resources={"warehouse": warehouse, "artifacts": artifacts},
        partition_key=MultiPartitionKey({"training_week": week, "model_family": family}),
        run_config={"ops": {"family_models": {"config": {"enable": enable}}}},
    )


def test_rematerializing_a_partition_replaces_its_row_and_artifact(built, tmp_path):
    artifacts = LocalArtifactStore(root=str(tmp_path / "artifacts"))
    with DagsterInstance.ephemeral() as instance:
        for _ in range(2):
            assert _train(built, artifacts, "2025-12-01", "v9_mae", instance).success
    rows = built.read("model_registry", "2025-12-01", "2025-12-01", family="v9_mae")
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["model_id"] == "catboost_v9_mae_train20250411_20251130_w20251201"
    assert row["loss_function"] == "MAE" and row["feature_count"] == 33
    # Retraining the same rows gives the same bytes: one object, named by its content.
    files = list((tmp_path / "artifacts" / "models" / "v9_mae").glob("*.cbm"))
    assert [f.name for f in files] == [f"{row['model_id']}-{row['sha256_hash'][:16]}.cbm"]
    assert artifacts.metadata(f"models/v9_mae/{files[0].name}")["sha256"] == row["sha256_hash"]
    # Measured on the real lines of 2025-11-24..30: the model misses at least one gate; the notes
    # name exactly the gates that did not pass.
    import json

    missed = [g["gate"] for g in json.loads(row["gates_json"]) if g["status"] != "passed"]
    assert bool(row["gates_passed"]) == (not missed)
    if missed:  # not promoted (enable=False) either way; a failing model is rejected and says why
        assert row["status"] == "rejected" and not row["enabled"]
        assert row["production_start_date"] is pd.NaT or pd.isna(row["production_start_date"])
        assert row["notes"] == "failed gates: " + ", ".join(missed)
    else:
        assert row["status"] == "production" and row["notes"] is None


@pytest.fixture()
def trained_home(built, tmp_path):
    """A copy of the built warehouse and an empty artifact store, for tests that train models."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(built.path, home / "warehouse.duckdb")
    return DuckDBWarehouse(path=str(home / "warehouse.duckdb")), LocalArtifactStore(root=str(tmp_path / "artifacts"))


def test_an_interrupted_retrain_leaves_the_served_model_and_its_bytes(trained_home, tmp_path, monkeypatch):
    from bestbets_dagster.models import training

    warehouse, artifacts = trained_home
    with DagsterInstance.ephemeral() as instance:
        assert _train(warehouse, artifacts, "2025-12-01", "v9_mae", instance).success
        before = warehouse.read("model_registry", family="v9_mae")
        old_file = artifacts.get(f"models/v9_mae/{before['model_id'].iloc[0]}-{before['sha256_hash'].iloc[0][:16]}.cbm")
        # A retrain that makes other bytes and dies before its registry row is written (kill -9, a full disk).
        original_bytes = training.TrainedModel.model_bytes
        monkeypatch.setattr(training.TrainedModel, "model_bytes", lambda self: original_bytes(self) + b"other")
        original_replace = DuckDBWarehouse.replace_partitions

        def dies_on_the_registry(self, name, *args, **kwargs):
            if name == "model_registry":
                raise OSError(28, "No space left on device")
            return original_replace(self, name, *args, **kwargs)

        monkeypatch.setattr(DuckDBWarehouse, "replace_partitions", dies_on_the_registry)
        with pytest.raises(OSError, match="No space left"):
            _train(warehouse, artifacts, "2025-12-01", "v9_mae", instance)
    after = warehouse.read("model_registry", family="v9_mae")
    pd.testing.assert_frame_equal(after, before)
    key = f"models/v9_mae/{after['model_id'].iloc[0]}-{after['sha256_hash'].iloc[0][:16]}.cbm"
    assert artifacts.get(key) == old_file  # the served bytes were never overwritten
    assert len(list((tmp_path / "artifacts" / "models" / "v9_mae").glob("*.cbm"))) == 2  # the new bytes beside them


def test_a_window_whose_labeled_rows_changed_since_training_windows_trains_nothing(trained_home):
    warehouse, artifacts = trained_home
    with DagsterInstance.ephemeral() as instance:
        assert _train(warehouse, artifacts, "2025-12-01", "v9_mae", instance).success
        before = warehouse.read("model_registry", family="v9_mae")
        # A feature row of the window changes after training_windows recorded its fingerprint.
        features = warehouse.read("player_features", "2025-11-20", "2025-11-20")
        warehouse.replace_partitions(
            "player_features", features.assign(points_avg_last_5=features["points_avg_last_5"] + 1), "2025-11-20"
        )
        with pytest.raises(Exception, match="training window 2025-12-01: the labeled rows differ from training_wind"):
            materialize(
                [family_models],
                instance=instance,
                resources={"warehouse": warehouse, "artifacts": artifacts},
                partition_key=MultiPartitionKey({"training_week": "2025-12-01", "model_family": "v9_mae"}),
            )
    pd.testing.assert_frame_equal(warehouse.read("model_registry", family="v9_mae"), before)


def _predict_2025_12_02(warehouse, artifacts, instance):
    """v9_mae's predictions of 2025-12-02, the run's result whether it succeeds or not."""
    from bestbets_dagster.defs.predictions import predictions

    return materialize(
        [predictions],
        instance=instance,
        resources={"warehouse": warehouse, "artifacts": artifacts},
        partition_key=MultiPartitionKey({"game_date": "2025-12-02", "model_family": "v9_mae"}),
        raise_on_error=False,
    )


def test_a_model_whose_artifact_is_missing_is_never_served(trained_home, tmp_path):

    warehouse, artifacts = trained_home
    with DagsterInstance.ephemeral() as instance:
        for week in ("2025-11-24", "2025-12-01"):
            assert _train(warehouse, artifacts, week, "v9_mae", instance).success
        registry = warehouse.read("model_registry", family="v9_mae").set_index("training_cutoff")
        newest = registry.loc[pd.Timestamp("2025-12-01")]
        (
            tmp_path / "artifacts" / "models" / "v9_mae" / f"{newest['model_id']}-{newest['sha256_hash'][:16]}.cbm"
        ).unlink()
        result = _predict_2025_12_02(warehouse, artifacts, instance)
    check = [c for c in result.get_asset_check_evaluations() if c.check_name == "registered_artifacts_served"][0]
    assert not check.passed and newest["model_id"] in check.metadata["unavailable_models"].value
    served = warehouse.read("predictions", "2025-12-02", "2025-12-02", family="v9_mae")
    assert len(served) > 0 and set(served["model_id"]) == {registry.loc[pd.Timestamp("2025-11-24"), "model_id"]}
    # Every artifact of the family gone: the stored predictions stay and the run fails saying why (it
    # had succeeded with a warning and deleted them).
    for path in (tmp_path / "artifacts" / "models" / "v9_mae").iterdir():
        path.unlink()
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("model_family", ["v9_mae"])
        gone = _predict_2025_12_02(warehouse, artifacts, instance)
    assert not gone.success
    error = next(e for e in gone.all_events if e.is_step_failure).step_failure_data.error
    text = str(error.message) + str(error.cause.message if error.cause else "")
    assert (
        "v9_mae: no loadable model for 1 date(s) with stored predictions (2025-12-02); the stored rows are kept" in text
    )
    assert "no artifact at" in text
    pd.testing.assert_frame_equal(warehouse.read("predictions", "2025-12-02", "2025-12-02", family="v9_mae"), served)


def test_serving_falls_back_on_the_pinned_models_when_the_registry_cannot_be_read(trained_home, monkeypatch):
    from bestbets_dagster.defs.models import model_registry
    from bestbets_dagster.defs.predictions import predictions

    warehouse, artifacts = trained_home
    resources = {"warehouse": warehouse, "artifacts": artifacts}
    key = MultiPartitionKey({"game_date": "2025-12-02", "model_family": "v9_mae"})
    with DagsterInstance.ephemeral() as instance:
        assert _train(warehouse, artifacts, "2025-12-01", "v9_mae", instance).success
        assert materialize([model_registry], instance=instance, resources=resources).success
        assert materialize([predictions], instance=instance, resources=resources, partition_key=key).success
        expected = warehouse.read("predictions", "2025-12-02", "2025-12-02", family="v9_mae")
        original_read = DuckDBWarehouse.read

        def registry_unreadable(self, name, *args, **kwargs):
            if name == "model_registry":
                raise OSError("permission denied: model_registry")
            return original_read(self, name, *args, **kwargs)

        monkeypatch.setattr(DuckDBWarehouse, "read", registry_unreadable)
        result = materialize(
            [predictions], instance=instance, resources=resources, partition_key=key, raise_on_error=False
        )
        monkeypatch.undo()
    check = [c for c in result.get_asset_check_evaluations() if c.check_name == "served_from_the_registry"][0]
    assert not check.passed and "permission denied: model_registry" in check.metadata["problem"].value
    served = warehouse.read("predictions", "2025-12-02", "2025-12-02", family="v9_mae")
    columns = ["person_id", "model_id", "predicted_points", "edge", "recommendation"]
    pd.testing.assert_frame_equal(served[columns], expected[columns])


def _registry_row(model_id, family, cutoff, status="production"):
    cutoff = pd.Timestamp(cutoff)
    return {
        "model_id": model_id,
        "model_family": family,
        "status": status,
        "training_cutoff": cutoff,
        "production_start_date": cutoff if status == "production" else pd.NaT,
        "created_at": pd.Timestamp("2025-12-01T00:00:00Z"),
        "enabled": status == "production",
        "training_end_date": cutoff - pd.Timedelta(days=8),
    }


def test_serving_is_point_in_time_and_never_before_the_cutoff():
    registry = pd.DataFrame(
        [
            _registry_row("m_nov24", "v9_mae", "2025-11-24"),
            _registry_row("m_dec01", "v9_mae", "2025-12-01"),
            _registry_row("m_dec08_rejected", "v9_mae", "2025-12-08", status="rejected"),
            _registry_row("q_dec01", "v9_q43", "2025-12-01"),
        ]
    )
    assert serving_model(registry, "v9_mae", dt.date(2025, 11, 23)) is None
    assert serving_model(registry, "v9_mae", dt.date(2025, 11, 30))["model_id"] == "m_nov24"
    assert serving_model(registry, "v9_mae", dt.date(2025, 12, 1))["model_id"] == "m_dec01"
    assert serving_model(registry, "v9_mae", dt.date(2025, 12, 20))["model_id"] == "m_dec01"  # rejected never serves
    assert serving_model(registry, "v9_q43", dt.date(2025, 11, 30)) is None
    periods = serving_periods(registry).set_index("model_id")
    assert periods.loc["m_nov24", "production_end_date"] == pd.Timestamp("2025-11-30")
    for day in pd.date_range("2025-11-01", "2026-01-31"):
        for family in ("v9_mae", "v9_q43"):
            model = serving_model(registry, family, day.date())
            assert model is None or model["training_cutoff"] <= day


def test_staleness_urgency():
    families = [
        new_family("v9", "MAE"),
        new_family("v9", "Quantile:alpha=0.43"),
        new_family("v12_noveg", "MAE"),
        new_family("v9", "Quantile:alpha=0.45"),
        new_family("v12", "MAE", enabled=False),
    ]
    registry = pd.DataFrame(
        [
            _registry_row("a", "v9_mae", "2025-12-01"),
            _registry_row("b", "v9_q43", "2025-11-24"),
            _registry_row("c", "v12_noveg_mae", "2025-11-17"),
        ]
    )  # training ends 2025-11-23, 11-16, 11-09
    report = staleness(families, registry, dt.date(2025, 12, 1)).set_index("model_family")
    assert report.loc["v9_mae", "urgency"] == "ROUTINE" and report.loc["v9_mae", "age_days"] == 8
    assert report.loc["v9_q43", "urgency"] == "URGENT" and report.loc["v9_q43", "age_days"] == 15
    assert report.loc["v12_noveg_mae", "urgency"] == "URGENT"
    assert report.loc["v9_q45", "urgency"] == "URGENT" and pd.isna(report.loc["v9_q45", "age_days"])
    assert report.loc["v9_q45", "reason"] == "never trained"
    assert report.loc["v9_mae", "reason"] == "newest serving model trained through 2025-11-23 (8 days ago)"
    # A family whose every model was rejected by the gates: not "never trained".
    rejected = pd.DataFrame(
        [
            _registry_row(i, "v9_q45", cutoff, status="rejected")
            for i, cutoff in (("d", "2025-11-17"), ("e", "2025-11-24"))
        ]
    )
    report = staleness(families, pd.concat([registry, rejected]), dt.date(2025, 12, 1)).set_index("model_family")
    assert report.loc["v9_q45", "urgency"] == "URGENT"
    assert report.loc["v9_q45", "reason"] == "no model passed the gates since 2025-11-17"
    assert "v12_mae" not in report.index
    assert staleness(families[:1], registry, dt.date(2025, 11, 28)).iloc[0]["urgency"] is None


# ------------------------------------------------------------------------------------------- CLI


def test_cli_family_retrain_and_registry(built, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(built.path, home / "warehouse.duckdb")
    added = run_cli(home, "family", "add", "--feature-set", "v12", "--loss", "Quantile:alpha=0.40", "--no-auto-promote")
    assert added.returncode == 0, added.stderr
    assert "added v12_q40 (v12, Quantile:alpha=0.40, enabled=True)" in added.stdout
    assert run_cli(home, "family", "disable", "v12_q40").returncode == 0
    listing = run_cli(home, "family", "list").stdout
    assert [line.split()[5] for line in listing.splitlines() if line.strip().startswith("v12_q40")] == ["False"]
    refused = run_cli(home, "retrain", "--family", "v12_q40")
    assert refused.returncode != 0 and "family v12_q40 is disabled" in refused.stderr
    dry = run_cli(home, "retrain", "--all", "--dry-run", "--week", "2025-12-03")
    assert "training week 2025-12-01: v12_noveg_mae, v12_noveg_q43" in dry.stdout
    trained = run_cli(home, "retrain", "--family", "v9_q43", "--week", "2025-12-01")
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert "catboost_v9_q43_train20250411_20251130_w20251201" in trained.stdout
    listing = run_cli(home, "registry", "list", "--family", "v9_q43")
    row = [
        line.split()
        for line in listing.stdout.splitlines()
        if "catboost_v9_q43_train20250411_20251130_w20251201" in line
    ]
    assert len(row) == 1 and row[0][1:4] == ["2025-12-01", "rejected", "False"]
    kept = run_cli(home, "family", "remove", "v9_q43")
    assert kept.returncode != 0 and "family v9_q43 has" in kept.stderr and "stored models" in kept.stderr


def test_family_add_refuses_a_loss_catboost_cannot_train_and_remove_takes_only_unused_families(tmp_path):
    home = tmp_path / "home"
    before = run_cli(home, "family", "list").stdout
    banana = run_cli(home, "family", "add", "--feature-set", "v9", "--loss", "Banana")
    assert banana.returncode != 0
    assert banana.stderr.strip().splitlines() == [
        "family add: CatBoost cannot train a regressor with the loss 'Banana': "
        "catboost/private/libs/options/loss_description.cpp:20: Banana loss is not supported"
    ]
    alpha = run_cli(home, "family", "add", "--feature-set", "v9", "--loss", "Quantile:alpha=1.5")
    assert alpha.returncode != 0 and "needs an alpha in (0, 1)" in alpha.stderr and len(alpha.stderr.splitlines()) == 1
    assert run_cli(home, "family", "list").stdout == before  # nothing written
    added = run_cli(home, "family", "add", "--feature-set", "v9", "--loss", "Quantile:alpha=0.40")
    assert added.returncode == 0, added.stderr
    removed = run_cli(home, "family", "remove", "v9_q40")
    assert removed.returncode == 0 and "removed v9_q40" in removed.stdout
    assert "v9_q40" not in run_cli(home, "family", "list").stdout


def test_a_player_baseline_model_serves_from_its_bytes_with_the_same_predictions(labeled):
    """The per-player baseline is off by default (it did not help on either line window); a model
    trained with it records it, and the served bytes add the same baseline back."""
    from bestbets_dagster.models.serving import load_model_bytes
    from bestbets_dagster.models.training import predict

    family = SEED_FAMILIES[0]
    plain = train_family_model(family, labeled, CUTOFF, hyperparameters={"iterations": 40})
    based = train_family_model(family, labeled, CUTOFF, hyperparameters={"iterations": 40}, player_baseline=True)
    assert plain.hyperparameters["baseline"] is None and "baseline_default" not in plain.model.get_metadata()
    assert based.hyperparameters["baseline"] == ["points_avg_last_10", "points_avg_season"]
    rows = labeled[labeled["game_date"] >= pd.Timestamp(CUTOFF - dt.timedelta(days=7))].head(200)
    assert len(rows) == 200
    served = load_model_bytes(based.model_bytes())
    assert np.allclose(predict(served, rows, family.feature_set), predict(based.model, rows, family.feature_set))
    # Without the baseline added back the trees alone are far from a player's level.
    trees_only = np.clip(based.model.predict(rows[feature_columns(family.feature_set)].astype("float64")), 0, 60)
    assert np.abs(predict(based.model, rows, family.feature_set) - trees_only).mean() > 5


def test_many_weeks_fingerprints_from_one_pass_equal_each_windows_own():
    from bestbets_dagster.models.training import labeled_fingerprint, labeled_fingerprints, training_history_start

    days = pd.date_range("2024-09-20", "2025-12-06", freq="3D")
    rows = pd.DataFrame(
        {
            "game_date": days.repeat(2),
            "person_id": np.tile([7, 3], len(days)),
            "actual_points": np.arange(2 * len(days)) % 37,
        }
    ).sample(frac=1.0, random_state=1)  # any row order
    weeks = [dt.date(2024, 9, 16), dt.date(2025, 11, 24), dt.date(2025, 12, 1), dt.date(2026, 1, 5)]
    fingerprints = labeled_fingerprints(rows, weeks)
    for week in weeks:
        when = rows["game_date"]
        window = rows[(when >= pd.Timestamp(training_history_start(week))) & (when < pd.Timestamp(week))]
        assert fingerprints[week] == labeled_fingerprint(window), week
    assert fingerprints[dt.date(2024, 9, 16)] == labeled_fingerprint(rows.iloc[0:0])  # no rows before the data
    assert len(set(fingerprints.values())) == len(weeks)


def test_the_window_fingerprint_ignores_row_order_and_column_types_not_values():
    from bestbets_dagster.models.training import labeled_fingerprint

    rows = pd.DataFrame(
        {
            "game_date": pd.to_datetime(["2025-11-01", "2025-11-01", "2025-11-02"]),
            "person_id": [3, 1, 2],
            "actual_points": [12, 30, 7],
            "is_home": [True, False, True],
            "player_name": ["A", "B", "C"],
        }
    )
    same = rows.iloc[::-1].astype({"person_id": "Int64", "actual_points": "float64"})
    same["game_date"] = same["game_date"].astype("datetime64[us]")  # as DuckDB returns it
    assert labeled_fingerprint(same) == labeled_fingerprint(rows)
    changed = rows.assign(actual_points=[12, 31, 7])
    assert labeled_fingerprint(changed) != labeled_fingerprint(rows)


def test_registry_rows_are_written_per_run_of_consecutive_weeks_of_a_family():
    """A family's consecutive weeks are one write (a week that could not train is cleared by it); a week
    between two written ones that the run did not train is never touched."""
    from bestbets_dagster.defs.models import _write_registry_rows

    class Recorder:
        writes = []

        def replace_partitions(self, name, frame, start, end, family):
            self.writes.append((name, list(frame.get("model_id", [])), str(start), str(end), family))

    weeks = [dt.date(2025, 11, 3) + dt.timedelta(weeks=i) for i in range(4)]
    rows = {
        ("v9_mae", weeks[0]): {"model_id": "a"},
        ("v9_mae", weeks[1]): None,  # not trained: its earlier row must go
        ("v9_mae", weeks[3]): {"model_id": "d"},  # weeks[2] is not in the run
        ("v9_q43", weeks[0]): {"model_id": "q"},
    }
    recorder = Recorder()
    _write_registry_rows(recorder, rows)
    assert recorder.writes == [
        ("model_registry", ["a"], "2025-11-03", "2025-11-10", "v9_mae"),
        ("model_registry", ["d"], "2025-11-24", "2025-11-24", "v9_mae"),
        ("model_registry", ["q"], "2025-11-03", "2025-11-03", "v9_q43"),
    ]


def test_a_family_needs_a_window_and_a_cadence_of_a_day_and_a_one_output_loss():
    """`family add --window -5` had trained on more than a year; MultiQuantile trained, then every
    retrain failed on its two outputs per row."""
    from bestbets_dagster.models.families import check_loss, new_family

    with pytest.raises(ValueError, match="training_window_days must be 1 day or more, got -5"):
        new_family("v9", "RMSE", training_window_days=-5)
    with pytest.raises(ValueError, match="retrain_cadence_days must be 1 day or more, got 0"):
        new_family("v9", "RMSE", retrain_cadence_days=0)
    with pytest.raises(ValueError, match="predicts 2 numbers per row; a family predicts one"):
        check_loss("MultiQuantile:alpha=0.1,0.5")
    check_loss("Quantile:alpha=0.45")  # one output: accepted
    assert new_family("v9", "RMSE", training_window_days=1, retrain_cadence_days=1).training_window_days == 1
