"""Asset checks every table asset runs on the partitions it just wrote: the table's pandera schema
on the stored rows, no duplicate primary keys, and rows on every game day of the run. They run in the
asset's own step (so they see exactly the run's partition range); the blocking ones stop the run
before bad rows flow into downstream assets."""

import datetime as dt

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    TableColumn,
    TableColumnConstraints,
    TableSchema,
)

from bestbets_dagster import tables

SCHEMA, UNIQUE_KEYS, GAME_DAYS = "schema", "unique_keys", "rows_on_game_days"


def no_rows_check(asset: str, check_name: str, rows: pd.DataFrame, label: str, describe, error: bool = False):
    """A check that passes when `rows` (the rows that fail it) is empty, ERROR when `error` else WARN;
    its metadata `label` lists them, one `describe(row)` each (at most 2,000 characters)."""
    listed = "; ".join(describe(row) for row in rows.itertuples(index=False)) if len(rows) else ""
    return AssetCheckResult(
        check_name=check_name,
        asset_key=asset,
        passed=rows.empty,
        severity=AssetCheckSeverity.ERROR if error else AssetCheckSeverity.WARN,
        metadata={label: listed[:2000], "rows": len(rows)},
    )


def table_check_specs(asset: str, blocking: bool, game_days: bool = True) -> list[AssetCheckSpec]:
    specs = [
        AssetCheckSpec(
            SCHEMA, asset=asset, blocking=blocking, description=f"stored rows match schemas/tables/{asset}.yaml"
        ),
        AssetCheckSpec(
            UNIQUE_KEYS, asset=asset, blocking=blocking, description="no duplicate primary keys in the partitions"
        ),
    ]
    if game_days:
        specs.append(AssetCheckSpec(GAME_DAYS, asset=asset, description="rows on every game day of the run (WARN)"))
    return specs


def game_days(warehouse, start: dt.date, end: dt.date) -> list[dt.date]:
    """Dates of the range with a game: box scores or pre-game lines."""
    days = set()
    for name in ("team_game_logs", "player_game_lines"):
        rows = warehouse.read(name, start, end, columns=["game_date"])
        days |= set(pd.to_datetime(rows["game_date"]).dt.date)
    return sorted(days)


def lined_days(warehouse, start: dt.date, end: dt.date) -> list[dt.date]:
    """Dates of the range with a resolved pre-game line: the days predictions and candidates must cover."""
    lines = warehouse.read("player_game_lines", start, end, columns=["game_date", "person_id"])
    return sorted(set(pd.to_datetime(lines.loc[lines["person_id"].notna(), "game_date"]).dt.date))


def table_check_results(
    warehouse,
    table: str,
    start: dt.date,
    end: dt.date,
    family: str | None = None,
    asset: str | None = None,
    expected_days: list[dt.date] | None = None,
) -> list[AssetCheckResult]:
    """The checks of `table_check_specs` on the stored rows of [start, end] (one family if given)."""
    asset = asset or table
    spec = tables.table(table)
    stored = warehouse.read(table, start, end, family=family)
    results = []
    try:
        tables.validate(table, stored, source=f"{table} {start}..{end}")
        results.append(
            AssetCheckResult(check_name=SCHEMA, asset_key=asset, passed=True, metadata={"rows": len(stored)})
        )
    except Exception as error:  # noqa: BLE001 - any validation failure is the check's finding
        results.append(
            AssetCheckResult(check_name=SCHEMA, asset_key=asset, passed=False, metadata={"error": str(error)[:2000]})
        )
    duplicated = stored[stored.duplicated(list(spec.primary_key), keep=False)] if len(stored) else stored
    results.append(
        AssetCheckResult(
            check_name=UNIQUE_KEYS,
            asset_key=asset,
            passed=duplicated.empty,
            metadata={
                "duplicate_rows": len(duplicated),
                "first": str(duplicated[list(spec.primary_key)].head(3).to_dict("records")) if len(duplicated) else "",
            },
        )
    )
    if expected_days is not None:
        have = set(pd.to_datetime(stored["game_date"]).dt.date) if len(stored) else set()
        missing = [str(d) for d in expected_days if d not in have]
        results.append(
            AssetCheckResult(
                check_name=GAME_DAYS,
                asset_key=asset,
                passed=not missing,
                severity=AssetCheckSeverity.WARN,
                metadata={"game_days": len(expected_days), "missing": ", ".join(missing[:20])},
            )
        )
    return results


def table_definition_metadata(table: str) -> dict:
    """Definition metadata of a table asset: its column schema and descriptions from
    schemas/tables (the catalog's column view) and the warehouse table it writes."""
    spec = tables.table(table)
    columns = [
        TableColumn(
            c.name,
            c.type.lower() + ("[]" if c.repeated else ""),
            description=c.description or None,
            constraints=TableColumnConstraints(nullable=c.nullable),
        )
        for c in spec.columns
    ]
    return {
        "dagster/column_schema": TableSchema(columns=columns),
        "dagster/table_name": table,
        "primary_key": ", ".join(spec.primary_key),
    }
