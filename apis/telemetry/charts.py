"""Server-side line charts: the geometry of an inline SVG, drawn by a template (no JS)."""

from dataclasses import dataclass
from datetime import datetime

WIDTH, HEIGHT = 640, 180
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 10, 24


@dataclass(frozen=True)
class Line:
    label: str
    css: str
    points: str  # "x,y x,y ..." for <polyline>
    total: float


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str
    lines: list[Line]
    y_ticks: list[tuple[float, str]]  # y position, label
    x_ticks: list[tuple[float, str, str]]  # x position, label, text-anchor
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    top: int = TOP
    bottom_edge: int = HEIGHT - BOTTOM

    @property
    def is_empty(self) -> bool:
        return all(line.total == 0 for line in self.lines)


def human(value: float, unit: str = "") -> str:
    if unit == "B":
        for suffix in ("B", "KiB", "MiB", "GiB"):
            if abs(value) < 1024 or suffix == "GiB":
                return f"{value:.0f} {suffix}" if suffix == "B" else f"{value:.1f} {suffix}"
            value /= 1024
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def line_chart(
    title: str,
    buckets: list[datetime],
    series: list[tuple[str, str, list[float]]],
    *,
    unit: str = "",
    total: bool = True,
) -> Chart:
    """`series` is (label, css class, values per bucket); the y axis starts at 0."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_value = max((max(values, default=0) for _l, _c, values in series), default=0) or 1
    n = max(len(buckets) - 1, 1)

    def x(i: int) -> float:
        return round(LEFT + plot_w * i / n, 1)

    def y(v: float) -> float:
        return round(TOP + plot_h * (1 - v / top_value), 1)

    lines = [
        Line(
            label,
            css,
            " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(values)),
            sum(values) if total else max(values, default=0),
        )
        for label, css, values in series
    ]
    y_ticks = [(y(top_value * f), human(top_value * f, unit)) for f in (0, 0.5, 1)]
    fmt = "%H:%M" if (buckets[-1] - buckets[0]).total_seconds() <= 86400 else "%d %b %H:%M"
    picks = sorted({0, len(buckets) // 2, len(buckets) - 1})
    anchors = {0: "start", len(buckets) - 1: "end"}
    x_ticks = [(x(i), buckets[i].strftime(fmt), anchors.get(i, "middle")) for i in picks]
    return Chart(title, unit, lines, y_ticks, x_ticks)


def usage_charts(series, *, with_refusals: bool = True) -> list[Chart]:
    """The four charts of a Series: attempts by state, active, messages and bytes per direction."""
    v, b = series.values, series.buckets
    attempts = [("Accepted", "accepted", v["accepted"])]
    if with_refusals:
        attempts += [("Refused", "refused", v["refused"])]
        attempts += [("Backend failed", "failed", v["backend_failed"])]
    return [
        line_chart("Connection attempts", b, attempts),
        line_chart(
            "Active connections (most at once)", b, [("Open", "active", v["active"])], total=False
        ),
        line_chart(
            "Messages",
            b,
            [
                ("Up (client → backend)", "up", v["messages_up"]),
                ("Down (backend → client)", "down", v["messages_down"]),
            ],
        ),
        line_chart(
            "Bytes",
            b,
            [
                ("Up (client → backend)", "up", v["bytes_up"]),
                ("Down (backend → client)", "down", v["bytes_down"]),
            ],
            unit="B",
        ),
    ]
