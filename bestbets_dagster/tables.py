"""One definition per table (schemas/tables/<table>.yaml) and what is derived from it.

From each definition come: the BigQuery JSON schema (`schemas/bigquery/<table>.json`, the format
`bq mk --schema` takes), the DuckDB DDL, and a pandera DataFrameModel that every frame is validated
against before it is written. Keeping them derived from one file is what lets a test prove they agree.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import yaml
from pandera.typing import Series

from bestbets_dagster.settings import SCHEMAS_DIR

TABLE_DEFINITIONS_DIR = SCHEMAS_DIR / "tables"
BIGQUERY_SCHEMAS_DIR = SCHEMAS_DIR / "bigquery"

# BigQuery type -> (DuckDB type, in-memory pandas dtype used by pandera and the writers).
_TYPES: dict[str, tuple[str, Any]] = {
    "STRING": ("VARCHAR", pd.StringDtype),
    "INT64": ("BIGINT", pd.Int64Dtype),
    "FLOAT64": ("DOUBLE", "float64"),
    "NUMERIC": ("DECIMAL", "float64"),
    "BOOL": ("BOOLEAN", pd.BooleanDtype),
    "DATE": ("DATE", "datetime64[ns]"),
    "TIMESTAMP": ("TIMESTAMPTZ", pd.DatetimeTZDtype(tz="UTC")),
    "JSON": ("VARCHAR", pd.StringDtype),  # JSON text: portable across both engines
}


class DataValidationError(ValueError):
    """A frame does not satisfy its table's definition; the message names the rows that fail."""


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str = ""
    nullable: bool = True
    repeated: bool = False
    precision: int | None = None
    scale: int | None = None
    checks: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def duckdb_type(self) -> str:
        base = _TYPES[self.type][0]
        if self.type == "NUMERIC":
            base = f"DECIMAL({self.precision or 38},{self.scale if self.scale is not None else 9})"
        return f"{base}[]" if self.repeated else base

    def bigquery_field(self) -> dict[str, Any]:
        field: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "mode": "REPEATED" if self.repeated else ("NULLABLE" if self.nullable else "REQUIRED"),
        }
        if self.type == "NUMERIC" and self.precision is not None:
            field["precision"] = str(self.precision)
            field["scale"] = str(self.scale or 0)
        if self.description:
            field["description"] = self.description
        return field


@dataclasses.dataclass(frozen=True)
class TableSpec:
    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    partition_column: str | None = None
    family_column: str | None = None
    clustering: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")

    def bigquery_schema(self) -> list[dict[str, Any]]:
        return [c.bigquery_field() for c in self.columns]

    def duckdb_ddl(self, table_ref: str | None = None) -> str:
        cols = ",\n  ".join(
            f'"{c.name}" {c.duckdb_type}{"" if c.nullable or c.repeated else " NOT NULL"}' for c in self.columns
        )
        return f"CREATE TABLE IF NOT EXISTS {table_ref or self.name} (\n  {cols}\n)"

    def empty_frame(self) -> pd.DataFrame:
        return conform(self, pd.DataFrame({c: [] for c in self.column_names}))


def _parse(path: Path) -> TableSpec:
    raw = yaml.safe_load(path.read_text())
    try:
        columns = tuple(
            Column(
                name=c["name"],
                type=c["type"].upper(),
                description=c.get("description", ""),
                nullable=c.get("nullable", True),
                repeated=c.get("repeated", False),
                precision=c.get("precision"),
                scale=c.get("scale"),
                checks=c.get("checks", {}) or {},
            )
            for c in raw["columns"]
        )
        spec = TableSpec(
            name=raw["name"],
            description=raw.get("description", ""),
            columns=columns,
            primary_key=tuple(raw["primary_key"]),
            partition_column=raw.get("partition_column"),
            family_column=raw.get("family_column"),
            clustering=tuple(raw.get("clustering", ())),
        )
    except KeyError as exc:
        raise ValueError(f"{path}: table definition is missing {exc}") from exc
    if spec.name != path.stem:
        raise ValueError(f"{path}: name {spec.name!r} must equal the file name")
    for c in spec.columns:
        if c.type not in _TYPES:
            raise ValueError(f"{path}: column {c.name} has unknown type {c.type}")
    for key in (*spec.primary_key, spec.partition_column, spec.family_column, *spec.clustering):
        if key is not None and key not in spec.column_names:
            raise ValueError(f"{path}: key column {key!r} is not a column")
    return spec


