"""The Warehouse resource: every table read and write goes through this small interface.

- create_tables: create the tables defined in schemas/ (idempotent)
- read: a table for a date range, optionally one model family
- replace_partitions: replace the rows of a date range (x family) atomically, after validation
- query: a parameterized query in BigQuery SQL; `{table}` placeholders name tables

DuckDB is the embedded default. SQL is written in BigQuery's dialect and transpiled for DuckDB by
sqlglot, so one query text serves both engines.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import logging
import re
import time
from pathlib import Path
from typing import Any, ClassVar, Iterator

import duckdb
import filelock
import pandas as pd
import sqlglot
import tenacity
from dagster import ConfigurableResource

from bestbets_dagster import tables
from bestbets_dagster.home_lock import refuse_if_another_writes
from bestbets_dagster.tables import DataValidationError, TableSpec

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_log = logging.getLogger(__name__)


class WarehouseError(RuntimeError):
    """The warehouse file cannot be used: corrupt, or held by another process past the wait."""


class WarehouseCorrupt(WarehouseError):
    pass


class WarehouseLocked(WarehouseError, TimeoutError):
    pass


# DuckDB's words for a file it cannot read as a database (cut short, overwritten, not DuckDB at all).
_CORRUPT = ("could not read enough bytes", "checksum", "corrupt", "not a valid duckdb database", "invalid database")
_HOLDER = re.compile(r"PID (\d+)")


def _is_corrupt(exc: duckdb.Error) -> bool:
    return any(words in str(exc).lower() for words in _CORRUPT)


def _corrupt(db_path: Path, exc: duckdb.Error) -> WarehouseCorrupt:
    return WarehouseCorrupt(
        f"{db_path.name} is corrupt: {exc}. Restore {db_path} from a backup, or move "
        f"it aside and rebuild it from the data directory (`bestbets replay` or `make run`)."
    )


class Warehouse(ConfigurableResource):
    """Interface shared by the DuckDB and BigQuery warehouses: validation and the rows a write
    replaces are decided here; an engine only says how to swap rows atomically (`_replace`)."""

    # How the engine's SQL quotes a column, marks a parameter, and names the target in a write.
    QUOTE: ClassVar[str] = '"'
    MARKER: ClassVar[str] = "$"
    TARGET_ALIAS: ClassVar[str] = ""

    def table_ref(self, name: str) -> str:
        raise NotImplementedError

    def create_tables(self, names: list[str] | None = None) -> None:
        raise NotImplementedError

    def read(
        self,
        name: str,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        family: str | None = None,
        columns: list[str] | None = None,
    ) -> pd.DataFrame:
        raise NotImplementedError

    def replace_partitions(
        self,
        name: str,
        df: pd.DataFrame,
        start: dt.date | str,
        end: dt.date | str | None = None,
        family: str | None = None,
    ) -> int:
        """Validate the rows and replace those of [start, end] (x family) with them, atomically."""
        spec = tables.table(name)
        start_date = _as_date(start)
        end_date = _as_date(end) if end is not None else start_date
        frame = self.prepare_partition_frame(spec, df, start_date, end_date, family)
        condition, params = self.partition_condition(
            spec, start_date, end_date, family, quote=self.QUOTE, marker=self.MARKER, alias=self.TARGET_ALIAS
        )
        self._replace(spec, frame, condition, params)
        return len(frame)

    def replace_table(self, name: str, df: pd.DataFrame) -> int:
        """Replace every row of a small unpartitioned table (the family table) atomically."""
        spec = tables.table(name)
        if spec.partition_column is not None:
            raise DataValidationError(f"{name} is partitioned: replace its partitions, not the whole table")
        frame = tables.validate(name, df)
        self._replace(spec, frame, "TRUE", {})
        return len(frame)

    def verify(self) -> None:
        """Read every stored byte once, so a damaged store fails now, with what to do, and not in the
        middle of a command (an engine that checks its own storage has nothing to do here)."""

    def _replace(self, spec: TableSpec, frame: pd.DataFrame, condition: str, params: dict) -> None:
        """Delete the rows the condition names and insert the frame, in one atomic step."""
        raise NotImplementedError

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        raise NotImplementedError

    # Shared helpers -------------------------------------------------------------------------

    def render(self, sql: str) -> str:
        """Replace {table} placeholders with this warehouse's table references."""
        return _PLACEHOLDER.sub(lambda m: self.table_ref(m.group(1)), sql)

    def select_sql(self, spec: TableSpec, start, end, family, columns, quote: str, marker: str) -> tuple[str, dict]:
        """The parameterized SELECT of `read`: the columns (validated), the date range and the
        family, ordered by the primary key; `quote` and `marker` are the engine's identifier quote
        and parameter prefix."""
        wanted = columns or spec.column_names
        for c in wanted:
            spec.column(c)
        where, params = [], {}
        if start is not None or end is not None:
            if spec.partition_column is None:
                raise ValueError(f"{spec.name} is not partitioned by date")
            if start is not None:
                where.append(f"{quote}{spec.partition_column}{quote} >= {marker}start")
                params["start"] = _as_date(start)
            if end is not None:
                where.append(f"{quote}{spec.partition_column}{quote} <= {marker}end")
                params["end"] = _as_date(end)
        if family is not None:
            where.append(f"{quote}{spec.family_column}{quote} = {marker}family")
            params["family"] = family
        sql = f"SELECT {', '.join(f'{quote}{c}{quote}' for c in wanted)} FROM {self.table_ref(spec.name)}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY " + ", ".join(f"{quote}{c}{quote}" for c in spec.primary_key)
        return sql, params

    @staticmethod
    def partition_condition(
        spec: TableSpec, start: dt.date, end: dt.date, family: str | None, quote: str, marker: str, alias: str = ""
    ) -> tuple[str, dict]:
        """The rows a partition write replaces: the date range, and the family when given."""
        condition = f"{alias}{quote}{spec.partition_column}{quote} BETWEEN {marker}start AND {marker}end"
        params: dict[str, Any] = {"start": start, "end": end}
        if family is not None:
            condition += f" AND {alias}{quote}{spec.family_column}{quote} = {marker}family"
            params["family"] = family
        return condition, params

    @staticmethod
    def prepare_partition_frame(
        spec: TableSpec, df: pd.DataFrame, start: dt.date, end: dt.date, family: str | None
    ) -> pd.DataFrame:
        """Validate a frame for a partition write; every row must lie in the partition being replaced."""
        if spec.partition_column is None:
            raise DataValidationError(f"{spec.name} is not partitioned; it cannot take a partition write")
        if family is not None and spec.family_column is None:
            raise DataValidationError(f"{spec.name} has no family column; a family partition makes no sense")
        frame = tables.validate(spec.name, df)
        dates = frame[spec.partition_column].dt.date
        outside = frame[(dates < start) | (dates > end)]
        if not outside.empty:
            raise DataValidationError(
                f"{spec.name}: {len(outside)} row(s) outside the partition {start}..{end}, e.g. "
                f"{outside.iloc[0][list(spec.primary_key)].to_dict()}; nothing written"
            )
        if family is not None:
            other = frame[frame[spec.family_column] != family]
            if not other.empty:
                raise DataValidationError(
                    f"{spec.name}: {len(other)} row(s) of family {other.iloc[0][spec.family_column]!r} "
                    f"in a write to family {family!r}; nothing written"
                )
        return frame


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


