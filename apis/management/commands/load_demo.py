"""Load the demo catalog and print the logins (passwords only when just created)."""

import json
from dataclasses import asdict

from django.core.management.base import BaseCommand

from apis.demo import DEMO_BACKEND_URL, load_demo


class Command(BaseCommand):
    help = "Create the demo gateway, Echo API, Starter product, users and subscription."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--backend-url", default=DEMO_BACKEND_URL)
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, backend_url: str, json: bool, **options) -> None:
        result = load_demo(backend_url=backend_url)
        if json:
            self.stdout.write(_json(asdict(result)))
            return
        for role in ("admin", "developer"):
            username = getattr(result, f"{role}_username")
            password = getattr(result, f"{role}_password")
            shown = password if password else "(unchanged; set it with `manage.py changepassword`)"
            self.stdout.write(f"{role:>9}: {username} / {shown}")
        self.stdout.write(
            f"Echo API at /{result.api_suffix}, subscription #{result.subscription_id}"
        )


def _json(data: dict) -> str:
    return json.dumps(data, indent=2)
