"""A self-hosted node's telemetry writer: POST each batch to the control plane (node token)."""

from gateway.catalog.wire import encode_batch
from gateway.controlplane import TELEMETRY_PATH, ControlPlaneError


def control_plane_writer(control=None):
    """writer(batch_id=..., records=..., usage=..., refusals=...) for the recorder; raises
    ControlPlaneError when the batch was not stored, so it stays in the spool."""
    if control is None:
        from gateway.store import get_store

        control = get_store().source.control  # one client (and token) for the whole node

    async def write(**batch) -> None:
        response = await control.request("POST", TELEMETRY_PATH, json=encode_batch(batch))
        if response.status_code != 200:
            raise ControlPlaneError(f"control plane answered {response.status_code} to telemetry")

    return write
