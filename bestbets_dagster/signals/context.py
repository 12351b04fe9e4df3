"""What the signals and filters know about a player before a game: the original's supplemental data.

Everything is as of the day before the game date D, from the current season's games the player
played (minutes > 0). "Last 3" means the three most recent games before D: the original's windows
skipped the most recent game (its "1 PRECEDING" on the row of that game).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bestbets_dagster.timeutil import EASTERN, season_labels

DAY = pd.Timedelta(days=1)
LINE_DELTA_LOOKBACK_DAYS = 14
OPPONENT_LOOKBACK_DAYS = 365

CONTEXT_COLUMNS = (
    "games_played_season",
    "minutes_last_3",
    "minutes_season",
    "prev_minutes",
    "starter_flag",
    "position",
    "three_pct_last_3",
    "three_pct_season",
    "three_pct_std",
    "three_pa_per_game",
    "fg_pct_last_3",
    "fg_pct_season",
    "fg_pct_std",
    "points_season",
    "usage_season",
    "fta_per_game",
    "unassisted_fgm_per_game",
    "points_std_last_5",
    "negative_plus_minus_streak",
    "rest_days",
    "opponent_rest_days",
    "games_vs_opponent",
    "not_over_streak",
    "line_delta",
    "line_delta_intraday",
    "model_miss_streak",
    "last_miss_recommendation",
)


def _ns(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(game_date=pd.to_datetime(df["game_date"]).astype("datetime64[ns]"))


def _asof(targets: pd.DataFrame, table: pd.DataFrame, by: list[str], columns: list[str], at: str) -> pd.DataFrame:
    """For each target row, the last `table` row with the same keys and game_date <= target[at]."""
    left = targets[[*by, at]].copy()
    left["_order"] = np.arange(len(left))
    right = table[[*by, "game_date", *columns]]
    for key in by:  # merge_asof wants identical key dtypes
        kind = "float64" if pd.api.types.is_numeric_dtype(right[key]) else object
        left[key] = left[key].astype(kind)
        right = right.assign(**{key: right[key].astype(kind)})
    merged = pd.merge_asof(
        left.sort_values(at, kind="mergesort"),
        right.sort_values("game_date", kind="mergesort"),
        left_on=at,
        right_on="game_date",
        by=by,
        direction="backward",
    )
    return merged.sort_values("_order")[columns].reset_index(drop=True).set_axis(targets.index)


def _run_length(flags: pd.Series, groups: pd.Series) -> pd.Series:
    """Length of the run of True ending at each row, per group."""
    flags = flags.fillna(False).astype(bool)
    breaks = (~flags).astype(int).groupby(groups).cumsum()
    return flags.astype(int).groupby([groups, breaks]).cumsum()


def _played_games(player_logs: pd.DataFrame, team_logs: pd.DataFrame) -> pd.DataFrame:
    """One row per game played, with season-to-date and last-3 state including that game."""
    p = _ns(player_logs[player_logs["minutes"].fillna(0) > 0])
    teams = _ns(team_logs)[["game_id", "team_abbr", "minutes", "fga", "fta", "tov"]].rename(
        columns={"minutes": "tm_minutes", "fga": "tm_fga", "fta": "tm_fta", "tov": "tm_tov"}
    )
    p = p.merge(teams, on=["game_id", "team_abbr"], how="left")
    tm_minutes = p["tm_minutes"].where(p["tm_minutes"] > 0, 240.0)
    plays = p["field_goals_attempted"] + 0.44 * p["free_throws_attempted"] + p["turnovers"]
    team_plays = p["tm_fga"] + 0.44 * p["tm_fta"] + p["tm_tov"]
    p["usage"] = 100.0 * plays * (tm_minutes / 5.0) / (p["minutes"] * team_plays)
    p["three_pct"] = (p["three_pointers_made"] / p["three_pointers_attempted"]).where(p["three_pointers_attempted"] > 0)
    p["fg_pct"] = (p["field_goals_made"] / p["field_goals_attempted"]).where(p["field_goals_attempted"] > 0)
    # Unassisted field goals are not in a standard box score; a source that has them adds the column.
    if "unassisted_field_goals_made" not in p.columns:
        p["unassisted_field_goals_made"] = np.nan
    p = p.sort_values(["person_id", "game_date"], kind="mergesort").reset_index(drop=True)
    g = p.groupby(["person_id", "season"])

    def roll(col: str, window: int, how: str, min_periods: int = 1) -> pd.Series:
        return getattr(g[col].rolling(window, min_periods=min_periods), how)().reset_index(level=[0, 1], drop=True)

    out = p[["person_id", "season", "game_date", "team_abbr", "opp", "starter", "position", "minutes"]].copy()
    out["games_played_season"] = g.cumcount() + 1
    out["last_game_date"] = p["game_date"]
    for col in (
        "minutes",
        "points",
        "three_pointers_made",
        "three_pointers_attempted",
        "field_goals_made",
        "field_goals_attempted",
        "free_throws_attempted",
    ):
        out[f"sum_{col}"] = g[col].cumsum()
    out["sum_unassisted"] = g["unassisted_field_goals_made"].cumsum()
    out["usage_sum"] = g["usage"].cumsum()
    out["usage_n"] = g["usage"].transform(lambda s: s.notna().cumsum())
    out["three_pct_std"] = g["three_pct"].expanding(min_periods=2).std().reset_index(level=[0, 1], drop=True)
    out["fg_pct_std"] = g["fg_pct"].expanding(min_periods=2).std().reset_index(level=[0, 1], drop=True)
    out["minutes_last_3"] = roll("minutes", 3, "mean")
    out["l3_3pm"] = roll("three_pointers_made", 3, "sum")
    out["l3_3pa"] = roll("three_pointers_attempted", 3, "sum")
    out["l3_fgm"] = roll("field_goals_made", 3, "sum")
    out["l3_fga"] = roll("field_goals_attempted", 3, "sum")
    out["points_std_last_5"] = roll("points", 5, "std", 3)
    out["negative_plus_minus_streak"] = _run_length(p["plus_minus_points"] < 0, p["person_id"])
    return out


def _opponent_games(played: pd.DataFrame) -> pd.DataFrame:
    o = played[["person_id", "opp", "game_date"]].sort_values("game_date", kind="mergesort").copy()
    o["games_vs_opponent"] = o.groupby(["person_id", "opp"]).cumcount() + 1
    return o


def _line_history(lines: pd.DataFrame, player_logs: pd.DataFrame) -> pd.DataFrame:
    """Past lined games: the selected line, and the run of games not over the line (a push is not over)."""
    h = _ns(lines[lines["person_id"].notna()])[["game_date", "person_id", "selected_line"]].copy()
    h["person_id"] = h["person_id"].astype("int64")
    h["line_date"] = h["game_date"]
    played = _ns(player_logs[player_logs["minutes"].fillna(0) > 0])[["game_date", "person_id", "points"]]
    h = h.merge(played, on=["game_date", "person_id"], how="left")
    h = h.sort_values(["person_id", "game_date"], kind="mergesort").reset_index(drop=True)
    graded = h[h["points"].notna()].copy()
    graded["not_over_streak"] = _run_length(graded["points"] <= graded["selected_line"], graded["person_id"])
    return h, graded


def _intraday_moves(t: pd.DataFrame, lines: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(selected line - the book's first line of the game day, whether that first line is of the game day
    and another snapshot followed it) of each target row, from its date's player_game_lines row."""
    columns = ["selected_line", "opening_line", "opening_snapshot_time", "n_snapshots"]
    day = _ns(lines[lines["person_id"].notna()])
    if "opening_snapshot_time" not in day.columns or day.empty:
        return pd.Series(np.nan, index=t.index), pd.Series(False, index=t.index)
    day = day.assign(person_id=day["person_id"].astype("int64"))[["game_date", "person_id", *columns]]
    day = day.drop_duplicates(["game_date", "person_id"])
    row = t[["game_date", "person_id"]].merge(day, on=["game_date", "person_id"], how="left").set_index(t.index)
    opened = pd.to_datetime(row["opening_snapshot_time"], utc=True).dt.tz_convert(EASTERN).dt.date
    intraday = (row["n_snapshots"].fillna(0) >= 2) & (opened == row["game_date"].dt.date)
    move = row["selected_line"].astype("float64") - row["opening_line"].astype("float64")
    return move, intraday.astype(bool)


