"""The daily cycle: each step is requested by a sensor once the data it needs is in, and the downloads
and the slate by schedules (the steps whose trigger is a clock).

Downloads: `odds_snapshot_schedule` takes the day's Odds API snapshots at set times (10:00, 12:00, 15:00,
18:00 US Eastern by default, BESTBETS_SNAPSHOT_TIMES), `closing_snapshot_sensor` one last snapshot of each
game in the 15 minutes before its tip-off (the closing line), `box_score_download_sensor` a played date's
box scores from NBA.com once every game is final, and `source_freshness_sensor` raises an alert row when
either source is late.
Morning, after the games: `box_scores_sensor` ingests every box-score date of the data directory
newer than the warehouse's (and rebuilds those dates' lines and features with them) ->
`morning_sensor` grades every date whose box scores or predictions are newer than its grading, then
grades its picks and computes its monitoring rows -> `alerts_to_slack` sends the new alerts.
Weekly: `weekly_training_sensor` builds this week's training window once the box-score ingest has
caught up with the data directory, then each enabled family's model of the week.
Before tip-off: `slate_schedule` ingests today's lines and builds today's features ->
`predictions_sensor` predicts today for every enabled family that has this week's model (a family
added today included) -> `best_bets_sensor` tags and picks today (and exports) once every family
has predicted and the morning's monitoring is in -> `config_view_sensor` refreshes the config view.

Every step compares storage ids of the latest materializations: a step runs when an input is newer
than its output, so a missed day catches up by itself and a re-run of an input reruns what follows.
Sensors and the schedule are STOPPED by default: a replay home must not start work by itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import json

from dagster import (
    AssetKey,
    AssetRecordsFilter,
    DagsterEventType,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    MultiPartitionKey,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    schedule,
    sensor,
)

from bestbets_dagster import settings
from bestbets_dagster.acquisition.freshness import SLATE_TIME, box_score_lateness, odds_lateness
from bestbets_dagster.acquisition.http import SourceError
from bestbets_dagster.acquisition.odds_api import listed_events
from bestbets_dagster.defs.ingestion import DECISION_TIME_TAG
from bestbets_dagster.defs.jobs import JOBS
from bestbets_dagster.defs.models import current_training_week
from bestbets_dagster.defs.partition_range import days_between, range_tags
from bestbets_dagster.defs.source_alerts import record_source_alert
from bestbets_dagster.ingest.box_scores import box_score_dates, box_score_fingerprints, file_dates
from bestbets_dagster.models.families import load_families
from bestbets_dagster.models.registry import staleness
from bestbets_dagster.partitions import MODEL_FAMILY_PARTITIONS_NAME
from bestbets_dagster.resources import NbaDataSource, NbaStats, Warehouse
from bestbets_dagster.timeutil import EASTERN, monday_of, now_utc, on_clock, today_eastern, utc_instant

DAY = dt.timedelta(days=1)
# How far back the morning looks for dates to (re)grade: late box scores of the last two weeks.
GRADING_LOOKBACK_DAYS = 14


def stopped_sensor(interval_seconds: int, **target):
    """`@sensor` for a step of the day: STOPPED by default (a replay's home must not start work by
    itself), evaluated every interval_seconds, described in the UI by the function's docstring;
    target: job= or jobs=."""

    def decorate(fn):
        return sensor(
            name=fn.__name__,
            minimum_interval_seconds=interval_seconds,
            default_status=DefaultSensorStatus.STOPPED,
            description=inspect.getdoc(fn),
            **target,
        )(fn)

    return decorate


def stopped_schedule(cron_schedule, job, description: str, name: str | None = None):
    """`@schedule` of the daily cycle: US Eastern, STOPPED by default (a replay's home must not start work)."""
    return schedule(
        name=name,
        cron_schedule=cron_schedule,
        execution_timezone="America/New_York",
        job=job,
        default_status=DefaultScheduleStatus.STOPPED,
        description=description,
    )


def latest_ids(instance, asset: str, partitions: list[str]) -> dict[str, int]:
    """{partition: storage id of its latest materialization} for the partitions materialized."""
    return dict(
        instance.get_latest_storage_id_by_partition(
            AssetKey(asset), DagsterEventType.ASSET_MATERIALIZATION, set(partitions)
        )
    )


def _one(instance, asset: str, partition: str | None) -> int | None:
    """Storage id of the latest materialization of one partition (or of an unpartitioned asset)."""
    if partition is None:
        records = instance.fetch_materializations(AssetKey(asset), limit=1).records
        return records[0].storage_id if records else None
    return latest_ids(instance, asset, [partition]).get(partition)


def _families(instance) -> list[str]:
    return list(instance.get_dynamic_partitions(MODEL_FAMILY_PARTITIONS_NAME))


def family_keys(instance, **dimension) -> dict[str, str]:
    """{family: partition key} of every enabled family with the other dimension given, e.g.
    family_keys(instance, game_date="2025-11-18") -> {"v9_mae": "2025-11-18|v9_mae", ...}."""
    return {family: str(MultiPartitionKey({**dimension, "model_family": family})) for family in _families(instance)}


def stored_box_score_last(warehouse: Warehouse) -> dt.date | None:
    """The newest game date of the stored box scores (player_game_logs), None when there is none."""
    last = warehouse.query("SELECT MAX(game_date) AS last FROM {player_game_logs}")["last"].iloc[0]
    return None if last is None or last != last else dt.date.fromisoformat(str(last)[:10])


def box_scores_pending(warehouse: Warehouse, nba_data: NbaDataSource) -> tuple[dt.date, dt.date] | None:
    """The date range of the data directory's box scores that the warehouse does not have yet (from the
    files' game dates alone, cached per unchanged file: a tick reads no whole box score; the run that
    ingests them checks every row)."""
    dates = box_score_dates(nba_data.path)
    if not dates:
        return None
    first, last = min(dates), max(dates)
    stored = stored_box_score_last(warehouse)
    start = first if stored is None else stored + DAY
    return (start, last) if start <= last else None


@stopped_sensor(600, job=JOBS["box_scores_job"])
def box_scores_sensor(context: SensorEvaluationContext, warehouse: Warehouse, nba_data: NbaDataSource):
    """Ingests the box scores of every date the data directory has and the warehouse does not (the night's
    games, or every date missed), with those dates' lines and features, in one ranged run; and again
    the dates of a file that changed since the last tick saw it (its size or time: a file a tick caught
    mid-write and that was completed since, or a corrected one), so a day ingested half-written is made
    whole. The cursor holds each file's fingerprint as last seen."""
    fingerprints = box_score_fingerprints(nba_data.path)
    seen = json.loads(context.cursor) if context.cursor else {}
    changed = sorted(name for name, print_ in fingerprints.items() if name in seen and seen[name] != print_)
    context.update_cursor(json.dumps(fingerprints, sort_keys=True))
    days = set().union(*(file_dates(nba_data.path, name) for name in changed)) if changed else set()
    pending = box_scores_pending(warehouse, nba_data)
    if pending is not None:
        days |= set(pending)
    if not days:
        if not fingerprints:
            return SkipReason(f"no box-score file in {nba_data.path / 'box_scores'} yet")
        return SkipReason("the warehouse has every box-score date of the data directory")
    start, end = min(days), max(days)
    reason = f" ({', '.join(changed)} changed)" if changed else ""
    context.log.info(f"box scores {start}..{end} to ingest{reason}")
    key = hashlib.sha256(json.dumps([fingerprints[n] for n in changed]).encode()).hexdigest()[:8] if changed else ""
    return RunRequest(run_key=f"box-scores:{start}:{end}{':' + key if key else ''}", tags=range_tags(start, end))


def grading_pending(instance, today: dt.date) -> list[dt.date]:
    """Dates of the look-back whose predictions or box scores are newer than their grading, or whose
    grading is newer than their monitoring."""
    days = [str(d) for d in days_between(today - dt.timedelta(days=GRADING_LOOKBACK_DAYS), today - DAY)]
    boxed = latest_ids(instance, "player_game_logs", days)
    graded = latest_ids(instance, "prediction_accuracy", days)
    monitored = latest_ids(instance, "monitoring_alerts", days)
    predicted = latest_ids(
        instance, "predictions", [key for day in days for key in family_keys(instance, game_date=day).values()]
    )
    newest_prediction: dict[str, int] = {}
    for key, storage_id in predicted.items():
        day = key.split("|")[0]
        newest_prediction[day] = max(newest_prediction.get(day, 0), storage_id)
    pending = []
    for day in days:
        if day not in boxed or day not in newest_prediction:
            continue
        grading = graded.get(day, 0)
        if grading < max(boxed[day], newest_prediction[day]) or monitored.get(day, 0) < grading:
            pending.append(dt.date.fromisoformat(day))
    return pending


@stopped_sensor(300, job=JOBS["morning_job"])
def morning_sensor(context: SensorEvaluationContext):
    """Grades the dates whose box scores landed (or were corrected) and everything after them through yesterday:
    the predictions, the picks, then signal health, model performance and alerts."""
    today = today_eastern()
    pending = grading_pending(context.instance, today)
    if not pending:
        return SkipReason("every predicted date with box scores is graded and monitored")
    start, end = pending[0], today - DAY
    # The run key names the newest input, so the same state never asks twice.
    newest = max(latest_ids(context.instance, "player_game_logs", [str(d) for d in pending]).values())
    return RunRequest(run_key=f"morning:{start}:{end}:{newest}", tags=range_tags(start, end))


@stopped_sensor(900, jobs=[JOBS[name] for name in ("training_windows_job", "retrain_job", "model_registry_job")])
def weekly_training_sensor(context: SensorEvaluationContext, warehouse: Warehouse, nba_data: NbaDataSource):
    """This week's training window once the box-score ingest has caught up with the data directory (the window
    reaches the day before the week's Monday), then each enabled family's model of the week (again when the
    window's inputs change), then the registry's view in the catalog."""
    today = today_eastern()
    # The original's retrain reminder: ROUTINE 7-10 days since a family's newest model, OVERDUE 11-14, URGENT 15+.
    report = staleness(load_families(warehouse), warehouse.read("model_registry"), today)
    for row in report[report["urgency"].notna()].itertuples(index=False):
        context.log.warning(f"retrain reminder: {row.model_family} {row.urgency}: {row.reason}")
    if box_scores_pending(warehouse, nba_data) is not None:
        return SkipReason("waiting for the box-score ingest to catch up")
    week = dt.date.fromisoformat(current_training_week(today))
    window_days = [str(d) for d in days_between(week - dt.timedelta(days=7), week - DAY)]
    inputs = [
        *latest_ids(context.instance, "player_game_logs", window_days).values(),
        *latest_ids(context.instance, "player_features", window_days).values(),
    ]
    window = _one(context.instance, "training_windows", str(week))
    if window is None or window < max(inputs, default=0):
        return RunRequest(
            run_key=f"training-window:{week}:{max(inputs, default=0)}",
            job_name="training_windows_job",
            partition_key=str(week),
        )
    keys = family_keys(context.instance, training_week=str(week))
    models = latest_ids(context.instance, "family_models", list(keys.values()))
    requests = [
        RunRequest(run_key=f"train:{week}:{family}:{window}", job_name="retrain_job", partition_key=key)
        for family, key in keys.items()
        if models.get(key, 0) < window
    ]
    if requests:
        return SensorResult(run_requests=requests)
    newest_model = max(models.values(), default=0)
    if (_one(context.instance, "model_registry", None) or 0) < newest_model:
        return RunRequest(run_key=f"registry:{newest_model}", job_name="model_registry_job")
    return SkipReason(f"every family has its model of {week}")


@stopped_schedule(
    f"{SLATE_TIME.minute} {SLATE_TIME.hour} * * *",
    JOBS["slate_job"],
    "Today's slate at 12:30 US Eastern, after the books' midday snapshot: lines and features, decided at the "
    "tick's time (the snapshots taken before it; a re-run decides the same).",
)
def slate_schedule(context: ScheduleEvaluationContext):
    decided = on_clock(context.scheduled_execution_time)
    day = decided.astimezone(EASTERN).date()
    return RunRequest(run_key=f"slate:{day}", partition_key=str(day), tags={DECISION_TIME_TAG: decided.isoformat()})


# A game's closing snapshot is taken by the first tick within this many minutes before its tip-off.
CLOSING_WINDOW = dt.timedelta(minutes=15)


@stopped_sensor(180, job=JOBS["odds_snapshot_job"])
def closing_snapshot_sensor(context: SensorEvaluationContext, nba_data: NbaDataSource):
    """One last snapshot of each game in the 15 minutes before its tip-off (the closing line, which CLV is
    measured against): the games tipping off together in one run. Today's games are read from the day's
    snapshot files; no snapshot yet, no closing one."""
    now, today = now_utc(), today_eastern()
    events = listed_events(nba_data.path, today)
    due: dict[str, list[str]] = {}
    for event in events:
        tip = utc_instant(event["commence_time"])
        if now < tip <= now + CLOSING_WINDOW:
            due.setdefault(tip.strftime("%Y-%m-%dT%H:%MZ"), []).append(event["id"])
    if not due:
        return SkipReason(f"no game of {today} tips off in the next {CLOSING_WINDOW.seconds // 60} minutes")
    return SensorResult(
        run_requests=[
            RunRequest(
                run_key=f"closing:{today}:{tip}",
                partition_key=str(today),
                run_config={"ops": {"odds_api_snapshots": {"config": {"kind": "closing", "event_ids": sorted(ids)}}}},
                tags={"bestbets/closing_tip_off": tip},
            )
            for tip, ids in sorted(due.items())
        ]
    )


# A played date's box scores are looked for this many days back (a late correction, a missed night).
DOWNLOAD_LOOKBACK_DAYS = 3


@stopped_sensor(900, job=JOBS["box_score_download_job"])
def box_score_download_sensor(context: SensorEvaluationContext, nba_stats: NbaStats, nba_data: NbaDataSource):
    """The box scores of each of the last three dates the data directory lacks, downloaded once NBA.com shows
    every game of the date final (a game still on, or not yet final, waits for the next tick)."""
    today, now = today_eastern(), now_utc()
    have = box_score_dates(nba_data.path)
    missing = [d for d in days_between(today - dt.timedelta(days=DOWNLOAD_LOOKBACK_DAYS), today - DAY) if d not in have]
    if not missing:
        return SkipReason("the data directory has the box scores of the last days")
    requests, notes = [], []
    with nba_stats.quick_client() as client:
        for day in missing:
            try:
                games = [g for g in client.scoreboard(day) if not g.postponed]
            except SourceError as exc:
                notes.append(f"{day}: {exc}")
                continue
            pending = [g.game_id for g in games if not g.final]
            if not games:
                notes.append(f"{day}: no regular-season game")
            elif pending:
                notes.append(f"{day}: {len(pending)} of {len(games)} games not final")
            else:
                # The hour in the key: a failed download is asked again an hour later, never twice an hour.
                requests.append(RunRequest(run_key=f"box-download:{day}:{now:%Y%m%dT%H}", partition_key=str(day)))
    for note in notes:
        context.log.info(note)
    return SensorResult(run_requests=requests) if requests else SkipReason("; ".join(notes))


@stopped_sensor(900)
def source_freshness_sensor(context: SensorEvaluationContext, warehouse: Warehouse, nba_data: NbaDataSource):
    """Raises an alert row (`source_alerts`, sent by alerts_to_slack) when a source is late: no Odds API
    snapshot of today within 45 minutes of the first scheduled one, or no box scores of yesterday's listed
    games by 10:00 US Eastern. Starts no run."""
    now, today = now_utc(), today_eastern()
    taken = _latest_materialization_time(context.instance, "odds_api_snapshots", str(today))
    findings = [
        odds_lateness(now, dt.time(*settings.snapshot_times()[0]), taken),
        box_score_lateness(
            now,
            today - DAY,
            len(listed_events(nba_data.path, today - DAY)),
            (today - DAY) in box_score_dates(nba_data.path),
        ),
    ]
    late = [f for f in findings if f is not None]
    for finding in late:
        new = record_source_alert(
            warehouse, finding.game_date, finding.alert_type, finding.subject, finding.severity, finding.message
        )
        (context.log.warning if new else context.log.info)(finding.message)
    return SkipReason("; ".join(f.message for f in late) if late else "the odds and the box scores are on time")


def _latest_materialization_time(instance, asset: str, partition: str) -> dt.datetime | None:
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey(asset), asset_partitions=[partition]), limit=1
    ).records
    return dt.datetime.fromtimestamp(records[0].timestamp, tz=dt.timezone.utc) if records else None


