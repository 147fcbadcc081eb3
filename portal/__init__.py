"""The Portico Django project: settings, URLs, ASGI composition root and the developer portal."""