def _miss_history(accuracy: pd.DataFrame) -> pd.DataFrame:
    """Per family and player, decided predictions: the run of misses ending at each and its direction."""
    a = _ns(accuracy[accuracy["prediction_correct"].notna()])
    a = a[["game_date", "model_family", "person_id", "prediction_correct", "recommendation"]].copy()
    a = a.sort_values(["model_family", "person_id", "game_date"], kind="mergesort").reset_index(drop=True)
    key = a["model_family"] + ":" + a["person_id"].astype(str)
    a["model_miss_streak"] = _run_length(~a["prediction_correct"].astype(bool), key)
    a["last_miss_recommendation"] = a["recommendation"].where(~a["prediction_correct"].astype(bool))
    return a


def signal_context(
    targets: pd.DataFrame,
    player_logs: pd.DataFrame,
    team_logs: pd.DataFrame,
    lines: pd.DataFrame,
    accuracy: pd.DataFrame,
) -> pd.DataFrame:
    """CONTEXT_COLUMNS for each target row (game_date, person_id, opponent_abbr, line_value, model_family).

    player_logs / team_logs: box scores of the last year at least (rows on or after D are ignored);
    lines: player_game_lines from at least 14 days before the first date; accuracy: the families'
    graded predictions (for the prototype miss-streak signal). Nothing from D or later is read.
    """
    t = _ns(targets).copy()
    t["person_id"] = t["person_id"].astype("int64")
    t["asof"] = t["game_date"] - DAY
    t["season"] = season_labels(t["game_date"])
    out = pd.DataFrame(index=t.index)
    played = _played_games(player_logs, team_logs)
    _add_player_form(out, t, played)
    _add_opponent(out, t, team_logs, played)
    _add_lines(out, t, lines, player_logs)
    _add_model_misses(out, t, accuracy)
    return out[list(CONTEXT_COLUMNS)]


