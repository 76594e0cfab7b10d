"""Celery beat schedule: every periodic job of the helpdesk, declared in one place.

Each entry says how often it runs and why. Later issues add the rollups here.
"""

from helpdesk.env import env_int

# How often the SLA sweep runs: the delay between a due time and its
# escalation being recorded is at most this plus the sweep's own time.
SLA_SWEEP_SECONDS = env_int("HELPDESK_SLA_SWEEP_SECONDS", 5)

BEAT_SCHEDULE: dict[str, dict] = {
    # Every few seconds: SLA warnings and breaches that came due are recorded
    # and escalated, each exactly once (escalation.sweep). Finding nothing due
    # is one index range scan.
    "escalation.sla-sweep": {
        "task": "escalation.tasks.sweep_sla",
        "schedule": float(SLA_SWEEP_SECONDS),
    },
    # Every 5 minutes: acknowledgements whose on-commit enqueue was lost (a
    # crash between commit and enqueue) are picked up again. Idempotent.
    "tickets.acknowledge-missed": {
        "task": "tickets.tasks.acknowledge_missed_tickets",
        "schedule": 300.0,
    },
    # Every 30 seconds: tickets that waited for capacity go to agents who now
    # have room. Cheap when nothing waits (one indexed query).
    "tickets.assign-waiting": {
        "task": "tickets.tasks.assign_waiting_tickets",
        "schedule": 30.0,
    },
    # Every 24 hours: retrain the ticket classifier on resolved tickets. It skips
    # when there are fewer than HELPDESK_CLASSIFIER_MIN_TRAINING_TICKETS or nothing
    # changed since the last version, and activates the new one only if it is not worse.
    "tickets.retrain-classifier": {
        "task": "tickets.classification.tasks.retrain_classifier",
        "schedule": 24 * 3600.0,
    },
}
