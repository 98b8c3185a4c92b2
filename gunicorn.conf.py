"""gunicorn settings for Boardroom (read from the working directory by `gunicorn wsgi:app`).

gevent workers: each connection is a greenlet, so clients that connect and send nothing, or half
a request, cost a little memory instead of a worker. The sync worker holds a whole process per
connection until ``timeout`` (two idle connections stalled `/healthz` for 32 s), and ``gthread``
hands each readable connection to a thread that then waits for the rest of the request, so 50
half-sent requests starve any smaller thread pool. psycopg 3 (>= 3.1.14) cooperates with gevent's
monkey-patching on its own; SQLite calls never yield, so a transaction never interleaves with
another request in the same process.

Command-line flags override anything here (``--bind``, ``--workers``...).
"""

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path


def _access_logger():
    # api/logsafe.py is loaded by its path, not as ``api.logsafe``: importing the ``api`` package
    # here, in the master, would import psycopg and prometheus_client before the gevent workers
    # monkey-patch, and psycopg would then wait for PostgreSQL without yielding (a worker whose
    # request waits on a lock held by another of its own requests would hang).
    spec = importlib.util.spec_from_file_location("boardroom_logsafe", Path(__file__).with_name("api") / "logsafe.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.RedactingLogger


bind = f"{os.environ.get('BOARDROOM_BIND_HOST', '127.0.0.1')}:{os.environ.get('PORT') or '5000'}"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
worker_class = "gevent"
worker_connections = 1000
timeout = 30
graceful_timeout = 30  # SIGTERM: stop accepting, let requests in flight finish (up to 30 s)
keepalive = 5
# gunicorn refuses a request line over 4 KiB with an HTML 414 page, before the app sees it; the API's
# errors are problem+json. With no gunicorn limit (it still stops reading a request line at 1 MiB), a
# long query string reaches the app, which answers it as any other (422 for what its parameters do not take).
limit_request_line = 0
logger_class = _access_logger()  # JSON access lines: no query strings, tokens masked
accesslog = os.environ.get("BOARDROOM_ACCESS_LOG", "-") or None  # set it empty for no access log


# prometheus_client's multiprocess mode: every worker writes samples under one directory and any
# worker's /metrics adds them up. Set here, when gunicorn reads this file, before anything imports
# prometheus_client (it picks its storage at import).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="boardroom-metrics-")
    _made_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
else:
    _made_metrics_dir = None


def on_starting(server):
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):  # samples of an earlier run would be added to this one's
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _made_metrics_dir:
        shutil.rmtree(_made_metrics_dir, ignore_errors=True)


# gunicorn >= 25 opens a control socket at one fixed path per user; a second instance on the same
# machine would take it over. Boardroom does not use gunicornc.
control_socket_disable = True
