"""Signal health (rolling hit rates, regime, status, the score multiplier) and model health tiers.

A health row for date X counts graded rows with game_date in (X - N days, X] and, for the season,
the season's rows up to X. Picks for D read the rows of X = D - 1 (nothing of D is known yet).
Hit rates are in percent; a push or a void is not a decided bet and counts for nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bestbets_dagster.betting import BREAKEVEN_HIT_RATE
from bestbets_dagster.signals.registry import MODEL_DEPENDENT_TAGS
from bestbets_dagster.timeutil import season_labels

WINDOWS = (7, 14, 30)
REGIME_DIVERGENCE = 10.0  # points of 7-day HR away from the season's
WATCH_DIVERGENCE = 5.0
MIN_REGIME_PICKS = 5  # fewer decided picks in 7 days than this says nothing about a regime: NORMAL
REGIME_LOOKBACK_DAYS = 14
MULTIPLIERS = {"HOT": 1.2, "NORMAL": 1.0, "COLD": 0.5}

# Model health (a family's edge-3+ hit rate over the 7 days before the date).
MODEL_HEALTH_EDGE = 3.0
MODEL_HEALTH_DAYS = 7
MODEL_HEALTH_MIN_N = 5
BLOCKED_BELOW, WATCH_BELOW = BREAKEVEN_HIT_RATE, 58.0  # blocked: below break-even at -110


def regime_multiplier(regime: str, model_dependent: bool) -> float:
    if regime == "COLD" and model_dependent:
        return 0.0
    return MULTIPLIERS[regime]


def _dates(dates) -> list[pd.Timestamp]:
    return sorted({pd.Timestamp(d) for d in dates})


def signal_health(graded_tags: pd.DataFrame, dates, tags: tuple[str, ...]) -> pd.DataFrame:
    """One row per (date, tag) for every date in `dates` and every tag.

    graded_tags: game_date, signal_tags (list), prediction_correct (NULL for push/void/PASS); it
    must reach back 30 days plus REGIME_LOOKBACK_DAYS before the first date, and to the season's start.
    """
    targets = _dates(dates)
    if not targets:
        return pd.DataFrame()
    rows = graded_tags[graded_tags["prediction_correct"].notna()][["game_date", "signal_tags", "prediction_correct"]]
    rows = rows.assign(
        game_date=pd.to_datetime(rows["game_date"]).astype("datetime64[ns]"),
        correct=rows["prediction_correct"].astype(bool).astype(float),
    )
    exploded = rows.explode("signal_tags").rename(columns={"signal_tags": "signal_tag"}).dropna(subset=["signal_tag"])
    h = _rolling_rates(exploded, pd.date_range(targets[0] - pd.Timedelta(days=REGIME_LOOKBACK_DAYS), targets[-1]), tags)
    for col in ("picks_7d", "picks_14d", "picks_30d", "picks_season"):
        h[col] = h[col].fillna(0).astype("int64")
    h["divergence_7d_vs_season"] = h["hr_7d"] - h["hr_season"]
    h["divergence_14d_vs_season"] = h["hr_14d"] - h["hr_season"]
    div = h["divergence_7d_vs_season"]
    judged = h["picks_7d"] >= MIN_REGIME_PICKS
    # HOT also needs a winning week: a signal far above a bad season but below break-even is not hot.
    winning = h["hr_7d"] >= BREAKEVEN_HIT_RATE
    h["regime"] = np.select(
        [judged & (div < -REGIME_DIVERGENCE), judged & (div > REGIME_DIVERGENCE) & winning], ["COLD", "HOT"], "NORMAL"
    )
    h["is_model_dependent"] = h["signal_tag"].isin(MODEL_DEPENDENT_TAGS)
    h["status"] = np.select(
        [(h["regime"] == "COLD") & h["is_model_dependent"], judged & (div < -WATCH_DIVERGENCE)],
        ["DEGRADING", "WATCH"],
        "HEALTHY",
    )
    h["multiplier"] = [regime_multiplier(r, m) for r, m in zip(h["regime"], h["is_model_dependent"])]
    h = h.sort_values(["signal_tag", "game_date"]).reset_index(drop=True)
    # Today plus the consecutive earlier days in the same regime, counted within the look-back only
    # (at most REGIME_LOOKBACK_DAYS + 1), so a date's count is the same whatever range computes it.
    change = (h["regime"] != h.groupby("signal_tag")["regime"].shift()).astype(int)
    streak = h.groupby([h["signal_tag"], change.groupby(h["signal_tag"]).cumsum()]).cumcount() + 1
    h["days_in_current_regime"] = streak.clip(upper=REGIME_LOOKBACK_DAYS + 1)
    h = h[h["game_date"].isin(targets)]
    return h.sort_values(["game_date", "signal_tag"]).reset_index(drop=True)


def _daily_counts(
    rows: pd.DataFrame, key: str, first: pd.Timestamp, last: pd.Timestamp, columns: list | None = None
) -> dict[str, pd.DataFrame]:
    """Per calendar day of [the earlier of `first` and the rows' first date, last] and value of `key`
    (the rows' values, or `columns`): decided bets "n" and correct ones "c", 0 on a day without; a
    window's figures are differences of their cumulative sums."""
    grid = pd.date_range(min(rows["game_date"].min(), first) if len(rows) else first, last)
    daily = rows[rows["game_date"] <= last].groupby(["game_date", key])["correct"]
    return {
        name: values.unstack(key).reindex(index=grid, columns=columns).fillna(0.0)
        for name, values in (("n", daily.size().astype("float64")), ("c", daily.sum()))
    }


def window_counts(
    rows: pd.DataFrame, key: str, since: pd.DatetimeIndex, through: pd.DatetimeIndex, columns: list | None = None
) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Per window (since[i], through[i]] and value of `key`: the decided bets and the correct ones of
    `rows` (game_date as datetime64, `key`, `correct` 0/1) in it, as arrays [window, value], and the
    values (the rows', or `columns`). One pass for any number of windows: cumulative counts on a
    calendar of every day, differenced at the windows' ends."""
    daily = _daily_counts(rows, key, since.min(), through.max(), columns)
    totals = {name: counts.cumsum() for name, counts in daily.items()}
    decided, correct = (
        totals[name].reindex(through).to_numpy() - totals[name].reindex(since).to_numpy() for name in ("n", "c")
    )
    return decided, correct, daily["n"].columns


def _rolling_rates(exploded: pd.DataFrame, days: pd.DatetimeIndex, tags: tuple[str, ...]) -> pd.DataFrame:
    """Per day of `days` and tag: decided picks and hit rate over (day - N, day] for every N of WINDOWS
    and over the day's season through the day. One pass: per tag, the cumulative decided and correct
    counts on a calendar of every day, differenced at the window's ends."""
    counts = _daily_counts(exploded, "signal_tag", days[0], days[-1], list(tags))
    cumulative = {name: frame.cumsum() for name, frame in counts.items()}
    grid = counts["n"].index
    season = season_labels(pd.Series(grid, index=grid))
    in_season = {name: frame.groupby(season).cumsum() for name, frame in counts.items()}

    def through(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.reindex(days)

    def window(name: str, n: int) -> pd.DataFrame:
        before = cumulative[name].shift(n, freq="D").reindex(days).fillna(0.0)
        return through(cumulative[name]) - before

    columns = {}
    for n in WINDOWS:
        picks, correct = window("n", n), window("c", n)
        columns[f"hr_{n}d"], columns[f"picks_{n}d"] = (correct / picks).where(picks > 0) * 100.0, picks
    picks, correct = through(in_season["n"]), through(in_season["c"])
    columns["hr_season"], columns["picks_season"] = (correct / picks).where(picks > 0) * 100.0, picks
    long = pd.concat(
        {
            name: frame.rename_axis(index="game_date", columns="signal_tag").stack(future_stack=True)
            for name, frame in columns.items()
        },
        axis=1,
    )
    return long.reset_index()[["signal_tag", *columns, "game_date"]]


def model_health_status(hr: pd.Series, n: pd.Series) -> pd.Series:
    return pd.Series(
        np.select(
            [n < MODEL_HEALTH_MIN_N, hr < BLOCKED_BELOW, hr < WATCH_BELOW], ["unknown", "blocked", "watch"], "healthy"
        ),
        index=hr.index,
    )


def family_health(accuracy: pd.DataFrame, dates) -> pd.DataFrame:
    """Per date D and family: the edge-3+ hit rate of the family's graded predictions of the 7 days
    before D (D excluded), N, and the tier (unknown / blocked / watch / healthy).

    The record spans the family's weekly retrains, as the original's champion record did: a new
    model of a family is a retrain of the same recipe, and judging it on its own few days would
    open the gate every Monday."""
    rows = accuracy[accuracy["prediction_correct"].notna()]
    rows = rows.assign(
        game_date=pd.to_datetime(rows["game_date"]).astype("datetime64[ns]"),
        correct=rows["prediction_correct"].astype(bool).astype(float),
    )
    rows = rows[pd.to_numeric(rows["edge"]).abs() >= MODEL_HEALTH_EDGE]
    columns = ["game_date", "model_family", "hr_7d", "n_7d", "status"]
    days = _dates(dates)
    if not days or rows.empty:
        return pd.DataFrame(columns=columns)
    # A date's window is (D - 8, D - 1]: every date's in one pass, not a filter per date.
    end, start = (pd.DatetimeIndex(days) - pd.Timedelta(days=k) for k in (1, MODEL_HEALTH_DAYS + 1))
    decided, won, families = window_counts(rows, "model_family", start, end)
    n = pd.DataFrame(decided, index=pd.DatetimeIndex(days, name="game_date"), columns=families)
    correct = pd.DataFrame(won, index=n.index, columns=n.columns)
    out = pd.concat({"n_7d": n.stack(), "hr_7d": (correct / n).stack() * 100.0}, axis=1).reset_index()
    out = out[out["n_7d"] > 0].reset_index(drop=True)
    if out.empty:
        return pd.DataFrame(columns=columns)
    out["n_7d"] = out["n_7d"].astype("int64")
    out["status"] = model_health_status(out["hr_7d"], out["n_7d"])
    return out[columns]
