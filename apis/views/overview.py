"""The publisher's overview page: counts and the way into each area."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apis import selectors
from apis.config_warnings import all_warnings
from apis.views.access import publisher_required


@publisher_required
def index(request: HttpRequest) -> HttpResponse:
    context = {
        "api_count": selectors.api_list().count(),
        "product_count": selectors.product_list().count(),
        "gateway_count": selectors.gateway_list().count(),
        "awaiting_approval": selectors.count_awaiting_approval(),
        "warnings": all_warnings(),
        "section": "overview",
    }
    return render(request, "apis/index.html", context)
