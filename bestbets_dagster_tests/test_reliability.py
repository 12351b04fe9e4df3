"""Bad input and bad luck: every malformed source gets an error naming the file, the row and the
value, and leaves every stored row as it was; a lost source never erases stored rows; a bad line is
never selected; model bytes are immutable; tables migrate added columns; a killed command's runs are
marked failed and a second writer refuses."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from dagster import DagsterInstance, materialize

from bestbets_dagster import settings
from bestbets_dagster.defs import ingest_assets
from bestbets_dagster.defs.partition_range import range_tags
from bestbets_dagster.ingest.errors import IngestError
from bestbets_dagster.resources import DuckDBWarehouse, NbaDataSource
from bestbets_dagster.tables import DataValidationError
from bestbets_dagster_tests.conftest import DATA_DIR, home_instance, run_cli, run_in_project, subprocess_env

START, END = "2025-11-14", "2025-11-16"
TABLES = ["player_game_logs", "team_game_logs", "prop_lines", "player_game_lines"]
PLAYERS = "box_scores/player_game_logs_2025-26.csv"
TEAMS = "team_game_logs/team_game_logs_2025-26.csv"
SNAPSHOT = "odds_api_snapshots/raw_20251115_170000.csv"
JSON_DAY = "odds_api_v4/player_props_2025-10-23.json"


def _small_data(target: Path) -> Path:
    """Three days of the real data (with the season so far for identity) as plain CSV and JSON."""
    for folder, name in (("box_scores", "player_game_logs_2025-26"), ("team_game_logs", "team_game_logs_2025-26")):
        (target / folder).mkdir(parents=True)
        rows = pd.read_csv(DATA_DIR / folder / f"{name}.csv.gz", dtype=str)
        rows[rows["game_date"] <= END].to_csv(target / folder / f"{name}.csv", index=False)
    (target / "odds_api_snapshots").mkdir()
    for day in ("20251114", "20251115", "20251116"):
        raw = pd.read_csv(DATA_DIR / "odds_api_snapshots" / f"raw_{day}_170000.csv.gz", dtype=str)
        raw.to_csv(target / "odds_api_snapshots" / f"raw_{day}_170000.csv", index=False)
    (target / "odds_api_v4").mkdir()
    with gzip.open(DATA_DIR / JSON_DAY.replace(".json", ".json.gz"), "rt") as fh:
        (target / JSON_DAY).write_text(fh.read())
    return target


def _ingest(warehouse, data_dir, start=START, end=END, assets=ingest_assets):
    return materialize(
        assets,
        instance=DagsterInstance.ephemeral(),
        tags=range_tags(start, end),
        resources={"warehouse": warehouse, "nba_data": NbaDataSource(data_dir=str(data_dir))},
    )


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("reliability")
    data = _small_data(root / "data")
    warehouse = DuckDBWarehouse(path=str(root / "warehouse.duckdb"))
    assert _ingest(warehouse, data, "2025-10-21", END).success
    return root, data


@pytest.fixture()
def copy(base, tmp_path):
    """A copy of the small data directory and of the warehouse built from it, for one case."""
    root, data = base
    shutil.copytree(data, tmp_path / "data")
    shutil.copy(root / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    return tmp_path / "data", DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))


def _stored(warehouse) -> dict[str, pd.DataFrame]:
    return {t: warehouse.read(t, "2025-10-21", END) for t in TABLES}


def _edit_csv(path: Path, edit) -> None:
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(rows)
    rows.to_csv(path, index=False)


def _set(column, value, where=None):
    """Set one cell: the first row (of `where`, a column -> value filter) of the file."""

    def edit(rows):
        index = rows.index[0] if where is None else rows.index[(rows[list(where)] == pd.Series(where)).all(axis=1)][0]
        rows.loc[index, column] = value
        edit.line = index + 2  # the header is line 1

    return edit


def _first_scorer(rows) -> int:
    return rows.index[(rows["game_date"] == START) & (rows["points"].astype(int) > 10)][0]


def _scorer(column, value):
    def edit(rows):
        index = _first_scorer(rows)
        rows.loc[index, column] = value
        edit.line = index + 2

    return edit


def _cut(path: Path, newline: bool) -> None:
    """The file cut in the middle of its last day's first row (a download stopped mid-row), with a
    newline put back after the cut or not."""
    data = path.read_bytes()
    cut = data.index(b"\n", data.index(f",{END},".encode())) - 20  # inside the row, before its last fields
    path.write_bytes(data[:cut] + (b"\n" if newline else b""))


def _in_two_games(rows):
    """The first scorer of the day also listed in another game of that date."""
    index = _first_scorer(rows)
    other = rows.loc[(rows["game_date"] == START) & (rows["game_id"] != rows.loc[index, "game_id"]), "game_id"].iloc[0]
    rows.loc[len(rows)] = rows.loc[index].copy()
    rows.loc[len(rows) - 1, "game_id"] = other
    _in_two_games.line = index + 2


def _duplicate_first(rows):
    rows.loc[len(rows)] = rows.loc[rows.index[rows["game_date"] == START][0]]


def _drop_column(name):
    return lambda rows: rows.drop(columns=[name], inplace=True)


def _truncate(path: Path) -> None:
    data = gzip.compress(path.read_bytes())
    path.unlink()
    Path(f"{path}.gz").write_bytes(data[: len(data) // 2])


def _edit_json(path: Path, edit) -> None:
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


def _first_outcome(document) -> dict:
    for event in document["data"]:
        for book in event["bookmakers"]:
            for market in book["markets"]:
                if market["key"] == "player_points":
                    return market["outcomes"][0]
    raise AssertionError("no player_points outcome")


# (case, file to change, change, message expected; {line} is the changed row's line)
CORPUS = [
    ("minutes nan", PLAYERS, _scorer("minutes", "nan"), r"line {line}: minutes is not 'mm:ss': 'nan'"),
    ("minutes negative", PLAYERS, _scorer("minutes", "-5"), r"line {line}: minutes is not 'mm:ss': '-5'"),
    ("minutes text", PLAYERS, _scorer("minutes", "half"), r"line {line}: minutes is not 'mm:ss': 'half'"),
    ("points without minutes", PLAYERS, _scorer("minutes", ""), r"line {line}: .* scored \d+ points with no minutes"),
    (
        "name of spaces",
        PLAYERS,
        _scorer("player_name", "   "),
        r"line {line}: player_name is empty or a missing-value marker: '   '",
    ),
    ("empty name", PLAYERS, _scorer("player_name", ""), r"line {line}: player_name is empty"),
    (
        "unknown team",
        PLAYERS,
        _scorer("team_abbr", "XYZ"),
        r"line {line}: team_abbr 'XYZ' is not an NBA team abbreviation",
    ),
    (
        "unknown opponent",
        PLAYERS,
        _scorer("opp", "Lakers"),
        r"line {line}: opp 'Lakers' is not an NBA team abbreviation",
    ),
    (
        "date far ahead",
        PLAYERS,
        _scorer("game_date", "2099-01-01"),
        r"line {line}: game_date 2099-01-01 is outside the game dates",
    ),
    (
        "date before the partitions",
        PLAYERS,
        _scorer("game_date", "2001-01-01"),
        r"line {line}: game_date 2001-01-01 is outside",
    ),
    (
        "date not ISO",
        PLAYERS,
        _scorer("game_date", "11/14/2025"),
        r"line {line}: game_date is not a date: '11/14/2025'",
    ),
    ("person id text", PLAYERS, _scorer("person_id", "abc"), r"line {line}: column person_id is not a number: 'abc'"),
    (
        "off-season date",
        PLAYERS,
        _scorer("game_date", "2025-08-15"),
        r"line {line}: game_date 2025-08-15 falls in the off-season \(07-01..09-30, BESTBETS_OFF_SEASON\)",
    ),
    (
        "preseason game",
        PLAYERS,
        _scorer("game_id", "0012500001"),
        r"line {line}: game 0012500001 is a preseason game",
    ),
    (
        "made over attempted",
        PLAYERS,
        _scorer("field_goals_made", "30"),
        r"line {line}: .*: field_goals_made 30 is more than field_goals_attempted",
    ),
    ("two games on one date", PLAYERS, _in_two_games, r"line {line}: .* plays two games on 2025-11-14"),
    (
        "infinite plus-minus",
        PLAYERS,
        _scorer("plus_minus_points", "inf"),
        r"line {line}: column plus_minus_points is not a finite number: 'inf'",
    ),
    (
        "fractional points",
        PLAYERS,
        _scorer("points", "12.5"),
        r"line {line}: column points is not a whole number: '12.5'",
    ),
    (
        "is_home not a bool",
        PLAYERS,
        _scorer("is_home", "maybe"),
        r"line {line}: column is_home is not true/false: 'maybe'",
    ),
    ("duplicated player row", PLAYERS, _duplicate_first, r"duplicated player-game"),
    ("missing points column", PLAYERS, _drop_column("points"), r"missing required column\(s\) \['points'\]"),
    ("team stat text", TEAMS, _set("fga", "x", {"game_date": START}), r"line {line}: column fga is not a number: 'x'"),
    ("team file without pts", TEAMS, _drop_column("pts"), r"missing required column\(s\) \['pts'\]"),
    (
        "line text",
        SNAPSHOT,
        _set("line", "twenty", {"market": "player_points"}),
        r"line {line}: column line is not a number",
    ),
    (
        "line 0",
        SNAPSHOT,
        _set("line", "0", {"market": "player_points"}),
        r"line {line}: line 0 of .* is not a plausible value: it must be more than 0 and at most 100",
    ),
    (
        "line 999",
        SNAPSHOT,
        _set("line", "999", {"market": "player_points"}),
        r"line {line}: line 999 of .* not a plausible value",
    ),
    (
        "infinite price",
        SNAPSHOT,
        _set("over_odds", "inf", {"market": "player_points"}),
        r"line {line}: column over_odds is not a finite number: 'inf'",
    ),
    (
        "price 50",
        SNAPSHOT,
        _set("over_odds", "50", {"market": "player_points"}),
        r"line {line}: over_price 50 of .* it must be at least this far from 0: 100",
    ),
    (
        "blank player",
        SNAPSHOT,
        _set("player", "  ", {"market": "player_points"}),
        r"line {line}: the player name is empty",
    ),
    (
        "player named N/A",
        SNAPSHOT,
        _set("player", "N/A", {"market": "player_points"}),
        r"line {line}: the player name is empty or a missing-value marker: 'N/A'",
    ),
    (
        "box-score player named null",
        PLAYERS,
        _scorer("player_name", "null"),
        r"line {line}: player_name is empty or a missing-value marker: 'null'",
    ),
    (
        "game not away @ home",
        SNAPSHOT,
        _set("game", "Lakers vs Celtics", {"market": "player_points"}),
        r"line {line}: game is not 'Away @ Home'",
    ),
    (
        "game time text",
        SNAPSHOT,
        _set("game_time", "soon", {"market": "player_points"}),
        r"line {line}: game_time is not a timestamp: 'soon'",
    ),
    (
        "unknown book team",
        SNAPSHOT,
        _set("game", "Seattle SuperSonics @ Los Angeles Lakers", {"market": "player_points"}),
        r"unknown NBA team 'Seattle SuperSonics'",
    ),
    (
        "duplicated line",
        SNAPSHOT,
        lambda rows: rows.loc.__setitem__(len(rows), rows.loc[rows.index[rows["market"] == "player_points"][0]]),
        r"duplicated line",
    ),
    ("snapshot without line column", SNAPSHOT, _drop_column("line"), r"missing required column\(s\) \['line'\]"),
]
JSON_CORPUS = [
    ("json point text", lambda d: _first_outcome(d).__setitem__("point", "x"), r"column line is not a number: 'x'"),
    ("json no description", lambda d: _first_outcome(d).pop("description"), r"the player name is empty"),
    ("json price 10", lambda d: _first_outcome(d).__setitem__("price", 10), r"price 10 of .* not a plausible value"),
    (
        "json event without bookmakers",
        lambda d: d["data"][0].pop("bookmakers"),
        r"is not an Odds API v4 event: missing \['bookmakers'\]",
    ),
]


@pytest.mark.parametrize("case, name, edit, message", CORPUS, ids=[c[0] for c in CORPUS])
def test_a_malformed_table_file_names_file_row_and_value_and_writes_nothing(copy, case, name, edit, message):
    data, warehouse = copy
    before = _stored(warehouse)
    _edit_csv(data / name, edit)
    expected = message.format(line=getattr(edit, "line", ""))
    with pytest.raises(IngestError, match=rf"{Path(name).name}, {expected}" if "{line}" in message else expected):
        _ingest(warehouse, data)
    for table, rows in _stored(warehouse).items():
        pd.testing.assert_frame_equal(rows, before[table], obj=f"{case}: {table}")


@pytest.mark.parametrize("case, edit, message", JSON_CORPUS, ids=[c[0] for c in JSON_CORPUS])
def test_a_malformed_odds_json_names_the_event_and_writes_nothing(copy, case, edit, message):
    data, warehouse = copy
    before = _stored(warehouse)
    _edit_json(data / JSON_DAY, edit)
    with pytest.raises(IngestError, match=rf"{Path(JSON_DAY).name}, .*{message}"):
        _ingest(warehouse, data, "2025-10-21", "2025-10-23")
    for table, rows in _stored(warehouse).items():
        pd.testing.assert_frame_equal(rows, before[table], obj=f"{case}: {table}")


@pytest.mark.parametrize(
    "case, change, message",
    [
        (
            "truncated json",
            lambda d: (d / JSON_DAY).write_text('{"timestamp": "2025-10-23T17:00:00Z", "data": [{"id":'),
            r"player_props_2025-10-23.json: is not valid JSON",
        ),
        (
            "truncated box scores",
            lambda d: _truncate(d / PLAYERS),
            r"player_game_logs_2025-26.csv.gz: cannot be read as a table: EOFError",
        ),
        (
            "garbage snapshot",
            lambda d: (d / SNAPSHOT).write_bytes(b"\x00\x01\xff\xfe" * 100),
            r"raw_20251115_170000.csv: cannot be read",
        ),
        (
            "box scores cut mid-row",
            lambda d: _cut(d / PLAYERS, newline=False),
            r"player_game_logs_2025-26.csv: the file ends in the middle of line \d+ \(no newline after it\)",
        ),
        (
            "box scores whose last row lost fields",
            lambda d: _cut(d / PLAYERS, newline=True),
            r"player_game_logs_2025-26.csv: line \d+, the last, has \d+ fields where the header has 30",
        ),
        (
            "snapshot name with no such time",
            lambda d: (d / SNAPSHOT).rename(d / "odds_api_snapshots" / "raw_20251115_256000.csv"),
            r"raw_20251115_256000.csv: the file name's snapshot time 20251115_256000 is not a date and time",
        ),
        ("no box-score folder", lambda d: shutil.rmtree(d / "box_scores"), r"box_scores: no player-game files"),
        (
            "no odds folder",
            lambda d: [shutil.rmtree(d / f) for f in ("odds_api_snapshots", "odds_api_v4")],
            r"has no odds folder: neither odds_api_snapshots/ nor odds_api_v4/",
        ),
        (
            "odds folder is a file",
            lambda d: (shutil.rmtree(d / "odds_api_snapshots"), (d / "odds_api_snapshots").write_text("x")),
            r"odds_api_snapshots: is not a folder",
        ),
        (
            "empty odds folders",
            lambda d: [p.unlink() for f in ("odds_api_snapshots", "odds_api_v4") for p in (d / f).iterdir()],
            r"has no odds snapshot files",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and " " in value and "(" not in value else None,
)
def test_a_missing_or_unreadable_source_is_an_error_and_writes_nothing(copy, case, change, message):
    data, warehouse = copy
    before = _stored(warehouse)
    change(data)
    with pytest.raises(IngestError, match=message):
        _ingest(warehouse, data, "2025-10-21", END)
    for table, rows in _stored(warehouse).items():
        pd.testing.assert_frame_equal(rows, before[table], obj=f"{case}: {table}")


def _rewrite(path: Path, change) -> None:
    path.write_bytes(change(path.read_bytes()))


def _replace_text(old: str, new: str):
    def change(data: Path) -> None:
        assert old.encode() in (data / SNAPSHOT).read_bytes()
        _rewrite(data / SNAPSHOT, lambda b: b.replace(old.encode(), new.encode()))

    return change


def _reverse_columns(path: Path) -> None:
    pd.read_csv(path, dtype=str, keep_default_na=False).iloc[:, ::-1].to_csv(path, index=False)


def _alternate_line(rows):
    """A far alternate line (+4.5, long odds) for the first player_points offer: never the main line."""
    row = rows.loc[rows.index[rows["market"] == "player_points"][0]].copy()
    row["line"], row["over_odds"], row["under_odds"] = str(float(row["line"]) + 4.5), "400", "-600"
    rows.loc[len(rows)] = row


# The same data written another way: every table the ingest stores for the days is unchanged.
EQUIVALENT = [
    ("byte-order mark", lambda d: [_rewrite(d / f, lambda b: b"\xef\xbb\xbf" + b) for f in (PLAYERS, SNAPSHOT)]),
    (
        "CRLF line endings",
        lambda d: [_rewrite(d / f, lambda b: b.replace(b"\n", b"\r\n")) for f in (PLAYERS, SNAPSHOT)],
    ),
    ("columns reordered", lambda d: [_reverse_columns(d / f) for f in (PLAYERS, SNAPSHOT)]),
    ("accented book names", _replace_text("Nikola Jokic", "Nikola Jokić")),
    ("curly apostrophe", _replace_text("De'Andre Hunter", "De\u2019Andre Hunter")),
    ("times with a UTC offset", _replace_text("T22:10:00Z", "T17:10:00-05:00")),
    ("an alternate line", lambda d: _edit_csv(d / SNAPSHOT, _alternate_line)),
    (
        "a symlink loop in the box-score folder",
        lambda d: (d / "box_scores" / "loop").symlink_to(d / "box_scores" / "loop"),
    ),
]


@pytest.mark.parametrize("case, change", EQUIVALENT, ids=[c[0] for c in EQUIVALENT])
def test_the_same_data_written_another_way_stores_the_same_rows(copy, case, change):
    data, warehouse = copy
    tables = ("player_game_logs", "team_game_logs", "player_game_lines")

    def stored():
        return {t: warehouse.read(t, START, END).drop(columns=["ingested_at"], errors="ignore") for t in tables}

    before = stored()
    change(data)
    assert _ingest(warehouse, data).success
    for table, rows in stored().items():
        pd.testing.assert_frame_equal(rows, before[table], obj=f"{case}: {table}")


def test_a_snapshot_reduced_to_its_header_keeps_the_stored_lines_of_its_date(copy):
    data, warehouse = copy
    before = _stored(warehouse)
    _edit_csv(data / SNAPSHOT, lambda rows: rows.drop(rows.index, inplace=True))  # a failed download: a header
    result = _ingest(warehouse, data)
    assert result.success
    kept = [e for e in result.asset_materializations_for_node("prop_lines")][0].metadata["kept_stored_dates"].value
    assert kept == ["2025-11-15"]
    for table in ("prop_lines", "player_game_lines"):
        pd.testing.assert_frame_equal(
            warehouse.read(table, "2025-11-15", "2025-11-15"),
            before[table][before[table]["game_date"] == "2025-11-15"].reset_index(drop=True),
            obj=table,
            check_like=True,
        )


def test_a_truncated_season_file_keeps_the_stored_box_scores_of_the_dates_it_lost(copy):
    data, warehouse = copy
    before = warehouse.read("player_game_logs", END, END)
    _edit_csv(data / PLAYERS, lambda rows: rows.drop(rows.index[rows["game_date"] == END], inplace=True))
    assert _ingest(warehouse, data, assets=[a for a in ingest_assets if a.key.path[-1] == "player_game_logs"]).success
    assert len(before) > 0
    pd.testing.assert_frame_equal(warehouse.read("player_game_logs", END, END), before)


def test_a_day_half_written_keeps_its_stored_rows_unless_the_shrink_is_asked_for(copy):
    """The box-score file cut at a row boundary half-way through 2025-11-15 (125 rows to 62 in the issue):
    the stored day is kept with a warning naming the date, the counts and the file; a run tagged
    bestbets/allow_shrink=true takes the smaller day."""
    from bestbets_dagster.defs.ingestion import ALLOW_SHRINK_TAG

    data, warehouse = copy
    day = "2025-11-15"
    before = warehouse.read("player_game_logs", day, day)
    rows = pd.read_csv(data / PLAYERS, dtype=str, keep_default_na=False)
    of_day = rows.index[rows["game_date"] == day]
    rows.drop(of_day[len(of_day) // 2 :]).to_csv(data / PLAYERS, index=False)  # later days are lost too
    players = [a for a in ingest_assets if a.key.path[-1] == "player_game_logs"]
    result = _ingest(warehouse, data, assets=players)
    assert result.success
    pd.testing.assert_frame_equal(warehouse.read("player_game_logs", day, day), before)
    held = result.asset_materializations_for_node("player_game_logs")[0].metadata["shrunk_dates_kept"].value
    assert held[day] == {"stored": len(before), "source": len(of_day) // 2, "files": ["player_game_logs_2025-26.csv"]}
    allowed = materialize(
        players,
        instance=DagsterInstance.ephemeral(),
        tags={**range_tags(START, END), ALLOW_SHRINK_TAG: "true"},
        resources={"warehouse": warehouse, "nba_data": NbaDataSource(data_dir=str(data))},
    )
    assert allowed.success and len(warehouse.read("player_game_logs", day, day)) == len(of_day) // 2


def test_a_line_far_from_the_other_books_is_never_selected(copy):
    data, warehouse = copy
    raw = pd.read_csv(data / SNAPSHOT, dtype=str)
    points = raw[raw["market"] == "player_points"]
    per_player = points.groupby(["event_id", "player"])["bookmaker"].nunique()
    event, player = per_player[per_player >= 4].index[0]
    mask = (
        (raw["event_id"] == event)
        & (raw["player"] == player)
        & (raw["bookmaker"] == "draftkings")
        & (raw["market"] == "player_points")
    )
    assert mask.sum() >= 1
    raw.loc[mask, "line"] = "1.5"  # plausible for some player, not for this one
    raw.to_csv(data / SNAPSHOT, index=False)
    result = _ingest(warehouse, data, "2025-11-15", "2025-11-15")
    meta = result.asset_materializations_for_node("player_game_lines")[0].metadata
    assert meta["outlier_lines_dropped"].value >= 1
    selected = warehouse.read("player_game_lines", "2025-11-15", "2025-11-15")
    row = selected[(selected["event_id"] == event) & (selected["player_name"].str.contains(player.split()[-1]))]
    assert len(row) == 1 and row["selected_book"].iloc[0] != "draftkings" and float(row["selected_line"].iloc[0]) > 1.5


def test_a_snapshot_with_home_and_away_swapped_is_set_aside_and_no_side_flips(copy):
    """One event of the 2025-11-15 snapshot written "Home @ Away": its lines are set aside with the event
    and the file named, and no stored player-game loses its game or has is_home flipped."""
    from bestbets_dagster.defs.ingestion import ALLOW_SHRINK_TAG

    data, warehouse = copy
    day = "2025-11-15"
    before = warehouse.read("player_game_lines", day, day)
    raw = pd.read_csv(data / SNAPSHOT, dtype=str, keep_default_na=False)
    event = raw.loc[raw["market"] == "player_points", "event_id"].iloc[0]
    away, home = raw.loc[raw["event_id"] == event, "game"].iloc[0].split(" @ ")
    raw.loc[raw["event_id"] == event, "game"] = f"{home} @ {away}"
    raw.to_csv(data / SNAPSHOT, index=False)
    result = materialize(
        [a for a in ingest_assets if a.key.path[-1] in ("prop_lines", "player_game_lines")],
        instance=DagsterInstance.ephemeral(),
        tags={**range_tags(day, day), ALLOW_SHRINK_TAG: "true"},  # the event's lines go: the day shrinks
        resources={"warehouse": warehouse, "nba_data": NbaDataSource(data_dir=str(data))},
    )
    assert result.success
    [aside] = result.asset_materializations_for_node("prop_lines")[0].metadata["events_set_aside"].value
    assert aside["event_id"] == event and aside["file"] == "raw_20251115_170000.csv"
    assert aside["reason"] == "the box scores have these teams the other way round"
    assert event not in set(warehouse.read("prop_lines", day, day)["event_id"])
    after = warehouse.read("player_game_lines", day, day)
    assert after["game_id"].notna().all() and event not in set(after["event_id"])
    kept = before[before["event_id"] != event]
    assert len(kept) == len(after) and len(kept) < len(before)
    assert after.set_index("person_id")["is_home"].equals(
        kept.set_index("person_id")["is_home"].loc[after["person_id"]]
    )


def test_one_book_listing_a_player_under_two_names_at_two_lines_is_a_conflict_never_a_line_move(copy):
    """A second spelling of a player (upper case: the same person, matched exactly) at a line 2 points
    higher in the same snapshot of the same book: both rows are dropped and reported, the player-game's
    opening line is not moved by them."""
    data, warehouse = copy
    day = "2025-11-15"
    raw = pd.read_csv(data / SNAPSHOT, dtype=str, keep_default_na=False)
    points = raw.index[(raw["market"] == "player_points") & (raw["bookmaker"] == "draftkings")]
    row = raw.loc[points[0]].copy()
    row["player"], row["line"] = row["player"].upper(), str(float(row["line"]) + 2)
    raw.loc[len(raw)] = row
    raw.to_csv(data / SNAPSHOT, index=False)
    result = _ingest(warehouse, data, day, day)
    assert result.success
    conflicts = result.asset_materializations_for_node("prop_lines")[0].metadata["conflicting_lines_dropped"].value
    name = raw.loc[points[0], "player"]
    assert {(c["book_player_name"], c["bookmaker"], c["file"]) for c in conflicts} == {
        (name, "draftkings", "raw_20251115_170000.csv"),
        (name.upper(), "draftkings", "raw_20251115_170000.csv"),
    }
    stored = warehouse.read("prop_lines", day, day)
    assert not ((stored["bookmaker"] == "draftkings") & stored["book_player_name"].isin([name, name.upper()])).any()
    lines = warehouse.read("player_game_lines", day, day)
    assert lines.groupby(["event_id", "person_id"]).size().max() == 1
    assert (lines["opening_line"] == lines["selected_line"]).all()  # one snapshot a day: no line moves


def test_lower_case_team_abbreviations_are_normalized(copy):
    data, warehouse = copy
    _edit_csv(data / PLAYERS, lambda rows: rows.__setitem__("team_abbr", rows["team_abbr"].str.lower()))
    assert _ingest(warehouse, data, assets=[a for a in ingest_assets if a.key.path[-1] == "player_game_logs"]).success
    assert set(warehouse.read("player_game_logs", START, END)["team_abbr"]) <= {
        "ATL",
        "BOS",
        "BKN",
        "CHA",
        "CHI",
        "CLE",
        "DAL",
        "DEN",
        "DET",
        "GSW",
        "HOU",
        "IND",
        "LAC",
        "LAL",
        "MEM",
        "MIA",
        "MIL",
        "MIN",
        "NOP",
        "NYK",
        "OKC",
        "ORL",
        "PHI",
        "PHX",
        "POR",
        "SAC",
        "SAS",
        "TOR",
        "UTA",
        "WAS",
    }


# ------------------------------------------------------------------------------ tables and models


def test_a_column_added_to_a_definition_is_added_to_the_stored_table(tmp_path):
    import duckdb

    from bestbets_dagster import tables

    path = tmp_path / "old.duckdb"
    spec = tables.table("training_windows")
    with duckdb.connect(str(path)) as con:  # the table as an older definition created it
        con.execute(spec.duckdb_ddl('"training_windows"').replace(',\n  "labeled_sha256" VARCHAR NOT NULL', ""))
        con.execute(
            "INSERT INTO training_windows (training_week, n_game_days, n_labeled_rows, n_eval_rows, computed_at) "
            "VALUES ('2025-11-17', 42, 9000, 700, now())"
        )
    rows = DuckDBWarehouse(path=str(path)).read("training_windows")
    assert len(rows) == 1 and rows["n_labeled_rows"].iloc[0] == 9000 and pd.isna(rows["labeled_sha256"].iloc[0])


@pytest.mark.parametrize(
    "change, message",
    [
        ('ALTER TABLE training_windows ADD COLUMN "legacy" VARCHAR', r"column legacy is not in the definition"),
        (
            "ALTER TABLE training_windows ALTER n_game_days TYPE VARCHAR",
            r"n_game_days is VARCHAR, the definition says BIGINT",
        ),
    ],
)
def test_a_removed_or_retyped_column_is_refused_with_what_to_do(tmp_path, change, message):
    import duckdb

    from bestbets_dagster.resources import warehouse as warehouse_module

    path = tmp_path / "w.duckdb"
    DuckDBWarehouse(path=str(path)).create_tables(["training_windows"])
    with duckdb.connect(str(path)) as con:
        con.execute(change)
    warehouse_module._MIGRATED.clear()  # a new process
    with pytest.raises(
        DataValidationError, match=rf"DuckDB table training_windows differs .*{message}.*migrate the table by hand"
    ):
        DuckDBWarehouse(path=str(path)).read("training_windows")


def test_an_emptied_family_table_is_not_reseeded_over_trained_models(tmp_path):
    from bestbets_dagster.models.families import NoFamilies, load_families

    warehouse = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    seeded = load_families(warehouse)  # a new warehouse is seeded
    assert sorted(f.model_family for f in seeded if f.enabled) == [
        "v12_noveg_mae",
        "v12_noveg_q43",
        "v12_noveg_q45",
        "v9_mae",
        "v9_q43",
        "v9_q45",
    ]
    cutoff = pd.Timestamp("2025-11-17")
    warehouse.replace_partitions(
        "model_registry",
        pd.DataFrame(
            [
                {
                    "model_id": "catboost_v9_mae_w20251117",
                    "model_family": "v9_mae",
                    "feature_set": "v9",
                    "loss_function": "MAE",
                    "model_type": "catboost",
                    "artifact_uri": "file:///m.cbm",
                    "sha256_hash": "0" * 64,
                    "feature_count": 33,
                    "features_json": "[]",
                    "training_cutoff": cutoff,
                    "training_start_date": cutoff - pd.Timedelta(days=60),
                    "training_end_date": cutoff - pd.Timedelta(days=8),
                    "training_samples": 9000,
                    "gates_passed": False,
                    "status": "rejected",
                    "is_production": False,
                    "enabled": False,
                    "created_at": pd.Timestamp.now(tz="UTC"),
                }
            ]
        ),
        cutoff,
        family="v9_mae",
    )
    warehouse.replace_table("model_family", pd.DataFrame())  # an operator's DELETE FROM model_family
    with pytest.raises(
        NoFamilies,
        match="the model_family table is empty while model_registry holds 1 models: the families are not re-seeded",
    ):
        load_families(warehouse)
    assert warehouse.read("model_family").empty


def test_a_future_partition_is_refused(tmp_path):
    result = run_cli(tmp_path / "home", "build", "--start", "2030-01-01", "--end", "2030-01-01", timeout=300)
    assert result.returncode != 0
    assert "2030-01-01 is after the last game-date partition" in result.stderr


# ------------------------------------------------------------------------- processes and the home


def test_a_second_writer_refuses_and_a_killed_commands_run_is_marked_failed(tmp_path):
    home = tmp_path / "home"
    env = subprocess_env(home)
    instance_dir = home / "dagster"
    instance_dir.mkdir(parents=True)
    (instance_dir / "dagster.yaml").write_text(settings.INSTANCE_CONFIG)
    with home_instance(home):
        pass  # the instance's storage exists before two processes open it
    command = [
        sys.executable,
        "-m",
        "bestbets_dagster.commands",
        "build",
        "--start",
        "2025-11-01",
        "--end",
        "2025-11-20",
    ]
    first = subprocess.Popen(
        command, cwd=settings.PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 300  # two command processes start on a busy CI host
    while not (home / "bestbets.holder").exists() or "pid" not in (home / "bestbets.holder").read_text():
        assert time.monotonic() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.2)
    second = run_in_project(command, env, timeout=120)
    assert second.returncode != 0 and f"another bestbets command is writing to {home}" in second.stderr
    assert f"pid {first.pid}: bestbets build" in second.stderr
    from dagster import DagsterRunStatus, RunsFilter

    while True:  # kill it once its run has started
        with home_instance(home) as instance:
            started = instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED]))
        if started:
            break
        assert time.monotonic() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.5)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    third = run_cli(home, "build", "--start", "2025-11-20", "--end", "2025-11-20", env=env)
    assert third.returncode == 0, third.stderr[-2000:]
    assert f"marked 1 run(s) failed whose process is gone: {started[0].run_id}" in third.stderr
    with home_instance(home) as instance:
        assert instance.get_run_by_id(started[0].run_id).status == DagsterRunStatus.FAILURE


def test_read_only_commands_work_on_a_read_only_home(tmp_path):
    """The home made immutable (chattr +i: not even root may write), as a read-only mount would be."""
    home = tmp_path / "home"
    env = subprocess_env(home)

    def cli(*argv):
        return run_cli(home, *argv, timeout=300, env=env)

    assert cli("family", "list").returncode == 0  # creates the warehouse and seeds the families
    subprocess.run(["chattr", "-R", "+i", str(home)], check=True)
    try:
        with pytest.raises(OSError):
            (home / "probe").write_text("x")
        families = cli("family", "list")
        assert families.returncode == 0, families.stderr[-2000:]
        assert "v12_noveg_q45" in families.stdout
        registry = cli("registry", "list")
        assert registry.returncode == 0 and "(none)" in registry.stdout, registry.stderr[-2000:]
        backtest = cli("signal-backtest", "--start", "2025-11-01", "--end", "2025-11-07")
        assert backtest.returncode != 0 and "no pick_signal_tags rows in 2025-11-01..2025-11-07" in backtest.stderr
        build = cli("build", "--start", "2025-11-01", "--end", "2025-11-01")
        assert build.returncode != 0  # writing is refused, not silently skipped
    finally:
        subprocess.run(["chattr", "-R", "-i", str(home)], check=True)


def test_a_replay_from_the_datas_first_week_records_why_nothing_was_trained(tmp_path):
    home = tmp_path / "home"
    result = run_cli(
        home, "replay", "--start", "2024-10-22", "--end", "2024-11-05", "--families", "v9_mae", timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "v9_mae 2024-10-21: not trained: no game days before 2024-10-14" in result.stderr
    assert "v9_mae 2024-11-04: not trained: 0 training rows in 2024-10-22..2024-10-27 (< 1000)" in result.stderr
    assert "predictions 0" in result.stdout and "best bets (ev selection): 0 graded picks" in result.stdout
    warehouse = DuckDBWarehouse(path=str(home / "warehouse.duckdb"))
    assert warehouse.read("model_registry").empty
    assert len(warehouse.read("training_windows")) == 3  # the weeks of 2024-10-21, 10-28 and 11-04


def test_the_command_line_exits_non_zero_with_the_file_row_and_value(copy, tmp_path):
    data, _ = copy
    home, env = _home_with(copy, tmp_path)
    before = DuckDBWarehouse(path=str(home / "warehouse.duckdb")).read("prop_lines", START, END)
    edit = _set("line", "999", {"market": "player_points"})
    _edit_csv(data / SNAPSHOT, edit)
    result = run_cli(home, "build", "--start", START, "--end", END, env=env)
    assert result.returncode == 1
    assert f"raw_20251115_170000.csv, line {edit.line}: line 999 of" in result.stderr
    pd.testing.assert_frame_equal(
        DuckDBWarehouse(path=str(home / "warehouse.duckdb")).read("prop_lines", START, END), before
    )


def test_a_box_score_file_that_changed_since_the_last_tick_is_ingested_again(copy):
    """A file a tick saw mid-write and that was completed since (or corrected) has another size or time:
    the next tick asks for its dates again, so a day stored half-written is made whole."""
    import os

    from dagster import build_sensor_context

    from bestbets_dagster.defs.daily import box_scores_sensor

    data, warehouse = copy
    resources = {"warehouse": warehouse, "nba_data": NbaDataSource(data_dir=str(data))}

    def tick(cursor):
        context = build_sensor_context(cursor=cursor, resources=resources)
        return box_scores_sensor.evaluate_tick(context), context.cursor

    first, cursor = tick(None)
    assert first.skip_message == "the warehouse has every box-score date of the data directory" and cursor
    again, cursor = tick(cursor)
    assert again.skip_message and not again.run_requests
    path = data / PLAYERS
    path.write_bytes(path.read_bytes() + path.read_bytes().splitlines(keepends=True)[1])  # a row more
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    changed, cursor = tick(cursor)
    [request] = changed.run_requests
    assert range_tags("2025-10-21", END).items() <= request.tags.items() and request.run_key.startswith(
        f"box-scores:2025-10-21:{END}:"
    )
    settled, _ = tick(cursor)
    assert not settled.run_requests


# ------------------------------------------------------------------------------ the warehouse file


def _home_with(copy, tmp_path) -> tuple[Path, dict]:
    """A home holding the small build's warehouse, and the environment of a command on it."""
    data, warehouse = copy
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(warehouse.path, home / "warehouse.duckdb")
    return home, {**subprocess_env(home), "BESTBETS_DATA_DIR": str(data)}


