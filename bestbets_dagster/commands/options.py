"""The options the commands share: --home and --data-dir (in any position), dates, a date range."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import click

from bestbets_dagster import settings


def _apply_home(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    # Settings are read when the definitions are built: set them before a command imports them.
    if value is None:
        return
    path = Path(value).expanduser().resolve()
    if param.name == "data_dir":
        os.environ["BESTBETS_DATA_DIR"] = str(path)
    else:
        os.environ["BESTBETS_HOME"] = str(path)
        os.environ["DAGSTER_HOME"] = str(path / "dagster")  # one home: warehouse and instance move together
    settings.ensure_dagster_home()


def home_options(command):
    """--home and --data-dir, taken wherever they stand: before the command, after it, after an action
    (`bestbets family list --home H`). Applied to the environment as soon as they are read."""
    command = click.option(
        "--data-dir",
        callback=_apply_home,
        expose_value=False,
        is_eager=True,
        help="a directory laid out like ../shared/data/nba (default: BESTBETS_DATA_DIR, else ../shared/data/nba)",
    )(command)
    return click.option(
        "--home",
        callback=_apply_home,
        expose_value=False,
        is_eager=True,
        help="BESTBETS_HOME: warehouse, model artifacts, reports and the Dagster instance (default ./.bestbets)",
    )(command)


def command_group(name: str, help: str) -> click.Group:
    """A group of commands (`bestbets family ...`) that takes --home and --data-dir too."""

    @click.group(name=name, help=help)
    @home_options
    def group() -> None:
        pass

    return group


class DateType(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx) -> dt.date:
        from bestbets_dagster.timeutil import parse_date

        if isinstance(value, dt.date):
            return value
        try:
            return parse_date(value)
        except ValueError:
            self.fail(f"not a date (YYYY-MM-DD): {value!r}", param, ctx)


class TimeOfDayType(click.ParamType):
    name = "HH:MM"

    def convert(self, value, param, ctx) -> dt.time:
        try:
            return dt.time.fromisoformat(value)
        except ValueError:
            self.fail(f"not a time of day (HH:MM): {value!r}", param, ctx)


class SettingType(click.ParamType):
    """NAME=JSON -> (name, value), checked against the best-bets config; a bare word that is not JSON is
    taken as a string."""

    name = "NAME=JSON"

    def convert(self, value, param, ctx) -> tuple[str, object]:
        from bestbets_dagster.bestbets.config import BestBetsConfig

        name, sep, raw = value.partition("=")
        fields = BestBetsConfig.__dataclass_fields__
        if not sep or name not in fields:
            self.fail(f"{value!r}: expected NAME=JSON with NAME one of {sorted(fields)}", param, ctx)
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            parsed = raw
        try:
            BestBetsConfig.from_dict({name: parsed})
        except (TypeError, ValueError) as error:
            self.fail(f"{value!r}: {error}", param, ctx)
        return name, parsed


DATE, TIME_OF_DAY, SETTING = DateType(), TimeOfDayType(), SettingType()


def date_range(required: bool, default: str = ""):
    """--start and --end, refused when reversed before anything runs."""

    def check(ctx: click.Context, param: click.Parameter, value):
        # Whichever of the two is read second sees the other (the order on the command line decides).
        start, end = (value, ctx.params.get("end")) if param.name == "start" else (ctx.params.get("start"), value)
        if start is not None and end is not None and start > end:
            raise click.UsageError(f"the date range is reversed: --start {start} is after --end {end}", ctx)
        return value

    def decorate(command):
        command = click.option(
            "--end", type=DATE, required=required, callback=check, help=f"last game date, YYYY-MM-DD{default}"
        )(command)
        return click.option(
            "--start", type=DATE, required=required, callback=check, help=f"first game date, YYYY-MM-DD{default}"
        )(command)

    return decorate


def print_frame(df, columns: list[str]) -> None:
    import pandas as pd

    if df.empty:
        click.echo("(none)")
        return
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.max_colwidth", 60):
        click.echo(df[columns].to_string(index=False))
