"""From offered lines to the stored tables: `prop_lines` (per book and snapshot) and
`player_game_lines` (per player-game: consensus, selected line, spread across books, opening)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from bestbets_dagster import tables
from bestbets_dagster.ingest.identity import event_games, resolve_events
from bestbets_dagster.ingest.names import names_before
from bestbets_dagster.timeutil import EASTERN, eastern_game_date

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


DecisionTimes = dict  # {game date: the decision's UTC timestamp, or None: the latest pre-tip-off snapshot}


def decision_cutoffs(game_dates: pd.Series, decision_times: DecisionTimes | None) -> pd.Series:
    """Each row's decision time (UTC, NaT where its date has none) from a {date: timestamp | None} map."""
    if not decision_times:
        return pd.Series(pd.NaT, index=game_dates.index, dtype="datetime64[ns, UTC]")
    days = pd.to_datetime(game_dates).dt.date
    known = {d: pd.Timestamp(t) for d, t in decision_times.items() if t is not None and not pd.isna(t)}
    return pd.to_datetime(days.map(known), utc=True).astype("datetime64[ns, UTC]")


def choose_decision_times(
    days: list,
    stored: DecisionTimes,
    *,
    today,
    now: pd.Timestamp,
    slate: pd.Timestamp | None = None,
    time_of_day=None,
    time_of_day_from=None,
) -> DecisionTimes:
    """Each date's decision time. An explicit one wins: the slate run's instant for its own date (`slate`),
    or a replay's time of day (US Eastern) for every date from `time_of_day_from` on (every date without
    it); then what is stored (a re-run decides as the first run did, even after later snapshots); then,
    for today's or a later slate, now; otherwise None (a replay of history decides on the latest snapshot
    before tip-off)."""
    chosen: DecisionTimes = {}
    for day in days:
        if slate is not None and eastern_game_date(slate) == day:
            chosen[day] = pd.Timestamp(slate).tz_convert("UTC")
        elif time_of_day is not None and (time_of_day_from is None or day >= time_of_day_from):
            moment = pd.Timestamp(dt.datetime.combine(day, time_of_day), tz=EASTERN)
            chosen[day] = moment.tz_convert("UTC")
        elif day in stored:
            chosen[day] = stored[day]
        elif day >= today:
            chosen[day] = pd.Timestamp(now).tz_convert("UTC")
        else:
            chosen[day] = None
    return chosen


def lines_at_decision(lines: pd.DataFrame, decision_times: DecisionTimes | None = None) -> pd.DataFrame:
    """The lines a date's decision reads: published before their game's tip-off and, on a date whose slate
    fixed a decision time, taken at or before it (a later snapshot never changes a decision made)."""
    pre_game = published_before_tipoff(lines)
    cutoff = decision_cutoffs(pre_game["game_date"], decision_times)
    return pre_game[cutoff.isna() | (pre_game["snapshot_time"] <= cutoff)]


def decision_times_of(player_game_lines: pd.DataFrame) -> DecisionTimes:
    """{date: decision time or None} as stored on a range's player_game_lines rows."""
    if player_game_lines.empty:
        return {}
    stored = player_game_lines.assign(day=pd.to_datetime(player_game_lines["game_date"]).dt.date)
    first = stored.groupby("day")["decision_time"].first()
    return {day: (None if pd.isna(t) else pd.Timestamp(t)) for day, t in first.items()}


