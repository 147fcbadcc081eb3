"""Create or update a WebSocket API from an AsyncAPI document (writes go through apis.services)."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from apis import services
from apis.asyncapi.errors import AsyncApiError
from apis.asyncapi.reading import Imported, read
from apis.models import Api, Gateway, Product


def read_document(source, *, server: str | None = None, need_backend: bool = True) -> Imported:
    """`reading.read`, with refusals as a Django ValidationError ({field: [path: message]})."""
    try:
        return read(source, server=server, need_backend=need_backend)
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

    The document gives the display name, description, contract and (unless `backend_url` is
    given) the backend URL from its ws/wss server, `server` naming it when there are several.
    An update keeps the API's URL suffix unless `url_suffix` is given.
    """
    imported = read_document(document, server=server, need_backend=not backend_url)
    fields = {
        "display_name": imported.display_name,
        "description": imported.description,
        "backend_url": backend_url or imported.backend_url,
        "asyncapi_contract": imported.contract,
    }
    if url_suffix:
        fields["url_suffix"] = url_suffix
    if api is None:
        wanted = name or slugify(imported.display_name)[:80]
        api = Api.objects.filter(name=wanted).first() if wanted else None
        if api is None:
            if not url_suffix:
                raise ValidationError({"url_suffix": "A new API needs a URL suffix."})
            created = services.create_api(
                name=wanted, products=products or (), gateways=gateways, **fields
            )
            return created, True
    updated = services.update_api(api=api, products=products, gateways=gateways, **fields)
    return updated, False


@transaction.atomic
def set_contract(*, api: Api, document) -> Api:
    """Replace only the API's channels and messages (the catalog's `asyncapi` entry)."""
    imported = read_document(document, need_backend=False)
    return services.update_api(api=api, asyncapi_contract=imported.contract)
