"""Both planes in one uvicorn process, as `manage.py demo` serves them: `python -m ... PORT`."""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

from gateway.server.serve import BOTH_PLANES, serve  # noqa: E402

if __name__ == "__main__":
    serve(host="127.0.0.1", port=int(sys.argv[1]), app=BOTH_PLANES)
