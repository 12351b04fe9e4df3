"""Monitoring: signal health, model performance and the operator's alerts, as daily assets with
checks, and a sensor that sends new alerts to Slack (or to the run log without a token)."""

import datetime as dt

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetDep,
    AssetExecutionContext,
    AssetObservation,
    BackfillPolicy,
    DefaultSensorStatus,
    MaterializeResult,
    MetadataValue,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    TimeWindowPartitionMapping,
    asset,
    sensor,
)

from bestbets_dagster.bestbets.clv import CLV_WINDOW_DAYS, clv_alerts
from bestbets_dagster.bestbets.history import graded_candidates
from bestbets_dagster.bestbets.pipeline import HISTORY_LOOKBACK_DAYS
from bestbets_dagster.defs.checks import no_rows_check, table_check_results
from bestbets_dagster.defs.partition_range import (
    days_before,
    days_between,
    history_deps,
    markdown_table,
    partition_dates,
    range_metadata,
)
from bestbets_dagster.defs.table_assets import OWNERS, backend_kind, modules_version, table_asset
from bestbets_dagster.grading.html_report import report_card_png
from bestbets_dagster.grading.report_card import (
    WEEKS_SHOWN,
    format_report_card,
    record_cell,
    report_cards_from_warehouse,
)
from bestbets_dagster.monitoring.model_performance import alerts, model_performance
from bestbets_dagster.monitoring.signal_health import signal_health
from bestbets_dagster.partitions import training_week_partitions
from bestbets_dagster.resources import AlertNotifier, BestBetsSettings, Warehouse
from bestbets_dagster.signals.registry import PROTOTYPE_TAGS, REGISTERED_TAGS
from bestbets_dagster.timeutil import today_eastern

DAY = dt.timedelta(days=1)
GROUP = "monitoring"
RECENT_DAYS = 3
ALERTS_SHOWN = 200


def _graded_days(graded: pd.DataFrame, start: dt.date, end: dt.date) -> list[dt.date]:
    days = pd.to_datetime(graded.loc[graded["prediction_correct"].notna(), "game_date"]).dt.date
    return sorted(d for d in set(days) if start <= d <= end)


