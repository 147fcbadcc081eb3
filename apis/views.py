"""Publisher pages."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apis.permissions import is_publisher


@login_required
def index(request: HttpRequest) -> HttpResponse:
    if not is_publisher(request.user):
        raise PermissionDenied
    return render(request, "apis/index.html")
