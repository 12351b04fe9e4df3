"""The downloaders against local servers that answer like The Odds API v4 and NBA.com, serving the real
recorded data of ../shared/data/nba (fake_sources.py): listings, odds, usage headers, a bad key, 429 and
5xx answered again, an event gone between the listing and its odds, a day's box scores round-tripped
into the files the ingest reads, and the key kept out of every message, log and file."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from bestbets_dagster.acquisition.nba_stats import NbaStatsClient, NotFinal, day_paths, download_day, write_day
from bestbets_dagster.acquisition.odds_api import (
    OddsApiClient,
    OddsApiKeyError,
    planned_credits,
    take_snapshot,
    write_snapshot,
)
from bestbets_dagster.ingest.box_scores import read_player_file, read_team_file
from bestbets_dagster.ingest.odds import read_flat_snapshot, read_v4_json
from bestbets_dagster_tests.conftest import DATA_DIR
from bestbets_dagster_tests.fake_sources import FakeNbaStats, FakeOddsApi

KEY = "test-key-5f0c2b"  # a key no log, message or file may show
DAY = dt.date(2025, 11, 18)  # six games; the recorded snapshot is 17:00 UTC
MORNING = dt.datetime(2025, 11, 18, 15, 0, tzinfo=dt.timezone.utc)  # 10:00 US Eastern
FAST = {"retry_wait": 0.01}


@pytest.fixture()
def server():
    server = HTTPServer()
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture()
def odds(server):
    fake = FakeOddsApi(server, DATA_DIR, KEY)
    fake.now = MORNING
    return fake


@pytest.fixture()
def nba(server):
    return FakeNbaStats(server, DATA_DIR)


def _recorded_points_lines(day: dt.date) -> pd.DataFrame:
    (path,) = sorted((DATA_DIR / "odds_api_snapshots").glob(f"raw_{day:%Y%m%d}_*.csv.gz"))
    return read_flat_snapshot(path)


def test_a_live_snapshot_takes_every_event_of_the_day_with_its_lines_and_the_usage_headers(odds, tmp_path):
    with OddsApiClient(KEY, odds.url, **FAST) as client:
        snapshot = take_snapshot(client, DAY, MORNING)
        usage = client.usage
    assert (snapshot.listed, len(snapshot.events), snapshot.skipped) == (6, 6, [])
    # 6 events x player_points x (us, us_dfs) + the game markets of all of them in one call (3 x us)
    assert usage.spent == 6 * 2 + 3 == planned_credits(6, historical=False)
    assert (usage.remaining, usage.used, usage.requests) == (20_000 - 15, 15, 1 + 6 + 1)
    path = write_snapshot(tmp_path, snapshot)
    assert path.name == "odds_20251118_150000.json.gz"
    with gzip.open(path, "rt") as fh:
        assert json.load(fh)["timestamp"] == "2025-11-18T15:00:00Z"
    ours = read_v4_json(path)
    recorded = _recorded_points_lines(DAY)
    key = ["event_id", "bookmaker", "book_player_name", "line", "over_price", "under_price"]
    numbers = {"line": float, "over_price": float, "under_price": float}
    pd.testing.assert_frame_equal(
        ours[key].astype(numbers).sort_values(key).reset_index(drop=True),
        recorded[key].astype(numbers).sort_values(key).reset_index(drop=True),
    )
    assert (ours["snapshot_time"] == pd.Timestamp("2025-11-18T15:00:00Z")).all()


def test_a_snapshot_file_is_never_overwritten_and_leaves_no_temporary_file(odds, tmp_path):
    with OddsApiClient(KEY, odds.url, **FAST) as client:
        snapshot = take_snapshot(client, DAY, MORNING)
    path = write_snapshot(tmp_path, snapshot)
    before = path.read_bytes()
    snapshot.events = snapshot.events[:1]
    with pytest.raises(FileExistsError):
        write_snapshot(tmp_path, snapshot)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_a_past_date_is_taken_from_the_historical_endpoints_at_ten_times_the_credits(odds):
    at = dt.datetime(2025, 11, 18, 12, 2, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    with OddsApiClient(KEY, odds.url, **FAST) as client:
        snapshot = take_snapshot(client, DAY, MORNING, at=at)
        usage = client.usage
    assert snapshot.historical and snapshot.taken_at == dt.datetime(2025, 11, 18, 17, 0, tzinfo=dt.timezone.utc)
    assert usage.spent == 1 + 10 * (6 * 2 + 3) == planned_credits(6, historical=True) == 151
    paths = {r.path for r in odds.requests}
    assert "/v4/historical/sports/basketball_nba/events" in paths
    assert all(r.args["date"] == "2025-11-18T17:02:00Z" for r in odds.requests)


def test_a_bad_key_is_one_line_naming_the_variable_and_never_the_key(odds):
    with OddsApiClient("not-the-key", odds.url, **FAST) as client, pytest.raises(OddsApiKeyError) as caught:
        take_snapshot(client, DAY, MORNING)
    message = str(caught.value)
    assert message == "The Odds API refused the key in ODDS_API_KEY (INVALID_KEY): check the key and its credits"
    assert "not-the-key" not in message and "\n" not in message
    with pytest.raises(OddsApiKeyError, match="the Odds API key is not set: export ODDS_API_KEY"):
        OddsApiClient(None, odds.url)


def test_429_and_5xx_are_answered_again_after_a_backoff(odds):
    odds.fail("/events/", 429, 500)  # the first event's odds: rate-limited, then a server error, then fine
    odds.fail("/sports/basketball_nba/odds", 502)
    with OddsApiClient(KEY, odds.url, **FAST) as client:
        snapshot = take_snapshot(client, DAY, MORNING)
    assert len(snapshot.events) == 6
    statuses = [r.path for r in odds.requests]
    assert len(statuses) == 1 + 6 + 2 + 1 + 1  # the listing, 6 events and 2 retries, the game markets and 1 retry


def test_a_source_that_keeps_failing_fails_naming_the_status_and_not_the_key(odds):
    odds.fail("/sports/basketball_nba/events", *([503] * 5))
    with OddsApiClient(KEY, odds.url, attempts=5, retry_wait=0.01) as client, pytest.raises(Exception) as caught:
        take_snapshot(client, DAY, MORNING)
    assert "HTTP 503" in str(caught.value) and KEY not in str(caught.value)


def test_an_event_gone_between_the_listing_and_its_odds_is_skipped_with_a_warning(odds, caplog):
    gone = "12aebc1081f4713b9ad2705d5364df58"  # Golden State @ Orlando
    odds.gone.add(gone)
    log = logging.getLogger("test")
    with OddsApiClient(KEY, odds.url, **FAST) as client, caplog.at_level(logging.WARNING):
        snapshot = take_snapshot(client, DAY, MORNING, log=log)
    assert snapshot.skipped == [gone] and len(snapshot.events) == 5
    assert f"event {gone} (Golden State Warriors @ Orlando Magic) was listed but has no odds any more" in caplog.text


def test_the_key_never_reaches_a_log_line(odds, caplog):
    with caplog.at_level(logging.DEBUG), OddsApiClient(KEY, odds.url, **FAST) as client:
        take_snapshot(client, DAY, MORNING)
    assert "apiKey=***" in caplog.text  # httpx logged the requests, redacted
    assert KEY not in caplog.text


def test_a_days_box_scores_round_trip_into_the_files_the_ingest_reads(nba, tmp_path):
    with NbaStatsClient(nba.url, **FAST) as client:
        downloaded = download_day(client, DAY)
    assert (len(downloaded.games), len(downloaded.players), len(downloaded.teams)) == (6, 160, 12)
    players, teams = write_day(tmp_path, downloaded)
    assert (players, teams) == day_paths(tmp_path, DAY)
    season = DATA_DIR / "box_scores" / "player_game_logs_2025-26.csv.gz"
    team_season = DATA_DIR / "team_game_logs" / "team_game_logs_2025-26.csv.gz"
    for ours, theirs, key in (
        (read_player_file(players), read_player_file(season, DAY, DAY), ["game_id", "person_id"]),
        (read_team_file(teams), read_team_file(team_season, DAY, DAY), ["game_id", "team_id"]),
    ):
        columns = [c for c in ours.columns if c not in ("source_file", "_row")]
        pd.testing.assert_frame_equal(
            ours[columns].sort_values(key).reset_index(drop=True),
            theirs[columns].sort_values(key).reset_index(drop=True),
            check_dtype=False,
        )


def test_the_team_records_are_the_game_logs_unbeaten_teams_included(nba, tmp_path):
    """w, l and w_pct of the season's second night (1-0 and 0-1 teams) as the team game logs have them."""
    day = dt.date(2025, 10, 22)
    with NbaStatsClient(nba.url, **FAST) as client:
        _, teams = write_day(tmp_path, download_day(client, day))
    ours = pd.read_csv(teams).sort_values("team_id")
    theirs = pd.read_csv(DATA_DIR / "team_game_logs" / "team_game_logs_2025-26.csv.gz")
    theirs = theirs[theirs["game_date"] == str(day)].sort_values("team_id")
    assert (ours["w_pct"] == 1.0).sum() > 0
    pd.testing.assert_frame_equal(
        ours[["team_id", "w", "l", "w_pct"]].reset_index(drop=True),
        theirs[["team_id", "w", "l", "w_pct"]].reset_index(drop=True),
    )


def test_a_date_with_a_game_not_final_is_not_written(nba, tmp_path):
    nba.not_final.add("0022500251")
    with NbaStatsClient(nba.url, **FAST) as client, pytest.raises(NotFinal) as caught:
        download_day(client, DAY)
    assert str(caught.value).startswith("1 of 6 games of 2025-11-18 are not final yet (0022500251 ")
    assert not any(p.exists() for p in day_paths(tmp_path, DAY))


def test_nba_com_answering_500_is_asked_again(nba):
    nba.fail("/stats/boxscoretraditionalv3", 500, 503)
    with NbaStatsClient(nba.url, **FAST) as client:
        downloaded = download_day(client, DAY)
    assert len(downloaded.players) == 160
    assert len(nba.requests) == 1 + 6 + 2
