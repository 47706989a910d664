"""Leave-one-out fold results kept on disk, so an interrupted fine-tuning resumes after its last whole fold.

Each fold starts from the same state with its own seed, so a fold's curve does not depend on the
folds before it: skipping the recorded folds gives the run it would have been. The journal is
keyed by everything that decides the folds (base model, data, center, shots, settings, groups);
a journal of another run is ignored, never mixed in.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.fsutil import atomic_write_bytes

__all__ = ["FoldJournal", "journal_key", "journal_path", "kept_folds"]


def journal_key(parts: dict[str, Any]) -> str:
    """A stable digest of what decides the folds."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def journal_path(out_dir: Path) -> Path:
    """Where ``finetune --out OUT`` keeps its fold results: a hidden sibling of OUT."""
    out_dir = Path(out_dir)
    return out_dir.parent / f".{out_dir.name}.folds.json"


def kept_folds(path: Path) -> int:
    """How many completed folds the journal at ``path`` holds (0 when there is none)."""
    try:
        curves = json.loads(Path(path).read_text())["curves"]
    except (OSError, ValueError, KeyError, TypeError):
        return 0
    return len(curves) if isinstance(curves, list) else 0


@dataclass(frozen=True)
class FoldJournal:
    path: Path
    key: str

    def load(self) -> list[dict[int, float]]:
        """The curves of the folds completed by an earlier run with the same key ([] when none)."""
        try:
            doc = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return []
        if not isinstance(doc, dict) or doc.get("key") != self.key:
            return []
        try:
            return [{int(step): float(dice) for step, dice in curve.items()} for curve in doc["curves"]]
        except (KeyError, TypeError, ValueError, AttributeError):
            return []

    def record(self, curves: list[dict[int, float]]) -> None:
        """Write the completed folds' curves (atomically: a Ctrl-C mid-write keeps the previous journal)."""
        doc = {"key": self.key, "curves": [{str(s): d for s, d in curve.items()} for curve in curves]}
        atomic_write_bytes(self.path, json.dumps(doc).encode())

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
