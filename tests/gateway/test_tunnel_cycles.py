"""A finished tunnel leaves no reference cycle: reference counting frees it and its legs.

Tunnel, legs and transports referred to each other, so every connection left a few dozen
objects that only Python's cyclic collector freed, after walking them at every young collection
until then (bench/handshake_profile.py measured ~3 % of a handshake's CPU in it). The collector
is off here, so only reference counting can free anything.
"""

import asyncio
import gc
import weakref

from tests.gateway.test_relay_frames_splits import wired_tunnel


def test_a_finished_tunnel_is_freed_by_reference_counting():
    async def scenario():
        tunnel = wired_tunnel()
        client, backend = tunnel.client, tunnel.backend
        ended = []
        tunnel.run_detached(ended.append)
        client.connection_lost(None)  # the client went away; the backend leg follows
        backend.connection_lost(None)
        await asyncio.sleep(0)  # the tunnel's done callback: `ended`, then the unlinking
        assert len(ended) == 1 and ended[0].closed_by == "client"
        ref = weakref.ref(tunnel)
        del tunnel, client, backend
        return ref, ended

    enabled = gc.isenabled()
    gc.disable()
    try:
        ref, ended = asyncio.run(scenario())
        assert ref() is None, "the tunnel is kept alive by a reference cycle"
        stats = ended[0]
        assert stats.messages_up == 0 and stats.messages_down == 0  # counts stay readable
    finally:
        if enabled:
            gc.enable()
