"""Publisher pages that send to live connections: "Send message" for one connection, and the
Live tab's broadcast form, whose confirmation shows how many connections it matches now.

They deliver like the REST API (apis.telemetry.delivery) and write the same audit lines (who,
selector, counts, never the payload); the result is told as a message on the page sent back to.
"""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from apis.audit import audit
from apis.models import Api
from apis.telemetry import delivery, live_selectors
from apis.telemetry.live_views import live_rows, visible_connection
from apis.views.access import publisher_required, safe_next
from apis.views.api_pages import api_tabs
from gateway.catalog.delivery import DELIVERED, FULL, GONE, TOO_BIG

OUTCOME_TEXT = {
    DELIVERED: "Delivered: handed to the client's connection.",
    GONE: "Not sent: the connection is gone (or closing).",
    TOO_BIG: "Not sent: over the API's message size limit.",
    FULL: "Not sent: the client's outgoing buffer is full (it is not reading). Try again later.",
    delivery.UNREACHABLE: "Not sent: the gateway process holding it cannot be reached.",
    delivery.NO_ANSWER: "No answer from its gateway process in time: it may have arrived or not.",
}


class MessageForm(forms.Form):
    text = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 4}),
        strip=False,
        help_text="A text message; the client receives it as if its backend had sent it.",
    )


class BroadcastForm(MessageForm):
    tag = forms.CharField(
        label="Tag",
        required=False,
        max_length=200,
        help_text="Only connections with this tag (name=value, e.g. room=lobby); empty: all of "
        "this API's connections.",
    )
    field_order = ["tag", "text"]

    def clean_tag(self) -> tuple[str, str] | None:
        value = self.cleaned_data["tag"].strip()
        if not value:
            return None
        try:
            return live_selectors.parse_tag(value)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


@publisher_required
@require_http_methods(["GET", "POST"])
def connection_send(request: HttpRequest, connection_id: str) -> HttpResponse:
    connection = visible_connection(request.user, connection_id)
    back = safe_next(request, reverse("publisher:api-live", args=[connection.api_name]))
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        text = form.cleaned_data["text"]
        limit = Api.objects.filter(pk=connection.api_id).values_list("max_message_bytes", flat=True)
        if limit and len(text.encode()) > limit[0]:
            outcome = TOO_BIG
        else:
            outcome = delivery.deliver([connection], text=text, data=None).get(
                connection.connection_id, GONE
            )
        audit(
            request,
            "live connection message",
            connection=connection.connection_id,
            api=connection.api_name,
            bytes=len(text.encode()),
            outcome=outcome,
        )
        if outcome == DELIVERED:
            messages.success(request, f"Connection {connection_id[:8]}…: {OUTCOME_TEXT[outcome]}")
            return redirect(back)
        form.add_error("text", OUTCOME_TEXT.get(outcome, OUTCOME_TEXT[GONE]))
    context = {"row": live_rows([connection])[0], "form": form, "next": back, "section": "apis"}
    return render(request, "apis/telemetry/live_send.html", context)


@publisher_required
@require_http_methods(["GET", "POST"])
def api_broadcast(request: HttpRequest, name: str) -> HttpResponse:
    """GET (from the Live tab's form) reviews: how many connections match now; POST sends."""
    api = get_object_or_404(Api, name=name)
    form = BroadcastForm(request.POST if request.method == "POST" else request.GET)
    back = reverse("publisher:api-live", args=[api.name])
    context = {"api": api, "tab": "live", "tabs": api_tabs(api, "live"), "section": "apis"}
    if not form.is_valid():
        return render(request, "apis/telemetry/live_broadcast.html", {**context, "form": form})
    tag = form.cleaned_data["tag"]
    rows = live_selectors.live_connections(request.user, api_id=api.pk, tag=tag).filter(
        disconnect_requested_at__isnull=True
    )
    if request.method == "GET":
        context.update(form=form, matched=rows.count(), tag="=".join(tag) if tag else "")
        return render(request, "apis/telemetry/live_broadcast.html", context)
    rows = list(rows)
    text = form.cleaned_data["text"]
    results = delivery.deliver(rows, text=text, data=None) if rows else {}
    delivered = sum(1 for outcome in results.values() if outcome == DELIVERED)
    selector = {"api": repr(api.name)} | ({"tag": repr("=".join(tag))} if tag else {})
    counts = {"matched": len(rows), "delivered": delivered, "failed": len(rows) - delivered}
    audit(request, "live connections broadcast", **selector, bytes=len(text.encode()), **counts)
    messages.success(
        request,
        f"Broadcast: delivered to {delivered} of {len(rows)} matching connection"
        f"{'' if len(rows) == 1 else 's'}" + (f"; {counts['failed']} failed." if rows else "."),
    )
    return redirect(back)
