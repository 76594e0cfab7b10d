"""Celery task of classification: retrain on resolved tickets.

Celery's autodiscovery imports `tickets.tasks`, which imports this module so
the task registers under the name `tickets.classification.tasks.retrain_classifier`.
"""

from celery import shared_task

from tickets.classification.training import classifier_retrain_from_tickets


# No retries: a failed training changes nothing and the next scheduled run
# tries again. The time limit stops a runaway fit from holding a worker; a
# large helpdesk (100,000 tickets) trains in a few minutes.
@shared_task(acks_late=True, soft_time_limit=3000, time_limit=3600)
def retrain_classifier() -> dict:
    return classifier_retrain_from_tickets()
