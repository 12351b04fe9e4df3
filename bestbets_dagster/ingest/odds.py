"""The Odds API player_points lines, from either shape the source gives.

- `odds_api_snapshots/`: flat CSV snapshots (`event_id, player, market, line, bookmaker,
  game ("Away @ Home"), game_time, over_odds, under_odds`), snapshot time from a `snapshot_time`
  column or the file name `raw_YYYYMMDD_HHMMSS`.
- `odds_api_v4/`: the v4 event-odds JSON: a bare list of events, a single event object, or the
  historical wrapper `{"timestamp", "data": ...}`; the snapshot time is the wrapper's timestamp,
  else the market's `last_update`.

Both become one frame of offered lines: one row per (snapshot, event, book, player, line) with
the over and under prices side by side. Other markets are ignored. A data directory may hold
either folder or both; the same snapshot seen in both is counted once.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bestbets_dagster import tables
from bestbets_dagster.ingest.errors import IngestError, refuse_first
from bestbets_dagster.ingest.files import check_unique, not_a_name, parse_numbers, read_table_file, table_files
from bestbets_dagster.ingest.teams import team_abbr
from bestbets_dagster.timeutil import eastern_game_dates

SNAPSHOT_DIR = "odds_api_snapshots"
V4_DIR = "odds_api_v4"
POINTS_MARKET = "player_points"
FLAT_REQUIRED = ["event_id", "player", "market", "line", "bookmaker", "game", "game_time", "over_odds", "under_odds"]
_SNAPSHOT_NAME = re.compile(r"(\d{8})_(\d{6})")

# The columns of an event's book every row read from a snapshot has, before and after its own.
EVENT_BOOK_COLUMNS = [
    "event_id",
    "commence_time",
    "home_team",
    "away_team",
    "home_team_abbr",
    "away_team_abbr",
    "bookmaker",
]
SNAPSHOT_COLUMNS = ["snapshot_time", "source_file", "_row"]
OFFER_COLUMNS = [*EVENT_BOOK_COLUMNS, "book_player_name", "line", "over_price", "under_price", *SNAPSHOT_COLUMNS]


def _snapshot_from_name(path: Path) -> pd.Timestamp | None:
    match = _SNAPSHOT_NAME.search(path.name)
    if not match:
        return None
    try:
        return pd.Timestamp(dt.datetime.strptime("".join(match.groups()), "%Y%m%d%H%M%S"), tz="UTC")
    except ValueError:
        raise IngestError(
            path, f"the file name's snapshot time {match.group(0)} is not a date and time (YYYYMMDD_HHMMSS, UTC)"
        ) from None


def _utc(values: pd.Series, df: pd.DataFrame, column: str, path: Path) -> pd.Series:
    parsed = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    bad = parsed.isna()
    if bad.any():
        first = df.loc[bad].iloc[0]
        raise IngestError(path, f"{column} is not a timestamp: {first[column]!r}", first["_row"])
    return parsed


def _resolve_teams(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    for side in ("home", "away"):
        abbrs = df[f"{side}_team"].map(team_abbr)
        bad = abbrs.isna()
        if bad.any():
            first = df.loc[bad].iloc[0]
            raise IngestError(
                path, f"unknown NBA team {first[f'{side}_team']!r}", f"{first['_row']} event {first['event_id']}"
            )
        df[f"{side}_team_abbr"] = abbrs
    return df


def _check_offers(offers: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Names present, lines and prices inside the ranges prop_lines defines (schemas/tables)."""
    refuse_first(
        offers,
        not_a_name(offers["book_player_name"]),
        path,
        lambda row: f"the player name is empty or a missing-value marker: {row['book_player_name']!r}",
    )
    for column in ("line", "over_price", "under_price"):
        bad, rule = tables.check_values("prop_lines", column, offers[column])
        if bad.any():
            first = offers.loc[bad].iloc[0]
            raise IngestError(
                path,
                f"{column} {first[column]:g} of {first['book_player_name']} ({first['bookmaker']}) "
                f"is not a plausible value: it must be {rule}",
                first["_row"],
            )
    return offers


