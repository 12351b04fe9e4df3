"""Local stand-ins for The Odds API v4 and NBA.com's stats endpoints, serving the real recorded data of
../shared/data/nba in each API's published format (pytest-httpserver, so the tests and a rehearsal run
the same server; no network).

- `FakeOddsApi`: the day's events and each event's bookmakers, rebuilt from the shared snapshots
  (`odds_api_v4/*.json.gz` where the day has one, else the flat `odds_api_snapshots/raw_*.csv.gz` turned
  back into event objects). The live endpoints answer as of the fake's clock (`now`, or the project's
  clock), the historical ones as of their `date`. `move(...)` changes one line from a given moment (a
  line moving between two snapshots); `fail(path, 429, 500)` answers the next calls of a path with those
  statuses; `gone` lists events whose odds answer 404. Usage headers are kept as the API does: 1 credit
  per market returned per region (10x historically), the listing free live and 1 historically.
- `FakeNbaStats`: scoreboardv3 and boxscoretraditionalv3 of a date from the shared box scores; games in
  `not_final` answer as in progress.

Run as a program it serves both for a rehearsal of a past day (docs/daily-cycle.md, "Rehearsing a day"):
    python -m bestbets_dagster_tests.fake_sources --port 8765 --key rehearsal
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bestbets_dagster import settings, timeutil
from bestbets_dagster.timeutil import utc_instant

DFS_BOOKS = frozenset({"prizepicks", "underdog", "pick6", "betr_us_dfs"})
TEAM_NAMES = {
    "ATL": "Atlanta Hawks", "BOS": "Boston Celtics", "BKN": "Brooklyn Nets", "CHA": "Charlotte Hornets",
    "CHI": "Chicago Bulls", "CLE": "Cleveland Cavaliers", "DAL": "Dallas Mavericks", "DEN": "Denver Nuggets",
    "DET": "Detroit Pistons", "GSW": "Golden State Warriors", "HOU": "Houston Rockets", "IND": "Indiana Pacers",
    "LAC": "LA Clippers", "LAL": "Los Angeles Lakers", "MEM": "Memphis Grizzlies", "MIA": "Miami Heat",
    "MIL": "Milwaukee Bucks", "MIN": "Minnesota Timberwolves", "NOP": "New Orleans Pelicans",
    "NYK": "New York Knicks", "OKC": "Oklahoma City Thunder", "ORL": "Orlando Magic",
    "PHI": "Philadelphia 76ers", "PHX": "Phoenix Suns", "POR": "Portland Trail Blazers",
    "SAC": "Sacramento Kings", "SAS": "San Antonio Spurs", "TOR": "Toronto Raptors", "UTA": "Utah Jazz",
    "WAS": "Washington Wizards",
}  # fmt: skip


# The fake's own request log would print the query string, key included: it is the API's side, not ours.
logging.getLogger("werkzeug").setLevel(logging.WARNING)


def _z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def recorded_events(data_dir: Path, day: dt.date) -> list[dict]:
    """The events of one recorded daily snapshot with their bookmakers, as the v4 API shapes them: the
    v4 file of the day when there is one, else the flat CSV of the day rebuilt into events."""
    v4 = Path(data_dir) / "odds_api_v4" / f"player_props_{day.isoformat()}.json.gz"
    if v4.exists():
        with gzip.open(v4, "rt", encoding="utf-8") as fh:
            return json.load(fh)["data"]
    flat = sorted((Path(data_dir) / "odds_api_snapshots").glob(f"raw_{day:%Y%m%d}_*.csv*"))
    if not flat:
        return []
    rows = pd.read_csv(flat[0], dtype=str)
    stamp = re.search(r"(\d{8})_(\d{6})", flat[0].name).groups()
    last_update = _z(dt.datetime.strptime("".join(stamp), "%Y%m%d%H%M%S").replace(tzinfo=dt.timezone.utc))
    events = []
    for event_id, event_rows in rows.groupby("event_id", sort=False):
        away, home = (s.strip() for s in event_rows["game"].iloc[0].split(" @ ", 1))
        books = []
        for book, book_rows in event_rows.groupby("bookmaker", sort=False):
            markets = []
            for market, market_rows in book_rows.groupby("market", sort=False):
                outcomes = []
                for r in market_rows.itertuples(index=False):
                    for side, price in (("Over", r.over_odds), ("Under", r.under_odds)):
                        if isinstance(price, str) and price.strip():
                            outcomes.append(
                                {
                                    "name": side,
                                    "description": r.player,
                                    "price": int(float(price)),
                                    "point": float(r.line),
                                }
                            )
                markets.append({"key": market, "last_update": last_update, "outcomes": outcomes})
            books.append({"key": book, "title": book, "last_update": last_update, "markets": markets})
        events.append(
            {
                "id": event_id,
                "sport_key": "basketball_nba",
                "sport_title": "NBA",
                "commence_time": event_rows["game_time"].iloc[0],
                "home_team": home,
                "away_team": away,
                "bookmakers": books,
            }
        )
    return events


class FakeOddsApi:
    """The Odds API v4 on a local server (see the module's docstring)."""

    def __init__(self, server: HTTPServer, data_dir: Path, api_key: str, credits: int = 20_000):
        self.server, self.data_dir, self.api_key = server, Path(data_dir), api_key
        self.remaining, self.used = credits, 0
        self.now: dt.datetime | None = None  # None: the project's clock (BESTBETS_TODAY)
        self.gone: set[str] = set()
        self.game_markets: dict[str, list[dict]] = {}  # event id -> bookmakers with h2h/spreads/totals
        self.requests: list[Request] = []
        self._moves: list[tuple[dt.datetime, str, str, str, float, int | None, int | None]] = []
        self._shifts: list[tuple[dt.datetime, float, frozenset[str]]] = []
        self._failures: dict[str, list[int]] = defaultdict(list)
        self._days: dict[dt.date, list[dict]] = {}
        server.expect_request(re.compile(r"^/v4/.*")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    # What a test changes -------------------------------------------------------------------------
    def move(self, at: dt.datetime, event_id: str, book: str, player: str, line: float, over=None, under=None):
        """From `at` on, `book` quotes `player`'s points at `line` (and these prices, when given)."""
        self._moves.append((at, event_id, book, player, line, over, under))

    def shift(self, at: dt.datetime, points: float, event_ids: Iterable[str]) -> None:
        """From `at` on, every book quotes every player of these events `points` higher (the market moving
        after a decision)."""
        self._shifts.append((at, points, frozenset(event_ids)))

    def fail(self, path_part: str, *statuses: int) -> None:
        """The next calls whose path contains path_part answer these statuses, in order."""
        self._failures[path_part].extend(statuses)

    # The state of the books at a moment ------------------------------------------------------------
    def _day_events(self, day: dt.date) -> list[dict]:
        if day not in self._days:
            self._days[day] = recorded_events(self.data_dir, day)
        return self._days[day]

    def _events_at(self, moment: dt.datetime) -> list[dict]:
        """Events of the moment's Eastern date and the next (what a listing shows), with the moves made
        by then applied, that have not finished (3 hours after tip-off)."""
        today = timeutil.eastern_game_date(moment)
        events = []
        for day in (today, today + dt.timedelta(days=1)):
            for event in self._day_events(day):
                if utc_instant(event["commence_time"]) + dt.timedelta(hours=3) > moment:
                    events.append(self._moved(event, moment))
        return events

    def _moved(self, event: dict, moment: dt.datetime) -> dict:
        moves = [m for m in self._moves if m[1] == event["id"] and m[0] <= moment]
        shift = sum(points for at, points, ids in self._shifts if event["id"] in ids and at <= moment)
        if not moves and not shift:
            return event
        event = json.loads(json.dumps(event))
        for _, _, book, player, line, over, under in sorted(moves, key=lambda m: m[0]):
            for bookmaker in event["bookmakers"]:
                if bookmaker["key"] != book:
                    continue
                for market in bookmaker["markets"]:
                    if market["key"] != "player_points":
                        continue
                    for outcome in market["outcomes"]:
                        if outcome["description"] == player:
                            outcome["point"] = line
                            price = over if outcome["name"] == "Over" else under
                            outcome["price"] = price if price is not None else outcome["price"]
                            market["last_update"] = _z(moment)
        for bookmaker in event["bookmakers"]:  # the market's moves on top of the single lines'
            for market in bookmaker["markets"]:
                if market["key"] == "player_points" and shift:
                    for outcome in market["outcomes"]:
                        outcome["point"] = outcome["point"] + shift
        return event

    def _clock(self) -> dt.datetime:
        return self.now or timeutil.now_utc()

    # The HTTP side ---------------------------------------------------------------------------------
    def _json(self, body, status: int = 200, cost: int = 0) -> Response:
        if status == 200:
            self.remaining -= cost
            self.used += cost
        headers = {
            "x-requests-remaining": str(self.remaining),
            "x-requests-used": str(self.used),
            "x-requests-last": str(cost if status == 200 else 0),
        }
        return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")

    def handle(self, request: Request) -> Response:
        self.requests.append(request)
        path = request.path
        for part, statuses in self._failures.items():
            if part in path and statuses:
                status = statuses.pop(0)
                return self._json({"message": f"fake {status}", "error_code": "FAKE"}, status)
        key = request.args.get("apiKey")
        if not key:
            return self._json({"message": "API key is missing", "error_code": "MISSING_KEY"}, 401)
        if key != self.api_key:
            return self._json({"message": "API key is not valid", "error_code": "INVALID_KEY"}, 401)
        historical = path.startswith("/v4/historical/")
        route = path.removeprefix("/v4/historical").removeprefix("/v4")
        moment = utc_instant(request.args["date"]) if historical else self._clock()
        multiplier = 10 if historical else 1
        regions = [r for r in request.args.get("regions", "").split(",") if r]
        markets = [m for m in request.args.get("markets", "").split(",") if m]
        events = self._events_at(moment)
        if route == "/sports/basketball_nba/events":
            body = [{k: v for k, v in e.items() if k != "bookmakers"} for e in events]
            return self._wrap(body, moment, historical, cost=1 if historical else 0)
        found = re.fullmatch(r"/sports/basketball_nba/events/([^/]+)/odds", route)
        if found:
            event = next((e for e in events if e["id"] == found.group(1)), None)
            if event is None or event["id"] in self.gone:
                message = "Event not found. The event may have expired or the event id is invalid."
                return self._json({"message": message, "error_code": "EVENT_NOT_FOUND"}, 404)
            books = self._books(event["bookmakers"], regions, markets)
            returned = {m["key"] for b in books for m in b["markets"]}
            body = {**{k: v for k, v in event.items() if k != "bookmakers"}, "bookmakers": books}
            return self._wrap(body, moment, historical, cost=multiplier * len(returned) * len(regions))
        if route == "/sports/basketball_nba/odds":
            wanted = set(request.args.get("eventIds", "").split(","))
            chosen = [e for e in events if e["id"] in wanted or not wanted - {""}]
            body = [
                {
                    **{k: v for k, v in e.items() if k != "bookmakers"},
                    "bookmakers": self._books(self.game_markets.get(e["id"], []), regions, markets),
                }
                for e in chosen
            ]
            return self._wrap(body, moment, historical, cost=multiplier * len(markets) * len(regions) if body else 0)
        return self._json({"message": f"unknown path {path}", "error_code": "NOT_FOUND"}, 404)

    def _wrap(self, body, moment: dt.datetime, historical: bool, cost: int) -> Response:
        if not historical:
            return self._json(body, cost=cost)
        # The historical endpoints answer the snapshot at or before `date` (5-minute steps since 2022).
        stamp = moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)
        wrapper = {
            "timestamp": _z(stamp),
            "previous_timestamp": _z(stamp - dt.timedelta(minutes=5)),
            "next_timestamp": _z(stamp + dt.timedelta(minutes=5)),
            "data": body,
        }
        return self._json(wrapper, cost=cost)

    @staticmethod
    def _books(bookmakers: list[dict], regions: list[str], markets: list[str]) -> list[dict]:
        chosen = []
        for book in bookmakers:
            region = "us_dfs" if book["key"] in DFS_BOOKS else "us"
            if region not in regions:
                continue
            kept = [m for m in book["markets"] if m["key"] in markets]
            if kept:
                chosen.append({**{k: v for k, v in book.items() if k != "markets"}, "markets": kept})
        return chosen


def _stat_names() -> dict[str, str]:
    from bestbets_dagster.acquisition.nba_stats import _PLAYER_STATS

    return _PLAYER_STATS


class FakeNbaStats:
    """NBA.com's scoreboardv3 and boxscoretraditionalv3 for the dates of the shared box scores."""

    def __init__(self, server: HTTPServer, data_dir: Path):
        self.server, self.data_dir = server, Path(data_dir)
        self.not_final: set[str] = set()
        self.requests: list[Request] = []
        self._failures: dict[str, list[int]] = defaultdict(list)
        self._players = self._read("box_scores")
        self._teams = self._read("team_game_logs")
        server.expect_request(re.compile(r"^/stats/.*")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.server.url_for("/stats").rstrip("/")

    def fail(self, path_part: str, *statuses: int) -> None:
        self._failures[path_part].extend(statuses)

    def _read(self, folder: str) -> pd.DataFrame:
        files = sorted((self.data_dir / folder).glob("*_20??-??.csv.gz"))
        frame = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True)
        frame["game_id"] = frame["game_id"].str.zfill(10)
        return frame

    def handle(self, request: Request) -> Response:
        self.requests.append(request)
        for part, statuses in self._failures.items():
            if part in request.path and statuses:
                return Response("upstream error", status=statuses.pop(0))
        if request.path == "/stats/scoreboardv3":
            return self._respond(self.scoreboard(dt.date.fromisoformat(request.args["GameDate"])))
        if request.path == "/stats/boxscoretraditionalv3":
            return self._respond(self.box_score(request.args["GameID"]))
        return Response(json.dumps({"Message": "An error has occurred."}), status=404)

    @staticmethod
    def _respond(body: dict) -> Response:
        return Response(json.dumps(body), status=200, content_type="application/json")

    def _team(self, team: pd.Series, with_record: bool) -> dict:
        abbr = team["team_abbr"]
        city, _, name = TEAM_NAMES[abbr].rpartition(" ")
        entry = {
            "teamId": int(team["team_id"]),
            "teamCity": city,
            "teamName": name,
            "teamTricode": abbr,
            "teamSlug": name.lower(),
        }
        if with_record:
            entry.update({"wins": int(team["w"]), "losses": int(team["l"]), "score": int(team["pts"])})
        return entry

    def scoreboard(self, day: dt.date) -> dict:
        teams = self._teams[self._teams["game_date"] == day.isoformat()]
        games = []
        for game_id, rows in teams.groupby("game_id", sort=True):
            home = rows[rows["is_home"] == "True"].iloc[0]
            away = rows[rows["is_home"] != "True"].iloc[0]
            final = game_id not in self.not_final
            games.append(
                {
                    "gameId": game_id,
                    "gameCode": f"{day:%Y%m%d}/{away['team_abbr']}{home['team_abbr']}",
                    "gameStatus": 3 if final else 2,
                    "gameStatusText": "Final" if final else "Q4 5:12",
                    "period": 4,
                    "gameClock": "",
                    "gameTimeUTC": f"{day.isoformat()}T23:30:00Z",
                    "gameEt": f"{day.isoformat()}T19:30:00Z",
                    "regulationPeriods": 4,
                    "homeTeam": self._team(home, True),
                    "awayTeam": self._team(away, True),
                }
            )
        return {
            "meta": {"version": 1, "request": "scoreboardv3", "time": _z(dt.datetime.now(dt.timezone.utc))},
            "scoreboard": {
                "gameDate": day.isoformat(),
                "leagueId": "00",
                "leagueName": "National Basketball Association",
                "games": games,
            },  # noqa: E501
        }

    def box_score(self, game_id: str) -> dict:
        players = self._players[self._players["game_id"] == game_id]
        teams = self._teams[self._teams["game_id"] == game_id]
        home_team = teams[teams["is_home"] == "True"].iloc[0]
        away_team = teams[teams["is_home"] != "True"].iloc[0]

        def number(value: str):
            return None if value == "" else (float(value) if "." in value else int(value))

        def side(team: pd.Series, opponent: pd.Series) -> dict:
            entry = self._team(team, False)
            entry["players"] = [
                {
                    "personId": int(p["person_id"]),
                    "firstName": p["player_name"].split(" ", 1)[0],
                    "familyName": p["player_name"].split(" ", 1)[1] if " " in p["player_name"] else "",
                    "nameI": p["player_name"],
                    "playerSlug": p["player_name"].lower().replace(" ", "-"),
                    "position": p["position"],
                    "comment": p["comment"],
                    "jerseyNum": "",
                    "statistics": {
                        "minutes": p["minutes"],
                        **{field: int(p[column]) for field, column in _stat_names().items()},
                        "plusMinusPoints": number(p["plus_minus_points"]),
                    },
                }
                for _, p in players[players["team_id"] == team["team_id"]].iterrows()
            ]
            stats = {
                "minutes": f"{team['min']}:00",
                "fieldGoalsMade": int(team["fgm"]),
                "fieldGoalsAttempted": int(team["fga"]),
                "fieldGoalsPercentage": float(team["fg_pct"]),
                "threePointersMade": int(team["fg3m"]),
                "threePointersAttempted": int(team["fg3a"]),
                "threePointersPercentage": float(team["fg3_pct"]),
                "freeThrowsMade": int(team["ftm"]),
                "freeThrowsAttempted": int(team["fta"]),
                "freeThrowsPercentage": float(team["ft_pct"]),
                "reboundsOffensive": int(team["oreb"]),
                "reboundsDefensive": int(team["dreb"]),
                "reboundsTotal": int(team["reb"]),
                "assists": int(team["ast"]),
                "steals": int(team["stl"]),
                "blocks": int(team["blk"]),
                "turnovers": int(team["tov"]),
                "foulsPersonal": int(team["pf"]),
                "points": int(team["pts"]),
                "plusMinusPoints": float(int(team["pts"]) - int(opponent["pts"])),
            }
            entry["statistics"] = stats
            return entry

        return {
            "meta": {"version": 1, "request": "boxscoretraditionalv3"},
            "boxScoreTraditional": {
                "gameId": game_id,
                "awayTeamId": int(away_team["team_id"]),
                "homeTeamId": int(home_team["team_id"]),
                "homeTeam": side(home_team, away_team),
                "awayTeam": side(away_team, home_team),
            },
        }


def serve(port: int, key: str, data_dir: Path, not_final: Iterable[str] = ()) -> None:
    server = HTTPServer(host="127.0.0.1", port=port)
    odds, nba = FakeOddsApi(server, data_dir, key), FakeNbaStats(server, data_dir)
    nba.not_final.update(not_final)
    server.start()
    print(f"The Odds API at {odds.url}  (ODDS_API_KEY={key})\nNBA.com stats at {nba.url}\nCtrl-C stops.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Fake Odds API and NBA.com stats over the shared data.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--key", default="rehearsal")
    parser.add_argument("--data-dir", type=Path, default=settings.data_dir())
    arguments = parser.parse_args()
    serve(arguments.port, arguments.key, arguments.data_dir)
