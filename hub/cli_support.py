"""Shared CLI plumbing: common options, settings from flags, one-sentence errors, JSON or table output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError

from hub.api.deps import HubContext
from hub.context import build_context
from hub.errors import HubError
from hub.settings import HubSettings

DataDirOpt = Annotated[Path | None, typer.Option(
    "--data-dir", envvar="MOME_HUB_DATA_DIR", show_envvar=True,
    help="The hub's data folder: SQLite database, blobs/ and the signing key. Default: ./hub-data.")]
DbOpt = Annotated[str | None, typer.Option(
    "--db", help="The database as an SQLAlchemy URL, e.g. postgresql+psycopg://hub@db/hub (env MOME_HUB_DB). "
                 "Default: the SQLite file in the data folder.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout instead of a table.")]
F = TypeVar("F", bound=Callable[..., Any])


def settings_from(data_dir: Path | None, db: str | None, **extra: Any) -> HubSettings:
    given = {k: v for k, v in {"data_dir": data_dir, "db": db, **extra}.items() if v is not None}
    return HubSettings(**given)


def context(data_dir: Path | None, db: str | None) -> HubContext:
    """Every command brings the schema up to date before it touches the database."""
    return build_context(settings_from(data_dir, db))


def fail(message: str, code: int = 1) -> None:
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def handle_errors(fn: F) -> F:
    """Expected errors become one sentence on stderr and a non-zero exit, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except HubError as err:
            fail(str(err))
        except ValidationError as err:
            e = err.errors()[0]
            fail(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}")
        except OperationalError as err:
            fail(f"cannot use the database: {str(err.orig).strip().splitlines()[0]}")
        except (OSError, ValueError) as err:
            fail(str(err))

    return wrapper  # type: ignore[return-value]


def emit(data: BaseModel | Sequence[BaseModel] | dict, as_json: bool, columns: Sequence[str] = (),
         title: str | None = None) -> None:
    """Print ``data`` as JSON or as a table of ``columns``."""
    if isinstance(data, BaseModel):
        payload: Any = data.model_dump(mode="json")
    elif isinstance(data, dict):
        payload = data
    else:
        payload = [d.model_dump(mode="json") for d in data]
    if as_json:
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    rows = payload if isinstance(payload, list) else [payload]
    cols = list(columns) or (list(rows[0]) if rows else [])
    table = Table(title=title)
    for c in cols:
        table.add_column(c)
    for r in rows:
        table.add_row(*[_cell(r.get(c)) for c in cols])
    Console(width=160).print(table)


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, list | dict):
        return json.dumps(v) if len(json.dumps(v)) < 60 else f"[{len(v)} items]"
    return str(v)
