"""Publisher pages, one module per area; `index` is the publisher's overview."""

from apis.views.overview import index

__all__ = ["index"]
