"""``hub gc``: report or remove crash leftovers (stale temp parts, blobs no database row refers to)."""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli_support import DataDirOpt, DbOpt, JsonOpt, context, emit, handle_errors
from hub.services.gc import MIN_AGE_S, collect


@handle_errors
def gc_command(dry_run: Annotated[bool, typer.Option(
                   "--dry-run", help="Only report what would be removed; remove nothing.")] = False,
               min_age: Annotated[float, typer.Option(
                   min=0, help="Leave files younger than this many seconds alone (an upload may still be writing "
                               "them).")] = MIN_AGE_S,
               data_dir: DataDirOpt = None, db: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Remove orphan blobs and stale upload parts; blobs listed in the database are never touched."""
    ctx = context(data_dir, db)
    report = collect(ctx.factory, ctx.store, dry_run=dry_run, min_age_s=min_age)
    if json_out:
        emit(report.as_dict(), True)
        return
    verb = "would remove" if dry_run else "removed"
    typer.echo(f"{verb} {len(report.stale_parts)} stale temp part(s) and {len(report.orphan_blobs)} orphan blob(s), "
               f"{report.freed_bytes} bytes")
    for name in report.stale_parts:
        typer.echo(f"  part  .tmp/{name}")
    for sha in report.orphan_blobs:
        typer.echo(f"  blob  {sha}")
    for sha in report.missing_blobs:
        typer.echo(f"  MISSING blob {sha} is in the database but not on disk", err=True)
