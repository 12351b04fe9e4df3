"""Date rules in one place: every game belongs to the US Eastern calendar date on which it tips
off; an NBA season runs from August 1 to July 31 and is labelled by its two years ("2025-26");
training weeks start on Mondays."""

from __future__ import annotations

import datetime as dt
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


def eastern_game_dates(timestamps: pd.Series) -> pd.Series:
    """Vectorized eastern_game_date for a Series of UTC timestamps (strings or datetimes)."""
    ts = pd.to_datetime(timestamps, utc=True)
    return ts.dt.tz_convert(EASTERN).dt.date


def today_eastern() -> dt.date:
    return dt.datetime.now(tz=EASTERN).date()


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
