"""Review sheets a clinician checks before importing contours into the planning system.

One PNG per case: axial, coronal and sagittal CT slices through the contour's centroid (soft-tissue
window W 400 / L 40, radiological view: the patient's right on the image's left, anterior and head
up), the contour outline, the PTV volume in mL and which router and model made it; and a PDF of the
batch with a summary table. Drawn on stand-alone matplotlib figures (no pyplot state, no backend
switch), written atomically.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.fsutil import atomic_path

__all__ = ["CaseReview", "Plane", "ReviewMeta", "ptv_volume_ml", "review_case", "view_planes", "write_batch_pdf",
           "write_case_review"]

WINDOW_HU = (40.0 - 200.0, 40.0 + 200.0)  # soft tissue: level 40, width 400
CONTOUR_COLOUR = "#ff3030"
_ROWS_PER_PAGE = 28
# (name, slice axis in RAS, (left, right, top, bottom) labels)
_VIEWS = (("axial", 2, ("R", "L", "A", "P")), ("coronal", 1, ("R", "L", "S", "I")),
          ("sagittal", 0, ("A", "P", "S", "I")))


@dataclass(frozen=True)
class ReviewMeta:
    """What a review sheet names besides the images: the case, router, model (version and weights sha), note."""

    case_id: str
    router: str
    model: str
    sha: str = ""
    note: str | None = None


@dataclass(frozen=True)
class CaseReview:
    """A written review sheet and the numbers on it (a row of the batch summary)."""

    png: Path
    meta: ReviewMeta
    volume_ml: float


def ptv_volume_ml(mask: np.ndarray, affine: np.ndarray) -> float:
    """Contour volume: voxel count times voxel volume (|det| of the affine's 3x3, mm^3), in mL."""
    return float(np.count_nonzero(mask)) * abs(float(np.linalg.det(affine[:3, :3]))) / 1000.0


@dataclass(frozen=True)
class Plane:
    """One view as drawn: ``image`` and ``outline`` rows top to bottom, columns left to right on screen."""

    name: str
    image: np.ndarray
    outline: np.ndarray
    aspect: float
    labels: tuple[str, str, str, str]  # left, right, top, bottom
    index: int
    count: int


def view_planes(ct: np.ndarray, mask: np.ndarray, affine: np.ndarray) -> list[Plane]:
    """Axial, coronal and sagittal planes through the contour's centroid (the volume's centre if empty)."""
    import nibabel as nib

    if ct.shape != mask.shape or ct.ndim != 3:
        raise ValueError(f"ct {ct.shape} and mask {mask.shape} must be 3D volumes on one grid")
    ornt = nib.orientations.io_orientation(affine)  # to RAS+: axis 0 to the right, 1 anterior, 2 up
    ct_ras = nib.orientations.apply_orientation(np.asarray(ct, dtype=np.float32), ornt)
    mask_ras = nib.orientations.apply_orientation(np.asarray(mask) > 0, ornt)
    spacing = np.zeros(3)
    spacing[ornt[:, 0].astype(int)] = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    centre = (np.round(np.argwhere(mask_ras).mean(axis=0)).astype(int) if mask_ras.any()
              else np.array(ct_ras.shape) // 2)
    planes = []
    for name, axis, labels in _VIEWS:
        cut: list[int | slice] = [slice(None)] * 3
        cut[axis] = int(centre[axis])
        cols, rows = (a for a in range(3) if a != axis)
        # transpose: rows from the second in-plane axis; flip both: R, A and S end up left and top
        planes.append(Plane(name, ct_ras[tuple(cut)].T[::-1, ::-1], mask_ras[tuple(cut)].T[::-1, ::-1],
                            float(spacing[rows] / spacing[cols]), labels, int(centre[axis]), ct_ras.shape[axis]))
    return planes


def write_case_review(ct: np.ndarray, mask: np.ndarray, affine: np.ndarray, meta: ReviewMeta,
                      out_png: str | os.PathLike[str]) -> CaseReview:
    """Draw the three views of ``ct`` with the outline of ``mask`` (same grid, ``affine`` to RAS) to ``out_png``."""
    volume = ptv_volume_ml(mask, affine)
    fig = _figure((13.0, 5.0))
    axes = fig.subplots(1, 3)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.8, bottom=0.07, wspace=0.06)
    for ax, plane in zip(axes, view_planes(ct, mask, affine), strict=True):
        ax.imshow(plane.image, cmap="gray", vmin=WINDOW_HU[0], vmax=WINDOW_HU[1], interpolation="nearest",
                  aspect=plane.aspect)
        if plane.outline.any():
            ax.contour(plane.outline.astype(np.float32), levels=[0.5], colors=CONTOUR_COLOUR, linewidths=1.2)
        _orientation_labels(ax, plane.labels)
        ax.set_title(f"{plane.name} (slice {plane.index + 1} of {plane.count})", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    contour = f"PTV {volume:.1f} mL" if volume else "no contour predicted"
    model = f"{meta.model} (weights {meta.sha[:12]})" if meta.sha else meta.model
    note = textwrap.shorten(meta.note, 150) if meta.note else "no clinical note (image only)"
    fig.suptitle(f"{meta.case_id}: {contour}; router {meta.router}; model {model}\n{note}", fontsize=11)
    fig.text(0.5, 0.015, f"CT window W {WINDOW_HU[1] - WINDOW_HU[0]:g} / L {sum(WINDOW_HU) / 2:g} HU; contour in "
             "red; radiological view (patient's right on the image's left)", ha="center", fontsize=8, color="#444444")
    out = Path(out_png)
    with atomic_path(out, mode=0o644) as tmp:  # a report is read by others
        fig.savefig(tmp, format="png", dpi=100)
    return CaseReview(out, meta, volume)


def review_case(image: Path, mask_path: Path, out_png: Path, meta: ReviewMeta) -> CaseReview:
    """Read a case's CT and its predicted mask (any format ``image_io`` reads) and write its review sheet."""
    from models.data.image_io import load_image

    ct, mask = load_image(image), load_image(mask_path)
    return write_case_review(np.asanyarray(ct.dataobj), np.asanyarray(mask.dataobj), ct.affine, meta, out_png)


def write_batch_pdf(reviews: Sequence[CaseReview], out_pdf: str | os.PathLike[str]) -> Path:
    """One PDF: a summary table (case, PTV mL, router, model) then one page per case's review sheet."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.image import imread

    if not reviews:
        raise ValueError("no case reviews to put in the PDF")
    out = Path(out_pdf)
    with atomic_path(out, mode=0o644) as tmp, PdfPages(tmp) as pdf:
        for start in range(0, len(reviews), _ROWS_PER_PAGE):
            pdf.savefig(_summary_page(reviews[start:start + _ROWS_PER_PAGE], start, len(reviews)))
        for review in reviews:
            page = _figure((13.0, 5.4))
            ax = page.add_axes((0, 0, 1, 1))
            ax.imshow(imread(review.png))
            ax.set_axis_off()
            pdf.savefig(page)
    return out


def _summary_page(rows: Sequence[CaseReview], start: int, total: int):  # noqa: ANN202 - a matplotlib Figure
    page = _figure((11.7, 8.3))
    ax = page.add_axes((0.04, 0.04, 0.92, 0.84))
    ax.set_axis_off()
    page.suptitle(f"Predicted PTV contours for review: cases {start + 1}-{start + len(rows)} of {total}", fontsize=13)
    cells = [[r.meta.case_id, f"{r.volume_ml:.1f}" if r.volume_ml else "none", r.meta.router, r.meta.model,
              r.meta.sha[:12], "yes" if r.meta.note else "no"] for r in rows]
    table = ax.table(cellText=cells, colLabels=["case", "PTV (mL)", "router", "model", "weights", "note"],
                     loc="upper center", cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1.0, 1.3)
    return page


def _orientation_labels(ax, labels: tuple[str, str, str, str]) -> None:  # noqa: ANN001 - matplotlib Axes
    style = {"transform": ax.transAxes, "color": "#ffd400", "fontsize": 11, "fontweight": "bold"}
    left, right, top, bottom = labels
    ax.text(0.02, 0.5, left, ha="left", va="center", **style)
    ax.text(0.98, 0.5, right, ha="right", va="center", **style)
    ax.text(0.5, 0.98, top, ha="center", va="top", **style)
    ax.text(0.5, 0.02, bottom, ha="center", va="bottom", **style)


def _figure(size: tuple[float, float]):  # noqa: ANN202 - a matplotlib Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(fig)
    return fig
