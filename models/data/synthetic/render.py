"""Draw one patient's image and labels: grid, anatomy, looks, delineation, warp and scanner.

The order of random draws is fixed, so a case is deterministic for its rng; with randomisation
off and the standard renderer the draws are exactly those of the plain generator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from models.data.clinical import RiskGroup
from models.data.synthetic.anatomy import HU, Anatomy, build_anatomy
from models.data.synthetic.appearance import add_gas, add_texture
from models.data.synthetic.geometry import Grid, make_grid
from models.data.synthetic.metal import add_prosthesis, add_streaks
from models.data.synthetic.policy import Targets, delineate
from models.data.synthetic.presets import CenterPreset
from models.data.synthetic.randomization import DomainRandomization, draw_fov, draw_hu_table
from models.data.synthetic.scanner import acquire
from models.data.synthetic.variant import VARIANT_HU, VARIANT_NOISE_CORR_MM, deform, variant_geometry

__all__ = ["Rendered", "render"]

Vec = tuple[float, float, float]


@dataclass
class Rendered:
    ct: np.ndarray
    grid: Grid
    anatomy: Anatomy
    targets: Targets
    info: dict[str, Any] = field(default_factory=dict)  # what was drawn: renderer, FOV, metal, gas, ...


def render(preset: CenterPreset, rng: np.random.Generator, risk: RiskGroup, *, prostatectomy: bool, scale: float,
           field_of_view_mm: Vec, spacing: Vec, contrast: bool = False,
           randomization: DomainRandomization | None = None, renderer: str = "standard") -> Rendered:
    """One patient's scan and delineation by ``renderer``, randomised when ``randomization`` is given."""
    dr, variant, sc = randomization, renderer == "variant", preset.scanner
    fov, orientation = field_of_view_mm, sc.orientation
    if dr is not None:
        fov = draw_fov(dr, rng, fov)
    if variant:
        fov, spacing, orientation = variant_geometry(fov, spacing, orientation)
    grid = make_grid(tuple(f * scale for f in fov), spacing, orientation)
    table, info = VARIANT_HU if variant else HU, {"renderer": renderer, "randomized": dr is not None}
    info.update(fov_mm=tuple(round(f * scale, 2) for f in fov), spacing_mm=grid.spacing, orientation=orientation)
    if dr is not None:
        table, info["bladder_contrast"] = draw_hu_table(dr, rng, table)
    anatomy = build_anatomy(grid, rng, scale=scale, prostatectomy=prostatectomy, contrast=contrast,
                            randomization=dr, hu_table=table)
    if dr is not None:
        if not variant:
            info["texture"] = add_texture(anatomy, grid, dr, rng, scale=scale)
        info.update(add_gas(anatomy, grid, dr, rng, scale=scale))
        info["metal"] = add_prosthesis(anatomy, grid, dr, rng)
    targets = delineate(anatomy, grid, preset.policy, risk, scale=scale)
    if variant:
        anatomy, targets, info["warp_peak_mm"] = deform(anatomy, targets, grid, rng, scale=scale)
    if dr is not None:
        info["streaks"] = add_streaks(anatomy, grid, dr, rng, scale=scale)
    ct = acquire(anatomy.hu, sc, grid.spacing, rng, randomization=dr,
                 noise_corr_mm=VARIANT_NOISE_CORR_MM if variant else 0.0)
    return Rendered(ct=ct, grid=grid, anatomy=anatomy, targets=targets, info=info)
