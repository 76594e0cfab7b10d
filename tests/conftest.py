"""Shared fixtures: named people, a real Celery worker, a real browser.

Named users follow one story: Alice is an agent of the Access team, Bob an
agent of the Billing team, Carol a customer at Acme, Dave a customer at Globex,
Maggie a manager.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.factories import (
    DEFAULT_PASSWORD,
    CategoryFactory,
    OrganizationFactory,
    TeamFactory,
    make_user,
)
from tickets.models import Role, SupportTier

# Playwright's sync API runs an event loop in the test thread; the Django ORM
# calls the tests make beside it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _clear_cache():
    """The cache is a real Redis shared by the whole run: start each test clean
    (log-in rate-limit counters would otherwise leak between tests)."""
    from django.core.cache import cache

    from knowledge_base.embeddings import index as semantic_index
    from tickets.reference import forget_reference

    cache.clear()
    forget_reference()  # and this process's copy of the cached lists
    # and its matrix of article vectors (another test's rolled-back articles)
    semantic_index.forget()
    yield


@pytest.fixture(scope="session", autouse=True)
def _no_session_left_on_the_test_database(django_db_setup, django_db_blocker):
    """Before the test database is dropped at the end of the run, end any
    other session still connected to it, and say which: a worker process or
    server thread that outlived its test made the DROP fail (and the run
    with it) long after the test that left it."""
    yield
    if not connection.settings_dict["NAME"].startswith("test_"):
        return  # no test of this run used the database: none was created
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, application_name, state, left(query, 200) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        left = cursor.fetchall()
        for pid, application, state, query in left:
            sys.stderr.write(
                f"\n[tests] ending a session left on the test database: pid {pid} "
                f"{application!r} {state}: {query}\n"
            )
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 10
        while left and time.monotonic() < deadline:  # a terminated backend exits soon after
            time.sleep(0.1)
            cursor.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            left = cursor.fetchall()
    connection.close()


# How long a browser test's teardown waits for the live server's last requests.
_QUIET_TIMEOUT_S = 20.0


@pytest.fixture(autouse=True)
def _live_server_quiet(request):
    """Before a browser test's database is flushed, wait until no other
    connection to it is still running a statement or holding a transaction.

    Closing a browser context does not stop a request the live server thread
    is already handling (a presence poll, an htmx save): its transaction held
    a lock the flush's TRUNCATE needed while the TRUNCATE held one it needed,
    and PostgreSQL broke the deadlock by failing the flush (CI, once), which
    left the next test with the previous test's rows."""
    if "live_server" not in request.fixturenames:
        yield
        return
    # Set up after the database fixture, so this teardown runs before its flush.
    request.getfixturevalue("transactional_db")
    yield
    deadline = time.monotonic() + _QUIET_TIMEOUT_S
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()"
                " AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')"
            )
            busy = cursor.fetchone()[0]
        if not busy or time.monotonic() > deadline:
            break
        time.sleep(0.05)


@pytest.fixture
def warm_caches(db):
    """Fill what any earlier request would have cached (the user's permission
    set, the select lists), so a query-count test measures the steady state."""
    from tickets.models import User
    from tickets.reference import workspace_reference

    def warm(*users):
        workspace_reference()
        for user in users:
            User.objects.get(pk=user.pk).has_perm("tickets.work_tickets")

    return warm


# --- named people -----------------------------------------------------------


@pytest.fixture
def acme(db):
    return OrganizationFactory(
        name="Acme", domain="acme.example", support_tier=SupportTier.STANDARD
    )


@pytest.fixture
def globex(db):
    return OrganizationFactory(name="Globex", domain="globex.example", support_tier=SupportTier.VIP)


@pytest.fixture
def access_team(db):
    return TeamFactory(name="Access", slug="access")


@pytest.fixture
def billing_team(db):
    return TeamFactory(name="Billing", slug="billing")


@pytest.fixture
def login_category(access_team):
    return CategoryFactory(name="Login", slug="login", default_team=access_team)


@pytest.fixture
def billing_category(billing_team):
    return CategoryFactory(name="Billing", slug="billing", default_team=billing_team)