def _main(env: dict, monkeypatch, capsys, *argv: str) -> tuple[int, str]:
    """`bestbets *argv` in this process (what the console script runs), with `env`'s BESTBETS_*/DAGSTER_HOME:
    the exit status and what it wrote to stderr. Every variable it sets is restored after the test."""
    from bestbets_dagster.commands.main import main

    for name in ("BESTBETS_HOME", "DAGSTER_HOME", "BESTBETS_DATA_DIR"):
        monkeypatch.setenv(name, env[name])
    capsys.readouterr()
    try:
        status = main(list(argv))
    except SystemExit as stop:  # a refusal with its message (1)
        status = stop.code if isinstance(stop.code, int) else 1
        if isinstance(stop.code, str):
            print(stop.code, file=sys.stderr)
    return status, capsys.readouterr().err


@pytest.mark.parametrize("share", [0.3, 0.7])
def test_a_truncated_warehouse_is_reported_corrupt_with_what_to_do(copy, tmp_path, share, monkeypatch, capsys):
    """Cut short, the file either will not open (30%) or opens with some tables intact (70%): read-only and
    writing commands alike exit 1 with the cause in one line, and a write refused leaves the file as it was."""
    home, env = _home_with(copy, tmp_path)
    path = home / "warehouse.duckdb"
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * share)])
    cut = path.read_bytes()
    for argv in (("registry", "list"), ("build", "--start", START, "--end", START)):
        status, stderr = _main(env, monkeypatch, capsys, *argv)
        assert status == 1, stderr[-2000:]
        last = stderr.strip().splitlines()[-1]
        assert last.startswith(f"bestbets {argv[0]}: error: warehouse.duckdb is corrupt: IO Error: Could not read")
        assert f"Restore {path} from a backup, or move it aside and rebuild it" in last
    assert path.read_bytes() == cut


