"""From offered lines to the stored tables: `prop_lines` (per book and snapshot) and
`player_game_lines` (per player-game: consensus, selected line, spread across books, opening)."""

from __future__ import annotations

import pandas as pd

from bestbets_dagster import tables
from bestbets_dagster.ingest.identity import resolve_events
from bestbets_dagster.ingest.names import names_before

# The original's cascade: DraftKings, then FanDuel, then BetMGM, then any other book.
BOOK_PREFERENCE = ("draftkings", "fanduel", "betmgm")
# A book's line this far from the books' median (given 3+ books) is a feed error or a stale line, never
# the line we bet: books disagree by 0.5-2 points.
OUTLIER_POINTS, OUTLIER_SHARE = 3.0, 0.25


def outlier_lines(current: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Per book line of a player-game: whether it lies more than max(3 points, 25%) from the median
    of the books' lines, judged only with 3+ books (the median of three or more is not moved by one
    bad line)."""
    grouped = current.groupby(keys)["line"]
    median, books = grouped.transform("median").astype(float), grouped.transform("size")
    gap = (current["line"].astype(float) - median).abs()
    return (books >= 3) & (gap > (OUTLIER_SHARE * median).clip(lower=OUTLIER_POINTS))


def published_before_tipoff(prop_lines: pd.DataFrame) -> pd.DataFrame:
    """The snapshots taken before their game's tip-off: the only lines any table reads."""
    return prop_lines[prop_lines["snapshot_time"] < prop_lines["commence_time"]]


