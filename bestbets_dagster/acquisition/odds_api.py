"""The Odds API v4: a day's NBA events, each event's player_points lines (sportsbooks and pick'em apps)
and the game markets (moneyline, spreads, totals), live or as they stood at a past moment (the
historical endpoints), and the snapshot file the ingest reads.

Credits (the API's usage quota): listing events is free live and costs 1 historically; an event's odds
cost (markets returned) x (regions); the game markets of every event in one call cost markets x regions;
historical odds cost ten times as much. Every response's usage headers are kept (`Usage`).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bestbets_dagster.acquisition.http import HttpSource, SourceError, json_fields
from bestbets_dagster.ingest.odds import V4_DIR, file_date, read_v4_events, v4_files
from bestbets_dagster.timeutil import EASTERN, eastern_game_date, utc_instant

ODDS_API_BASE_URL = "https://api.the-odds-api.com"
KEY_VARIABLE = "ODDS_API_KEY"
SPORT = "basketball_nba"
PLAYER_MARKETS = ("player_points",)
PLAYER_REGIONS = ("us", "us_dfs")  # sportsbooks, and the pick'em apps (PrizePicks, Underdog)
GAME_MARKETS = ("h2h", "spreads", "totals")
GAME_REGIONS = ("us",)
HISTORICAL_MULTIPLIER = 10
SNAPSHOT_PREFIX = "odds_"  # odds_YYYYMMDD_HHMMSS.json.gz in the ingest's odds_api_v4/


class OddsApiKeyError(SourceError):
    """401: the key is missing, wrong, deactivated or out of credits."""


@dataclass
class Usage:
    """The usage headers of the last response, and what this client spent (the sum of x-requests-last)."""

    remaining: int | None = None
    used: int | None = None
    last: int | None = None
    requests: int = 0
    spent: int = 0

    def read(self, response: httpx.Response) -> None:
        def number(name: str) -> int | None:
            value = response.headers.get(name)
            try:
                return int(float(value)) if value is not None else None
            except ValueError:
                return None

        self.requests += 1
        self.remaining = (
            number("x-requests-remaining") if "x-requests-remaining" in response.headers else self.remaining
        )
        self.used = number("x-requests-used") if "x-requests-used" in response.headers else self.used
        self.last = number("x-requests-last")
        self.spent += self.last or 0

    def as_metadata(self) -> dict[str, int | None]:
        return {
            "credits_remaining": self.remaining,
            "credits_used": self.used,
            "credits_spent": self.spent,
            "requests": self.requests,
        }


def planned_credits(n_events: int, historical: bool) -> int:
    """The most a snapshot of n_events events can cost: each event's player markets in every player
    region, the game markets of all events in one call, and (historically) the events listing."""
    if n_events == 0:
        return 1 if historical else 0
    live = n_events * len(PLAYER_MARKETS) * len(PLAYER_REGIONS) + len(GAME_MARKETS) * len(GAME_REGIONS)
    return live * HISTORICAL_MULTIPLIER + 1 if historical else live


class OddsApiClient(HttpSource):
    """The v4 endpoints this system uses. `at` (an aware datetime) asks the historical endpoints for the
    snapshot at or before that moment; without it, the live ones."""

    def __init__(self, api_key: str | None, base_url: str = ODDS_API_BASE_URL, **http_options):
        if not api_key:
            raise OddsApiKeyError(f"the Odds API key is not set: export {KEY_VARIABLE}")
        super().__init__("The Odds API", base_url, **http_options)
        self._key = api_key
        self.usage = Usage()

    def _get(self, path: str, params: dict, at: dt.datetime | None) -> tuple[object, str | None]:
        """(body, snapshot timestamp) of a live or historical call; None when the event is gone (404/422)."""
        if at is not None:
            path = "/v4/historical" + path.removeprefix("/v4")
            params = {**params, "date": _iso(at)}
        response = self.get(path, {**params, "apiKey": self._key})
        self.usage.read(response)
        if response.status_code == 401:
            body = json_fields(response)
            code = body.get("error_code") or body.get("message") or "unauthorized"
            raise OddsApiKeyError(
                f"The Odds API refused the key in {KEY_VARIABLE} ({code}): check the key and its credits",
                401,
            )
        if response.status_code in (404, 422) and "/events/" in path:
            return None, None
        if response.status_code >= 400:
            raise SourceError(
                f"The Odds API: HTTP {response.status_code} on {path}: {json_fields(response).get('message', '')}",
                response.status_code,
            )
        body = response.json()
        if at is not None:  # historical: {"timestamp", "previous_timestamp", "next_timestamp", "data"}
            return body.get("data"), body.get("timestamp")
        return body, None

    def events(self, at: dt.datetime | None = None) -> tuple[list[dict], str | None]:
        body, stamp = self._get(f"/v4/sports/{SPORT}/events", {"dateFormat": "iso"}, at)
        return list(body or []), stamp

    def event_odds(
        self, event_id: str, markets: Sequence[str], regions: Sequence[str], at: dt.datetime | None = None
    ) -> dict | None:
        """One event with its bookmakers' markets, or None when the API no longer knows the event."""
        body, _ = self._get(
            f"/v4/sports/{SPORT}/events/{event_id}/odds",
            {"regions": ",".join(regions), "markets": ",".join(markets), "oddsFormat": "american", "dateFormat": "iso"},
            at,
        )
        return body if isinstance(body, dict) else None

    def game_odds(
        self, event_ids: Sequence[str], markets: Sequence[str], regions: Sequence[str], at: dt.datetime | None = None
    ) -> list[dict]:
        body, _ = self._get(
            f"/v4/sports/{SPORT}/odds",
            {
                "regions": ",".join(regions),
                "markets": ",".join(markets),
                "eventIds": ",".join(event_ids),
                "oddsFormat": "american",
                "dateFormat": "iso",
            },
            at,
        )
        return list(body or [])


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Snapshot:
    """The day's events with their bookmakers, as the v4 event-odds shape, taken at `taken_at` (UTC)."""

    game_date: dt.date
    taken_at: dt.datetime
    events: list[dict]
    listed: int
    skipped: list[str] = field(default_factory=list)
    historical: bool = False

    def count(self, markets: Iterable[str]) -> int:
        """Outcomes of the given markets over every event and book (a size for the metadata)."""
        wanted = set(markets)
        return sum(
            len(m.get("outcomes") or [])
            for e in self.events
            for b in e.get("bookmakers") or []
            for m in b.get("markets") or []
            if m.get("key") in wanted
        )


