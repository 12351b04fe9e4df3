"""`bestbets family ...`, `bestbets retrain`, `bestbets registry list`: the model families (rows of a
table, no code change), their weekly training through Dagster, and the registry of what was trained."""

from __future__ import annotations

import dataclasses
import datetime as dt

import click

from bestbets_dagster.commands.options import DATE, command_group, home_options, print_frame
from bestbets_dagster.commands.session import QUIET, cli_run_tags, warehouse, writing_home

FAMILY_COLUMNS = [
    "model_family",
    "feature_set",
    "loss_function",
    "training_window_days",
    "retrain_cadence_days",
    "enabled",
    "auto_promote",
    "auto_retrain",
]
REGISTRY_COLUMNS = [
    "model_id",
    "training_cutoff",
    "status",
    "gates_passed",
    "training_samples",
    "evaluation_mae",
    "evaluation_hit_rate_edge_3plus",
    "evaluation_n_edge_3plus",
    "production_start_date",
    "serves_until",
]


def _families() -> tuple[object, list, dict]:
    from bestbets_dagster.models.families import load_families

    store = warehouse()
    families = load_families(store)
    return store, families, {f.model_family: f for f in families}


def _known(family: str, by_id: dict) -> None:
    if family not in by_id:
        raise SystemExit(f"unknown family {family}; known: {', '.join(sorted(by_id))}")


def _print_families(store) -> int:
    import pandas as pd

    from bestbets_dagster.models.families import load_families

    print_frame(pd.DataFrame([dataclasses.asdict(f) for f in load_families(store)]), FAMILY_COLUMNS)
    return 0


family = command_group("family", "list, add, enable, disable or remove model families")


@family.command("list", help="the family table")
@home_options
def family_list() -> int:
    return _print_families(warehouse())


@family.command("add", help="add a family: one row, no code change")
@home_options
@click.option("--feature-set", required=True, type=click.Choice(["v9", "v12", "v12_noveg"]), help="the feature set")
@click.option("--loss", required=True, help="CatBoost loss, e.g. MAE, Quantile:alpha=0.40, Huber:delta=5")
@click.option("--window", type=int, default=42, help="game days in the training window (default 42)")
@click.option("--cadence", type=int, default=7, help="retrain cadence in days (default 7)")
@click.option("--disabled", is_flag=True, help="add it disabled (no training, no predictions)")
@click.option(
    "--no-auto-promote", "manual_promotion", is_flag=True, help="a model that passes the gates stays a shadow"
)
@click.option("--no-auto-retrain", "manual_retrain", is_flag=True, help="the weekly sensor does not train it")
@click.option("--notes", help="free text kept on the family's row")
def family_add(feature_set, loss, window, cadence, disabled, manual_promotion, manual_retrain, notes) -> int:
    from bestbets_dagster.models.families import check_loss, new_family, save_families

    store, families, by_id = _families()
    try:
        added = new_family(
            feature_set,
            loss,
            training_window_days=window,
            retrain_cadence_days=cadence,
            enabled=not disabled,
            auto_promote=not manual_promotion,
            auto_retrain=not manual_retrain,
            notes=notes,
        )
        check_loss(loss)
    except ValueError as error:
        raise SystemExit(f"family add: {error}") from None
    if added.model_family in by_id:
        raise SystemExit(f"family {added.model_family} exists already")
    save_families(store, [*families, added])
    print(
        f"added {added.model_family} ({added.feature_set}, {added.loss_function}, enabled={added.enabled}); "
        "its partitions follow on the next tick of model_family_partitions_sensor"
    )
    return _print_families(store)


def _switch(name: str, enabled: bool) -> int:
    from bestbets_dagster.models.families import save_families

    store, _, by_id = _families()
    _known(name, by_id)
    by_id[name] = dataclasses.replace(by_id[name], enabled=enabled)
    save_families(store, list(by_id.values()))
    print(f"{'enabled' if enabled else 'disabled'} {name}")
    return _print_families(store)


@family.command("enable", help="enable a family: trained and predicted from the next run on")
@home_options
@click.argument("name", metavar="FAMILY")
def family_enable(name: str) -> int:
    return _switch(name, True)


@family.command("disable", help="disable a family: no more training or predictions (its models stay)")
@home_options
@click.argument("name", metavar="FAMILY")
def family_disable(name: str) -> int:
    return _switch(name, False)


