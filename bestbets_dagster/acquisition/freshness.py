"""When a source is late: what the freshness sensor reports instead of the daily sensors waiting in
silence. The odds are late when no snapshot of today was taken within ODDS_GRACE of the first scheduled
one (an error once the slate's decision time has passed: the day cannot be bet); the box scores are
late when a date with games has none in the data directory by BOX_SCORE_DEADLINE the next morning."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bestbets_dagster.timeutil import EASTERN

ODDS_GRACE = dt.timedelta(minutes=45)
SLATE_TIME = dt.time(12, 30)  # the daily slate's decision (slate_schedule ticks at it)
BOX_SCORE_DEADLINE = dt.time(10, 0)


@dataclass(frozen=True)
class Lateness:
    game_date: dt.date
    alert_type: str
    subject: str
    severity: str
    message: str


def odds_lateness(now: dt.datetime, first_snapshot: dt.time, last_snapshot: dt.datetime | None) -> Lateness | None:
    """Today's odds: late once ODDS_GRACE has passed since the first scheduled snapshot and none of today's
    was taken (last_snapshot: the newest materialization of today's snapshots, any time)."""
    local = now.astimezone(EASTERN)
    today = local.date()
    due = dt.datetime.combine(today, first_snapshot, tzinfo=EASTERN)
    if local < due + ODDS_GRACE or (last_snapshot is not None and last_snapshot.astimezone(EASTERN).date() == today):
        return None
    severity = "ERROR" if local.time() >= SLATE_TIME else "WARN"
    return Lateness(
        today,
        "odds_late",
        "odds_api",
        severity,
        f"no Odds API snapshot of {today} since the first one was due at {first_snapshot:%H:%M} US Eastern"
        + (": today's slate has no lines" if severity == "ERROR" else ""),
    )


def box_score_lateness(now: dt.datetime, day: dt.date, listed_games: int, have_box_scores: bool) -> Lateness | None:
    """A played date's box scores: late after BOX_SCORE_DEADLINE the next morning when the date had
    listed games and the data directory has no box score of it."""
    local = now.astimezone(EASTERN)
    deadline = dt.datetime.combine(day + dt.timedelta(days=1), BOX_SCORE_DEADLINE, tzinfo=EASTERN)
    if have_box_scores or listed_games == 0 or local < deadline:
        return None
    return Lateness(
        day,
        "box_scores_late",
        "nba_stats",
        "WARN",
        f"no box scores of {day} ({listed_games} games listed) by {BOX_SCORE_DEADLINE:%H:%M} US Eastern the next "
        "morning: the grading and monitoring of that date wait",
    )
