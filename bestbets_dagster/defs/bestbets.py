"""Signals and best bets: pick_signal_tags, the aggregator's picks (with filter audit and decision
snapshot, exported as JSON), and the picks graded at their real odds."""

import datetime as dt
import json

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetDep,
    AssetExecutionContext,
    AssetObservation,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
    multi_asset,
)

from bestbets_dagster import tables
from bestbets_dagster.bestbets.card import card_html, card_markdown, html_key, newest_card_date
from bestbets_dagster.bestbets.clv import CLV_COLUMNS, closing_line_value, describe_clv, summarize_clv
from bestbets_dagster.bestbets.dashboard import dashboard_from_warehouse, format_dashboard
from bestbets_dagster.bestbets.days import HEALTH_LOOKBACK_DAYS, History, decide_days
from bestbets_dagster.bestbets.export import (
    DATED_CACHE_CONTROL,
    LATEST_CACHE_CONTROL,
    LATEST_KEY,
    dumps,
    export_key,
)
from bestbets_dagster.bestbets.pipeline import (
    HISTORY_LOOKBACK_DAYS,
    build_pick_signal_tags,
)
from bestbets_dagster.bestbets.probability import CALIBRATION_DAYS
from bestbets_dagster.bestbets.results import grade_picks, summarize, summarize_by
from bestbets_dagster.defs.checks import (
    lined_days,
    table_check_results,
    table_check_specs,
)
from bestbets_dagster.defs.partition_range import (
    GAME_DATE_OF,
    days_before,
    days_between,
    history_deps,
    partition_dates,
    range_metadata,
)
from bestbets_dagster.defs.table_assets import OWNERS, backend_kind, modules_version, table_asset, table_spec
from bestbets_dagster.ingest.lines import closing_lines, current_offers, decision_times_of
from bestbets_dagster.models.families import load_families
from bestbets_dagster.partitions import game_date_partitions
from bestbets_dagster.resources import ArtifactStore, BestBetsSettings, Warehouse
from bestbets_dagster.signals.registry import PROTOTYPE_TAGS, REGISTERED_TAGS
from bestbets_dagster.timeutil import today_eastern

DAY = dt.timedelta(days=1)


