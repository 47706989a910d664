"""Progress display for long model work (loading cases, optimisation steps)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from site_agent.console import progress


@contextlib.contextmanager
def step_progress(
    steps: int, *, label: str = "training", quiet: bool = False
) -> Iterator[tuple[Callable[[int, float, float | None], None], Callable[[str], None]]]:
    """Yield (on_step, on_case) callbacks that drive a progress bar with loss and validation Dice."""
    with progress(transient=quiet) as bar:
        cases = bar.add_task("loading cases", total=None, info="")
        task = bar.add_task(label, total=steps, info="")
        best: list[float] = []

        def on_case(case_id: str) -> None:
            bar.update(cases, advance=1, info=case_id)

        def on_step(step: int, loss: float, val_dice: float | None) -> None:
            if val_dice is not None:
                best.append(val_dice)
            done = "kept from the interrupted run" if loss != loss else f"loss {loss:.3f}"  # NaN: a resumed fold
            info = done + (f"  val Dice {best[-1]:.3f} (best {max(best):.3f})" if best else "")
            bar.update(task, completed=step, info=info)

        yield on_step, on_case
        bar.update(cases, total=bar.tasks[0].completed)
