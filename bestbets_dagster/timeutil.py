"""Game-date rules: every game belongs to the US Eastern calendar date on which it tips off."""

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
