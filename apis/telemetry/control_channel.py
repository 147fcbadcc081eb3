"""Messages to live connections through the processes' control channel (their live reports).

For a process the control plane cannot reach over Redis: the sender writes one
`PendingMessage` per process; the process takes it with the answer to its next live report
(`take`, about every half second) and reports the outcomes in the report right after
(`record_answers`); the sender polls for them (`Round`). A message not taken in time is
withdrawn with a conditional delete, so the sender knows for sure that nothing was sent.
"""

import base64
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apis.telemetry.models import LiveWorker, PendingMessage
from gateway.catalog.delivery import GONE, OUTCOMES

POLL_SECONDS = 0.05
LEFT_BEHIND_SECONDS = 60  # a row this old has no sender waiting for it any more
MAX_TAKEN_PER_REPORT = 64  # messages handed to one process per report answer


def take(*, gateway: str, node_id: str, worker: str) -> list[dict]:
    """The messages waiting for this process, marked taken: requests as
    gateway.catalog.delivery describes them ({"id", "connections", "text" | "data" base64})."""
    waiting = PendingMessage.objects.filter(
        process__gateway=gateway,
        process__node_id=node_id,
        process__worker=worker,
        taken_at__isnull=True,  # the partial index pending_message_untaken
    )
    # Asked with every report (twice a second per process) and nearly always empty: one read
    # without the transaction and its lock, which cost a busy process's thread more than the
    # read itself. A message written just after it is taken with the next report.
    if not waiting.exists():
        return []
    with transaction.atomic():
        rows = list(
            waiting.select_for_update(skip_locked=True).order_by("pk")[:MAX_TAKEN_PER_REPORT]
        )
        if not rows:
            return []
        PendingMessage.objects.filter(pk__in=[row.pk for row in rows]).update(
            taken_at=timezone.now()
        )
    requests = []
    for row in rows:
        request = {"id": str(row.pk), "connections": row.connection_ids}
        if row.text is not None:
            request["text"] = row.text
        else:
            request["data"] = base64.b64encode(bytes(row.data or b"")).decode("ascii")
        requests.append(request)
    return requests


def record_answers(*, process: LiveWorker, answers: dict) -> None:
    """Outcomes a process reported: {message id: {connection id: outcome}}."""
    for message_id, results in answers.items():
        if not str(message_id).isdigit() or not isinstance(results, dict):
            continue
        clean = {str(k): v if v in OUTCOMES else GONE for k, v in results.items()}
        PendingMessage.objects.filter(pk=int(message_id), process=process).update(results=clean)


class Round:
    """One send through the control channel: post to each process, then wait for answers."""

    def __init__(self) -> None:
        self.waiting: dict[int, list[str]] = {}  # message pk -> its connection ids

    def post(self, process: LiveWorker, ids: list[str], text, data) -> None:
        if not self.waiting:  # rows a sender left behind (it died while waiting): gone
            stale = timezone.now() - timedelta(seconds=LEFT_BEHIND_SECONDS)
            PendingMessage.objects.filter(created_at__lt=stale).delete()
        row = PendingMessage.objects.create(
            process=process,
            connection_ids=ids,
            text=text,
            data=data if text is None else None,
        )
        self.waiting[row.pk] = ids

    def poll(self) -> dict[str, str]:
        """Outcomes answered since the last poll (their rows deleted)."""
        if not self.waiting:
            return {}
        results: dict[str, str] = {}
        answered = PendingMessage.objects.filter(
            pk__in=list(self.waiting), results__isnull=False
        ).values_list("pk", "results")
        done = []
        for pk, answer in answered:
            results.update(answer)
            done.append(pk)
            self.waiting.pop(pk, None)
        if done:
            PendingMessage.objects.filter(pk__in=done).delete()
        return results

    def give_up(self, *, no_answer: str, not_taken: str) -> dict[str, str]:
        """At the deadline: withdraw what was never taken (nothing sent: `not_taken`); what was
        taken and not answered is `no_answer` (it may have arrived)."""
        results: dict[str, str] = {}
        for pk, ids in self.waiting.items():
            withdrawn, _ = PendingMessage.objects.filter(pk=pk, taken_at__isnull=True).delete()
            results.update(dict.fromkeys(ids, not_taken if withdrawn else no_answer))
        PendingMessage.objects.filter(pk__in=list(self.waiting)).delete()
        self.waiting = {}
        return results


def wait(round_: Round, redis_round, deadline: float) -> dict[str, str]:
    """Gather answers from both transports until all came or `deadline` (time.monotonic)."""
    results: dict[str, str] = {}
    while round_.waiting or redis_round.waiting:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        if redis_round.waiting:
            results.update(redis_round.poll(min(left, POLL_SECONDS)))
        else:
            time.sleep(min(left, POLL_SECONDS))
        results.update(round_.poll())
    return results
