"""The test consoles' same-origin ticket endpoint: a connect ticket instead of a key in the URL.

The console POSTs (session cookie + CSRF token) the subscription it chose, or a key the user
pasted, and gets back a single-use ticket bound to this page's Origin; no key is ever put in
the page, the WebSocket URL or the browser's network log.
"""

import hmac

from django.db.models import Q, QuerySet
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apis import tickets
from apis.audit import audit
from apis.models import Api, Subscription


def console_ticket(
    request: HttpRequest, api: Api, allowed: QuerySet[Subscription], *, audit_others: bool = False
) -> JsonResponse:
    """Answer {"ticket"} for the chosen subscription (one of `allowed`) or the pasted key."""
    chosen, pasted = request.POST.get("subscription", ""), request.POST.get("key", "").strip()
    subscription = None
    if pasted:
        found = Subscription.objects.filter(Q(primary_key=pasted) | Q(secondary_key=pasted)).first()
        if found is not None and (
            hmac.compare_digest(pasted.encode(), found.primary_key.encode())
            | hmac.compare_digest(pasted.encode(), found.secondary_key.encode())
        ):
            subscription = found
        if subscription is None:
            return JsonResponse({"error": "This key belongs to no subscription."}, status=400)
    elif chosen.isdigit():
        subscription = allowed.filter(pk=int(chosen)).first()
    if subscription is None:
        return JsonResponse({"error": "Choose a subscription you may use."}, status=400)
    try:
        issued = tickets.issue(
            subscription,
            api_name=api.name,
            # The page's own Origin, which CSRF protection has just checked against this host
            # (behind a TLS proxy it is https even where request.scheme would say http).
            origin=request.headers.get("Origin", ""),
        )
    except tickets.CannotIssue as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    if audit_others and subscription.owner_id != request.user.pk:
        audit(request, "connect ticket minted", subscription=subscription.pk, api=api.name)
    return JsonResponse({"ticket": issued.text, "param": tickets.QUERY_PARAM})


def ticket_view(find_api, allowed_for, *, audit_others: bool = False):
    """A POST-only, uncached view minting console tickets for the API named in the URL."""

    @require_POST
    @never_cache
    def view(request: HttpRequest, name: str) -> JsonResponse:
        api = find_api(request, name)
        return console_ticket(request, api, allowed_for(request, api), audit_others=audit_others)

    return view
