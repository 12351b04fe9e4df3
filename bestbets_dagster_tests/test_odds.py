import gzip
import json

import pandas as pd
import pytest

from bestbets_dagster.ingest.errors import IngestError
from bestbets_dagster.ingest.odds import (
    american_to_probability,
    load_offers,
    main_lines,
    read_flat_snapshot,
    read_v4_json,
)
from bestbets_dagster_tests.conftest import raw_points_offers

LAKERS_WARRIORS = "df4b9f35b66ef20724b6b3e81081ddfd"  # tipped off 2025-10-22T02:00:00Z


@pytest.fixture(scope="module")
def offers(data_dir):
    return load_offers(data_dir)


def test_a_0200z_tipoff_lands_on_the_previous_eastern_date(offers, real_player_logs):
    event = offers[offers["event_id"] == LAKERS_WARRIORS]
    assert event["commence_time"].iloc[0] == pd.Timestamp("2025-10-22T02:00:00Z")
    assert set(event["game_date"]) == {pd.Timestamp("2025-10-21")}
    assert (event["home_team_abbr"].iloc[0], event["away_team_abbr"].iloc[0]) == ("LAL", "GSW")
    logs = real_player_logs[real_player_logs["season"] == "2025-26"]
    box = logs[(logs["team_abbr"] == "LAL") & (logs["opp"] == "GSW")]
    assert box["game_date"].min() == pd.Timestamp("2025-10-21")  # the box score's own (Eastern) date


def test_only_player_points_are_kept_and_both_folders_count_once(offers, data_dir):
    frames = [read_flat_snapshot(p) for p in sorted((data_dir / "odds_api_snapshots").glob("*.csv.gz"))]
    flat = pd.concat([f for f in frames if not f.empty])
    raw_flat = sum(
        int((pd.read_csv(p, usecols=["market"])["market"] == "player_points").sum())
        for p in sorted((data_dir / "odds_api_snapshots").glob("*.csv.gz"))
    )
    assert len(flat) == raw_flat  # every player_points row of the snapshots; other markets ignored
    # The five sportsbook v4 JSON days repeat the CSV snapshots of 2025-10-21..25: they add nothing;
    # the DFS files (player_props_dfs_*) add their own lines.
    sportsbooks = offers[~offers["source_file"].str.startswith("player_props_dfs_")]
    assert len(sportsbooks) == len(flat)
    assert set(offers["bookmaker"]) - set(flat["bookmaker"]) == {"prizepicks", "underdog"}
    raw = raw_points_offers(data_dir)
    assert offers.drop_duplicates(["event_id", "book_player_name"]).shape[0] == len(
        raw.drop_duplicates(["event_id", "player"])
    )


def test_a_date_range_reads_only_the_files_that_can_hold_it(offers, data_dir):
    day = pd.Timestamp("2025-11-15")
    ranged = load_offers(data_dir, day.date(), day.date())
    assert set(ranged["source_file"]) < set(offers["source_file"])  # fewer files read ...
    assert len(ranged["source_file"].unique()) == 9  # 2025-11-08..16
    key = ["event_id", "bookmaker", "book_player_name", "line", "snapshot_time"]
    in_range = lambda df: df[df["game_date"] == day].sort_values(key).reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(in_range(ranged), in_range(offers))  # ... and not one line lost


def test_main_line_is_the_one_closest_to_even(data_dir):
    raw = pd.read_csv(data_dir / "odds_api_snapshots" / "raw_20251022_170000.csv.gz")
    miller = raw[
        (raw["player"] == "Brandon Miller") & (raw["bookmaker"] == "bovada") & (raw["market"] == "player_points")
    ]
    assert len(miller) >= 3  # Bovada lists alternates
    gap = (american_to_probability(miller["over_odds"]) - american_to_probability(miller["under_odds"])).abs()
    expected = miller.loc[gap.idxmin(), "line"]
    offers = read_flat_snapshot(data_dir / "odds_api_snapshots" / "raw_20251022_170000.csv.gz")
    main = main_lines(offers)
    chosen = main[(main["book_player_name"] == "Brandon Miller") & (main["bookmaker"] == "bovada")]
    assert chosen["line"].tolist() == [expected]
    assert chosen["n_lines_offered"].item() == len(miller)


def test_american_odds_to_probability():
    probs = american_to_probability(pd.Series([-110.0, 150.0, None]))
    assert probs[0] == pytest.approx(110 / 210) and probs[1] == pytest.approx(0.4) and pd.isna(probs[2])


@pytest.fixture(scope="module")
def v4_payload(data_dir):
    with gzip.open(data_dir / "odds_api_v4" / "player_props_2025-10-21.json.gz", "rt") as fh:
        return json.load(fh)


def _write(path, payload):
    path.write_text(json.dumps(payload))
    return path


