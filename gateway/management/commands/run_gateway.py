"""Serve the data plane (WebSocket APIs, /_portico/status, /metrics) with N worker processes."""

import os
import ssl
from dataclasses import replace

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from gateway.config import GatewayConfig
from gateway.endpoints.routes import not_found
from gateway.lifecycle import build_application, build_state
from gateway.server.serve import serve
from gateway.server.tls import ServerCertificates
from gateway.server.workers import Supervisor, port_is_free

DRAIN_EXTRA_SECONDS = 15.0  # on top of the connections' grace: lifespan flush and exit


def shared_counters() -> bool:
    return not settings.PORTICO_LIMITS_STORAGE.startswith(("memory", "async+memory"))


class Command(BaseCommand):
    help = "Serve the WebSocket gateway (data plane only) with uvicorn, in N worker processes."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="worker processes sharing the port (default: the number of CPUs)",
        )
        parser.add_argument(
            "--tls",
            action="store_true",
            default=None,
            help="serve wss:// with the certificates of the gateway's host names (SNI)",
        )
        parser.add_argument(
            "--certfile", help="PEM certificate chain for other names (implies --tls)"
        )
        parser.add_argument("--keyfile", help="PEM private key of --certfile")
        # Set by the supervisor for each worker it starts.
        parser.add_argument("--worker", action="store_true", help="(internal)")

    def handle(self, *args, host: str, port: int, workers: int, worker: bool, **opts) -> None:
        config = self.config(port, workers, opts)
        if worker:
            self.serve(host, port, config, shared=True)
            return
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        if workers > 1 and not shared_counters():
            raise CommandError(
                f"--workers {workers} needs shared counters: without them every worker keeps "
                "its own rate-limit, quota and limit-concurrency counts, so each limit would be "
                f"multiplied by {workers}. Set REDIS_URL (or PORTICO_LIMITS_STORAGE) to a Redis "
                "every worker and node shares, or run with --workers 1."
            )
        ws, http = ("wss", "https") if config.tls else ("ws", "http")
        self.stdout.write(
            f"Portico gateway '{settings.PORTICO_GATEWAY}': WebSocket APIs at "
            f"{ws}://{host}:{port}/<suffix>, status at {http}://{host}:{port}/_portico/status "
            f"({workers} worker{'s' if workers > 1 else ''})"
        )
        if workers == 1:
            self.serve(host, port, config)
            return
        if not port_is_free(host, port):
            raise CommandError(f"{host}:{port} is already in use; choose another --port")
        supervisor = Supervisor(
            host=host,
            port=port,
            workers=workers,
            manage_py=settings.BASE_DIR / "manage.py",
            drain_seconds=settings.PORTICO_SHUTDOWN_GRACE_SECONDS + DRAIN_EXTRA_SECONDS,
            tls_options=tls_options(config),
        )
        raise SystemExit(supervisor.run())

    def config(self, port: int, workers: int, opts: dict) -> GatewayConfig:
        """The config from settings, with what only this command knows (flags win)."""
        config = replace(GatewayConfig.from_settings(), port=port, workers=workers)
        certfile, keyfile = opts.get("certfile"), opts.get("keyfile")
        if certfile or keyfile:
            if not (certfile and keyfile):
                raise CommandError("--certfile and --keyfile go together")
            config = replace(config, tls=True, tls_certfile=certfile, tls_keyfile=keyfile)
        elif opts.get("tls"):
            config = replace(config, tls=True)
        return config

    def serve(self, host: str, port: int, config: GatewayConfig, *, shared: bool = False) -> None:
        """The process entry: one worker serving until it is told to stop."""
        state = build_state(config)
        ssl_context = None
        if config.tls:
            try:
                certificates = ServerCertificates(
                    certfile=config.tls_certfile or None, keyfile=config.tls_keyfile or None
                )
            except (OSError, ssl.SSLError) as exc:
                raise CommandError(f"the TLS certificate files cannot be loaded: {exc}") from None
            state.store.add_listener(certificates.on_swap)
            ssl_context = certificates.context
        app = build_application(state, other_http=not_found)
        serve(
            host=host,
            port=port,
            app=app,
            shared=shared,
            config=config,
            data_plane_only=True,
            ssl_context=ssl_context,
        )


def tls_options(config: GatewayConfig) -> list[str]:
    """The flags that give each worker the supervisor's TLS choice."""
    if config.tls_certfile:
        return ["--certfile", config.tls_certfile, "--keyfile", config.tls_keyfile]
    return ["--tls"] if config.tls else []
