"""Which open connections relayed anything: one pass over them all, shared by its readers.

The live sessions reporter (changed traffic counts, every second) and the recorder (traffic
figures, at each flush) both need the open connections whose counts moved. Each walked every
open connection on its own, reading four counts from each, every second: at thousands of idle
connections that was most of an idle process's CPU. Here one pass reads one figure per
connection (the counts only grow: for a tunnel, its legs' message counts and the control
plane's deliveries, read without a call; otherwise `moved`, the four counts' sum) and hands
what changed to every reader; a reader that asks again before anyone made a new pass gets a
new one, so a lone reader (and every test) sees what it always saw, and two readers asking once
a second each share one pass. A reader compares what it is handed with what it last counted
itself, so a connection handed over twice, or after it was counted, costs a comparison only.
"""


class Watched:
    """One open connection's stats as the pass last read them, and who reads them."""

    __slots__ = ("stats", "seen", "session", "attempt", "up", "down")

    def __init__(self, stats) -> None:
        self.stats = stats  # RelayStats or TunnelStats: read, never written here
        # A tunnel's legs (gateway.relay.tunnel.TunnelStats), or None: a leg's `messages` moves
        # with every message it relays (and its bytes), so the pass reads those, no property.
        self.up = getattr(stats, "client", None)
        self.down = getattr(stats, "backend", None)
        self.seen = 0  # what the pass read last
        self.session = None  # gateway.node.sessions.Session, while the connection is listed
        self.attempt = None  # gateway.telemetry.attempt.Attempt, while the recorder has it


class Activity:
    def __init__(self) -> None:
        # id(stats) -> Watched (the entry holds the stats, so an id is never reused meanwhile)
        self.watched: dict[int, Watched] = {}
        # Per reader: what changed since it last took it. Bounded by the open connections.
        self.changed: dict[str, dict[int, Watched]] = {}
        self.unread: set[str] = set()  # readers that have not taken the latest pass yet

    def reader(self, name: str) -> None:
        self.changed.setdefault(name, {})

    def watch(self, stats, *, session=None, attempt=None) -> None:
        key = id(stats)
        entry = self.watched.get(key)
        if entry is None:
            entry = self.watched[key] = Watched(stats)
        if session is not None:
            entry.session = session
        if attempt is not None:
            entry.attempt = attempt

    def unwatch(self, stats, *, session: bool = False, attempt: bool = False) -> None:
        key = id(stats)
        entry = self.watched.get(key)
        if entry is None:
            return
        if session:
            entry.session = None
        if attempt:
            entry.attempt = None
        if entry.session is None and entry.attempt is None:
            del self.watched[key]
            for changed in self.changed.values():
                changed.pop(key, None)

    def take(self, name: str):
        """The entries whose counts moved since `name` last took them (a pass first, unless
        another reader made one that `name` has not taken yet)."""
        if name not in self.unread:
            self._pass()
        self.unread.discard(name)
        changed = self.changed[name]
        if not changed:
            return ()
        self.changed[name] = {}
        return changed.values()

    def _pass(self) -> None:
        readers = tuple(self.changed.values())
        for entry in self.watched.values():  # no await here: the dict cannot change
            up = entry.up
            if up is not None:
                moved = up.messages + entry.down.messages + entry.stats.delivered
            else:
                moved = entry.stats.moved
            if moved != entry.seen:
                entry.seen = moved
                key = id(entry.stats)
                for changed in readers:
                    changed[key] = entry
        self.unread.update(self.changed)
