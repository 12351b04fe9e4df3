"""Box scores: player and team game logs from files in NBA.com box score v3 naming.

A data directory holds `box_scores/` (player rows) and `team_game_logs/` (team rows), one file per
season or per day, as CSV, CSV.gz or parquet.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd

from bestbets_dagster import tables
from bestbets_dagster.ingest.errors import IngestError, refuse_first
from bestbets_dagster.ingest.files import (
    UNREADABLE,
    check_unique,
    not_a_name,
    parse_bools,
    parse_numbers,
    read_table_file,
    table_files,
    unreadable,
)
from bestbets_dagster.ingest.names import player_lookup
from bestbets_dagster.ingest.teams import ABBREVIATIONS
from bestbets_dagster.settings import off_season, partition_start
from bestbets_dagster.timeutil import today_eastern

PLAYER_DIR = "box_scores"
TEAM_DIR = "team_game_logs"

PLAYER_STAT_COLUMNS = [
    "field_goals_made",
    "field_goals_attempted",
    "three_pointers_made",
    "three_pointers_attempted",
    "free_throws_made",
    "free_throws_attempted",
    "rebounds_offensive",
    "rebounds_defensive",
    "rebounds_total",
    "assists",
    "steals",
    "blocks",
    "turnovers",
    "fouls_personal",
    "points",
]
PLAYER_REQUIRED = [
    "season",
    "game_id",
    "game_date",
    "team_id",
    "team_abbr",
    "opp",
    "is_home",
    "person_id",
    "player_name",
    "starter",
    "minutes",
    *PLAYER_STAT_COLUMNS,
]
TEAM_STAT_COLUMNS = [
    "fgm",
    "fga",
    "fg3m",
    "fg3a",
    "ftm",
    "fta",
    "oreb",
    "dreb",
    "reb",
    "ast",
    "stl",
    "blk",
    "tov",
    "pf",
    "pts",
]
TEAM_REQUIRED = ["season", "game_id", "game_date", "team_id", "team_abbr", "opp", "is_home", *TEAM_STAT_COLUMNS]

_ISO_MINUTES = re.compile(r"^PT(?:(\d+)M)?(?:([\d.]+)S)?$")
_DNP_PREFIX = re.compile(r"^\s*(DNP|DND|NWT)\s*[-_:]?\s*", re.IGNORECASE)


def parse_minutes(value: str | None) -> float | None:
    """'mm:ss' (box score v3), 'PT36M12.00S' (v3 live) or a plain number -> float minutes."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if text == "":
        return None
    if ":" in text:
        minutes, _, seconds = text.partition(":")
        if not (minutes.isdigit() and seconds.isdigit() and int(seconds) <= 60):  # NBA.com rounds to "38:60"
            raise ValueError(text)
        return int(minutes) + int(seconds) / 60.0
    iso = _ISO_MINUTES.match(text)
    if iso and (iso.group(1) or iso.group(2)):
        return int(iso.group(1) or 0) + float(iso.group(2) or 0) / 60.0
    number = float(text)
    if not np.isfinite(number) or number < 0:  # "nan" parses as a float and would read as "did not play"
        raise ValueError(text)
    return number


def dnp_reason(comment: str | None) -> str | None:
    """'DNP - Coach's Decision' -> "Coach's Decision"; 'DND_LEAGUE_SUSPENSION' -> 'League Suspension'."""
    if comment is None or (isinstance(comment, float) and np.isnan(comment)) or not str(comment).strip():
        return None
    reason = _DNP_PREFIX.sub("", str(comment)).strip()
    if "_" in reason or reason.isupper():
        reason = reason.replace("_", " ").title()
    return reason or str(comment).strip()


