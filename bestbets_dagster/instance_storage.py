"""The embedded instance's event log: Dagster's SQLite storage with batched asset-event writes.

A ranged run writes one materialization per partition per asset (a season backfill: about 17,000).
Dagster batches them when DAGSTER_EVENT_BATCH_SIZE > 0 and hands each batch to the storage's
`store_event_batch`; dagster-postgres writes a batch in one statement, but the SQLite storage falls
back to one `store_event` per event: a new SQLite engine, and two committed transactions (run shard,
then index shard), each about 8 ms. This subclass writes a batch of one run's materializations (or
observations) the way dagster-postgres does: one insert into the run shard, one index transaction
with every event's row (one multi-row insert returning the ids) and tags, the asset's latest-event
entry from the last event; each event is serialized once for both. A ranged run's planned asset
checks (one PLANNED execution row per check and partition) are written as the stock storage writes
them but with the event serialized once per check, not once per partition. Anything else keeps the
stock path. Dagster has no public base for this, hence the `dagster._core` imports.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from dagster import Field, StringSource
from dagster._core.events import DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._serdes import serialize_value

BATCHED_EVENT_TYPES = {DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.ASSET_OBSERVATION}


def default_base_dir() -> str:
    """Where Dagster's default SQLite storage keeps event logs: $DAGSTER_HOME/history/runs (so a copied
    or moved home keeps writing to its own files: dagster.yaml names no path)."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise RuntimeError("BatchedSqliteEventLogStorage needs DAGSTER_HOME or a base_dir in dagster.yaml")
    return str(Path(home) / "history" / "runs")


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage whose `store_event_batch` writes a batch in two transactions."""

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(base_dir=config_value.get("base_dir") or default_base_dir(), inst_data=inst_data)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        if not self._batchable(events):
            super().store_event_batch(events)  # one store_event per event
            return
        rows = [self._event_to_row(event) for event in events]  # each event serialized once, for both shards
        with self.run_connection(events[0].run_id) as conn:
            conn.execute(SqlEventLogStorageTable.insert(), rows)
        with self.index_transaction() as conn:
            # One statement for the batch; the ids in the batch's order, for the events' tag rows.
            insert = SqlEventLogStorageTable.insert().returning(
                SqlEventLogStorageTable.c.id, sort_by_parameter_order=True
            )
            with conn.execute(insert, rows) as result:
                event_ids = [row[0] for row in result]
            self._store_asset_event_tags(conn, events, event_ids)
            # The asset's entry holds its latest event: the batch's last (as dagster-postgres does).
            self._store_asset_event(conn, events[-1], event_ids[-1])

    def _store_asset_check_evaluation_planned(self, event: EventLogEntry, event_id: int | None) -> None:
        """The stock method's rows (one PLANNED execution per partition of the run), with the event
        serialized once instead of once per partition and inserted as one prepared statement instead
        of a multi-row insert compiled for every run (a season's ranged runs plan some 30,000)."""
        planned = event.get_dagster_event().event_specific_data
        partition_keys = planned.partitions_subset.get_partition_keys() if planned.partitions_subset else [None]
        serialized, timestamp = serialize_value(event), self._event_insert_timestamp(event)
        rows = [
            {
                "asset_key": planned.asset_key.to_string(),
                "check_name": planned.check_name,
                "partition": partition_key,
                "run_id": event.run_id,
                "execution_status": AssetCheckExecutionRecordStatus.PLANNED.value,
                "evaluation_event": serialized,
                "evaluation_event_timestamp": timestamp,
                "evaluation_event_storage_id": event_id,
            }
            for partition_key in partition_keys
        ]
        with self.index_connection() as conn:
            conn.execute(AssetCheckExecutionsTable.insert(), rows)

    @staticmethod
    def _batchable(events: Sequence[EventLogEntry]) -> bool:
        if not events or not all(event.is_dagster_event for event in events):
            return False
        kinds = {event.get_dagster_event().event_type for event in events}
        keys = {event.get_dagster_event().asset_key for event in events}
        runs = {event.run_id for event in events}
        return kinds <= BATCHED_EVENT_TYPES and len(kinds) == len(keys) == len(runs) == 1
