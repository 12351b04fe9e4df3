import datetime as dt
import sys

import pytest

from bestbets_dagster import settings
from bestbets_dagster_tests.conftest import run_in_project, subprocess_env


def test_dagster_definitions_validate_passes(tmp_path):
    home = tmp_path / "home"
    settings_env = subprocess_env(home)
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    result = run_in_project(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"], settings_env, timeout=300
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "All code locations passed validation" in output


@pytest.mark.xdist_group("dg")  # one `dg check defs` at a time
def test_dg_check_defs_loads_the_defs_folder(tmp_path):
    """The project loads as a `dg` project: every definition in bestbets_dagster/defs, resources included."""
    from pathlib import Path

    env = {**subprocess_env(tmp_path / "home"), "VIRTUAL_ENV": str(Path(sys.executable).parent.parent)}
    dg = Path(sys.executable).parent / "dg"
    result = run_in_project([str(dg), "check", "defs"], env, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "All definitions loaded successfully" in output
    listing = run_in_project([str(dg), "list", "defs", "--json"], env, timeout=300)
    assert listing.returncode == 0, listing.stderr[-3000:]
    assert '"pick_signal_tags"' in listing.stdout and '"slate_schedule"' in listing.stdout


def test_importing_the_definitions_writes_nothing(tmp_path):
    home = tmp_path / "home"
    code = "import bestbets_dagster.definitions"
    result = run_in_project([sys.executable, "-c", code], subprocess_env(home), timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not home.exists()


def test_defs_holds_the_ingestion_graph_and_local_resources(isolated_home):
    from bestbets_dagster.definitions import build_definitions
    from bestbets_dagster.resources import DuckDBWarehouse, LocalArtifactStore

    defs = build_definitions()
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"player_game_logs", "team_game_logs", "prop_lines", "player_game_lines"} <= keys
    job = defs.resolve_job_def("ingest_job")
    assert job.partitions_def is not None
    resources = defs.resources
    assert isinstance(resources["warehouse"], DuckDBWarehouse)
    assert isinstance(resources["artifacts"], LocalArtifactStore)


def test_dagster_home_defaults_under_bestbets_home(tmp_path, monkeypatch):
    monkeypatch.setenv("BESTBETS_HOME", str(tmp_path / "bb"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = settings.ensure_dagster_home()
    assert home == (tmp_path / "bb" / "dagster").resolve()
    assert (home / "dagster.yaml").read_text().startswith("telemetry")


def test_the_slack_token_never_reaches_the_definitions_snapshot(isolated_home, monkeypatch):
    from dagster._core.remote_representation.external_data import RepositorySnap
    from dagster_shared.serdes import serialize_value

    from bestbets_dagster.definitions import build_definitions

    secret = "xoxb-0123456789-not-a-real-token"
    monkeypatch.setenv("SLACK_BOT_TOKEN", secret)
    defs = build_definitions()
    snapshot = serialize_value(RepositorySnap.from_def(defs.get_repository_def()))
    assert secret not in snapshot
    # The resource is listed as a consumer of the variable, by name only.
    assert '"SLACK_BOT_TOKEN": [{"__class__": "EnvVarConsumer", "name": "notifier"' in snapshot
    assert defs.resources["notifier"].channel_name() == "Slack #bestbets-alerts"


def test_automation_is_off_until_an_operator_turns_it_on(isolated_home):
    from dagster import DefaultScheduleStatus, DefaultSensorStatus

    from bestbets_dagster.definitions import build_definitions

    defs = build_definitions()
    sensors = {s.name: s for s in defs.sensors}
    running = sorted(n for n, s in sensors.items() if s.default_status == DefaultSensorStatus.RUNNING)
    # Neither starts a run: one keeps the family partitions in step, one forwards new alerts.
    assert running == ["alerts_to_slack", "model_family_partitions_sensor"]
    assert all(s.default_status == DefaultScheduleStatus.STOPPED for s in defs.schedules)
    for item in [*defs.sensors, *defs.schedules]:
        assert item.description, item.name


def test_every_table_asset_shares_one_spec_with_a_code_version(isolated_home, monkeypatch):
    from bestbets_dagster import tables
    from bestbets_dagster.definitions import build_definitions
    from bestbets_dagster.defs.table_assets import backend_kind, code_version

    defs = build_definitions()
    names = set(tables.all_tables()) - {"model_registry", "model_family"}
    # Single-asset definitions named after a table (the picks' multi-asset has its own spec).
    table_assets = [a for a in defs.assets if len(a.keys) == 1 and a.key.path[-1] in names]
    assert len(table_assets) >= 13
    for assets_def in table_assets:
        for spec in assets_def.specs:
            if spec.key.path[-1] not in names:
                continue
            assert spec.owners == ["team:bestbets"], spec.key
            assert {"python", "duckdb"} <= set(spec.kinds), spec.key
            assert spec.metadata.get("dagster/column_schema") is not None, spec.key
        assert assets_def.backfill_policy is not None
    versions = {a.key.path[-1]: a.code_versions_by_key.get(a.key) for a in table_assets}
    assert all(versions[name] for name in ("player_features", "predictions", "pick_signal_tags")), versions
    # The version follows the code and the table's definition that shape the rows.
    plain = code_version(build_definitions, "player_features")
    assert plain != code_version(build_definitions, "predictions")
    assert plain != code_version(build_definitions, "player_features", shaped_by=["bestbets_dagster.features.build"])
    # kinds follow the backend: BigQuery in production.
    monkeypatch.setenv("BESTBETS_ENV", "gcp")
    assert backend_kind() == "bigquery"


def test_every_asset_has_a_code_version_and_names_where_it_stores(isolated_home):
    """A change to the training, picking or reporting code marks what it decides stale in the UI: every
    asset, the models, the registry and the picks' multi-asset included, has a code version; every asset
    that writes a table names the warehouse's backend, and the data files the downloaders write theirs."""
    from bestbets_dagster.definitions import build_definitions
    from bestbets_dagster.defs.table_assets import modules_version

    specs = {spec.key.path[-1]: spec for spec in build_definitions().resolve_all_asset_specs()}
    assert len(specs) >= 24
    assert not [name for name, spec in specs.items() if not spec.code_version]
    downloaded = {"odds_api_snapshots": "json", "nba_box_scores": "csv"}
    for name, spec in specs.items():
        assert downloaded.get(name, "duckdb") in spec.kinds, (name, spec.kinds)
    assert specs["family_models"].kinds == {"python", "catboost", "duckdb"}
    picks = {specs[n].code_version for n in ("signal_best_bets_picks", "best_bets_filter_audit", "best_bets_decisions")}
    assert len(picks) == 1 and picks != {specs["best_bets_config"].code_version}
    assert modules_version("bestbets_dagster.models") != modules_version("bestbets_dagster.models.registry")


def test_the_report_card_schedule_asks_for_last_week_on_monday_morning():
    from dagster import build_schedule_context

    from bestbets_dagster.defs.daily import report_card_schedule

    request = report_card_schedule(build_schedule_context(scheduled_execution_time=dt.datetime(2025, 12, 8, 11, 0)))
    assert (request.partition_key, request.run_key) == ("2025-12-01", "report-card:2025-12-01")
    assert report_card_schedule.cron_schedule == "0 11 * * 1"
