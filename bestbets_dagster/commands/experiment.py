"""`bestbets experiment`: a feature set x loss trained with the production gates, once or walk-forward week
by week, against the real lines; one partition of the model_experiments asset per experiment name."""

from __future__ import annotations

import datetime as dt
import json
import sys

import click

from bestbets_dagster import settings
from bestbets_dagster.commands.options import DATE, date_range, home_options
from bestbets_dagster.commands.session import QUIET, cli_run_tags, warehouse, writing_home


def _recipe(spec) -> dict:
    """The asset's run config: the spec's fields that are set, dates as text."""
    dates = (
        ("train_start", spec.train_start),
        ("train_end", spec.train_end),
        ("walkforward_start", spec.walkforward_start),
        ("walkforward_end", spec.walkforward_end),
    )
    return {
        "feature_set": spec.feature_set,
        "loss_function": spec.loss_function,
        **{key: str(value) for key, value in dates if value is not None},
    }


def _run_experiment(spec, selection: str | None, first: dt.date, needed: dt.date) -> str:
    """Build the features the experiment reads when missing, then materialize its partition; the run id."""
    from dagster import DagsterInstance

    from bestbets_dagster.definitions import build_definitions
    from bestbets_dagster.defs.partition_range import range_tags
    from bestbets_dagster.partitions import EXPERIMENT_PARTITIONS_NAME

    instance, defs = DagsterInstance.get(), build_definitions()
    if warehouse().read("player_features", needed, needed, columns=["game_date"]).empty:
        print(f"building the features {first}..{needed} first", file=sys.stderr)
        defs.resolve_job_def("build_job").execute_in_process(
            instance=instance, run_config=QUIET, tags={**range_tags(first, needed), **cli_run_tags()}
        )
    if spec.name not in instance.get_dynamic_partitions(EXPERIMENT_PARTITIONS_NAME):
        instance.add_dynamic_partitions(EXPERIMENT_PARTITIONS_NAME, [spec.name])
    result = defs.resolve_job_def("experiment_job").execute_in_process(
        instance=instance,
        partition_key=spec.name,
        run_config={
            **QUIET,
            "ops": {"model_experiments": {"config": _recipe(spec)}},
            **({"resources": {"best_bets": {"config": {"selection": selection}}}} if selection else {}),
        },
        tags=cli_run_tags(),
        raise_on_error=True,
    )
    return result.run_id


def _print_experiment(name: str, run_id: str) -> None:
    import pandas as pd

    from bestbets_dagster.experiments.runs import format_weeks

    stored = warehouse().read("model_experiments")
    row = stored[stored["experiment_name"] == name].iloc[0]
    print(f"experiment {name}: {row.model_family} ({row.loss_function}, {row.feature_set}), {row['mode']}")
    print(format_weeks(pd.DataFrame(json.loads(row.weeks_json))))
    summary = (
        f"all: n {row.n_rows}, MAE {row.mae:.3f} vs the line's {row.line_mae:.3f}, bias {row.bias:+.2f}; "
        f"{row.n_bets} bets ({row.selection})"
    )
    if pd.notna(row.hit_rate):
        summary += f", hit rate {row.hit_rate:.1f}%"
    if pd.notna(row.units):
        summary += f", {row.units:+.2f} units"
    print(summary)
    print(
        f"{'passed' if row.passed else 'did not pass'}: {row.verdict}; registered: {'yes' if row.registered else 'no'}"
    )
    print(f"Dagster run {run_id} (asset model_experiments, partition {name})")


@click.command(
    help="train a feature set x loss with the production gates, once or walk-forward week by week, against the "
    "real lines; stored in model_experiments, registered as a disabled family when it passes"
)
@home_options
@click.option("--name", required=True, help="the experiment's name (its partition in the UI)")
@click.option("--feature-set", required=True, help="v9, v12 or v12_noveg")
@click.option("--loss", required=True, help="a CatBoost loss: MAE, Quantile:alpha=0.43, Huber:delta=5")
@click.option("--train-start", type=DATE, help="single training: first game day")
@click.option("--train-end", type=DATE, help="single training: last game day (default: the newest)")
@click.option("--walkforward", is_flag=True, help="retrain weekly over --start..--end as the replay does")
@date_range(required=False, default=" of the walk-forward")
@click.option(
    "--selection",
    type=click.Choice(["ev", "edge"]),
    help="the bets' selection rule in the weekly table (default: the configured one, ev)",
)
def experiment(name, feature_set, loss, train_start, train_end, walkforward, start, end, selection) -> int:
    from bestbets_dagster.defs.experiments import experiment_reads
    from bestbets_dagster.experiments.runs import ExperimentSpec
    from bestbets_dagster.ingest.box_scores import data_date_range

    if walkforward and not (start and end):
        raise SystemExit("--walkforward needs --start and --end (the days predicted)")
    if (start or end) and not walkforward:
        raise SystemExit(
            "--start / --end are the walk-forward range: add --walkforward (or use --train-start / --train-end)"
        )
    spec = ExperimentSpec(name, feature_set, loss, train_start, train_end, start, end)
    try:
        spec.check()
    except ValueError as error:
        raise SystemExit(f"experiment {name}: {error}") from None
    first, last = data_date_range(settings.data_dir())
    _, needed = experiment_reads(spec, last)
    if needed > last:
        raise SystemExit(f"experiment {name}: the data ends on {last}, before {needed}")
    with writing_home("experiment"):
        run_id = _run_experiment(spec, selection, first, needed)
    _print_experiment(name, run_id)
    return 0
