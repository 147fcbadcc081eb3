"""A developer's usage of their subscriptions (connections, messages, bytes, quota)."""

urlpatterns: list = []
