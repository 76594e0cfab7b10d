"""The manager dashboard: headline figures against the operation's targets,
trends, distributions and per-agent figures, as a page, a CSV export and an
API endpoint. Every reader goes through analytics.dashboard.figures."""