@table_asset(
    "pick_signal_tags",
    shaped_by=(
        "bestbets_dagster.betting",
        "bestbets_dagster.bestbets.candidates",
        "bestbets_dagster.bestbets.probability",
        "bestbets_dagster.bestbets.market",
        "bestbets_dagster.bestbets.tags",
        "bestbets_dagster.bestbets.pipeline",
        "bestbets_dagster.signals.registry",
        "bestbets_dagster.signals.context",
        "bestbets_dagster.signals.combos",
    ),
    blocking=True,
    # WARN, not blocking: a family without a model yet (or a replay of chosen families) still
    # lets the others' candidates through.
    checks={"predictions_from_every_enabled_family": "every enabled family predicted on every lined day of the run"},
    deps=[
        AssetDep("predictions", partition_mapping=GAME_DATE_OF),
        *history_deps("prediction_accuracy", "player_game_logs", "team_game_logs", through_the_day=False),
        *history_deps("player_game_lines", through_the_day=True),
        # Every book's offers: the day's (where each bet is shopped and what the market says of it) and
        # the calibration window's (the market's probability of the graded predictions fitted on).
        AssetDep("prop_lines", partition_mapping=days_before(CALIBRATION_DAYS, 0)),
    ],
    group="best_bets",
)
def pick_signal_tags(
    context: AssetExecutionContext, warehouse: Warehouse, best_bets: BestBetsSettings
) -> MaterializeResult:
    """One candidate per player-game from every enabled family, with every signal evaluated."""
    start, end = partition_dates(context)
    config = best_bets.config()
    families = [f for f in load_families(warehouse) if f.enabled]
    predictions = warehouse.read("predictions", start, end)
    predictions = predictions[predictions["model_family"].isin([f.model_family for f in families])]
    # The whole look-back for every input, so that a date computed alone or inside a range reads the
    # same history (streaks and season figures must not depend on where a run starts).
    history_start = start - dt.timedelta(days=HISTORY_LOOKBACK_DAYS)
    accuracy = warehouse.read("prediction_accuracy", history_start, end - DAY)
    lines = warehouse.read("player_game_lines", history_start, end)
    # Every book's offers as the day's decision saw them (its decision time, where the slate fixed one).
    decided = decision_times_of(lines)
    tags = build_pick_signal_tags(
        days_between(start, end),
        predictions,
        accuracy,
        warehouse.read("player_game_logs", history_start, end - DAY),
        warehouse.read("team_game_logs", history_start, end - DAY),
        lines,
        families,
        config,
        pd.Timestamp.now(tz="UTC"),
        offers=current_offers(warehouse.read("prop_lines", start - dt.timedelta(days=CALIBRATION_DAYS), end), decided),
    )
    written = warehouse.replace_partitions("pick_signal_tags", tags, start, end)
    lined = lined_days(warehouse, start, end)
    fired = tags["signal_tags"].explode().value_counts().to_dict() if written else {}
    prototypes = tags["prototype_signal_tags"].explode().value_counts().to_dict() if written else {}
    return MaterializeResult(
        metadata={
            **range_metadata(context, written, tags),
            "game_dates": int(tags["game_date"].nunique()) if written else 0,
            "signals_fired": MetadataValue.json({t: int(fired.get(t, 0)) for t in REGISTERED_TAGS}),
            "prototypes_fired": MetadataValue.json({t: int(prototypes.get(t, 0)) for t in PROTOTYPE_TAGS}),
            "by_source_family": MetadataValue.json(
                tags["source_model_family"].value_counts().to_dict() if written else {}
            ),
            # How many candidates are worth a bet at all, and where line shopping sent them.
            "priced_candidates": int((tags["calibration_n"] > 0).sum()) if written else 0,
            "above_ev_floor": int((tags["expected_value"] >= config.min_expected_value).sum()) if written else 0,
            "shopped_away_from_the_selected_book": int((tags["bet_book"] != tags["line_book"]).sum()) if written else 0,
            "sourcing": config.sourcing,
        },
        check_results=[
            *table_check_results(warehouse, "pick_signal_tags", start, end, expected_days=lined),
            _every_family_check(predictions, [f.model_family for f in families], lined),
        ],
    )


def _every_family_check(predictions: pd.DataFrame, families: list, lined: list) -> AssetCheckResult:
    have = set(zip(pd.to_datetime(predictions["game_date"]).dt.date, predictions["model_family"]))
    missing = [f"{day} {family}" for day in lined for family in families if (day, family) not in have]
    return AssetCheckResult(
        check_name="predictions_from_every_enabled_family",
        asset_key="pick_signal_tags",
        passed=not missing,
        severity=AssetCheckSeverity.WARN,
        metadata={"missing": ", ".join(missing[:20]), "n_missing": len(missing)},
    )


# The picks and their audit are decided by the whole picking package, the betting math, the signals,
# the families' health, and this module.
PICKS_CODE_VERSION = modules_version(
    "bestbets_dagster.defs.bestbets",
    "bestbets_dagster.bestbets",
    "bestbets_dagster.betting",
    "bestbets_dagster.signals",
    "bestbets_dagster.monitoring.signal_health",
    tables_read=["signal_best_bets_picks", "best_bets_filter_audit", "best_bets_decisions"],
)


