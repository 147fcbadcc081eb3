"""An API's page: gateway URLs, how to pass the key, code samples and the "Try it" console."""

from dataclasses import dataclass
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from apis import selectors
from apis.asyncapi.presentation import console_data, display_channels
from apis.asyncapi.writing import export_document, to_yaml
from apis.models import Api, Subscription
from apis.selectors.certificates import api_hosts
from apis.views.console_tickets import ticket_view

KEY_PLACEHOLDER = "<your-key>"
KEY_MASK = "••••••••••••"
KEY = object()  # marks where a sample's key goes (masked; the page fetches it on Show or Copy)


@dataclass(frozen=True)
class CodeSample:
    slug: str
    title: str
    parts: tuple[tuple[str, bool], ...]  # (text, is_key) pieces; a key piece is only a mask


def gateway_urls(request: HttpRequest, api: Api) -> list[str]:
    """Where clients connect: the API's gateways' host names (else this request's host); the
    request's own scheme comes first."""
    secure_first = ["wss", "ws"] if request.is_secure() else ["ws", "wss"]
    schemes = {Api.Scheme.WS: ["ws"], Api.Scheme.WSS: ["wss"]}.get(api.url_scheme, secure_first)
    hosts = api_hosts(api, request.get_host())
    return [f"{scheme}://{host}/{api.url_suffix}" for host in hosts for scheme in schemes]


def subscription_label(subscription: Subscription) -> str:
    if subscription.product_id:
        target = subscription.product.display_name
    elif subscription.api_id:
        target = subscription.api.display_name
    else:
        target = "All APIs"
    name = subscription.display_name
    return name if target.lower() in name.lower() else f"{name} ({target})"


def _sample(slug: str, title: str, *pieces, keyed: bool) -> CodeSample:
    parts = []
    for piece in pieces:
        if piece is KEY:
            parts.append((KEY_MASK, True) if keyed else (KEY_PLACEHOLDER, False))
        else:
            parts.append((piece, False))
    return CodeSample(slug, title, tuple(parts))


def code_samples(api: Api, url: str, keyed: bool) -> list[CodeSample]:
    """JavaScript (query parameter), Python `websockets` and `wscat` (header) samples.

    `keyed`: the visitor has a key for it, masked here and filled in by the page's script from
    the subscription's keys endpoint; else a placeholder. The HTML never carries a key."""
    header = api.subscription_key_header
    if api.subscription_required:
        js_url = (f'"{url}?{quote(api.subscription_key_query)}=', KEY, '"')
        py_headers = ("    headers = {", f'"{header}": "', KEY, '"}\n')
        py_connect = f'connect("{url}", additional_headers=headers)'
        wscat = (f'wscat -c "{url}" -H "{header}: ', KEY, '"\n')
    else:
        js_url, py_headers, py_connect = (f'"{url}"',), (), f'connect("{url}")'
        wscat = (f'wscat -c "{url}"\n',)
    javascript = _sample(
        "javascript",
        "JavaScript (browser)",
        "// Browsers cannot set headers on a WebSocket handshake: the key goes in the query.\n",
        "const socket = new WebSocket(",
        *js_url,
        ");\n",
        'socket.addEventListener("open", () => socket.send("hello"));\n',
        'socket.addEventListener("message", (event) => console.log(event.data));\n',
        keyed=keyed,
    )
    python = _sample(
        "python",
        "Python (websockets)",
        "import asyncio\n\nfrom websockets.asyncio.client import connect\n\n\n",
        "async def main():\n",
        *py_headers,
        f"    async with {py_connect} as websocket:\n",
        '        await websocket.send("hello")\n',
        "        print(await websocket.recv())\n\n\n",
        "asyncio.run(main())\n",
        keyed=keyed,
    )
    return [javascript, python, _sample("wscat", "wscat", *wscat, keyed=keyed)]


def api_detail(request: HttpRequest, name: str) -> HttpResponse:
    api = get_object_or_404(selectors.portal_apis(request.user), name=name)
    urls = gateway_urls(request, api)
    granting = list(selectors.subscriptions_granting(request.user, api))
    sample_subscription = granting[0] if granting else None
    context = {
        "api": api,
        "gateway_urls": urls,
        "products": selectors.portal_products(request.user).filter(apis=api),
        "samples": code_samples(api, urls[0], keyed=sample_subscription is not None),
        "sample_key_label": subscription_label(sample_subscription) if granting else "",
        "sample_keys_url": (
            reverse("portal:subscription_keys", args=[sample_subscription.pk])
            if sample_subscription
            else ""
        ),
        "console_urls": urls,
        # The console asks for a connect ticket on use: no key in the console or its URLs.
        "console_subscriptions": [{"label": subscription_label(s), "id": s.pk} for s in granting],
        "console_ticket_url": reverse("portal:api-console-ticket", args=[api.name]),
        "usage_subscriptions": granting,
        "asyncapi_channels": display_channels(api.asyncapi_contract),
        "console_asyncapi": console_data(api.asyncapi_contract),
    }
    return render(request, "portal/api_detail.html", context)


def api_asyncapi(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    """The API as an AsyncAPI 3.0 document, for the developers who may see the API."""
    api = get_object_or_404(selectors.portal_apis(request.user), name=name)
    document = export_document(api, host=api_hosts(api, request.get_host())[0])
    if fmt == "yaml":
        response = HttpResponse(to_yaml(document), content_type="application/yaml")
    elif fmt == "json":
        response = JsonResponse(document, json_dumps_params={"indent": 2, "ensure_ascii": False})
    else:
        raise Http404("Unknown format.")
    response["Content-Disposition"] = f'attachment; filename="{api.name}-asyncapi.{fmt}"'
    return response


api_console_ticket = login_required(
    ticket_view(
        lambda request, name: get_object_or_404(selectors.portal_apis(request.user), name=name),
        lambda request, api: selectors.subscriptions_granting(request.user, api),
    )
)
