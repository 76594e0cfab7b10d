"""Abuse of log-in and password reset, security headers, the favicon and the
demo's api_token command (README "Security")."""

import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core import mail
from django.urls import reverse

from tests.conftest import REPO_ROOT
from tests.factories import make_user
from tickets.models import Role

OFFICE = "198.51.100.7"  # one office's shared (NAT) address
HOME = "203.0.113.20"


def attempt(client, email, password, address, path=None):
    return client.post(
        path or reverse("login"),
        {"username": email, "password": password},
        REMOTE_ADDR=address,
    )


@pytest.fixture
def limits(settings):
    settings.LOGIN_RATE_LIMIT = 3
    settings.LOGIN_ACCOUNT_LIMIT = 6
    settings.LOGIN_ADDRESS_LIMIT = 10
    return settings


# --- log-in limits -------------------------------------------------------------


def test_a_guesser_behind_an_office_address_does_not_lock_out_colleagues(
    client, limits, customer, colleague, password
):
    for _ in range(3):
        assert attempt(client, customer.email, "guess", OFFICE).status_code == 200
    # The guessed account is paused from that address, even with its password...
    refused = attempt(client, customer.email, password, OFFICE)
    assert refused.status_code == 429
    # ...while a colleague behind the same address logs in,
    assert attempt(client, colleague.email, password, OFFICE).status_code == 302
    client.logout()
    # and the account's owner from home too.
    assert attempt(client, customer.email, password, HOME).status_code == 302


def test_locked_log_in_is_a_clear_429(client, limits, customer, password):
    for _ in range(3):
        attempt(client, customer.email, "guess", OFFICE)
    response = attempt(client, customer.email, password, OFFICE)
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    page = response.content.decode()
    assert "Too many failed log-in attempts" in page
    assert "up to 15 minutes" in page
    assert 'role="alert"' in page
    assert "_auth_user_id" not in client.session


def test_guessing_one_account_from_many_addresses_is_capped(client, limits, customer, password):
    for n in range(6):  # two failures each from three addresses: no pair limit reached
        attempt(client, customer.email, "guess", f"192.0.2.{n // 2 + 1}")
    assert attempt(client, customer.email, password, HOME).status_code == 429


def test_spraying_many_accounts_from_one_address_is_capped(client, limits, customer, password):
    for n in range(10):
        attempt(client, f"someone{n}@acme.example", "guess", OFFICE)
    assert attempt(client, customer.email, password, OFFICE).status_code == 429
    assert attempt(client, customer.email, password, HOME).status_code == 302


def test_logging_in_forgets_own_typos_but_not_the_address_count(client, limits, customer, password):
    for _ in range(2):
        attempt(client, customer.email, "typo", OFFICE)
    assert attempt(client, customer.email, password, OFFICE).status_code == 302
    client.logout()
    for _ in range(2):
        attempt(client, customer.email, "typo", OFFICE)
    assert attempt(client, customer.email, password, OFFICE).status_code == 302


def test_lock_outs_are_logged_with_account_and_address(client, limits, customer, caplog):
    caplog.set_level("WARNING", logger="tickets.auth_views")
    for _ in range(4):
        attempt(client, customer.email.upper(), "guess", OFFICE)
    locks = [r.getMessage() for r in caplog.records if r.name == "tickets.auth_views"]
    assert len(locks) == 1, locks  # when the lock starts, not for every refused try
    assert "log-in locked" in locks[0]
    assert customer.email in locks[0]
    assert OFFICE in locks[0]


def test_behind_the_proxy_the_address_the_proxy_saw_counts(client, limits, customer, password):
    limits.HELPDESK_BEHIND_PROXY = True
    for _ in range(3):
        client.post(
            reverse("login"),
            {"username": customer.email, "password": "guess"},
            REMOTE_ADDR="10.0.0.2",  # the proxy
            HTTP_X_FORWARDED_FOR=f"1.2.3.4, {OFFICE}",
        )
    locked = client.post(
        reverse("login"),
        {"username": customer.email, "password": password},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR=f"5.6.7.8, {OFFICE}",  # a forged first entry buys nothing
    )
    assert locked.status_code == 429
    other = client.post(
        reverse("login"),
        {"username": customer.email, "password": password},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR=HOME,
    )
    assert other.status_code == 302


def test_admin_log_in_is_limited_too(client, db, limits, password):
    admin_user = make_user(Role.ADMIN, email="root@helpdesk.test")
    for _ in range(3):
        response = attempt(client, admin_user.email, "guess", OFFICE, path="/admin/login/")
        assert response.status_code == 200
    refused = attempt(client, admin_user.email, password, OFFICE, path="/admin/login/")
    assert refused.status_code == 429
    assert b"Too many failed log-in attempts" in refused.content
    # The admin's form still works, and shares the counters with ours.
    from_home = attempt(client, admin_user.email, password, HOME, path="/admin/login/")
    assert from_home.status_code == 302
    client.logout()
    assert attempt(client, admin_user.email, password, OFFICE).status_code == 429


