"""Celery task of classification: retrain on resolved tickets.

Celery's autodiscovery imports `tickets.tasks`, which imports this module so
the task registers under the name `tickets.classification.tasks.retrain_classifier`.
It is routed to HELPDESK_TRAINING_QUEUE (CELERY_TASK_ROUTES), which only a
worker of its own consumes: a training holds its worker for minutes.
"""

from celery import shared_task

from tickets.classification.training import classifier_retrain_from_tickets


# No retries: a failed training changes nothing and the next scheduled run
# tries again. The training data is capped (HELPDESK_CLASSIFIER_MAX_TRAINING_TICKETS),
# so a retraining takes a few minutes however many tickets there are
# (bench/README.md, "Classifier"); the limits stop a runaway fit anyway.
@shared_task(acks_late=True, soft_time_limit=1800, time_limit=2100)
def retrain_classifier() -> dict:
    return classifier_retrain_from_tickets()
