"""The `bestbets` command. Every command runs the assets through Dagster on the local instance
($DAGSTER_HOME, default $BESTBETS_HOME/dagster), so its runs and lineage show in the Dagster UI.

Project modules are imported inside the commands, after `--home` and `--data-dir` are applied:
the settings are read when the definitions are built."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
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


# A run created and never started (its launcher killed between the two) is dead after this long.
NOT_STARTED_GRACE = dt.timedelta(minutes=10)


def _run_pid(instance, run) -> int | None:
    """The pid that runs `run`: the bestbets command's tag, else the process that logged its start
    (a run Dagster's CLI or the UI started in this instance)."""
    from dagster import DagsterEventType

    if run.tags.get(PID_TAG):
        return int(run.tags[PID_TAG])
    started = instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_START)
    return started[-1].dagster_event.pid if started and started[-1].dagster_event else None


def fail_dead_runs(instance) -> list[str]:
    """Runs left behind by a killed process are marked failed, whoever started them, so the UI tells the
    truth: a run STARTING or STARTED whose process is gone (SIGKILL, a crash, a reboot), and a run NOT_STARTED
    for 10 minutes (created, never launched). A run a bestbets command started on another machine (its host
    tag) is left to that machine; untagged runs are judged only on a local (SQLite) instance, where every
    run's process is on this machine. Returns their ids."""
    from dagster import DagsterRunStatus, RunsFilter

    host, local = socket.gethostname(), not os.environ.get("DAGSTER_PG_HOST")
    records = instance.get_run_records(
        filters=RunsFilter(statuses=[DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED])
    )
    now = dt.datetime.now(dt.timezone.utc)
    failed = []
    for record in records:
        run = record.dagster_run
        if run.tags.get(HOST_TAG, host if local else None) != host:
            continue
        if run.status == DagsterRunStatus.NOT_STARTED:
            pid = int(run.tags.get(PID_TAG, "0"))
            dead = now - record.create_timestamp > NOT_STARTED_GRACE and not (pid and _alive(pid))
            reason = f"it was created {record.create_timestamp:%Y-%m-%d %H:%M} UTC and never started"
        else:
            pid = _run_pid(instance, run)
            dead = bool(pid) and pid != os.getpid() and not _alive(pid)
            reason = f"the process that ran it (pid {pid}) is gone"
        if dead:
            instance.report_run_failed(run, f"marked failed by bestbets: {reason}")
            failed.append(run.run_id)
    if failed:
        print(f"marked {len(failed)} run(s) failed whose process is gone: {', '.join(failed)}", file=sys.stderr)
    return failed


@contextlib.contextmanager
def writing_home(command: str):
    """One writing command per home at a time: a second one refuses at once, naming the first (two
    overlapping builds of one range with different inputs would leave a mix of both). Runs left
    behind by a killed command are marked failed first."""
    from dagster import DagsterInstance

    from bestbets_dagster.home_lock import HomeBusy, writing

    try:
        with writing(settings.bestbets_home(), command):
            fail_dead_runs(DagsterInstance.get())
            _warehouse()  # a damaged warehouse stops the command before it writes anything
            yield
    except HomeBusy as busy:
        raise SystemExit(str(busy)) from None


