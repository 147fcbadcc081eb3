"""OpenAPI post-processing: every operation documents the API's one JSON error shape for 4xx."""

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every 4xx answer of the management API (apis/api/exceptions.py).",
    "properties": {
        "status": {"type": "integer", "minimum": 400, "maximum": 499},
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
                "required": ["field", "message", "code"],
            },
        },
    },
    "required": ["status", "errors"],
}
METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")


def document_errors(result: dict, generator, request, public) -> dict:
    """Add `4XX: Error` to each operation that does not describe its own client errors."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {
        "description": "The request was refused; `errors` says which field and why.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if method in METHODS:
                responses = operation.setdefault("responses", {})
                if not any(str(code).startswith("4") for code in responses):
                    responses["4XX"] = error
    return result
