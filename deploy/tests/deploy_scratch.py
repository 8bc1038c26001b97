"""The deployment proof's scratch server: helpers and fixtures (re-exported by conftest.py).

The scratch install is what an operator gets by following docs/exploitation.md, with three
differences: everything lives under a prefix folder (web.sh --prefix), Nginx and Supervisor are
private instances started by these fixtures on free loopback ports, and the virtualenv is the one
running the tests (a link), so no package is downloaded again.
"""

import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest

PROJECT = Path(__file__).resolve().parents[2]
DEPLOY = PROJECT / "deploy"
HOST = "oc-pizza.fr"
REQUIRED_TOOLS = ("nginx", "supervisord", "supervisorctl", "pg_dump", "pg_restore", "psql", "openssl", "git")


def in_ci():
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def skip_or_fail(reason):
    """Outside CI a missing tool skips the proof; in CI it is a failure, never a silent skip."""
    if in_ci():
        pytest.fail(f"CI is set but the deployment proof cannot run: {reason}")
    pytest.skip(reason)


def postgres_server():
    """Connection settings of the PostgreSQL server the test run uses, as libpq variables."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/postgres"
    parts = urlsplit(url)
    settings = {
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": parts.username or "postgres",
    }
    if parts.password:
        settings["PGPASSWORD"] = parts.password
    return settings


def redis_answers():
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# The proof's cache: the Redis of the manual (apt-get install redis-server), in a database of its own.
PROOF_CACHE_URL = "redis://127.0.0.1:6379/15"


def proof_cache_url():
    """Redis as in .env.example. Without it: a failure in CI, the in-memory cache (and a warning) elsewhere.

    A fresh server with .env.example's CACHE_URL and no Redis serves only errors, so the proof must
    replay that step for real wherever it can: .ci/run starts Redis on 127.0.0.1:6379.
    """
    if redis_answers():
        return PROOF_CACHE_URL
    reason = "Redis does not answer on 127.0.0.1:6379 (apt-get install redis-server)"
    if in_ci():
        pytest.fail(f"CI is set but the deployment proof cannot run: {reason}")
    warnings.warn(
        f"{reason}: the scratch install uses locmemcache://, so the manual's Redis step is NOT proven",
        stacklevel=2,
    )
    return "locmemcache://"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_environment(**extra):
    """A minimal environment: none of the test run's Django settings may leak into the install."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
    }
    env.update(extra)
    return env


def run(command, env, check=True, timeout=300, **kwargs):
    result = subprocess.run(  # noqa: S603 - commands built by the tests themselves
        [str(part) for part in command],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, command))} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


@dataclass
class ScratchServer:
    prefix: Path
    env: dict
    http_port: int
    https_port: int
    database: str
    role: str
    password: str
    repo: Path
    processes: dict = field(default_factory=dict)
    databases: list = field(default_factory=list)

    @property
    def root(self):
        return self.prefix / "srv/ocpizza"

    @property
    def supervisor_conf(self):
        return self.prefix / "etc/supervisor/supervisord.conf"

    def password_file(self, password=None):
        """The role's password in a file only its owner may read, as the manual asks."""
        path = self.prefix / "root/ocpizza-db.password"
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text((password or self.password) + "\n")
        return path

    def script(self, name, *args, check=True, **kwargs):
        return run([DEPLOY / name, *args], env=self.env, check=check, **kwargs)

    def supervisorctl(self, *args, check=False):
        return run(["supervisorctl", "-c", self.supervisor_conf, *args], env=self.env, check=check)

    def gunicorn_pid(self, program="ocpizza"):
        result = self.supervisorctl("pid", program)
        text = result.stdout.strip()
        return int(text) if text.isdigit() and text != "0" else None

    def connect(self, database=None):
        settings = {key: value for key, value in self.env.items() if key.startswith("PG")}
        return psycopg2.connect(
            host=settings["PGHOST"],
            port=settings["PGPORT"],
            user=settings["PGUSER"],
            password=settings.get("PGPASSWORD"),
            dbname=database or "postgres",
        )

    def request(self, path, https=True, headers=None, method="GET", body=None, source="127.0.0.1"):
        """Ask Nginx for path; returns (status, headers dict, body bytes).

        `source` is the client's address: any 127.x.y.z reaches the loopback, so a test can be a
        client of its own for Nginx's per-address limits.
        """
        if https:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # the scratch certificate is self-signed
            connection = http.client.HTTPSConnection(
                "127.0.0.1", self.https_port, timeout=15, context=context, source_address=(source, 0)
            )
        else:
            connection = http.client.HTTPConnection(
                "127.0.0.1", self.http_port, timeout=15, source_address=(source, 0)
            )
        try:
            connection.request(method, path, body=body, headers={"Host": HOST, **(headers or {})})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def wait_for(self, predicate, timeout=60, message="condition"):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, http.client.HTTPException):
                last = predicate()
                if last:
                    return last
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {message} (last: {last!r})")

    def manage(self, *args, check=True):
        """manage.py of the installed release, with its .env, as cron and operators run it."""
        venv_python = self.root / "venv/bin/python"
        current = self.root / "current"
        command = [
            venv_python,
            current / "deploy/with_env.py",
            self.root / ".env",
            venv_python,
            current / "manage.py",
        ]
        return run([*command, *args], {"PATH": os.environ["PATH"]}, check=check)

    def release(self):
        status, _, body = self.request("/healthz")
        return json.loads(body)["release"] if status == 200 else None

    def table_counts(self, database):
        connection = self.connect(database)
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
                )
                tables = [row[0] for row in cursor.fetchall()]
                counts = {}
                for table in tables:
                    cursor.execute(f'SELECT count(*) FROM public."{table}"')  # noqa: S608 - catalogue names
                    counts[table] = cursor.fetchone()[0]
                return counts
        finally:
            connection.close()


