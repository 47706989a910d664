"""Chart geometry for the console's inline SVG; the templates draw it (autoescaped, no inline styles).

Hand-drawn instead of matplotlib: the console's Content-Security-Policy forbids inline styles,
which matplotlib's SVG relies on, and a few lines of geometry keep plotting off the request path.
"""

from __future__ import annotations

from dataclasses import dataclass

PALETTE = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 52, 120, 16, 44


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    points: list[Point]

    @property
    def path(self) -> str:
        return " ".join(f"{'M' if i == 0 else 'L'}{p.x:.1f},{p.y:.1f}" for i, p in enumerate(self.points))


@dataclass(frozen=True)
class LineChart:
    """Pixel coordinates of series, axis ticks and legend for one chart."""

    width: int
    height: int
    series: list[Series]
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    plot: tuple[float, float, float, float]  # left, top, right, bottom


def line_chart(data: dict[str, list[tuple[int, float, int]]]) -> LineChart:
    """``{name: [(shots, dice, router id)]}`` → a chart with Dice 0-1 upwards and shots to the right."""
    xs = sorted({x for pts in data.values() for x, _, _ in pts}) or [0]
    x0, x1 = xs[0], xs[-1]
    left, top, right, bottom = LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM

    def px(x: float) -> float:
        return (left + right) / 2 if x1 == x0 else left + 16 + (x - x0) / (x1 - x0) * (right - left - 32)

    def py(y: float) -> float:
        return bottom - y * (bottom - top)

    series = [Series(name, PALETTE[i % len(PALETTE)],
                     [Point(px(x), py(y), f"{name}: {y:.3f} Dice at {x} shots (router {rid})") for x, y, rid in pts])
              for i, (name, pts) in enumerate(data.items())]
    return LineChart(WIDTH, HEIGHT, series, [(px(x), str(x)) for x in xs],
                     [(py(v / 5), f"{v / 5:.1f}") for v in range(6)], (left, top, right, bottom))


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    opacity: float
    text: str
    title: str


@dataclass(frozen=True)
class Heatmap:
    width: int
    height: int
    cells: list[Cell]
    rows: list[tuple[float, str]]
    cols: list[tuple[float, str]]
    size: tuple[float, float]


def heatmap(rows: dict[str, list[float]], *, cell_w: float = 58, cell_h: float = 30, label_w: float = 110) -> Heatmap:
    """``{layer: [share per expert]}`` → one row per layer, one column per expert, darker = more tokens."""
    n_cols = max((len(v) for v in rows.values()), default=0)
    peak = max((x for v in rows.values() for x in v), default=0.0) or 1.0
    cells = [Cell(label_w + j * cell_w, 24 + i * cell_h, round(0.08 + 0.92 * share / peak, 3), f"{share:.2f}",
                  f"{layer}, expert {j}: {share:.1%} of tokens")
             for i, (layer, shares) in enumerate(rows.items()) for j, share in enumerate(shares)]
    return Heatmap(int(label_w + n_cols * cell_w + 8), int(24 + len(rows) * cell_h + 8), cells,
                   [(24 + i * cell_h + cell_h / 2, layer) for i, layer in enumerate(rows)],
                   [(label_w + j * cell_w + cell_w / 2, f"E{j}") for j in range(n_cols)], (cell_w, cell_h))