@family.command("remove", help="remove a family with no stored models")
@home_options
@click.argument("name", metavar="FAMILY")
def family_remove(name: str) -> int:
    from dagster import DagsterInstance

    from bestbets_dagster.defs.models import sync_family_partitions
    from bestbets_dagster.models.families import save_families

    store, families, by_id = _families()
    _known(name, by_id)
    stored = store.read("model_registry", family=name, columns=["model_id"])
    if len(stored):
        raise SystemExit(
            f"family {name} has {len(stored)} stored models: `bestbets family disable {name}` keeps their record"
        )
    save_families(store, [f for f in families if f.model_family != name])
    sync_family_partitions(DagsterInstance.get(), store)
    print(f"removed {name}")
    return _print_families(store)


def _week_to_train(store, week: dt.date | None) -> str:
    """The training week's Monday: of --week, else this week's, refused when it is past the data."""
    from bestbets_dagster.defs.daily import stored_box_score_last
    from bestbets_dagster.defs.models import current_training_week
    from bestbets_dagster.timeutil import monday_of, today_eastern

    if week is not None:
        return current_training_week(week)
    newest = stored_box_score_last(store)
    this_week = current_training_week(today_eastern())
    if newest is None or dt.date.fromisoformat(this_week) > monday_of(newest) + dt.timedelta(days=7):
        latest = f"{monday_of(newest) + dt.timedelta(days=7)}" if newest else "YYYY-MM-DD"
        raise SystemExit(
            f"this week ({this_week}) is past the data: the newest stored box score is {newest or 'none'}, so its "
            f"model would train on no game after it. Name the week with --week (the latest with new games: "
            f"--week {latest}) or ingest the newer box scores first"
        )
    return this_week


@click.command(help="train family models for a training week (default: this week)")
@home_options
@click.option("--family", "name", help="one family id")
@click.option("--all", "every", is_flag=True, help="every enabled family")
@click.option("--week", type=DATE, help="any date of the training week (its Monday is the cutoff)")
@click.option("--enable", is_flag=True, help="promote a model that passes the gates")
@click.option("--dry-run", is_flag=True, help="train and evaluate, store nothing")
def retrain(name: str | None, every: bool, week: dt.date | None, enable: bool, dry_run: bool) -> int:
    if bool(name) == every:
        raise click.UsageError("give one of --family F or --all")
    store, _, families = _families()
    if every:
        chosen = sorted(n for n, f in families.items() if f.enabled)
    else:
        _known(name, families)
        if not families[name].enabled:
            raise SystemExit(f"family {name} is disabled: `bestbets family enable {name}` first")
        chosen = [name]
    monday = _week_to_train(store, week)
    print(f"training week {monday}: {', '.join(chosen)}" + (" (dry run)" if dry_run else ""))
    if dry_run:
        return 0
    with writing_home("retrain"):
        train_week(monday, chosen, enable, store)
    return show_registry(None if every else name, monday)


def train_week(week: str, chosen: list[str], enable: bool, store) -> None:
    """The week's training window, each chosen family's model of the week, then the registry: the jobs
    the weekly sensor runs, in this process."""
    from dagster import DagsterInstance, MultiPartitionKey

    from bestbets_dagster.definitions import build_definitions
    from bestbets_dagster.defs.models import sync_family_partitions

    instance = DagsterInstance.get()
    sync_family_partitions(instance, store)
    defs = build_definitions()
    # The week's training window first: every family's model of the week trains on exactly its rows.
    defs.resolve_job_def("training_windows_job").execute_in_process(
        instance=instance, partition_key=week, tags=cli_run_tags(), run_config=QUIET, raise_on_error=True
    )
    job = defs.resolve_job_def("retrain_job")
    for name in chosen:
        job.execute_in_process(
            instance=instance,
            partition_key=MultiPartitionKey({"training_week": week, "model_family": name}),
            tags=cli_run_tags(),
            run_config={**QUIET, "ops": {"family_models": {"config": {"enable": enable}}}},
            raise_on_error=True,
        )
    defs.resolve_job_def("model_registry_job").execute_in_process(
        instance=instance, run_config=QUIET, tags=cli_run_tags(), raise_on_error=True
    )


def show_registry(name: str | None, week: str | None = None) -> int:
    from bestbets_dagster.models.registry import serving_periods

    store, _, by_id = _families()
    if name is not None:
        _known(name, by_id)
    registry = store.read("model_registry", family=name)
    if week:
        registry = registry[registry["training_cutoff"] == str(week)]
    periods = serving_periods(registry)[["model_id", "production_end_date"]].rename(
        columns={"production_end_date": "serves_until"}
    )
    registry = registry.merge(periods, on="model_id", how="left").sort_values(["model_family", "training_cutoff"])
    print_frame(registry, REGISTRY_COLUMNS)
    return 0


registry = command_group("registry", "the model registry")


@registry.command("list", help="every stored model with its gates, status and serving period")
@home_options
@click.option("--family", "name", help="only this family's models")
def registry_list(name: str | None) -> int:
    return show_registry(name)