def write_scratch_system(prefix):
    """The parts the Debian packages provide on a real server: nginx.conf and supervisord.conf."""
    folders = ("etc/nginx", "etc/supervisor", "run", "var/log/nginx", "var/log/supervisor", "var/lib/nginx")
    for folder in folders:
        (prefix / folder).mkdir(parents=True, exist_ok=True)
    (prefix / "etc/nginx/nginx.conf").write_text(
        f"""user root;
worker_processes 1;
pid {prefix}/run/nginx.pid;
error_log {prefix}/var/log/nginx/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {prefix}/var/log/nginx/access.log;
    client_body_temp_path {prefix}/var/lib/nginx/body;
    proxy_temp_path {prefix}/var/lib/nginx/proxy;
    fastcgi_temp_path {prefix}/var/lib/nginx/fastcgi;
    uwsgi_temp_path {prefix}/var/lib/nginx/uwsgi;
    scgi_temp_path {prefix}/var/lib/nginx/scgi;
    include {prefix}/etc/nginx/sites-enabled/*;
}}
"""
    )
    (prefix / "etc/supervisor/supervisord.conf").write_text(
        f"""[unix_http_server]
file={prefix}/run/supervisor.sock
chmod=0700

[supervisord]
logfile={prefix}/var/log/supervisor/supervisord.log
pidfile={prefix}/run/supervisord.pid
childlogdir={prefix}/var/log/supervisor

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{prefix}/run/supervisor.sock

[include]
files = {prefix}/etc/supervisor/conf.d/*.conf
"""
    )


def database_script(env, check=True, **variables):
    """script_database.sql as the manual runs it: psql -X -v NAME=VALUE... < deploy/script_database.sql"""
    command = ["psql", "-X", "-q"]
    for name, value in variables.items():
        command += ["-v", f"{name}={value}"]
    with (DEPLOY / "script_database.sql").open() as script:
        return run(command, env, check=check, stdin=script)


def make_release_repo(path, env):
    """A git repository holding the working tree as its first commit (the tests add the next ones).

    Built from the files of the checkout under test, committed or not, so the proof checks what is
    in the folder and works whatever the depth of the CI clone.
    """
    listed = run(["git", "-C", PROJECT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], env)
    for name in filter(None, listed.stdout.split("\0")):
        source = PROJECT / name
        if source.is_file():
            target = path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    run(["git", "init", "--quiet", "--initial-branch", "main", path], env)
    commit(path, env, "First release")
    return path


def commit(repo, env, message):
    git = ["git", "-C", repo, "-c", "user.name=Deploy proof", "-c", "user.email=proof@oc-pizza.invalid"]
    run([*git, "add", "--all"], env)
    run([*git, "commit", "--quiet", "--allow-empty", "-m", message], env)
    return run(["git", "-C", repo, "rev-parse", "HEAD"], env).stdout.strip()


def set_env_file(path, **values):
    """Set KEY=value lines in a .env file (the first occurrence of a key is the one read)."""
    lines = path.read_text().splitlines()
    for key, value in values.items():
        line = f"{key}={value}"
        for index, existing in enumerate(lines):
            if existing.startswith(f"{key}="):
                lines[index] = line
                break
        else:
            lines.append(line)
    path.write_text("\n".join(lines) + "\n")


