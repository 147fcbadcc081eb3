"""Developer portal pages."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from apis import selectors


def home(request: HttpRequest) -> HttpResponse:
    products = selectors.published_products()
    return render(request, "portal/home.html", {"products": products})


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})
