"""Point-in-time, vectorized computation of the V12 feature rows (V9 and V12-noveg are subsets).

Every value for game date D is computed from box scores of games before D, team logs of games
before D, the schedule of D (who plays whom, known in advance) and lines published before tip-off.
The rule is enforced in one place: per-game rolling state is computed on each player's (or team's)
own game sequence, *including* that game, and a target row picks the state as of the end of D-1
with `merge_asof`. So "last 5" includes the player's most recent game (the original skipped it),
and nothing on or after D can reach a row for D.

Windows of "last N games" run over games played (minutes > 0) and may cross seasons; "season"
values restart each season; day windows ("last 7 days") count calendar days before D.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Iterable

import numpy as np
import pandas as pd

from bestbets_dagster.features.contract import (
    DATA_GAP_FEATURES,
    FEATURE_SOURCE,
    INJURY_REPORT_FEATURES,
    MATCHUP_FEATURES,
    QUALITY_TIERS,
    REQUIRED_FEATURES,
    SOURCE_WEIGHTS,
    V12_FEATURES,
)
from bestbets_dagster.ingest.names import names_before
from bestbets_dagster.timeutil import season_labels

DAY = pd.Timedelta(days=1)
LAGS = 30  # most recent games kept per row for streak features
WIN_PCT_PRIOR_GAMES = 5.0  # a team's win pct starts at .500 and counts as this many games


@dataclasses.dataclass(frozen=True)
class FeatureSettings:
    """injury_proxy: treat teammates whose box score of D says "DNP/DND - Injury/Illness" or "NWT"
    as listed OUT before the game (the data has no pre-game injury report). It reads the box score
    of D itself, so it is off by default: with it on, star_teammates_out, teammate_usage_available
    and the usage-spike multiplier see that one fact of D."""

    injury_proxy: bool = False
    team_window: int = 10
    defense_window: int = 15


# --------------------------------------------------------------------------------------------
# Small vectorized helpers


def _asof(
    targets: pd.DataFrame, table: pd.DataFrame, by: list[str], columns: list[str], at: str = "asof_date"
) -> pd.DataFrame:
    """For each target row, the last row of `table` (same `by` keys) with game_date <= target[at]."""
    left = targets[[*by, at]].copy()
    left["_order"] = np.arange(len(left))
    left = left.sort_values(at, kind="mergesort")
    right = table[[*by, "game_date", *columns]].sort_values("game_date", kind="mergesort")
    for key in by:  # merge_asof wants identical key dtypes (warehouse reads give string / Int64)
        numeric = pd.api.types.is_numeric_dtype(right[key]) and pd.api.types.is_numeric_dtype(left[key])
        left[key] = left[key].astype("float64" if numeric else object)
        right[key] = right[key].astype("float64" if numeric else object)
    merged = pd.merge_asof(left, right, left_on=at, right_on="game_date", by=by, direction="backward")
    merged = merged.sort_values("_order")
    return merged[columns].reset_index(drop=True).set_axis(targets.index)


def _window_diff(targets, table, by, cumulative: list[str], days: int) -> pd.DataFrame:
    """Sum over game dates in [D - days, D - 1] from cumulative columns: cum(D-1) - cum(D-days-1)."""
    t = targets.copy()
    t["_end"] = t["game_date"] - DAY
    t["_start"] = t["game_date"] - (days + 1) * DAY
    end = _asof(t, table, by, cumulative, at="_end").fillna(0.0)
    start = _asof(t, table, by, cumulative, at="_start").fillna(0.0)
    return end - start


def _ols_slope(s_y: pd.Series, s_iy: pd.Series, n: pd.Series, last_index: pd.Series) -> pd.Series:
    """Least-squares slope of y on x = 0..n-1 (oldest -> newest) from rolling sums of y and idx*y."""
    start = last_index - n + 1
    s_xy = s_iy - start * s_y
    s_x = n * (n - 1) / 2.0
    s_xx = (n - 1) * n * (2 * n - 1) / 6.0
    denom = n * s_xx - s_x**2
    return (n * s_xy - s_x * s_y) / denom.where(denom != 0)


def _streak(flags: pd.Series, groups: pd.Series) -> pd.Series:
    """Length of the run of True ending at each row, restarting per group."""
    flags = flags.astype(bool)
    breaks = (~flags).astype(int).groupby(groups).cumsum()
    return flags.astype(int).groupby([groups, breaks]).cumsum()


# --------------------------------------------------------------------------------------------
# Per-game state


def _team_games(team_logs: pd.DataFrame, window: int, defense_window: int) -> pd.DataFrame:
    """Per team game: possessions, pace, ratings, and rolling state including that game."""
    t = team_logs.copy()
    t["game_date"] = pd.to_datetime(t["game_date"])
    opp = t[["game_id", "team_abbr", "fga", "fta", "oreb", "tov", "pts"]].rename(
        columns={"team_abbr": "opp", "fga": "o_fga", "fta": "o_fta", "oreb": "o_oreb", "tov": "o_tov", "pts": "o_pts"}
    )
    t = t.merge(opp, on=["game_id", "opp"], how="left")
    # The standard possession estimate, averaged over both teams' box scores.
    own = t["fga"] + 0.44 * t["fta"] - t["oreb"] + t["tov"]
    other = t["o_fga"] + 0.44 * t["o_fta"] - t["o_oreb"] + t["o_tov"]
    t["possessions"] = ((own + other.fillna(own)) / 2.0).where(lambda p: p > 0)
    team_minutes = t["minutes"].where(t["minutes"] > 0, 240.0)
    t["pace"] = 48.0 * t["possessions"] / (team_minutes / 5.0)
    t["off_rating"] = 100.0 * t["pts"] / t["possessions"]
    t["def_rating"] = 100.0 * t["o_pts"] / t["possessions"]
    t["win"] = (t["pts"] > t["o_pts"]).astype(float).where(t["o_pts"].notna())
    t = t.sort_values(["team_abbr", "game_date"], kind="mergesort").reset_index(drop=True)
    g = t.groupby("team_abbr")
    t["team_game_index"] = g.cumcount()
    roll = lambda col, w: g[col].rolling(w, min_periods=1).mean().reset_index(level=0, drop=True)  # noqa: E731
    t["team_pace"] = roll("pace", window)
    t["team_off_rating"] = roll("off_rating", window)
    t["team_def_rating"] = roll("def_rating", defense_window)
    gs = t.groupby(["team_abbr", "season"])
    t["season_games"] = gs.cumcount() + 1
    t["season_wins"] = gs["win"].cumsum()
    t["last_game_date"] = t["game_date"]
    return t


def _player_games(player_logs: pd.DataFrame, teams: pd.DataFrame) -> pd.DataFrame:
    """Per game a player played (minutes > 0): box stats and rolling state including that game."""
    p = player_logs[player_logs["minutes"].fillna(0) > 0].copy()
    p["game_date"] = pd.to_datetime(p["game_date"])
    totals = teams[["game_id", "team_abbr", "minutes", "fga", "fta", "tov"]].rename(
        columns={"minutes": "tm_minutes", "fga": "tm_fga", "fta": "tm_fta", "tov": "tm_tov"}
    )
    p = p.merge(totals, on=["game_id", "team_abbr"], how="left")
    p = p.merge(teams[["game_id", "team_abbr", "team_game_index"]], on=["game_id", "team_abbr"], how="left")
    tm_minutes = p["tm_minutes"].where(p["tm_minutes"] > 0, 240.0)
    plays = p["field_goals_attempted"] + 0.44 * p["free_throws_attempted"] + p["turnovers"]
    tm_plays = p["tm_fga"] + 0.44 * p["tm_fta"] + p["tm_tov"]
    p["usage"] = 100.0 * plays * (tm_minutes / 5.0) / (p["minutes"] * tm_plays)
    p["ppm"] = p["points"] / p["minutes"]
    p = p.sort_values(["person_id", "game_date"], kind="mergesort").reset_index(drop=True)
    g = p.groupby("person_id")
    p["idx"] = g.cumcount()

    def roll(col: str, w: int, how: str = "mean", min_periods: int = 1) -> pd.Series:
        r = g[col].rolling(w, min_periods=min_periods)
        return getattr(r, how)().reset_index(level=0, drop=True)

    pts = "points"
    p["n_l10"] = roll(pts, 10, "count")
    p["n_l5"] = roll(pts, 5, "count")
    p["points_avg_last_3"] = roll(pts, 3)
    p["points_avg_last_5"] = roll(pts, 5)
    p["points_avg_last_10"] = roll(pts, 10)
    p["points_std_last_10"] = roll(pts, 10, "std", 2)
    p["minutes_avg_last_10"] = roll("minutes", 10)
    p["ppm_avg_last_10"] = roll("ppm", 10)
    p["usage_l5"] = roll("usage", 5)
    p["usage_n_l5"] = roll("usage", 5, "count")
    p["usage_l7"] = roll("usage", 7)
    p["fg3a_l10"] = roll("three_pointers_attempted", 10, "sum")
    p["fga_l10"] = roll("field_goals_attempted", 10, "sum")
    p["ftm_l10"] = roll("free_throws_made", 10, "sum")
    p["pts_l10_sum"] = roll(pts, 10, "sum")
    p["pts_l5_sum"] = roll(pts, 5, "sum")
    p["pts_l3_sum"] = roll(pts, 3, "sum")
    p["_iy"] = p["idx"] * p[pts]
    for w, name in ((10, "slope10"), (7, "slope7")):
        n = roll(pts, w, "count")
        p[name] = _ols_slope(roll(pts, w, "sum"), roll("_iy", w, "sum"), n, p["idx"])
        p[f"{name}_n"] = n
    gs = p.groupby(["person_id", "season"])
    p["season_games"] = gs.cumcount() + 1
    p["season_points"] = gs[pts].cumsum()
    p["season_minutes"] = gs["minutes"].cumsum()
    p["season_usage_sum"] = gs["usage"].cumsum()
    p["season_usage_n"] = gs["usage"].transform(lambda s: s.notna().cumsum())
    # Day-window cumulative sums (differenced at lookup).
    p["cum_games"] = g.cumcount() + 1.0
    p["cum_minutes"] = g["minutes"].cumsum()
    p["cum_points"] = g[pts].cumsum()
    p["cum_points_sq"] = (p[pts] ** 2).groupby(p["person_id"]).cumsum()
    prev_date = g["game_date"].shift()
    p["is_b2b"] = ((p["game_date"] - prev_date) == DAY).astype(float)
    p["cum_b2b"] = p["is_b2b"].groupby(p["person_id"]).cumsum()
    # Structural change: a new team or a gap of more than 14 days starts the count again.
    change = (p["team_abbr"] != g["team_abbr"].shift()) | ((p["game_date"] - prev_date) > 14 * DAY)
    p["games_since_change"] = p.groupby(["person_id", change.cumsum()]).cumcount() + 1
    p["last_team"] = p["team_abbr"]
    p["last_played_date"] = p["game_date"]
    lags = {f"lag_pts_{k}": g[pts].shift(k) for k in range(LAGS)}
    lags.update({f"lag_date_{k}": g["game_date"].shift(k) for k in range(LAGS)})
    return pd.concat([p, pd.DataFrame(lags)], axis=1)


def _listed_games(player_logs: pd.DataFrame) -> pd.DataFrame:
    """Every box-score row (DNP rows included): the DNP share of the last 10 listed games."""
    a = player_logs[["person_id", "game_date", "is_dnp"]].copy()
    a["game_date"] = pd.to_datetime(a["game_date"])
    a = a.sort_values(["person_id", "game_date"], kind="mergesort").reset_index(drop=True)
    r = a.groupby("person_id")["is_dnp"].rolling(10, min_periods=1)
    a["dnp_rate_l10"] = r.mean().reset_index(level=0, drop=True)
    a["listed_l10"] = r.count().reset_index(level=0, drop=True)
    return a


def _opponent_games(played: pd.DataFrame) -> pd.DataFrame:
    o = played[["person_id", "opp", "game_date", "points"]].sort_values(
        ["person_id", "opp", "game_date"], kind="mergesort"
    )
    g = o.groupby(["person_id", "opp"])
    o["cum_vs_games"] = g.cumcount() + 1.0
    o["cum_vs_points"] = g["points"].cumsum()
    return o


def _prop_history(lines: pd.DataFrame, player_logs: pd.DataFrame) -> pd.DataFrame:
    """Past lined games with the actual points: over/under streaks ending at each such game.
    A push breaks both streaks; a game the player did not play is skipped (voided)."""
    lined = lines[lines["person_id"].notna()][["game_date", "person_id", "selected_line"]].copy()
    lined["game_date"] = pd.to_datetime(lined["game_date"])
    lined["person_id"] = lined["person_id"].astype("int64")
    played = player_logs[player_logs["minutes"].fillna(0) > 0][["game_date", "person_id", "points"]].copy()
    played["game_date"] = pd.to_datetime(played["game_date"])
    h = lined.merge(played, on=["game_date", "person_id"], how="inner")
    h = h.sort_values(["person_id", "game_date"], kind="mergesort").reset_index(drop=True)
    h["prop_over_streak"] = _streak(h["points"] > h["selected_line"], h["person_id"])
    h["prop_under_streak"] = _streak(h["points"] < h["selected_line"], h["person_id"])
    return h


# --------------------------------------------------------------------------------------------
# Target rows


def schedule_from_team_logs(team_logs: pd.DataFrame) -> pd.DataFrame:
    s = team_logs[["game_date", "game_id", "team_abbr", "opp", "is_home"]].copy()
    s["game_date"] = pd.to_datetime(s["game_date"])
    return s


def schedule_from_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """Games known only from the books (today's slate before any box score): both teams per event."""
    known = lines[lines["team_abbr"].notna() & lines["opponent_abbr"].notna()]
    rows = known[["game_date", "game_id", "team_abbr", "opponent_abbr", "is_home"]].rename(
        columns={"opponent_abbr": "opp"}
    )
    flipped = rows.rename(columns={"team_abbr": "opp", "opp": "team_abbr"}).assign(
        is_home=~rows["is_home"].astype(bool)
    )
    s = pd.concat([rows, flipped], ignore_index=True)
    s["game_date"] = pd.to_datetime(s["game_date"])
    return s.drop_duplicates(["game_date", "team_abbr"])


def _targets(
    dates: Iterable[dt.date],
    schedule: pd.DataFrame,
    lines: pd.DataFrame,
    played: pd.DataFrame,
    teams: pd.DataFrame,
    window: int = 10,
) -> pd.DataFrame:
    """Who is expected to play on each date: every resolved lined player, plus everyone who played
    for a scheduled team in its last `window` games and has not played for another team since."""
    wanted = pd.to_datetime(pd.Series(sorted(set(dates)), dtype="object"))
    sched = schedule[schedule["game_date"].isin(wanted)].drop_duplicates(["game_date", "team_abbr"]).copy()
    # The team's game index on D = games it played before D.
    sched["asof_date"] = sched["game_date"] - DAY
    sched["k"] = _asof(sched, teams, ["team_abbr"], ["team_game_index"])["team_game_index"].add(1).fillna(0)
    appearances = played[["person_id", "team_abbr", "team_game_index"]].dropna().drop_duplicates()
    expanded = appearances.loc[appearances.index.repeat(window)].copy()
    expanded["k"] = expanded["team_game_index"] + np.tile(np.arange(1, window + 1), len(appearances))
    recent = sched.merge(expanded[["person_id", "team_abbr", "k"]].drop_duplicates(), on=["team_abbr", "k"])
    recent = recent[["game_date", "person_id", "team_abbr"]]

    lined = lines[lines["person_id"].notna() & lines["game_date"].isin(wanted)]
    lined = lined[["game_date", "person_id", "team_abbr"]].copy()
    lined["person_id"] = lined["person_id"].astype("int64")
    lined["game_date"] = pd.to_datetime(lined["game_date"])
    lined["_lined"] = True

    t = pd.concat([lined, recent.assign(_lined=False)], ignore_index=True)
    t = t.sort_values(["game_date", "person_id", "_lined"], ascending=[True, True, False], kind="mergesort")
    t = t.drop_duplicates(["game_date", "person_id"]).reset_index(drop=True)
    # A player who has since played for another team left this one (a trade): drop him here.
    t["asof_date"] = t["game_date"] - DAY
    last_team = _asof(t, played, ["person_id"], ["last_team"])["last_team"]
    t = t[t["_lined"] | (last_team == t["team_abbr"])].reset_index(drop=True)
    t = t.merge(
        sched[["game_date", "team_abbr", "opp", "is_home", "game_id"]], on=["game_date", "team_abbr"], how="left"
    )
    return t.drop(columns="_lined")


def _game_context(t: pd.DataFrame, game_context: pd.DataFrame | None) -> pd.DataFrame:
    """Each target row's game total and its team's spread (NaN where the books quoted none)."""
    columns = ["game_total_line", "team_spread"]
    if game_context is None or game_context.empty:
        return pd.DataFrame(np.nan, index=t.index, columns=columns)
    context = _ns_dates(game_context).drop_duplicates(["game_date", "team_abbr"])
    merged = t[["game_date", "team_abbr"]].merge(context, on=["game_date", "team_abbr"], how="left")
    return merged[columns].set_index(t.index).astype("float64")


# --------------------------------------------------------------------------------------------
# The feature rows


def build_features(
    dates: Iterable[dt.date],
    player_logs: pd.DataFrame,
    team_logs: pd.DataFrame,
    lines: pd.DataFrame,
    schedule: pd.DataFrame | None = None,
    settings: FeatureSettings = FeatureSettings(),
    game_context: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per player expected to play on each date, with the 54 V12 features and quality.

    player_logs, team_logs: box scores (rows on or after a date are ignored for that date);
    lines: player_game_lines (history for streaks, and the date's pre-tip-off lines);
    schedule: (game_date, game_id, team_abbr, opp, is_home), default from team_logs and lines;
    game_context: the books' game lines per team-game as the decision saw them (game_date, team_abbr,
    game_total_line, team_spread: ingest.lines.team_game_lines); without it those features are NaN.
    """
    dates = list(dates)
    # One datetime unit everywhere: merge_asof refuses to compare [us] with [ns].
    player_logs, team_logs, lines = (_ns_dates(df) for df in (player_logs, team_logs, lines))
    if schedule is None:
        schedule = pd.concat([schedule_from_team_logs(team_logs), schedule_from_lines(lines)], ignore_index=True)
        schedule = schedule.drop_duplicates(["game_date", "team_abbr"])
    schedule = _ns_dates(schedule)
    teams = _team_games(team_logs, settings.team_window, settings.defense_window)
    played = _player_games(player_logs, teams)
    t = _targets(dates, schedule, lines, played, teams)
    if t.empty:
        return _empty_frame()
    D = t["game_date"]
    t["asof_date"] = D - DAY
    f = pd.DataFrame(index=t.index)
    # Player state after his last game before D.
    s = _asof(t, played, ["person_id"], list(PLAYER_STATE_COLUMNS))
    has_history = s["last_played_date"].notna()
    season_now = season_labels(D)  # each row's season, which the player's and the teams' season figures must match
    season_minutes_avg, season_usage = _add_recent_scoring(f, s, has_history, season_now)
    days_rest = _add_rest_and_fatigue(f, t, s, played, has_history)
    _add_team_and_game(f, t, teams, days_rest, game_context, season_now)
    _add_shot_mix_and_trend(f, t, s, season_minutes_avg)
    _add_opponent_history(f, t, played, has_history)
    _add_scoring_shape(f, t, s, played, player_logs, days_rest)
    on_d = _add_lines(f, t, lines, player_logs)
    _add_usage_spike(f, t, s, season_usage, player_logs, played, settings)
    return _feature_rows(t, f, on_d, player_logs, lines)


# Features that are the player's state as it stands (his last games' averages), copied as they are.
RECENT_FORM_FEATURES = (
    "points_avg_last_3",
    "points_avg_last_5",
    "points_avg_last_10",
    "points_std_last_10",
    "minutes_avg_last_10",
    "ppm_avg_last_10",
)
# The player's state after his last game before D, read as of D - 1.
PLAYER_STATE_COLUMNS = (
    "n_l10",
    "n_l5",
    *RECENT_FORM_FEATURES,
    "usage_l5",
    "usage_n_l5",
    "usage_l7",
    "fg3a_l10",
    "fga_l10",
    "ftm_l10",
    "pts_l10_sum",
    "pts_l5_sum",
    "pts_l3_sum",
    "slope10",
    "slope10_n",
    "slope7",
    "slope7_n",
    "season",
    "season_games",
    "season_points",
    "season_minutes",
    "season_usage_sum",
    "season_usage_n",
    "games_since_change",
    "last_team",
    "last_played_date",
    *[f"lag_pts_{k}" for k in range(LAGS)],
    *[f"lag_date_{k}" for k in range(LAGS)],
)


def _add_recent_scoring(f, s, has_history, season_now) -> tuple[pd.Series, pd.Series]:
    """Recent and season scoring and minutes; the season's minutes and usage for the later groups."""
    same_season = s["season"] == season_now
    season_games = s["season_games"].where(same_season & has_history)
    for col in RECENT_FORM_FEATURES:
        f[col] = s[col]
    # Before a player's first game of the season, the season values take their cross-season prior
    # (the last 10 games, whichever season they were in): a NaN there sent week-1 rows down the
    # trees' low-scorer branches, and training (which starts from rows with a season) never saw one.
    f["points_avg_season"] = (s["season_points"] / season_games).where(season_games > 0).fillna(s["points_avg_last_10"])
    season_minutes_avg = (s["season_minutes"] / season_games).where(season_games > 0).fillna(s["minutes_avg_last_10"])
    season_usage = (s["season_usage_sum"] / s["season_usage_n"]).where(same_season & (s["season_usage_n"] > 0))
    season_usage = season_usage.fillna(s["usage_l7"])
    return season_minutes_avg, season_usage


def _add_rest_and_fatigue(f, t, s, played, has_history) -> pd.Series:
    """Rest days, games and minutes of the last week, back-to-backs and the original's fatigue score."""
    D = t["game_date"]
    w7 = _window_diff(t, played, ["person_id"], ["cum_games", "cum_minutes"], 7)
    w14 = _window_diff(t, played, ["person_id"], ["cum_b2b"], 14)
    f["games_in_last_7_days"] = w7["cum_games"].where(has_history)
    f["minutes_load_last_7d"] = w7["cum_minutes"].where(has_history)
    days_rest = (D - s["last_played_date"]).dt.days
    f["days_rest"] = days_rest
    f["back_to_back"] = (days_rest == 1).astype(float).where(has_history)

    # Fatigue (the original's rules; no birth dates here, so no age term).
    fatigue = pd.Series(100.0, index=t.index)
    fatigue -= np.where(days_rest == 1, 15.0, 0.0)
    fatigue += np.where((days_rest != 1) & (days_rest >= 3), 5.0, 0.0)
    fatigue -= np.where(w7["cum_games"] >= 4, 10.0, 0.0)
    fatigue -= np.where(w7["cum_minutes"] > 240, 10.0, 0.0)
    mpg7 = (w7["cum_minutes"] / w7["cum_games"]).where(w7["cum_games"] > 0)
    fatigue -= np.where(mpg7 > 35, 8.0, 0.0)
    fatigue -= np.select([w14["cum_b2b"] >= 2, w14["cum_b2b"] == 1], [12.0, 5.0], 0.0)
    f["fatigue_score"] = fatigue.clip(0, 100).where(has_history)
    return days_rest


def _add_team_and_game(f, t, teams, days_rest, game_context, season_now) -> None:
    """Team and opponent state after their last games before D, and the game's lines."""
    D = t["game_date"]
    team_cols = [
        "team_pace",
        "team_off_rating",
        "team_def_rating",
        "pace",
        "season",
        "season_games",
        "season_wins",
        "last_game_date",
    ]
    own = _asof(t, teams, ["team_abbr"], team_cols)
    opp = _asof(t.assign(team_abbr=t["opp"]), teams, ["team_abbr"], team_cols)
    f["team_pace"] = own["team_pace"]
    f["team_off_rating"] = own["team_off_rating"]
    team_season_games = own["season_games"].where(own["season"] == season_now)
    # Shrunk toward .500 by WIN_PCT_PRIOR_GAMES games: defined from the season's first day, close to
    # the record once the season has a few weeks.
    wins = own["season_wins"].where(own["season"] == season_now).fillna(0.0)
    f["team_win_pct"] = (wins + 0.5 * WIN_PCT_PRIOR_GAMES) / (team_season_games.fillna(0.0) + WIN_PCT_PRIOR_GAMES)
    f["opponent_def_rating"] = opp["team_def_rating"]
    f["opponent_pace"] = opp["team_pace"]
    league_pace = _league_pace(teams, t)
    f["pace_score"] = (((own["team_pace"] + opp["team_pace"]) / 2.0 - league_pace) / 2.0).clip(-3, 3)
    opp_rest = (D - opp["last_game_date"]).dt.days
    f["rest_advantage"] = (days_rest - opp_rest).clip(-2, 2)

    f["home_away"] = t["is_home"].astype("float")
    f["playoff_game"] = t["game_id"].astype("string").str[:3].isin(["004", "005"]).astype(float)
    f["shot_zone_mismatch_score"] = np.nan
    f["pct_paint"] = np.nan
    f["pct_mid_range"] = np.nan
    f["injury_risk"] = np.nan
    context = _game_context(t, game_context)
    f["game_total_line"] = context["game_total_line"]
    f["spread_magnitude"] = context["team_spread"].abs()
    # The team's share of the total: a favourite by s (spread -s) is expected to score (total + s) / 2.
    f["implied_team_total"] = (context["game_total_line"] - context["team_spread"]) / 2.0


def _add_shot_mix_and_trend(f, t, s, season_minutes_avg) -> None:
    """Share of threes and free throws, and the recent scoring and minutes trends."""
    f["pct_three"] = (s["fg3a_l10"] / s["fga_l10"]).where(s["fga_l10"] > 0)
    f["pct_free_throw"] = (
        (s["ftm_l10"] / s["pts_l10_sum"].where(s["pts_l10_sum"] > 0)).clip(0, 0.5).where(s["n_l10"] >= 5)
    )

    # Trend: positive means the 3 most recent games are higher than games 4-5 back (what the
    # original meant; its code had the sign inverted).
    mean_45 = (s["pts_l5_sum"] - s["pts_l3_sum"]) / 2.0
    diff = s["points_avg_last_3"] - mean_45
    trend = np.select([diff >= 5, diff >= 2, diff <= -5, diff <= -2], [2.0, 1.0, -2.0, -1.0], 0.0)
    f["recent_trend"] = pd.Series(trend, index=t.index).where(s["n_l5"] >= 5)
    pct = (s["minutes_avg_last_10"] - season_minutes_avg) / season_minutes_avg.where(season_minutes_avg > 0)
    change = np.select([pct >= 0.2, pct >= 0.1, pct <= -0.2, pct <= -0.1], [2.0, 1.0, -2.0, -1.0], 0.0)
    f["minutes_change"] = pd.Series(change, index=t.index).where(pct.notna())


def _add_opponent_history(f, t, played, has_history) -> None:
    """Games and points against the opponent over the last year."""
    vs = _window_diff(
        t.assign(opp_key=t["opp"]),
        _opponent_games(played).rename(columns={"opp": "opp_key"}),
        ["person_id", "opp_key"],
        ["cum_vs_games", "cum_vs_points"],
        365,
    )
    f["games_vs_opponent"] = vs["cum_vs_games"].where(has_history)
    f["avg_points_vs_opponent"] = (vs["cum_vs_points"] / vs["cum_vs_games"]).where(
        vs["cum_vs_games"] > 0, f["points_avg_season"]
    )


def _add_scoring_shape(f, t, s, played, player_logs, days_rest) -> None:
    """DNP rate, scoring slopes, z-score, breakout, the 60-day window, usage and structural change."""
    D = t["game_date"]
    w60 = _window_diff(t, played, ["person_id"], ["cum_games", "cum_points", "cum_points_sq"], 60)
    listed = _asof(t, _listed_games(player_logs), ["person_id"], ["dnp_rate_l10", "listed_l10"])
    f["dnp_rate"] = listed["dnp_rate_l10"].where(listed["listed_l10"] >= 3)
    f["pts_slope_10g"] = s["slope10"].where(s["slope10_n"] >= 5)
    f["scoring_trend_slope"] = s["slope7"].where(s["slope7_n"] >= 4)
    std10 = s["points_std_last_10"].where(s["points_std_last_10"] > 0)
    f["pts_vs_season_zscore"] = ((s["points_avg_last_5"] - f["points_avg_season"]) / std10).clip(-3, 3)
    f["breakout_flag"] = (
        (s["points_avg_last_5"] > f["points_avg_season"] + 1.5 * s["points_std_last_10"])
        .astype(float)
        .where(f["points_avg_season"].notna() & s["points_std_last_10"].notna())
    )

    # 60-day window: mean and sample std of points, deviation of the last 3, streak below the mean.
    n60, s1, s2 = w60["cum_games"], w60["cum_points"], w60["cum_points_sq"]
    mean60 = (s1 / n60).where(n60 > 0)
    std60 = np.sqrt(((s2 - s1**2 / n60) / (n60 - 1)).where(n60 > 1).clip(lower=0))
    f["deviation_from_avg_last3"] = (s["points_avg_last_3"] - mean60) / std60.where(std60 > 0)
    lag_pts = s[[f"lag_pts_{k}" for k in range(LAGS)]].to_numpy(dtype=float)
    lag_dates = s[[f"lag_date_{k}" for k in range(LAGS)]].apply(pd.to_datetime)
    in_window = lag_dates.ge(D - 60 * DAY, axis=0).to_numpy()
    below = (lag_pts < mean60.to_numpy()[:, None]) & in_window & ~np.isnan(lag_pts)
    f["consecutive_games_below_avg"] = (
        pd.Series(np.cumprod(below, axis=1).sum(axis=1), index=t.index).astype(float).where(n60 > 0)
    )

    f["usage_rate_last_5"] = s["usage_l5"].where(s["usage_n_l5"] >= 3)
    f["games_since_structural_change"] = _games_since_change(s, t, days_rest)


def _add_lines(f, t, lines, player_logs) -> pd.DataFrame:
    """The lines published before tip-off on D and the player's streaks over and under his lines."""
    line_cols = ["selected_line", "opening_line", "line_std", "n_books"]
    today = lines[lines["person_id"].notna()][["game_date", "person_id", *line_cols]].copy()
    today["game_date"] = pd.to_datetime(today["game_date"])
    today["person_id"] = today["person_id"].astype("int64")
    today = today.drop_duplicates(["game_date", "person_id"])
    on_d = t[["game_date", "person_id"]].merge(today, on=["game_date", "person_id"], how="left").set_index(t.index)
    f["vegas_points_line"] = on_d["selected_line"]
    f["vegas_opening_line"] = on_d["opening_line"]
    f["vegas_line_move"] = on_d["selected_line"] - on_d["opening_line"]
    f["has_vegas_line"] = on_d["selected_line"].notna().astype(float)
    f["multi_book_line_std"] = on_d["line_std"].where(on_d["n_books"] >= 2)
    f["line_vs_season_avg"] = on_d["selected_line"] - f["points_avg_season"]
    streaks = _asof(t, _prop_history(lines, player_logs), ["person_id"], ["prop_over_streak", "prop_under_streak"])
    has_lined_history = streaks["prop_over_streak"].notna()
    # No lined game yet: no streak (0), not unknown.
    f["prop_over_streak"] = streaks["prop_over_streak"].where(has_lined_history, 0.0)
    f["prop_under_streak"] = streaks["prop_under_streak"].where(has_lined_history, 0.0)

    return on_d


def _add_usage_spike(f, t, s, season_usage, player_logs, played, settings) -> None:
    """The usage spike; with the DNP-injury proxy on, scaled by the star teammates out."""
    spike = (season_usage - s["usage_l7"]) * 0.3
    # Injury report: none in the data; the DNP-injury proxy fills it only when turned on.
    if settings.injury_proxy:
        out_counts = _injury_proxy(t, player_logs, played, s)
        f["star_teammates_out"] = out_counts["star_teammates_out"]
        f["teammate_usage_available"] = out_counts["teammate_usage_available"]
        multiplier = np.select(
            [out_counts["star_teammates_out"] >= 2, out_counts["star_teammates_out"] == 1], [1.30, 1.15], 1.0
        )
        spike = spike.where(spike <= 0, spike * multiplier)
    else:
        f["star_teammates_out"] = np.nan
        f["teammate_usage_available"] = np.nan
    f["usage_spike_score"] = spike.clip(-3, 3)


def _feature_rows(t, f, on_d, player_logs, lines) -> pd.DataFrame:
    """The stored rows: identity columns, the V12 features as floats, and the quality columns."""
    D = t["game_date"]
    names = _names(player_logs, lines, t)
    out = pd.concat(
        [
            pd.DataFrame(
                {
                    "game_date": D,
                    "person_id": t["person_id"].astype("int64"),
                    "player_lookup": names["player_lookup"],
                    "player_name": names["player_name"],
                    "team_abbr": t["team_abbr"],
                    "opponent_abbr": t["opp"],
                    "is_home": t["is_home"],
                    "game_id": t["game_id"],
                    "has_prop_line": on_d["selected_line"].notna(),
                }
            ),
            f[list(V12_FEATURES)].astype("float64"),
        ],
        axis=1,
    )
    out = pd.concat([out, quality(out)], axis=1)
    return out.sort_values(["game_date", "team_abbr", "person_id"]).reset_index(drop=True)


def _ns_dates(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(game_date=pd.to_datetime(df["game_date"]).astype("datetime64[ns]"))


def _previous_season(labels: pd.Series) -> pd.Series:
    start = labels.str[:4].astype(int) - 1
    return start.astype(str) + "-" + ((start + 1) % 100).astype(str).str.zfill(2)


def _league_pace(teams: pd.DataFrame, t: pd.DataFrame) -> pd.Series:
    """Mean pace of the season's team games before D."""
    daily = teams.groupby(["season", "game_date"])["pace"].agg(["sum", "count"]).reset_index()
    daily = daily.sort_values("game_date")
    daily[["cum_sum", "cum_n"]] = daily.groupby("season")[["sum", "count"]].cumsum()
    q = t.assign(season=season_labels(t["game_date"]))
    got = _asof(q, daily, ["season"], ["cum_sum", "cum_n"])
    # A season's first day has no game before it: the previous season's league pace stands in.
    previous = daily.drop_duplicates("season", keep="last").set_index("season")
    previous_pace = (previous["cum_sum"] / previous["cum_n"]).reindex(_previous_season(q["season"])).to_numpy()
    return (got["cum_sum"] / got["cum_n"]).fillna(pd.Series(previous_pace, index=t.index))


def _games_since_change(s: pd.DataFrame, t: pd.DataFrame, days_rest: pd.Series) -> pd.Series:
    """Games since a team change or a gap of more than 14 days, capped at 30; D itself counts as a
    change when the player is on a new team or returns after more than 14 days."""
    changed_now = (s["last_team"] != t["team_abbr"]) | (days_rest > 14)
    since = s["games_since_change"].where(~changed_now, 0.0)
    return since.clip(upper=30).where(s["last_played_date"].notna())


def _injury_proxy(t, player_logs, played, s) -> pd.DataFrame:
    """Teammates with a DNP/DND - Injury/Illness or NWT row in D's box score count as listed OUT."""
    logs = player_logs.copy()
    logs["game_date"] = pd.to_datetime(logs["game_date"])
    comment = logs["comment"].fillna("").str.upper()
    is_out = logs["is_dnp"] & (comment.str.contains("INJURY") | comment.str.startswith("NWT"))
    out = logs.loc[is_out, ["game_date", "team_abbr", "person_id"]]
    out = out.merge(t[["game_date", "team_abbr"]].drop_duplicates(), on=["game_date", "team_abbr"])
    out["asof_date"] = out["game_date"] - DAY
    st = _asof(
        out,
        played,
        ["person_id"],
        [
            "season_points",
            "season_minutes",
            "season_games",
            "season_usage_sum",
            "season_usage_n",
            "minutes_avg_last_10",
        ],
    )
    ppg = st["season_points"] / st["season_games"]
    mpg = st["season_minutes"] / st["season_games"]
    usg = st["season_usage_sum"] / st["season_usage_n"]
    out["star"] = ((ppg >= 18) | (mpg >= 28) | (usg >= 25)).fillna(False).to_numpy()
    out["usage_available"] = usg.where(st["minutes_avg_last_10"] > 10, 0.0).fillna(0.0).to_numpy()
    agg = (
        out.groupby(["game_date", "team_abbr"])
        .agg(star_teammates_out=("star", "sum"), teammate_usage_available=("usage_available", "sum"))
        .reset_index()
    )
    merged = (
        t[["game_date", "team_abbr", "person_id"]]
        .merge(agg, on=["game_date", "team_abbr"], how="left")
        .set_index(t.index)
    )
    return merged[["star_teammates_out", "teammate_usage_available"]].fillna(0.0)


def _names(player_logs, lines, t) -> pd.DataFrame:
    """Each row's name as of its date: the player's latest box score before D (a spelling that
    changes later, "Manon" -> "Mañon", must not reach D: the row would depend on the range's end),
    else his name in D's own lines (a debut)."""
    names = names_before(t, player_logs, ("player_lookup", "player_name"))
    of_day = lines[lines["person_id"].notna()][["game_date", "person_id", "player_lookup", "player_name"]]
    of_day = of_day.assign(
        game_date=pd.to_datetime(of_day["game_date"]).astype("datetime64[ns]"),
        person_id=of_day["person_id"].astype("int64"),
    ).drop_duplicates(["game_date", "person_id"])
    fallback = t[["game_date", "person_id"]].merge(of_day, on=["game_date", "person_id"], how="left").set_index(t.index)
    return names.fillna(fallback[["player_lookup", "player_name"]])


def _quality_score(missing: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, pd.Series]:
    """The original's score over `columns`: (score, required defaults among them)."""
    weights = np.array([SOURCE_WEIGHTS[FEATURE_SOURCE[c]] for c in columns])
    score = np.where(missing[columns].to_numpy(), SOURCE_WEIGHTS["default"], weights).mean(axis=1)
    required_missing = missing[[c for c in REQUIRED_FEATURES if c in columns]].sum(axis=1)
    score = np.where(
        required_missing >= 5, np.minimum(score, 49.0), np.where(required_missing >= 1, np.minimum(score, 69.0), score)
    )
    return score, required_missing


def quality(features: pd.DataFrame) -> pd.DataFrame:
    """The original's feature-quality score: the mean of each feature's source weight (a missing
    feature weighs as a default, 40), capped at 69 with any required default and at 49 with 5 or
    more; tiers gold >= 95, silver >= 85, bronze >= 70, poor >= 50, critical below.

    The same score over the features this data can give (without DATA_GAP_FEATURES and the
    injury-report features) is `available_quality_score`: the full score is capped at 69 for every
    row here, so a filter on it could not tell a degraded row from a complete one."""
    values = features[list(V12_FEATURES)]
    missing = values.isna()
    score, required_missing = _quality_score(missing, list(V12_FEATURES))
    gap_features = DATA_GAP_FEATURES | INJURY_REPORT_FEATURES
    available_score, _ = _quality_score(missing, [c for c in V12_FEATURES if c not in gap_features])
    tier = pd.Series("critical", index=features.index)
    for name, floor in reversed(QUALITY_TIERS):
        tier[score >= floor] = name
    matchup_pct = 100.0 * (~missing[list(MATCHUP_FEATURES)]).mean(axis=1)
    gaps = [c for c in REQUIRED_FEATURES if c in gap_features]
    history_missing = required_missing - missing[gaps].sum(axis=1)
    return pd.DataFrame(
        {
            "feature_quality_score": np.round(score, 2),
            "available_quality_score": np.round(available_score, 2),
            "quality_tier": tier,
            "default_feature_count": missing.sum(axis=1).astype("int64"),
            "required_default_count": required_missing.astype("int64"),
            "matchup_quality_pct": matchup_pct,
            "is_quality_ready": tier.isin(["gold", "silver", "bronze"])
            & (score >= 70)
            & (matchup_pct >= 50)
            & (required_missing == 0),
            # The original's gate, forgiving only what this data can never give (DATA_GAP_FEATURES).
            "is_training_ready": (history_missing == 0) & (matchup_pct >= 50),
        },
        index=features.index,
    )


def _empty_frame() -> pd.DataFrame:
    from bestbets_dagster import tables

    return tables.table("player_features").empty_frame()


__all__ = ["FeatureSettings", "build_features", "quality", "schedule_from_lines", "schedule_from_team_logs"]
