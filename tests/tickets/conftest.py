"""Fixtures shared by the tickets tests: a Login category that needs a skill,
handled by the Frontline team (routing and intake tests)."""

import pytest

from tests.factories import CategoryFactory, SkillFactory, TeamFactory


@pytest.fixture
def login_skill(db):
    return SkillFactory(name="Login", slug="login")


@pytest.fixture
def frontline(db):
    return TeamFactory(name="Frontline", slug="frontline")


@pytest.fixture
def login(login_skill, frontline):
    return CategoryFactory(
        name="Login", slug="login", skill=login_skill, default_team=frontline, required_tier=1
    )