# A past date's snapshot (the historical endpoints) is taken at this time of day unless told (US Eastern):
# the books' midday lines, before the daily slate's decision.
DEFAULT_HISTORICAL_TIME = "12:00"


def snapshot_moment(game_date: dt.date, at: str | None, today: dt.date) -> dt.datetime | None:
    """When a snapshot of game_date is taken from the historical endpoints: `at` (HH:MM US Eastern) on that
    date, or DEFAULT_HISTORICAL_TIME for a date before today; None for today or later (the live ones)."""
    if at is None and game_date >= today:
        return None
    return dt.datetime.combine(game_date, dt.time.fromisoformat(at or DEFAULT_HISTORICAL_TIME), tzinfo=EASTERN)


def events_of_day(events: Iterable[dict], game_date: dt.date, after: dt.datetime | None) -> list[dict]:
    """The events that tip off on game_date (US Eastern) and, given `after`, not before it (a line taken
    after tip-off is not pre-game)."""
    chosen = []
    for event in events:
        tip = utc_instant(event["commence_time"])
        if eastern_game_date(tip) == game_date and (after is None or tip > after):
            chosen.append(event)
    return chosen


def take_snapshot(
    client: OddsApiClient,
    game_date: dt.date,
    now: dt.datetime,
    *,
    at: dt.datetime | None = None,
    event_ids: Iterable[str] | None = None,
    log=None,
) -> Snapshot:
    """A snapshot of game_date's NBA events that have not tipped off: live at `now`, or with `at` the
    historical one at that moment. event_ids limits it to those events (the closing snapshot). An
    event that disappears between the listing and its odds is skipped with a warning."""
    listed, stamp = client.events(at)
    moment = utc_instant(stamp) if stamp else (at or now)
    chosen = events_of_day(listed, game_date, moment)
    if event_ids is not None:
        wanted = set(event_ids)
        chosen = [e for e in chosen if e["id"] in wanted]
    events, skipped = [], []
    for event in chosen:
        odds = client.event_odds(event["id"], PLAYER_MARKETS, PLAYER_REGIONS, at)
        if odds is None:
            skipped.append(event["id"])
            if log is not None:
                log.warning(
                    f"event {event['id']} ({event['away_team']} @ {event['home_team']}) was listed but has no "
                    "odds any more (removed or started): skipped"
                )
            continue
        events.append({**{k: event[k] for k in event if k != "bookmakers"}, "bookmakers": odds.get("bookmakers") or []})
    if events:
        game = {e["id"]: e for e in client.game_odds([e["id"] for e in events], GAME_MARKETS, GAME_REGIONS, at)}
        for event in events:
            event["bookmakers"] = merge_bookmakers(
                event["bookmakers"], game.get(event["id"], {}).get("bookmakers") or []
            )
    return Snapshot(game_date, moment.astimezone(dt.timezone.utc), events, len(chosen), skipped, at is not None)


