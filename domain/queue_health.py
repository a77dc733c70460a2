"""When the job queue needs the owner: a job receivable for longer than the alert delay
has nobody taking it (no worker running, or all of them stuck).

Pure, so the threshold rule is property-tested; ``application.queue_watch`` reads the
queue, applies it and rate-limits the alerts.
"""

from __future__ import annotations


def queue_stalled(oldest_waiting_seconds: float | None, alert_after_seconds: float) -> bool:
    """Whether the queue's oldest receivable job has waited past ``alert_after_seconds``;
    never when its age is unknown (MNS tells none) or nothing waits."""
    if oldest_waiting_seconds is None:
        return False
    return oldest_waiting_seconds > alert_after_seconds
