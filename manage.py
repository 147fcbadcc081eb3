#!/usr/bin/env python
"""Django's command-line utility for Portico."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - reads the settings, which name every problem
    except ImproperlyConfigured as error:
        # What to set is the whole message; a traceback through importlib would only bury it.
        sys.exit(f"Portico cannot start: {error}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