def test_limits_work_when_the_cache_keeps_nothing(client, settings, customer, password):
    """A cache that is down reads as a miss and writes nothing (the fail-safe
    cache layer): no failure is recorded, and nothing breaks."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    settings.LOGIN_RATE_LIMIT = 2
    settings.PASSWORD_RESET_RATE_LIMIT = 1
    for _ in range(4):
        assert attempt(client, customer.email, "guess", OFFICE).status_code == 200
    assert attempt(client, customer.email, password, OFFICE).status_code == 302
    client.logout()
    for _ in range(2):
        response = client.post(reverse("password_reset"), {"email": customer.email})
        assert response.status_code == 302


# --- password reset -------------------------------------------------------------


def reset(client, email, address=OFFICE):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)


def test_repeated_reset_requests_do_not_send_repeated_mail(client, settings, customer):
    settings.PASSWORD_RESET_RATE_LIMIT = 3
    for _ in range(3):
        assert reset(client, customer.email).status_code == 302
    for _ in range(17):
        refused = reset(client, customer.email, address=f"192.0.2.{len(mail.outbox)}")
        assert refused.status_code == 429
    assert len(mail.outbox) == 3
    assert refused["Retry-After"] == "3600"
    assert b"Too many password-reset requests. No e-mail was sent" in refused.content


def test_reset_requests_are_limited_per_address(client, settings, customer, colleague):
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 4
    for n in range(4):
        reset(client, f"nobody{n}@acme.example")
    assert reset(client, customer.email).status_code == 429
    assert reset(client, colleague.email, address=HOME).status_code == 302
    assert [m.to for m in mail.outbox] == [[colleague.email]]


def test_reset_limit_tells_nothing_about_which_addresses_exist(client, settings, customer):
    settings.PASSWORD_RESET_RATE_LIMIT = 2
    answers = {}
    for email in (customer.email, "nobody@acme.example"):
        answers[email] = [reset(client, email, address=HOME).status_code for _ in range(3)]
    assert answers[customer.email] == answers["nobody@acme.example"] == [302, 302, 429]


# --- headers ----------------------------------------------------------------------


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in parts}


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/password_reset/", "/admin/login/"])
def test_pages_send_a_csp_without_inline_script(client, db, path):
    policy = csp_directives(client.get(path))
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]


def test_only_the_api_docs_allow_inline_and_still_may_not_be_framed(client, agent, password):
    client.force_login(agent)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    policy = csp_directives(response)
    assert "'unsafe-inline'" in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"]


TEMPLATE_DIRS = [
    REPO_ROOT / "templates",
    *(p for p in REPO_ROOT.glob("*/templates") if p.is_dir()),
]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=|javascript:|\shx-on", re.I)


def test_templates_carry_no_inline_script_or_event_handler():
    offenders = []
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            text = path.read_text()
            for pattern in (INLINE_SCRIPT, INLINE_HANDLER):
                offenders += [f"{path.relative_to(REPO_ROOT)}: {m}" for m in pattern.findall(text)]
    assert len(TEMPLATE_DIRS) >= 3
    assert offenders == []


def settings_in_subprocess(env_changes: dict[str, str], code: str, tmp_path: Path) -> str:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HELPDESK_", "DJANGO_")) or k == "HELPDESK_REQUIRE_BROWSER"
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "HELPDESK_VAR_DIR": str(tmp_path),
            **env_changes,
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_https_is_enforced_by_default_and_not_in_the_plain_http_demo(tmp_path):
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS)"
    )
    assert settings_in_subprocess({}, code, tmp_path).split() == ["True", "31536000", "True"]
    demo = settings_in_subprocess({"HELPDESK_SECURE_COOKIES": "0"}, code, tmp_path)
    assert demo.split() == ["False", "0", "True"]


def test_http_is_redirected_and_https_answers_with_hsts(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    plain = client.get("/accounts/login/")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/accounts/login/"
    secure = client.get("/accounts/login/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_check_deploy_is_clean_in_production_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HELPDESK_", "DJANGO_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "helpdesk.example.com",
            "DJANGO_DEBUG": "0",
            "HELPDESK_VAR_DIR": str(tmp_path),
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


# --- favicon and the demo's api_token -------------------------------------------------


def test_favicon_is_served_and_linked(client, db):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/helpdesk/favicon.ico"
    found = finders.find("helpdesk/favicon.ico")
    assert found and Path(found).read_bytes()[:4] == b"\x00\x00\x01\x00"  # an ICO file
    page = client.get("/accounts/login/").content.decode()
    assert '<link rel="icon" href="/static/helpdesk/favicon.ico">' in page


def test_readme_api_token_command_works_in_the_demo(tmp_path):
    """The command the README gives for the demo runs there: no
    DJANGO_SECRET_KEY, the SQLite database and key file under var/."""
    readme = (REPO_ROOT / "README.md").read_text()
    commands = re.findall(r"^\s*(HELPDESK_DEMO=1 \S*python manage\.py api_token \S+)", readme, re.M)
    assert commands, "README shows no demo command for api_token"
    command = shlex.split(commands[0])
    email = command[-1]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HELPDESK_", "DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))
    }
    env["HELPDESK_VAR_DIR"] = str(tmp_path)  # the demo's var/
    (tmp_path / "demo_secret_key").write_text(secrets.token_urlsafe(50))
    demo = {**env, "HELPDESK_DEMO": "1"}

    def run(args, environment):
        return subprocess.run(
            args, env=environment, cwd=REPO_ROOT, capture_output=True, text=True, check=False
        )

    python = [sys.executable, "manage.py"]
    assert run([*python, "migrate", "-v", "0"], demo).returncode == 0
    created = run(
        [
            *python,
            "shell",
            "-c",
            "from tickets import services; "
            f"services.user_create(email='{email}', password='x-demo-pass-1', "
            "full_name='Demo Agent', role='agent', tier=1)",
        ],
        demo,
    )
    assert created.returncode == 0, created.stderr
    # As printed in the README (its interpreter path aside).
    variables = dict(a.split("=", 1) for a in command if re.match(r"^[A-Z_]+=", a))
    args = [a for a in command if not re.match(r"^[A-Z_]+=", a)]
    assert args[1:3] == ["manage.py", "api_token"]
    result = run([sys.executable, *args[1:]], {**env, **variables})
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"[0-9a-f]{40}\n", result.stdout)
