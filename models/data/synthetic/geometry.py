"""A voxel grid in world millimetres (RAS+) and solid shapes rasterised on it.

The grid's affine is diagonal (a scanner without gantry tilt), so world coordinates are
separable: x depends on the first voxel index only, and so on. Shapes are evaluated inside
their bounding box only, which keeps a default-size case at about a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Grid", "make_grid"]

Vec = tuple[float, float, float]


@dataclass(frozen=True)
class Grid:
    shape: tuple[int, int, int]
    spacing: Vec
    affine: np.ndarray
    axes: tuple[np.ndarray, np.ndarray, np.ndarray]  # world x, y, z of voxel centres per axis

    def empty(self) -> np.ndarray:
        return np.zeros(self.shape, dtype=bool)

    def _box(self, lo: Vec, hi: Vec) -> tuple[slice, ...] | None:
        box = []
        for coords, a, b in zip(self.axes, lo, hi, strict=True):
            idx = np.nonzero((coords >= a) & (coords <= b))[0]
            if idx.size == 0:
                return None
            box.append(slice(int(idx[0]), int(idx[-1]) + 1))
        return tuple(box)

    def _coords(self, box: tuple[slice, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, y, z = (c[s] for c, s in zip(self.axes, box, strict=True))
        return x[:, None, None], y[None, :, None], z[None, None, :]

    def ellipsoid(self, center: Vec, radii: Vec, angle_deg: float = 0.0) -> np.ndarray:
        """Solid ellipsoid, optionally rotated by ``angle_deg`` about the z axis."""
        out = self.empty()
        reach = max(radii[0], radii[1]) if angle_deg else None
        half = (reach, reach, radii[2]) if reach else radii
        lo = tuple(c - h for c, h in zip(center, half, strict=True))
        box = self._box(lo, tuple(c + h for c, h in zip(center, half, strict=True)))
        if box is None:
            return out
        x, y, z = self._coords(box)
        dx, dy, dz = x - center[0], y - center[1], z - center[2]
        if angle_deg:
            t = np.deg2rad(angle_deg)
            dx, dy = dx * np.cos(t) + dy * np.sin(t), -dx * np.sin(t) + dy * np.cos(t)
        out[box] = (dx / radii[0]) ** 2 + (dy / radii[1]) ** 2 + (dz / radii[2]) ** 2 <= 1.0
        return out

    def elliptic_cylinder(self, center_xy: tuple[float, float], radii_xy: tuple[float, float],
                          z_range: tuple[float, float]) -> np.ndarray:
        out = self.empty()
        (cx, cy), (rx, ry) = center_xy, radii_xy
        box = self._box((cx - rx, cy - ry, z_range[0]), (cx + rx, cy + ry, z_range[1]))
        if box is None:
            return out
        x, y, z = self._coords(box)
        inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0
        out[box] = np.broadcast_to(inside, out[box].shape)
        return out

    def capsule(self, p0: Vec, p1: Vec, radius: float) -> np.ndarray:
        """All points within ``radius`` of the segment p0-p1 (a tube with round ends)."""
        out = self.empty()
        a, b = np.asarray(p0, dtype=np.float32), np.asarray(p1, dtype=np.float32)
        box = self._box(tuple(np.minimum(a, b) - radius), tuple(np.maximum(a, b) + radius))
        if box is None:
            return out
        x, y, z = self._coords(box)
        d = b - a
        length2 = float(d @ d) or 1.0
        t = np.clip(((x - a[0]) * d[0] + (y - a[1]) * d[1] + (z - a[2]) * d[2]) / length2, 0.0, 1.0)
        dist2 = (x - a[0] - t * d[0]) ** 2 + (y - a[1] - t * d[1]) ** 2 + (z - a[2] - t * d[2]) ** 2
        out[box] = dist2 <= radius**2
        return out


def make_grid(fov_mm: Vec, spacing: Vec, orientation: str) -> Grid:
    """A grid covering ``fov_mm`` centred on the world origin, voxel axes in ``orientation``.

    'RAS': voxel indices grow toward the patient's right, anterior and superior (as nibabel's
    world axes do); 'LPS' (DICOM order): toward left, posterior and superior.
    """
    if orientation not in ("RAS", "LPS"):
        raise ValueError(f"orientation must be 'RAS' or 'LPS', got {orientation!r}")
    shape = tuple(max(int(round(f / s)), 1) for f, s in zip(fov_mm, spacing, strict=True))
    signs = (1.0, 1.0, 1.0) if orientation == "RAS" else (-1.0, -1.0, 1.0)
    affine = np.eye(4)
    axes = []
    for i, (n, s, sign) in enumerate(zip(shape, spacing, signs, strict=True)):
        origin = -sign * (n - 1) / 2.0 * s
        affine[i, i], affine[i, 3] = sign * s, origin
        axes.append((origin + sign * s * np.arange(n)).astype(np.float32))
    return Grid(shape=shape, spacing=tuple(float(s) for s in spacing), affine=affine, axes=tuple(axes))
