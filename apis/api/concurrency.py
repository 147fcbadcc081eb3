"""Optimistic concurrency: an ETag from `updated_at` on reads, `If-Match` checked on writes.

A write whose `If-Match` names another version answers 412. A write without `If-Match` is
accepted (last write wins), so the browsable API and simple scripts keep working; clients that
care (the `portico` CLI does) send the ETag they read.
"""

from rest_framework.response import Response

from apis.api.exceptions import PreconditionFailed

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def etag_of(instance) -> str:
    stamp = instance.updated_at.timestamp() if instance.updated_at else 0
    return f'"{instance.pk or 0}-{round(stamp * 1_000_000)}"'


def check_if_match(request, instance) -> None:
    header = request.headers.get("If-Match")
    if header is None:
        return
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    if "*" not in tags and etag_of(instance) not in tags:
        raise PreconditionFailed()


def with_etag(response: Response, instance) -> Response:
    response["ETag"] = etag_of(instance)
    return response


class ConcurrencyMixin:
    """For model viewsets: ETag on retrieve/update responses, If-Match on unsafe detail calls."""

    def get_object(self):
        instance = super().get_object()
        if self.request.method in UNSAFE_METHODS:
            check_if_match(self.request, instance)
        return instance

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        return with_etag(Response(self.get_serializer(instance).data), instance)

    def perform_update(self, serializer) -> None:
        serializer.save()
        self.written = serializer.instance

    def update(self, request, *args, **kwargs):
        return with_etag(super().update(request, *args, **kwargs), self.written)
