import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

# A web worker answers one request at a time, and gunicorn runs several of them
# side by side: numpy's BLAS (one thread per core by default) would make each
# worker's threads fight the others' for the same cores. A knowledge-base
# search's query embedding took 70-500 ms with two BLAS threads on a busy
# 2-core machine and 18-35 ms with one (bench/README.md). Set before Django,
# and so numpy, is loaded; a value in the environment wins. (Celery workers,
# which embed articles in batches, keep the default.)
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

application = get_wsgi_application()
