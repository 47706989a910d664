"""Plain progress lines for logs: one per tenth of the work, and a last line for what was not shown."""

from __future__ import annotations

import io

from rich.console import Console

from site_agent.plain_progress import PlainProgress


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=200), buffer


def test_one_line_per_tenth_with_counts_and_info() -> None:
    console, buffer = _console()

    with PlainProgress(console) as bar:
        task = bar.add_task("training", total=200, info="")
        for step in range(1, 201):
            bar.update(task, completed=step, info=f"loss {1 / step:.3f}")

    lines = buffer.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[0].startswith("training: 20/200 (10%)  loss 0.050")
    assert lines[-1].startswith("training: 200/200 (100%)")


def test_an_open_ended_task_prints_its_count_at_the_end() -> None:
    console, buffer = _console()

    with PlainProgress(console) as bar:
        task = bar.add_task("loading cases", total=None, info="")
        for case in ("d001", "d002", "d003"):
            bar.update(task, advance=1, info=case)
        assert bar.tasks[task].completed == 3

    assert buffer.getvalue().splitlines()[-1].startswith("loading cases: 3  d003")
