"""Resources per environment: local (DuckDB + local disk) or gcp (BigQuery + GCS)."""


from typing import Any

from bestbets_dagster import settings
from bestbets_dagster.resources import BestBetsSettings, DuckDBWarehouse, LocalArtifactStore, NbaDataSource


def local_resources() -> dict[str, Any]:
    home = settings.bestbets_home()
    return {
        "warehouse": DuckDBWarehouse(path=str(home / "warehouse.duckdb")),
        "artifacts": LocalArtifactStore(root=str(home / "artifacts")),
        "nba_data": NbaDataSource(data_dir=str(settings.data_dir())),
        "best_bets": BestBetsSettings(),
    }


def resources_for_env(env: str) -> dict[str, Any]:
    if env == "local":
        return local_resources()
    if env == "gcp":
        raise NotImplementedError(
            "BESTBETS_ENV=gcp: the BigQuery/GCS resources are not built yet (see the production-backend issue)"
        )
    raise ValueError(f"unknown BESTBETS_ENV {env!r}")