@multi_asset(
    specs=[
        table_spec(
            "signal_best_bets_picks",
            group="best_bets",
            code_version=PICKS_CODE_VERSION,
            extra_kinds=("json",),
            deps=[
                AssetDep("pick_signal_tags", partition_mapping=days_before(HISTORY_LOOKBACK_DAYS, 0)),
                AssetDep("prediction_accuracy", partition_mapping=days_before(HISTORY_LOOKBACK_DAYS)),
                AssetDep("predictions", partition_mapping=GAME_DATE_OF),
                # the earlier picks and their record (the export's recent results)
                AssetDep("signal_best_bets_picks", partition_mapping=days_before(HISTORY_LOOKBACK_DAYS)),
                AssetDep("signal_health_daily", partition_mapping=days_before(HEALTH_LOOKBACK_DAYS)),
                AssetDep("model_performance_daily", partition_mapping=days_before(HEALTH_LOOKBACK_DAYS)),
                # the day's decision time and the snapshot its lines are of (the decision snapshot's "lines")
                AssetDep("player_game_lines"),
            ],
            description="The day's best bets, ranked, with provenance; exported as signal-best-bets/{date}.json.",
        ),
        table_spec(
            "best_bets_filter_audit",
            group="best_bets",
            code_version=PICKS_CODE_VERSION,
            deps=["pick_signal_tags"],
            description="Every rejected candidate with the first filter it failed.",
        ),
        table_spec(
            "best_bets_decisions",
            group="best_bets",
            code_version=PICKS_CODE_VERSION,
            deps=["pick_signal_tags"],
            description="The decision snapshot per date: config, signal regimes, model health, blacklist.",
        ),
    ],
    check_specs=[
        spec
        for name in ("signal_best_bets_picks", "best_bets_filter_audit", "best_bets_decisions")
        for spec in table_check_specs(name, blocking=False, game_days=False)
    ],
    partitions_def=game_date_partitions,
    backfill_policy=BackfillPolicy.single_run(),
)
def signal_best_bets_picks(
    context: AssetExecutionContext, warehouse: Warehouse, artifacts: ArtifactStore, best_bets: BestBetsSettings
):
    start, end = partition_dates(context)
    config = best_bets.config()
    decided = decide_days(days_between(start, end), _history(warehouse, start, end), config)
    picks, audit, decisions, exported = decided.picks, decided.audit, decided.decisions, decided.exported
    frames = {"signal_best_bets_picks": picks, "best_bets_filter_audit": audit, "best_bets_decisions": decisions}
    # Validate all three before writing any, and write the files only once the tables hold the picks.
    for name, frame in frames.items():
        tables.validate(name, frame, source=f"{name} {start}..{end}")
    written = {name: warehouse.replace_partitions(name, frame, start, end) for name, frame in frames.items()}
    _write_exports(artifacts, exported)
    rejected = {k: int(v) for k, v in audit["filter_name"].value_counts().items()} if len(audit) else {}
    yield MaterializeResult(
        asset_key="signal_best_bets_picks",
        metadata={
            **range_metadata(context, written["signal_best_bets_picks"], picks),
            **({"picks": picks_table(picks), **card_metadata(artifacts, exported[f"{start}"])} if start == end else {}),
            **_picks_summary(picks, decisions, rejected, exported, artifacts),
            "config_version": config.version,
        },
        check_results=table_check_results(warehouse, "signal_best_bets_picks", start, end),
    )
    yield MaterializeResult(
        asset_key="best_bets_filter_audit",
        metadata={**range_metadata(context, len(audit), audit), "rejected_per_filter": MetadataValue.json(rejected)},
        check_results=table_check_results(warehouse, "best_bets_filter_audit", start, end),
    )
    yield MaterializeResult(
        asset_key="best_bets_decisions",
        metadata=range_metadata(context, len(decisions), decisions),
        check_results=table_check_results(warehouse, "best_bets_decisions", start, end),
    )
    if start != end:
        # A ranged run stamps one materialization's metadata on every partition of the range (Dagster
        # takes one result per asset from a run): each day's own card and what it read go on that
        # partition as an observation instead.
        for day, document in exported.items():
            context.log_event(
                AssetObservation(
                    asset_key="signal_best_bets_picks", partition=day, metadata=card_metadata(artifacts, document)
                )
            )


PREDICTION_COLUMNS_READ = ["game_date", "model_family", "model_id", "edge"]


