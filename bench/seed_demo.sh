#!/usr/bin/env bash
# Benchmark: seed N demo tickets (default 1,000,000) into a PostgreSQL database
# and print how long it took and how many rows each table holds afterwards.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench bench/seed_demo.sh [N] [--reset]
#
# The database named in DATABASE_URL is created when missing, then migrated.
# It must not hold tickets yet, so that every run measures the same thing;
# --reset drops and recreates it first (only ever point this at a bench database).
set -euo pipefail
cd "$(dirname "$0")/.."

tickets=1000000
reset=0
for arg in "$@"; do
    case "$arg" in
        --reset) reset=1 ;;
        '' | *[!0-9]*)
            echo "usage: DATABASE_URL=postgres://... $0 [TICKETS] [--reset]" >&2
            exit 2
            ;;
        *) tickets="$arg" ;;
    esac
done
: "${DATABASE_URL:?set DATABASE_URL to the PostgreSQL bench database (created if missing)}"
export DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-bench-only-not-secret}"
SEED="${SEED:-1}"
PYTHON="${PYTHON:-python}"

# Create the database (or recreate it with --reset) from the server's
# maintenance database "postgres".
RESET="$reset" "$PYTHON" - <<'PY'
import os
import sys

import dj_database_url
import psycopg2
from psycopg2 import sql

config = dj_database_url.parse(os.environ["DATABASE_URL"])
if config["ENGINE"] != "django.db.backends.postgresql":
    sys.exit("bench/seed_demo.sh measures PostgreSQL: DATABASE_URL must be postgres://...")
connection = psycopg2.connect(
    dbname="postgres",
    user=config["USER"] or None,
    password=config["PASSWORD"] or None,
    host=config["HOST"] or None,
    port=config["PORT"] or None,
)
connection.autocommit = True
name = sql.Identifier(config["NAME"])
with connection.cursor() as cursor:
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
    exists = cursor.fetchone() is not None
    if exists and os.environ["RESET"] == "1":
        cursor.execute(sql.SQL("DROP DATABASE {}").format(name))
        exists = False
    if not exists:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(name))
PY

"$PYTHON" manage.py migrate --noinput -v 0

existing=$("$PYTHON" manage.py shell -v 0 -c "from tickets.models import Ticket; print(Ticket.objects.count())")
if [ "$existing" != "0" ]; then
    echo "The bench database already holds $existing tickets; pass --reset to recreate it." >&2
    exit 1
fi

started=$(date +%s.%N)
"$PYTHON" manage.py seed_demo --tickets "$tickets" --seed "$SEED"
finished=$(date +%s.%N)

STARTED="$started" FINISHED="$finished" TICKETS="$tickets" SEED="$SEED" \
    "$PYTHON" manage.py shell -v 0 -c "
import os, platform
from datetime import date
from django.db import connection
from tickets.models import Message, Ticket, TicketEvent

with connection.cursor() as cursor:
    cursor.execute('SHOW server_version')
    server = cursor.fetchone()[0]
seconds = float(os.environ['FINISHED']) - float(os.environ['STARTED'])
tickets = int(os.environ['TICKETS'])
print()
print('seed_demo benchmark')
print(f'  date        {date.today().isoformat()}')
print(f'  machine     {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, PostgreSQL {server}')
print(f'  tickets     {tickets:,} requested, seed {os.environ[\"SEED\"]}')
print(f'  seconds     {seconds:.1f} (whole command, including the demo cast)')
print(f'  rows        tickets {Ticket.objects.count():,}, messages {Message.objects.count():,}, events {TicketEvent.objects.count():,}')
print(f'  throughput  {tickets / seconds:,.0f} tickets/s')
"