@functools.cache
def all_tables() -> dict[str, TableSpec]:
    return {p.stem: _parse(p) for p in sorted(TABLE_DEFINITIONS_DIR.glob("*.yaml"))}


def table(name: str) -> TableSpec:
    try:
        return all_tables()[name]
    except KeyError:
        raise KeyError(f"no table definition schemas/tables/{name}.yaml") from None


def project(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """The table's columns of a working frame that carries more (missing ones are left to validation)."""
    return df[[c for c in table(name).column_names if c in df.columns]]


def conform(spec: TableSpec, df: pd.DataFrame) -> pd.DataFrame:
    """Order columns as defined, fill absent nullable columns, round NUMERIC at the schema's scale.

    Rounding here (the storage boundary) is what keeps 5.600000000000001 out of a NUMERIC(5,1).
    """
    if df.empty and len(df.columns) == 0:
        return spec.empty_frame()  # "no rows" from a step that found nothing
    missing = [c.name for c in spec.columns if c.name not in df.columns and not c.nullable]
    if missing:
        raise DataValidationError(f"{spec.name}: required columns missing: {missing}")
    extra = [c for c in df.columns if c not in spec.column_names]
    if extra:
        raise DataValidationError(f"{spec.name}: columns not in schemas/tables/{spec.name}.yaml: {extra}")
    out = pd.DataFrame(index=df.index)
    for c in spec.columns:
        values = df[c.name] if c.name in df.columns else pd.Series([None] * len(df), index=df.index, dtype=object)
        out[c.name] = coerce_column(c, values)
    return out.reset_index(drop=True)


def coerce_column(c: Column, values: pd.Series) -> pd.Series:
    """One column in its in-memory dtype; NUMERIC rounded at the column's scale."""
    if c.repeated:
        return values.astype(object)
    if c.type == "NUMERIC":
        return pd.to_numeric(values, errors="coerce").round(c.scale or 0)
    if c.type == "DATE":
        values = pd.to_datetime(values)
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)
        return values.dt.normalize().astype("datetime64[ns]")
    if c.type == "TIMESTAMP":
        return pd.to_datetime(values, utc=True).astype("datetime64[ns, UTC]")
    if c.type in ("STRING", "JSON"):
        return values.astype(object).where(values.notna(), None).astype(pd.StringDtype())
    if c.type == "INT64":
        return pd.to_numeric(values, errors="raise").astype(pd.Int64Dtype())
    if c.type == "BOOL":
        return values.astype(pd.BooleanDtype())
    return pd.to_numeric(values, errors="raise").astype("float64")


@functools.cache
def pandera_model(name: str) -> type[pa.DataFrameModel]:
    """A pandera DataFrameModel built from the table definition."""
    spec = table(name)
    annotations: dict[str, Any] = {}
    attrs: dict[str, Any] = {}
    for c in spec.columns:
        dtype = object if c.repeated else _TYPES[c.type][1]
        annotations[c.name] = Series[dtype]
        checks = dict(c.checks)
        checks.pop("at_most_column", None)
        abs_ge = checks.pop("abs_ge", None)
        if abs_ge is not None:
            attrs[f"_check_{c.name}_abs_ge"] = pa.check(c.name, name=f"abs_ge({abs_ge})")(
                lambda cls, series, bound=abs_ge: series.isna() | (series.abs() >= bound)
            )
        if c.type == "NUMERIC" and c.precision is not None:
            bound = 10 ** (c.precision - (c.scale or 0))
            checks.setdefault("gt", -bound)
            checks.setdefault("lt", bound)
        attrs[c.name] = pa.Field(nullable=c.nullable or c.repeated, coerce=not c.repeated, **checks)
    for part, whole in column_bounds(name):
        attrs[f"_check_{part}_at_most_{whole}"] = pa.dataframe_check(name=_bound_name(part, whole))(
            lambda cls, df, part=part, whole=whole: df[part].isna() | df[whole].isna() | (df[part] <= df[whole])
        )
    config = type(
        "Config",
        (),
        {"name": spec.name, "strict": True, "ordered": False, "unique": list(spec.primary_key) or None},
    )
    class_name = "".join(part.capitalize() for part in spec.name.split("_")) + "Model"
    return type(class_name, (pa.DataFrameModel,), {"__annotations__": annotations, **attrs, "Config": config})


def _as_list(value) -> list:
    return [] if value is None else list(value) if isinstance(value, (list, tuple)) else [value]


def _bound_name(part: str, whole: str) -> str:
    return f"{part} <= {whole}"