def read_flat_snapshot(path: Path) -> pd.DataFrame:
    raw = read_table_file(path, FLAT_REQUIRED)
    raw = raw[raw["market"] == POINTS_MARKET].copy()
    if raw.empty:
        return pd.DataFrame(columns=OFFER_COLUMNS)
    if "snapshot_time" in raw.columns:
        snapshot = _utc(raw["snapshot_time"], raw, "snapshot_time", path)
    else:
        stamp = _snapshot_from_name(path)
        if stamp is None:
            raise IngestError(path, "no snapshot_time column and no raw_YYYYMMDD_HHMMSS in the file name")
        snapshot = pd.Series(stamp, index=raw.index)
    teams = raw["game"].str.split(" @ ", n=1, expand=True, regex=False)
    if teams.shape[1] != 2 or teams[1].isna().any():
        bad = raw.iloc[0] if teams.shape[1] != 2 else raw.loc[teams[1].isna()].iloc[0]
        raise IngestError(path, f"game is not 'Away @ Home': {bad['game']!r}", bad["_row"])
    out = pd.DataFrame(
        {
            "event_id": raw["event_id"],
            "commence_time": _utc(raw["game_time"], raw, "game_time", path),
            "away_team": teams[0].str.strip(),
            "home_team": teams[1].str.strip(),
            "bookmaker": raw["bookmaker"].str.strip().str.lower(),
            "book_player_name": raw["player"].str.strip(),
            "line": parse_numbers(raw, "line", path),
            "over_price": parse_numbers(raw, "over_odds", path, required=False),
            "under_price": parse_numbers(raw, "under_odds", path, required=False),
            "snapshot_time": snapshot,
            "source_file": path.name,
            "_row": raw["_row"],
        }
    )
    check_unique(out, ["event_id", "bookmaker", "book_player_name", "line", "snapshot_time"], path, "line")
    return _resolve_teams(_check_offers(out, path), path)[OFFER_COLUMNS]


def _load_json(path: Path) -> Any:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError, EOFError) as exc:
        raise IngestError(path, f"is not valid JSON: {exc}") from exc


_EVENT_KEYS = ("id", "commence_time", "home_team", "away_team", "bookmakers")


def _events(payload: Any, path: Path) -> tuple[list[dict], str | None]:
    snapshot = None
    if isinstance(payload, dict) and "data" in payload and "timestamp" in payload:
        snapshot, payload = payload["timestamp"], payload["data"]
    if isinstance(payload, dict):
        payload = [payload] if ("id" in payload or "bookmakers" in payload) else None
    if not isinstance(payload, list) or not all(isinstance(e, dict) for e in payload):
        raise IngestError(
            path, "is not an Odds API v4 event-odds response (an event, a list of events, or {timestamp, data})"
        )
    for i, event in enumerate(payload):
        missing = [k for k in _EVENT_KEYS if k not in event]
        if missing:
            where = f"event {event.get('id', '#' + str(i))}"
            raise IngestError(path, f"is not an Odds API v4 event: missing {missing}", where)
    return payload, snapshot


def _event_fields(event: dict, book: dict) -> dict:
    """The columns an event's book gives every row read from it."""
    return {
        "event_id": event["id"],
        "commence_time": event["commence_time"],
        "home_team": event["home_team"],
        "away_team": event["away_team"],
        "bookmaker": str(book.get("key", "")).lower(),
    }


def read_v4_events(path: Path) -> tuple[list[dict], str | None]:
    """The events of a v4 file and its wrapper's timestamp (None without the wrapper); an unreadable or
    malformed file is an IngestError naming it."""
    return _events(_load_json(path), path)


def read_v4_json(path: Path) -> pd.DataFrame:
    events, wrapper_snapshot = read_v4_events(path)
    records: list[dict] = []
    for event in events:
        for book in event["bookmakers"] or []:
            for market in book.get("markets") or []:
                if market.get("key") != POINTS_MARKET:
                    continue
                snapshot = wrapper_snapshot or market.get("last_update") or book.get("last_update")
                if snapshot is None:
                    raise IngestError(
                        path, "no snapshot time (no wrapper timestamp, no last_update)", f"event {event['id']}"
                    )
                for j, outcome in enumerate(market.get("outcomes") or []):
                    side = str(outcome.get("name", "")).strip().lower()
                    if side not in ("over", "under"):
                        continue
                    records.append(
                        {
                            **_event_fields(event, book),
                            "book_player_name": str(outcome.get("description") or "").strip(),
                            "side": side,
                            "line": outcome.get("point"),
                            "price": outcome.get("price"),
                            "snapshot_time": snapshot,
                            "_row": f"event {event['id']} book {book.get('key')} outcome {j}",
                        }
                    )
    if not records:
        return pd.DataFrame(columns=OFFER_COLUMNS)
    long = pd.DataFrame.from_records(records)
    long["line"] = parse_numbers(long.astype({"line": object}), "line", path)
    long["price"] = parse_numbers(long.astype({"price": object}), "price", path, required=False)
    long["commence_time"] = _utc(long["commence_time"], long, "commence_time", path)
    long["snapshot_time"] = _utc(long["snapshot_time"], long, "snapshot_time", path)
    check_unique(long, ["event_id", "bookmaker", "book_player_name", "line", "side", "snapshot_time"], path, "outcome")
    keys = [
        "event_id",
        "commence_time",
        "home_team",
        "away_team",
        "bookmaker",
        "book_player_name",
        "line",
        "snapshot_time",
    ]
    over = long[long["side"] == "over"].rename(columns={"price": "over_price"}).drop(columns="side")
    under = long[long["side"] == "under"].rename(columns={"price": "under_price", "_row": "_row_under"})
    wide = over.merge(under.drop(columns="side"), on=keys, how="outer")
    wide["_row"] = wide["_row"].fillna(wide["_row_under"])
    wide = wide.drop(columns="_row_under")
    wide["source_file"] = path.name
    return _resolve_teams(_check_offers(wide, path), path)[OFFER_COLUMNS]