def per_book_in_time(lines: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Lines ordered by player-game (`keys`), book and snapshot time: a book's first row is its
    opening line, its last its current one."""
    return lines.sort_values([*keys, "bookmaker", "snapshot_time"], kind="mergesort")


def build_prop_lines(main: pd.DataFrame, player_logs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Attach identity to every book's main line. Returns (prop_lines rows, per-name resolution)."""
    if main.empty:
        return tables.table("prop_lines").empty_frame(), pd.DataFrame()
    resolution = resolve_events(main, player_logs)
    rows = main.merge(resolution, on=["event_id", "book_player_name"], how="left", validate="many_to_one")
    rows = _flag_duplicate_persons(rows)
    columns = [
        "game_date",
        "event_id",
        "commence_time",
        "home_team_abbr",
        "away_team_abbr",
        "game_id",
        "bookmaker",
        "book_player_name",
        "player_lookup",
        "person_id",
        "team_abbr",
        "match_status",
        "match_method",
        "line",
        "over_price",
        "under_price",
        "n_lines_offered",
        "snapshot_time",
        "source_file",
    ]
    rows = rows.sort_values(["game_date", "event_id", "bookmaker", "book_player_name", "snapshot_time"])
    return rows[columns].reset_index(drop=True), resolution


def _flag_duplicate_persons(rows: pd.DataFrame) -> pd.DataFrame:
    """Two names of one book in one snapshot resolved to the same person is a matcher conflict:
    keep an exact match if there is one, report the others as ambiguous."""
    resolved = rows["match_status"] == "resolved"
    keys = ["snapshot_time", "event_id", "bookmaker", "person_id"]
    names = rows[resolved].groupby(keys)["book_player_name"].transform("nunique")
    conflict = pd.Series(False, index=rows.index)
    conflict.loc[names.index] = (names > 1) & (rows.loc[names.index, "match_method"] != "exact")
    if conflict.any():
        rows = rows.copy()
        rows.loc[conflict, ["match_status", "match_method"]] = ["ambiguous", None]
        rows.loc[conflict, "person_id"] = pd.NA
        rows.loc[conflict, "team_abbr"] = None
    return rows


def build_player_game_lines(prop_lines: pd.DataFrame, player_logs: pd.DataFrame) -> pd.DataFrame:
    """One row per lined player-game from the books' lines published before tip-off."""
    pre_game = published_before_tipoff(prop_lines).copy()
    if pre_game.empty:
        return tables.table("player_game_lines").empty_frame()
    # Resolved players are keyed by person (two books may spell one player two ways); the others by name.
    pre_game["_player_key"] = pre_game["person_id"].astype("string").fillna("name:" + pre_game["player_lookup"])
    keys = ["game_date", "event_id", "_player_key"]
    ordered = per_book_in_time(pre_game, keys)
    per_book_current = ordered.drop_duplicates([*keys, "bookmaker"], keep="last")
    per_book_opening = ordered.drop_duplicates([*keys, "bookmaker"], keep="first")
    n_snapshots = ordered.groupby([*keys, "bookmaker"])["snapshot_time"].nunique().rename("n_snapshots")

    grouped = per_book_current.groupby(keys)["line"]
    summary = pd.DataFrame(
        {"consensus_line": grouped.median(), "line_std": grouped.std(ddof=1), "n_books": grouped.size()}
    )
    current = per_book_current.merge(summary, left_on=keys, right_index=True)
    rank = {book: i for i, book in enumerate(BOOK_PREFERENCE)}
    current["_book_rank"] = current["bookmaker"].map(rank).fillna(len(BOOK_PREFERENCE))
    current["_distance"] = (current["line"] - current["consensus_line"]).abs()
    current["_outlier"] = outlier_lines(current, keys)
    selected = current.sort_values([*keys, "_outlier", "_book_rank", "_distance", "bookmaker"], kind="mergesort")
    selected = selected.drop_duplicates(keys, keep="first")
    selected = selected.merge(
        per_book_opening[[*keys, "bookmaker", "line"]].rename(columns={"line": "opening_line"}),
        on=[*keys, "bookmaker"],
    ).merge(n_snapshots, left_on=[*keys, "bookmaker"], right_index=True)

    names = names_before(selected, player_logs)["player_name"]
    out = pd.DataFrame(
        {
            "game_date": selected["game_date"],
            "event_id": selected["event_id"],
            "game_id": selected["game_id"],
            "commence_time": selected["commence_time"],
            "person_id": selected["person_id"],
            "player_lookup": selected["player_lookup"],
            "player_name": names.fillna(selected["book_player_name"]),
            "team_abbr": selected["team_abbr"],
            "opponent_abbr": None,
            "is_home": None,
            "match_status": selected["match_status"],
            "n_books": selected["n_books"],
            "consensus_line": selected["consensus_line"],
            "line_std": selected["line_std"],
            "selected_line": selected["line"],
            "selected_book": selected["bookmaker"],
            "selected_over_price": selected["over_price"],
            "selected_under_price": selected["under_price"],
            "opening_line": selected["opening_line"],
            "n_snapshots": selected["n_snapshots"],
            "line_snapshot_time": selected["snapshot_time"],
        }
    )
    home = out["team_abbr"] == selected["home_team_abbr"]
    away = out["team_abbr"] == selected["away_team_abbr"]
    out["is_home"] = home.where(out["team_abbr"].notna(), None)
    out["opponent_abbr"] = selected["away_team_abbr"].where(home, selected["home_team_abbr"].where(away, None))
    out = out.sort_values(["game_date", "event_id", "player_lookup"]).reset_index(drop=True)
    out.attrs["outlier_lines"] = current.loc[
        current["_outlier"], ["game_date", "bookmaker", "book_player_name", "line", "consensus_line"]
    ].to_dict("records")
    return out


def current_offers(prop_lines: pd.DataFrame) -> pd.DataFrame:
    """Every book's last line before tip-off per resolved player-game (outliers left out): the
    offers a bet can be shopped among. Columns game_date, person_id, bookmaker, line, over_price,
    under_price."""
    columns = ["game_date", "person_id", "bookmaker", "line", "over_price", "under_price"]
    pre_game = published_before_tipoff(prop_lines)
    pre_game = pre_game[pre_game["person_id"].notna() & (pre_game["match_status"] == "resolved")]
    if pre_game.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    keys = ["game_date", "person_id"]
    current = per_book_in_time(pre_game, keys).drop_duplicates([*keys, "bookmaker"], keep="last")
    current = current[~outlier_lines(current, keys)]
    return current.assign(
        game_date=pd.to_datetime(current["game_date"]).astype("datetime64[ns]"),
        person_id=current["person_id"].astype("int64"),
    )[columns].reset_index(drop=True)


def match_summary(player_game_lines: pd.DataFrame) -> dict:
    """Match rate = lined player-games resolved to a person_id / all lined player-games in games that
    have box scores (the denominator of the acceptance criterion)."""
    with_box = player_game_lines[player_game_lines["game_id"].notna()]
    n = len(with_box)
    resolved = int((with_box["match_status"] == "resolved").sum())
    unresolved = player_game_lines[player_game_lines["match_status"] != "resolved"]
    return {
        "lined_player_games": int(len(player_game_lines)),
        "lined_player_games_with_box_score": n,
        "matched_player_games": resolved,
        "match_rate": round(resolved / n, 4) if n else None,
        "unresolved": int((player_game_lines["match_status"] == "unresolved").sum()),
        "ambiguous": int((player_game_lines["match_status"] == "ambiguous").sum()),
        "first_unresolved": sorted(unresolved["player_name"].unique().tolist())[:10],
    }


def plain_join_rate(prop_lines: pd.DataFrame, player_logs: pd.DataFrame) -> float | None:
    """Share of lined player-games whose book name equals a box-score name on either team, as a
    plain string join would match them: the baseline the matcher is measured against."""
    games = prop_lines[prop_lines["game_id"].notna()].drop_duplicates(["event_id", "book_player_name"])
    if games.empty:
        return None
    names = player_logs[["game_id", "player_name"]].drop_duplicates()
    hit = games.merge(names, left_on=["game_id", "book_player_name"], right_on=["game_id", "player_name"], how="left")
    per_game = hit.assign(ok=hit["player_name"].notna()).drop_duplicates(["event_id", "book_player_name"])
    return round(float(per_game["ok"].mean()), 4)
