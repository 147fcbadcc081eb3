"""OpenAPI schema helpers: the optional JSON body some DELETE endpoints read."""

from drf_spectacular.openapi import AutoSchema


class DeleteBodySchema(AutoSchema):
    """Documents a DELETE's optional body (declared with `extend_schema(request=...)`).

    drf-spectacular documents request bodies of POST, PUT and PATCH only; closing a connection
    takes `{"reason": ...}` on DELETE, which clients must be able to find in the schema.
    """

    def _get_request_body(self, direction="request"):
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        self.method = "POST"  # the parent skips every other method
        try:
            body = super()._get_request_body(direction)
        finally:
            self.method = "DELETE"
        if body:
            body["required"] = False
        return body
