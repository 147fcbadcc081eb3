"""Personal access tokens for the management API: staff create (secret shown once), list, revoke."""

from datetime import timedelta
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apis import selectors, services


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text='What the token is for, e.g. "CI deploys".')
    expires_in_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        help_text="Empty for a token that never expires.",
    )


def _staff(view):
    """Signed-in staff only: others are sent to sign in, or refused with 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapped)


@_staff
def token_list(request: HttpRequest) -> HttpResponse:
    tokens = selectors.access_tokens_of(request.user)
    return render(request, "portal/tokens/list.html", {"tokens": tokens, "form": TokenForm()})


@_staff
def token_create(request: HttpRequest) -> HttpResponse:
    """On success the secret is rendered in this one response and never again."""
    form = TokenForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        return render(request, "portal/tokens/create.html", {"form": form})
    days = form.cleaned_data["expires_in_days"]
    expires_at = timezone.now() + timedelta(days=days) if days else None
    token, secret = services.create_access_token(
        user=request.user, name=form.cleaned_data["name"], expires_at=expires_at
    )
    response = render(request, "portal/tokens/created.html", {"token": token, "secret": secret})
    response["Cache-Control"] = "no-store"
    return response


@_staff
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(selectors.access_tokens_of(request.user), pk=pk)
    services.revoke_access_token(token=token)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("portal:token-list")
