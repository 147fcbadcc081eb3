"""The `asyncapi` entry of an API in the declarative catalog (`portico export` / `apply`).

The API's own fields are the source of truth, and the catalog says each of them once, as a field
of the entry: display name, description, backend URL. The `asyncapi` document carries the
contract (info.version, channels, operations) without servers or info.description; its
info.title, which AsyncAPI requires, repeats the display name. Applying takes the document's
info.title and info.description as the display name and description where the entry does not
give them, and refuses a document whose info disagrees with its entry: what apply accepts is
exactly what the next export writes.
"""

from django.core.exceptions import ValidationError

from apis.asyncapi.contract import has_contract
from apis.asyncapi.errors import AsyncApiError
from apis.asyncapi.reading import read
from apis.asyncapi.writing import export_document


def asyncapi_entry(api) -> dict:
    """{"asyncapi": document} for an API with a contract, else nothing (older files unchanged)."""
    if not has_contract(api):
        return {}
    document = export_document(api)
    document["info"].pop("description", None)  # the entry's `description` says it
    return {"asyncapi": document}


def declared_fields(entry: dict) -> dict:
    """The API fields an entry's `asyncapi` document states: the contract, and the display name
    and description from its info where the entry has no such field.

    An empty document clears the contract. A document that cannot be read, or whose info
    disagrees with the entry, raises ValidationError keyed by where the problem is.
    """
    if "asyncapi" not in entry:
        return {}
    document = entry["asyncapi"]
    if document in (None, "", {}):
        return {"asyncapi_contract": {}}
    try:
        imported = read(document, need_backend=False)
    except AsyncApiError as error:
        raise ValidationError({"asyncapi": [str(p) for p in error.problems]}) from None
    fields = {"asyncapi_contract": imported.contract}
    problems = {}
    title, description = imported.display_name, imported.description
    if "display_name" not in entry:
        fields["display_name"] = title
    elif entry["display_name"] != title:  # AsyncAPI requires a title: it is always said
        problems["asyncapi.info.title"] = [
            f"{title!r} differs from the entry's display_name {entry['display_name']!r}: both "
            "name the API, so change them together."
        ]
    if description and "description" not in entry:
        fields["description"] = description
    elif description and entry["description"] != description:
        problems["asyncapi.info.description"] = [
            "Differs from the entry's description: both describe the API; say it once, as the "
            "entry's description (an export leaves it out of the document)."
        ]
    if problems:
        raise ValidationError(problems)
    return fields
