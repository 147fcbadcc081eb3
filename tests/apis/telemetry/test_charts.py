"""The chart geometry behind the Metrics tab and the usage page (issue 29, item 8): whole-number
ticks for counts, round byte ticks, time labels at round times, each bucket's values for the
tooltip and table, and bucket sizes in words."""

from datetime import UTC, datetime, timedelta

import pytest

from apis.telemetry.charts import duration_words, line_chart

START = datetime(2026, 12, 7, 15, 31, tzinfo=UTC)


def minutes(count: int, *, every: timedelta = timedelta(minutes=1)) -> list[datetime]:
    return [START + every * i for i in range(count)]


def peak(top: float, count: int = 60) -> list[float]:
    """Values for `count` buckets: `top` in the second, nothing elsewhere."""
    return [0, top] + [0] * (count - 2)


def tick_labels(chart) -> list[str]:
    return [tick.label for tick in chart.y_ticks]


@pytest.mark.parametrize("top", [0, 1, 2, 3, 5, 7, 9, 11, 17, 99, 101, 999, 1234])
def test_count_ticks_are_whole_evenly_spaced_and_reach_the_top(top):
    chart = line_chart("Connection attempts", minutes(60), [("Accepted", "accepted", peak(top))])
    values = [int(label.replace(",", "")) for label in tick_labels(chart)]  # fails on "1.5"
    assert values[0] == 0 and values[-1] >= top and 2 <= len(values) <= 7
    assert len({b - a for a, b in zip(values, values[1:], strict=False)}) == 1


def test_three_connections_read_0_1_2_3_and_large_counts_abbreviate():
    three = line_chart("Active", minutes(60), [("Open", "active", peak(3))])
    assert tick_labels(three) == ["0", "1", "2", "3"]
    assert [t.at for t in three.y_ticks] == [100.0, 66.67, 33.33, 0.0]  # percent from the top
    big = line_chart("Messages", minutes(60), [("Up", "up", peak(48_000))])
    assert tick_labels(big) == ["0k", "10k", "20k", "30k", "40k", "50k"]


@pytest.mark.parametrize(
    ("top", "labels"),
    [
        (32, ["0 B", "10 B", "20 B", "30 B", "40 B"]),
        (3000, ["0 KiB", "1 KiB", "2 KiB", "3 KiB"]),
        (1500, ["0 KiB", "0.5 KiB", "1 KiB", "1.5 KiB"]),
        (5 * 1024**2, ["0 MiB", "1 MiB", "2 MiB", "3 MiB", "4 MiB", "5 MiB"]),
    ],
)
def test_byte_ticks_are_round_numbers_of_one_unit(top, labels):
    chart = line_chart("Bytes", minutes(60), [("Up", "up", peak(top))], unit="B")
    assert tick_labels(chart) == labels


def test_each_bucket_carries_its_span_and_every_series_value_for_the_tooltip():
    chart = line_chart(
        "Messages", minutes(60), [("Up", "up", [5, 0] + [0] * 58), ("Down", "down", [2] * 60)]
    )
    first = chart.buckets[0]
    assert first.label == "15:31–15:32"
    assert [(c.label, c.top) for c in first.cells] == [("5", 0.0), ("2", 60.0)]
    assert [line.total_label for line in chart.lines] == ["5", "120"]
    assert chart.lines[0].points.startswith("0.0,0.0 16.95,100.0")


def test_time_labels_sit_at_round_times_and_fit_a_phone():
    hour = line_chart("A", minutes(60), [("A", "a", [0] * 60)])
    assert [(t.label, t.anchor) for t in hour.x_ticks] == [
        ("15:45", "middle"),
        ("16:00", "middle"),
        ("16:15", "middle"),
        ("16:30", "end"),
    ]
    day = line_chart("A", minutes(96, every=timedelta(minutes=15)), [("A", "a", [0] * 96)])
    assert [t.label for t in day.x_ticks] == ["18:00", "00:00", "06:00", "12:00"]
    week = line_chart("A", minutes(84, every=timedelta(hours=2)), [("A", "a", [0] * 84)])
    assert [t.label for t in week.x_ticks] == ["09 Dec", "11 Dec", "13 Dec"]
    assert week.buckets[0].label == "Mon 07 Dec 15:31–17:31"


@pytest.mark.parametrize(
    ("span", "words"),
    [
        (timedelta(minutes=1), "1 minute"),
        (timedelta(minutes=15), "15 minutes"),
        (timedelta(hours=2), "2 hours"),
        (timedelta(days=1), "1 day"),
        (timedelta(seconds=90), "90 seconds"),
    ],
)
def test_bucket_sizes_read_in_words(span, words):
    assert duration_words(span) == words
