#!/usr/bin/env bash
# The zero-setup demo behind `make run`: SQLite and the Celery filesystem
# broker under var/ unless DATABASE_URL / REDIS_URL say otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

export HELPDESK_DEMO="${HELPDESK_DEMO:-1}"              # allows a generated, demo-only secret key
export HELPDESK_SECURE_COOKIES="${HELPDESK_SECURE_COOKIES:-0}"  # the demo serves plain HTTP on localhost
export DJANGO_DEBUG="${DJANGO_DEBUG:-0}"
PORT="${PORT:-8000}"
DEMO_TICKETS="${DEMO_TICKETS:-3000}"
VAR_DIR="${HELPDESK_VAR_DIR:-var}"
# Everything the demo writes lives under var/ (settings create nothing): the
# embedded broker's folders and a demo-only secret key, made once.
mkdir -p "$VAR_DIR"/celery-broker/queue "$VAR_DIR"/celery-broker/processed \
    "$VAR_DIR"/celery-broker/control
if [ -z "${DJANGO_SECRET_KEY:-}" ] && [ ! -s "$VAR_DIR/demo_secret_key" ]; then
    (umask 077 && python -c "import secrets; print(secrets.token_urlsafe(50))" \
        > "$VAR_DIR/demo_secret_key")
fi

python manage.py migrate --noinput -v 0
python manage.py collectstatic --noinput -v 0
python manage.py seed_demo --tickets "$DEMO_TICKETS" --seed 42 --if-empty --morning-queue
# SLA clocks for the seeded open tickets (new tickets get theirs at intake).
python manage.py sla_backfill -v 0
# Train the ticket classifier on the demo's resolved tickets once, so new
# requests are classified and routed instead of all waiting in triage.
if ! python manage.py shell -v 0 -c "import sys; from tickets.models import ClassifierModel as C; sys.exit(0 if C.objects.filter(is_active=True).exists() else 1)" >/dev/null 2>&1; then
    python manage.py train_classifier
fi

# A real worker with beat in the background (embedded broker: no Redis needed).
# The demo's one worker also takes the classifier's retraining queue (in
# production a worker of its own does: docker-compose.yml's "trainer").
python -m celery -A helpdesk worker --beat --pool=solo --loglevel=WARNING \
    -Q "${CELERY_TASK_DEFAULT_QUEUE:-helpdesk},${HELPDESK_TRAINING_QUEUE:-training}" \
    --schedule "$VAR_DIR/celerybeat-schedule" > "$VAR_DIR/worker.log" 2>&1 &
WORKER_PID=$!
trap 'kill $WORKER_PID 2>/dev/null || true' EXIT INT TERM

echo
echo "  Helpdesk is starting on http://127.0.0.1:${PORT}/  (Ctrl-C stops it)"
echo "  Celery worker + beat log: $VAR_DIR/worker.log"
echo
gunicorn helpdesk.wsgi:application --bind "127.0.0.1:${PORT}" --workers 2 --threads 4 \
    --access-logfile - --log-level warning
