"""Terminal output shared by the site-agent commands: errors as one sentence, JSON for scripts."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from site_agent.plain_progress import PlainProgress

console = Console(stderr=True)
"""Progress, status lines, warnings and errors go to stderr, so they never mix into a command's results."""

results = Console(soft_wrap=True)
"""A command's results (tables, what was written where) go to stdout, so ``site-agent demo > run.txt`` keeps
them; with ``--json`` the JSON document is the only thing on stdout."""

EXPECTED_ERRORS: tuple[type[BaseException], ...] = (ValueError, FileNotFoundError, FileExistsError, KeyError,
                                                     PermissionError)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one clear sentence and return the exit to raise."""
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextlib.contextmanager
def expected_errors() -> Iterator[None]:
    """Turn expected errors into one sentence and exit code 2; anything else stays a bug."""
    try:
        yield
    except EXPECTED_ERRORS as exc:
        text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        raise fail(str(text)) from None


def emit_json(payload: Any) -> None:
    """Write machine output to stdout."""
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    sys.stdout.flush()


def progress(transient: bool = False) -> Progress | PlainProgress:
    """A progress bar with counts, elapsed and remaining time, on stderr; plain periodic lines when stderr is
    not a terminal (a log file, a pipe, CI), where a live bar would show nothing until the end."""
    if not console.is_terminal:
        return PlainProgress(console)
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=transient,
    )
