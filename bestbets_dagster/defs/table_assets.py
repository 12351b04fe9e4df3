"""One spec for every table asset: a warehouse table written partition by partition.

`table_asset` sets what every such asset shares - partitions (daily game dates unless told), a
single-run backfill, the group, `kinds` from the running backend (DuckDB locally, BigQuery in
production), owners, the table's column schema and checks - and a `code_version` hashed from the
asset's own function, the table's YAML definition and the domain modules that shape its rows, so
the UI marks a partition stale when any of them changes.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from dagster import AssetCheckSpec, AssetSpec, BackfillPolicy, PartitionsDefinition, asset

from bestbets_dagster import settings, tables
from bestbets_dagster.defs.checks import table_check_specs, table_definition_metadata
from bestbets_dagster.partitions import game_date_partitions

OWNERS = ["team:bestbets"]


def backend_kind() -> str:
    """The storage kind the UI shows: where this deployment's tables live."""
    return "bigquery" if settings.bestbets_env() == "gcp" else "duckdb"


def code_version(fn: Callable, table: str, shaped_by: Iterable[str] = ()) -> str:
    """sha256 (12 hex) of the asset function's source, the table's YAML and the shaping modules' source."""
    digest = hashlib.sha256(inspect.getsource(fn).encode())
    digest.update((tables.TABLE_DEFINITIONS_DIR / f"{table}.yaml").read_bytes())
    for name in shaped_by:
        digest.update(inspect.getsource(importlib.import_module(name)).encode())
    return digest.hexdigest()[:12]


def modules_version(*names: str, tables_read: Iterable[str] = ()) -> str:
    """sha256 (12 hex) of the named modules' source (a package: every module in it) and the YAML of the
    tables named: the code version of an asset whose rows or files those decide."""
    digest = hashlib.sha256()
    for name in names:
        module = importlib.import_module(name)
        paths = sorted(Path(module.__file__).parent.glob("*.py")) if hasattr(module, "__path__") else [module.__file__]
        for path in paths:
            digest.update(Path(path).read_bytes())
    for table in tables_read:
        digest.update((tables.TABLE_DEFINITIONS_DIR / f"{table}.yaml").read_bytes())
    return digest.hexdigest()[:12]


def code_version_of(*functions: Callable) -> str:
    """sha256 (12 hex) of the source of the modules defining these functions (an asset that writes files)."""
    return modules_version(*sorted({fn.__module__ for fn in functions}))


def table_asset(
    table: str,
    *,
    group: str,
    blocking: bool,
    description: str | None = None,
    game_days: bool = True,
    checks: Mapping[str, str] | None = None,
    blocking_checks: Mapping[str, str] | None = None,
    shaped_by: Iterable[str] = (),
    partitions_def: PartitionsDefinition = game_date_partitions,
    extra_kinds: Iterable[str] = (),
    **asset_kwargs,
):
    """`@asset` for the table asset `table` (the asset is named after its table). blocking / game_days:
    the table checks (see defs.checks.table_check_specs); checks / blocking_checks: the asset's own,
    {check name: description}; shaped_by: the names of the domain modules whose code decides its rows
    (part of the code version); description: the UI's, by default the function's docstring;
    asset_kwargs: deps, config..."""
    own_checks = [
        AssetCheckSpec(name, asset=table, description=text, blocking=is_blocking)
        for is_blocking, named in ((True, blocking_checks or {}), (False, checks or {}))
        for name, text in named.items()
    ]

    def decorate(fn: Callable):
        return asset(
            name=table,
            check_specs=[*table_check_specs(table, blocking=blocking, game_days=game_days), *own_checks],
            metadata=table_definition_metadata(table),
            partitions_def=partitions_def,
            backfill_policy=BackfillPolicy.single_run(),
            group_name=group,
            kinds={"python", backend_kind(), *extra_kinds},
            owners=OWNERS,
            code_version=code_version(fn, table, shaped_by),
            description=description or inspect.getdoc(fn),
            **asset_kwargs,
        )(fn)

    return decorate


def table_spec(
    table: str, *, group: str, description: str, extra_kinds: Iterable[str] = (), **spec_kwargs
) -> AssetSpec:
    """The AssetSpec of a table written by a multi-asset: the same kinds, owners and column schema."""
    return AssetSpec(
        table,
        group_name=group,
        kinds={"python", backend_kind(), *extra_kinds},
        owners=OWNERS,
        metadata=table_definition_metadata(table),
        description=description,
        **spec_kwargs,
    )