def per_book_in_time(lines: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Lines ordered by player-game (`keys`), book and snapshot time: a book's first row is its
    opening line, its last its current one."""
    return lines.sort_values([*keys, "bookmaker", "snapshot_time"], kind="mergesort")


def build_prop_lines(main: pd.DataFrame, player_logs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Attach identity to every book's main line. Returns (prop_lines rows, per-name resolution)."""
    if main.empty:
        return tables.table("prop_lines").empty_frame(), pd.DataFrame()
    main, set_aside = set_aside_swapped_sides(main, player_logs)
    resolution = resolve_events(main, player_logs)
    rows = main.merge(resolution, on=["event_id", "book_player_name"], how="left", validate="many_to_one")
    rows = _flag_duplicate_persons(rows)
    rows, conflicts = drop_conflicting_lines(rows)
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
    rows = rows[columns].reset_index(drop=True)
    rows.attrs["events_set_aside"] = set_aside
    rows.attrs["conflicting_lines"] = conflicts
    return rows, resolution


def set_aside_swapped_sides(main: pd.DataFrame, player_logs: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """The rows whose event names its home and away teams as the box scores' game of that date does (or,
    without a box score yet, as most of the event's rows do), and a record of each (event, file) set aside:
    a snapshot with the sides swapped would flip `is_home` and lose the game, while the match rate stayed
    100%."""
    sides = main[["game_date", "event_id", "home_team_abbr", "away_team_abbr", "source_file"]]
    logs = player_logs.assign(game_date=pd.to_datetime(player_logs["game_date"]).astype("datetime64[ns]"))
    games = event_games(logs)[["game_date", "home_team_abbr", "away_team_abbr"]].assign(in_box=True)
    judged = sides.assign(game_date=pd.to_datetime(sides["game_date"]).astype("datetime64[ns]")).merge(
        games, on=["game_date", "home_team_abbr", "away_team_abbr"], how="left"
    )
    swapped = games.rename(columns={"home_team_abbr": "away_team_abbr", "away_team_abbr": "home_team_abbr"})
    judged = judged.merge(
        swapped.rename(columns={"in_box": "box_reversed"}),
        on=["game_date", "home_team_abbr", "away_team_abbr"],
        how="left",
    )
    judged.index = sides.index
    reversed_ = judged["box_reversed"].eq(True)
    wrong = reversed_.copy()
    # Without a box score (tonight's slate): the event's most frequent orientation (ties: the first seen)
    # is taken as right. Judged on those rows only: a replay of history has a box score for every game.
    unboxed = judged[judged["in_box"].isna() & ~reversed_]
    if len(unboxed):
        orientation = unboxed["home_team_abbr"] + "@" + unboxed["away_team_abbr"]
        usual = orientation.groupby(unboxed["event_id"]).transform(lambda o: o.value_counts(sort=True).index[0])
        wrong.loc[unboxed.index] = orientation != usual
    if not wrong.any():
        return main, []
    aside = judged[wrong].drop_duplicates(["event_id", "source_file"])
    aside = aside.assign(
        reason=np.where(
            reversed_[aside.index],
            "the box scores have these teams the other way round",
            "the event's other snapshots have these teams the other way round",
        )
    )
    records = [
        {
            "event_id": r.event_id,
            "file": r.source_file,
            "game_date": str(pd.Timestamp(r.game_date).date()),
            "home": r.home_team_abbr,
            "away": r.away_team_abbr,
            "reason": r.reason,
        }
        for r in aside.itertuples(index=False)
    ]
    return main[~wrong].reset_index(drop=True), records


def drop_conflicting_lines(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """One line per player, book and snapshot. Two names of one book resolved to the same person (a second
    spelling) at different lines are a conflict: every one of those rows is dropped and reported, since
    which is the book's line cannot be told, and keeping both reads as a line move. At the same line the
    first name is kept."""
    resolved = rows[rows["match_status"] == "resolved"]
    keys = ["snapshot_time", "event_id", "bookmaker", "person_id"]
    lines = resolved.groupby(keys)["line"].transform("nunique")
    conflict = lines[lines > 1].index
    repeat = resolved.drop(conflict).sort_values("book_player_name", kind="mergesort").duplicated(keys)
    dropped = rows.loc[conflict]
    records = [
        {
            "game_date": str(pd.Timestamp(r.game_date).date()),
            "event_id": r.event_id,
            "bookmaker": r.bookmaker,
            "book_player_name": r.book_player_name,
            "line": float(r.line),
            "snapshot_time": str(r.snapshot_time),
            "file": r.source_file,
        }
        for r in dropped.sort_values([*keys, "book_player_name"]).itertuples(index=False)
    ]
    return rows.drop(conflict.union(repeat[repeat].index)), records


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


def build_player_game_lines(
    prop_lines: pd.DataFrame, player_logs: pd.DataFrame, decision_times: DecisionTimes | None = None
) -> pd.DataFrame:
    """One row per lined player-game from the books' lines published before tip-off (and at or before
    the date's decision time, where it has one)."""
    pre_game = lines_at_decision(prop_lines, decision_times).copy()
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
        per_book_opening[[*keys, "bookmaker", "line", "snapshot_time"]].rename(
            columns={"line": "opening_line", "snapshot_time": "opening_snapshot_time"}
        ),
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
            "opening_snapshot_time": selected["opening_snapshot_time"],
            "n_snapshots": selected["n_snapshots"],
            "line_snapshot_time": selected["snapshot_time"],
            "decision_time": decision_cutoffs(selected["game_date"], decision_times),
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


OFFER_COLUMNS = ["game_date", "person_id", "bookmaker", "line", "over_price", "under_price"]


def _last_line_per_book(seen: pd.DataFrame) -> pd.DataFrame:
    """Each book's last line per resolved player-game among the lines `seen`, with `snapshot_time` and
    `outlier` (far from the other books'); game_date as datetime, person_id as int."""
    seen = seen[seen["person_id"].notna() & (seen["match_status"] == "resolved")]
    columns = [*OFFER_COLUMNS, "snapshot_time", "outlier"]
    if seen.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    keys = ["game_date", "person_id"]
    last = per_book_in_time(seen, keys).drop_duplicates([*keys, "bookmaker"], keep="last")
    return last.assign(
        game_date=pd.to_datetime(last["game_date"]).astype("datetime64[ns]"),
        person_id=last["person_id"].astype("int64"),
        outlier=outlier_lines(last, keys),
    )[columns].reset_index(drop=True)


def current_offers(prop_lines: pd.DataFrame, decision_times: DecisionTimes | None = None) -> pd.DataFrame:
    """Every book's last line at the decision (before tip-off) per resolved player-game (outliers left
    out): the offers a bet can be shopped among. Columns game_date, person_id, bookmaker, line,
    over_price, under_price."""
    current = _last_line_per_book(lines_at_decision(prop_lines, decision_times))
    return current[~current["outlier"].astype(bool)][OFFER_COLUMNS].reset_index(drop=True)


def closing_lines(prop_lines: pd.DataFrame) -> pd.DataFrame:
    """Every book's closing line per resolved player-game: its last snapshot before tip-off, whatever the
    decision read (the line the market settled on). Columns game_date, person_id, bookmaker, line,
    over_price, under_price, snapshot_time, outlier (the line far from the other books')."""
    return _last_line_per_book(published_before_tipoff(prop_lines))


def team_game_lines(game_lines: pd.DataFrame, decision_times: DecisionTimes | None = None) -> pd.DataFrame:
    """Per team-game, the books' game lines as the date's decision saw them (each book's latest snapshot
    at the decision, before tip-off; the median over books): game_date, team_abbr, game_total_line and
    team_spread (the team's handicap: negative when favoured)."""
    columns = ["game_date", "team_abbr", "game_total_line", "team_spread"]
    if game_lines.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    seen = lines_at_decision(game_lines, decision_times)
    keys = ["game_date", "event_id"]
    current = per_book_in_time(seen, keys).drop_duplicates([*keys, "bookmaker"], keep="last")
    per_event = current.groupby(keys).agg(
        home_team_abbr=("home_team_abbr", "first"),
        away_team_abbr=("away_team_abbr", "first"),
        game_total_line=("total_line", "median"),
        home_spread=("home_spread", "median"),
    )
    per_event = per_event.reset_index()
    home = per_event.assign(team_abbr=per_event["home_team_abbr"], team_spread=per_event["home_spread"])
    away = per_event.assign(team_abbr=per_event["away_team_abbr"], team_spread=-per_event["home_spread"])
    both = pd.concat([home, away], ignore_index=True)
    both["game_date"] = pd.to_datetime(both["game_date"])
    return both[columns].astype({"game_total_line": "float64", "team_spread": "float64"})


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