def stop_process(process, sig=signal.SIGTERM, timeout=30):
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def processes_using(folder, program=""):
    """Ids of the processes whose command line names `folder` (and `program`, when given)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                command_line = (entry / "cmdline").read_bytes()
                if str(folder).encode() in command_line and program.encode() in command_line:
                    found.append(int(entry.name))
    return found


def kill_processes_using(folder):
    for pid in processes_using(folder):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def deploy_tools():
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        skip_or_fail(f"missing {', '.join(missing)} (apt-get install nginx supervisor postgresql-client)")
    if os.geteuid() != 0:
        skip_or_fail("web.sh and update.sh must run as root")
    server = postgres_server()
    try:
        connection = psycopg2.connect(
            host=server["PGHOST"],
            port=server["PGPORT"],
            user=server["PGUSER"],
            password=server.get("PGPASSWORD"),
            dbname="postgres",
            connect_timeout=5,
        )
        connection.close()
    except psycopg2.OperationalError as error:
        skip_or_fail(f"PostgreSQL is not reachable at {server['PGHOST']}:{server['PGPORT']}: {error}")
    return server


@pytest.fixture(scope="session")
def scratch_server(deploy_tools):
    """A scratch server with the first release installed, served by Nginx and Supervisor."""
    cache_url = proof_cache_url()  # before anything is created: it may fail or warn
    suffix = secrets.token_hex(4)
    prefix = Path(tempfile.mkdtemp(prefix="ocpz-"))
    repo = Path(tempfile.mkdtemp(prefix="ocpz-repo-"))
    http_port, https_port = free_port(), free_port()
    env = clean_environment(
        **deploy_tools,
        OCPIZZA_PREFIX=str(prefix),
        OCPIZZA_USER="root",
        OCPIZZA_BACKUP_USER="root",
        OCPIZZA_LISTEN_ADDRESS="127.0.0.1",
        OCPIZZA_HTTP_PORT=str(http_port),
        OCPIZZA_HTTPS_PORT=str(https_port),
        OCPIZZA_DB=f"ocpizza_deploy_{suffix}",
    )
    server = ScratchServer(
        prefix=prefix,
        env=env,
        http_port=http_port,
        https_port=https_port,
        database=f"ocpizza_deploy_{suffix}",
        role=f"ocpizza_deploy_{suffix}",
        password=secrets.token_urlsafe(16),
        repo=repo,
    )
    try:
        write_scratch_system(prefix)
        server.root.mkdir(parents=True)
        # The virtualenv running these tests stands in for /srv/ocpizza/venv: nothing to download.
        (server.root / "venv").symlink_to(Path(sys.prefix))
        make_release_repo(repo, env)

        # Chapter 4.1: the database, with the script of the manual (password from a 600 file).
        server.databases.append(server.database)
        database_script(env, password_file=server.password_file(), role=server.role, dbname=server.database)
        # Chapter 4.2: web.sh, then .env.
        server.script("web.sh", "--prefix", prefix)
        set_env_file(
            server.root / ".env",
            DATABASE_URL=f"postgres://{server.role}:{server.password}@{deploy_tools['PGHOST']}:"
            f"{deploy_tools['PGPORT']}/{server.database}",
            GUNICORN_WORKERS="2",
            CACHE_URL=cache_url,
        )
        # The distribution's services (systemd starts them on a real server).
        server.processes["supervisord"] = subprocess.Popen(  # noqa: S603
            [shutil.which("supervisord"), "-n", "-c", str(server.supervisor_conf)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server.processes["nginx"] = subprocess.Popen(  # noqa: S603
            [shutil.which("nginx"), "-c", str(prefix / "etc/nginx/nginx.conf"), "-g", "daemon off;"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server.wait_for(
            lambda: server.supervisorctl("status").returncode in (0, 3), timeout=30, message="supervisord"
        )
        # Chapter 4.2 ends with the first release, installed by update.sh like every later one.
        server.first_release = server.script("update.sh", "--ref", "main", repo)
        yield server
    finally:
        if server.supervisor_conf.exists():
            server.supervisorctl("stop", "all")
        stop_process(server.processes.get("supervisord"))
        stop_process(server.processes.get("nginx"), signal.SIGQUIT)
        kill_processes_using(prefix)
        with contextlib.suppress(psycopg2.Error):
            connection = server.connect()
            connection.autocommit = True
            with connection.cursor() as cursor:
                for database in server.databases:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                cursor.execute(f'DROP ROLE IF EXISTS "{server.role}"')
            connection.close()
        shutil.rmtree(prefix, ignore_errors=True)
        shutil.rmtree(repo, ignore_errors=True)
