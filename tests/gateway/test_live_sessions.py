"""The live sessions reporter on its own: what each report says, that its queues stay bounded,
and that a disconnect it is answered closes that relay. Time is passed in, never waited for."""

import asyncio
from types import SimpleNamespace

import pytest

from gateway.node import sessions
from gateway.node.revocation import LiveConnections
from gateway.relay.framed import RelayStats


class StandInRelay:
    """What the registry and reporter use of a relay: its live stats and revoke(reason)."""

    def __init__(self) -> None:
        self.stats = RelayStats()
        self.revoked: list[str] = []

    def revoke(self, reason: str) -> None:
        self.revoked.append(reason)


def handshake(subscription_id=7):
    subscription = SimpleNamespace(
        id=subscription_id, product_id=3, expiration_date=None, state="active"
    )
    return SimpleNamespace(
        route=SimpleNamespace(api=SimpleNamespace(id=1, name="echo")),
        subscription=subscription,
        client_ip="198.51.100.4",
        key_index=b"k",
        tags=None,
    )


SCOPE = {"headers": [(b"user-agent", b"x" * 500)]}


def setup(answers=None):
    live = LiveConnections()
    sent = []

    async def send(report):
        sent.append(report)
        return answers.pop(0) if answers else {}

    reporter = sessions.SessionReporter(live, send=send, node_id=lambda: "node-1")
    live.reporter = reporter
    return live, reporter, sent


def open_one(live, n: int) -> StandInRelay:
    relay = StandInRelay()
    live.add(relay, handshake(), None, connection_id=f"{n:032x}", scope=SCOPE)
    return relay


def test_first_report_is_the_full_list_then_deltas_and_changed_counts():
    live, reporter, _ = setup()
    first = open_one(live, 1)
    full = reporter.report(now=1.0)
    assert full["full"] and [e["id"] for e in full["opened"]] == [f"{1:032x}"]
    [entry] = full["opened"]
    assert entry["user_agent"] == "x" * 200 and entry["client_ip"] == "198.51.100.4"
    assert (entry["subscription_id"], entry["product_id"], entry["api_name"]) == (7, 3, "echo")

    second = open_one(live, 2)
    live.remove(first)
    delta = reporter.report(now=1.5)
    assert not delta["full"] and [e["id"] for e in delta["opened"]] == [f"{2:032x}"]
    assert delta["closed"] == [f"{1:032x}"] and delta["counts"] == []

    second.stats.messages_up, second.stats.bytes_up = 4, 40
    counted = reporter.report(now=1.5 + sessions.COUNTS_SECONDS)
    assert counted["counts"] == [[f"{2:032x}", 4, 40, 0, 0]]
    again = reporter.report(now=1.5 + 2 * sessions.COUNTS_SECONDS)
    assert again["counts"] == []  # unchanged counts are not sent again


def test_nothing_open_and_nothing_to_say_sends_nothing():
    live, reporter, _ = setup()
    reporter.report(now=1.0)  # the new process's (empty) full list
    assert reporter.report(now=2.0) is None
    relay = open_one(live, 1)
    live.remove(relay)  # opened and closed between two sends: never mentioned
    assert reporter.report(now=3.0) is None


def test_pending_deltas_are_bounded_and_overflow_becomes_a_full_list(monkeypatch):
    monkeypatch.setattr(sessions, "MAX_PENDING", 3)
    live, reporter, _ = setup()
    reporter.report(now=1.0)
    for n in range(5):
        open_one(live, n)
    assert len(reporter.opened) <= 3
    report = reporter.report(now=1.5)
    assert report["full"] and len(report["opened"]) == 5


def test_a_failed_send_makes_the_next_report_a_full_list():
    live, reporter, _ = setup()
    open_one(live, 1)

    async def failing(report):
        raise OSError("control plane away")

    reporter.send = failing
    asyncio.run(reporter.tick())
    open_one(live, 2)
    report = reporter.report(now=10.0)
    assert report["full"] and len(report["opened"]) == 2


def test_a_disconnect_answer_revokes_that_relay_only_and_reports_its_close():
    asked = [{"id": f"{1:032x}", "reason": "maintenance"}, {"id": "gone", "reason": "x"}]
    answers = [{"disconnect": asked}]
    live, reporter, sent = setup(answers)
    target, other = open_one(live, 1), open_one(live, 2)
    asyncio.run(reporter.tick())
    assert target.revoked == ["maintenance"] and other.revoked == []
    assert len(live) == 1
    asyncio.run(reporter.tick())
    assert sent[-1]["closed"] == [f"{1:032x}"]


@pytest.mark.parametrize("bad", [{"node_id": ""}, {"opened": [{"id": "x"}]}, {"counts": [["x"]]}])
def test_the_control_plane_refuses_malformed_reports(bad):
    from apis.nodes.reports import BadReport, clean_live_report

    with pytest.raises(BadReport):
        clean_live_report({"node_id": "n", "worker": "1", **bad})
