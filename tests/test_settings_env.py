import pytest
from django.core.exceptions import ImproperlyConfigured

from helpdesk.env import env_bool, env_int, env_list


def test_env_helpers_parse_and_fail_loudly(monkeypatch):
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "42")
    monkeypatch.setenv("X_LIST", "a, b,,c")
    assert env_bool("X_BOOL", False) is True
    assert env_int("X_INT", 0) == 42
    assert env_list("X_LIST", []) == ["a", "b", "c"]
    assert env_bool("X_MISSING", True) is True
    monkeypatch.setenv("X_BOOL", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_BOOL"):
        env_bool("X_BOOL", False)
    monkeypatch.setenv("X_INT", "ten")
    with pytest.raises(ImproperlyConfigured, match="X_INT"):
        env_int("X_INT", 0)


def test_settings_refuse_to_start_without_secret_key():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SECRET_KEY", "HELPDESK_DEMO")}
    env.update({"DJANGO_SETTINGS_MODULE": "helpdesk.settings", "DJANGO_DEBUG": "0"})
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_cookies_are_secure_unless_the_demo_turns_it_off():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "HELPDESK_SECURE_COOKIES"}
    env.update({"DJANGO_SETTINGS_MODULE": "helpdesk.settings", "DJANGO_SECRET_KEY": "x"})
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.X_FRAME_OPTIONS)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True", "True", "True", "DENY"]


def test_csrf_is_enforced_on_login(db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "a@b.test", "password": "x"})
    assert response.status_code == 403