@pytest.mark.slow  # command processes
def test_a_warehouse_held_by_another_process_names_it_and_gives_up_after_the_set_wait(copy, tmp_path):
    home, env = _home_with(copy, tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(home / 'warehouse.duckdb')!r}); "
            "print('held', flush=True); time.sleep(120)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        began = time.monotonic()
        result = run_cli(home, "registry", "list", env={**env, "BESTBETS_LOCK_TIMEOUT_S": "3"}, timeout=120)
        waited = time.monotonic() - began
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    assert f"warehouse.duckdb is held by process {holder.pid}, waiting up to 3 s (BESTBETS_LOCK_TIMEOUT_S)" in (
        result.stderr
    )
    assert f"bestbets registry: error: warehouse.duckdb is held by process {holder.pid}; gave up after 3 s" in (
        result.stderr
    )
    assert waited < 60
    again = run_cli(home, "registry", "list", env=env, timeout=120)  # released: the command works
    assert again.returncode == 0, again.stderr[-2000:]


def test_a_write_while_a_bestbets_command_holds_the_home_is_refused_naming_it(copy, tmp_path):
    """A run started by Dagster's own CLI or the UI writes through the same warehouse resource: while a
    bestbets command holds the home's writer lock, its writes are refused and nothing is written."""
    home, _ = _home_with(copy, tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import pathlib, time; from bestbets_dagster.home_lock import writing\n"
            f"with writing(pathlib.Path({str(home)!r}), 'build'):\n    print('held', flush=True); time.sleep(120)",
        ],
        cwd=settings.PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    warehouse = DuckDBWarehouse(path=str(home / "warehouse.duckdb"))
    before = warehouse.read("player_game_logs", START, START)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(Exception, match=rf"another bestbets command is writing to {home} \(pid {holder.pid}: "):
            warehouse.replace_partitions("player_game_logs", before.head(3), START, START)
    finally:
        holder.kill()
        holder.wait()
    pd.testing.assert_frame_equal(warehouse.read("player_game_logs", START, START), before)
    assert warehouse.replace_partitions("player_game_logs", before, START, START) == len(before)  # released


