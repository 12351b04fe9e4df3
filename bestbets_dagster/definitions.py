"""The code location's definitions: everything in the `defs` folder, loaded the way `dg` projects load
it (`load_from_defs_folder`), the resources of the running environment included (defs/resources.py:
BESTBETS_ENV local, the default, or gcp). Importing this module does nothing else: the definitions
are built when Dagster, `dg` or `build_definitions()` asks for them, from the environment of that moment."""

from pathlib import Path

import dagster as dg


def build_definitions() -> dg.Definitions:
    """Definitions for the current environment variables (BESTBETS_ENV, BESTBETS_HOME, ...)."""
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
