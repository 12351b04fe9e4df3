"""The `bestbets` command. Every command runs the assets through Dagster on the local instance
($DAGSTER_HOME, default $BESTBETS_HOME/dagster), so its runs and lineage show in the Dagster UI."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from bestbets_dagster import settings


def _apply_environment(args: argparse.Namespace) -> None:
    # Settings are read when Definitions are built, so set them before importing the definitions.
    if getattr(args, "data_dir", None):
        os.environ["BESTBETS_DATA_DIR"] = str(Path(args.data_dir).expanduser().resolve())
    if getattr(args, "home", None):
        home = Path(args.home).expanduser().resolve()
        os.environ["BESTBETS_HOME"] = str(home)
        os.environ["DAGSTER_HOME"] = str(home / "dagster")  # one home: warehouse and instance move together
    settings.ensure_dagster_home()


PID_TAG, HOST_TAG = "bestbets/pid", "bestbets/host"


def cli_run_tags() -> dict[str, str]:
    """Tags of every run this command starts: which process on which machine runs it."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, and another user's
    return True


def fail_dead_runs(instance) -> list[str]:
    """Runs a bestbets command started on this machine that are still STARTED although their process
    is gone (SIGKILL, a crash, a reboot) are marked failed, so the UI tells the truth. Returns their ids."""
    from dagster import DagsterRunStatus, RunsFilter

    runs = instance.get_runs(
        filters=RunsFilter(
            statuses=[DagsterRunStatus.STARTING, DagsterRunStatus.STARTED], tags={HOST_TAG: socket.gethostname()}
        )
    )
    failed = []
    for run in runs:
        pid = int(run.tags.get(PID_TAG, "0"))
        if pid and pid != os.getpid() and not _alive(pid):
            instance.report_run_failed(run, f"marked failed by bestbets: the process that ran it (pid {pid}) is gone")
            failed.append(run.run_id)
    if failed:
        print(f"marked {len(failed)} run(s) failed whose process is gone: {', '.join(failed)}", file=sys.stderr)
    return failed


