"""Date rules in one place: every game belongs to the US Eastern calendar date on which it tips
off; an NBA season runs from August 1 to July 31 and is labelled by its two years ("2025-26");
training weeks start on Mondays."""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

import pandas as pd

from bestbets_dagster.settings import GAME_TIMEZONE

EASTERN = ZoneInfo(GAME_TIMEZONE)


def eastern_game_date(timestamp: str | dt.datetime | pd.Timestamp) -> dt.date:
    """The Eastern date of a tip-off given in UTC (a naive value is taken as UTC).

    A 02:00Z tip-off is 21:00 or 22:00 Eastern on the previous calendar day.
    """
    ts = pd.Timestamp(timestamp)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.tz_convert(EASTERN).date()


def utc_instant(text: str) -> dt.datetime:
    """An ISO timestamp as the APIs write it ("2025-11-19T00:10:00Z") as an aware UTC datetime."""
    return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00")).astimezone(dt.timezone.utc)


def eastern_game_dates(timestamps: pd.Series) -> pd.Series:
    """Vectorized eastern_game_date for a Series of UTC timestamps (strings or datetimes)."""
    ts = pd.to_datetime(timestamps, utc=True)
    return ts.dt.tz_convert(EASTERN).dt.date


# The supported clock: every sensor, schedule, default date and decision time reads it, so a past day
# can be rehearsed (libfaketime breaks Dagster's daemon). A date moves the clock by whole days (the time
# of day stays the wall clock's, so the daemon's schedules tick at their usual hours on that date); a date
# and time stops the clock at that instant (scripted steps and tests).
CLOCK_VARIABLE = "BESTBETS_TODAY"


def _configured_clock() -> dt.datetime | dt.date | None:
    text = os.environ.get(CLOCK_VARIABLE, "").strip()
    if not text:
        return None
    try:
        if "T" in text or " " in text:
            moment = dt.datetime.fromisoformat(text)
            return moment if moment.tzinfo else moment.replace(tzinfo=EASTERN)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{CLOCK_VARIABLE}={text!r} is neither a date (2025-11-18) nor a date and time (2025-11-18T12:30)"
        ) from None


def clock_offset(wall: dt.datetime | None = None) -> dt.timedelta:
    """Whole days between the wall clock's Eastern date and the configured today (0 when unset)."""
    configured = _configured_clock()
    if configured is None:
        return dt.timedelta(0)
    wall = wall or dt.datetime.now(tz=EASTERN)
    target = configured.astimezone(EASTERN).date() if isinstance(configured, dt.datetime) else configured
    return dt.timedelta(days=(target - wall.astimezone(EASTERN).date()).days)


def now_utc() -> dt.datetime:
    """Now, on the supported clock (BESTBETS_TODAY), as an aware UTC datetime."""
    configured = _configured_clock()
    if isinstance(configured, dt.datetime):
        return configured.astimezone(dt.timezone.utc)
    wall = dt.datetime.now(tz=dt.timezone.utc)
    return wall + clock_offset(wall)


def on_clock(moment: dt.datetime) -> dt.datetime:
    """A wall-clock instant (a schedule's tick) moved onto the supported clock's days."""
    return moment + clock_offset(moment)


def today_eastern() -> dt.date:
    """Today's US Eastern date on the supported clock."""
    return now_utc().astimezone(EASTERN).date()


def parse_date(value: str | dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


SEASON_START_MONTH = 8  # a season is August 1 .. July 31: the off-season sits wholly before its start


def season_start_year(day: dt.date) -> int:
    return day.year if day.month >= SEASON_START_MONTH else day.year - 1


def season_of(day: dt.date) -> str:
    """The season label of a date: '2025-26' for 2025-08-01 .. 2026-07-31."""
    start = season_start_year(day)
    return f"{start}-{(start + 1) % 100:02d}"


def season_start(day: dt.date) -> dt.date:
    """August 1 of the season holding `day`."""
    return dt.date(season_start_year(day), SEASON_START_MONTH, 1)


def season_labels(dates: pd.Series) -> pd.Series:
    """season_of() of a Series of dates (vectorized)."""
    dates = pd.to_datetime(dates)
    start = dates.dt.year.where(dates.dt.month >= SEASON_START_MONTH, dates.dt.year - 1)
    return start.astype(str) + "-" + ((start + 1) % 100).astype(str).str.zfill(2)


def monday_of(day: dt.date) -> dt.date:
    """The Monday of `day`'s week (a training week's cutoff)."""
    return day - dt.timedelta(days=day.weekday())


def mondays(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every Monday from the week of `start` through the week of `end`."""
    first = monday_of(start)
    return [first + dt.timedelta(weeks=i) for i in range((end - first).days // 7 + 1)]
