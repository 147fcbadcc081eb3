"""Create or update a WebSocket API from an AsyncAPI document (writes go through apis.services)."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from apis import services
from apis.asyncapi.errors import AsyncApiError
from apis.asyncapi.reading import Imported, choose_server, read
from apis.asyncapi.sources import source_from_contract
from apis.models import Api, Gateway, Product
from gateway.catalog.eventsource import EVENT_SOURCE_KINDS, backend_kind


def read_document(source) -> Imported:
    """`reading.read` (no backend chosen), with refusals as a Django ValidationError."""
    try:
        return read(source, need_backend=False)
    except AsyncApiError as error:
        raise ValidationError(error.as_dict()) from None


@transaction.atomic
def import_asyncapi(
    *,
    document,
    api: Api | None = None,
    name: str | None = None,
    url_suffix: str | None = None,
    server: str | None = None,
    backend_url: str | None = None,
    products: Iterable[Product] | None = None,
    gateways: Iterable[Gateway] | None = None,
) -> tuple[Api, bool]:
    """Create the API, or update `api` (or the API called `name`); returns (api, created).

    The document gives the display name, description and contract. A new API's backend URL is
    `backend_url`, or the document's ws/wss server (`server` naming it when there are several);
    an update keeps the API's backend unless `backend_url` or `server` is given, so that a
    document whose only servers are the Portico gateway (an API's own export) can update it.
    An update keeps the API's URL suffix unless `url_suffix` is given.
    """
    imported = read_document(document)
    fields = {
        "display_name": imported.display_name,
        "description": imported.description,
        "asyncapi_contract": imported.contract,
    }
    if url_suffix:
        fields["url_suffix"] = url_suffix
    if api is None:
        wanted = name or slugify(imported.display_name)[:80]
        api = Api.objects.filter(name=wanted).first() if wanted else None
    if backend_url:
        fields["backend_url"] = backend_url
    elif server or api is None:
        fields["backend_url"] = _backend(imported, server)
    kind = backend_kind(fields.get("backend_url") or (api.backend_url if api else ""))
    if kind in EVENT_SOURCE_KINDS and not (api is not None and api.source):
        # A broker backend: what to subscribe to and publish comes from the channels.
        fields["source"] = source_from_contract(kind, imported.contract)
    if api is None:
        if not url_suffix:
            raise ValidationError({"url_suffix": "A new API needs a URL suffix."})
        created = services.create_api(
            name=wanted, products=products or (), gateways=gateways, **fields
        )
        return created, True
    updated = services.update_api(api=api, products=products, gateways=gateways, **fields)
    return updated, False


def _backend(imported: Imported, server: str | None) -> str:
    try:
        return choose_server(imported.servers, server, imported.gateway_servers)
    except AsyncApiError as error:
        raise ValidationError(error.as_dict()) from None


@transaction.atomic
def set_contract(*, api: Api, document) -> Api:
    """Replace only the API's channels and messages (the catalog's `asyncapi` entry)."""
    imported = read_document(document)
    return services.update_api(api=api, asyncapi_contract=imported.contract)
