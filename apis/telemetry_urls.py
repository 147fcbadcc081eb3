"""Publisher pages for an API's metrics and connection logs."""

urlpatterns: list = []
