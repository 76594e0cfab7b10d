"""The survey sweep is on beat's schedule under a task the worker registers."""

from django.conf import settings

from helpdesk.celery import app


def test_the_survey_sweep_is_a_registered_beat_task():
    entry = settings.CELERY_BEAT_SCHEDULE["analytics.send-due-surveys"]
    app.autodiscover_tasks(force=True)  # what a worker does at start
    assert entry["task"] in app.tasks
    assert app.tasks[entry["task"]].name == "analytics.surveys.tasks.send_due_surveys"
    assert entry["schedule"] <= 60


def test_the_hook_and_panel_are_wired_in_settings():
    assert "analytics.surveys.hooks.SurveyHook" in settings.HELPDESK_LIFECYCLE_HOOKS
    assert "analytics.surveys.panels.survey_panel" in settings.HELPDESK_TICKET_PANELS
