"""Telemetry models: one row per connection attempt, and per-minute figures for the charts."""

from django.db import models

# Catalog ids are kept as plain integers (no foreign keys): a record written after its API or
# subscription was deleted must still be stored, and the names are copied for reading later.


class ConnectionLog(models.Model):
    """One connection attempt through a gateway, from handshake to close (never the key)."""

    class State(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        REFUSED = "refused", "Refused"
        BACKEND_FAILED = "backend_failed", "Backend failed"
        ERROR = "error", "Gateway error"

    correlation_id = models.CharField(max_length=32, db_index=True)
    gateway = models.CharField(max_length=80)
    api_id = models.BigIntegerField(null=True, blank=True)
    api_name = models.CharField(max_length=80, blank=True)
    product_id = models.BigIntegerField(null=True, blank=True)
    product_name = models.CharField(max_length=80, blank=True)
    subscription_id = models.BigIntegerField(null=True, blank=True)
    subscription_name = models.CharField(max_length=100, blank=True)
    client_ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    path = models.CharField(max_length=300, blank=True, help_text="Request path, no query.")
    started_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=State.choices)
    status = models.PositiveSmallIntegerField(help_text="101 when accepted, else the refusal's.")
    reason = models.CharField(max_length=300, blank=True, help_text="Why it was refused.")
    backend_connect_ms = models.FloatField(null=True, blank=True)
    handshake_ms = models.FloatField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    close_code = models.PositiveIntegerField(null=True, blank=True)
    close_reason = models.CharField(max_length=200, blank=True)
    closed_by = models.CharField(max_length=10, blank=True)
    messages_up = models.BigIntegerField(default=0)
    bytes_up = models.BigIntegerField(default=0)
    messages_down = models.BigIntegerField(default=0)
    bytes_down = models.BigIntegerField(default=0)
    messages_dropped = models.BigIntegerField(
        default=0, help_text="Messages an onMessage policy dropped, either direction."
    )
    message_samples = models.JSONField(
        default=list,
        blank=True,
        help_text="Messages log-messages kept: direction, time, size and text (cut, redacted).",
    )
    error = models.TextField(blank=True)

    class Meta:
        db_table = "apis_connectionlog"  # created by the catalog app before telemetry had its own
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["api_id", "started_at"], name="connlog_api_started"),
            models.Index(fields=["subscription_id", "started_at"], name="connlog_sub_started"),
            models.Index(fields=["started_at"], name="connlog_started"),
        ]

    def __str__(self) -> str:
        return f"{self.correlation_id} {self.state} {self.status}"


class UsageMinute(models.Model):
    """Per minute, gateway, API and subscription (0 = none): attempts, traffic and latency."""

    minute = models.DateTimeField()
    gateway = models.CharField(max_length=80)
    api_id = models.BigIntegerField(default=0)
    subscription_id = models.BigIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    backend_failed = models.PositiveIntegerField(default=0)
    active_max = models.PositiveIntegerField(default=0, help_text="Most open at one sample.")
    messages_up = models.BigIntegerField(default=0)
    bytes_up = models.BigIntegerField(default=0)
    messages_down = models.BigIntegerField(default=0)
    bytes_down = models.BigIntegerField(default=0)
    handshake_ms_sum = models.FloatField(default=0)
    handshake_count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "apis_usageminute"  # created by the catalog app before telemetry had its own
        ordering = ["minute"]
        constraints = [
            models.UniqueConstraint(
                fields=["minute", "gateway", "api_id", "subscription_id"], name="usage_minute_key"
            )
        ]
        indexes = [
            models.Index(fields=["api_id", "minute"], name="usage_api_minute"),
            models.Index(fields=["subscription_id", "minute"], name="usage_sub_minute"),
        ]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} api {self.api_id} sub {self.subscription_id}"


