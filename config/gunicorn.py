"""gunicorn settings for the web process (`make run`'s Procfile and production).

Every value can be overridden from the environment (gunicorn also reads
GUNICORN_CMD_ARGS). https://docs.gunicorn.org/en/stable/settings.html
"""

import os

bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
# Two processes per core: a process runs Python on one core at a time (the GIL),
# and while one waits on PostgreSQL or Redis another runs. Threads cover slow
# clients and the short waits. The whole app is synchronous (WSGI).
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
# Slow work is in Celery: a request that takes this long is a bug, not a job.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then (slow leaks), staggered so they do not all restart.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
accesslog = os.environ.get("WEB_ACCESS_LOG", "-") or None
errorlog = "-"
# Behind a reverse proxy that sets X-Forwarded-* (see SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
