"""uvicorn's HTTP and WebSocket protocol `__init__`s (0.54) made light for a gateway connection.

Uvicorn looks its loggers up and walks their handlers for every connection, and its WebSocket
protocol makes websockets' ServerProtocol (a uuid4 and a parser) before it knows it needs one.
These set the same attributes without that work; they copy uvicorn 0.54 (requirements pin it):
recheck them on an upgrade.
"""

import asyncio
import collections
import logging

import httptools

_UVICORN_LOG = logging.getLogger("uvicorn.error")  # uvicorn's protocols' loggers
_ACCESS_LOG = logging.getLogger("uvicorn.access")


def light_http_init(protocol, config, server_state, app_state, loop) -> None:
    """uvicorn's `__init__` (0.54) without its per-connection logger look-ups and handler
    walk: the access log is off on a gateway (query strings carry keys)."""
    protocol.config = config
    protocol.app = config.loaded_app
    protocol.loop = loop or asyncio.get_event_loop()
    protocol.logger = _UVICORN_LOG
    protocol.access_logger = _ACCESS_LOG
    protocol.access_log = config.access_log and _ACCESS_LOG.hasHandlers()
    protocol.parser = httptools.HttpRequestParser(protocol)
    # uvicorn's: lets it answer the first of pipelined requests.
    protocol.parser.set_dangerous_leniencies(lenient_data_after_close=True)
    protocol.ws_protocol_class = config.ws_protocol_class
    protocol.root_path = config.root_path
    protocol.asgi_version = config.asgi_version
    protocol.limit_concurrency = config.limit_concurrency
    protocol.app_state = app_state
    protocol.timeout_keep_alive_task = None
    protocol.timeout_keep_alive = config.timeout_keep_alive
    protocol.server_state = server_state
    protocol.connections = server_state.connections
    protocol.tasks = server_state.tasks
    protocol.transport = protocol.flow = protocol.server = protocol.client = protocol.scheme = None
    protocol.pipeline = collections.deque()
    protocol.scope = protocol.headers = protocol.cycle = None
    protocol.expect_100_continue = False


def light_websocket_init(protocol, config, server_state, app_state, loop) -> None:
    """uvicorn's `__init__` (0.54), without its two logger look-ups per connection and
    without making websockets' ServerProtocol, which `conn` makes on first use: a tunnelled
    connection answered by `upgraded` never needs one (nor its uuid4 and parser)."""
    protocol.config = config
    protocol.app = config.loaded_app
    protocol.loop = loop or asyncio.get_event_loop()
    protocol.logger = _UVICORN_LOG
    protocol.root_path = config.root_path
    protocol.asgi_version = config.asgi_version
    protocol.app_state = app_state
    protocol.connections = server_state.connections
    protocol.tasks = server_state.tasks
    protocol.default_headers = server_state.default_headers
    protocol.transport = None
    protocol.server = protocol.client = protocol.scheme = None
    protocol.queue = asyncio.Queue()
    protocol.handshake_initiated = protocol.handshake_complete = False
    protocol.close_sent = protocol.disconnected = False
    protocol.close_timer = None
    protocol.close_timeout = 10.0
    protocol.initial_response = None
    protocol._conn = None
    protocol.read_paused = False
    protocol.writable = asyncio.Event()
    protocol.writable.set()
    protocol.ping_interval = config.ws_ping_interval
    protocol.ping_timeout = config.ws_ping_timeout
    protocol.ping_timer = protocol.pong_timer = None
    protocol.pending_ping_payload = None
    protocol.ping_sent_at = protocol.last_ping_rtt = 0.0
    protocol.frames = []
    protocol.curr_msg_data_type = "bytes"
