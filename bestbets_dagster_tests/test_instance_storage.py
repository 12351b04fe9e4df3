"""The embedded instance's event log: a ranged run's materializations written in batches, read back
exactly as Dagster's stock SQLite storage reads them."""

import dagster as dg
import pytest
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from bestbets_dagster import settings
from bestbets_dagster.instance_storage import BatchedSqliteEventLogStorage

DAYS = dg.DailyPartitionsDefinition(start_date="2025-11-01", end_date="2025-12-01")


class _NoStorage(dg.IOManager):
    def handle_output(self, context, obj):
        pass

    def load_input(self, context):
        return None


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def daily_rows(context):
    return None


@pytest.fixture
def instance(tmp_path, monkeypatch):
    monkeypatch.setenv("BESTBETS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
    settings.ensure_dagster_home()  # a new home's dagster.yaml, DAGSTER_EVENT_BATCH_SIZE exported
    with dg.DagsterInstance.get() as instance:
        yield instance


def test_a_ranged_run_s_materializations_are_written_as_one_batch_and_read_back_per_partition(instance, monkeypatch):
    assert isinstance(instance.event_log_storage, BatchedSqliteEventLogStorage)
    single_writes = []
    stock = SqliteEventLogStorage.store_event
    monkeypatch.setattr(
        SqliteEventLogStorage, "store_event", lambda self, event: single_writes.append(event) or stock(self, event)
    )
    keys = DAYS.get_partition_keys()
    job = dg.define_asset_job("daily_rows_job", selection=[daily_rows])
    defs = dg.Definitions(assets=[daily_rows], jobs=[job], resources={"io_manager": _NoStorage()})
    result = defs.resolve_job_def("daily_rows_job").execute_in_process(
        instance=instance,
        tags={"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]},
    )
    assert result.success and len(keys) == 30
    materialized = [e for e in single_writes if e.dagster_event and e.dagster_event.is_step_materialization]
    assert materialized == []  # none of the 30 went through the one-event path
    key = daily_rows.key
    assert instance.get_materialized_partitions(key) == set(keys)
    assert instance.get_latest_materialization_event(key).dagster_event.partition == keys[-1]
    in_run = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    assert [e.dagster_event.partition for e in in_run] == keys
    one_day = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[keys[11]]), limit=10
    ).records
    assert [(r.partition_key, r.run_id) for r in one_day] == [(keys[11], result.run_id)]


def test_the_event_log_lives_under_the_home_it_is_opened_from(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "moved"))
    storage = BatchedSqliteEventLogStorage.from_config_value(None, {})
    assert storage._base_dir == str(tmp_path / "moved" / "history" / "runs")
    monkeypatch.delenv("DAGSTER_HOME")
    with pytest.raises(RuntimeError, match="needs DAGSTER_HOME"):
        BatchedSqliteEventLogStorage.from_config_value(None, {})


@dg.asset(
    partitions_def=DAYS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[dg.AssetCheckSpec("has_rows", asset="checked_rows")],
)
def checked_rows(context):
    return dg.MaterializeResult(check_results=[dg.AssetCheckResult(check_name="has_rows", passed=True)])


def _check_executions(instance, keys):
    job = dg.define_asset_job("checked_rows_job", selection=[checked_rows])
    defs = dg.Definitions(assets=[checked_rows], jobs=[job], resources={"io_manager": _NoStorage()})
    result = defs.resolve_job_def("checked_rows_job").execute_in_process(
        instance=instance,
        tags={"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]},
    )
    assert result.success
    records = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(checked_rows.key, "has_rows"), limit=100
    )
    return sorted(((r.partition, r.status.value, r.run_id == result.run_id) for r in records), key=str)


def test_a_ranged_run_plans_one_check_execution_per_partition_as_the_stock_storage_does(instance, tmp_path):
    keys = DAYS.get_partition_keys()[:12]
    ours = _check_executions(instance, keys)
    (tmp_path / "stock").mkdir()
    with dg.DagsterInstance.local_temp(str(tmp_path / "stock")) as stock:
        assert type(stock.event_log_storage) is SqliteEventLogStorage
        theirs = _check_executions(stock, keys)
    # One PLANNED row per partition; the run's one evaluation is a row of its own (Dagster gives a ranged
    # run's check result no partition, with either storage).
    assert ours == [*((key, "PLANNED", True) for key in keys), (None, "SUCCEEDED", True)]
    assert ours == theirs
