"""The original's next steps on the README replay's home (copied): `bestbets experiment` walk-forward,
and a picks-only replay under Phase B sourcing and a per-family signal profile."""

import json
import shutil

import pandas as pd
import pytest
from dagster import AssetKey

from bestbets_dagster.bestbets.config import BestBetsConfig
from bestbets_dagster.bestbets.pipeline import model_states_as_of
from bestbets_dagster.bestbets.profiles import QUANTILE_FAMILY
from bestbets_dagster.experiments.runs import ExperimentResult, ExperimentSpec, register_if_passed
from bestbets_dagster.models.families import SEED_FAMILIES
from bestbets_dagster.resources import DuckDBWarehouse
from bestbets_dagster_tests.conftest import home_instance, run_cli

START, END = "2025-10-21", "2025-12-06"
PRODUCTION_TABLES = ("predictions", "prediction_accuracy", "model_registry", "model_family", "player_features")
UNDER_ONLY_FOR_QUANTILE = '[["*", "*", "UNDER", 0], ["*", "quantile", "UNDER", 1]]'


def _counts(warehouse) -> dict:
    return {name: len(warehouse.read(name)) for name in PRODUCTION_TABLES}


@pytest.fixture()
def copied_home(replay, tmp_path):
    """A copy of the README replay's home: (home, its warehouse, the production tables' row counts)."""
    home = tmp_path / "home"
    shutil.copytree(replay[0], home, ignore=shutil.ignore_patterns("bestbets.lock", "bestbets.holder"))
    warehouse = DuckDBWarehouse(path=str(home / "warehouse.duckdb"))
    return home, warehouse, _counts(warehouse)