@contextlib.contextmanager
def writing_home(command: str):
    """One writing command per home at a time: a second one refuses at once, naming the first (two
    overlapping builds of one range with different inputs would leave a mix of both). Runs left
    STARTED by a killed command are marked failed first."""
    from dagster import DagsterInstance

    home = settings.bestbets_home()
    home.mkdir(parents=True, exist_ok=True)
    with open(home / "bestbets.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            raise SystemExit(
                f"another bestbets command is writing to {home} ({lock.read().strip() or 'unknown'}): "
                "wait for it to finish, or stop it, and run again"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(
            f"pid {os.getpid()}: bestbets {command}, since {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M:%S} UTC"
        )
        lock.flush()
        try:
            fail_dead_runs(DagsterInstance.get())
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _date(text: str) -> dt.date:
    from bestbets_dagster.timeutil import parse_date

    try:
        return parse_date(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def check_game_dates(start: dt.date, end: dt.date) -> None:
    """Refuse a range outside the game-date partitions: before the first, or after today's slate."""
    from bestbets_dagster.timeutil import today_eastern

    first, last = dt.date.fromisoformat(settings.partition_start()), today_eastern() + dt.timedelta(days=1)
    if start > end:
        raise SystemExit(f"--start {start} is after --end {end}")
    if end > last:
        raise SystemExit(
            f"{end} is after the last game-date partition, {last} (today's slate): "
            "a date in the future has no partition yet"
        )
    if start < first:
        raise SystemExit(f"{start} is before the first game-date partition, {first} (BESTBETS_PARTITION_START)")


def run_job(job_name: str, start: dt.date | None, end: dt.date | None) -> dict:
    """Materialize a job's assets for [start, end] in one run; return row counts and the match rate."""
    from dagster import DagsterInstance

    from bestbets_dagster.definitions import build_definitions
    from bestbets_dagster.defs.partition_range import range_tags
    from bestbets_dagster.defs.resources import resources_for_env
    from bestbets_dagster.ingest.box_scores import data_date_range
    from bestbets_dagster.ingest.lines import match_summary

    defs = build_definitions()
    data_dir = settings.data_dir()
    if start is None or end is None:
        first, last = data_date_range(data_dir)
        start, end = start or first, end or last
    check_game_dates(start, end)
    began = time.monotonic()
    job = defs.resolve_job_def(job_name)
    result = job.execute_in_process(
        instance=DagsterInstance.get(),
        tags={**range_tags(start, end), **cli_run_tags()},
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        raise_on_error=True,
    )
    warehouse = resources_for_env(settings.bestbets_env())["warehouse"]
    tables = ["player_game_logs", "team_game_logs", "prop_lines", "player_game_lines"]
    if job_name == "build_job":
        tables.append("player_features")
    counts = {name: len(warehouse.read(name, start, end, columns=["game_date"])) for name in tables}
    report = {
        "start": str(start),
        "end": str(end),
        "data_dir": str(data_dir),
        "run_id": result.run_id,
        "rows": counts,
        "match": match_summary(warehouse.read("player_game_lines", start, end)),
    }
    if "player_features" in counts:
        features = warehouse.read(
            "player_features", start, end, columns=["quality_tier", "is_training_ready", "has_prop_line"]
        )
        report["features"] = {
            "training_ready_share": round(float(features["is_training_ready"].mean()), 4) if len(features) else None,
            "lined_rows": int(features["has_prop_line"].sum()),
            "quality_tiers": features["quality_tier"].value_counts().to_dict(),
        }
    report["wall_s"] = round(time.monotonic() - began, 1)
    return report


def _print_report(report: dict) -> None:
    print(f"Materialized {report['start']}..{report['end']} from {report['data_dir']} (run {report['run_id']})")
    for name, n in report["rows"].items():
        print(f"  {name:<20} {n:>8} rows")
    m = report["match"]
    rate = "n/a" if m["match_rate"] is None else f"{m['match_rate']:.2%}"
    print(
        f"  lined player-games {m['lined_player_games']}, in games with box scores "
        f"{m['lined_player_games_with_box_score']}, resolved {m['matched_player_games']}: match rate {rate}"
    )
    if m["first_unresolved"]:
        print(
            f"  unresolved or ambiguous: {m['unresolved'] + m['ambiguous']}, first: {', '.join(m['first_unresolved'])}"
        )
    if "features" in report:
        f = report["features"]
        print(
            f"  player_features: {f['lined_rows']} rows with a line, training-ready share {f['training_ready_share']}, "
            f"tiers {f['quality_tiers']}"
        )
    print(f"  wall time {report['wall_s']} s")


def cmd_ingest(args: argparse.Namespace) -> int:
    _apply_environment(args)
    with writing_home("ingest"):
        _print_report(run_job("ingest_job", args.start, args.end))
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    _apply_environment(args)
    with writing_home("build"):
        _print_report(run_job("build_job", args.start, args.end))
    return 0


def _warehouse():
    from bestbets_dagster.defs.resources import resources_for_env

    return resources_for_env(settings.bestbets_env())["warehouse"]


def _print_frame(df, columns: list[str]) -> None:
    import pandas as pd

    if df.empty:
        print("(none)")
        return
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.max_colwidth", 60):
        print(df[columns].to_string(index=False))


def cmd_family(args: argparse.Namespace) -> int:
    import dataclasses

    from bestbets_dagster.models.families import (
        check_loss,
        load_families,
        new_family,
        save_families,
    )

    _apply_environment(args)
    warehouse = _warehouse()
    families = load_families(warehouse)
    by_id = {f.model_family: f for f in families}
    if args.action == "add":
        try:
            check_loss(args.loss)
        except ValueError as error:
            raise SystemExit(f"family add: {error}") from None
        fam = new_family(
            args.feature_set,
            args.loss,
            training_window_days=args.window,
            retrain_cadence_days=args.cadence,
            enabled=not args.disabled,
            auto_promote=args.auto_promote,
            auto_retrain=args.auto_retrain,
            notes=args.notes,
        )
        if fam.model_family in by_id:
            raise SystemExit(f"family {fam.model_family} exists already")
        save_families(warehouse, [*families, fam])
        print(
            f"added {fam.model_family} ({fam.feature_set}, {fam.loss_function}, enabled={fam.enabled}); "
            "its partitions follow on the next tick of model_family_partitions_sensor"
        )
    elif args.action == "remove":
        if args.family not in by_id:
            raise SystemExit(f"unknown family {args.family}; known: {', '.join(sorted(by_id))}")
        stored = warehouse.read("model_registry", family=args.family, columns=["model_id"])
        if len(stored):
            raise SystemExit(
                f"family {args.family} has {len(stored)} stored models: "
                f"`bestbets family disable {args.family}` keeps their record"
            )
        save_families(warehouse, [f for f in families if f.model_family != args.family])
        from dagster import DagsterInstance

        sync_family_partitions(DagsterInstance.get(), warehouse)
        print(f"removed {args.family}")
    elif args.action in ("enable", "disable"):
        if args.family not in by_id:
            raise SystemExit(f"unknown family {args.family}; known: {', '.join(sorted(by_id))}")
        by_id[args.family] = dataclasses.replace(by_id[args.family], enabled=args.action == "enable")
        save_families(warehouse, list(by_id.values()))
        print(f"{args.action}d {args.family}")
    families = load_families(warehouse)
    import pandas as pd

    _print_frame(
        pd.DataFrame([dataclasses.asdict(f) for f in families]),
        [
            "model_family",
            "feature_set",
            "loss_function",
            "training_window_days",
            "retrain_cadence_days",
            "enabled",
            "auto_promote",
            "auto_retrain",
        ],
    )
    return 0


def sync_family_partitions(instance, warehouse) -> tuple[list[str], list[str]]:
    """What model_family_partitions_sensor requests, applied directly (for commands run without the daemon)."""
    from bestbets_dagster.defs.models import partition_changes
    from bestbets_dagster.models.families import enabled_family_ids
    from bestbets_dagster.partitions import MODEL_FAMILY_PARTITIONS_NAME

    existing = instance.get_dynamic_partitions(MODEL_FAMILY_PARTITIONS_NAME)
    add, delete = partition_changes(existing, enabled_family_ids(warehouse))
    if add:
        instance.add_dynamic_partitions(MODEL_FAMILY_PARTITIONS_NAME, add)
    for key in delete:
        instance.delete_dynamic_partition(MODEL_FAMILY_PARTITIONS_NAME, key)
    return add, delete


def cmd_retrain(args: argparse.Namespace) -> int:
    from bestbets_dagster.defs.models import current_training_week
    from bestbets_dagster.models.families import load_families
    from bestbets_dagster.timeutil import today_eastern

    _apply_environment(args)
    warehouse = _warehouse()
    families = {f.model_family: f for f in load_families(warehouse)}
    if args.all:
        chosen = sorted(name for name, f in families.items() if f.enabled)
    else:
        if args.family not in families:
            raise SystemExit(f"unknown family {args.family}; known: {', '.join(sorted(families))}")
        if not families[args.family].enabled:
            raise SystemExit(f"family {args.family} is disabled: `bestbets family enable {args.family}` first")
        chosen = [args.family]
    week = current_training_week(args.week or today_eastern())
    print(f"training week {week}: {', '.join(chosen)}" + (" (dry run)" if args.dry_run else ""))
    if args.dry_run:
        return 0
    with writing_home("retrain"):
        _train_week(week, chosen, args.enable, warehouse)
    return cmd_registry(
        argparse.Namespace(family=None if args.all else args.family, week=week, data_dir=None, home=None)
    )


def _train_week(week: str, chosen: list[str], enable: bool, warehouse) -> None:
    from dagster import DagsterInstance, MultiPartitionKey

    from bestbets_dagster.definitions import build_definitions

    instance = DagsterInstance.get()
    sync_family_partitions(instance, warehouse)
    defs = build_definitions()
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    # The week's training window first: every family's model of the week trains on exactly its rows.
    defs.resolve_job_def("training_windows_job").execute_in_process(
        instance=instance, partition_key=week, tags=cli_run_tags(), run_config=quiet, raise_on_error=True
    )
    job = defs.resolve_job_def("retrain_job")
    for name in chosen:
        job.execute_in_process(
            instance=instance,
            partition_key=MultiPartitionKey({"training_week": week, "model_family": name}),
            tags=cli_run_tags(),
            run_config={
                "ops": {"family_models": {"config": {"enable": enable}}},
                "loggers": {"console": {"config": {"log_level": "WARNING"}}},
            },
            raise_on_error=True,
        )
    defs.resolve_job_def("model_registry_job").execute_in_process(
        instance=instance, run_config=quiet, tags=cli_run_tags(), raise_on_error=True
    )


def cmd_registry(args: argparse.Namespace) -> int:
    from bestbets_dagster.models.registry import serving_periods

    _apply_environment(args)
    registry = _warehouse().read("model_registry", family=getattr(args, "family", None))
    if getattr(args, "week", None):
        registry = registry[registry["training_cutoff"] == str(args.week)]
    periods = serving_periods(registry)[["model_id", "production_end_date"]].rename(
        columns={"production_end_date": "serves_until"}
    )
    registry = registry.merge(periods, on="model_id", how="left").sort_values(["model_family", "training_cutoff"])
    _print_frame(
        registry,
        [
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
        ],
    )
    return 0


def cmd_signal_backtest(args: argparse.Namespace) -> int:
    import json

    from bestbets_dagster.bestbets.history import graded_candidates
    from bestbets_dagster.signals.backtest import format_backtest, signal_backtest

    _apply_environment(args)
    warehouse = _warehouse()
    tags = warehouse.read("pick_signal_tags", args.start, args.end)
    if tags.empty:
        raise SystemExit(f"no pick_signal_tags rows in {args.start}..{args.end}: materialize best_bets_job first")
    graded = graded_candidates(tags, warehouse.read("prediction_accuracy", args.start, args.end))
    try:
        results = signal_backtest(graded, args.start, args.end, args.signal, args.window_days)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    print(json.dumps(results, indent=1) if args.json else format_backtest(results))
    return 0


def run_replay(
    start: dt.date, end: dt.date, families_wanted: list[str] | None, instance=None, selection: str | None = None
) -> dict:
    """Materialize the whole graph walk-forward over [start, end] through Dagster on the local
    instance: ingest and features for all the data up to `end`, one model per family and training
    week, predictions with the model of each date's week, grading; then the report."""
    import pandas as pd
    from dagster import DagsterInstance, MultiPartitionKey

    from bestbets_dagster.bestbets.config import BestBetsConfig
    from bestbets_dagster.bestbets.probability import CALIBRATION_DAYS, walk_forward_probabilities
    from bestbets_dagster.definitions import build_definitions
    from bestbets_dagster.defs.partition_range import days_between, range_tags
    from bestbets_dagster.grading.report import (
        bucket_tables,
        calibration_table,
        family_figures,
        shrunk_mae,
        weekly_rows,
    )
    from bestbets_dagster.ingest.box_scores import data_date_range
    from bestbets_dagster.ingest.lines import match_summary
    from bestbets_dagster.models.families import load_families
    from bestbets_dagster.timeutil import mondays

    began = time.monotonic()
    data_dir = settings.data_dir()
    first, _ = data_date_range(data_dir)
    check_game_dates(start, end)
    if start < first:
        raise SystemExit(f"replay range {start}..{end} must start on or after the data's first game date, {first}")
    defs = build_definitions()
    instance = instance or DagsterInstance.get()
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}

    # The run config of the picking jobs: the best-bets resource's selection rule, when one is chosen.
    picking = {**quiet, "resources": {"best_bets": {"config": {"selection": selection}}}} if selection else quiet

    def run(job_name: str, tags: dict, run_config: dict = quiet) -> None:
        defs.resolve_job_def(job_name).execute_in_process(
            instance=instance, tags={**tags, **cli_run_tags()}, run_config=run_config, raise_on_error=True
        )

    print(f"[1/6] ingest and features {first}..{end}", flush=True)
    run("build_job", range_tags(first, end))
    warehouse = _warehouse()
    enabled = sorted(f.model_family for f in load_families(warehouse) if f.enabled)
    chosen = families_wanted or enabled
    unknown = sorted(set(chosen) - set(enabled))
    if unknown:
        raise SystemExit(f"not enabled families: {unknown}; enabled: {enabled}")
    sync_family_partitions(instance, warehouse)
    weeks = mondays(start, end)
    print(f"[2/6] train {len(chosen)} families x {len(weeks)} weeks {weeks[0]}..{weeks[-1]}", flush=True)
    run("training_windows_job", range_tags(weeks[0], weeks[-1]))
    for family in chosen:
        run(
            "retrain_job",
            range_tags(
                MultiPartitionKey({"training_week": str(weeks[0]), "model_family": family}),
                MultiPartitionKey({"training_week": str(weeks[-1]), "model_family": family}),
            ),
        )
    run("model_registry_job", {})
    print(f"[3/6] predict {start}..{end}", flush=True)
    for family in chosen:
        run(
            "predictions_job",
            range_tags(
                MultiPartitionKey({"game_date": str(start), "model_family": family}),
                MultiPartitionKey({"game_date": str(end), "model_family": family}),
            ),
        )
    # The daily cycle's order over the whole range: a date's picks read the monitoring of the dates
    # before it, which reads those dates' graded candidates.
    print(f"[4/6] grade and evaluate the signals {start}..{end}", flush=True)
    run("grading_job", range_tags(start, end))
    run("signal_tags_job", range_tags(start, end), picking)
    print(f"[5/6] monitoring {start}..{end}", flush=True)
    run("monitoring_job", range_tags(start, end))
    print(f"[6/6] best bets and their grading {start}..{end}", flush=True)
    run("best_bets_job", range_tags(start, end), picking)
    run("best_bets_grading_job", range_tags(start, end))
    rows = {
        name: len(warehouse.read(name, first, end, columns=["game_date"]))
        for name in ("player_game_logs", "team_game_logs", "prop_lines", "player_game_lines", "player_features")
    }
    rows.update(
        {
            name: len(warehouse.read(name, start, end, columns=["game_date"]))
            for name in (
                "predictions",
                "prediction_accuracy",
                "pick_signal_tags",
                "signal_best_bets_picks",
                "best_bets_accuracy",
                "signal_health_daily",
                "model_performance_daily",
                "monitoring_alerts",
            )
        }
    )
    graded = warehouse.read("prediction_accuracy", start - dt.timedelta(days=CALIBRATION_DAYS), end)
    graded = graded[graded["model_family"].isin(chosen)]
    priced = walk_forward_probabilities(graded, days_between(start, end))
    graded = graded[pd.to_datetime(graded["game_date"]) >= pd.Timestamp(start)]
    match = match_summary(warehouse.read("player_game_lines", start, end))
    pick_results = warehouse.read("best_bets_accuracy", start, end)
    return {
        "start": str(start),
        "end": str(end),
        "data_dir": str(data_dir),
        "ingest": {
            "lined_player_games": match["lined_player_games_with_box_score"],
            "matched_player_games": match["matched_player_games"],
            "match_rate": match["match_rate"],
            "lined_player_games_all": match["lined_player_games"],
        },
        "rows": rows,
        "families": family_figures(graded),
        "line_shrunk": shrunk_mae(graded),
        "calibration": calibration_table(priced),
        "buckets": bucket_tables(priced),
        "weeks": weekly_rows(graded, pick_results),
        "best_bets": {"selection": selection or BestBetsConfig().selection, **best_bets_report(warehouse, start, end)},
        "monitoring": monitoring_report(warehouse, start, end),
        "timing": {"wall_s": round(time.monotonic() - began, 1)},
    }


def best_bets_report(warehouse, start: dt.date, end: dt.date) -> dict:
    """The graded picks of [start, end]: totals with units and ROI at each pick's real odds, by
    direction and by source family, and how many game days had picks."""
    from bestbets_dagster.bestbets.results import summarize, summarize_by

    results = warehouse.read("best_bets_accuracy", start, end)
    picks = warehouse.read("signal_best_bets_picks", start, end, columns=["game_date"])
    decisions = warehouse.read("best_bets_decisions", start, end, columns=["game_date", "n_candidates"])
    selected = (
        results.assign(result=results["selected_result"], units=results["selected_units"]) if len(results) else results
    )
    return {
        **summarize(results),
        # The same picks at the selected book's line and price: what line shopping added.
        "at_selected_book": summarize(selected),
        "nominal_price_share": round(float(results["price_is_nominal"].astype(bool).mean()), 4)
        if len(results)
        else None,
        "game_days": int((decisions["n_candidates"] > 0).sum()),
        "game_days_with_picks": int(picks["game_date"].nunique()),
        "by_direction": summarize_by(results, "recommendation"),
        "by_family": summarize_by(results, "source_model_family"),
    }


def monitoring_report(warehouse, start: dt.date, end: dt.date) -> dict:
    """How the models and signals stood: state-days per model state, regime-days per signal regime,
    alerts per type, and the last day's states."""
    performance = warehouse.read("model_performance_daily", start, end)
    health = warehouse.read("signal_health_daily", start, end)
    alerts = warehouse.read("monitoring_alerts", start, end)
    last = performance[performance["game_date"] == performance["game_date"].max()] if len(performance) else performance
    return {
        "model_state_days": performance["state"].value_counts().to_dict(),
        "signal_regime_days": health[health["is_registered"].astype(bool)]["regime"].value_counts().to_dict(),
        "alerts": alerts["alert_type"].value_counts().to_dict(),
        "last_day_states": dict(zip(last["model_family"], last["state"])),
    }


def cmd_replay(args: argparse.Namespace) -> int:
    import json

    from bestbets_dagster.grading.report import format_buckets, format_calibration, format_table, format_weeks

    _apply_environment(args)
    families = [f.strip() for f in args.families.split(",") if f.strip()] if args.families else None
    with writing_home("replay"):
        report = run_replay(args.start, args.end, families, selection=args.selection)
    suffix = f"_{args.selection}" if args.selection else ""
    path = settings.bestbets_home() / "reports" / f"replay_{args.start}_{args.end}{suffix}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    ingest = report["ingest"]
    print(f"\nReplay {report['start']}..{report['end']} ({report['data_dir']})")
    print("rows: " + ", ".join(f"{name} {n}" for name, n in report["rows"].items()))
    print(
        f"match rate {ingest['match_rate']:.2%} ({ingest['matched_player_games']}/{ingest['lined_player_games']} "
        "lined player-games in games with box scores)"
    )
    print(format_table(report["families"]))
    print(
        "line-shrunk forecast (line + k (prediction - line), k walk-forward), weeks after the first: "
        + "; ".join(
            f"{family} {f['mae_shrunk']:.3f} (model {f['mae_model']:.3f}, line {f['mae_line']:.3f})"
            for family, f in report["line_shrunk"].items()
        )
    )
    print(format_weeks(report["weeks"]))
    print("calibration of P(over), every family's graded predictions, by decile:")
    print(format_calibration(report["calibration"]))
    print(format_buckets(report["buckets"]["by_p_win"], "bets on the edge's side by P(win)"))
    print(format_buckets(report["buckets"]["by_abs_edge"], "bets on the edge's side by |edge|"))
    bets = report["best_bets"]
    nominal = " at the nominal price" if bets["nominal_price_share"] else ""
    print(
        f"best bets ({bets['selection']} selection): {bets['n_picks']} graded picks on "
        f"{bets['game_days_with_picks']}/{bets['game_days']} game days, "
        f"{bets['wins']}-{bets['losses']} ({bets['pushes']} pushes, {bets['voids']} voids), "
        f"hit rate {_pct(bets['hit_rate'])}, {bets['units']:+.2f} units, ROI {_pct(bets['roi'])}{nominal} "
        "(shopped line)"
    )
    selected = bets["at_selected_book"]
    print(
        f"  at the selected book's line: {selected['wins']}-{selected['losses']} ({selected['pushes']} pushes), "
        f"hit rate {_pct(selected['hit_rate'])}, {selected['units']:+.2f} units, ROI {_pct(selected['roi'])}{nominal}"
    )
    for direction, figures in bets["by_direction"].items():
        print(
            f"  {direction:5} {figures['wins']}-{figures['losses']} {_pct(figures['hit_rate'])} "
            f"{figures['units']:+.2f} u"
        )
    monitoring = report["monitoring"]
    print(
        "monitoring: model state-days "
        + ", ".join(f"{k} {v}" for k, v in sorted(monitoring["model_state_days"].items()))
        + "; alerts "
        + ", ".join(f"{k} {v}" for k, v in sorted(monitoring["alerts"].items()))
    )
    print(f"wall time {report['timing']['wall_s']} s; report: {path}")
    return 0


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def cmd_dev(args: argparse.Namespace) -> int:
    _apply_environment(args)
    # The interpreter running this command, so the venv need not be activated.
    command = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-w",
        str(settings.PROJECT_ROOT / "workspace.yaml"),
        "-p",
        str(args.port),
    ]
    print(f"DAGSTER_HOME={os.environ['DAGSTER_HOME']} {' '.join(command)}")
    return subprocess.call(command, cwd=settings.PROJECT_ROOT)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bestbets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", help="a directory laid out like ../shared/data/nba (default: BESTBETS_DATA_DIR)")
        p.add_argument("--home", help="BESTBETS_HOME: warehouse, artifacts, reports and the Dagster instance")

    ingest = sub.add_parser("ingest", help="ingest box scores and prop lines for a date range (default: all the data)")
    common(ingest)
    ingest.add_argument("--start", type=_date)
    ingest.add_argument("--end", type=_date)
    ingest.set_defaults(func=cmd_ingest)

    build = sub.add_parser("build", help="ingest and build player_features for a date range (default: all the data)")
    common(build)
    build.add_argument("--start", type=_date)
    build.add_argument("--end", type=_date)
    build.set_defaults(func=cmd_build)

    family = sub.add_parser("family", help="list, add, enable or disable model families")
    common(family)
    fam_sub = family.add_subparsers(dest="action", required=True)
    fam_sub.add_parser("list", help="the family table")
    add = fam_sub.add_parser("add", help="add a family: one row, no code change")
    add.add_argument("--feature-set", required=True, choices=["v9", "v12", "v12_noveg"])
    add.add_argument("--loss", required=True, help="CatBoost loss, e.g. MAE, Quantile:alpha=0.40, Huber:delta=5")
    add.add_argument("--window", type=int, default=42, help="game days in the training window")
    add.add_argument("--cadence", type=int, default=7, help="retrain cadence in days")
    add.add_argument("--disabled", action="store_true")
    add.add_argument("--no-auto-promote", dest="auto_promote", action="store_false")
    add.add_argument("--no-auto-retrain", dest="auto_retrain", action="store_false")
    add.add_argument("--notes")
    for action in ("enable", "disable", "remove"):
        p = fam_sub.add_parser(
            action, help="remove: only a family with no stored models" if action == "remove" else None
        )
        p.add_argument("family")
    family.set_defaults(func=cmd_family)

    retrain = sub.add_parser("retrain", help="train family models for a training week (default: this week)")
    common(retrain)
    which = retrain.add_mutually_exclusive_group(required=True)
    which.add_argument("--family")
    which.add_argument("--all", action="store_true", help="every enabled family")
    retrain.add_argument("--week", type=_date, help="any date of the training week (its Monday is the cutoff)")
    retrain.add_argument("--enable", action="store_true", help="promote a model that passes the gates")
    retrain.add_argument("--dry-run", action="store_true")
    retrain.set_defaults(func=cmd_retrain)

    registry = sub.add_parser("registry", help="the model registry")
    common(registry)
    reg_sub = registry.add_subparsers(dest="action", required=True)
    listing = reg_sub.add_parser("list")
    listing.add_argument("--family")
    registry.set_defaults(func=cmd_registry)

    replay = sub.add_parser("replay", help="the whole graph walk-forward over a date range, then a report")
    common(replay)
    replay.add_argument("--start", type=_date, required=True)
    replay.add_argument("--end", type=_date, required=True)
    replay.add_argument("--families", help="comma-separated families (default: every enabled family)")
    replay.add_argument(
        "--selection",
        choices=("ev", "edge"),
        help="the best bets' selection rule for this replay (default: the configured one, ev); "
        "edge is the original's largest-|edge| rule",
    )
    replay.set_defaults(func=cmd_replay)

    backtest = sub.add_parser("signal-backtest", help="hit rate and N per signal, direction and window on graded data")
    common(backtest)
    backtest.add_argument("--start", type=_date, required=True)
    backtest.add_argument("--end", type=_date, required=True)
    backtest.add_argument("--signal", help="one signal tag (default: every signal, prototypes included)")
    backtest.add_argument("--window-days", type=int, default=14)
    backtest.add_argument("--json", action="store_true", help="print JSON instead of the table")
    backtest.set_defaults(func=cmd_signal_backtest)

    dev = sub.add_parser("dev", help="open the Dagster UI on this project's instance")
    common(dev)
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(func=cmd_dev)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
