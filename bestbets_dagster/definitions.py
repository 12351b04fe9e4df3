"""The one Definitions object, `defs`. Resources are chosen by BESTBETS_ENV (local default, gcp)."""

from dagster import Definitions

from bestbets_dagster import settings
from bestbets_dagster.defs import all_asset_checks, all_assets, all_jobs, all_schedules, all_sensors
from bestbets_dagster.defs.resources import resources_for_env


def build_definitions() -> Definitions:
    """Definitions with resources for the current environment variables (BESTBETS_HOME, ...)."""
    settings.ensure_dagster_home()
    return Definitions(
        assets=all_assets,
        asset_checks=all_asset_checks,
        jobs=all_jobs,
        schedules=all_schedules,
        sensors=all_sensors,
        resources=resources_for_env(settings.bestbets_env()),
    )


defs = build_definitions()
