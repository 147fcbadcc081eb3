"""`manage.py createtoken USERNAME`: a personal access token without a browser, printed once."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apis import services

MAX_DAYS = 3650  # as on the Tokens page


def days(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_DAYS:
        raise CommandError(f"--expires-days: a whole number from 1 to {MAX_DAYS}, not {value!r}.")
    return number


class Command(BaseCommand):
    help = (
        "Create a personal access token for the management API (PORTICO_TOKEN for `portico`) "
        "and print it once: only its hash is stored. The user must be active staff."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="manage.py createtoken", help="what it is for")
        parser.add_argument(
            "--expires-days", type=days, default=None, help="days until it expires (default never)"
        )

    def handle(self, *args, username: str, name: str, expires_days: int | None, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(
                f"No user named {username!r}: create one with `manage.py createsuperuser`."
            )
        if not (user.is_active and user.is_staff):
            raise CommandError(
                f"{username!r} is not active staff, and tokens work only for active staff: "
                "give the user staff status in Django admin first."
            )
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        try:
            token, secret = services.create_access_token(
                user=user, name=name, expires_at=expires_at
            )
        except ValidationError as exc:
            messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(messages) from None
        # The token alone on stdout, so `export PORTICO_TOKEN=$(manage.py createtoken …)` works.
        self.stdout.write(secret)
        until = f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else "never expires"
        self.stderr.write(
            f"Token {name!r} for {username} ({until}); shown once, only its hash is stored.",
            style_func=lambda text: text,
        )
