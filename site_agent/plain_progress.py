"""Progress as plain lines for logs and pipes, where a live bar would print nothing until the end.

Speaks the small part of rich's ``Progress`` the commands use (``add_task``, ``update``, ``tasks``).
A task prints a line at every tenth of its total, and otherwise at most every ``every_s`` seconds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console


@dataclass
class PlainTask:
    """One task's state, as rich's ``Task`` exposes it (``completed``, ``total``, ``fields``)."""

    description: str
    total: float | None
    completed: float = 0.0
    fields: dict[str, Any] = field(default_factory=dict)
    tenth: int = 0
    printed: float = field(default_factory=time.monotonic)
    shown: float | None = None


class PlainProgress:
    """Drop-in for the progress bar when the console is not a terminal."""

    def __init__(self, console: Console, every_s: float = 30.0) -> None:
        self.console, self.every_s, self.tasks, self.started = console, every_s, [], time.monotonic()

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            for task in self.tasks:
                if task.completed and task.shown != task.completed:
                    self._line(task)

    def add_task(self, description: str, total: float | None = None, **fields: Any) -> int:
        self.tasks.append(PlainTask(description, total, fields=dict(fields)))
        return len(self.tasks) - 1

    def update(self, task_id: int, *, total: float | None = None, completed: float | None = None,
               advance: float | None = None, description: str | None = None, **fields: Any) -> None:
        task = self.tasks[task_id]
        task.total = total if total is not None else task.total
        task.completed = completed if completed is not None else task.completed + (advance or 0)
        task.description = description or task.description
        task.fields.update(fields)
        tenth = int(10 * task.completed / task.total) if task.total else 0
        if tenth > task.tenth or time.monotonic() - task.printed >= self.every_s:
            task.tenth = max(tenth, task.tenth)
            self._line(task)

    def _line(self, task: PlainTask) -> None:
        done = f"{task.completed:g}" + (f"/{task.total:g} ({task.completed / task.total:.0%})" if task.total else "")
        info = str(task.fields.get("info", "")).strip()
        elapsed = time.monotonic() - self.started
        self.console.print(f"{task.description}: {done}{f'  {info}' if info else ''}  [{elapsed:.0f} s]",
                           highlight=False, markup=False, soft_wrap=True)
        task.printed, task.shown = time.monotonic(), task.completed
