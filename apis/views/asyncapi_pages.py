"""Publisher pages for AsyncAPI: add an API from a document, and each API's AsyncAPI tab."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from apis.asyncapi.contract import has_contract
from apis.asyncapi.forms import AsyncApiImportForm
from apis.asyncapi.presentation import display_channels
from apis.views.access import breadcrumbs, publisher_required
from apis.views.api_pages import _api, _api_context


def download_links(api) -> list[dict]:
    """The export in both formats (the management API answers the session of a publisher)."""
    url = reverse("api:api-asyncapi", kwargs={"name": api.name})
    return [
        {"label": f"AsyncAPI ({fmt.upper()})", "url": f"{url}?format={fmt}"}
        for fmt in ("yaml", "json")
    ]


@publisher_required
def api_import(request: HttpRequest) -> HttpResponse:
    form = AsyncApiImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        if saved is not None:
            api, created = saved
            verb = "Added" if created else "Updated"
            messages.success(request, f"{verb} the WebSocket API {api.display_name} from AsyncAPI.")
            return redirect("publisher:api-asyncapi", api.name)
    context = {"form": form, "section": "apis"}
    context["crumbs"] = breadcrumbs("apis", ("Add from AsyncAPI", None))
    return render(request, "apis/api_import.html", context)


@publisher_required
def api_asyncapi(request: HttpRequest, name: str) -> HttpResponse:
    api = _api(name)
    form = AsyncApiImportForm(request.POST or None, request.FILES or None, instance=api)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        if saved is not None:
            messages.success(
                request, f"Updated {saved[0].display_name} from the AsyncAPI document."
            )
            return redirect("publisher:api-asyncapi", saved[0].name)
        api.refresh_from_db()
    context = {
        **_api_context(request, api, "asyncapi"),
        "form": form,
        "channels": display_channels(api.asyncapi_contract),
        "has_contract": has_contract(api),
        "downloads": download_links(api),
    }
    return render(request, "apis/api_asyncapi.html", context)
