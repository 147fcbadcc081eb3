"""The `asyncapi` entry of an API in the declarative catalog (`portico export` / `apply`).

The catalog carries the API's contract as an AsyncAPI 3.0 document without servers: the backend
URL, display name and description are fields of the entry itself.
"""

from django.core.exceptions import ValidationError

from apis.asyncapi.contract import has_contract
from apis.asyncapi.errors import AsyncApiError
from apis.asyncapi.reading import read
from apis.asyncapi.writing import export_document


def asyncapi_entry(api) -> dict:
    """{"asyncapi": document} for an API with a contract, else nothing (older files unchanged)."""
    return {"asyncapi": export_document(api)} if has_contract(api) else {}


def contract_changes(api, entry: dict) -> dict:
    """{"asyncapi_contract": ...} when the entry's document differs from the API's contract."""
    if "asyncapi" not in entry:
        return {}
    document = entry["asyncapi"]
    if document in (None, "", {}):
        contract = {}
    else:
        try:
            contract = read(document, need_backend=False).contract
        except AsyncApiError as error:
            raise ValidationError({"asyncapi": [str(p) for p in error.problems]}) from None
    current = api.asyncapi_contract if api is not None else {}
    return {} if contract == current else {"asyncapi_contract": contract}
