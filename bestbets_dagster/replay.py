"""The walk-forward replay: the whole graph materialized through Dagster over a date range, then a
report recomputed from the stored tables (JSON, and a printed summary). The `bestbets replay`
command is a thin wrapper; tests and other tools call `run_replay` directly."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import pandas as pd
from dagster import DagsterInstance, MultiPartitionKey

from bestbets_dagster import settings
from bestbets_dagster.bestbets.clv import describe_clv, summarize_clv
from bestbets_dagster.bestbets.config import BestBetsConfig
from bestbets_dagster.bestbets.history import graded_candidates
from bestbets_dagster.bestbets.market import graded_with_market
from bestbets_dagster.bestbets.probability import CALIBRATION_DAYS, walk_forward_probabilities
from bestbets_dagster.bestbets.results import summarize, summarize_by
from bestbets_dagster.definitions import build_definitions
from bestbets_dagster.defs.ingestion import DECISION_TIME_FROM_TAG, DECISION_TIME_OF_DAY_TAG
from bestbets_dagster.defs.models import sync_family_partitions
from bestbets_dagster.defs.partition_range import days_between, range_tags
from bestbets_dagster.defs.resources import current_warehouse
from bestbets_dagster.grading.html_report import ReplayTables, replay_html
from bestbets_dagster.grading.report import (
    bucket_tables,
    calibration_by_quantile,
    calibration_table,
    calibration_verdict,
    family_figures,
    format_buckets,
    format_calibration,
    format_calibration_by_quantile,
    format_market_comparison,
    format_table,
    format_weeks,
    market_comparison,
    shrunk_mae,
    weekly_rows,
)
from bestbets_dagster.grading.report_card import report_card_from_warehouse
from bestbets_dagster.ingest.box_scores import data_date_range
from bestbets_dagster.ingest.lines import current_offers, decision_times_of, match_summary
from bestbets_dagster.models.families import load_families
from bestbets_dagster.partitions import check_game_dates
from bestbets_dagster.resources.best_bets_settings import PROFILE_FIELDS
from bestbets_dagster.signals.backtest import signal_backtest
from bestbets_dagster.timeutil import monday_of, mondays


class Progress:
    """What a long replay is doing, for a person watching: each stage with its range and the time so
    far; inside a stage's loop, n of N done and an estimate of what is left (from the pace so far).
    On a terminal the loop is one bar that redraws; elsewhere (a log, CI) one plain line per step."""

    def __init__(self, stages: int, stream=None):
        self.stages, self.stream = stages, stream or sys.stdout
        self.began = self.stage_began = time.monotonic()
        self.done = 0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.seconds: dict[str, float] = {}  # wall seconds per finished stage, by its text

    def stage(self, text: str) -> None:
        self.finish()
        self.done += 1
        self.current = text
        self.stage_began = time.monotonic()
        print(f"[{self.done}/{self.stages}] {text} ({self.stage_began - self.began:.0f} s so far)", file=self.stream)
        self.stream.flush()

    def finish(self) -> None:
        """Close the running stage (its wall time into `seconds`)."""
        if self.done and self.current not in self.seconds:
            self.seconds[self.current] = round(time.monotonic() - self.stage_began, 1)

    def step(self, done: int, total: int, label: str) -> None:
        spent = time.monotonic() - self.stage_began
        left = spent / done * (total - done) if done else float("nan")
        bar = "#" * round(20 * done / total) + "." * (20 - round(20 * done / total))
        line = f"  [{bar}] {done}/{total} {label}: {spent:.0f} s, about {left:.0f} s left"
        if self.tty:
            print("\r" + line.ljust(100), end="\n" if done == total else "", file=self.stream)
        else:
            print(line, file=self.stream)
        self.stream.flush()


def report_path(start: dt.date, end: dt.date, selection: str | None = None, kind: str = "json"):
    """reports/replay_START_END[_SELECTION].json (or .html) under the home."""
    suffix = f"_{selection}" if selection else ""
    return settings.bestbets_home() / "reports" / f"replay_{start}_{end}{suffix}.{kind}"


def write_reports(report: dict, tables: ReplayTables, selection: str | None) -> tuple[Path, Path]:
    """The report as JSON and as the HTML page beside it; returns both paths."""
    start, end = dt.date.fromisoformat(report["start"]), dt.date.fromisoformat(report["end"])
    json_path, html_path = (report_path(start, end, selection, kind) for kind in ("json", "html"))
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    html_path.write_text(replay_html(report, tables))
    return json_path, html_path


def _train_and_predict(run, progress, instance, first, start, end, weeks, families_wanted, decided) -> list[str]:
    """Ingest and features through `end` (decided: the decision-time tags of the lines), a model per
    family and training week, and the predictions of [start, end]; returns the families replayed."""
    progress.stage(f"ingest and features {first}..{end}")
    run("build_job", {**range_tags(first, end), **decided})
    warehouse = current_warehouse()
    enabled = sorted(f.model_family for f in load_families(warehouse) if f.enabled)
    chosen = families_wanted or enabled
    unknown = sorted(set(chosen) - set(enabled))
    if unknown:
        raise SystemExit(f"not enabled families: {unknown}; enabled: {enabled}")
    sync_family_partitions(instance, warehouse)
    progress.stage(f"train {len(chosen)} families x {len(weeks)} weeks {weeks[0]}..{weeks[-1]}")
    run("training_windows_job", range_tags(weeks[0], weeks[-1]))
    for done, family in enumerate(chosen, 1):
        run(
            "retrain_job",
            range_tags(
                MultiPartitionKey({"training_week": str(weeks[0]), "model_family": family}),
                MultiPartitionKey({"training_week": str(weeks[-1]), "model_family": family}),
            ),
        )
        progress.step(done, len(chosen), f"{family} trained")
    run("model_registry_job", {})
    progress.stage(f"predict {start}..{end}")
    for done, family in enumerate(chosen, 1):
        run(
            "predictions_job",
            range_tags(
                MultiPartitionKey({"game_date": str(start), "model_family": family}),
                MultiPartitionKey({"game_date": str(end), "model_family": family}),
            ),
        )
        progress.step(done, len(chosen), f"{family} predicted")
    return chosen


def _picking(overrides: dict, quiet: dict, decision_time_of_day: dt.time | None) -> tuple[BestBetsConfig, dict, str]:
    """The best-bets config of this replay, the run config of the picking jobs (the best-bets
    resource's settings chosen for it), and the report file's label: replay_D1_D2.json, _ev / _edge
    for a selection alone, _cfg-<version> otherwise, _decided-HHMM for a decision time."""
    config = BestBetsConfig.from_dict(overrides)
    picking = {**quiet, "resources": {"best_bets": {"config": resource_config(overrides)}}} if overrides else quiet
    label = None if not overrides else config.selection if set(overrides) == {"selection"} else f"cfg-{config.version}"
    if decision_time_of_day is not None:
        label = "_".join(filter(None, [label, f"decided-{decision_time_of_day:%H%M}"]))
    return config, picking, label


def _families_predicted(warehouse, start: dt.date, end: dt.date, families_wanted: list[str] | None) -> list[str]:
    """--picks-only: the wanted families that this home predicted over the range."""
    predicted = warehouse.read("predictions", start, end, columns=["game_date", "model_family"])
    chosen = sorted(set(predicted["model_family"]) & set(families_wanted or predicted["model_family"]))
    if not chosen:
        raise SystemExit(f"no predictions of {start}..{end} in this home: run the replay without --picks-only first")
    return chosen


def _grade_and_pick(run, progress, start: dt.date, end: dt.date, weeks: list, picking: dict, grade: bool) -> None:
    """The daily cycle's order over the whole range: a date's picks read the monitoring of the dates
    before it, which reads those dates' graded candidates."""
    progress.stage(f"grade and evaluate the signals {start}..{end}")
    if grade:
        run("grading_job", range_tags(start, end))
    run("signal_tags_job", range_tags(start, end), picking)
    progress.stage(f"monitoring {start}..{end}")
    run("monitoring_job", range_tags(start, end))
    progress.stage(f"best bets, their grading and the weekly report cards {start}..{end}")
    run("best_bets_job", range_tags(start, end), picking)
    run("best_bets_grading_job", range_tags(start, end))
    run("report_card_job", range_tags(weeks[0], weeks[-1]), picking)


def run_replay(
    start: dt.date,
    end: dt.date,
    families_wanted: list[str] | None,
    instance=None,
    selection: str | None = None,
    run_tags: dict | None = None,
    settings_overrides: dict | None = None,
    picks_only: bool = False,
    decision_time_of_day: dt.time | None = None,
) -> dict:
    """Materialize the whole graph walk-forward over [start, end] through Dagster on the local
    instance: ingest and features for all the data up to `end`, one model per family and training
    week, predictions with the model of each date's week, grading, signals, picks and monitoring;
    then the report. selection: the best bets' rule for this replay (default: the configured one);
    settings_overrides: other best-bets settings for this replay ({name: value as in JSON});
    run_tags: added to every run (the CLI's process and host); picks_only: keep the home's models,
    predictions and grading and rerun only the candidates, monitoring and picks (another setting on
    the same predictions); decision_time_of_day: decide every date at this time (US Eastern), on the
    snapshots taken by then, as the daily slate would have (default: each date's stored decision, else
    the latest snapshot before each tip-off)."""
    began = time.monotonic()
    # Dagster's switch for single-run backfills: one "materialization planned" event per asset for a
    # ranged run instead of one per partition (half the event log writes of a replay). Its cost: the
    # partitions of a ranged run that fails are not marked failed (the failed run still shows).
    os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")
    data_dir = settings.data_dir()
    first, _ = data_date_range(data_dir)
    check_game_dates(start, end)
    if start < first:
        raise SystemExit(f"replay range {start}..{end} must start on or after the data's first game date, {first}")
    defs = build_definitions()
    instance = instance or DagsterInstance.get()
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}

    overrides = {**(settings_overrides or {}), **({"selection": selection} if selection else {})}
    config, picking, label = _picking(overrides, quiet, decision_time_of_day)

    def run(job_name: str, tags: dict, run_config: dict = quiet, partition_key: str | None = None) -> None:
        defs.resolve_job_def(job_name).execute_in_process(
            instance=instance,
            tags={**tags, **(run_tags or {})},
            run_config=run_config,
            partition_key=partition_key,
            raise_on_error=True,
        )

    progress = Progress(4 if picks_only else 6)
    weeks = mondays(start, end)
    if picks_only:
        warehouse = current_warehouse()
        chosen = _families_predicted(warehouse, start, end, families_wanted)
    else:
        # The time of day applies to the replayed dates; the history before them keeps its own (or none).
        decided = (
            {DECISION_TIME_OF_DAY_TAG: f"{decision_time_of_day:%H:%M}", DECISION_TIME_FROM_TAG: str(start)}
            if decision_time_of_day
            else {}
        )
        chosen = _train_and_predict(run, progress, instance, first, start, end, weeks, families_wanted, decided)
        warehouse = current_warehouse()
    _grade_and_pick(run, progress, start, end, weeks, picking, grade=not picks_only)
    progress.finish()
    report, tables = replay_report(warehouse, start, end, first, chosen, config, overrides)
    report["timing"] = {"wall_s": round(time.monotonic() - began, 1), "stages_s": progress.seconds}
    json_path, html_path = write_reports(report, tables, label)
    report["files"] = {"json": str(json_path), "html": str(html_path)}
    return report