def _history(warehouse: Warehouse, start: dt.date, end: dt.date) -> History:
    """What the picks of [start, end] read: the look-back of the candidates and their grades, the picks
    before the range, and the stored signal health and model states of the health look-back."""
    history_start = start - dt.timedelta(days=HISTORY_LOOKBACK_DAYS)
    health_start = start - dt.timedelta(days=HEALTH_LOOKBACK_DAYS)
    return History(
        tags=warehouse.read("pick_signal_tags", history_start, end),
        accuracy=warehouse.read("prediction_accuracy", history_start, end - DAY),
        earlier_picks=warehouse.read("signal_best_bets_picks", history_start, start - DAY),
        predictions=warehouse.read(
            "predictions", start, end, columns=["game_date", "model_family", "model_id", "edge"]
        ),
        signal_health=warehouse.read("signal_health_daily", health_start, end - DAY),
        model_states=warehouse.read("model_performance_daily", health_start, end - DAY),
        day_lines=warehouse.read(
            "player_game_lines",
            start,
            end,
            columns=["game_date", "person_id", "commence_time", "is_home", "decision_time", "line_snapshot_time"],
        ),
    )


def _write_exports(artifacts: ArtifactStore, exported: dict) -> None:
    """Each day's JSON export and HTML card, then latest.json."""
    for day, document in exported.items():
        date = dt.date.fromisoformat(day)
        artifacts.put(
            export_key(date), dumps(document), content_type="application/json", cache_control=DATED_CACHE_CONTROL
        )
        artifacts.put(
            html_key(date),
            card_html(document).encode(),
            content_type="text/html; charset=utf-8",
            cache_control=DATED_CACHE_CONTROL,
        )
    _write_latest(artifacts, exported)


def _picks_summary(picks, decisions, rejected: dict, exported: dict, artifacts: ArtifactStore) -> dict:
    written = len(picks)
    per_day = (
        picks.groupby(pd.to_datetime(picks["game_date"]).dt.strftime("%Y-%m-%d")).size().to_dict() if written else {}
    )
    return {
        "days_with_picks": len(per_day),
        "days": len(exported),
        "by_direction": MetadataValue.json(picks["recommendation"].value_counts().to_dict() if written else {}),
        "filter_summary": MetadataValue.json(
            {
                "total_candidates": int(sum(decisions["n_candidates"])) if len(decisions) else 0,
                "passed_filters": written,
                "rejected": rejected,
            }
        ),
        "exports": MetadataValue.json(
            [artifacts.uri(export_key(dt.date.fromisoformat(d))) for d in sorted(exported)][-5:]
        ),
    }


PICK_COLUMNS = {
    "rank": "int",
    "player_name": "string",
    "recommendation": "string",
    "line_value": "float",
    "line_book": "string",
    "edge": "float",
    "source_model_id": "string",
    "signal_tags": "string",
    "composite_score": "float",
}


def card_metadata(artifacts: ArtifactStore, document: dict) -> dict:
    """The day's card and what its decision read, as a picks partition shows them in the UI."""
    day = dt.date.fromisoformat(document["date"])
    lines = document.get("lines") or {}
    return {
        "card": MetadataValue.md(card_markdown(document)),
        "card_page": MetadataValue.url(artifacts.uri(html_key(day))),
        "picks_value": document["picks_by_tier"]["value"],
        "picks_lean": document["picks_by_tier"]["lean"],
        "signal_health_as_of": str(document.get("signal_health_as_of")),
        "lines_as_of": str(lines.get("lines_as_of")),
        "decision_time": str(lines.get("decision_time")),
        "serving_models": MetadataValue.json(document.get("serving_models", {})),
    }


def picks_table(picks: pd.DataFrame) -> MetadataValue:
    """The day's picks as a table on its partition; source_model_id is the model_id of model_registry
    (the family_models partition `{family}|{training week}` of its family)."""
    records = [
        TableRecord(
            {
                c: (
                    ", ".join(row[c])
                    if c == "signal_tags"
                    else round(float(row[c]), 2)
                    if kind == "float"
                    else int(row[c])
                    if kind == "int"
                    else str(row[c])
                )
                for c, kind in PICK_COLUMNS.items()
            }
        )
        for _, row in picks.iterrows()
    ]
    return MetadataValue.table(
        records, schema=TableSchema(columns=[TableColumn(c, k) for c, k in PICK_COLUMNS.items()])
    )


