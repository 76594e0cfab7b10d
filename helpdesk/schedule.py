"""Celery beat schedule: every periodic job of the helpdesk, declared in one place.

Each entry says how often it runs and why.
"""

from celery.schedules import crontab

from helpdesk.env import env_int

# How often the SLA sweep runs: the delay between a due time and its
# escalation being recorded is at most this plus the sweep's own time.
SLA_SWEEP_SECONDS = env_int("HELPDESK_SLA_SWEEP_SECONDS", 5)
# How often the outbox sweep runs: a mail whose enqueue was lost leaves at
# most this long after its one-minute grace.
MAIL_SWEEP_SECONDS = env_int("HELPDESK_MAIL_SWEEP_SECONDS", 30)

BEAT_SCHEDULE: dict[str, dict] = {
    # Every few seconds: SLA warnings and breaches that came due are recorded
    # and escalated, each exactly once (escalation.sweep). Finding nothing due
    # is one index range scan.
    "escalation.sla-sweep": {
        "task": "escalation.tasks.sweep_sla",
        "schedule": float(SLA_SWEEP_SECONDS),
    },
    # Every 30 seconds: the outbox sweep sends mail whose on-commit enqueue was
    # lost (broker down, a crash between commit and enqueue), mail due for a
    # retry, and mail whose sender died after claiming it. One index range
    # scan when nothing is owed; each mail is claimed once.
    "tickets.send-due-mail": {
        "task": "tickets.tasks.send_due_mail",
        "schedule": float(MAIL_SWEEP_SECONDS),
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
    # Every minute: articles a reviewer approved for a later time go live
    # (knowledge_base.services.publish_due); one partial-index scan when none is due.
    "knowledge_base.publish-due": {
        "task": "knowledge_base.tasks.publish_due_articles",
        "schedule": 60.0,
    },
    # Every minute: page views counted in Redis are added to the articles in one
    # transaction (never a database write per view), so "most viewed" is at
    # most a minute behind.
    "knowledge_base.flush-views": {
        "task": "knowledge_base.tasks.flush_article_views",
        "schedule": 60.0,
    },
    # Every 2 minutes: live articles with no sentence embedding, or one of
    # another model or an older version, are embedded (up to 200 a run),
    # behind the on-commit embed_article task. Finding none is one query.
    "knowledge_base.embed-stale": {
        "task": "knowledge_base.tasks.embed_stale_articles",
        "schedule": 120.0,
    },
    # Every minute: CSAT e-mails of solved tickets whose delay
    # (HELPDESK_CSAT_DELAY_MINUTES) has passed, each round claimed once
    # (analytics.surveys.sending). One partial-index scan when nothing is due.
    "analytics.send-due-csat": {
        "task": "analytics.surveys.tasks.send_due_csat",
        "schedule": 60.0,
    },
    # Hourly: the NPS question to customers with a ticket solved in the current
    # period (HELPDESK_NPS_CADENCE_DAYS) who were not asked in it. It reads the
    # period's survey rounds, so it runs far less often than the CSAT sweep.
    "analytics.send-due-nps": {
        "task": "analytics.surveys.tasks.send_due_nps",
        "schedule": 3600.0,
    },
    # Hourly, a minute past the hour: the staffing forecasts of every team are
    # computed and cached for the hour (analytics.staffing), so no manager
    # waits seconds for the first view of the hour.
    "analytics.staffing-warm": {
        "task": "analytics.staffing.tasks.warm_staffing_forecasts",
        "schedule": crontab(minute=1),
    },
    # Hourly on Mondays (Celery's clock is UTC): last week's report to the
    # managers. The job mails it at the first run after the week ended in
    # HELPDESK_REPORT_TIME_ZONE (Monday 00:00 there, wherever that falls on the
    # UTC Monday) and later runs find everyone served (one query); a run missed
    # during a restart is made up the next hour (analytics.reports).
    "analytics.weekly-report": {
        "task": "analytics.reports.tasks.send_weekly_reports",
        "schedule": crontab(minute=7, day_of_week="mon"),
    },
    # Hourly on the 1st of the month, likewise: last month's CSAT review.
    "analytics.csat-review": {
        "task": "analytics.reports.tasks.send_csat_reviews",
        "schedule": crontab(minute=17, day_of_month="1"),
    },
    # Every minute: the ticket facts of the analytics follow the tickets
    # stamped since the last run, new escalation records and SLA targets that
    # fell due (analytics.rollups.facts.catch_up). Two index range scans when
    # nothing changed.
    "analytics.facts-catch-up": {
        "task": "analytics.rollups.tasks.catch_up_ticket_facts",
        "schedule": 60.0,
    },
    # Nightly at 03:40 UTC: every ticket's facts recomputed; how many differed
    # from what the catch-up kept is recorded (RollupRun, the admin).
    "analytics.facts-rebuild": {
        "task": "analytics.rollups.tasks.rebuild_ticket_facts",
        "schedule": crontab(minute=40, hour=3),
    },
}