@stopped_schedule(
    "0 11 * * 1",
    JOBS["report_card_job"],
    "Mondays at 11:00 US Eastern, after the morning's grading: last week's report card.",
)
def report_card_schedule(context: ScheduleEvaluationContext):
    week = monday_of(context.scheduled_execution_time.date()) - dt.timedelta(days=7)
    return RunRequest(run_key=f"report-card:{week}", partition_key=str(week))


@stopped_sensor(300, job=JOBS["predictions_job"])
def predictions_sensor(context: SensorEvaluationContext):
    """Today's predictions, one run per enabled family, once today's features and the family's model of this
    week are in (and again when either is newer than the family's predictions)."""
    today = today_eastern()
    features = _one(context.instance, "player_features", str(today))
    if features is None:
        return SkipReason(f"no player_features of {today} yet")
    week = current_training_week(today)
    model_keys, keys = (
        family_keys(context.instance, training_week=week),
        family_keys(context.instance, game_date=str(today)),
    )
    models = latest_ids(context.instance, "family_models", list(model_keys.values()))
    predicted = latest_ids(context.instance, "predictions", list(keys.values()))
    requests = []
    for family, key in keys.items():
        model = models.get(model_keys[family])
        if model is None:
            context.log.info(f"{family}: waiting for its model of {week}")
        elif predicted.get(key, 0) < max(features, model):
            requests.append(RunRequest(run_key=f"predict:{today}:{family}:{max(features, model)}", partition_key=key))
    return SensorResult(run_requests=requests) if requests else SkipReason(f"every family has predicted {today}")


