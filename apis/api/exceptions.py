"""One JSON error shape for every 4xx: `{"status": 400, "errors": [{"field", "message"}]}`."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource changed since you read it: GET it again and retry."
    default_code = "precondition_failed"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the resource's current state."
    default_code = "conflict"


def flatten(detail, field: str | None = None) -> list[dict]:
    """DRF's nested error detail as a flat list of {field, message, code}."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = None if key in ("non_field_errors", "__all__", "detail") else str(key)
            out += flatten(value, f"{field}.{name}" if field and name else (name or field))
        return out
    if isinstance(detail, list):
        out = []
        for index, value in enumerate(detail):
            nested = isinstance(value, dict | list)
            out += flatten(value, f"{field}[{index}]" if nested and field else field)
        return out
    return [{"field": field, "message": str(detail), "code": getattr(detail, "code", "invalid")}]


def error_body(status_code: int, errors: list[dict]) -> dict:
    return {"status": status_code, "errors": errors}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a server error: Django's 500 handling (and logging) takes over
    data = response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        errors = [{"field": None, "message": str(data["detail"]), "code": exc_code(exc)}]
    else:
        errors = flatten(data)
    response.data = error_body(response.status_code, errors)
    return response


def exc_code(exc) -> str:
    codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    return codes if isinstance(codes, str) else "error"


def not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown paths under /api/ answer JSON too."""
    message = f"No endpoint at {request.path}."
    return JsonResponse(
        error_body(404, [{"field": None, "message": message, "code": "not_found"}]), status=404
    )
