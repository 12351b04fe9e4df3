"""The Warehouse on BigQuery, through dagster-gcp's BigQueryResource.

Tables come from `schemas/bigquery/<table>.json` with DAY partitioning on the partition column and
the table's clustering. A partition replace is one statement: the new rows are loaded into a
staging table, then a single MERGE inserts them and deletes the partition's old rows, so readers see
the old partition or the new one and a failed load leaves the old one. Rows are loaded as a
DataFrame (parquet), NUMERIC values as decimals fixed at the column's scale. Queries are parameterized.

With BIGQUERY_EMULATOR_HOST set (a local emulator), the client talks to that endpoint with anonymous
credentials; otherwise Application Default Credentials apply.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import json
import math
import os
import uuid
from typing import Any, ClassVar, Iterator, Optional

import pandas as pd
from dagster_gcp import BigQueryResource
from google.api_core.exceptions import NotFound
from google.cloud import bigquery

from bestbets_dagster import tables
from bestbets_dagster.resources.warehouse import Warehouse
from bestbets_dagster.tables import BIGQUERY_SCHEMAS_DIR, TableSpec

EMULATOR_ENV = "BIGQUERY_EMULATOR_HOST"
_ENSURED: set[tuple[str, str, str]] = set()


def _json_text(value: Any) -> Any:
    """A JSON column as read back (text or parsed, by client version) -> canonical text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        value = json.loads(value)
    return json.dumps(value, sort_keys=True)


