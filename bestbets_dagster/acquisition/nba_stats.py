"""NBA.com's box scores of a date: the scoreboard (which games, final or not) and each game's
traditional box score v3, requested with nba_api's parameters and browser headers and parsed by
nba_api's parsers, then laid out as the files `box_scores/` and `team_game_logs/` hold (one file per
day, the same columns as the season files).

Only regular-season games are kept by default (game ids 002...: the data contract's; the Cup final,
play-in and playoffs have other prefixes). A postponed game (status text PPD / Postponed) is left out.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from nba_api.stats.endpoints.boxscoretraditionalv3 import BoxScoreTraditionalV3
from nba_api.stats.endpoints.scoreboardv3 import ScoreboardV3
from nba_api.stats.library.http import STATS_HEADERS, NBAStatsResponse

from bestbets_dagster.acquisition.http import HttpSource, SourceError
from bestbets_dagster.ingest.box_scores import (
    PLAYER_DIR,
    PLAYER_REQUIRED,
    PLAYER_STAT_COLUMNS,
    TEAM_DIR,
    TEAM_STAT_COLUMNS,
)
from bestbets_dagster.timeutil import season_of

NBA_STATS_BASE_URL = "https://stats.nba.com/stats"
REGULAR_SEASON = ("002",)
FINAL = 3  # gameStatus: 1 scheduled, 2 in progress, 3 final
# The box_scores/ files' columns (the ingest's contract), in the season files' order.
PLAYER_COLUMNS = [
    *PLAYER_REQUIRED[: PLAYER_REQUIRED.index("person_id")],
    "wl",
    "person_id",
    "player_name",
    "position",
    "starter",
    "comment",
    "minutes",
    *PLAYER_STAT_COLUMNS,
    "plus_minus_points",
]
# The team_game_logs/ files' columns: the game log's, the shooting percentages beside their counts.
TEAM_COLUMNS = [
    *["team_id", "game_id", "game_date", "matchup", "wl", "w", "l", "w_pct", "min"],
    *["fgm", "fga", "fg_pct", "fg3m", "fg3a", "fg3_pct", "ftm", "fta", "ft_pct"],
    *TEAM_STAT_COLUMNS[TEAM_STAT_COLUMNS.index("oreb") :],
    *["season", "is_home", "opp", "team_abbr"],
]
# box score v3 field -> file column (players: NBA.com v3 naming in snake case; teams: the game log's)
_V3_STATS = [  # NBA.com's box score v3 names of PLAYER_STAT_COLUMNS, in the same order
    "fieldGoalsMade",
    "fieldGoalsAttempted",
    "threePointersMade",
    "threePointersAttempted",
    "freeThrowsMade",
    "freeThrowsAttempted",
    "reboundsOffensive",
    "reboundsDefensive",
    "reboundsTotal",
    "assists",
    "steals",
    "blocks",
    "turnovers",
    "foulsPersonal",
    "points",
]
_PLAYER_STATS = dict(zip(_V3_STATS, PLAYER_STAT_COLUMNS, strict=True))
_TEAM_STATS = {
    "fieldGoalsMade": "fgm",
    "fieldGoalsAttempted": "fga",
    "fieldGoalsPercentage": "fg_pct",
    "threePointersMade": "fg3m",
    "threePointersAttempted": "fg3a",
    "threePointersPercentage": "fg3_pct",
    "freeThrowsMade": "ftm",
    "freeThrowsAttempted": "fta",
    "freeThrowsPercentage": "ft_pct",
    "reboundsOffensive": "oreb",
    "reboundsDefensive": "dreb",
    "reboundsTotal": "reb",
    "assists": "ast",
    "steals": "stl",
    "blocks": "blk",
    "turnovers": "tov",
    "foulsPersonal": "pf",
    "points": "pts",
}


class NotFinal(RuntimeError):
    """Some game of the date has not finished: nothing is written, the next tick tries again."""


@dataclass
class Game:
    game_id: str
    status: int
    status_text: str
    home_team_id: int
    away_team_id: int
    home_abbr: str
    away_abbr: str
    home_record: tuple[int | None, int | None]
    away_record: tuple[int | None, int | None]

    @property
    def postponed(self) -> bool:
        text = self.status_text.lower()
        return "ppd" in text or "postpon" in text

    @property
    def final(self) -> bool:
        return self.status == FINAL


class NbaStatsClient(HttpSource):
    def __init__(self, base_url: str = NBA_STATS_BASE_URL, **http_options):
        # nba_api's browser headers (stats.nba.com answers nothing without them), less the Host a mirror
        # or a test server would refuse.
        headers = {k: v for k, v in STATS_HEADERS.items() if k.lower() != "host"}
        super().__init__("NBA.com stats", base_url, headers=headers, **http_options)

    def _data_sets(self, endpoint: str, parameters: dict) -> dict[str, pd.DataFrame]:
        response = self.get(f"/{endpoint}", parameters)
        if response.status_code >= 400:
            raise SourceError(f"NBA.com stats: HTTP {response.status_code} on {endpoint} {parameters}")
        parsed = NBAStatsResponse(response=response.text, status_code=response.status_code, url=str(response.url))
        try:
            sets = parsed.get_data_sets(endpoint)
        except (ValueError, KeyError, TypeError) as exc:
            raise SourceError(f"NBA.com stats: {endpoint} {parameters} is not in its published format: {exc}") from None
        return {name: pd.DataFrame(s["data"], columns=list(s["headers"])) for name, s in sets.items()}

    def scoreboard(self, day: dt.date, game_types: tuple[str, ...] = REGULAR_SEASON) -> list[Game]:
        sets = self._data_sets("scoreboardv3", ScoreboardV3(game_date=day.isoformat(), get_request=False).parameters)
        header, lines = sets["GameHeader"], sets["LineScore"]
        games = []
        for row in header.itertuples(index=False):
            game_id = str(row.gameId).zfill(10)
            if not game_id.startswith(game_types):
                continue
            teams = lines[lines["gameId"].astype(str).str.zfill(10) == game_id]
            if len(teams) != 2:
                raise SourceError(f"NBA.com stats: scoreboard of {day} has {len(teams)} teams for game {game_id}")
            # nba_api's parser lists a game's home team first, then the away team.
            home, away = teams.iloc[0], teams.iloc[1]
            games.append(
                Game(
                    game_id=game_id,
                    status=int(row.gameStatus),
                    status_text=str(row.gameStatusText or ""),
                    home_team_id=int(home["teamId"]),
                    away_team_id=int(away["teamId"]),
                    home_abbr=str(home["teamTricode"]),
                    away_abbr=str(away["teamTricode"]),
                    home_record=(_int(home["wins"]), _int(home["losses"])),
                    away_record=(_int(away["wins"]), _int(away["losses"])),
                )
            )
        return games

    def box_score(self, game_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(players, teams) of a game's traditional box score v3, in NBA.com's own columns."""
        sets = self._data_sets(
            "boxscoretraditionalv3", BoxScoreTraditionalV3(game_id=game_id, get_request=False).parameters
        )
        return sets["PlayerStats"], sets["TeamStats"]


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _minutes(value) -> str | None:
    """'36:12' as given; a DNP's empty or zero time as empty (the files' convention)."""
    text = "" if value is None else str(value).strip()
    return None if text in ("", "0:00", "00:00", "PT00M00.00S") else text


