"""Customer surveys: CSAT with the Customer Effort Score after each solve, and
NPS per customer on a cadence (models in analytics.models)."""
