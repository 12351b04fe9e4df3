from bestbets_dagster.resources.alerts import AlertNotifier
from bestbets_dagster.resources.artifacts import ArtifactRef, ArtifactStore, LocalArtifactStore
from bestbets_dagster.resources.best_bets_settings import BestBetsSettings
from bestbets_dagster.resources.data_source import NbaDataSource
from bestbets_dagster.resources.sources import NbaStats, OddsApi
from bestbets_dagster.resources.warehouse import DuckDBWarehouse, Warehouse

__all__ = [
    "AlertNotifier",
    "ArtifactRef",
    "ArtifactStore",
    "BestBetsSettings",
    "DuckDBWarehouse",
    "LocalArtifactStore",
    "NbaDataSource",
    "NbaStats",
    "OddsApi",
    "Warehouse",
]