def merge_bookmakers(player: list[dict], game: list[dict]) -> list[dict]:
    """One entry per book with the markets of both calls (a book may quote only one kind)."""
    books: dict[str, dict] = {}
    for book in [*player, *game]:
        entry = books.setdefault(book["key"], {**{k: v for k, v in book.items() if k != "markets"}, "markets": []})
        entry["markets"].extend(book.get("markets") or [])
    return list(books.values())


def snapshot_path(data_dir: Path, taken_at: dt.datetime) -> Path:
    stamp = taken_at.astimezone(dt.timezone.utc).strftime("%Y%m%d_%H%M%S")
    return Path(data_dir) / V4_DIR / f"{SNAPSHOT_PREFIX}{stamp}.json.gz"


def write_snapshot(data_dir: Path, snapshot: Snapshot) -> Path:
    """The snapshot as `odds_api_v4/odds_YYYYMMDD_HHMMSS.json.gz` ({"timestamp", "data"}, the historical
    wrapper the ingest reads), written under a temporary name and linked into place: a reader never sees
    half a file, and an existing snapshot is never overwritten (FileExistsError)."""
    target = snapshot_path(data_dir, snapshot.taken_at)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    document = {"timestamp": _iso(snapshot.taken_at), "data": snapshot.events}
    try:
        with gzip.open(temporary, "wt", encoding="utf-8") as fh:
            json.dump(document, fh)
        os.link(temporary, target)  # fails when the name exists: never overwrites
    finally:
        temporary.unlink(missing_ok=True)
    return target


def listed_events(data_dir: Path, game_date: dt.date) -> list[dict]:
    """game_date's events (id, teams, commence_time) as the day's snapshots list them, each as its newest
    snapshot shows it (a closing snapshot holds only its own games): what the closing sensor watches and
    the freshness sensor expects box scores for."""
    near = {game_date + dt.timedelta(days=d) for d in (-1, 0, 1)}
    seen: dict[str, tuple[dt.datetime, dict]] = {}
    for path in v4_files(Path(data_dir) / V4_DIR):
        if file_date(path) not in (near | {None}):
            continue
        try:
            events, stamp = read_v4_events(path)
        except ValueError:
            continue  # a file being written or broken: the ingest reports it
        moment = utc_instant(stamp) if stamp else dt.datetime.min.replace(tzinfo=dt.timezone.utc)
        for event in events_of_day(events, game_date, None):
            if event["id"] not in seen or moment > seen[event["id"]][0]:
                seen[event["id"]] = (moment, {k: v for k, v in event.items() if k != "bookmakers"})
    return sorted((event for _, event in seen.values()), key=lambda e: (e["commence_time"], e["id"]))
