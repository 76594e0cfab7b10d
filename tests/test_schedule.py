"""Beat really runs the periodic jobs declared in helpdesk/schedule.py."""

from django.conf import settings

from helpdesk.celery import app
from helpdesk.schedule import BEAT_SCHEDULE


def test_the_celery_app_has_every_periodic_job():
    assert settings.CELERY_BEAT_SCHEDULE == BEAT_SCHEDULE
    assert app.conf.beat_schedule.keys() == BEAT_SCHEDULE.keys()
    assert {
        "escalation.sla-sweep",
        "tickets.send-due-mail",
        "tickets.assign-waiting",
        "tickets.retrain-classifier",
        "analytics.send-due-csat",
        "analytics.send-due-nps",
        "analytics.staffing-warm",
        "analytics.weekly-report",
        "analytics.csat-review",
        "analytics.facts-catch-up",
        "analytics.facts-rebuild",
    } <= BEAT_SCHEDULE.keys()
    app.autodiscover_tasks(force=True)  # what a worker does at start
    for entry in BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]