def _write_latest(artifacts: ArtifactStore, exported: dict) -> None:
    """latest.json follows the newest date exported so far; a backfill of older dates leaves it."""
    if not exported:
        return
    newest = max(exported)
    if artifacts.exists(LATEST_KEY) and json.loads(artifacts.get(LATEST_KEY))["date"] > newest:
        return
    artifacts.put(
        LATEST_KEY, dumps(exported[newest]), content_type="application/json", cache_control=LATEST_CACHE_CONTROL
    )


@table_asset(
    "best_bets_accuracy",
    shaped_by=("bestbets_dagster.betting", "bestbets_dagster.bestbets.results", "bestbets_dagster.bestbets.clv"),
    blocking=False,
    game_days=False,
    # the books' lines through the close (closing line value) and the decision time they are measured from
    deps=["signal_best_bets_picks", "prediction_accuracy", "prop_lines", "player_game_lines"],
    group="best_bets",
)
def best_bets_accuracy(
    context: AssetExecutionContext, warehouse: Warehouse, best_bets: BestBetsSettings
) -> MaterializeResult:
    """Each pick graded with its source model's graded prediction; units at the pick's real odds; its
    closing line value against its book's and the market's close."""
    start, end = partition_dates(context)
    picks = warehouse.read("signal_best_bets_picks", start, end)
    accuracy = warehouse.read("prediction_accuracy", start, end)
    results = grade_picks(picks, accuracy, pd.Timestamp.now(tz="UTC"))
    clv = pd.DataFrame(columns=CLV_COLUMNS, index=results.index)
    if len(results):
        decided = decision_times_of(
            warehouse.read("player_game_lines", start, end, columns=["game_date", "decision_time"])
        )
        clv = closing_line_value(
            results,
            closing_lines(warehouse.read("prop_lines", start, end)),
            decided,
            best_bets.config().nominal_price_books,
        )
    results = pd.concat([results, clv], axis=1)
    written = warehouse.replace_partitions("best_bets_accuracy", results, start, end)
    return MaterializeResult(
        metadata={
            **range_metadata(context, written, results),
            "ungraded_picks": int(len(picks) - written),
            "summary": MetadataValue.json(summarize(results)),
            "by_direction": MetadataValue.json(summarize_by(results, "recommendation")),
            "closing_line_value": describe_clv(summarize_clv(results)),
        },
        check_results=table_check_results(warehouse, "best_bets_accuracy", start, end),
    )


@asset(
    deps=["model_registry", "model_performance_daily", "signal_health_daily", "best_bets_filter_audit"],
    group_name="best_bets",
    kinds={"python", backend_kind()},
    owners=OWNERS,
    code_version=modules_version("bestbets_dagster.defs.bestbets", "bestbets_dagster.bestbets"),
    check_specs=[
        AssetCheckSpec(
            "config_consistent",
            asset="best_bets_config",
            description="WARN: an enabled family without a model, a signal without health rows, or picks of the "
            "day made under another config version",
        )
    ],
)
def best_bets_config(warehouse: Warehouse, best_bets: BestBetsSettings) -> MaterializeResult:
    """The best-bets config view as of the newest game date with picks up to today (US Eastern; refreshed
    by the daily cycle after the picks): the running rules with a description each,
    the enabled families' serving models and states, the filters and what they rejected lately, the
    signals' regimes, the combo registry and the consistency checks (`bestbets config` prints the same)."""
    config = best_bets.config()
    today = today_eastern()
    view = dashboard_from_warehouse(warehouse, config, newest_card_date(warehouse, today) or today)
    return MaterializeResult(
        metadata={
            "view": MetadataValue.md(format_dashboard(view)),
            "config_version": config.version,
            "problems": len(view["checks"]),
        },
        check_results=[
            AssetCheckResult(
                check_name="config_consistent",
                passed=not view["checks"],
                severity=AssetCheckSeverity.WARN,
                metadata={"problems": "; ".join(view["checks"])[:2000]},
            )
        ],
    )