def test_v4_json_in_all_three_shapes_gives_the_same_lines(tmp_path, v4_payload, data_dir):
    wrapped = read_v4_json(data_dir / "odds_api_v4" / "player_props_2025-10-21.json.gz")
    bare = read_v4_json(_write(tmp_path / "bare.json", v4_payload["data"]))
    single = read_v4_json(_write(tmp_path / "single.json", v4_payload["data"][1]))
    columns = ["event_id", "bookmaker", "book_player_name", "line", "over_price", "under_price"]
    key = ["event_id", "bookmaker", "book_player_name", "line"]
    assert len(wrapped) > 100
    pd.testing.assert_frame_equal(
        wrapped[columns].sort_values(key).reset_index(drop=True), bare[columns].sort_values(key).reset_index(drop=True)
    )
    assert set(single["event_id"]) == {v4_payload["data"][1]["id"]}
    # The JSON and the CSV snapshot of that day hold the same lines.
    flat = read_flat_snapshot(data_dir / "odds_api_snapshots" / "raw_20251021_170000.csv.gz")
    merged = wrapped.merge(flat, on=key, suffixes=("", "_csv"))
    assert len(merged) == len(wrapped) == len(flat)
    assert (merged["over_price"].fillna(0) == merged["over_price_csv"].fillna(0)).all()


def test_json_that_is_not_event_odds_names_the_file(tmp_path):
    path = _write(tmp_path / "player_props_bad.json", {"message": "quota exceeded"})
    with pytest.raises(IngestError, match=r"player_props_bad.json: is not an Odds API v4 event-odds response"):
        read_v4_json(path)


def test_an_event_without_bookmakers_names_the_event(tmp_path, v4_payload):
    event = {k: v for k, v in v4_payload["data"][0].items() if k != "bookmakers"}
    path = _write(tmp_path / "x.json", [event])
    with pytest.raises(
        IngestError, match=rf"x.json, event {event['id']}: is not an Odds API v4 event: missing \['bookmakers'\]"
    ):
        read_v4_json(path)


def test_a_json_line_that_is_not_a_number_names_the_outcome(tmp_path, v4_payload):
    payload = json.loads(json.dumps(v4_payload))
    market = next(m for b in payload["data"][0]["bookmakers"] for m in b["markets"] if m["key"] == "player_points")
    market["outcomes"][0]["point"] = "twenty"
    path = _write(tmp_path / "y.json", payload)
    with pytest.raises(IngestError, match=r"y.json, event .* outcome 0: column line is not a number: 'twenty'"):
        read_v4_json(path)


@pytest.fixture()
def snapshot_csv(tmp_path, data_dir):
    raw = pd.read_csv(data_dir / "odds_api_snapshots" / "raw_20251021_170000.csv.gz", dtype=str)
    path = tmp_path / "raw_20251021_170000.csv"
    raw.to_csv(path, index=False)
    return path, raw


def test_snapshot_missing_a_column_names_the_file(snapshot_csv):
    path, raw = snapshot_csv
    raw.drop(columns=["game_time"]).to_csv(path, index=False)
    with pytest.raises(IngestError, match=r"raw_20251021_170000.csv: missing required column\(s\) \['game_time'\]"):
        read_flat_snapshot(path)


def test_snapshot_line_that_is_not_a_number_names_the_line(snapshot_csv):
    path, raw = snapshot_csv
    row = raw.index[raw["market"] == "player_points"][5]
    raw.loc[row, "line"] = "O 22.5"
    raw.to_csv(path, index=False)
    with pytest.raises(
        IngestError, match=rf"raw_20251021_170000.csv, line {row + 2}: column line is not a number: 'O 22.5'"
    ):
        read_flat_snapshot(path)


def test_snapshot_duplicated_rows_are_an_error(snapshot_csv):
    path, raw = snapshot_csv
    row = raw.index[raw["market"] == "player_points"][0]
    pd.concat([raw, raw.loc[[row]]]).to_csv(path, index=False)
    with pytest.raises(IngestError, match=rf"duplicated line .*line {row + 2}, line {len(raw) + 2}"):
        read_flat_snapshot(path)


def test_snapshot_with_an_unknown_team_names_the_event(snapshot_csv):
    path, raw = snapshot_csv
    raw.loc[raw["market"] == "player_points", "game"] = "Springfield Isotopes @ Oklahoma City Thunder"
    raw.to_csv(path, index=False)
    with pytest.raises(IngestError, match="unknown NBA team 'Springfield Isotopes'"):
        read_flat_snapshot(path)


def test_a_snapshot_whose_sides_disagree_with_the_events_other_snapshots_is_set_aside_before_box_scores():
    """Tonight's slate has no box score yet: the event's usual orientation (most rows) is kept, the file
    that has it the other way round is set aside and named."""
    from bestbets_dagster.ingest.lines import set_aside_swapped_sides

    def rows(file, home, away, n):
        return pd.DataFrame(
            {
                "game_date": ["2025-12-08"] * n,
                "event_id": ["e1"] * n,
                "home_team_abbr": [home] * n,
                "away_team_abbr": [away] * n,
                "source_file": [file] * n,
            }
        )

    main = pd.concat(
        [rows("raw_20251208_150000.csv", "DEN", "LAL", 3), rows("raw_20251208_170000.csv", "LAL", "DEN", 2)],
        ignore_index=True,
    )
    logs = pd.DataFrame(columns=["game_date", "game_id", "is_home", "team_abbr", "opp"]).astype({"is_home": bool})
    kept, aside = set_aside_swapped_sides(main, logs)
    assert set(kept["source_file"]) == {"raw_20251208_150000.csv"} and len(kept) == 3
    assert aside == [
        {
            "event_id": "e1",
            "file": "raw_20251208_170000.csv",
            "game_date": "2025-12-08",
            "home": "LAL",
            "away": "DEN",
            "reason": "the event's other snapshots have these teams the other way round",
        }
    ]
