"""The survey sweep is on beat's schedule under a task the worker registers."""

from django.conf import settings

from helpdesk.celery import app


def test_the_survey_sweeps_are_registered_beat_tasks():
    app.autodiscover_tasks(force=True)  # what a worker does at start
    csat = settings.CELERY_BEAT_SCHEDULE["analytics.send-due-csat"]
    nps = settings.CELERY_BEAT_SCHEDULE["analytics.send-due-nps"]
    assert app.tasks[csat["task"]].name == "analytics.surveys.tasks.send_due_csat"
    assert app.tasks[nps["task"]].name == "analytics.surveys.tasks.send_due_nps"
    # The CSAT delay is honoured to within a minute.
    assert csat["schedule"] <= 60


def test_the_hook_and_panel_are_wired_in_settings():
    assert "analytics.surveys.hooks.SurveyHook" in settings.HELPDESK_LIFECYCLE_HOOKS
    assert "analytics.surveys.panels.survey_panel" in settings.HELPDESK_TICKET_PANELS
