"""The data plane's ASGI entry: WebSocket APIs and the gateway's endpoints, nothing else.

For ASGI servers given `gateway.asgi:application`; `manage.py run_gateway` builds the same
application itself (`gateway.lifecycle`), knowing its port and workers. Django is set up for
settings and the catalog's models, but no request ever reaches Django's handler: no page is
rendered and no view is imported.
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup(set_prefix=False)

from gateway.config import GatewayConfig  # noqa: E402
from gateway.endpoints.routes import not_found  # noqa: E402
from gateway.lifecycle import build_application, build_state  # noqa: E402

application = build_application(build_state(GatewayConfig.from_settings()), other_http=not_found)
