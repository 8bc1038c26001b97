"""The operations manual, followed by a machine: every procedure of docs/exploitation.md runs here.

The tests share one scratch server (conftest.py) and run in the order of the manual; each one
leaves it serving. They skip outside CI when Nginx, Supervisor, the PostgreSQL client or root are
missing; with CI set they fail instead.
"""

import os
import pwd
import re
import secrets
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest
from deploy_scratch import DEPLOY, PROOF_CACHE_URL, commit, in_ci, processes_using, run, skip_or_fail

pytestmark = pytest.mark.usefixtures("deploy_tools")

SCRIPTS = ["web.sh", "update.sh", "backup.sh", "restore.sh"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_explains_itself(script, deploy_tools):
    result = run([DEPLOY / script, "--help"], env={"PATH": os.environ["PATH"]})

    assert result.stdout.startswith("Usage:")


def test_database_script_is_safe_to_run_twice(scratch_server):
    command = [
        "psql", "-X", "-q", "-v", "password=changed-" + secrets.token_hex(4),
        "-v", f"role={scratch_server.role}", "-v", f"dbname={scratch_server.database}",
        "-f", DEPLOY / "script_database.sql",
    ]  # fmt: skip

    run(command, scratch_server.env)
    result = run(command, scratch_server.env)

    assert "prêts" in result.stdout
    connection = scratch_server.connect()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [scratch_server.database]
        )
        assert cursor.fetchone() == (scratch_server.role,)
    connection.close()


def test_database_script_refuses_to_run_without_a_password(scratch_server):
    result = run(["psql", "-X", "-q", "-f", DEPLOY / "script_database.sql"], scratch_server.env, check=False)

    assert result.returncode != 0
    assert "password" in result.stdout + result.stderr


def test_web_sh_installs_the_site_the_program_and_the_backup_job(scratch_server):
    etc = scratch_server.prefix / "etc"
    site = (etc / "nginx/sites-available/ocpizza").read_text()
    program = (etc / "supervisor/conf.d/ocpizza.conf").read_text()
    cron = (etc / "cron.d/ocpizza").read_text()

    assert (etc / "nginx/sites-enabled/ocpizza").resolve() == etc / "nginx/sites-available/ocpizza"
    assert "server_name oc-pizza.fr www.oc-pizza.fr;" in site
    assert not re.search(r"@OCPIZZA_[A-Z_]+@", site + program)
    assert "newrelic-admin run-program" in program and "autorestart=true" in program
    assert "[program:ocpizza-worker]" in program and "manage.py db_worker" in program
    assert f"{scratch_server.root}/venv/bin/gunicorn" in program
    assert re.search(r"^30 3 \* \* \* root .*/current/deploy/backup.sh --quiet$", cron, re.MULTILINE)
    assert oct((scratch_server.root / ".env").stat().st_mode & 0o777) == "0o640"


def test_web_sh_run_again_changes_nothing(scratch_server):
    etc = scratch_server.prefix / "etc"
    files = [
        etc / "nginx/sites-available/ocpizza",
        etc / "supervisor/conf.d/ocpizza.conf",
        etc / "cron.d/ocpizza",
    ]
    before = [path.read_bytes() for path in files]
    env_before = (scratch_server.root / ".env").read_bytes()

    result = scratch_server.script("web.sh", "--prefix", scratch_server.prefix)

    assert "installed:" not in result.stdout
    assert "nginx -t: configuration OK" in result.stdout
    assert "Nginx reloaded" in result.stdout and "Supervisor updated" in result.stdout
    assert [path.read_bytes() for path in files] == before
    assert (scratch_server.root / ".env").read_bytes() == env_before


def test_the_site_answers_through_nginx(scratch_server):
    status, _, body = scratch_server.request("/")
    # An empty database: Wagtail's welcome page, or its 404 when no Site exists yet.
    assert status in (200, 404), body[:500]

    status, _, body = scratch_server.request("/healthz")
    assert status == 200 and b'"status": "ok"' in body

    status, _, body = scratch_server.request("/readyz")
    assert status == 200, body
    # The cache too: once there is content, Wagtail reads its site root paths from it on every page.
    assert b'"migrations": "ok"' in body and b'"cache": "ok"' in body


