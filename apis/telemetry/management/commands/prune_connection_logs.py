"""Delete connection logs and per-minute figures older than the retention (run it daily)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from apis.telemetry import services


class Command(BaseCommand):
    help = "Delete connection logs and per-minute figures older than the retention period."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=settings.PORTICO_TELEMETRY_RETENTION_DAYS,
            help="Keep this many days (default: PORTICO_TELEMETRY_RETENTION_DAYS).",
        )

    def handle(self, *args, days: int, **options) -> None:
        if days < 1:
            self.stderr.write("--days must be at least 1")
            raise SystemExit(2)
        deleted = services.prune(days=days)
        summary = ", ".join(f"{n} {what}" for what, n in deleted.items())
        self.stdout.write(f"Deleted {summary} older than {days} day(s).")
