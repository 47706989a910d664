"""Synthetic multi-center pelvic CT datasets in the dataset.json contract.

``synthesize_case`` makes one patient in memory; ``generate_center`` writes a whole dataset
folder atomically (built in a temporary sibling folder, then renamed into place).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from models.data.clinical import ClinicalNote, RiskGroup, format_note, nccn_risk_group
from models.data.synthetic.anatomy import Anatomy
from models.data.synthetic.geometry import Grid
from models.data.synthetic.notes import BALANCED_GROUPS, RISK_MIXES, sample_note, sample_note_for_risk
from models.data.synthetic.policy import Targets
from models.data.synthetic.presets import CenterPreset, load_preset
from models.data.synthetic.randomization import DomainRandomization, resolve_randomization
from models.data.synthetic.render import render
from models.data.synthetic.variant import RENDERERS

__all__ = ["DEFAULT_FOV_MM", "SyntheticCase", "generate_center", "synthesize_case"]

DEFAULT_FOV_MM = (240.0, 200.0, 150.0)


@dataclass
class SyntheticCase:
    case_id: str
    ct: np.ndarray  # int16 HU as the scanner saw it
    affine: np.ndarray
    note: ClinicalNote
    intent: str
    risk: RiskGroup
    anatomy: Anatomy
    targets: Targets
    grid: Grid
    rendering: dict[str, Any] = field(default_factory=dict)  # renderer, randomized and what was drawn

    @property
    def clinical(self) -> str:
        return format_note(self.note)


def _case_rng(seed: int, center: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, index, *center.encode()])


def synthesize_case(preset: CenterPreset, index: int, seed: int = 0, *, scale: float = 1.0,
                    field_of_view_mm: tuple[float, float, float] = DEFAULT_FOV_MM,
                    spacing_override: tuple[float, float, float] | None = None,
                    contrast: bool = False, risk_mix: str = "center",
                    randomize: DomainRandomization | bool = False, renderer: str = "standard") -> SyntheticCase:
    """Patient ``index`` of a center: deterministic for (preset code, seed, index).

    ``risk_mix="balanced"`` cycles the patients through the risk groups that decide a policy
    (low, intermediate, high, very high, node-positive) instead of the center's own mix.
    ``randomize`` (True or a ``DomainRandomization``) draws anatomy, tissue values, textures,
    field of view, gas, metal and scanner from wide ranges; ``renderer="variant"`` is the
    held-out renderer for robustness tests (see variant.py), never for training.
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if risk_mix not in RISK_MIXES:
        raise ValueError(f"risk_mix must be one of {', '.join(RISK_MIXES)}, got {risk_mix!r}")
    if renderer not in RENDERERS:
        raise ValueError(f"renderer must be one of {', '.join(RENDERERS)}, got {renderer!r}")
    dr = resolve_randomization(randomize)
    rng = _case_rng(seed, preset.code, index)
    sc = preset.scanner
    spacing = spacing_override or (sc.pixel_mm, sc.pixel_mm, sc.slice_mm)
    if risk_mix == "balanced":
        group = BALANCED_GROUPS[(index + seed) % len(BALANCED_GROUPS)]
        note, intent = sample_note_for_risk(preset.clinical_mix, group, rng)
    else:
        note, intent = sample_note(preset.clinical_mix, rng)
    risk = nccn_risk_group(note)
    out = render(preset, rng, risk, prostatectomy=intent != "definitive", scale=scale,
                 field_of_view_mm=field_of_view_mm, spacing=spacing, contrast=contrast, randomization=dr,
                 renderer=renderer)
    return SyntheticCase(case_id=f"{preset.code.lower()}{index + 1:03d}", ct=out.ct, affine=out.grid.affine,
                         note=note, intent=intent, risk=risk, anatomy=out.anatomy, targets=out.targets,
                         grid=out.grid, rendering=out.info)


def _save(array: np.ndarray, affine: np.ndarray, path: Path, dtype: type) -> None:
    img = nib.Nifti1Image(array.astype(dtype), affine)
    img.header.set_xyzt_units("mm")
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    nib.save(img, path)


def _entry(case: SyntheticCase, folder: Path) -> dict[str, str]:
    name = f"{case.case_id}.nii.gz"
    _save(case.ct, case.affine, folder / "imagesTr" / name, np.int16)
    _save(case.targets.ptv, case.affine, folder / "labelsTr" / name, np.uint8)
    _save(case.anatomy.masks["prostate"], case.affine, folder / "organsTr" / name, np.uint8)
    entry = {"id": case.case_id, "image": f"imagesTr/{name}", "label": f"labelsTr/{name}",
             "organ": f"organsTr/{name}"}
    if case.targets.gtv is not None:
        _save(case.targets.gtv, case.affine, folder / "gtvTr" / name, np.uint8)
        entry["gtv"] = f"gtvTr/{name}"
    entry.update(clinical=case.clinical, intent=case.intent)
    return entry


def generate_center(center: str | Path | CenterPreset, n_cases: int, out_dir: str | Path, seed: int = 0,
                    scale: float = 1.0, *, field_of_view_mm: tuple[float, float, float] = DEFAULT_FOV_MM,
                    spacing_override: tuple[float, float, float] | None = None, contrast: bool = False,
                    risk_mix: str = "center", randomize: DomainRandomization | bool = False,
                    renderer: str = "standard", overwrite: bool = False,
                    progress: Callable[[int, int], None] | None = None) -> Path:
    """Write ``n_cases`` patients of ``center`` (code, preset path or preset) to ``out_dir``.

    Layout: imagesTr/ (int16 CT), labelsTr/ (PTV), organsTr/ (prostate), gtvTr/ (definitive
    cases only), dataset.json. Refuses a non-empty ``out_dir`` unless ``overwrite``.
    ``progress(done, total)`` is called after each case. ``randomize`` and ``renderer`` are
    recorded at the top level of dataset.json (``"randomized"``, ``"renderer"``).
    """
    preset = center if isinstance(center, CenterPreset) else load_preset(center)
    if n_cases < 1:
        raise ValueError(f"n_cases must be at least 1, got {n_cases}")
    if renderer not in RENDERERS:
        raise ValueError(f"renderer must be one of {', '.join(RENDERERS)}, got {renderer!r}")
    randomized = resolve_randomization(randomize) is not None
    out = Path(out_dir).resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise FileExistsError(f"output folder {out} is not empty; pass overwrite=True (--overwrite) to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        for sub in ("imagesTr", "labelsTr", "organsTr", "gtvTr"):
            (tmp / sub).mkdir()
        entries = []
        for i in range(n_cases):
            case = synthesize_case(preset, i, seed, scale=scale, field_of_view_mm=field_of_view_mm,
                                   spacing_override=spacing_override, contrast=contrast, risk_mix=risk_mix,
                                   randomize=randomize, renderer=renderer)
            entries.append(_entry(case, tmp))
            if progress is not None:
                progress(i + 1, n_cases)
        sc = preset.scanner
        doc = {"name": f"Center{preset.code}", "description": preset.name, "center": preset.code,
               "scanner": {"manufacturer": sc.manufacturer, "model": sc.model, "kvp": sc.kvp, "filter": sc.filter},
               "modality": {"0": "CT"}, "labels": {"0": "background", "1": "PTV"},
               "numTraining": len(entries), "seed": seed, "risk_mix": risk_mix, "randomized": randomized,
               "renderer": renderer, "training": entries, "test": []}
        (tmp / "dataset.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            old = out.with_name(f".{out.name}.old-{tmp.name[-8:]}")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
