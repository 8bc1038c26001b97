"""Gunicorn settings for OC Pizza, read by `gunicorn --config` under Supervisor.

Paths follow deploy/lib.sh: Supervisor passes OCPIZZA_ROOT; everything else is derived from it.
Tunable from the environment (.env): GUNICORN_WORKERS, GUNICORN_TIMEOUT.
A `supervisorctl signal HUP ocpizza` re-reads this file and starts fresh workers in the
release that `current` points to, while the old workers finish their requests (graceful reload).
"""

import multiprocessing
import os

root = os.environ.get("OCPIZZA_ROOT", "/srv/ocpizza")
run_dir = os.path.join(root, "run")

wsgi_app = "ocpizza.wsgi:application"
# The symlink itself, not the folder it points to, so that a reload imports the new release.
chdir = os.path.join(root, "current")

bind = [f"unix:{os.path.join(run_dir, 'gunicorn.sock')}"]
# Socket readable and writable by the owner and by Nginx's group (www-data owns the run folder).
umask = 0o007
pidfile = os.path.join(run_dir, "gunicorn.pid")
# Gunicorn 25+ opens a control socket, by default under $HOME: one per instance, or two instances on
# a host would fight over the same file.
control_socket = os.path.join(run_dir, "gunicorn.ctl")
proc_name = "ocpizza"

# Sync workers; the usual 2 x cores + 1, capped so a big machine does not exhaust PostgreSQL's
# connections (each worker keeps one open, CONN_MAX_AGE).
workers = int(os.environ.get("GUNICORN_WORKERS") or min(multiprocessing.cpu_count() * 2 + 1, 17))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak never grows for weeks.
max_requests = 2000
max_requests_jitter = 200
# Heartbeat files in memory (Gunicorn's advice): a slow disk must not make it think workers hang.
SHARED_MEMORY = "/dev/shm"  # noqa: S108 - Gunicorn only keeps its workers' heartbeat files there
worker_tmp_dir = SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None

# Logs go to stdout/stderr; Supervisor writes them to files and rotates them.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s %({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(L)ss "%(a)s"'


def post_worker_init(worker):
    """Move everything the worker loaded (Django, Wagtail, the models, the URLconf) out of the
    garbage collector's sight.

    A rendering creates hundreds of model instances, which start collections; the oldest
    generation's ones walked the whole loaded heap each time: 13–16 ms of a 70 ms cold store menu
    (docs/performance.md). Frozen objects are never scanned, and never freed, which they would not
    be anyway: they live as long as the worker.
    """
    import gc

    from django.urls import get_resolver

    try:
        get_resolver().url_patterns  # the URLconf's modules, imported on first use otherwise  # noqa: B018
    except Exception:
        # A broken URL module must not stop the worker booting (Gunicorn would shut the whole
        # server down): the requests answer 500 and report the error, as without this hook.
        if worker is not None:
            worker.log.exception("post_worker_init: the URLconf could not be loaded")
    gc.collect()
    gc.freeze()