def test_the_install_uses_the_redis_of_the_manual(scratch_server):
    env_file = (scratch_server.root / ".env").read_text()
    cache_url = next(line for line in env_file.splitlines() if line.startswith("CACHE_URL="))

    if cache_url == "CACHE_URL=locmemcache://" and not in_ci():
        pytest.skip("Redis did not answer on 127.0.0.1:6379: the proof ran with locmemcache://")
    assert cache_url == f"CACHE_URL={PROOF_CACHE_URL}"

    status, _, body = scratch_server.request("/admin/login/")
    assert status == 200 and b"csrfmiddlewaretoken" in body
    access_log = scratch_server.prefix / "var/log/ocpizza/gunicorn-access.log"
    scratch_server.wait_for(lambda: b"GET /admin/login/" in access_log.read_bytes(), message="access log")


def test_nginx_serves_static_files_with_long_cache_for_hashed_names(scratch_server):
    status, headers, body = scratch_server.request("/static/css/site.css")
    assert status == 200 and headers["content-type"] == "text/css"
    assert headers["x-content-type-options"] == "nosniff"

    hashed = next((scratch_server.root / "static/css").glob("site.????????????.css")).name
    status, headers, _ = scratch_server.request(f"/static/css/{hashed}", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["cache-control"] == "max-age=315360000"
    assert headers.get("content-encoding") == "gzip"
    assert "max-age=31536000" in headers["strict-transport-security"]


def test_http_redirects_to_https(scratch_server):
    status, headers, _ = scratch_server.request("/commande/?x=1", https=False)

    assert status == 301
    assert headers["location"] == "https://oc-pizza.fr/commande/?x=1"


def test_supervisor_brings_gunicorn_back_after_a_crash(scratch_server):
    pid = scratch_server.gunicorn_pid()
    assert pid
    workers = set(processes_using(scratch_server.prefix, "gunicorn")) - {pid}
    assert workers

    os.kill(pid, signal.SIGKILL)

    new_pid = scratch_server.wait_for(
        lambda: (scratch_server.gunicorn_pid() or 0) not in (0, pid) and scratch_server.gunicorn_pid(),
        message="a new Gunicorn master",
    )
    assert new_pid != pid
    scratch_server.wait_for(lambda: scratch_server.request("/healthz")[0] == 200, message="/healthz")
    # The old master's workers notice they lost their parent and leave: no orphans pile up.
    scratch_server.wait_for(
        lambda: not workers & set(processes_using(scratch_server.prefix, "gunicorn")), message="orphans"
    )


def test_backup_then_restore_gives_back_every_row(scratch_server):
    dump = scratch_server.script("backup.sh").stdout.strip().splitlines()[-1]
    restored = f"{scratch_server.database}_restored"
    scratch_server.databases.append(restored)

    scratch_server.script("restore.sh", "--new-db", restored, "--owner", scratch_server.role, "--yes", dump)

    original = scratch_server.table_counts(scratch_server.database)
    assert len(original) > 30 and sum(original.values()) > 0
    assert scratch_server.table_counts(restored) == original


def test_the_manuals_plain_sql_route_still_restores(scratch_server, tmp_path):
    dump = scratch_server.script("backup.sh", "--quiet").stdout.strip()
    plain = tmp_path / "ocpizza.sql"
    run(["pg_restore", "--clean", "--if-exists", "--file", plain, dump], scratch_server.env)
    target = f"{scratch_server.database}_plain"
    scratch_server.databases.append(target)
    run(["createdb", target], scratch_server.env)

    with plain.open() as sql:  # psql ocpizza < dump.sql
        run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", target], scratch_server.env, stdin=sql)

    assert scratch_server.table_counts(target) == scratch_server.table_counts(scratch_server.database)


def test_restore_into_the_live_database_needs_a_confirmation(scratch_server):
    dump = scratch_server.script("backup.sh", "--quiet").stdout.strip()

    result = scratch_server.script("restore.sh", dump, check=False, stdin=open(os.devnull))  # noqa: SIM115

    assert result.returncode != 0
    assert "confirm" in result.stderr


def test_restore_replaces_the_live_database_while_the_app_is_stopped(scratch_server):
    dump = scratch_server.script("backup.sh", "--quiet").stdout.strip()
    counts_at_backup = scratch_server.table_counts(scratch_server.database)
    connection = scratch_server.connect(scratch_server.database)
    with connection, connection.cursor() as cursor:  # a change made after the backup
        cursor.execute(
            "INSERT INTO django_session VALUES ('after-the-backup', 'x', now() + interval '1 day')"
        )
    connection.close()

    scratch_server.supervisorctl("stop", "ocpizza", "ocpizza-worker", check=True)
    try:
        scratch_server.script("restore.sh", "--yes", dump)
    finally:
        scratch_server.supervisorctl("start", "ocpizza", "ocpizza-worker", check=True)

    assert scratch_server.table_counts(scratch_server.database) == counts_at_backup
    scratch_server.wait_for(lambda: scratch_server.request("/readyz")[0] == 200, message="/readyz")


def test_the_cron_entry_runs_a_backup(scratch_server):
    line = next(
        line
        for line in (scratch_server.prefix / "etc/cron.d/ocpizza").read_text().splitlines()
        if line and not line.startswith("#") and "=" not in line.split()[0]
    )
    command = line.split(None, 6)[6]  # minute hour day month weekday user COMMAND
    folder = scratch_server.prefix / "var/backups/ocpizza"
    before = set(folder.glob("ocpizza_*.dump"))

    # Cron's bare environment: the paths must come from the recorded deploy.conf. (PG* stand in for
    # the peer authentication the postgres user has on a real server.)
    cron_env = {key: value for key, value in scratch_server.env.items() if key.startswith("PG")}
    result = run(["sh", "-c", command], {**cron_env, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"})

    assert result.stdout.strip() and not result.stderr  # --quiet: the path only
    assert len(set(folder.glob("ocpizza_*.dump")) - before) == 1


@pytest.mark.parametrize("folder_made_by", ["web.sh", "backup.sh"])
def test_cron_backups_as_postgres_still_log_after_a_backup_as_root(scratch_server, folder_made_by):
    # On a real server the folder belongs to postgres, update.sh's backup runs as root and the nightly
    # one as postgres. The scratch install uses root for both, so this builds that split on the side:
    # a folder and scripts the postgres user may reach, and a deploy.conf naming postgres.
    try:
        postgres = pwd.getpwnam("postgres")
    except KeyError:
        skip_or_fail("no postgres system user (apt-get install postgresql)")
    side = Path(tempfile.mkdtemp(prefix="ocpz-backup-user-"))
    try:
        side.chmod(0o755)
        (side / "deploy").mkdir(mode=0o755)
        for name in ("backup.sh", "lib.sh"):
            shutil.copy2(DEPLOY / name, side / "deploy" / name)
        folder = side / "backups"
        log = folder / "backup.log"
        conf = side / "deploy.conf"
        conf.write_text(
            f': "${{OCPIZZA_BACKUP_DIR:={folder}}}"\n'
            ': "${OCPIZZA_BACKUP_USER:=postgres}"\n'
            f': "${{OCPIZZA_DB:={scratch_server.database}}}"\n'
        )
        conf.chmod(0o644)
        if folder_made_by == "web.sh":  # install -d -m 700 -o postgres, as web.sh does
            folder.mkdir(mode=0o700)
            os.chown(folder, postgres.pw_uid, postgres.pw_gid)
        pg = {key: value for key, value in scratch_server.env.items() if key.startswith("PG")}
        backup = f"OCPIZZA_CONF={conf} {side}/deploy/backup.sh --quiet"

        # 1. update.sh's backup, as root with root's usual umask.
        as_root = run(["sh", "-c", f"umask 022; {backup}"], {**pg, "PATH": os.environ["PATH"]})
        first_dump = Path(as_root.stdout.strip())
        assert first_dump.parent == folder and first_dump.stat().st_size > 0
        assert folder.stat().st_uid == postgres.pw_uid
        assert log.stat().st_uid == postgres.pw_uid and log.stat().st_mode & 0o777 == 0o600
        lines_before = log.read_text().splitlines()

        # 2. The nightly cron run, as postgres, in cron's bare environment (the line web.sh installs).
        cron_env = {**pg, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": postgres.pw_dir}
        as_postgres = run(["runuser", "-u", "postgres", "--", "sh", "-c", backup], cron_env, check=False)

        assert as_postgres.returncode == 0, as_postgres.stderr
        assert not as_postgres.stderr
        second_dump = Path(as_postgres.stdout.strip())
        assert second_dump != first_dump and second_dump.stat().st_uid == postgres.pw_uid
        run(["pg_restore", "--list", second_dump], scratch_server.env)
        lines_after = log.read_text().splitlines()
        assert lines_after[: len(lines_before)] == lines_before  # appended, not replaced
        assert f"done: {second_dump}" in lines_after[-1]
    finally:
        shutil.rmtree(side, ignore_errors=True)


def test_the_cron_entry_publishes_scheduled_content(scratch_server):
    line = next(
        line
        for line in (scratch_server.prefix / "etc/cron.d/ocpizza").read_text().splitlines()
        if line.endswith("manage.py publish_scheduled")
    )
    assert line.startswith("*/5 * * * * ")
    command = line.split(None, 6)[6]

    # Cron's bare environment: the settings come from the install's .env, through with_env.py.
    result = run(["sh", "-c", command], {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin"})

    assert result.returncode == 0, result.stderr


def test_backups_older_than_ten_days_are_removed(scratch_server):
    folder = scratch_server.prefix / "var/backups/ocpizza"
    eleven_days = folder / "ocpizza_2000-01-01_030000.dump"
    nine_days = folder / "ocpizza_2000-01-03_030000.dump"
    for path, age in ((eleven_days, 11), (nine_days, 9)):
        path.write_bytes(b"old")
        then = time.time() - age * 86400
        os.utime(path, (then, then))

    scratch_server.script("backup.sh", "--quiet")

    assert not eleven_days.exists()
    assert nine_days.exists()
    nine_days.unlink()


def test_a_failed_backup_exits_non_zero_logs_and_keeps_older_dumps(scratch_server):
    folder = scratch_server.prefix / "var/backups/ocpizza"
    before = sorted(folder.glob("ocpizza_*.dump"))

    result = scratch_server.script("backup.sh", "--db", "ocpizza_missing_database", check=False)

    assert result.returncode != 0
    assert "FAILED" in (folder / "backup.log").read_text().splitlines()[-1]
    assert sorted(folder.glob("ocpizza_*.dump")) == before
    assert not list(folder.glob(".*.partial"))


def test_update_installs_the_next_release_with_a_graceful_reload(scratch_server):
    marker = f"release-marker-{secrets.token_hex(4)}"
    css = scratch_server.repo / "static/css/site.css"
    css.write_text(css.read_text() + f"\n/* {marker} */\n")
    revision = commit(scratch_server.repo, scratch_server.env, "Next release")
    backups = scratch_server.prefix / "var/backups/ocpizza"
    backups_before = len(list(backups.glob("ocpizza_*.dump")))
    master = scratch_server.gunicorn_pid()
    task_worker = scratch_server.gunicorn_pid("ocpizza-worker")
    old_release = scratch_server.release()

    result = scratch_server.script("update.sh", "--ref", revision, scratch_server.repo)

    assert "[1/7] database backup" in result.stdout and "[3/7] requirements" in result.stdout
    new_release = scratch_server.release()
    assert new_release != old_release and new_release.endswith(revision[:10])
    assert (scratch_server.root / "current").resolve().name == new_release
    assert scratch_server.gunicorn_pid() == master  # reloaded, not restarted
    assert scratch_server.gunicorn_pid("ocpizza-worker") not in (None, task_worker)  # restarted
    assert marker.encode() in scratch_server.request("/static/css/site.css")[2]
    assert len(list(backups.glob("ocpizza_*.dump"))) == backups_before + 1
    assert scratch_server.request("/readyz")[0] == 200


def test_a_broken_release_stops_the_update_and_the_old_one_keeps_serving(scratch_server, tmp_path):
    serving = scratch_server.release()
    releases_before = sorted((scratch_server.root / "releases").iterdir())
    health = scratch_server.repo / "ocpizza/health.py"
    original = health.read_text()
    health.write_text(original + "\nthis is not python\n")
    revision = commit(scratch_server.repo, scratch_server.env, "Broken release")
    # Delivered as an archive with one top folder, like the manual's .zip.
    archive = tmp_path / "ocpizza-broken.tar.gz"
    git_archive = ["git", "-C", scratch_server.repo, "archive", "--format=tar.gz", "--prefix=ocpizza-broken/"]
    run([*git_archive, "-o", archive, revision], scratch_server.env)
    try:
        result = scratch_server.script("update.sh", archive, check=False)
    finally:
        health.write_text(original)
        commit(scratch_server.repo, scratch_server.env, "Repair")

    assert result.returncode != 0
    assert "[4/7]" in result.stdout, result.stderr  # unpacked and installed, refused by the checks
    assert f"The site still serves {serving}" in result.stderr
    assert scratch_server.release() == serving
    assert (scratch_server.root / "current").resolve().name == serving
    assert sorted((scratch_server.root / "releases").iterdir()) == releases_before
