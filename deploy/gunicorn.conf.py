"""Gunicorn's settings in the container (`entrypoint.sh web`); GUNICORN_CMD_ARGS overrides any."""

import os
from pathlib import Path

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# A municipality's PDF or Excel report takes longer than gunicorn's default 30 seconds.
timeout = 120
graceful_timeout = 30
# Each process is replaced now and then, so memory a large report took is given back.
max_requests = 1000
max_requests_jitter = 100
# The heartbeat file in memory, not on the container's overlay disk.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None
# One line a request on stdout, with the path but never the query string: a pupil search
# carries a personnummer.
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
