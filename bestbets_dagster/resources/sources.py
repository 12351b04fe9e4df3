"""The outside world's sources as resources: The Odds API v4 and NBA.com's stats endpoints. Their base
URLs are settings, so tests, a rehearsal and a mirror can point them elsewhere."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field

from bestbets_dagster.acquisition.nba_stats import NBA_STATS_BASE_URL, NbaStatsClient
from bestbets_dagster.acquisition.odds_api import KEY_VARIABLE, ODDS_API_BASE_URL, OddsApiClient
from bestbets_dagster.settings import DEFAULT_ODDS_CREDIT_FLOOR


class _HttpSettings(ConfigurableResource):
    timeout_seconds: float = Field(default=30.0, description="per request")
    attempts: int = Field(default=5, description="tries of a request answered 429 or 5xx, or cut off")
    retry_wait_seconds: float = Field(
        default=2.0, description="the first wait between tries; it doubles (at most 60 s)"
    )

    def _http_options(self) -> dict:
        return {"timeout": self.timeout_seconds, "attempts": self.attempts, "retry_wait": self.retry_wait_seconds}


class OddsApi(_HttpSettings):
    """The Odds API v4 (https://the-odds-api.com): the key from the environment variable ODDS_API_KEY."""

    api_key: str = Field(description=f"the API key; set from the environment variable {KEY_VARIABLE}")
    base_url: str = Field(default=ODDS_API_BASE_URL, description="the API's root (a mirror or a test server)")
    credit_floor: int = Field(
        default=DEFAULT_ODDS_CREDIT_FLOOR,
        description="an alert row (and a WARN check) when fewer credits than this remain",
    )

    def client(self) -> OddsApiClient:
        return OddsApiClient(self.api_key, self.base_url, **self._http_options())


class NbaStats(_HttpSettings):
    """NBA.com's stats endpoints (scoreboard, traditional box score v3), parsed by nba_api."""

    base_url: str = Field(default=NBA_STATS_BASE_URL, description="the endpoints' root (a mirror or a test server)")

    def client(self) -> NbaStatsClient:
        return NbaStatsClient(self.base_url, **self._http_options())

    def quick_client(self) -> NbaStatsClient:
        """For a sensor's check (a tick must finish within a minute): 10 s per request, two tries."""
        return NbaStatsClient(self.base_url, timeout=10.0, attempts=2, retry_wait=min(self.retry_wait_seconds, 2.0))
