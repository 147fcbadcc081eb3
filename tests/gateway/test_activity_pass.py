"""One pass over the open connections' counts, shared by the live sessions reporter and the
recorder: each still sees every change, and two readers asking in turn cost one pass, not two.
Real registry, reporter and recorder; the relays are stand-ins with real `RelayStats` whose
`moved` reads are counted (what a pass costs per connection)."""

from types import SimpleNamespace

from gateway.node import sessions
from gateway.node.revocation import LiveConnections
from gateway.relay.framed import RelayStats
from gateway.relay.tunnel import TunnelStats
from gateway.telemetry.activity import Activity
from gateway.telemetry.recorder import Recorder
from tests.gateway.test_live_sessions import SCOPE, StandInRelay, handshake
from tests.gateway.test_telemetry_recorder import SCOPE as RECORDER_SCOPE
from tests.gateway.test_telemetry_recorder import sample


class CountedStats(RelayStats):
    """RelayStats that count how often a pass read them."""

    __slots__ = ("reads",)

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    @property
    def moved(self) -> int:
        self.reads += 1
        return self.messages_up + self.bytes_up + self.messages_down + self.bytes_down


def gateway_parts(count: int):
    """A process's registry, reporter and recorder sharing one Activity, with `count` open
    connections listed by both (as `gateway.lifecycle.build_state` wires them)."""
    activity = Activity()
    live = LiveConnections(activity)
    reporter = sessions.SessionReporter(live, send=None, node_id=lambda: "node-1")
    live.reporter = reporter
    recorder = Recorder(
        gateway="g1", writer=None, buffer_size=10, batch_size=10, flush_ms=1000, activity=activity
    )
    relays = []
    for n in range(count):
        relay = StandInRelay()
        relay.stats = CountedStats()
        attempt = recorder.begin(RECORDER_SCOPE, f"{n:032x}")
        attempt.api_id, attempt.api_name = 1, "echo"
        attempt.accepted(relay.stats, 1.0)
        live.add(relay, handshake(), None, connection_id=f"{n:032x}", scope=SCOPE)
        relays.append(relay)
    reporter.report(now=1.0)  # the first report: the full list
    return live, reporter, recorder, relays


def counts_at(reporter, now: float) -> list:
    return reporter.report(now=now)["counts"]


def test_both_readers_see_every_change_and_share_one_pass():
    live, reporter, recorder, relays = gateway_parts(3)
    busy = relays[1].stats
    for relay in relays:
        relay.stats.reads = 0

    busy.messages_up, busy.bytes_up = 2, 20
    assert counts_at(reporter, 2.0) == [[f"{1:032x}", 2, 20, 0, 0]]
    recorder.sample_live()  # takes the reporter's pass: nothing read again
    assert [relay.stats.reads for relay in relays] == [1, 1, 1]
    assert sample(recorder, "portico_message_bytes_total", api="echo", direction="up") == 20

    # A change after that pass, before the next: the recorder (first to ask) makes the pass,
    # the reporter takes it; neither misses it, and nothing is counted twice.
    busy.messages_down, busy.bytes_down = 1, 5
    recorder.sample_live()
    assert counts_at(reporter, 3.0) == [[f"{1:032x}", 2, 20, 1, 5]]
    assert [relay.stats.reads for relay in relays] == [2, 2, 2]
    assert sample(recorder, "portico_message_bytes_total", api="echo", direction="down") == 5
    assert counts_at(reporter, 4.0) == []  # unchanged since: not sent again
    recorder.sample_live()
    assert sample(recorder, "portico_message_bytes_total", api="echo", direction="up") == 20


def test_a_change_after_the_shared_pass_reaches_the_reader_that_took_it_next_time():
    live, reporter, recorder, relays = gateway_parts(2)
    quiet, busy = relays[0].stats, relays[1].stats
    assert counts_at(reporter, 2.0) == []  # the pass the recorder has not taken yet
    quiet.messages_up, quiet.bytes_up = 1, 7
    recorder.sample_live()  # the reporter's pass saw nothing: nothing yet
    assert sample(recorder, "portico_message_bytes_total", api="echo", direction="up") == 0
    busy.messages_up, busy.bytes_up = 4, 40
    recorder.sample_live()  # its own pass now
    assert sample(recorder, "portico_message_bytes_total", api="echo", direction="up") == 47
    assert sorted(counts_at(reporter, 3.0)) == [
        [f"{0:032x}", 1, 7, 0, 0],
        [f"{1:032x}", 4, 40, 0, 0],
    ]


def test_closed_connections_leave_the_pass():
    live, reporter, recorder, relays = gateway_parts(2)
    gone = relays[0]
    gone.stats.messages_up, gone.stats.bytes_up = 1, 1
    live.remove(gone)
    assert counts_at(reporter, 2.0) == []  # its close is reported, not its counts
    assert len(live.activity.watched) == 2  # the recorder still has it open
    attempt = next(a for a in recorder.live.values() if a.stats is gone.stats)
    attempt.closed()
    assert len(live.activity.watched) == 1
    assert all(not changed for changed in live.activity.changed.values())
    assert sample(recorder, "portico_message_bytes_total", api="echo", direction="up") == 1


def test_a_tunnels_counts_are_read_from_its_legs_and_deliveries():
    """A tunnel's `TunnelStats` sums its legs' plain ints; the pass reads the legs directly."""
    live, reporter, recorder, _ = gateway_parts(0)
    client, backend = SimpleNamespace(messages=0, bytes=0), SimpleNamespace(messages=0, bytes=0)
    relay = StandInRelay()
    relay.stats = TunnelStats(client, backend)
    live.add(relay, handshake(), None, connection_id="t" * 32, scope=SCOPE)
    assert counts_at(reporter, 2.0) == []
    backend.messages, backend.bytes = 1, 9
    assert counts_at(reporter, 3.0) == [["t" * 32, 0, 0, 1, 9]]
    relay.stats.delivered, relay.stats.delivered_bytes = 1, 4  # from the control plane
    assert counts_at(reporter, 4.0) == [["t" * 32, 0, 0, 2, 13]]
    client.messages, client.bytes = 3, 30
    assert counts_at(reporter, 5.0) == [["t" * 32, 3, 30, 2, 13]]