def test_runs_left_by_killed_processes_are_marked_failed_whoever_started_them(tmp_path, monkeypatch):
    """A run of a plain Dagster materialization (no bestbets tags) killed while STARTED, and a run created
    and never started: both are marked failed by the next bestbets command's sweep."""
    from dagster import DagsterRun, DagsterRunStatus

    from bestbets_dagster.commands import session

    home = tmp_path / "home"
    (home / "dagster").mkdir(parents=True)
    (home / "dagster" / "dagster.yaml").write_text(settings.INSTANCE_CONFIG)
    script = (
        "import time\nfrom dagster import DagsterInstance, asset, materialize\n"
        "@asset\ndef slow():\n    time.sleep(120)\n"
        "materialize([slow], instance=DagsterInstance.get())\n"
    )
    runner = subprocess.Popen([sys.executable, "-c", script], env=subprocess_env(home))
    deadline = time.monotonic() + 120
    with home_instance(home) as instance:
        while not instance.get_runs():
            assert time.monotonic() < deadline and runner.poll() is None
            time.sleep(0.5)
        [started] = instance.get_runs()
        while instance.get_run_by_id(started.run_id).status != DagsterRunStatus.STARTED:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        runner.kill()
        runner.wait()
        never = instance.add_run(DagsterRun(job_name="build_job", run_id="0" * 8 + "-never-started"))
        assert session.fail_dead_runs(instance) == [started.run_id]  # the unstarted run is in its grace period
        monkeypatch.setattr(session, "NOT_STARTED_GRACE", dt.timedelta(0))
        assert session.fail_dead_runs(instance) == [never.run_id]
        assert instance.get_run_by_id(started.run_id).status == DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(never.run_id).status == DagsterRunStatus.FAILURE