# The best-bets settings the report names beside its figures.
REPORTED_SETTINGS = ("selection", "max_picks_per_day", "pickem_entry", "min_expected_value", "sourcing")


def _row_counts(warehouse, first: dt.date, start: dt.date, end: dt.date) -> dict[str, int]:
    """Rows of each table: the ingested ones from the data's first date, the replayed ones of the range."""
    ingested = ("player_game_logs", "team_game_logs", "prop_lines", "player_game_lines", "player_features")
    replayed = (
        "predictions",
        "prediction_accuracy",
        "pick_signal_tags",
        "signal_best_bets_picks",
        "best_bets_accuracy",
        "signal_health_daily",
        "model_performance_daily",
        "monitoring_alerts",
    )
    return {
        **{name: len(warehouse.read(name, first, end, columns=["game_date"])) for name in ingested},
        **{name: len(warehouse.read(name, start, end, columns=["game_date"])) for name in replayed},
    }


def replay_report(
    warehouse, start: dt.date, end: dt.date, first: dt.date, chosen: list[str], config: BestBetsConfig, overrides: dict
) -> tuple[dict, ReplayTables]:
    """The replay's report recomputed from the stored tables of [start, end] (ingest from `first`) of the
    families `chosen`, and the tables its HTML page draws."""
    data_dir = settings.data_dir()
    rows = _row_counts(warehouse, first, start, end)
    calibration_start = start - dt.timedelta(days=CALIBRATION_DAYS)
    graded = warehouse.read("prediction_accuracy", calibration_start, end)
    graded = graded[graded["model_family"].isin(chosen)]
    # The market's P of every graded prediction, from the books' lines as its date's decision saw them.
    offers = current_offers(
        warehouse.read("prop_lines", calibration_start, end),
        decision_times_of(
            warehouse.read("player_game_lines", calibration_start, end, columns=["game_date", "decision_time"])
        ),
    )
    graded = graded_with_market(graded, offers, config.nominal_price_books, [start])
    priced = walk_forward_probabilities(graded, days_between(start, end))
    market = market_comparison(graded, days_between(start, end), config.nominal_price_books)
    graded = graded[pd.to_datetime(graded["game_date"]) >= pd.Timestamp(start)]
    match = match_summary(warehouse.read("player_game_lines", start, end))
    pick_results = warehouse.read("best_bets_accuracy", start, end)
    tags = warehouse.read("pick_signal_tags", start, end)
    tables = ReplayTables(
        graded=graded,
        priced=priced,
        pick_results=pick_results,
        performance=warehouse.read("model_performance_daily", start, end),
        signals=signal_backtest(graded_candidates(tags, graded), start, end) if len(tags) else [],
        report_card=report_card_from_warehouse(warehouse, config, monday_of(end)),
    )
    reliability = calibration_table(priced)
    report = {
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
        "market": market,
        "calibration": reliability,
        "calibration_check": calibration_verdict(reliability),
        "calibration_by_quantile": calibration_by_quantile(priced),
        "buckets": bucket_tables(priced),
        "weeks": weekly_rows(graded, pick_results),
        "best_bets": {
            **{name: getattr(config, name) for name in REPORTED_SETTINGS},
            "settings": overrides,
            "config_version": config.version,
            **best_bets_report(warehouse, start, end),
        },
        "monitoring": monitoring_report(warehouse, start, end),
    }
    return report, tables


