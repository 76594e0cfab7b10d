"""Managers' report e-mails: the weekly report (last week's headline figures
against the targets and the biggest changes) and the monthly CSAT review,
written to the outbox once per manager and period by beat jobs
(analytics.reports.tasks)."""
