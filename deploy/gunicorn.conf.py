"""gunicorn settings for Funnel: ``gunicorn -c deploy/gunicorn.conf.py "funnel:create_app()"``.

Metrics: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder only the shop writes (e.g.
``/run/funnel/metrics``, a tmpfs); every worker then writes its metrics there and ``/metrics``
sums them. The hooks below empty it when gunicorn starts (values of a previous run would
otherwise be added) and tell prometheus-client when a worker exits, so that its live gauges
are dropped (its counters and histograms stay in the sum, as Prometheus expects).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from pathlib import Path
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers, as gunicorn advises: two per core, plus one.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# Above the shop's own request deadline (FUNNEL_REQUEST_TIMEOUT_SECONDS, 25 s), so that the
# shop answers a 503 itself before gunicorn kills a worker.
timeout = 30
graceful_timeout = 30
keepalive = 5
# The longest valid search URL does not fit gunicorn's largest finite limit (8190 bytes): a
# 200-character query (12 bytes each once UTF-8 is percent-encoded) plus up to 8 options of 20
# values each (50 and 100 characters) runs past 24 kB even in plain ASCII. 0 lifts the limit;
# nginx in front bounds the request line (large_client_header_buffers 4 32k;).
limit_request_line = 0
max_requests = 2000  # recycle workers now and then: no slow leak lasts
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"


def on_starting(_server: Any) -> None:
    """Empty the metrics folder: counts of a previous run would be summed with this one's."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    path = Path(folder)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def child_exit(_server: Any, worker: Any) -> None:
    """prometheus-client's multiprocess mode needs this: a dead worker's live gauges go."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def worker_exit(_server: Any, worker: Any) -> None:
    """Write what the stopping worker keeps in memory, which a worker recycled by max_requests
    would otherwise lose: the product views not yet written (the sales funnel) and its request
    counts of the minute in progress (the staff Operations page's traffic)."""
    from funnel.analytics import batches
    from funnel.core import request_minutes

    batches.write_batch(worker.wsgi)
    request_minutes.flush(worker.wsgi)
