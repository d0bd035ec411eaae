"""gunicorn's configuration for the Kehobalanssi register (README, Production).

    gunicorn --config deploy/gunicorn.conf.py kehobalanssi.wsgi

Sync workers behind a buffering proxy (deploy/nginx/kehobalanssi.conf). A sync worker
handles one request at a time, which suits this app: its requests are short database
work, and PDF rendering is CPU-bound. (A request that sends e-mail still waits on the
mail server until the outbox of issue 13, item 1 takes that out of the request.) The
weakness of sync workers is a slow client, which holds the worker while it trickles a
request in or reads the answer out; nginx takes that part (it reads the whole request
first and takes the whole response at once), so a worker is busy only while the app
works. Threads or gevent would not help the CPU-bound parts and would make the audit
log's one-writer-at-a-time locking and the database connections harder to reason about.
"""

import multiprocessing
import os

# Loopback only: with PROXY_COUNT set, X-Forwarded-For is trusted, so nobody may reach
# gunicorn except through the proxy (README, Production).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers: (2 x CPUs) + 1 is gunicorn's rule for them, at least 3 so one slow page
# (a label sheet, an access report) leaves two for everyone else. Each worker keeps one
# database connection (CONN_MAX_AGE), so workers x servers stays under max_connections.
worker_class = "sync"
workers = int(os.environ.get("GUNICORN_WORKERS", max(3, multiprocessing.cpu_count() * 2 + 1)))

# A request still running after 30 s is killed and its worker restarted. The app gives up
# before that: PostgreSQL's statement_timeout (30 s) and connect_timeout (5 s) end a wait
# on the database with the 503 page; nginx's proxy_read_timeout is a little longer (35 s).
timeout = 30
graceful_timeout = 30
# nginx opens a new connection per request (sync workers do not keep connections alive).
keepalive = 2

# A worker is replaced after about 1,000 requests, so a slow leak cannot grow for ever;
# the jitter keeps the workers from restarting all at once.
max_requests = 1000
max_requests_jitter = 100

# Headers: the proxy already limits them; these match nginx's large_client_header_buffers.
limit_request_line = 8190
limit_request_fields = 100

# Log to stderr (journald under systemd). The access log stays off: a requester's status
# and confirmation links carry tokens, and the app's own logging filter redacts them
# (privacy/log_filters.py), while gunicorn's access log would not.
errorlog = "-"
accesslog = None
loglevel = "info"

# The app is loaded in each worker, after the fork: no database connection is shared.
preload_app = False
