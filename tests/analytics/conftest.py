"""Fixtures shared by the analytics tests."""

from __future__ import annotations

import pytest

from analytics.rollups.facts import rebuild_facts


@pytest.fixture
def history_facts(request):
    """The ticket facts of test_metrics.py's hand-made history, for the
    tests that read figures through the dashboard (which reads the facts;
    in production the catch-up beat job keeps them current). A test without
    the history gets nothing."""
    if "history" in request.fixturenames:
        from tests.analytics.test_metrics import NOW

        request.getfixturevalue("history")
        if "answers" in request.fixturenames:
            # The survey answers count in the facts too (the catch-up finds them).
            request.getfixturevalue("answers")
        rebuild_facts(NOW)