def _game_dates(df: pd.DataFrame, path: Path) -> pd.Series:
    dates = pd.to_datetime(df["game_date"].str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    refuse_first(df, dates.isna(), path, lambda row: f"game_date is not a date: {row['game_date']!r}")
    # A box score is of a game that was played: never after today's slate, never before the partitions.
    first_day, last_day = pd.Timestamp(partition_start()), pd.Timestamp(today_eastern() + dt.timedelta(days=1))
    refuse_first(
        df,
        (dates < first_day) | (dates > last_day),
        path,
        lambda row: (
            f"game_date {row['game_date']} is outside the game dates this system knows "
            f"({first_day:%Y-%m-%d}, BESTBETS_PARTITION_START, to today's slate {last_day:%Y-%m-%d})"
        ),
    )
    first_off, last_off = off_season()
    if first_off:
        month_day = dates.dt.strftime("%m-%d")
        refuse_first(
            df,
            (month_day >= first_off) & (month_day <= last_off),
            path,
            lambda row: (
                f"game_date {row['game_date']} falls in the off-season ({first_off}..{last_off}, "
                "BESTBETS_OFF_SEASON): no NBA game is played then"
            ),
        )
    return dates


# NBA game ids are 00TYYNNNNN, T the kind of game: 1 preseason, 2 regular season, 3 All-Star, 4 playoffs,
# 5 play-in. Preseason and All-Star games are not the games lines are set for.
NOT_A_LINED_GAME = {"1": "a preseason", "3": "an All-Star"}


def _check_game_kind(df: pd.DataFrame, game_ids: pd.Series, path: Path) -> None:
    kind = game_ids.where(game_ids.str.fullmatch(r"00\d{8}", na=False)).str.slice(2, 3)
    refuse_first(
        df,
        kind.isin(list(NOT_A_LINED_GAME)),
        path,
        lambda row: (
            f"game {game_ids[row.name]} is {NOT_A_LINED_GAME[kind[row.name]]} game: only regular-season, "
            "play-in and playoff games belong in the box scores"
        ),
    )


def _team_abbrs(df: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """NBA.com team abbreviations, upper-cased; anything else is an error (its games would lose their lines)."""
    abbrs = df[column].astype("string").str.strip().str.upper()
    known = ", ".join(sorted(ABBREVIATIONS))
    refuse_first(
        df,
        ~abbrs.isin(ABBREVIATIONS),
        path,
        lambda row: f"{column} {row[column]!r} is not an NBA team abbreviation ({known})",
    )
    return abbrs.astype(object)


def _game_ids(raw: pd.Series) -> pd.Series:
    # NBA.com ids are 10 characters with leading zeros; a numeric source loses them.
    return raw.astype(str).str.strip().str.replace(r"\.0$", "", regex=True).str.zfill(10)


def _in_range(df: pd.DataFrame, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
    mask = pd.Series(True, index=df.index)
    if start is not None:
        mask &= df["game_date"] >= pd.Timestamp(start)
    if end is not None:
        mask &= df["game_date"] <= pd.Timestamp(end)
    return df[mask]


def _game_rows(path: Path, required: list[str], start, end) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The source rows in [start, end] and the game columns player and team files share."""
    raw = read_table_file(path, required)
    raw["game_date"] = _game_dates(raw, path)
    raw = _in_range(raw, start, end)
    out = pd.DataFrame(index=raw.index)
    out["game_date"] = raw["game_date"]
    out["season"] = raw["season"]
    out["game_id"] = _game_ids(raw["game_id"])
    _check_game_kind(raw, out["game_id"], path)
    out["team_id"] = parse_numbers(raw, "team_id", path, integer=True)
    out["team_abbr"] = _team_abbrs(raw, "team_abbr", path)
    out["opp"] = _team_abbrs(raw, "opp", path)
    out["is_home"] = parse_bools(raw, "is_home", path)
    return raw, out


def read_player_file(path: Path, start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
    raw, out = _game_rows(path, PLAYER_REQUIRED, start, end)
    out["wl"] = raw["wl"] if "wl" in raw.columns else None
    out["person_id"] = parse_numbers(raw, "person_id", path, integer=True)
    names = raw["player_name"].astype("string").str.strip()
    refuse_first(
        raw,
        not_a_name(names),
        path,
        lambda row: f"player_name is empty or a missing-value marker: {row['player_name']!r}",
    )
    out["player_name"] = names.astype(object)
    out["player_lookup"] = out["player_name"].map(player_lookup)
    out["position"] = raw["position"] if "position" in raw.columns else None
    out["starter"] = parse_bools(raw, "starter", path)
    out["comment"] = raw["comment"] if "comment" in raw.columns else None
    minutes = []
    for value, row in zip(raw["minutes"], raw["_row"]):
        try:
            minutes.append(parse_minutes(value))
        except ValueError:
            raise IngestError(path, f"minutes is not 'mm:ss': {value!r}", row) from None
    out["minutes"] = pd.Series(minutes, index=raw.index, dtype="float64")
    # A player did not play when he logged no time; the comment then says why.
    out["is_dnp"] = out["minutes"].isna() | (out["minutes"] == 0)
    scored = parse_numbers(raw, "points", path, integer=True)
    refuse_first(
        raw,
        out["is_dnp"] & (scored > 0),
        path,
        lambda row: f"{row['player_name']} scored {row['points']} points with no minutes ({row['minutes']!r})",
    )
    out["dnp_reason"] = [dnp_reason(c) if d else None for c, d in zip(out["comment"], out["is_dnp"])]
    for col in PLAYER_STAT_COLUMNS:
        out[col] = parse_numbers(raw, col, path, integer=True)
    out["plus_minus_points"] = (
        parse_numbers(raw, "plus_minus_points", path, required=False) if "plus_minus_points" in raw.columns else np.nan
    )
    out["source_file"] = path.name
    out["_row"] = raw["_row"]
    check_unique(out, ["game_id", "person_id"], path, "player-game")
    _check_shooting(out, path)
    _check_one_game_a_day(out, path)
    return out


def _check_shooting(rows: pd.DataFrame, path: Path) -> None:
    """The table definition's `at_most_column` checks (shots made never exceed shots attempted, threes are
    field goals), row by row, so the first bad row is named with its file and line."""
    for part, whole in tables.column_bounds("player_game_logs"):
        refuse_first(
            rows,
            rows[part] > rows[whole],
            path,
            lambda row, part=part, whole=whole: (
                f"{row['player_name']}: {part} {int(row[part])} is more than {whole} {int(row[whole])}"
            ),
        )


def _check_one_game_a_day(rows: pd.DataFrame, path: Path) -> None:
    """A player plays one game a date: two game ids for one person on one date is a bad row."""
    games = rows.groupby(["game_date", "person_id"])["game_id"].transform("nunique")
    if (games > 1).any():
        twice = rows[games > 1]  # in file order (the `_row` labels would sort "line 20794" first)
        a, b = twice.iloc[0], twice.iloc[1]
        raise IngestError(
            path,
            f"{a['player_name']} plays two games on {pd.Timestamp(a['game_date']):%Y-%m-%d}: {a['game_id']} and "
            f"{b['game_id']} (the other at {b['_row']})",
            a["_row"],
        )


def read_team_file(path: Path, start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
    raw, out = _game_rows(path, TEAM_REQUIRED, start, end)
    for optional in ("matchup", "wl"):
        out[optional] = raw[optional] if optional in raw.columns else None
    for optional in ("w", "l"):
        out[optional] = (
            parse_numbers(raw, optional, path, integer=True, required=False) if optional in raw.columns else None
        )
    minutes_col = "min" if "min" in raw.columns else ("minutes" if "minutes" in raw.columns else None)
    out["minutes"] = parse_numbers(raw, minutes_col, path, required=False) if minutes_col else np.nan
    for col in TEAM_STAT_COLUMNS:
        out[col] = parse_numbers(raw, col, path, integer=True)
    out["source_file"] = path.name
    out["_row"] = raw["_row"]
    check_unique(out, ["game_id", "team_id"], path, "team-game")
    return out


def _load(directory: Path, reader, keys: list[str], what: str, start, end) -> pd.DataFrame:
    files = table_files(directory)
    if not files:
        raise IngestError(directory, f"no {what} files (.csv, .csv.gz or .parquet)")
    frames = [reader(path, start, end) for path in files]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return reader(files[0], dt.date(1900, 1, 1), dt.date(1900, 1, 1))
    combined = pd.concat(frames, ignore_index=True)
    dup = combined.duplicated(keys, keep=False)
    if dup.any():
        rows = combined.loc[dup].sort_values(keys)
        a, b = rows.iloc[0], rows.iloc[1]
        raise IngestError(
            directory,
            f"{what} {dict((k, a[k]) for k in keys)} appears in two files: "
            f"{a['source_file']} {a['_row']} and {b['source_file']} {b['_row']}",
        )
    return combined


def load_player_game_logs(data_dir: Path, start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
    """Player rows with game_date in [start, end] from every file under data_dir/box_scores."""
    df = _load(Path(data_dir) / PLAYER_DIR, read_player_file, ["game_id", "person_id"], "player-game", start, end)
    return df.drop(columns="_row").sort_values(["game_date", "game_id", "person_id"]).reset_index(drop=True)


def load_team_game_logs(data_dir: Path, start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
    df = _load(Path(data_dir) / TEAM_DIR, read_team_file, ["game_id", "team_id"], "team-game", start, end)
    return df.drop(columns="_row").sort_values(["game_date", "game_id", "team_id"]).reset_index(drop=True)


@functools.lru_cache(maxsize=256)
def _file_dates(path: str, size: int, mtime_ns: int) -> frozenset[dt.date]:
    """The game dates of one box-score file (cached while the file is unchanged)."""
    try:
        if path.endswith(".parquet"):
            column = pd.read_parquet(path, columns=["game_date"])["game_date"]
        else:
            column = pd.read_csv(path, usecols=["game_date"], dtype=str)["game_date"]
    except UNREADABLE as exc:
        raise unreadable(path, exc) from exc
    dates = pd.to_datetime(column.astype(str).str.slice(0, 10), format="%Y-%m-%d", errors="coerce").dropna()
    return frozenset(dates.dt.date)


def box_score_dates(data_dir: Path) -> set[dt.date]:
    """Every game date the data directory's player box scores hold (only their game_date column is read)."""
    dates: set[dt.date] = set()
    for path in table_files(Path(data_dir) / PLAYER_DIR):
        stat = path.stat()
        dates |= _file_dates(str(path), stat.st_size, stat.st_mtime_ns)
    return dates


def box_score_fingerprints(data_dir: Path) -> dict[str, list[int]]:
    """{file name: [size, mtime_ns]} of the player box-score files: a file changed since it was ingested
    (completed after a tick caught it mid-write, or corrected) has another fingerprint."""
    out = {}
    for path in table_files(Path(data_dir) / PLAYER_DIR):
        stat = path.stat()
        out[path.name] = [stat.st_size, stat.st_mtime_ns]
    return out


def file_dates(data_dir: Path, name: str) -> frozenset[dt.date]:
    """The game dates of one player box-score file of the data directory."""
    path = Path(data_dir) / PLAYER_DIR / name
    stat = path.stat()
    return _file_dates(str(path), stat.st_size, stat.st_mtime_ns)


def data_date_range(data_dir: Path) -> tuple[dt.date, dt.date]:
    """First and last game date in the box scores (for commands that default to 'all the data')."""
    df = load_player_game_logs(data_dir)
    return df["game_date"].min().date(), df["game_date"].max().date()