@stopped_sensor(300, job=JOBS["slate_best_bets_job"])
def best_bets_sensor(context: SensorEvaluationContext):
    """Today's tags, picks and exports once every enabled family has predicted today (after today's features)
    and the morning's grading and monitoring are in."""
    today = today_eastern()
    features = _one(context.instance, "player_features", str(today))
    keys = list(family_keys(context.instance, game_date=str(today)).values())
    predicted = latest_ids(context.instance, "predictions", keys)
    if features is None or not keys or any(predicted.get(k, 0) < features for k in keys):
        return SkipReason(f"waiting for every family's predictions of {today}")
    if grading_pending(context.instance, today):
        return SkipReason("waiting for the morning's grading and monitoring")
    newest = max(predicted.values())
    if (_one(context.instance, "signal_best_bets_picks", str(today)) or 0) > newest:
        return SkipReason(f"the picks of {today} are newer than its predictions")
    return RunRequest(run_key=f"best-bets:{today}:{newest}", partition_key=str(today))


@stopped_sensor(300, job=JOBS["config_view_job"])
def config_view_sensor(context: SensorEvaluationContext):
    """The config view refreshed after today's picks (the view is dated like them: the newest game date
    with picks), so the UI's rules, families and checks are those the day's card was made under."""
    today = today_eastern()
    picks = _one(context.instance, "signal_best_bets_picks", str(today))
    if picks is None:
        return SkipReason(f"no picks of {today} yet")
    if (_one(context.instance, "best_bets_config", None) or 0) > picks:
        return SkipReason(f"the config view is newer than the picks of {today}")
    return RunRequest(run_key=f"config-view:{today}:{picks}")
