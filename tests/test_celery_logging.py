"""The worker's log keeps WARNING for what needs a look: an e-mail the console
backend prints (the demo's and the default EMAIL_BACKEND) is captured by
Celery's stdout redirection, and is logged at INFO, not as a warning each."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO_ROOT, _database_url_of_test_db, wait_for
from tests.factories import make_ticket
from tickets import services

pytestmark = pytest.mark.worker

# A worker's log record: "[2026-03-04 15:30:12,345: INFO/MainProcess] message".
RECORD = re.compile(r"^\[[^\]]*: (?P<level>[A-Z]+)/[^\]]*\] ", re.M)


def records(log: str) -> list[tuple[str, str]]:
    """(level, text) of every record in a worker log, multi-line ones whole."""
    starts = list(RECORD.finditer(log))
    return [
        (m["level"], log[m.end() : starts[i + 1].start() if i + 1 < len(starts) else len(log)])
        for i, m in enumerate(starts)
    ]


@pytest.fixture
def console_mail_worker(transactional_db, tmp_path, settings):
    """A real worker (as `make run` starts it, at INFO to see everything) whose
    e-mail goes to the console backend."""
    from helpdesk.celery import app

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url_of_test_db(),
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "PYTHONPATH": str(REPO_ROOT),
    }
    app.control.purge()
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
                "--pool=solo",
                "--loglevel=INFO",
                "-Q",
                settings.CELERY_TASK_DEFAULT_QUEUE,
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
            yield log
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_console_mail_is_not_logged_as_a_warning(console_mail_worker, agent, customer):
    ticket = make_ticket(requester=customer, subject="Printer jams on page two")
    services.ticket_reply(
        ticket=ticket, author=agent, body="Please try the other tray.", channel="agent"
    )
    mail = wait_for(
        lambda: [
            (level, text)
            for level, text in records(console_mail_worker.read_text())
            if "Please try the other tray." in text
        ]
    )
    assert [level for level, _ in mail] == ["INFO"], console_mail_worker.read_text()
    assert not [
        text for level, text in records(console_mail_worker.read_text()) if level == "WARNING"
    ]
