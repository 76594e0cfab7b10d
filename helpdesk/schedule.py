"""Celery beat schedule: every periodic job of the helpdesk, declared in one place.

Each entry says how often it runs and why. Later issues add the SLA sweep and
rollups here.
"""

BEAT_SCHEDULE: dict[str, dict] = {
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
