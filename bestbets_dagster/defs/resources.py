"""Resources per environment: local (DuckDB + local disk) or gcp (BigQuery + GCS)."""

import os
from typing import Any

from dagster import Definitions, EnvVar, definitions

from bestbets_dagster import settings
from bestbets_dagster.resources import (
    AlertNotifier,
    BestBetsSettings,
    DuckDBWarehouse,
    LocalArtifactStore,
    NbaDataSource,
    NbaStats,
    OddsApi,
)


def source_resources() -> dict[str, Any]:
    """The downloaders' sources. The Odds API key is read from ODDS_API_KEY when a run needs it (EnvVar:
    the UI and the run records show the variable's name, never the key)."""
    urls = settings.source_urls()
    return {
        "odds_api": OddsApi(
            api_key=EnvVar("ODDS_API_KEY"),
            credit_floor=settings.odds_credit_floor(),
            **({"base_url": urls["odds_api"]} if urls["odds_api"] else {}),
        ),
        "nba_stats": NbaStats(**({"base_url": urls["nba_stats"]} if urls["nba_stats"] else {})),
    }


def local_resources() -> dict[str, Any]:
    home = settings.bestbets_home()
    return {
        **source_resources(),
        "warehouse": DuckDBWarehouse(path=str(home / "warehouse.duckdb"), lock_timeout_s=settings.lock_timeout_s()),
        "artifacts": LocalArtifactStore(root=str(home / "artifacts")),
        "nba_data": NbaDataSource(data_dir=str(settings.data_dir())),
        "best_bets": BestBetsSettings(),
        # Alerts go to Slack when SLACK_BOT_TOKEN is set, to the sensor log otherwise. EnvVar keeps the
        # token's value out of the definitions' snapshot (the UI shows the variable's name only).
        "notifier": AlertNotifier(
            slack_token=EnvVar("SLACK_BOT_TOKEN") if os.environ.get("SLACK_BOT_TOKEN") else None,
            channel=os.environ.get("BESTBETS_SLACK_CHANNEL", "#bestbets-alerts"),
        ),
    }


def gcp_resources() -> dict[str, Any]:
    from bestbets_dagster.resources.bigquery import BigQueryWarehouse
    from bestbets_dagster.resources.gcs import GCSArtifactStore

    gcp = settings.gcp_settings()
    return {
        **local_resources(),
        "warehouse": BigQueryWarehouse(project=gcp["project"], dataset=gcp["dataset"], location=gcp["location"]),
        "artifacts": GCSArtifactStore(bucket=gcp["bucket"], project=gcp["project"], prefix=gcp["prefix"]),
    }


def resources_for_env(env: str) -> dict[str, Any]:
    if env == "local":
        return local_resources()
    if env == "gcp":
        return gcp_resources()
    raise ValueError(f"unknown BESTBETS_ENV {env!r}")


def current_warehouse():
    """The warehouse of the running environment (BESTBETS_ENV, BESTBETS_HOME), outside a Dagster run."""
    return resources_for_env(settings.bestbets_env())["warehouse"]


@definitions
def resources() -> Definitions:
    """The resources of the running environment, found by `load_from_defs_folder` like every other
    definition in this folder."""
    return Definitions(resources=resources_for_env(settings.bestbets_env()))