def resource_config(overrides: dict) -> dict:
    """Best-bets settings as the best_bets resource's run config (a profile rule as a mapping)."""
    out = dict(overrides)
    if "signal_profiles" in out:
        out["signal_profiles"] = [dict(zip(PROFILE_FIELDS, rule)) for rule in out["signal_profiles"]]
    if "sourcing_state_weights" in out and not isinstance(out["sourcing_state_weights"], dict):
        out["sourcing_state_weights"] = dict(out["sourcing_state_weights"])
    return out


def best_bets_report(warehouse, start: dt.date, end: dt.date) -> dict:
    """The graded picks of [start, end]: totals with units and ROI at each pick's real odds, by
    direction and by source family, and how many game days had picks."""
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
        "by_tier": summarize_by(results, "tier"),
        "by_family": summarize_by(results, "source_model_family"),
        "clv": summarize_clv(results),
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


def format_report(report: dict, path) -> str:
    """The printed summary of a replay report (the JSON beside it at `path` holds everything)."""
    out: list[str] = []
    ingest = report["ingest"]
    out.append(f"\nReplay {report['start']}..{report['end']} ({report['data_dir']})")
    out.append("rows: " + ", ".join(f"{name} {n}" for name, n in report["rows"].items()))
    out.append(
        f"match rate {ingest['match_rate']:.2%} ({ingest['matched_player_games']}/{ingest['lined_player_games']} "
        "lined player-games in games with box scores)"
    )
    out.append(format_table(report["families"]))
    out.append(
        "line-shrunk forecast (line + k (prediction - line), k walk-forward), weeks after the first: "
        + "; ".join(
            f"{family} {f['mae_shrunk']:.3f} (model {f['mae_model']:.3f}, line {f['mae_line']:.3f})"
            for family, f in report["line_shrunk"].items()
        )
    )
    out.append(format_weeks(report["weeks"]))
    out.append(
        "P(over) against the market, walk-forward (log loss and Brier score: the market's no-vig consensus of the "
        "other books, each family's P before the market anchor, the combined P; the combined fit's weights):"
    )
    out.append(format_market_comparison(report["market"]))
    out.append("calibration of P(over) (the combined P), every family's graded predictions, by tenth of P:")
    out.append(format_calibration(report["calibration"], report["calibration_check"]))
    out.append("the same by equal-count decile of P:")
    out.append(format_calibration_by_quantile(report["calibration_by_quantile"]))
    out.append(format_buckets(report["buckets"]["by_p_win"], "bets on the edge's side by P(win)"))
    out.append(format_buckets(report["buckets"]["by_abs_edge"], "bets on the edge's side by |edge|"))
    bets = report["best_bets"]
    nominal = (
        f" (pick'em picks at the {bets['pickem_entry']} entry's break-even)" if bets["nominal_price_share"] else ""
    )
    out.append(
        f"best bets ({bets['selection']} selection): {bets['n_picks']} graded picks on "
        f"{bets['game_days_with_picks']}/{bets['game_days']} game days, "
        f"{bets['wins']}-{bets['losses']} ({bets['pushes']} pushes, {bets['voids']} voids), "
        f"hit rate {_pct(bets['hit_rate'])}, {bets['units']:+.2f} units, ROI {_pct(bets['roi'])}{nominal} "
        "(shopped line)"
    )
    selected = bets["at_selected_book"]
    out.append(
        f"  at the selected book's line: {selected['wins']}-{selected['losses']} ({selected['pushes']} pushes), "
        f"hit rate {_pct(selected['hit_rate'])}, {selected['units']:+.2f} units, ROI {_pct(selected['roi'])}{nominal}"
    )
    for direction, figures in bets["by_direction"].items():
        out.append(
            f"  {direction:5} {figures['wins']}-{figures['losses']} {_pct(figures['hit_rate'])} "
            f"{figures['units']:+.2f} u"
        )
    for name in ("value", "lean"):
        figures = bets["by_tier"].get(name)
        out.append(f"  {name:5} {describe_record(figures) if figures else 'no graded picks'}")
    out.append(f"  {describe_clv(bets['clv'])}")
    monitoring = report["monitoring"]
    out.append(
        "monitoring: model state-days "
        + ", ".join(f"{k} {v}" for k, v in sorted(monitoring["model_state_days"].items()))
        + "; alerts "
        + ", ".join(f"{k} {v}" for k, v in sorted(monitoring["alerts"].items()))
    )
    everything = report["market"]["all"]
    if everything:
        verdict = "no worse than" if everything["log_loss_combined"] <= everything["log_loss_market"] else "WORSE than"
        out.append(
            f"P(win) anchored on the market: combined log loss {everything['log_loss_combined']:.4f}, the market's "
            f"{everything['log_loss_market']:.4f} ({verdict} the market; {everything['n']} decided predictions)"
        )
    card = bets["by_tier"]
    out.append(
        f"the card ({bets['max_picks_per_day']} a day at most): "
        + "; ".join(f"{name} {describe_record(card[name]) if card.get(name) else 'none'}" for name in ("value", "lean"))
    )
    out.append(f"wall time {report['timing']['wall_s']} s; report: {report['files']['html']} (JSON: {path})")
    return "\n".join(out)


def describe_record(figures: dict) -> str:
    """W-L of graded picks with the hit rate's 95% interval, units and ROI at the judged price."""
    interval = (
        f" (95% {_pct(figures['hit_rate_low'])}-{_pct(figures['hit_rate_high'])})"
        if figures.get("hit_rate_low") is not None
        else ""
    )
    pushes = f" ({figures['pushes']} pushes)" if figures["pushes"] else ""
    return (
        f"{figures['n_picks']} picks, {figures['wins']}-{figures['losses']}"
        f"{pushes}, hit rate {_pct(figures['hit_rate'])}"
        f"{interval}, {figures['units']:+.2f} units, ROI {_pct(figures['roi'])}"
    )


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"