def _date(text: str) -> dt.date:
    from bestbets_dagster.timeutil import parse_date

    try:
        return parse_date(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _time_of_day(text: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time of day (HH:MM): {text!r}") from None


def run_build(start: dt.date | None, end: dt.date | None, allow_shrink: bool = False) -> dict:
    """build_job (box scores, lines, features) for [start, end] in one run, as
    `dagster job execute -j build_job` with the range tags would; return row counts and the match rate."""
    from dagster import DagsterInstance

    from bestbets_dagster.definitions import build_definitions
    from bestbets_dagster.defs.ingestion import ALLOW_SHRINK_TAG
    from bestbets_dagster.defs.partition_range import range_tags
    from bestbets_dagster.defs.resources import resources_for_env
    from bestbets_dagster.ingest.box_scores import data_date_range
    from bestbets_dagster.ingest.lines import match_summary
    from bestbets_dagster.partitions import check_game_dates

    defs = build_definitions()
    data_dir = settings.data_dir()
    if start is None or end is None:
        first, last = data_date_range(data_dir)
        start, end = start or first, end or last
    check_game_dates(start, end)
    began = time.monotonic()
    result = defs.resolve_job_def("build_job").execute_in_process(
        instance=DagsterInstance.get(),
        tags={**range_tags(start, end), **cli_run_tags(), **({ALLOW_SHRINK_TAG: "true"} if allow_shrink else {})},
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        raise_on_error=True,
    )
    warehouse = resources_for_env(settings.bestbets_env())["warehouse"]
    tables = ["player_game_logs", "team_game_logs", "prop_lines", "player_game_lines", "player_features"]
    counts = {name: len(warehouse.read(name, start, end, columns=["game_date"])) for name in tables}
    report = {
        "start": str(start),
        "end": str(end),
        "data_dir": str(data_dir),
        "run_id": result.run_id,
        "rows": counts,
        "match": match_summary(warehouse.read("player_game_lines", start, end)),
    }
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
    f = report["features"]
    print(
        f"  player_features: {f['lined_rows']} rows with a line, training-ready share {f['training_ready_share']}, "
        f"tiers {f['quality_tiers']}"
    )
    print(f"  wall time {report['wall_s']} s")


def cmd_build(args: argparse.Namespace) -> int:
    _apply_environment(args)
    with writing_home("build"):
        _print_report(run_build(args.start, args.end, args.allow_shrink))
    return 0


def _print_frame(df, columns: list[str]) -> None:
    import pandas as pd

    if df.empty:
        print("(none)")
        return
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.max_colwidth", 60):
        print(df[columns].to_string(index=False))


def cmd_family(args: argparse.Namespace) -> int:
    import dataclasses

    from bestbets_dagster.defs.models import sync_family_partitions
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
            check_loss(args.loss)
        except ValueError as error:
            raise SystemExit(f"family add: {error}") from None
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


def cmd_retrain(args: argparse.Namespace) -> int:
    from bestbets_dagster.defs.daily import stored_box_score_last
    from bestbets_dagster.defs.models import current_training_week
    from bestbets_dagster.models.families import load_families
    from bestbets_dagster.timeutil import monday_of, today_eastern

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
    if args.week is None:
        newest = stored_box_score_last(warehouse)
        week = current_training_week(today_eastern())
        if newest is None or dt.date.fromisoformat(week) > monday_of(newest) + dt.timedelta(days=7):
            latest = f"{monday_of(newest) + dt.timedelta(days=7)}" if newest else "YYYY-MM-DD"
            raise SystemExit(
                f"this week ({week}) is past the data: the newest stored box score is {newest or 'none'}, so its "
                f"model would train on no game after it. Name the week with --week (the latest with new games: "
                f"--week {latest}) or ingest the newer box scores first"
            )
    else:
        week = current_training_week(args.week)
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
    from bestbets_dagster.defs.models import sync_family_partitions

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
    from bestbets_dagster.models.families import load_families
    from bestbets_dagster.models.registry import serving_periods

    _apply_environment(args)
    warehouse = _warehouse()
    family = getattr(args, "family", None)
    known = sorted(f.model_family for f in load_families(warehouse))
    if family is not None and family not in known:
        raise SystemExit(f"unknown family {family}; known: {', '.join(known)}")
    registry = warehouse.read("model_registry", family=family)
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


def cmd_config(args: argparse.Namespace) -> int:
    import json

    from bestbets_dagster.bestbets.dashboard import dashboard_from_warehouse, format_dashboard
    from bestbets_dagster.resources import BestBetsSettings
    from bestbets_dagster.timeutil import today_eastern

    _apply_environment(args)
    warehouse = _warehouse()
    day = args.date or _newest_day_with_data(warehouse, today_eastern())
    view = dashboard_from_warehouse(warehouse, BestBetsSettings().config(), day)
    print(json.dumps(view, indent=1, default=str) if args.json else format_dashboard(view))
    return 0


def _newest_day_with_data(warehouse, today: dt.date) -> dt.date:
    """Today, when the warehouse has a best-bets decision for it; else the newest date that has one,
    said on stderr (a replay's warehouse ends long before today)."""
    from bestbets_dagster.bestbets.card import newest_card_date

    newest = newest_card_date(warehouse, today)
    if newest is None or newest == today:
        return today
    print(f"today ({today}) has no data; as of the newest date with best bets, {newest}", file=sys.stderr)
    return newest


def cmd_picks(args: argparse.Namespace) -> int:
    from bestbets_dagster.commands.picks import show_picks
    from bestbets_dagster.defs.resources import resources_for_env
    from bestbets_dagster.timeutil import today_eastern

    _apply_environment(args)
    artifacts = resources_for_env(settings.bestbets_env())["artifacts"]
    code, text = show_picks(args.date, args.json, today_eastern(), _warehouse(), artifacts)
    print(text, file=sys.stdout if code == 0 else sys.stderr)
    return code


def cmd_report_card(args: argparse.Namespace) -> int:
    import json

    from bestbets_dagster.grading.report_card import format_report_card, report_card_from_warehouse
    from bestbets_dagster.resources import BestBetsSettings
    from bestbets_dagster.timeutil import monday_of, today_eastern

    _apply_environment(args)
    warehouse = _warehouse()
    week = monday_of(args.week or _newest_day_with_data(warehouse, today_eastern()) - dt.timedelta(days=7))
    card = report_card_from_warehouse(warehouse, BestBetsSettings().config(), week)
    print(json.dumps(card, indent=1) if args.json else format_report_card(card))
    return 0


def setting_override(text: str) -> tuple[str, object]:
    """NAME=JSON -> (name, value); a bare word that is not JSON is taken as a string."""
    from bestbets_dagster.bestbets.config import BestBetsConfig

    name, sep, raw = text.partition("=")
    if not sep or name not in BestBetsConfig.__dataclass_fields__:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected NAME=JSON with NAME one of {sorted(BestBetsConfig.__dataclass_fields__)}"
        )
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    try:
        BestBetsConfig.from_dict({name: value})
    except (TypeError, ValueError) as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from None
    return name, value


def cmd_replay(args: argparse.Namespace) -> int:
    from bestbets_dagster.replay import format_report, run_replay

    _apply_environment(args)
    families = [f.strip() for f in args.families.split(",") if f.strip()] if args.families else None
    with writing_home("replay"):
        report = run_replay(
            args.start,
            args.end,
            families,
            selection=args.selection,
            run_tags=cli_run_tags(),
            settings_overrides=dict(args.set or []),
            picks_only=args.picks_only,
            decision_time_of_day=args.decision_time,
        )
    print(format_report(report, report["files"]["json"]))
    return 0


def cmd_experiment(args: argparse.Namespace) -> int:
    import pandas as pd
    from dagster import DagsterInstance

    from bestbets_dagster.definitions import build_definitions
    from bestbets_dagster.defs.experiments import experiment_reads
    from bestbets_dagster.defs.partition_range import range_tags
    from bestbets_dagster.experiments.runs import ExperimentSpec, format_weeks
    from bestbets_dagster.ingest.box_scores import data_date_range
    from bestbets_dagster.partitions import EXPERIMENT_PARTITIONS_NAME

    _apply_environment(args)
    if args.walkforward and not (args.start and args.end):
        raise SystemExit("--walkforward needs --start and --end (the days predicted)")
    if (args.start or args.end) and not args.walkforward:
        raise SystemExit(
            "--start / --end are the walk-forward range: add --walkforward (or use --train-start / --train-end)"
        )
    spec = ExperimentSpec(
        args.name,
        args.feature_set,
        args.loss,
        args.train_start,
        args.train_end,
        args.start if args.walkforward else None,
        args.end if args.walkforward else None,
    )
    try:
        spec.check()
    except ValueError as error:
        raise SystemExit(f"experiment {args.name}: {error}") from None
    first, last = data_date_range(settings.data_dir())
    _, needed = experiment_reads(spec, last)
    if needed > last:
        raise SystemExit(f"experiment {args.name}: the data ends on {last}, before {needed}")
    with writing_home("experiment"):
        instance = DagsterInstance.get()
        defs = build_definitions()
        quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
        warehouse = _warehouse()
        built = warehouse.read("player_features", needed, needed, columns=["game_date"])
        if built.empty:  # the features the experiment reads are not built yet: build them as `bestbets build` does
            print(f"building the features {first}..{needed} first", file=sys.stderr)
            defs.resolve_job_def("build_job").execute_in_process(
                instance=instance, run_config=quiet, tags={**range_tags(first, needed), **cli_run_tags()}
            )
        if args.name not in instance.get_dynamic_partitions(EXPERIMENT_PARTITIONS_NAME):
            instance.add_dynamic_partitions(EXPERIMENT_PARTITIONS_NAME, [args.name])
        recipe = {
            "feature_set": spec.feature_set,
            "loss_function": spec.loss_function,
            **{
                key: str(value)
                for key, value in (
                    ("train_start", spec.train_start),
                    ("train_end", spec.train_end),
                    ("walkforward_start", spec.walkforward_start),
                    ("walkforward_end", spec.walkforward_end),
                )
                if value is not None
            },
        }
        result = defs.resolve_job_def("experiment_job").execute_in_process(
            instance=instance,
            partition_key=args.name,
            run_config={
                **quiet,
                "ops": {"model_experiments": {"config": recipe}},
                **({"resources": {"best_bets": {"config": {"selection": args.selection}}}} if args.selection else {}),
            },
            tags=cli_run_tags(),
            raise_on_error=True,
        )
    stored = _warehouse().read("model_experiments")
    row = stored[stored["experiment_name"] == args.name].iloc[0]
    print(f"experiment {args.name}: {row.model_family} ({row.loss_function}, {row.feature_set}), {row['mode']}")
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
    print(f"Dagster run {result.run_id} (asset model_experiments, partition {args.name})")
    return 0


def _days(args: argparse.Namespace) -> list[dt.date]:
    from bestbets_dagster.defs.partition_range import days_between

    if args.date and (args.start or args.end):
        raise SystemExit("give --date, or --start and --end, not both")
    if args.date:
        return [args.date]
    if not (args.start and args.end):
        raise SystemExit("give --date D, or --start D1 --end D2")
    return days_between(args.start, args.end)


def cmd_fetch(args: argparse.Namespace) -> int:
    _apply_environment(args)
    from bestbets_dagster.commands import fetch

    days = _days(args)
    if args.source == "odds":
        if args.dry_run:
            return fetch.odds_dry_run(days, args.at)
        events = [e for e in (args.events or "").split(",") if e]
        return fetch.fetch_odds(days, args.at, events, cli_run_tags())
    return fetch.fetch_box_scores(days, args.replace, cli_run_tags())


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
    # --home and --data-dir are accepted in any position: before the command, after it, after an
    # action (`bestbets family list --home H`). Below the top level they default to SUPPRESS, so a
    # value given before the command is not reset by a subcommand that did not see it.
    def home_options(default) -> argparse.ArgumentParser:
        options = argparse.ArgumentParser(add_help=False)
        options.add_argument(
            "--home",
            default=default,
            help="BESTBETS_HOME: warehouse, model artifacts, reports and the Dagster instance (default ./.bestbets)",
        )
        options.add_argument(
            "--data-dir",
            default=default,
            help="a directory laid out like ../shared/data/nba (default: BESTBETS_DATA_DIR, else ../shared/data/nba)",
        )
        return options

    anywhere = home_options(argparse.SUPPRESS)
    parser = argparse.ArgumentParser(prog="bestbets", description=__doc__, parents=[home_options(None)])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str, func, parent=sub) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=text, description=text, parents=[anywhere])
        p.set_defaults(func=func)
        return p

    def date_range(p: argparse.ArgumentParser, required: bool, default: str = "") -> None:
        p.add_argument("--start", type=_date, required=required, help=f"first game date, YYYY-MM-DD{default}")
        p.add_argument("--end", type=_date, required=required, help=f"last game date, YYYY-MM-DD{default}")

    build = command(
        "build",
        "ingest box scores and lines and build player_features for a date range, then print row counts "
        "and the line-to-player match rate",
        cmd_build,
    )
    date_range(build, required=False, default=" (default: the data's first / last box-score date)")
    build.add_argument(
        "--allow-shrink",
        action="store_true",
        help="let a date's rows fall more than 10%% below the stored ones (kept otherwise, with a warning)",
    )

    family = command("family", "list, add, enable, disable or remove model families", cmd_family)
    fam_sub = family.add_subparsers(dest="action", required=True, metavar="ACTION")
    command("list", "the family table", cmd_family, fam_sub)
    add = command("add", "add a family: one row, no code change", cmd_family, fam_sub)
    add.add_argument("--feature-set", required=True, choices=["v9", "v12", "v12_noveg"], help="the feature set")
    add.add_argument("--loss", required=True, help="CatBoost loss, e.g. MAE, Quantile:alpha=0.40, Huber:delta=5")
    add.add_argument("--window", type=int, default=42, help="game days in the training window (default 42)")
    add.add_argument("--cadence", type=int, default=7, help="retrain cadence in days (default 7)")
    add.add_argument("--disabled", action="store_true", help="add it disabled (no training, no predictions)")
    add.add_argument(
        "--no-auto-promote",
        dest="auto_promote",
        action="store_false",
        help="a model that passes the gates stays a shadow",
    )
    add.add_argument(
        "--no-auto-retrain", dest="auto_retrain", action="store_false", help="the weekly sensor does not train it"
    )
    add.add_argument("--notes", help="free text kept on the family's row")
    for action, text in (
        ("enable", "enable a family: trained and predicted from the next run on"),
        ("disable", "disable a family: no more training or predictions (its models stay)"),
        ("remove", "remove a family with no stored models"),
    ):
        command(action, text, cmd_family, fam_sub).add_argument("family", help="the family id, e.g. v9_mae")

    retrain = command("retrain", "train family models for a training week (default: this week)", cmd_retrain)
    which = retrain.add_mutually_exclusive_group(required=True)
    which.add_argument("--family", help="one family id")
    which.add_argument("--all", action="store_true", help="every enabled family")
    retrain.add_argument("--week", type=_date, help="any date of the training week (its Monday is the cutoff)")
    retrain.add_argument("--enable", action="store_true", help="promote a model that passes the gates")
    retrain.add_argument("--dry-run", action="store_true", help="train and evaluate, store nothing")

    registry = command("registry", "the model registry", cmd_registry)
    reg_sub = registry.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = command("list", "every stored model with its gates, status and serving period", cmd_registry, reg_sub)
    listing.add_argument("--family", help="only this family's models")

    replay = command("replay", "the whole graph walk-forward over a date range, then a report", cmd_replay)
    date_range(replay, required=True)
    replay.add_argument("--families", help="comma-separated families (default: every enabled family)")
    replay.add_argument(
        "--selection",
        choices=("ev", "edge"),
        help="the best bets' selection rule for this replay (default: the configured one, ev); "
        "edge is the original's largest-|edge| rule",
    )
    replay.add_argument(
        "--set",
        action="append",
        type=setting_override,
        metavar="NAME=JSON",
        help="a best-bets setting for this replay, its value as JSON (repeatable), e.g. --set sourcing=performance "
        'or --set \'signal_profiles=[["*", "point", "UNDER", 0]]\'; `bestbets config` lists the settings',
    )
    replay.add_argument(
        "--decision-time",
        type=_time_of_day,
        help="decide every date at this time, HH:MM US Eastern, on the snapshots taken by then (as the daily "
        "slate would have); default: each date's stored decision, else the latest snapshot before tip-off",
    )
    replay.add_argument(
        "--picks-only",
        action="store_true",
        help="keep this home's models, predictions and grading of the range (an earlier replay's) and rerun "
        "only the candidates, monitoring and picks: another best-bets setting in a minute",
    )

    experiment = command(
        "experiment",
        "train a feature set x loss with the production gates, once or walk-forward week by week, against the "
        "real lines; stored in model_experiments, registered as a disabled family when it passes",
        cmd_experiment,
    )
    experiment.add_argument("--name", required=True, help="the experiment's name (its partition in the UI)")
    experiment.add_argument("--feature-set", required=True, help="v9, v12 or v12_noveg")
    experiment.add_argument("--loss", required=True, help="a CatBoost loss: MAE, Quantile:alpha=0.43, Huber:delta=5")
    experiment.add_argument("--train-start", type=_date, help="single training: first game day")
    experiment.add_argument("--train-end", type=_date, help="single training: last game day (default: the newest)")
    experiment.add_argument(
        "--walkforward", action="store_true", help="retrain weekly over --start..--end as the replay does"
    )
    date_range(experiment, required=False, default=" of the walk-forward")
    experiment.add_argument(
        "--selection",
        choices=("ev", "edge"),
        help="the bets' selection rule in the weekly table (default: the configured one, ev)",
    )

    backtest = command(
        "signal-backtest", "hit rate and N per signal, direction and window on graded data", cmd_signal_backtest
    )
    date_range(backtest, required=True)
    backtest.add_argument("--signal", help="one signal tag (default: every signal, prototypes included)")
    backtest.add_argument("--window-days", type=int, default=14, help="days per window (default 14)")
    backtest.add_argument("--json", action="store_true", help="print JSON instead of the table")

    config = command(
        "config", "the best-bets rules and how each stands: families, filters, signals, combos", cmd_config
    )
    config.add_argument("--date", type=_date, help="as of this game date (default: today, US Eastern)")
    config.add_argument("--json", action="store_true", help="print JSON instead of Markdown")

    picks = command(
        "picks", "the day's card: each pick with its price, the market's view, P(win), EV and tier", cmd_picks
    )
    picks.add_argument("--date", type=_date, help="a game date (default: today's card, else the newest one)")
    picks.add_argument("--json", action="store_true", help="print the export's JSON instead of the card")

    card = command(
        "report-card", "the week's report card: hit rate and units by direction, tier, family, signal", cmd_report_card
    )
    card.add_argument("--week", type=_date, help="any date of the week (default: last week, US Eastern)")
    card.add_argument("--json", action="store_true", help="print JSON instead of Markdown")

    fetch = command("fetch", "download into the data directory: an Odds API snapshot, or NBA.com box scores", cmd_fetch)
    fetch_sub = fetch.add_subparsers(dest="source", required=True, metavar="SOURCE")
    odds = command(
        "odds",
        "a snapshot of each date's lines (live for today or later, the historical endpoints for a past date)",
        cmd_fetch,
        fetch_sub,
    )
    boxes = command("box-scores", "a played date's box scores, once every game is final", cmd_fetch, fetch_sub)
    for p in (odds, boxes):
        p.add_argument("--date", type=_date, help="one game date, YYYY-MM-DD")
        date_range(p, required=False, default=" (a backfill: one run per date)")
    odds.add_argument("--at", help="a past date's snapshot time, HH:MM US Eastern (default 12:00)")
    odds.add_argument("--events", help="comma-separated event ids (default: every event of the date)")
    odds.add_argument(
        "--dry-run",
        action="store_true",
        help="list the events and print the most the snapshots would cost, spend nothing else "
        "(a past date's listing costs 1 credit)",
    )
    boxes.add_argument("--replace", action="store_true", help="download a date the data directory already has")

    dev = command("dev", "open the Dagster UI on this project's instance", cmd_dev)
    dev.add_argument("--port", type=int, default=3000, help="the UI's port (default 3000)")
    return parser