_FILE_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
# Props are posted a day or two before tip-off; a file dated this long before the first game date
# of a run, or more than a day after its last, cannot hold a pre-game line for it.
LOOKBACK_DAYS = 7


def file_date(path: Path) -> dt.date | None:
    """The date a snapshot file's name carries (odds_20251118_170000, player_props_2025-10-22), if any."""
    match = _FILE_DATE.search(path.name)
    try:
        return dt.date(*(int(g) for g in match.groups())) if match else None
    except ValueError:
        return None


def _may_hold(path: Path, start: dt.date | None, end: dt.date | None) -> bool:
    """Whether a snapshot file, by the date in its name, can hold lines for games in [start, end].
    Files without a date in the name are always read."""
    day = file_date(path)
    if day is None or (start is None and end is None):
        return True
    if start is not None and day < start - dt.timedelta(days=LOOKBACK_DAYS):
        return False
    return end is None or day <= end + dt.timedelta(days=1)


def v4_files(folder: Path) -> list[Path]:
    """The v4 JSON snapshot files of a folder, in name order (none when it is not a folder)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith((".json", ".json.gz")))


def odds_files(data_dir: Path) -> tuple[list[Path], list[Path]]:
    """The flat snapshots and the v4 JSON files of a data directory. Either folder may be absent, not
    both; a folder that is not a directory, or no snapshot file at all, is an error: an ingest must
    never read "no lines" from a source that is not there."""
    data_dir = Path(data_dir)
    folders = [data_dir / SNAPSHOT_DIR, data_dir / V4_DIR]
    for folder in folders:
        if folder.exists() and not folder.is_dir():
            raise IngestError(folder, "is not a folder (odds snapshots are files inside it)")
    if not any(folder.is_dir() for folder in folders):
        raise IngestError(data_dir, f"has no odds folder: neither {SNAPSHOT_DIR}/ nor {V4_DIR}/")
    flat, v4 = table_files(folders[0]), v4_files(folders[1])
    if not flat and not v4:
        raise IngestError(
            data_dir, f"has no odds snapshot files in {SNAPSHOT_DIR}/ (raw_*.csv[.gz]) or {V4_DIR}/ (*.json[.gz])"
        )
    return flat, v4


def load_offers(data_dir: Path, start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
    """Every offered player_points line in the data directory, both shapes, deduplicated across files;
    with start/end, only files whose name dates them near [start, end] are read (rows are not filtered)."""
    flat, v4 = odds_files(data_dir)
    frames = [read_flat_snapshot(p) for p in flat if _may_hold(p, start, end)]
    frames += [read_v4_json(p) for p in v4 if _may_hold(p, start, end)]
    # The same snapshot may arrive as CSV and as JSON: its first copy is kept (files in name order).
    return _combined(frames, OFFER_COLUMNS, ["event_id", "bookmaker", "book_player_name", "line", "snapshot_time"])


def _combined(frames: list[pd.DataFrame], columns: list[str], key: list[str]) -> pd.DataFrame:
    """The files' rows in one frame, each row of `key` once, times in one unit and the Eastern game date."""
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=[*columns, "game_date"])
    rows = pd.concat(frames, ignore_index=True).drop_duplicates(key)
    for column in ("commence_time", "snapshot_time"):  # one unit, whatever files were read
        rows[column] = pd.to_datetime(rows[column], utc=True).astype("datetime64[ns, UTC]")
    rows["game_date"] = pd.to_datetime(eastern_game_dates(rows["commence_time"]))
    return rows.reset_index(drop=True)


def american_to_probability(price: pd.Series) -> pd.Series:
    """Implied probability of American odds (-110 -> 0.524, +150 -> 0.400); NaN stays NaN."""
    price = pd.to_numeric(price, errors="coerce")
    return pd.Series(np.where(price < 0, -price / (-price + 100.0), 100.0 / (price + 100.0)), index=price.index).where(
        price.notna() & (price != 0)
    )