def _add_player_form(out: pd.DataFrame, t: pd.DataFrame, played: pd.DataFrame) -> None:
    """The player's season and recent form before the date: minutes, shooting, points, usage, rest."""
    state_cols = [c for c in played.columns if c not in ("person_id", "season", "game_date")]
    s = _asof(t, played, ["person_id", "season"], state_cols, at="asof")
    n = s["games_played_season"]
    out["games_played_season"] = n.fillna(0).astype("int64")
    out["minutes_last_3"] = s["minutes_last_3"]
    out["minutes_season"] = s["sum_minutes"] / n
    out["prev_minutes"] = s["minutes"]
    out["starter_flag"] = s["starter"].astype("boolean")
    out["position"] = s["position"]
    out["three_pct_last_3"] = (s["l3_3pm"] / s["l3_3pa"]).where(s["l3_3pa"] > 0)
    out["three_pct_season"] = (s["sum_three_pointers_made"] / s["sum_three_pointers_attempted"]).where(
        s["sum_three_pointers_attempted"] > 0
    )
    out["three_pct_std"] = s["three_pct_std"]
    out["three_pa_per_game"] = s["sum_three_pointers_attempted"] / n
    out["fg_pct_last_3"] = (s["l3_fgm"] / s["l3_fga"]).where(s["l3_fga"] > 0)
    out["fg_pct_season"] = (s["sum_field_goals_made"] / s["sum_field_goals_attempted"]).where(
        s["sum_field_goals_attempted"] > 0
    )
    out["fg_pct_std"] = s["fg_pct_std"]
    out["points_season"] = s["sum_points"] / n
    out["usage_season"] = (s["usage_sum"] / s["usage_n"]).where(s["usage_n"] > 0)
    out["fta_per_game"] = s["sum_free_throws_attempted"] / n
    out["unassisted_fgm_per_game"] = s["sum_unassisted"] / n
    out["points_std_last_5"] = s["points_std_last_5"]
    out["negative_plus_minus_streak"] = s["negative_plus_minus_streak"].fillna(0).astype("int64")
    out["rest_days"] = (t["game_date"] - s["last_game_date"]).dt.days.astype("Int64")