HOSTILE = "2025-11-15'; DROP TABLE player_game_logs; --"


@pytest.mark.parametrize(
    "argv, status, message",
    [
        (["picks", "--date", HOSTILE], 2, "Invalid value for '--date': not a date (YYYY-MM-DD)"),
        (["build", "--start", "../../etc/passwd", "--end", END], 2, "Invalid value for '--start': not a date"),
        (["retrain", "--family", HOSTILE, "--week", "2025-11-17"], 1, "unknown family 2025-11-15'; DROP TABLE"),
        (
            ["family", "add", "--feature-set", "../../v9", "--loss", "MAE"],
            2,
            "Invalid value for '--feature-set': '../../v9' is not one of",
        ),
        (["family", "add", "--feature-set", "v9", "--loss", HOSTILE], 1, "family add: "),
        (["family", "disable", "../../../etc/passwd"], 1, "unknown family ../../../etc/passwd"),
        (["build", "--start", START, "--end", START, "--data-dir", "/etc/../etc"], 1, "bestbets build: error: /etc"),
    ],
    ids=["sql date", "path date", "sql family", "path feature set", "sql loss", "path family", "foreign data dir"],
)
def test_hostile_command_arguments_are_refused_and_change_nothing(
    copy, tmp_path, argv, status, message, monkeypatch, capsys
):
    """SQL and path-traversal strings in the command's arguments: a usage error or a refusal naming the
    argument, and every stored table as it was."""
    home, env = _home_with(copy, tmp_path)
    warehouse = DuckDBWarehouse(path=str(home / "warehouse.duckdb"))
    before = _stored(warehouse)
    code, stderr = _main(env, monkeypatch, capsys, *argv)
    assert code == status, stderr[-2000:]
    assert message in stderr
    for table, rows in _stored(warehouse).items():
        pd.testing.assert_frame_equal(rows, before[table], obj=table)


@pytest.mark.slow  # command processes
def test_a_truncated_box_score_file_fails_the_run_that_reads_it_not_every_command(copy, tmp_path):
    """The season's .csv.gz cut half-way: the definitions still load (they read no data file), a command
    that reads no box score works, and `build` exits 1 naming the file."""
    home, env = _home_with(copy, tmp_path)
    data = Path(env["BESTBETS_DATA_DIR"])
    _truncate(data / PLAYERS)
    listed = run_cli(home, "registry", "list", env=env, timeout=300)
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert "player_game_logs_2025-26.csv.gz" not in listed.stderr
    before = _stored(DuckDBWarehouse(path=str(home / "warehouse.duckdb")))
    built = run_cli(home, "build", "--start", START, "--end", END, env=env, timeout=300)
    assert built.returncode == 1
    assert (
        built.stderr.strip()
        .splitlines()[-1]
        .startswith("bestbets build: error: " + str(data / "box_scores" / "player_game_logs_2025-26.csv.gz"))
    ), built.stderr[-1500:]
    for table, rows in _stored(DuckDBWarehouse(path=str(home / "warehouse.duckdb"))).items():
        pd.testing.assert_frame_equal(rows, before[table], obj=table)
