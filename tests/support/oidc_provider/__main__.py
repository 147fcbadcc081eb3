"""Run the test provider: `python -m tests.support.oidc_provider PORT STATE_DIR REDIRECT_URI
POST_LOGOUT_URI`; prints READY once it serves. The portal's client: `portico` / `portico-secret`."""

import os
import sys
import threading
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

CLIENT_ID, CLIENT_SECRET = "portico", "portico-secret"  # noqa: S105 - the tests' client


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def main() -> None:
    port, state, redirect_uri, logout_uri = sys.argv[1:5]
    state_dir = Path(state)
    key = state_dir / "key.pem"
    if not key.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key.write_bytes(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    os.environ["OIDC_PROVIDER_DIR"] = str(state_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.support.oidc_provider.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from oauth2_provider.models import Application

    Application.objects.update_or_create(
        client_id=CLIENT_ID,
        defaults={
            "name": "Portico",
            "client_secret": CLIENT_SECRET,
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": redirect_uri,
            "post_logout_redirect_uris": logout_uri,
            "algorithm": Application.RS256_ALGORITHM,
            "skip_authorization": True,
        },
    )
    from django.core.wsgi import get_wsgi_application

    server = make_server(
        "127.0.0.1",
        int(port),
        get_wsgi_application(),
        server_class=ThreadingServer,
        handler_class=QuietHandler,
    )
    print("READY", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the test closes our stdin (or ends): then stop
    server.shutdown()


if __name__ == "__main__":
    main()
