"""The Odds API snapshot schedule of the daily cycle (see daily.py). Its times are a setting
(BESTBETS_SNAPSHOT_TIMES), read when the code location loads: the schedule is built by a `@definitions`
function, alone in this module (a module with one is loaded through it only)."""

from dagster import Definitions, RunRequest, ScheduleDefinition, ScheduleEvaluationContext, definitions

from bestbets_dagster import settings
from bestbets_dagster.defs.daily import stopped_schedule
from bestbets_dagster.defs.jobs import JOBS
from bestbets_dagster.timeutil import EASTERN, on_clock


def odds_snapshot_schedule_from_settings() -> ScheduleDefinition:
    """The snapshot schedule at the times BESTBETS_SNAPSHOT_TIMES names when the definitions are loaded."""
    crons = [f"{minute} {hour} * * *" for hour, minute in settings.snapshot_times()]

    @stopped_schedule(
        crons,
        JOBS["odds_snapshot_job"],
        "The day's Odds API snapshots at the times of BESTBETS_SNAPSHOT_TIMES (US Eastern; 10:00, 12:00, 15:00, "
        "18:00 by default): every game not yet tipped off, its player points lines and its game markets.",
        name="odds_snapshot_schedule",
    )
    def odds_snapshot_schedule(context: ScheduleEvaluationContext):
        moment = on_clock(context.scheduled_execution_time).astimezone(EASTERN)
        return RunRequest(
            run_key=f"odds:{moment.date()}:{moment:%H%M}",
            partition_key=str(moment.date()),
            run_config={"ops": {"odds_api_snapshots": {"config": {"kind": "scheduled"}}}},
        )

    return odds_snapshot_schedule


@definitions
def snapshot_schedule() -> Definitions:
    """Built when the code location loads, so the times are those of its environment."""
    return Definitions(schedules=[odds_snapshot_schedule_from_settings()])
