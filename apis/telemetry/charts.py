"""Server-side line charts: an SVG plot, round-number axis ticks and each bucket's values."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

# The plot's own coordinates. The SVG stretches to its box (preserveAspectRatio="none") and holds
# no text: axis labels are HTML beside it, so their size is CSS pixels at any page width.
PLOT_W, PLOT_H = 1000, 100
BYTE_UNITS = ("B", "KiB", "MiB", "GiB")
TICK_INTERVALS = 5  # about this many gaps between y-axis labels
X_STEPS = [timedelta(minutes=m) for m in (15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080)]


@dataclass(frozen=True)
class Line:
    label: str
    css: str
    points: str  # "x,y x,y ..." for <polyline>, in PLOT_W x PLOT_H coordinates
    total: float
    total_label: str


@dataclass(frozen=True)
class Tick:
    at: float  # percent: from the top of the plot (y axis) or from its left edge (x axis)
    label: str
    anchor: str = "middle"  # x axis: which end of the label sits on the tick


@dataclass(frozen=True)
class Cell:
    label: str  # the value as shown
    top: float  # percent from the top of the plot: where the value's point is drawn


@dataclass(frozen=True)
class Bucket:
    label: str  # its time span, e.g. "14:05–14:06"
    cells: list[Cell]  # one per line, in the order of Chart.lines


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str
    lines: list[Line]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    buckets: list[Bucket]
    plot_w: int = PLOT_W
    plot_h: int = PLOT_H

    @property
    def is_empty(self) -> bool:
        return all(line.total == 0 for line in self.lines)


def human(value: float, unit: str = "") -> str:
    """A figure as a person reads it: "1.5 KiB" for bytes, whole counts with separators."""
    if unit == "B":
        for suffix in BYTE_UNITS:
            if abs(value) < 1024 or suffix == BYTE_UNITS[-1]:
                return f"{value:.0f} {suffix}" if suffix == "B" else f"{value:.1f} {suffix}"
            value /= 1024
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}"


def duration_words(span: timedelta) -> str:
    """`timedelta(minutes=15)` -> "15 minutes", `timedelta(hours=1)` -> "1 hour"."""
    seconds = int(span.total_seconds())
    for size, name in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if seconds and seconds % size == 0:
            count = seconds // size
            return f"{count} {name}" if count == 1 else f"{count} {name}s"
    return "0 seconds"


def nice_step(top: float, *, whole: bool) -> float:
    """A round gap between ticks (1, 2 or 5 times a power of ten) giving about
    TICK_INTERVALS gaps up to `top`; never below 1 for things counted in whole units."""
    raw = top / TICK_INTERVALS
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))
    return max(step, 1.0) if whole else step


def y_axis(top_value: float, unit: str) -> tuple[float, list[tuple[float, str]]]:
    """The axis' top and its ticks (value, label). Counts get whole-number ticks only; bytes
    get round numbers of the unit the top reads in (B, KiB, ...), whole bytes below 1 KiB."""
    scale, unit_name = 1.0, ""
    if unit == "B":
        power = 0
        while top_value >= 1024 * scale and power < len(BYTE_UNITS) - 1:
            scale *= 1024
            power += 1
        unit_name = BYTE_UNITS[power]
    top_in_unit = top_value / scale
    step = nice_step(top_in_unit, whole=(scale == 1))
    intervals = max(1, math.ceil(top_in_unit / step - 1e-9))
    ticks = []
    for i in range(intervals + 1):
        value = round(step * i, 9)
        ticks.append((value * scale, _tick_label(value, step * intervals, unit_name)))
    return step * intervals * scale, ticks


def _tick_label(value: float, top: float, unit_name: str) -> str:
    if unit_name:
        return f"{value:g} {unit_name}"
    if top >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if top >= 10_000:
        return f"{value / 1000:g}k"
    return f"{value:,.0f}"


def _bucket_spans(buckets: list[datetime], width: timedelta) -> list[str]:
    """Each bucket's time span, e.g. "14:05–14:06"; with its day over ranges beyond a day."""
    long_range = (buckets[-1] - buckets[0]) > timedelta(days=1)
    start_format = "%a %d %b %H:%M" if long_range else "%H:%M"
    return [f"{b.strftime(start_format)}–{(b + width).strftime('%H:%M')}" for b in buckets]


def _x_ticks(buckets: list[datetime]) -> list[Tick]:
    """Labels at round times (every 15 minutes over an hour, 6 hours over a day, ...), at most
    five, placed where that time falls between the first and last bucket."""
    first, last = buckets[0], buckets[-1]
    span = last - first
    if span <= timedelta(0):
        return [Tick(0, first.strftime("%H:%M"), "start")]
    step = next((s for s in X_STEPS if span / s <= 4), X_STEPS[-1])
    label = "%d %b" if step >= timedelta(days=1) else "%H:%M"
    at = first.replace(hour=0, minute=0, second=0, microsecond=0)
    at += math.ceil((first - at) / step) * step
    ticks = []
    while at <= last:
        where = round(100 * ((at - first) / span), 2)
        anchor = "start" if where < 5 else "end" if where > 95 else "middle"
        ticks.append(Tick(where, at.strftime(label), anchor))
        at += step
    return ticks


def line_chart(
    title: str,
    buckets: list[datetime],
    series: list[tuple[str, str, list[float]]],
    *,
    unit: str = "",
    total: bool = True,
    bucket: timedelta | None = None,
) -> Chart:
    """`series` is (label, css class, values per bucket); the y axis starts at 0."""
    width = bucket or (buckets[1] - buckets[0] if len(buckets) > 1 else timedelta(minutes=1))
    top_seen = max((max(values, default=0) for _l, _c, values in series), default=0)
    top_value, ticks = y_axis(top_seen, unit)
    n = max(len(buckets) - 1, 1)

    def x(i: int) -> float:
        return round(PLOT_W * i / n, 2)

    def y(v: float) -> float:
        return round(PLOT_H * (1 - v / top_value), 2)

    lines = []
    for label, css, values in series:
        figure = sum(values) if total else max(values, default=0)
        points = " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(values))
        lines.append(Line(label, css, points, figure, human(figure, unit)))
    spans = _bucket_spans(buckets, width)
    y_ticks = [Tick(y(value), label) for value, label in ticks]
    rows = [
        Bucket(spans[i], [Cell(human(values[i], unit), y(values[i])) for _l, _c, values in series])
        for i in range(len(buckets))
    ]
    return Chart(title, unit, lines, y_ticks, _x_ticks(buckets), rows)


def usage_charts(series, *, with_refusals: bool = True) -> list[Chart]:
    """The four charts of a Series: attempts by state, active, messages and bytes per direction."""
    v, b, width = series.values, series.buckets, series.bucket
    attempts = [("Accepted", "accepted", v["accepted"])]
    if with_refusals:
        attempts += [("Refused", "refused", v["refused"])]
        attempts += [("Backend failed", "failed", v["backend_failed"])]
    up, down = "Up (client → backend)", "Down (backend → client)"
    return [
        line_chart("Connection attempts", b, attempts, bucket=width),
        line_chart(
            "Active connections (most at once)",
            b,
            [("Open", "active", v["active"])],
            total=False,
            bucket=width,
        ),
        line_chart(
            "Messages",
            b,
            [(up, "up", v["messages_up"]), (down, "down", v["messages_down"])],
            bucket=width,
        ),
        line_chart(
            "Bytes",
            b,
            [(up, "up", v["bytes_up"]), (down, "down", v["bytes_down"])],
            unit="B",
            bucket=width,
        ),
    ]