def main_lines(offers: pd.DataFrame) -> pd.DataFrame:
    """One line per (snapshot, event, book, player): the one whose over and under prices are closest
    to even (smallest gap in implied probability). Lines missing a price rank last; ties go to the
    lower line so the choice is deterministic."""
    if offers.empty:
        return offers.assign(n_lines_offered=pd.Series(dtype="int64"))
    df = offers.copy()
    gap = (american_to_probability(df["over_price"]) - american_to_probability(df["under_price"])).abs()
    df["_gap"] = gap.fillna(np.inf)
    keys = ["snapshot_time", "event_id", "bookmaker", "book_player_name"]
    df["n_lines_offered"] = df.groupby(keys)["line"].transform("size")
    df = df.sort_values([*keys, "_gap", "line"], kind="mergesort")
    return df.drop_duplicates(keys, keep="first").drop(columns="_gap").reset_index(drop=True)


GAME_MARKETS = ("h2h", "spreads", "totals")
GAME_LINE_COLUMNS = [
    *EVENT_BOOK_COLUMNS,
    *["total_line", "over_price", "under_price"],
    *["home_spread", "home_spread_price", "away_spread_price", "home_moneyline", "away_moneyline"],
    *SNAPSHOT_COLUMNS,
]


def _game_market_values(event: dict, market: dict) -> dict:
    """One book's h2h, spreads or totals market of an event as the game_lines columns it fills."""
    values: dict = {}
    for outcome in market.get("outcomes") or []:
        name = str(outcome.get("name", "")).strip()
        side = "home" if name == event["home_team"] else "away" if name == event["away_team"] else name.lower()
        if market["key"] == "totals" and side in ("over", "under"):
            values["total_line"] = outcome.get("point")
            values[f"{side}_price"] = outcome.get("price")
        elif market["key"] == "spreads" and side in ("home", "away"):
            if side == "home":
                values["home_spread"] = outcome.get("point")
            values[f"{side}_spread_price"] = outcome.get("price")
        elif market["key"] == "h2h" and side in ("home", "away"):
            values[f"{side}_moneyline"] = outcome.get("price")
    return values


def read_v4_game_markets(path: Path) -> pd.DataFrame:
    """The game markets (h2h, spreads, totals) of a v4 file: one row per event, book and snapshot."""
    events, wrapper_snapshot = read_v4_events(path)
    records: list[dict] = []
    for event in events:
        for book in event["bookmakers"] or []:
            row: dict = {}
            snapshot = None
            for market in book.get("markets") or []:
                if market.get("key") in GAME_MARKETS:
                    row.update(_game_market_values(event, market))
                    snapshot = wrapper_snapshot or market.get("last_update") or book.get("last_update")
            if not row:
                continue
            records.append(
                {
                    **_event_fields(event, book),
                    "snapshot_time": snapshot,
                    "_row": f"event {event['id']} book {book.get('key')}",
                    **row,
                }
            )
    if not records:
        return pd.DataFrame(columns=GAME_LINE_COLUMNS)
    wide = pd.DataFrame.from_records(records)
    for column in GAME_LINE_COLUMNS:
        if column not in wide.columns:
            wide[column] = None
    for column in ("total_line", "home_spread"):
        wide[column] = parse_numbers(wide.astype({column: object}), column, path, required=False)
    for column in ("over_price", "under_price", "home_spread_price", "away_spread_price"):
        wide[column] = parse_numbers(wide.astype({column: object}), column, path, required=False)
    for column in ("home_moneyline", "away_moneyline"):
        wide[column] = parse_numbers(wide.astype({column: object}), column, path, required=False)
    wide["commence_time"] = _utc(wide["commence_time"], wide, "commence_time", path)
    wide["snapshot_time"] = _utc(wide["snapshot_time"], wide, "snapshot_time", path)
    wide["source_file"] = path.name
    check_unique(wide, ["event_id", "bookmaker", "snapshot_time"], path, "game line")
    for column in ("total_line", "home_spread"):
        bad, rule = tables.check_values("game_lines", column, wide[column].dropna())
        if bad.any():
            first = wide.loc[bad[bad].index[0]]
            raise IngestError(path, f"{column} {first[column]:g} ({first['bookmaker']}) must be {rule}", first["_row"])
    return _resolve_teams(wide, path)[GAME_LINE_COLUMNS]


def load_game_lines(data_dir: Path, start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
    """Every book's game markets in the data directory's v4 files (the flat snapshots hold player markets
    only), deduplicated across files, with the game's Eastern date."""
    _, v4 = odds_files(data_dir)
    frames = [read_v4_game_markets(p) for p in v4 if _may_hold(p, start, end)]
    lines = _combined(frames, GAME_LINE_COLUMNS, ["event_id", "bookmaker", "snapshot_time"])
    return lines.drop(columns=["_row", "home_team", "away_team"])  # the books' team names: now abbreviations
