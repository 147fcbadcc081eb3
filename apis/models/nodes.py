"""Gateway nodes: one row per gateway process, as its last heartbeat described it."""

from django.db import models

from apis.models.catalog import Gateway

NODE_ONLINE_SECONDS = 30  # three missed heartbeats (every 10 s) and a node is shown as stale
NODE_FORGET_SECONDS = 24 * 3600  # a node silent this long leaves the list


class GatewayNode(models.Model):
    """One gateway process as its last heartbeat described it (a node runs one or more)."""

    gateway = models.ForeignKey(Gateway, on_delete=models.CASCADE, related_name="nodes")
    node_id = models.CharField(max_length=100, help_text="PORTICO_NODE_ID, or host:port.")
    worker = models.CharField(max_length=40, help_text="The worker process (its pid).")
    hostname = models.CharField(max_length=255, blank=True)
    version = models.CharField(max_length=50, blank=True)
    revision = models.PositiveBigIntegerField(default=0, help_text="Configuration it serves.")
    workers = models.PositiveIntegerField(default=1, help_text="Worker processes of the node.")
    open_connections = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["node_id", "worker"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "node_id", "worker"], name="gateway_node_worker"
            )
        ]

    def __str__(self) -> str:
        return f"{self.gateway_id}/{self.node_id}/{self.worker}"