def _add_opponent(out: pd.DataFrame, t: pd.DataFrame, team_logs: pd.DataFrame, played: pd.DataFrame) -> None:
    """The opponent's rest, and the player's games against it over the last year."""
    # The opponent's rest, from its team box scores.
    team_days = _ns(team_logs)[["team_abbr", "game_date"]].drop_duplicates()
    team_days = team_days.assign(last_team_game=team_days["game_date"], opponent_abbr=team_days["team_abbr"])
    opp = _asof(t, team_days, ["opponent_abbr"], ["last_team_game"], at="asof")
    out["opponent_rest_days"] = (t["game_date"] - opp["last_team_game"]).dt.days.astype("Int64")

    # Games against this opponent over the last year (a season alone has at most 4 of them, so the
    # original's "6+ this season" could never fire within one).
    opponent_games = _opponent_games(played)
    vs_t = t.assign(opp=t["opponent_abbr"], year_ago=t["game_date"] - pd.Timedelta(days=OPPONENT_LOOKBACK_DAYS + 1))
    upto = _asof(vs_t, opponent_games, ["person_id", "opp"], ["games_vs_opponent"], at="asof")["games_vs_opponent"]
    before = _asof(vs_t, opponent_games, ["person_id", "opp"], ["games_vs_opponent"], at="year_ago")[
        "games_vs_opponent"
    ]
    out["games_vs_opponent"] = (upto.fillna(0) - before.fillna(0)).astype("int64")


def _add_lines(out: pd.DataFrame, t: pd.DataFrame, lines: pd.DataFrame, player_logs: pd.DataFrame) -> None:
    """The player's streak of games not over his line, and how the line moved."""
    history, graded = _line_history(lines, player_logs)
    streak = _asof(t, graded, ["person_id"], ["not_over_streak"], at="asof")
    out["not_over_streak"] = streak["not_over_streak"].fillna(0).astype("int64")
    previous = _asof(t, history, ["person_id"], ["selected_line", "line_date"], at="asof")
    recent = (t["game_date"] - previous["line_date"]) <= pd.Timedelta(days=LINE_DELTA_LOOKBACK_DAYS)
    game_to_game = (t["line_value"].astype("float64") - previous["selected_line"].astype("float64")).where(recent)
    # Where the day's line was seen in several snapshots of the game day before the decision, the movement
    # is the day's own (the selected book's line at the decision against its first of the day): the real
    # intraday move. With one snapshot a day it is the original's change since the previous lined game.
    intraday_move, intraday = _intraday_moves(t, lines)
    out["line_delta"] = intraday_move.where(intraday, game_to_game)
    out["line_delta_intraday"] = intraday


def _add_model_misses(out: pd.DataFrame, t: pd.DataFrame, accuracy: pd.DataFrame) -> None:
    """Each family's streak of misses on the player, and the side of its last miss."""
    misses = (
        _asof(
            t,
            _miss_history(accuracy),
            ["model_family", "person_id"],
            ["model_miss_streak", "last_miss_recommendation"],
            at="asof",
        )
        if len(accuracy)
        else None
    )
    out["model_miss_streak"] = misses["model_miss_streak"].fillna(0).astype("int64") if misses is not None else 0
    out["last_miss_recommendation"] = misses["last_miss_recommendation"] if misses is not None else None