@pytest.fixture
def agent(access_team):
    return make_user(
        Role.AGENT, email="alice@helpdesk.test", full_name="Alice Agent", teams=[access_team]
    )


@pytest.fixture
def other_agent(billing_team):
    return make_user(
        Role.AGENT, email="bob@helpdesk.test", full_name="Bob Agent", teams=[billing_team]
    )


@pytest.fixture
def customer(acme):
    return make_user(
        Role.CUSTOMER, email="carol@acme.example", full_name="Carol Customer", organization=acme
    )


@pytest.fixture
def colleague(acme):
    """Another customer of Carol's organisation."""
    return make_user(
        Role.CUSTOMER, email="chris@acme.example", full_name="Chris Colleague", organization=acme
    )


@pytest.fixture
def other_customer(globex):
    return make_user(
        Role.CUSTOMER, email="dave@globex.example", full_name="Dave Customer", organization=globex
    )


@pytest.fixture
def manager(db):
    return make_user(Role.MANAGER, email="maggie@helpdesk.test", full_name="Maggie Manager")


@pytest.fixture
def password():
    return DEFAULT_PASSWORD


@pytest.fixture
def send_queued_mail(db):
    """Send whatever the outbox owes, as its sweep would an hour from now
    (tickets/email/outbox.py); returns the SendResult."""
    from datetime import timedelta

    from django.utils import timezone

    from tickets.email import outbox

    def send():
        return outbox.send_due(now=timezone.now() + timedelta(hours=1), limit=10_000)

    return send


@pytest.fixture
def celery_eager():
    """Run tasks sent with .delay() in this process, for tests that check a
    task's effect without a worker (the worker tests cover the broker path)."""
    from helpdesk.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False
    app.conf.task_eager_propagates = False


# --- a real Celery worker -----------------------------------------------------


def _database_url_of_test_db() -> str:
    """The URL of the test database pytest-django created, for a subprocess."""
    s = connection.settings_dict
    host = s.get("HOST") or s.get("OPTIONS", {}).get("host", "")
    netloc = quote(host, safe="") if host.startswith("/") else host
    if s.get("PORT"):
        netloc += f":{s['PORT']}"
    auth = quote(s.get("USER") or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    return f"postgres://{auth}@{netloc}/{s['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path, settings):
    """Start `celery worker` (with beat) as a real process on the real Redis
    broker and the test database. Yields the folder the worker's mail goes to.

    Tests using it must commit their data (transactional_db) so the worker
    process can see it."""
    from helpdesk.celery import app

    # Leftovers from earlier tests would otherwise run against this database.
    app.control.purge()
    with run_celery_worker(tmp_path, queue=settings.CELERY_TASK_DEFAULT_QUEUE) as mail_dir:
        yield mail_dir


@contextmanager
def run_celery_worker(tmp_path: Path, *, queue: str, env: dict[str, str] | None = None):
    """A `celery worker --beat` process on the test database (and on the broker
    of REDIS_URL, or of `env`), running until the block ends. Yields the folder
    its mail goes to."""
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url_of_test_db(),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "PYTHONPATH": str(REPO_ROOT),
        # Sweep every second so SLA tests do not wait for the default 5 s.
        "HELPDESK_SLA_SWEEP_SECONDS": "1",
        **(env or {}),
    }
    log = tmp_path / "worker.log"
    with open(log, "w") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "helpdesk",
                "worker",
                "--beat",
                "--pool=solo",
                "--loglevel=INFO",
                "-Q",
                queue,
                "--schedule",
                str(tmp_path / "beat-schedule"),
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while "ready." not in log.read_text():
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"Celery worker did not start:\n{log.read_text()}")
                time.sleep(0.2)
            yield mail_dir
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):
    """Poll until predicate() is truthy (for effects of another process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


# --- a real browser -----------------------------------------------------------

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


def _chromium_path() -> str | None:
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        return explicit
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser():
    path = _chromium_path()
    if path is None:
        reason = "Chromium is not installed (Debian package `chromium`; set CHROMIUM_PATH)"
        if os.environ.get("HELPDESK_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " but HELPDESK_REQUIRE_BROWSER=1 makes browser tests mandatory")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def screenshot_dir():
    path = REPO_ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
