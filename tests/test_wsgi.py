"""The web worker's process (helpdesk/wsgi.py, what gunicorn loads)."""

import json
import os
import subprocess
import sys

from tests.conftest import REPO_ROOT

# Every BLAS library numpy (and scipy, through scikit-learn) loads.
PROBE = (
    "import helpdesk.wsgi, numpy, json; from threadpoolctl import threadpool_info; "
    "print(json.dumps([i['num_threads'] for i in threadpool_info() "
    "if i['user_api'] == 'blas']))"
)


def _blas_threads(**env) -> set[int]:
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    environment.update({"DJANGO_SECRET_KEY": "wsgi-test", **env})
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=environment,
        timeout=120,
        check=True,
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_a_web_worker_runs_numpy_on_one_thread_unless_told_otherwise():
    assert _blas_threads() == {1}
    assert _blas_threads(OPENBLAS_NUM_THREADS="2") == {2}