def column_bounds(name: str) -> list[tuple[str, str]]:
    """(column, the column it may not exceed) for every `at_most_column` check of a table's definition
    (shots made never exceed shots attempted): readers check them row by row to name the file and line."""
    return [(c.name, whole) for c in table(name).columns for whole in _as_list(c.checks.get("at_most_column"))]


_CHECKS = {
    "gt": lambda v, b: v > b,
    "ge": lambda v, b: v >= b,
    "lt": lambda v, b: v < b,
    "le": lambda v, b: v <= b,
    "isin": lambda v, b: v.isin(b),
    "abs_ge": lambda v, b: v.abs() >= b,
}
_CHECK_WORDS = {
    "gt": "more than",
    "ge": "at least",
    "lt": "less than",
    "le": "at most",
    "isin": "one of",
    "abs_ge": "at least this far from 0:",
}


def check_values(name: str, column: str, values: pd.Series) -> tuple[pd.Series, str]:
    """Where source values break a column's checks in schemas/tables (NULLs pass), and the rule in
    words: readers use it to name the file and row of a bad value before anything is built."""
    c = table(name).column(column)
    bad = pd.Series(False, index=values.index)
    rules = []
    for check, bound in c.checks.items():
        if check in _CHECKS:
            bad |= values.notna() & ~_CHECKS[check](values, bound).fillna(False).astype(bool)
            rules.append(f"{_CHECK_WORDS[check]} {bound}")
    return bad, " and ".join(rules)


def columns_to_add(spec: TableSpec, existing: dict[str, str], expected: dict[str, str], engine: str) -> list[Column]:
    """The schema change an existing table needs to match its definition: the columns the definition
    added (the engine adds them, NULL in the rows already stored). A column the table has and the
    definition does not, or whose type differs, is refused: dropping or retyping would lose data, so
    it is a manual migration. existing / expected: column -> type as the engine names it."""
    removed = [name for name in existing if name not in expected]
    retyped = [
        f"{name} is {existing[name]}, the definition says {expected[name]}"
        for name in existing
        if name in expected and existing[name] != expected[name]
    ]
    if removed or retyped:
        problems = "; ".join([*(f"column {name} is not in the definition" for name in removed), *retyped])
        raise DataValidationError(
            f"{engine} table {spec.name} differs from schemas/tables/{spec.name}.yaml: {problems}. Only added "
            "columns migrate by themselves; restore the definition, or migrate the table by hand (copy the rows "
            "to a new table, drop the old one) and run again"
        )
    return [c for c in spec.columns if c.name not in existing]


def validate(name: str, df: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    """Conform and validate a frame; raise DataValidationError naming the failing rows and checks."""
    spec = table(name)
    frame = conform(spec, df)
    try:
        return pandera_model(name).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        # A check across columns (made <= attempted) fails once per column of its row: said once, with its values.
        bounds = {_bound_name(part, whole): (part, whole) for part, whole in column_bounds(name)}
        across = cases["check"].astype(str).isin(bounds)
        cases = pd.concat([cases[~across], cases[across].drop_duplicates(["check", "index"])])
        lines = []
        for _, case in cases.head(10).iterrows():
            index = case.get("index")
            row_hint = ""
            if index is not None and not (isinstance(index, float) and np.isnan(index)):
                key_values = {k: frame.at[int(index), k] for k in spec.primary_key if k in frame.columns}
                row_hint = f" row {int(index)} {key_values}"
            check = str(case["check"])
            if check in bounds and row_hint:
                part, whole = bounds[check]
                values = f"{frame.at[int(index), part]} > {frame.at[int(index), whole]}"
                lines.append(f"  {check} failed ({values}){row_hint}")
                continue
            lines.append(f"  column {case['column']}: {check} failed for {case['failure_case']!r}{row_hint}")
        where = f" from {source}" if source else ""
        raise DataValidationError(
            f"{name}{where}: {len(cases)} schema failure(s), nothing written:\n" + "\n".join(lines)
        ) from None


def write_bigquery_schemas(directory: Path = BIGQUERY_SCHEMAS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, spec in all_tables().items():
        path = directory / f"{name}.json"
        path.write_text(json.dumps(spec.bigquery_schema(), indent=2) + "\n")
        written.append(path)
    return written


def keyed_by_player_game(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with its player-game key typed alike everywhere (game_date datetime64[ns], person_id
    int64), so two tables' rows join on it."""
    return df.assign(
        game_date=pd.to_datetime(df["game_date"]).astype("datetime64[ns]"),
        person_id=df["person_id"].astype("int64"),
    )


if __name__ == "__main__":
    for p in write_bigquery_schemas():
        print(p)
