"""Keep a torchvision built for another torch from breaking the note encoder.

transformers imports torchvision whenever one is installed (its image utilities come with every
model class), and a torchvision of another build fails on import with "operator torchvision::nms
does not exist"; installing nnU-Net next to the site agent brings such a build. The site agent never
uses torchvision, so the encoder loads with it hidden. Needs only the standard library.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

__all__ = ["torchvision_hidden", "torchvision_problem"]


@contextlib.contextmanager
def torchvision_hidden() -> Iterator[None]:
    """Within the block, torchvision is invisible: ``import torchvision`` raises ImportError and
    ``find_spec`` finds nothing (a ``None`` entry in ``sys.modules`` is Python's documented import
    block), so transformers decides, once and for good, that there is no torchvision."""
    if "torchvision" in sys.modules:  # imported already (so it works) or hidden already: nothing to do
        yield
        return
    sys.modules["torchvision"] = None  # type: ignore[assignment]
    _forget_torchvision_checks()
    try:
        yield
    finally:
        if "torchvision" in sys.modules and sys.modules["torchvision"] is None:
            del sys.modules["torchvision"]


def _forget_torchvision_checks() -> None:
    """transformers may already be imported (MONAI imports it for its Transchex network) and have cached
    "torchvision is available"; its checks are ``functools.lru_cache``-d, so they are cleared to look again."""
    checks = sys.modules.get("transformers.utils.import_utils")
    for name in ("is_torchvision_available", "is_torchvision_v2_available"):
        clear = getattr(getattr(checks, name, None), "cache_clear", None)
        if clear is not None:
            clear()


def torchvision_problem(timeout_s: float = 300.0) -> tuple[str, str] | None:
    """``(version, error)`` when a torchvision is installed but does not import next to this torch, else None.

    The import runs in a child process: a torchvision of another build can fail half-way through
    registering its operators, which should not happen inside the caller (nor be hidden by it).
    """
    try:
        run = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=timeout_s,
                             check=False)
    except subprocess.TimeoutExpired:
        return "(version unknown)", f"importing torchvision took more than {timeout_s:g} s"
    if run.returncode == 0:
        return None
    lines = [ln for ln in run.stderr.strip().splitlines() if ln.strip()]
    return (run.stdout.strip() or "(version unknown)"), (lines[-1] if lines else f"exit status {run.returncode}")


_PROBE = """\
import importlib.metadata, importlib.util, sys
if importlib.util.find_spec("torchvision") is None:
    sys.exit(0)
try:
    print(importlib.metadata.version("torchvision"), flush=True)
except importlib.metadata.PackageNotFoundError:
    print("(version unknown)", flush=True)
import torchvision
"""