@table_asset(
    "signal_health_daily",
    shaped_by=("bestbets_dagster.betting", "bestbets_dagster.monitoring.signal_health"),
    blocking=False,
    checks={"no_signal_turned_cold": "WARN when a signal enters the COLD regime"},
    deps=history_deps("pick_signal_tags", "prediction_accuracy", through_the_day=True),
    group=GROUP,
)
def signal_health_daily(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """Per signal and game day: rolling hit rates, regime HOT / NORMAL / COLD, status, multiplier."""
    start, end = partition_dates(context)
    history_start = start - dt.timedelta(days=HISTORY_LOOKBACK_DAYS)
    tags = warehouse.read("pick_signal_tags", history_start, end)
    graded = graded_candidates(tags, warehouse.read("prediction_accuracy", history_start, end))
    # Prototypes are tracked too (is_registered false): their health is what a promotion needs.
    graded = graded.assign(
        signal_tags=[list(a) + list(b) for a, b in zip(graded["signal_tags"], graded["prototype_signal_tags"])]
    )
    days = _graded_days(graded, start, end)
    health = signal_health(graded, days, (*REGISTERED_TAGS, *PROTOTYPE_TAGS)) if days else pd.DataFrame()
    if len(health):
        health["is_registered"] = health["signal_tag"].isin(REGISTERED_TAGS)
        health["computed_at"] = pd.Timestamp.now(tz="UTC")
    written = warehouse.replace_partitions("signal_health_daily", health, start, end)
    turned_cold = health[(health["regime"] == "COLD") & (health["days_in_current_regime"] == 1)] if written else health
    return MaterializeResult(
        metadata={
            **range_metadata(context, written, health),
            "game_days": len(days),
            "regimes": MetadataValue.json(health["regime"].value_counts().to_dict() if written else {}),
        },
        check_results=[
            *table_check_results(warehouse, "signal_health_daily", start, end, expected_days=days),
            no_rows_check(
                "signal_health_daily",
                "no_signal_turned_cold",
                turned_cold,
                "turned_cold",
                lambda r: f"{r.game_date:%Y-%m-%d} {r.signal_tag}",
            ),
        ],
    )


@table_asset(
    "model_performance_daily",
    shaped_by=("bestbets_dagster.betting", "bestbets_dagster.monitoring.model_performance"),
    blocking=False,
    checks={"no_model_blocked_or_degrading": "ERROR when a model enters BLOCKED, WARN when it enters DEGRADING"},
    # It also reads model_registry (training_end_date of the models graded); that weekly x family table
    # has no partition mapping from a day, so the dependency is not drawn.
    deps=history_deps("prediction_accuracy", through_the_day=True),
    group=GROUP,
)
def model_performance_daily(context: AssetExecutionContext, warehouse: Warehouse) -> MaterializeResult:
    """Per model and game day: edge-3+ rolling hit rates (pushes and voids excluded) and the state machine."""
    start, end = partition_dates(context)
    accuracy = warehouse.read("prediction_accuracy", start - dt.timedelta(days=HISTORY_LOOKBACK_DAYS), end)
    performance = model_performance(
        accuracy, warehouse.read("model_registry"), pd.date_range(start, end).date, pd.Timestamp.now(tz="UTC")
    )
    written = warehouse.replace_partitions("model_performance_daily", performance, start, end)
    entered = (
        performance[(performance["action"] == "DEGRADED") & performance["state"].isin(["BLOCKED", "DEGRADING"])]
        if written
        else performance
    )
    days = sorted(set(pd.to_datetime(performance["game_date"]).dt.date)) if written else []
    entered_check = no_rows_check(
        "model_performance_daily",
        "no_model_blocked_or_degrading",
        entered,
        "entered",
        lambda r: f"{r.game_date:%Y-%m-%d} {r.action_reason} ({r.model_id})",
        error=bool((entered.get("state", pd.Series(dtype=str)) == "BLOCKED").any()),
    )
    return MaterializeResult(
        metadata={
            **range_metadata(context, written, performance),
            "models": int(performance["model_id"].nunique()) if written else 0,
            "states": MetadataValue.json(performance["state"].value_counts().to_dict() if written else {}),
        },
        check_results=[
            *table_check_results(warehouse, "model_performance_daily", start, end, expected_days=days),
            entered_check,
        ],
    )


@table_asset(
    "monitoring_alerts",
    shaped_by=("bestbets_dagster.monitoring.model_performance", "bestbets_dagster.bestbets.clv"),
    blocking=False,
    game_days=False,
    checks={
        "no_challenger_ahead": "WARN when a model beats the champion family's by 5+ points on N >= 30",
        "no_stale_family": "WARN when a family is served by a model 7+ days past its cutoff, ERROR at 15+",
    },
    deps=[
        "signal_health_daily",
        "model_performance_daily",
        AssetDep("best_bets_accuracy", partition_mapping=days_before(CLV_WINDOW_DAYS + 1, 0)),
    ],
    group=GROUP,
)
def monitoring_alerts(
    context: AssetExecutionContext, warehouse: Warehouse, best_bets: BestBetsSettings
) -> MaterializeResult:
    """The operator's alerts: model state changes, signals turning COLD, challengers, stale families, the
    picks' 14-day closing line value turning negative."""
    start, end = partition_dates(context)
    performance = warehouse.read("model_performance_daily", start, end)
    registry = warehouse.read("model_registry", columns=["model_id", "model_family", "training_cutoff", "gates_passed"])
    serving = performance.merge(registry[["model_id", "training_cutoff"]], on="model_id", how="left")
    staleness = stale_models(serving, registry)
    now = pd.Timestamp.now(tz="UTC")
    found = alerts(
        performance,
        warehouse.read("signal_health_daily", start, end),
        staleness,
        best_bets.config().champion_family,
        now,
    )
    # The picks' closing line value over the last 14 days, turned negative (needs intraday snapshots).
    graded_picks = warehouse.read("best_bets_accuracy", start - dt.timedelta(days=CLV_WINDOW_DAYS + 1), end)
    clv = clv_alerts(graded_picks, days_between(start, end), now)
    if len(clv):
        found = pd.concat([found, clv], ignore_index=True) if len(found) else clv
    # An alert raised before keeps its created_at, so a re-run does not send it again.
    earlier = warehouse.read("monitoring_alerts", start, end)
    if len(found) and len(earlier):
        key = ["game_date", "alert_type", "subject", "message"]
        kept = found.drop(columns="created_at").merge(
            earlier[[*key, "created_at"]].assign(
                game_date=pd.to_datetime(earlier["game_date"]).astype("datetime64[ns]")
            ),
            on=key,
            how="left",
        )
        found = kept.assign(created_at=kept["created_at"].fillna(pd.Timestamp.now(tz="UTC")))
    written = warehouse.replace_partitions("monitoring_alerts", found, start, end)
    return MaterializeResult(
        metadata={
            **range_metadata(context, written, found),
            "by_type": MetadataValue.json(found["alert_type"].value_counts().to_dict() if written else {}),
            # The alerts themselves, readable on the partition (the newest first, at most ALERTS_SHOWN).
            "alerts": MetadataValue.md(
                markdown_table(
                    found.sort_values(["game_date", "severity", "alert_type"], ascending=[False, True, True])[
                        ["game_date", "severity", "alert_type", "subject", "message"]
                    ].head(ALERTS_SHOWN)
                )
                if written
                else "no alerts"
            ),
        },
        check_results=[
            *table_check_results(warehouse, "monitoring_alerts", start, end),
            _alert_check(found, "challenger", "no_challenger_ahead"),
            _alert_check(found, "stale_family", "no_stale_family"),
        ],
    )


def stale_models(serving: pd.DataFrame, registry: pd.DataFrame) -> pd.DataFrame:
    """Per date and family, the serving model's age past its training cutoff (the family's freshest model)
    and how many newer weekly models of the family, trained by that date, failed their gates
    (newer_failed, newest_failed_cutoff): a stale model with failing successors is the gates doing their
    job, not a retrain that never ran."""
    staleness = (
        pd.DataFrame(
            {
                "game_date": pd.to_datetime(serving["game_date"]),
                "model_family": serving["model_family"],
                "cutoff": pd.to_datetime(serving["training_cutoff"]),
                "age_days": (pd.to_datetime(serving["game_date"]) - pd.to_datetime(serving["training_cutoff"])).dt.days,
            }
        )
        .sort_values("age_days")
        .drop_duplicates(["game_date", "model_family"])
    )
    failed = registry[~registry["gates_passed"].astype(bool)].assign(
        failed_cutoff=lambda r: pd.to_datetime(r["training_cutoff"])
    )[["model_family", "failed_cutoff"]]
    pairs = staleness.reset_index().merge(failed, on="model_family", how="inner")
    pairs = pairs[(pairs["failed_cutoff"] > pairs["cutoff"]) & (pairs["failed_cutoff"] <= pairs["game_date"])]
    counts = pairs.groupby("index").agg(
        newer_failed=("failed_cutoff", "size"), newest_failed_cutoff=("failed_cutoff", "max")
    )
    staleness = staleness.join(counts)
    staleness["newer_failed"] = staleness["newer_failed"].fillna(0).astype("int64")
    return staleness.drop(columns="cutoff")


def _alert_check(found: pd.DataFrame, alert_type: str, check_name: str) -> AssetCheckResult:
    rows = found[found["alert_type"] == alert_type] if len(found) else found
    error = bool(len(rows) and (rows["severity"] == "ERROR").any())
    return no_rows_check("monitoring_alerts", check_name, rows, "messages", lambda r: r.message, error=error)


@sensor(
    minimum_interval_seconds=300,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Sends alerts (monitoring_alerts and the downloaders' source_alerts) created since the last evaluation "
        "to Slack when a token is configured, and to the sensor's log otherwise. The cursor is the newest "
        "created_at sent."
    ),
)
def alerts_to_slack(context: SensorEvaluationContext, warehouse: Warehouse, notifier: AlertNotifier):
    since = pd.Timestamp(context.cursor) if context.cursor else pd.Timestamp("1970-01-01", tz="UTC")
    # The monitoring's alerts and the acquisition layer's (a source late, credits low), newest last.
    found = [
        warehouse.query(
            "SELECT game_date, alert_type, subject, severity, message, created_at FROM {%s} WHERE created_at > @since"
            % table,
            {"since": since.to_pydatetime()},
        )
        for table in ("monitoring_alerts", "source_alerts")
    ]
    new = pd.concat([f for f in found if len(f)] or found[:1], ignore_index=True).sort_values(
        ["created_at", "game_date", "alert_type", "subject"], ignore_index=True
    )
    if new.empty:
        return SkipReason("no new alerts")
    context.update_cursor(pd.Timestamp(new["created_at"].max()).isoformat())
    # A backfill of old dates must not flood the channel: only alerts about the last few days are sent.
    recent = new[pd.to_datetime(new["game_date"]).dt.date >= today_eastern() - dt.timedelta(days=RECENT_DAYS)]
    sent = notifier.send(recent, context.log) if len(recent) else 0
    done = f"{sent} alert(s) sent via {notifier.channel_name()}; {len(new) - len(recent)} older ones only stored"
    if not sent:
        return SkipReason(done)
    # What the tick did shows on the tick and as an observation of monitoring_alerts, not as "skipped".
    context.log.info(done)
    return SensorResult(
        asset_events=[
            AssetObservation(
                asset_key="monitoring_alerts",
                description=done,
                metadata={"sent": sent, "channel": notifier.channel_name(), "only_stored": len(new) - len(recent)},
            )
        ]
    )


# A week's card reads its own days and those of the WEEKS_SHOWN - 1 weeks before (offsets in weeks).
CARD_WEEKS = TimeWindowPartitionMapping(start_offset=-(WEEKS_SHOWN - 1), end_offset=0)


# What a week's report card reads, of that week and the three before it.
REPORT_CARD_READS = (
    "pick_signal_tags",
    "prediction_accuracy",
    "best_bets_accuracy",
    "signal_best_bets_picks",
    "monitoring_alerts",
)


@asset(
    partitions_def=training_week_partitions,
    deps=[AssetDep(name, partition_mapping=CARD_WEEKS) for name in REPORT_CARD_READS],
    backfill_policy=BackfillPolicy.single_run(),
    group_name=GROUP,
    kinds={"python", backend_kind()},
    owners=OWNERS,
    code_version=modules_version(
        "bestbets_dagster.defs.monitoring", "bestbets_dagster.grading", "bestbets_dagster.betting"
    ),
)
def weekly_report_card(
    context: AssetExecutionContext, warehouse: Warehouse, best_bets: BestBetsSettings
) -> MaterializeResult:
    """The week's report card (partition: the week's Monday): hit rate and units of the best bets and of
    every candidate by direction, player tier, family, signal and |edge|, beside the three weeks before,
    with the week's alerts; `bestbets report-card --week D` prints the same."""
    first, last = partition_dates(context)
    cards = report_cards_from_warehouse(warehouse, best_bets.config(), first, last)
    card = cards[last]
    shown = {
        "card": MetadataValue.md(format_report_card(card)),
        "plot": MetadataValue.md(f"![report card](data:image/png;base64,{report_card_png(card)})"),
    }
    if len(cards) == 1:
        return MaterializeResult(
            metadata={
                **shown,
                "best_bets": MetadataValue.json(card["best_bets"]["total"]),
                "candidates": MetadataValue.json(card["candidates"]["total"]),
                "alerts": len(card["alerts"]),
            }
        )
    # A ranged run (a backfill of weeks) gives every week the same metadata (Dagster attaches one set per
    # step): every week's totals in one table, the last week's card in full; any week's whole card is
    # `bestbets report-card --week D` (or a run of that week alone), recomputed from the same tables.
    weeks = pd.DataFrame(
        [
            {
                "week": week,
                "best_bets": record_cell(c["best_bets"]["total"]),
                "candidates": record_cell(c["candidates"]["total"]),
                "alerts": len(c["alerts"]),
            }
            for week, c in cards.items()
        ]
    )
    return MaterializeResult(
        metadata={
            "range": f"{first}..{last} ({len(cards)} weeks)",
            "weeks": MetadataValue.md(markdown_table(weeks)),
            **{f"{name} (week of {last})": value for name, value in shown.items()},
        }
    )
