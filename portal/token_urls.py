"""Personal access tokens for the management REST API: create (shown once) and revoke."""

urlpatterns: list = []