@pytest.mark.slow
@pytest.mark.xdist_group("replay")
def test_a_walkforward_experiment_reports_the_replay_s_rows_and_writes_only_its_table(copied_home):
    home, warehouse, before = copied_home
    result = run_cli(
        home,
        "experiment",
        "--name",
        "v9-huber",
        "--feature-set",
        "v9",
        "--loss",
        "Huber:delta=5",
        "--walkforward",
        "--start",
        "2025-11-24",
        "--end",
        END,
        "--selection",
        "edge",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    row = warehouse.read("model_experiments").set_index("experiment_name").loc["v9-huber"]
    assert (row.model_family, row["mode"], row.n_models, row.selection) == ("v9_huber", "walkforward", 2, "edge")
    weeks = pd.DataFrame(json.loads(row.weeks_json)).set_index("week")
    assert list(weeks.index) == ["2025-11-24", "2025-12-01"]
    # The same graded player-games and lines as the replay's families: each week's line MAE and count
    # equal the report's, which come from prediction_accuracy.
    report = json.loads((home / "reports" / f"replay_{START}_{END}.json").read_text())
    report_weeks = {w["week_start"]: w for w in report["weeks"]}
    accuracy = warehouse.read("prediction_accuracy", "2025-11-24", END, family="v9_mae")
    played = accuracy[~accuracy["is_voided"].astype(bool)]
    for week, figures in weeks.iterrows():
        assert figures.line_mae == pytest.approx(report_weeks[week]["line_mae"], abs=1e-3)
        in_week = pd.to_datetime(played["game_date"]).dt.to_period("W-SUN").dt.start_time == pd.Timestamp(week)
        assert figures.n == int(in_week.sum())
        assert figures.wins + figures.losses <= figures.n_bets
    assert row.n_rows == int(weeks["n"].sum()) and row.n_bets == int(weeks["n_bets"].sum())
    assert f"{row.n_models_passing_gates} of 2 weekly models passed" in row.verdict
    assert "2025-11-24" in result.stdout and row.verdict in result.stdout
    # Production tables untouched (a failing recipe registers no family); the run is in the UI.
    assert _counts(warehouse) == before and not row.registered
    with home_instance(home) as instance:
        assert instance.get_materialized_partitions(AssetKey("model_experiments")) == {"v9-huber"}
        run = instance.get_run_by_id(row.run_id)
        assert run.job_name == "experiment_job" and run.is_success
    assert f"Dagster run {row.run_id}" in result.stdout
    # Single mode: one model on a training range, judged by the gates on the range's last 7 days.
    single = run_cli(
        home,
        "experiment",
        "--name",
        "q47",
        "--feature-set",
        "v12_noveg",
        "--loss",
        "Quantile:alpha=0.47",
        "--train-start",
        "2025-10-21",
        "--train-end",
        "2025-11-30",
    )
    assert single.returncode == 0, single.stderr[-3000:]
    row = warehouse.read("model_experiments").set_index("experiment_name").loc["q47"]
    week = json.loads(row.weeks_json)[0]
    assert (row["mode"], row.n_models, week["week"]) == ("single", 1, "2025-11-24")
    gates = json.loads(row.gates_json)
    failed = [g["gate"] for g in gates if g["status"] != "passed"]
    assert bool(row.passed) == (not failed) and (row.verdict == "its model passed the six gates") == (not failed)
    # The gates' week is the replay's week of 2025-11-24: the same lined rows, the same line MAE.
    assert row.line_mae == pytest.approx(report_weeks["2025-11-24"]["line_mae"], abs=1e-3)
    assert _counts(warehouse)["model_registry"] == before["model_registry"]


def test_a_passing_experiment_registers_a_disabled_family_once():
    spec = ExperimentSpec("q47", "v12_noveg", "Quantile:alpha=0.47")
    passed = ExperimentResult(spec, {"passed": True}, pd.DataFrame(), pd.DataFrame())
    families, registered, note = register_if_passed(passed, list(SEED_FAMILIES))
    added = families[-1]
    assert registered and (added.model_family, added.enabled, added.auto_promote) == ("v12_noveg_q47", False, False)
    assert note == "registered v12_noveg_q47 (disabled)"
    assert register_if_passed(passed, families)[1:] == (False, "not registered: v12_noveg_q47 is already a family")
    failed = ExperimentResult(spec, {"passed": False}, pd.DataFrame(), pd.DataFrame())
    assert register_if_passed(failed, list(SEED_FAMILIES))[1] is False


def test_replay_settings_are_checked_before_any_work(isolated_home):
    bad = run_cli(isolated_home, "replay", "--start", START, "--end", END, "--set", "sourcing=bogus")
    assert bad.returncode == 2 and "sourcing must be one of ['best', 'performance'], got 'bogus'" in bad.stderr
    unknown = run_cli(isolated_home, "replay", "--start", START, "--end", END, "--set", "no_such_setting=1")
    assert unknown.returncode == 2 and "expected NAME=JSON with NAME one of" in unknown.stderr
    profile = run_cli(
        isolated_home, "replay", "--start", START, "--end", END, "--set", 'signal_profiles=[["*", "*", "SIDEWAYS", 0]]'
    )
    assert profile.returncode == 2 and "direction must be one of ['OVER', 'UNDER', '*']" in profile.stderr
    assert not (isolated_home / "warehouse.duckdb").exists()


def test_the_experiment_command_refuses_a_bad_recipe_before_any_work(isolated_home):
    def experiment(*argv):
        return run_cli(isolated_home, "experiment", "--name", "x", *argv)

    bad_set = experiment("--feature-set", "v99", "--loss", "MAE")
    assert bad_set.returncode == 1 and "unknown feature set 'v99'" in bad_set.stderr
    bad_loss = experiment("--feature-set", "v9", "--loss", "Quantile:alpha=2")
    assert bad_loss.returncode == 1 and "a Quantile loss needs an alpha in (0, 1)" in bad_loss.stderr
    no_range = experiment("--feature-set", "v9", "--loss", "MAE", "--walkforward")
    assert no_range.returncode == 1 and "--walkforward needs --start and --end" in no_range.stderr
    assert not (isolated_home / "warehouse.duckdb").exists()


@pytest.mark.slow
@pytest.mark.xdist_group("replay")
def test_a_picks_only_replay_sources_by_model_performance_and_applies_the_profile(copied_home):
    home, warehouse, before = copied_home
    settings = ["selection=edge", "sourcing=performance", f"signal_profiles={UNDER_ONLY_FOR_QUANTILE}"]
    result = run_cli(
        home, "replay", "--start", START, "--end", END, "--picks-only", *[a for s in settings for a in ("--set", s)]
    )
    assert result.returncode == 0, result.stderr[-3000:]
    config = BestBetsConfig.from_dict(
        {"selection": "edge", "sourcing": "performance", "signal_profiles": json.loads(UNDER_ONLY_FOR_QUANTILE)}
    )
    report = json.loads((home / "reports" / f"replay_{START}_{END}_cfg-{config.version}.json").read_text())
    assert (report["best_bets"]["sourcing"], report["best_bets"]["config_version"]) == ("performance", config.version)
    assert _counts(warehouse) == before  # models, predictions and grading kept
    picks = warehouse.read("signal_best_bets_picks", START, END)
    assert len(picks) and set(picks["config_version"]) == {config.version}
    for pick in picks.itertuples(index=False):
        bets = json.loads(pick.sourcing_json)
        # Phase B recounted from the provenance: the source is the eligible bet (|edge| >= 5, weight > 0)
        # with the highest |edge| x weight, and a BLOCKED model supplies nothing.
        eligible = {f: abs(b["edge"]) * b["weight"] for f, b in bets.items() if abs(b["edge"]) >= 5 and b["weight"] > 0}
        assert pick.source_model_family == min(eligible, key=lambda f: (-eligible[f], f))  # ties: family id
        assert bets[pick.source_model_family]["state"] != "BLOCKED" and pick.sourcing_weight > 0
        # The profile: a point family's UNDER counts no real signal, so it never passes the signal floor.
        if pick.recommendation == "UNDER":
            assert QUANTILE_FAMILY.search(pick.source_model_family)
    # The weights' states are the stored model_performance_daily's of the day before (recomputed from
    # the same graded predictions by the same function, not read from the table).
    stored = warehouse.read("model_performance_daily")
    for day, of_day in picks.groupby(pd.to_datetime(picks["game_date"]).dt.date):
        states = model_states_as_of(day, stored, 14)
        for pick in of_day.itertuples(index=False):
            sourced = json.loads(pick.sourcing_json)
            assert {f: b["state"] for f, b in sourced.items() if f in states} == {
                f: states[f]["state"] for f in sourced if f in states
            }
            assert all(b["state"] == "INSUFFICIENT_DATA" for f, b in sourced.items() if f not in states)
    decisions = warehouse.read("best_bets_decisions", START, END)
    assert set(json.loads(decisions.iloc[-1]["sourcing_json"])) == {"rule", "families"}
