"""Environment-driven settings shared by the Dagster layer, the CLI and the tests.

Everything is read from environment variables at call time (not import time) so that tests and the
CLI can point one process at another home or data directory.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCHEMAS_DIR = PROJECT_ROOT / "schemas"

# The first game-date partition unless BESTBETS_PARTITION_START says: a fixed season start (2019-20), not
# the data's first date, so that loading the definitions reads no file. Older seasons need the setting.
DEFAULT_PARTITION_START = "2019-10-01"
GAME_TIMEZONE = "America/New_York"


def bestbets_env() -> str:
    env = os.environ.get("BESTBETS_ENV", "local").strip().lower()
    if env not in ("local", "gcp"):
        raise ValueError(f"BESTBETS_ENV must be 'local' or 'gcp', got {env!r}")
    return env


def bestbets_home() -> Path:
    return Path(os.environ.get("BESTBETS_HOME", "./.bestbets")).expanduser().resolve()


def data_dir() -> Path:
    """Where the raw box scores and odds files are read from (../shared/data/nba by default)."""
    configured = os.environ.get("BESTBETS_DATA_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    return (PROJECT_ROOT.parent / "shared" / "data" / "nba").resolve()


def partition_start() -> str:
    """The first game-date partition: BESTBETS_PARTITION_START, else DEFAULT_PARTITION_START.

    A setting, never read from the data: the definitions load (every command, the UI's code location,
    `dg check defs`) without opening a data file, so a damaged box-score file fails the run that reads
    it, naming the file, and nothing else. The commands that need the data's first game date (replay,
    experiment) compute it from the files when they run."""
    configured = os.environ.get("BESTBETS_PARTITION_START", "").strip()
    if not configured:
        return DEFAULT_PARTITION_START
    try:
        dt.date.fromisoformat(configured)
    except ValueError:
        raise ValueError(f"BESTBETS_PARTITION_START must be a date (YYYY-MM-DD), got {configured!r}") from None
    return configured


# The Odds API snapshots of a game day (US Eastern), and the credits under which an alert is raised.
DEFAULT_SNAPSHOT_TIMES = "10:00,12:00,15:00,18:00"
DEFAULT_ODDS_CREDIT_FLOOR = 2000


def snapshot_times() -> list[tuple[int, int]]:
    """BESTBETS_SNAPSHOT_TIMES, e.g. "10:00,12:00,15:00,18:00": when the schedule takes a snapshot (US Eastern)."""
    text = os.environ.get("BESTBETS_SNAPSHOT_TIMES", DEFAULT_SNAPSHOT_TIMES)
    times = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        hour, _, minute = item.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ValueError(f"BESTBETS_SNAPSHOT_TIMES: {item!r} is not HH:MM (US Eastern)")
        times.append((int(hour), int(minute)))
    if not times:
        raise ValueError("BESTBETS_SNAPSHOT_TIMES names no time")
    return sorted(set(times))


# The NBA's off-season (no regular-season or playoff game), MM-DD..MM-DD: a box score dated inside it is
# a bad row. A season played out of the usual calendar (2020's bubble) sets BESTBETS_OFF_SEASON.
DEFAULT_OFF_SEASON = "07-01..09-30"


def off_season() -> tuple[str, str]:
    """BESTBETS_OFF_SEASON as ("MM-DD", "MM-DD") (inclusive; empty: no off-season check)."""
    text = os.environ.get("BESTBETS_OFF_SEASON", DEFAULT_OFF_SEASON).strip()
    if not text:
        return ("", "")
    first, sep, last = text.partition("..")
    valid = sep and all(len(p) == 5 and p[2] == "-" and p.replace("-", "").isdigit() for p in (first, last))
    if not valid:
        raise ValueError(f"BESTBETS_OFF_SEASON: {text!r} is not MM-DD..MM-DD")
    return first, last


def source_urls() -> dict[str, str | None]:
    """Where the downloaders call: the real APIs unless BESTBETS_ODDS_API_URL / BESTBETS_NBA_STATS_URL
    name a mirror or a local stand-in (a rehearsal, the tests)."""
    return {
        "odds_api": os.environ.get("BESTBETS_ODDS_API_URL") or None,
        "nba_stats": os.environ.get("BESTBETS_NBA_STATS_URL") or None,
    }


DEFAULT_LOCK_TIMEOUT_S = 600.0


def lock_timeout_s() -> float:
    """How long a command waits for a warehouse another process holds before it gives up
    (BESTBETS_LOCK_TIMEOUT_S, seconds)."""
    text = os.environ.get("BESTBETS_LOCK_TIMEOUT_S", str(DEFAULT_LOCK_TIMEOUT_S))
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"BESTBETS_LOCK_TIMEOUT_S={text!r} is not a number of seconds") from None
    if not value >= 0:
        raise ValueError(f"BESTBETS_LOCK_TIMEOUT_S={text!r} must be 0 or more seconds")
    return value


def odds_credit_floor() -> int:
    return int(os.environ.get("BESTBETS_ODDS_CREDIT_FLOOR", DEFAULT_ODDS_CREDIT_FLOOR))


def dagster_home() -> Path:
    """DAGSTER_HOME if set, else $BESTBETS_HOME/dagster, so CLI, replay and `dagster dev` share one instance."""
    configured = os.environ.get("DAGSTER_HOME")
    return Path(configured).expanduser().resolve() if configured else bestbets_home() / "dagster"


# No network here or in CI: telemetry would only print a banner and try to send. The daemon launches
# one run at a time: two runs writing the same tables never overlap (every write is one transaction,
# but two overlapping runs of one range with different inputs would leave a mix of both).
COMMON_INSTANCE_CONFIG = """telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 1
"""

# The embedded default: Dagster's SQLite storages under DAGSTER_HOME, the event log's batches of asset
# events written in one transaction (instance_storage.py; a ranged run writes one event per partition).
INSTANCE_CONFIG = (
    COMMON_INSTANCE_CONFIG
    + """event_log_storage:
  module: bestbets_dagster.instance_storage
  class: BatchedSqliteEventLogStorage