def _load_frame(spec: TableSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as a parquet load takes it: NUMERIC as decimals fixed at the column's scale (a float
    like 5.600000000000001 would fail the load), DATE as dates, lists for REPEATED columns."""
    out = pd.DataFrame(index=frame.index)
    for c in spec.columns:
        values = frame[c.name]
        if c.repeated:
            out[c.name] = [
                [str(x) for x in v] if isinstance(v, (list, tuple)) or hasattr(v, "tolist") else [] for v in values
            ]
        elif c.type == "NUMERIC":
            out[c.name] = [None if pd.isna(v) else decimal.Decimal(f"{float(v):.{c.scale or 0}f}") for v in values]
        elif c.type == "DATE":
            out[c.name] = pd.to_datetime(values).dt.date
        else:
            out[c.name] = values
    return out.reset_index(drop=True)


def _parameter(name: str, value: Any):
    if isinstance(value, (list, tuple)):
        kind = _scalar_type(value[0]) if value else "STRING"
        return bigquery.ArrayQueryParameter(name, kind, list(value))
    return bigquery.ScalarQueryParameter(name, _scalar_type(value), value)


def _scalar_type(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, decimal.Decimal):
        return "NUMERIC"
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return "TIMESTAMP"
    if isinstance(value, dt.date):
        return "DATE"
    return "STRING"


# The legacy names the API may return for the standard SQL types of schemas/bigquery.
_LEGACY_TYPES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}


class BigQueryWarehouse(Warehouse):
    QUOTE: ClassVar[str] = "`"
    MARKER: ClassVar[str] = "@"
    TARGET_ALIAS: ClassVar[str] = "T."  # the MERGE's target
    project: str
    dataset: str
    location: Optional[str] = None

    @contextlib.contextmanager
    def _client(self) -> Iterator[bigquery.Client]:
        if os.environ.get(EMULATOR_ENV):
            from google.auth.credentials import AnonymousCredentials

            yield bigquery.Client(project=self.project, location=self.location, credentials=AnonymousCredentials())
        else:
            with BigQueryResource(project=self.project, location=self.location).get_client() as client:
                yield client

    def table_ref(self, name: str) -> str:
        tables.table(name)
        return f"`{self.project}.{self.dataset}.{name}`"

    def _table_id(self, name: str) -> str:
        return f"{self.project}.{self.dataset}.{name}"

    def _schema(self, client: bigquery.Client, name: str) -> list[bigquery.SchemaField]:
        return client.schema_from_json(str(BIGQUERY_SCHEMAS_DIR / f"{name}.json"))

    def _ensure(self, client: bigquery.Client, spec: TableSpec) -> None:
        key = (self.project, self.dataset, spec.name)
        if key in _ENSURED:
            return
        client.create_dataset(bigquery.Dataset(f"{self.project}.{self.dataset}"), exists_ok=True)
        table = bigquery.Table(self._table_id(spec.name), schema=self._schema(client, spec.name))
        if spec.partition_column:
            table.time_partitioning = bigquery.TimePartitioning(
                type_=bigquery.TimePartitioningType.DAY, field=spec.partition_column
            )
        if spec.clustering:
            table.clustering_fields = list(spec.clustering)[:4]
        created = client.create_table(table, exists_ok=True)
        self._migrate(client, spec, created)
        _ENSURED.add(key)

    def _migrate(self, client: bigquery.Client, spec: TableSpec, table: bigquery.Table) -> None:
        """Add the columns the definition gained since the table was created (NULL in stored rows)."""

        def kind(field: bigquery.SchemaField) -> str:
            name = _LEGACY_TYPES.get(field.field_type, field.field_type)
            return f"{name}[]" if field.mode == "REPEATED" else name

        wanted = self._schema(client, spec.name)
        added = tables.columns_to_add(
            spec, {f.name: kind(f) for f in table.schema}, {f.name: kind(f) for f in wanted}, "BigQuery"
        )
        for column in added:  # DDL, so the rows already stored read the new column as NULL
            kind = (
                f"NUMERIC({column.precision}, {column.scale or 0})"
                if column.type == "NUMERIC" and column.precision
                else column.type
            )
            kind = f"ARRAY<{kind}>" if column.repeated else kind
            client.query(
                f"ALTER TABLE {self.table_ref(spec.name)} ADD COLUMN IF NOT EXISTS `{column.name}` {kind}"
            ).result()

    def create_tables(self, names: list[str] | None = None) -> None:
        with self._client() as client:
            for name in names or list(tables.all_tables()):
                self._ensure(client, tables.table(name))

    def _run(self, client: bigquery.Client, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        config = bigquery.QueryJobConfig(query_parameters=[_parameter(k, v) for k, v in (params or {}).items()])
        return client.query(sql, job_config=config).result().to_dataframe(create_bqstorage_client=False)

    def read(self, name, start=None, end=None, family=None, columns=None) -> pd.DataFrame:
        spec = tables.table(name)
        wanted = columns or spec.column_names
        sql, params = self.select_sql(spec, start, end, family, columns, quote=self.QUOTE, marker=self.MARKER)
        with self._client() as client:
            self._ensure(client, spec)
            raw = self._run(client, sql, params)
        raw = raw.reindex(columns=wanted)
        for c in wanted:
            column = spec.column(c)
            if column.repeated:
                raw[c] = [list(v) if v is not None and not isinstance(v, float) else [] for v in raw[c]]
            elif column.type == "NUMERIC":
                raw[c] = pd.to_numeric(raw[c].map(lambda v: None if v is None else float(v)), errors="coerce")
            elif column.type == "DATE":
                raw[c] = pd.to_datetime(raw[c].astype(object)).astype("datetime64[ns]")
            elif column.type == "JSON":
                raw[c] = raw[c].map(_json_text)
        return tables.conform(spec, raw) if columns is None else raw

    def _replace(self, spec: TableSpec, frame: pd.DataFrame, condition: str, params: dict) -> None:
        """Load the rows into a staging table, then one MERGE inserts them and deletes the old rows
        the condition names: atomic, and a failed load never touches the target."""
        upload = _load_frame(spec, frame)
        staging = self._table_id(f"{spec.name}__staging_{uuid.uuid4().hex[:12]}")
        with self._client() as client:
            self._ensure(client, spec)
            schema = self._schema(client, spec.name)
            try:
                client.create_table(bigquery.Table(staging, schema=schema))
                if len(upload):
                    client.load_table_from_dataframe(
                        upload, staging, job_config=bigquery.LoadJobConfig(schema=schema)
                    ).result()
                cols = ", ".join(f"`{c.name}`" for c in spec.columns)
                values = ", ".join(f"S.`{c.name}`" for c in spec.columns)
                self._run(
                    client,
                    f"""
                    MERGE {self.table_ref(spec.name)} AS T
                    USING `{staging}` AS S
                    ON FALSE
                    WHEN NOT MATCHED BY TARGET THEN INSERT ({cols}) VALUES ({values})
                    WHEN NOT MATCHED BY SOURCE AND {condition} THEN DELETE
                """,
                    params,
                )
            finally:
                with contextlib.suppress(NotFound):
                    client.delete_table(staging, not_found_ok=True)

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        with self._client() as client:
            for name in set(_placeholders(sql)):
                self._ensure(client, tables.table(name))
            return self._run(client, self.render(sql), params)


def _placeholders(sql: str) -> list[str]:
    from bestbets_dagster.resources.warehouse import _PLACEHOLDER

    return _PLACEHOLDER.findall(sql)
