"""The zero-setup demo runs on SQLite (`make run`), which the rest of the suite
never touches: walk its pages there, as each kind of user, in a separate
process with a throwaway database, and require no error."""

import os
import subprocess
import sys

from tests.conftest import REPO_ROOT

# Seeds a small demo, then requests the main pages as the demo's people.
WALK = r"""
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("seed_demo", tickets=150, seed=42, morning_queue=True, verbosity=0)
from django.test import Client
from tickets.models import Ticket, User
ticket = Ticket.objects.order_by("-id").first()
pages = {
    "agent@demo.helpdesk.test": [
        "/tickets/", "/tickets/?queue=team", "/tickets/?queue=breaching&sort=due",
        ticket.get_absolute_url(), "/search/?q=password", "/tickets/new/",
    ],
    "manager@demo.helpdesk.test": [
        "/tickets/", ticket.get_absolute_url(), "/admin/", "/help/manage/", "/help/manage/gaps/",
    ],
    "customer@demo.helpdesk.test": [
        "/tickets/", "/tickets/new/", "/search/?q=invoice",
        "/help/", "/help/articles/download-invoices/", "/help/search/?q=password",
    ],
}
failures = []
for email, urls in pages.items():
    client = Client()
    client.force_login(User.objects.get(email=email))
    for url in urls:
        status = client.get(url).status_code
        if status != 200:
            failures.append(f"{email} {url}: {status}")
# The help centre for anonymous visitors (public articles only).
for url in ["/help/", "/help/articles/reset-your-password/", "/help/search/?q=can%27t+log+in"]:
    status = Client().get(url).status_code
    if status != 200:
        failures.append(f"anonymous {url}: {status}")
customer = Client()
customer.force_login(User.objects.get(email="customer@demo.helpdesk.test"))
response = customer.post(
    "/tickets/new/", {"subject": "Cannot log in", "description": "Locked out since the reset."}
)
if response.status_code != 302:
    failures.append(f"new ticket: {response.status_code}")
created = Ticket.objects.order_by("-id").first()
agent = Client()
agent.force_login(User.objects.get(email="manager@demo.helpdesk.test"))
if agent.get(created.get_absolute_url()).status_code != 200:
    failures.append("the new ticket's page")
print("FAILURES:", failures)
sys.exit(1 if failures else 0)
"""


def test_the_demo_pages_work_on_sqlite(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="helpdesk.settings",
        HELPDESK_VAR_DIR=str(tmp_path),
        HELPDESK_DEMO="1",
        HELPDESK_SECURE_COOKIES="0",
        DJANGO_ALLOWED_HOSTS="testserver",
        # Mail goes nowhere; tasks are only queued (the filesystem broker
        # needs its folders, as scripts/run_demo.sh makes them).
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        # The help centre's embeddings are computed by the PostgreSQL demo
        # tests (tests/demo/test_help_centre.py); here they would only cost time.
        HELPDESK_KB_EMBEDDING_MODEL="",
        PYTHONPATH=str(REPO_ROOT),
    )
    for sub in ("queue", "processed", "control"):
        (tmp_path / "celery-broker" / sub).mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, "-c", "import sys\n" + WALK],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