# (database file, table) pairs checked against their definition in this process.
_MIGRATED: set[tuple[str, str]] = set()
# Warehouse files (path, size, mtime) read whole once by this process without an error.
_VERIFIED: set[tuple[str, int, int]] = set()
# Connections opened read-only (a read-only home).
_READ_ONLY: set[int] = set()


def _writable(path: str) -> bool:
    """Whether the lock file can be opened for writing (created if missing)."""
    try:
        with open(path, "a"):
            return True
    except OSError as error:
        if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return False
        raise


class DuckDBWarehouse(Warehouse):
    """A DuckDB file. Connections are short-lived and every use holds an exclusive file lock
    (`filelock`), so several processes (Dagster's multiprocess executor, the CLI, tests) can share
    one file."""

    path: str
    lock_timeout_s: float = 600.0

    def table_ref(self, name: str) -> str:
        tables.table(name)  # unknown names fail here, not inside SQL
        return f'"{name}"'

    @contextlib.contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection under the file lock; DuckDB's errors for a file it cannot read as a database, at
        opening or at any read, become WarehouseCorrupt saying what to do."""
        try:
            with self._locked_connection() as con:
                yield con
        except duckdb.Error as exc:
            if _is_corrupt(exc):
                raise _corrupt(Path(self.path), exc) from exc
            raise

    @contextlib.contextmanager
    def _locked_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        db_path = Path(self.path)
        db_path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = f"{db_path}.lock"
        if not _writable(lock_path):
            # A read-only home (a mounted backup, another user's home): reading needs no lock, since
            # nothing can write there either.
            if not db_path.exists():
                raise FileNotFoundError(f"no warehouse at {db_path} (and its folder is read-only)")
            con = duckdb.connect(str(db_path), read_only=True)
            _READ_ONLY.add(id(con))
            try:
                yield con
            finally:
                _READ_ONLY.discard(id(con))
                con.close()
            return
        wait = self.lock_timeout_s
        deadline = time.monotonic() + wait
        # Serialize this project's processes on one file lock (filelock: flock on POSIX) ...
        lock = filelock.FileLock(lock_path)
        try:
            lock.acquire(timeout=min(wait, 1.0))
        except filelock.Timeout:
            _log.warning(
                "%s is in use by another bestbets process; waiting up to %g s (BESTBETS_LOCK_TIMEOUT_S)",
                db_path.name,
                wait,
            )
            try:
                lock.acquire(timeout=max(deadline - time.monotonic(), 0))
            except filelock.Timeout:
                raise WarehouseLocked(
                    f"{db_path} stayed in use by another bestbets process for {wait:g} s; wait for it to finish "
                    f"or raise BESTBETS_LOCK_TIMEOUT_S"
                ) from None
        try:
            con = self._open(db_path, deadline, wait)
            try:
                yield con
            finally:
                con.close()
        finally:
            lock.release()

    @staticmethod
    def _open(db_path: Path, deadline: float, wait: float) -> duckdb.DuckDBPyConnection:
        """The connection, retried with backoff (tenacity) while a foreign process (a notebook, a duckdb shell)
        holds the file, saying once who holds it."""

        def holder(exc: BaseException) -> str:
            found = _HOLDER.search(str(exc))
            return f"process {found.group(1)}" if found else "another process"

        def say_who_holds_it(state: tenacity.RetryCallState) -> None:
            if state.attempt_number == 1:
                who = holder(state.outcome.exception())
                _log.warning("%s is held by %s, waiting up to %g s (BESTBETS_LOCK_TIMEOUT_S)", db_path.name, who, wait)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(lambda e: isinstance(e, duckdb.Error) and "lock" in str(e).lower()),
            wait=tenacity.wait_random_exponential(multiplier=0.05, max=2.0),
            stop=lambda state: time.monotonic() > deadline,
            before_sleep=say_who_holds_it,
        )
        try:
            return retrying(duckdb.connect, str(db_path))
        except tenacity.RetryError as gave_up:
            exc = gave_up.last_attempt.exception()
            raise WarehouseLocked(
                f"{db_path.name} is held by {holder(exc)}; gave up after {wait:g} s. Close what holds it (a notebook, "
                f"a duckdb shell) or raise BESTBETS_LOCK_TIMEOUT_S. DuckDB: {exc}"
            ) from None

    def verify(self) -> None:
        """Hash every column of every table (0.25 s for the README replay's 20 MB): a file cut short or
        overwritten is WarehouseCorrupt here, where a read of its intact tables alone would succeed.
        Once per process and file version."""
        db_path = Path(self.path)
        if not db_path.exists():
            return
        stat = db_path.stat()
        version = (str(db_path.resolve()), stat.st_size, stat.st_mtime_ns)
        if version in _VERIFIED:
            return
        with self._connect() as con:
            for (name,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
                con.execute(f'SELECT sum(hash(COLUMNS(*))) FROM "{name}"').fetchall()
        _VERIFIED.add(version)

    def _ensure(self, con: duckdb.DuckDBPyConnection, spec: TableSpec) -> None:
        """Create the table, or migrate one created from an older definition (added columns only)."""
        if id(con) in _READ_ONLY:
            return  # nothing to create or migrate in a read-only warehouse: a missing table fails the read
        con.execute(spec.duckdb_ddl(self.table_ref(spec.name)))
        key = (str(Path(self.path).resolve()), spec.name)
        if key in _MIGRATED:
            return
        existing = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = $name ORDER BY ordinal_position",
                {"name": spec.name},
            ).fetchall()
        )
        expected = {c.name: c.duckdb_type.replace("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE") for c in spec.columns}
        for column in tables.columns_to_add(spec, existing, expected, "DuckDB"):
            con.execute(f'ALTER TABLE {self.table_ref(spec.name)} ADD COLUMN "{column.name}" {column.duckdb_type}')
        _MIGRATED.add(key)

    def create_tables(self, names: list[str] | None = None) -> None:
        with self._connect() as con:
            for name in names or list(tables.all_tables()):
                self._ensure(con, tables.table(name))

    def read(self, name, start=None, end=None, family=None, columns=None) -> pd.DataFrame:
        spec = tables.table(name)
        sql, params = self.select_sql(spec, start, end, family, columns, quote=self.QUOTE, marker=self.MARKER)
        with self._connect() as con:
            self._ensure(con, spec)
            try:
                raw = con.execute(sql, params).df()
            except duckdb.CatalogException:
                if id(con) not in _READ_ONLY:
                    raise
                raw = spec.empty_frame()[columns or spec.column_names]  # never created: it has no rows
        if columns is None:
            return tables.conform(spec, raw)
        return raw

    def _replace(self, spec: TableSpec, frame: pd.DataFrame, condition: str, params: dict) -> None:
        """One transaction: readers see the old rows or the new ones, never a mix or nothing. Refused while
        another command holds the home's writer lock (a run started by Dagster's CLI or the UI meanwhile)."""
        refuse_if_another_writes(Path(self.path).parent)
        with self._connect() as con:
            self._ensure(con, spec)
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(f"DELETE FROM {self.table_ref(spec.name)} WHERE {condition}", params)
                self._insert_frame(con, spec, frame)
                con.execute("COMMIT")
            except BaseException:
                try:
                    con.execute("ROLLBACK")
                except duckdb.Error:
                    pass  # DuckDB already ended the transaction (a full disk): the first error is the one to see
                raise

    def _insert_frame(self, con: duckdb.DuckDBPyConnection, spec: TableSpec, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        con.register("incoming_frame", frame)
        try:
            cols = ", ".join(f'"{c.name}"' for c in spec.columns)
            casts = ", ".join(f'CAST("{c.name}" AS {c.duckdb_type})' for c in spec.columns)
            con.execute(f"INSERT INTO {self.table_ref(spec.name)} ({cols}) SELECT {casts} FROM incoming_frame")
        finally:
            con.unregister("incoming_frame")

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        rendered = self.render(sql)
        duck_sql = sqlglot.transpile(rendered, read="bigquery", write="duckdb")[0]
        referenced = set(_PLACEHOLDER.findall(sql))
        with self._connect() as con:
            for name in referenced:
                self._ensure(con, tables.table(name))
            return con.execute(duck_sql, params or {}).df()