class RefusalMinute(models.Model):
    """Per minute, gateway, API and subscription: refused attempts by state and HTTP status."""

    minute = models.DateTimeField()
    gateway = models.CharField(max_length=80)
    api_id = models.BigIntegerField(default=0)
    subscription_id = models.BigIntegerField(default=0)
    state = models.CharField(max_length=16)
    status = models.PositiveSmallIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "apis_refusalminute"  # created by the catalog app before telemetry had its own
        ordering = ["minute"]
        constraints = [
            models.UniqueConstraint(
                fields=["minute", "gateway", "api_id", "subscription_id", "state", "status"],
                name="refusal_minute_key",
            )
        ]
        indexes = [models.Index(fields=["api_id", "minute"], name="refusal_api_minute")]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} api {self.api_id} {self.status} x{self.count}"


class TelemetryBatch(models.Model):
    """A batch of telemetry already stored, by the id its gateway process gave it: a batch sent
    again (its answer was lost in an outage) is recognised and not counted twice."""

    batch_id = models.CharField(max_length=120, unique=True)
    records = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return self.batch_id


class LiveWorker(models.Model):
    """One gateway process that reports its open connections; its rows expire with its reports.

    A process reports at least every few seconds while it holds connections: one silent for
    `apis.telemetry.live_services.STALE_SECONDS` (it died, or its node lost the control plane)
    is no longer listed, and the next report of any process deletes it with its connections."""

    gateway = models.CharField(max_length=80)
    node_id = models.CharField(max_length=100)
    worker = models.CharField(max_length=40)
    reported_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["gateway", "node_id", "worker"], name="live_worker_key")
        ]

    def __str__(self) -> str:
        return f"{self.gateway}/{self.node_id}/{self.worker}"


class LiveConnection(models.Model):
    """One open connection as its gateway process last reported it (never the key)."""

    connection_id = models.CharField(max_length=32, unique=True, help_text="Correlation id.")
    process = models.ForeignKey(LiveWorker, on_delete=models.CASCADE, related_name="connections")
    api_id = models.BigIntegerField()
    api_name = models.CharField(max_length=80, blank=True)
    product_id = models.BigIntegerField(null=True, blank=True)
    subscription_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    client_ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    opened_at = models.DateTimeField()
    messages_up = models.BigIntegerField(default=0)
    bytes_up = models.BigIntegerField(default=0)
    messages_down = models.BigIntegerField(default=0)
    bytes_down = models.BigIntegerField(default=0)
    counted_at = models.DateTimeField(help_text="When the counts were last reported.")
    disconnect_reason = models.CharField(max_length=120, blank=True)
    disconnect_requested_at = models.DateTimeField(null=True, blank=True)
    # set-connection-tag's tags ({name: value}, at most 8), as the gateway reported them.
    tags = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["opened_at", "id"]
        indexes = [
            models.Index(fields=["api_id", "opened_at"], name="live_api_opened"),
            # Each process asks twice a second for its disconnects: only the asked rows indexed.
            models.Index(
                fields=["process"],
                condition=models.Q(disconnect_requested_at__isnull=False),
                name="live_disconnect_asked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection_id} api {self.api_id}"


class PendingMessage(models.Model):
    """A message for some of one process's connections, waiting in the control channel.

    Used for a process the control plane cannot reach over Redis (a self-hosted node without
    it, or Redis down): the process takes it with the answer to its next live report (about
    every half second) and reports how each delivery ended in the report after. Rows live
    seconds: the sender deletes its row once answered, or withdraws it when not taken in time."""

    process = models.ForeignKey(LiveWorker, on_delete=models.CASCADE, related_name="messages")
    connection_ids = models.JSONField(default=list)
    text = models.TextField(null=True, blank=True)  # noqa: DJ001 - None: a binary message
    data = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    taken_at = models.DateTimeField(null=True, blank=True)
    results = models.JSONField(null=True, blank=True)  # {connection id: outcome}

    class Meta:
        indexes = [
            # Each process asks twice a second for its messages: only the untaken rows indexed.
            models.Index(
                fields=["process"],
                condition=models.Q(taken_at__isnull=True),
                name="pending_message_untaken",
            ),
        ]

    def __str__(self) -> str:
        return f"message {self.pk} for {len(self.connection_ids)} connection(s)"