def day_rows(day: dt.date, game: Game, players: pd.DataFrame, teams: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One game's rows in the columns of the box_scores/ and team_game_logs/ files."""
    home_id = game.home_team_id
    if "homeTeamId" in teams.columns and len(teams) and int(teams["homeTeamId"].iloc[0]) != home_id:
        raise SourceError(f"NBA.com stats: box score of {game.game_id} names another home team than the scoreboard")
    points = {int(t["teamId"]): int(t["points"]) for _, t in teams.iterrows()}
    if set(points) != {home_id, game.away_team_id}:
        raise SourceError(f"NBA.com stats: box score of {game.game_id} does not hold the scoreboard's two teams")
    abbr = {home_id: game.home_abbr, game.away_team_id: game.away_abbr}
    record = {home_id: game.home_record, game.away_team_id: game.away_record}

    def other(team_id: int) -> int:
        return game.away_team_id if team_id == home_id else home_id

    def result(team_id: int) -> str:
        return "W" if points[team_id] > points[other(team_id)] else "L"

    player_rows = []
    for _, p in players.iterrows():
        team_id = int(p["teamId"])
        position = str(p.get("position") or "").strip()
        player_rows.append(
            {
                "season": season_of(day),
                "game_id": game.game_id,
                "game_date": day.isoformat(),
                "team_id": team_id,
                "team_abbr": abbr[team_id],
                "opp": abbr[other(team_id)],
                "is_home": team_id == home_id,
                "wl": result(team_id),
                "person_id": int(p["personId"]),
                "player_name": f"{p['firstName'] or ''} {p['familyName'] or ''}".strip(),
                "position": position or None,
                # NBA.com fills a player's position in a box score for the five starters only.
                "starter": bool(position),
                "comment": (str(p.get("comment") or "").strip() or None),
                "minutes": _minutes(p["minutes"]),
                **{column: int(p[field] or 0) for field, column in _PLAYER_STATS.items()},
                "plus_minus_points": float(p["plusMinusPoints"]) if p["plusMinusPoints"] is not None else None,
            }
        )
    team_rows = []
    for _, t in teams.iterrows():
        team_id = int(t["teamId"])
        wins, losses = record[team_id]
        home = team_id == home_id
        minutes = str(t["minutes"] or "").split(":")[0]
        team_rows.append(
            {
                "team_id": team_id,
                "game_id": game.game_id,
                "game_date": day.isoformat(),
                "matchup": f"{abbr[team_id]} vs. {abbr[other(team_id)]}"
                if home
                else f"{abbr[team_id]} @ {abbr[other(team_id)]}",
                "wl": result(team_id),
                "w": wins,
                "l": losses,
                "w_pct": round(wins / (wins + losses), 3) if None not in (wins, losses) and wins + losses else None,
                "min": int(float(minutes)) if minutes else None,
                **{column: t[field] for field, column in _TEAM_STATS.items()},
                "season": season_of(day),
                "is_home": home,
                "opp": abbr[other(team_id)],
                "team_abbr": abbr[team_id],
            }
        )
    return pd.DataFrame(player_rows, columns=PLAYER_COLUMNS), pd.DataFrame(team_rows, columns=TEAM_COLUMNS)


@dataclass
class DayBoxScores:
    day: dt.date
    games: list[Game]
    players: pd.DataFrame
    teams: pd.DataFrame
    postponed: list[str]


def download_day(client: NbaStatsClient, day: dt.date, game_types: tuple[str, ...] = REGULAR_SEASON) -> DayBoxScores:
    """Every game of the date, once all are final (NotFinal otherwise: nothing is returned half)."""
    games = client.scoreboard(day, game_types)
    postponed = [g.game_id for g in games if g.postponed]
    games = [g for g in games if not g.postponed]
    pending = [f"{g.game_id} {g.away_abbr}@{g.home_abbr} ({g.status_text or g.status})" for g in games if not g.final]
    if pending:
        raise NotFinal(
            f"{len(pending)} of {len(games)} games of {day} are not final yet ({', '.join(pending[:5])}): "
            "nothing written; the next tick tries again"
        )
    players, teams = [], []
    for game in games:
        game_players, game_teams = day_rows(day, game, *client.box_score(game.game_id))
        players.append(game_players)
        teams.append(game_teams)
    return DayBoxScores(
        day,
        games,
        pd.concat(players, ignore_index=True) if players else pd.DataFrame(columns=PLAYER_COLUMNS),
        pd.concat(teams, ignore_index=True) if teams else pd.DataFrame(columns=TEAM_COLUMNS),
        postponed,
    )


def day_paths(data_dir: Path, day: dt.date) -> tuple[Path, Path]:
    return (
        Path(data_dir) / PLAYER_DIR / f"player_game_logs_{day.isoformat()}.csv.gz",
        Path(data_dir) / TEAM_DIR / f"team_game_logs_{day.isoformat()}.csv.gz",
    )


def write_day(data_dir: Path, downloaded: DayBoxScores) -> tuple[Path, Path]:
    """Both files of the day written under temporary names first, then renamed into place, the player
    file last (the sensors look for it): a reader never sees half a day."""
    targets = day_paths(data_dir, downloaded.day)
    temporaries = [t.with_name(f".{t.name}.{os.getpid()}.tmp") for t in targets]
    try:
        for frame, temporary in zip((downloaded.players, downloaded.teams), temporaries):
            temporary.parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(temporary, index=False, compression="gzip")
        for temporary, target in zip(reversed(temporaries), reversed(targets)):
            os.replace(temporary, target)
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
    return targets
