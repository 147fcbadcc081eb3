"""The two sides of a tunnel, each with its own `data_received`: one whole small data frame per
read (the common case) is forwarded with the fewest lookups and calls; anything else is walked
by `gateway.relay.frames.Leg`."""

from websockets.frames import apply_mask

from gateway.relay.frames import Leg


def whole_frames(head: int, bit: int) -> tuple[int, ...]:
    """For each read length n < 132: the second header byte that makes the read one whole frame
    with a 7-bit length (`bit`: the mask bit a frame from that side must have; `head`: its
    header's length), or -1 where no whole frame is that short."""
    return tuple(bit + n - head if n >= head else -1 for n in range(126 + 6))


# A client's frames are masked (6-byte header), a backend's are not (2 bytes).
WHOLE_FROM_CLIENT = whole_frames(6, 128)
WHOLE_FROM_BACKEND = whole_frames(2, 0)


class ClientLeg(Leg):
    """The client's leg: its frames are masked."""

    __slots__ = ()

    def __init__(self, tunnel, *, limit: int, plan=None) -> None:
        super().__init__(tunnel, client=True, limit=limit, plan=plan)

    def data_received(self, data: bytes) -> None:
        # The common case: one whole small text or binary frame per read, between messages.
        # `small` and `WHOLE_FROM_CLIENT` encode "on the fast path, whole frame, mask bit set,
        # under the limit" as comparisons; a read shorter than a header (TCP may split
        # anywhere) fails the first. Anything else, and text that is not ASCII (checked for
        # UTF-8 there), is walked by `_read`. Every comparison here jumps (3.11 specializes
        # that for ints; a comparison whose bool is stored takes the generic path).
        n = len(data)
        if 5 < n < self.small and data[1] == WHOLE_FROM_CLIENT[n]:
            b0 = data[0]
            if b0 == 0x82 or (b0 == 0x81 and apply_mask(data[6:], data[2:6]).isascii()):
                # Read into a local first: 3.11 specializes a slot's load (LOAD_ATTR_SLOT) but
                # not a method call through a slot (`self.out(data)`: a generic type lookup and
                # member read per message).
                out = self.out
                out(data)
                self.messages += 1
                self.bytes += n - 6
                return
        self._read(data, n)


class ServerLeg(Leg):
    """The backend's leg (the server of the tunnel's second connection): its frames are not
    masked."""

    __slots__ = ()

    def __init__(self, tunnel, *, limit: int, plan=None) -> None:
        super().__init__(tunnel, client=False, limit=limit, plan=plan)

    def data_received(self, data: bytes) -> None:
        # `ClientLeg.data_received`'s fast path, for a 2-byte header.
        n = len(data)
        if 1 < n < self.small and data[1] == WHOLE_FROM_BACKEND[n]:
            b0 = data[0]
            if b0 == 0x82 or (b0 == 0x81 and data[2:].isascii()):
                out = self.out  # as in `ClientLeg`: a specialized slot load
                out(data)
                self.messages += 1
                self.bytes += n - 2
                return
        self._read(data, n)
