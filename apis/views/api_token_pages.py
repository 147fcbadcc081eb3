"""The API's "Connection tokens" page: API-scoped tokens for its live connections (a backend
service pushing to its own clients), created with the secret shown once, listed and revoked
(a confirmation first). Creations and revocations are audited."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from apis import selectors, services
from apis.audit import audit
from apis.models import Api
from apis.views.access import publisher_required
from apis.views.api_pages import api_tabs


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="What it is for, e.g. the backend service that uses it.",
    )


def _context(api: Api, **extra) -> dict:
    return {"api": api, "tabs": api_tabs(api, "live"), "section": "apis", **extra}


@publisher_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest, name: str) -> HttpResponse:
    api = get_object_or_404(Api, name=name)
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        token, new_token = services.create_access_token(
            user=request.user, name=form.cleaned_data["name"], api=api
        )
        audit(request, "API token created", api=api.name, token=token.pk, name=repr(token.name))
        form = TokenForm()
    context = _context(api, form=form, tokens=selectors.api_tokens_of(api), new_token=new_token)
    return render(request, "apis/api_tokens.html", context)


@publisher_required
@require_http_methods(["GET", "POST"])
def api_token_revoke(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    api = get_object_or_404(Api, name=name)
    token = get_object_or_404(selectors.api_tokens_of(api), pk=pk)
    if request.method == "POST":
        services.revoke_access_token(token=token)
        audit(request, "API token revoked", api=api.name, token=token.pk)
        messages.success(request, f"Token {token.name!r} revoked: it stops working at once.")
        return redirect(reverse("publisher:api-tokens", args=[api.name]))
    return render(request, "apis/api_token_revoke.html", _context(api, token=token))