"""
)

# Dagster hands a ranged run's asset events to the storage in batches of this many (0: one by one).
EVENT_BATCH_SIZE = "1000"

# Production: runs, event logs and schedules in PostgreSQL (dagster-postgres), the connection from
# the environment, so one dagster.yaml serves every environment; the run launcher is Dagster's
# standard one, which a deployment replaces (K8sRunLauncher, CeleryK8sRunLauncher) in this file alone.
POSTGRES_INSTANCE_CONFIG = (
    COMMON_INSTANCE_CONFIG
    + """storage:
  postgres:
    postgres_db:
      username: {env: DAGSTER_PG_USERNAME}
      password: {env: DAGSTER_PG_PASSWORD}
      hostname: {env: DAGSTER_PG_HOST}
      db_name: {env: DAGSTER_PG_DB}
      port: {env: DAGSTER_PG_PORT}
      # SQLAlchemy 2.1 maps postgresql:// to psycopg 3; dagster-postgres installs psycopg2.
      scheme: postgresql+psycopg2
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
run_launcher:
  module: dagster.core.launcher
  class: DefaultRunLauncher
"""
)


def instance_config() -> str:
    """The dagster.yaml a new instance gets: SQLite files under DAGSTER_HOME (the embedded default),
    or PostgreSQL when DAGSTER_PG_HOST is set."""
    return POSTGRES_INSTANCE_CONFIG if os.environ.get("DAGSTER_PG_HOST") else INSTANCE_CONFIG


def ensure_dagster_home() -> Path:
    """Create the instance directory and export DAGSTER_HOME so every Dagster entry point agrees, and
    DAGSTER_EVENT_BATCH_SIZE so the runs it launches (and `dagster dev`'s) batch their asset events."""
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config_file = home / "dagster.yaml"
    if not config_file.exists():
        config_file.write_text(instance_config())
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
    return home


def gcp_settings() -> dict[str, str | None]:
    """BESTBETS_ENV=gcp: where the warehouse and the artifacts live. Credentials come from
    Application Default Credentials; BIGQUERY_EMULATOR_HOST / STORAGE_EMULATOR_HOST point the clients
    at local emulators instead."""
    missing = [name for name in ("BESTBETS_GCP_PROJECT", "BESTBETS_GCS_BUCKET") if not os.environ.get(name)]
    if missing:
        raise RuntimeError(f"BESTBETS_ENV=gcp needs {', '.join(missing)} (see docs/production.md)")
    return {
        "project": os.environ["BESTBETS_GCP_PROJECT"],
        "dataset": os.environ.get("BESTBETS_BQ_DATASET", "nba_predictions"),
        "location": os.environ.get("BESTBETS_BQ_LOCATION", "US"),
        "bucket": os.environ["BESTBETS_GCS_BUCKET"],
        "prefix": os.environ.get("BESTBETS_GCS_PREFIX", ""),
    }