def _warehouse():
    """The environment's warehouse, read whole once first (a damaged file fails here, saying what to do)."""
    from bestbets_dagster.defs.resources import current_warehouse

    warehouse = current_warehouse()
    warehouse.verify()
    return warehouse


def _user_errors() -> tuple[type[Exception], ...]:
    """The errors whose message is the whole story (file, row, what to do): printed without a traceback.
    Imported when one is raised: the warehouse module imports DuckDB and Dagster."""
    from bestbets_dagster.home_lock import HomeBusy
    from bestbets_dagster.ingest.errors import IngestError
    from bestbets_dagster.resources.warehouse import WarehouseError
    from bestbets_dagster.tables import DataValidationError

    return (IngestError, WarehouseError, DataValidationError, HomeBusy)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    start, end = getattr(args, "start", None), getattr(args, "end", None)
    if start and end and start > end:
        parser.error(f"the date range is reversed: --start {start} is after --end {end}")
    # --data-dir and --home before any command imports the definitions: the game-date partitions start
    # where the data directory's box scores do, read when the partitions module is first imported.
    _apply_environment(args)
    try:
        return args.func(args)
    except _user_errors() as error:
        # A bad input or an unusable warehouse: the cause in one line (Dagster's log above has the trace).
        print(f"bestbets {args.command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
