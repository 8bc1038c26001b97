"""The operations manual, followed by a machine: every procedure of docs/exploitation.md runs here.

The tests share one scratch server (conftest.py) and run in the order of the manual; each one
leaves it serving. They skip outside CI when Nginx, Supervisor, the PostgreSQL client or root are
missing; with CI set they fail instead.
"""

import dataclasses
import grp
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import stat
import tarfile
import tempfile
import time
from pathlib import Path

import pytest
from deploy_scratch import (
    DEPLOY,
    PROOF_CACHE_URL,
    commit,
    database_script,
    in_ci,
    processes_using,
    run,
    skip_or_fail,
)

pytestmark = pytest.mark.usefixtures("deploy_tools")

SCRIPTS = ["web.sh", "update.sh", "backup.sh", "restore.sh"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_explains_itself(script, deploy_tools):
    result = run([DEPLOY / script, "--help"], env={"PATH": os.environ["PATH"]})

    assert result.stdout.startswith("Usage:")


def test_database_script_is_safe_to_run_twice(scratch_server):
    variables = {
        "password_file": scratch_server.password_file(),
        "role": scratch_server.role,
        "dbname": scratch_server.database,
    }

    database_script(scratch_server.env, **variables)
    result = database_script(scratch_server.env, **variables)

    assert "prêts" in result.stdout
    connection = scratch_server.connect()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [scratch_server.database]
        )
        assert cursor.fetchone() == (scratch_server.role,)
    connection.close()


def test_database_script_refuses_a_password_on_the_command_line(scratch_server):
    result = database_script(
        scratch_server.env, check=False, password="visible-in-ps", role="ocpizza_never_created"
    )

    assert result.returncode != 0
    assert "password given on the command line: refused" in result.stderr
    assert not scratch_server_has_role(scratch_server, "ocpizza_never_created")


def test_database_script_refuses_a_password_file_others_can_read(scratch_server):
    password_file = scratch_server.password_file()
    password_file.chmod(0o644)
    try:
        result = database_script(
            scratch_server.env, check=False, password_file=password_file, role="ocpizza_never_created"
        )
    finally:
        password_file.chmod(0o600)

    assert result.returncode != 0
    assert "chmod 600" in result.stdout
    assert not scratch_server_has_role(scratch_server, "ocpizza_never_created")


def scratch_server_has_role(scratch_server, role):
    connection = scratch_server.connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            return cursor.fetchone() is not None
    finally:
        connection.close()


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
    scripts = scratch_server.prefix / "usr/local/lib/ocpizza"
    assert re.search(
        rf"^30 3 \* \* \* root OCPIZZA_CONF=\S+ {scripts}/backup.sh --quiet$", cron, re.MULTILINE
    )
    assert oct((scratch_server.root / ".env").stat().st_mode & 0o777) == "0o640"


def test_cron_runs_a_root_owned_copy_of_the_backup_script_not_a_release_file(scratch_server):
    scripts = scratch_server.prefix / "usr/local/lib/ocpizza"

    for name in ("backup.sh", "lib.sh"):
        copy = scripts / name
        assert copy.read_bytes() == (DEPLOY / name).read_bytes()
        assert not copy.is_symlink()
        assert (copy.stat().st_uid, copy.stat().st_gid) == (0, 0)
        assert copy.stat().st_mode & 0o022 == 0, oct(copy.stat().st_mode)
    assert scripts.stat().st_uid == 0 and scripts.stat().st_mode & 0o022 == 0


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


def test_web_sh_puts_the_env_file_back_to_640_for_root_and_the_app_group(scratch_server):
    env_file = scratch_server.root / ".env"
    content = env_file.read_bytes()
    env_file.chmod(0o666)
    os.chown(env_file, 4242, 4242)

    result = scratch_server.script("web.sh", "--prefix", scratch_server.prefix)

    app_group = grp.getgrnam(scratch_server.env["OCPIZZA_USER"]).gr_gid
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o640
    assert (env_file.stat().st_uid, env_file.stat().st_gid) == (0, app_group)
    assert env_file.read_bytes() == content
    assert "kept as it is (root:" in result.stdout


def test_application_logs_are_out_of_reach_of_other_users(scratch_server):
    logs = scratch_server.prefix / "var/log/ocpizza"
    # Written by Supervisor once the programs run.
    scratch_server.wait_for(lambda: (logs / "gunicorn-error.log").stat().st_size > 0, message="error log")

    assert stat.S_IMODE(logs.stat().st_mode) == 0o750
    files = sorted(logs.glob("*.log"))
    assert {path.name for path in files} >= {"gunicorn-access.log", "gunicorn-error.log", "worker.log"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o640, path
        assert path.stat().st_uid == 0, path


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


def test_http_redirect_goes_to_our_own_name_whatever_host_the_client_sends(scratch_server):
    status, headers, _ = scratch_server.request("/compte/?x=1", https=False, headers={"Host": "evil.example"})

    assert status == 301
    assert headers["location"] == "https://oc-pizza.fr/compte/?x=1"


# Each URL gets its own client address: the login URLs share one per-address counter.
LIMITED_POSTS = [
    ("/admin/login/", 10, "127.0.10.1"),
    ("/compte/connexion/", 10, "127.0.10.2"),
    ("/compte/mot-de-passe/oublie/", 5, "127.0.10.3"),
    ("/admin/password_reset/", 5, "127.0.10.4"),
    ("/compte/inscription/", 5, "127.0.10.5"),
    ("/_util/login/", 10, "127.0.10.6"),
    ("/documents/authenticate_with_password/1/", 10, "127.0.10.7"),
]


@pytest.mark.parametrize(("path", "burst", "client"), LIMITED_POSTS)
def test_nginx_answers_429_to_posts_past_the_burst(scratch_server, path, burst, client):
    statuses = [
        scratch_server.request(path, method="POST", body=b"username=a&password=b", source=client)[0]
        for _ in range(burst + 6)
    ]

    # The first burst + 1 reach Django (which refuses them: no CSRF token); then Nginx says no.
    assert statuses[: burst + 1] == [403] * (burst + 1), statuses
    assert statuses[-1] == 429, statuses


def test_showing_a_login_form_is_never_limited(scratch_server):
    statuses = {scratch_server.request("/compte/connexion/", source="127.0.10.20")[0] for _ in range(25)}

    assert statuses == {200}


def test_a_client_past_its_limit_still_reaches_the_rest_of_the_site(scratch_server):
    client = "127.0.10.21"
    for _ in range(20):
        scratch_server.request("/compte/connexion/", method="POST", body=b"x=1", source=client)

    assert scratch_server.request("/compte/connexion/", method="POST", body=b"x=1", source=client)[0] == 429
    assert scratch_server.request("/healthz", source=client)[0] == 200


DOCUMENTS_SCRIPT = """
import json
from django.core.files.base import ContentFile
from wagtail.documents import get_document_model
from wagtail.models import Collection, CollectionViewRestriction

Document = get_document_model()
root = Collection.get_first_root_node()
private = root.add_child(name="Documents internes (preuve)")
CollectionViewRestriction.objects.create(collection=private, restriction_type=CollectionViewRestriction.LOGIN)
public_doc = Document.objects.create(
    title="Allergènes", file=ContentFile(b"%PDF-1.4 public proof", name="allergenes.pdf"), collection=root
)
private_doc = Document.objects.create(
    title="Planning", file=ContentFile(b"%PDF-1.4 private proof", name="planning.pdf"), collection=private
)
print(json.dumps({
    "public": {"url": public_doc.url, "file": public_doc.file.name},
    "private": {"url": private_doc.url, "file": private_doc.file.name},
}))
"""


@pytest.fixture(scope="module")
def documents(scratch_server):
    """A public document and one in a collection restricted to logged-in users."""
    output = scratch_server.manage("shell", "-c", DOCUMENTS_SCRIPT).stdout
    return json.loads(output.strip().splitlines()[-1])


def test_a_document_is_sent_by_nginx_once_django_allowed_it(scratch_server, documents):
    status, headers, body = scratch_server.request(documents["public"]["url"])

    assert status == 200
    assert body == b"%PDF-1.4 public proof"
    assert headers["content-type"] == "application/pdf"
    assert headers["content-disposition"] == 'inline; filename="allergenes.pdf"'  # Wagtail's choice for PDFs
    # Only Nginx's internal /_documents/ location answers with these.
    assert headers["cache-control"] == "private, no-cache"
    assert headers["accept-ranges"] == "bytes"
    assert headers["content-security-policy"] == "default-src 'none'"
    assert headers["x-content-type-options"] == "nosniff"


def test_a_document_of_a_private_collection_asks_for_a_login(scratch_server, documents):
    status, headers, body = scratch_server.request(documents["private"]["url"])

    assert status == 302
    assert headers["location"].startswith("/compte/connexion/?next=")
    assert b"private proof" not in body


@pytest.mark.parametrize("folder", ["/media/documents/", "/_documents/"])
def test_nginx_never_serves_documents_by_their_file_path(scratch_server, documents, folder):
    for kind in ("public", "private"):
        path = folder + Path(documents[kind]["file"]).name  # stored as documents/<name>
        status, _, body = scratch_server.request(path)

        assert status == 404, path
        assert b"proof" not in body


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


def backup(scratch_server, *args):
    """Run backup.sh; returns the (dump, media archive) paths it prints."""
    dump, media = scratch_server.script("backup.sh", "--quiet", *args).stdout.split()
    return Path(dump), Path(media)


def test_backup_then_restore_gives_back_every_row(scratch_server):
    dump, _ = backup(scratch_server)
    restored = f"{scratch_server.database}_restored"
    scratch_server.databases.append(restored)

    scratch_server.script("restore.sh", "--new-db", restored, "--owner", scratch_server.role, "--yes", dump)

    original = scratch_server.table_counts(scratch_server.database)
    assert len(original) > 30 and sum(original.values()) > 0
    assert scratch_server.table_counts(restored) == original


def test_a_backup_holds_the_uploaded_files(scratch_server):
    upload = scratch_server.root / "media/original_images/proof-in-backup.png"
    upload.parent.mkdir(exist_ok=True)
    upload.write_bytes(b"an uploaded picture " + secrets.token_bytes(8))

    dump, media = backup(scratch_server)

    assert media.name == dump.name.replace(".dump", ".media.tar")
    with tarfile.open(media) as archive:
        assert archive.extractfile("./original_images/proof-in-backup.png").read() == upload.read_bytes()
    assert stat.S_IMODE(media.stat().st_mode) == 0o600 and media.stat().st_uid == 0
    upload.unlink()


def test_the_manuals_plain_sql_route_still_restores(scratch_server, tmp_path):
    dump, _ = backup(scratch_server)
    plain = tmp_path / "ocpizza.sql"
    run(["pg_restore", "--clean", "--if-exists", "--file", plain, dump], scratch_server.env)
    target = f"{scratch_server.database}_plain"
    scratch_server.databases.append(target)
    run(["createdb", target], scratch_server.env)

    with plain.open() as sql:  # psql ocpizza < dump.sql
        run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", target], scratch_server.env, stdin=sql)

    assert scratch_server.table_counts(target) == scratch_server.table_counts(scratch_server.database)


def test_restore_into_the_live_database_needs_a_confirmation(scratch_server):
    dump, _ = backup(scratch_server)

    result = scratch_server.script("restore.sh", "--force", dump, check=False, stdin=open(os.devnull))  # noqa: SIM115

    assert result.returncode != 0
    assert "confirm" in result.stderr


def test_restore_is_refused_while_the_application_runs(scratch_server):
    dump, _ = backup(scratch_server)
    backups = scratch_server.prefix / "var/backups/ocpizza"
    files_before = sorted(backups.iterdir())
    counts_before = scratch_server.table_counts(scratch_server.database)

    result = scratch_server.script("restore.sh", "--yes", dump, check=False)

    assert result.returncode != 0
    assert "the application is running" in result.stderr
    assert "supervisorctl stop ocpizza ocpizza-worker" in result.stderr
    assert sorted(backups.iterdir()) == files_before  # not even a safety backup
    assert scratch_server.table_counts(scratch_server.database) == counts_before


@dataclasses.dataclass
class LiveRestore:
    output: str
    counts_at_backup: dict
    counts_after: dict
    upload: Path
    upload_content: bytes
    later_upload: Path


@pytest.fixture(scope="module")
def live_restore(scratch_server):
    """The manual's restore: a backup, changes made after it, the app stopped, restore.sh, app started."""
    media = scratch_server.root / "media/original_images"
    media.mkdir(exist_ok=True)
    upload = media / "proof-before-the-backup.png"
    upload.write_bytes(b"kept by the backup " + secrets.token_bytes(8))
    dump, _ = backup(scratch_server)
    counts_at_backup = scratch_server.table_counts(scratch_server.database)

    # After the backup: a row, a table (as a later migration would add), an upload gone, a new one.
    connection = scratch_server.connect(scratch_server.database)
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_session VALUES ('after-the-backup', 'x', now() + interval '1 day')"
        )
        cursor.execute("CREATE TABLE after_the_dump (id int)")
    connection.close()
    content = upload.read_bytes()
    upload.unlink()
    later_upload = media / "proof-after-the-backup.png"
    later_upload.write_bytes(b"uploaded after the backup")

    scratch_server.supervisorctl("stop", "ocpizza", "ocpizza-worker", check=True)
    try:
        result = scratch_server.script("restore.sh", "--yes", dump)
    finally:
        scratch_server.supervisorctl("start", "ocpizza", "ocpizza-worker", check=True)
    scratch_server.wait_for(lambda: scratch_server.request("/readyz")[0] == 200, message="/readyz")
    return LiveRestore(
        output=result.stdout,
        counts_at_backup=counts_at_backup,
        counts_after=scratch_server.table_counts(scratch_server.database),
        upload=upload,
        upload_content=content,
        later_upload=later_upload,
    )


def test_restore_gives_back_the_rows_of_the_dump(live_restore):
    assert live_restore.counts_after == live_restore.counts_at_backup


def test_a_table_added_after_the_dump_does_not_survive_the_restore(live_restore):
    assert "after_the_dump" not in live_restore.counts_after


def test_restore_first_takes_a_safety_backup_of_the_live_state(scratch_server, live_restore):
    match = re.search(r"safety backup: (\S+\.dump) \(and (\S+\.media\.tar)\)", live_restore.output)
    assert match, live_restore.output
    dump, media = Path(match[1]), Path(match[2])

    listing = run(["pg_restore", "--list", dump], scratch_server.env).stdout
    assert "TABLE public after_the_dump" in listing
    with tarfile.open(media) as archive:
        assert "./original_images/proof-after-the-backup.png" in archive.getnames()


def test_restore_puts_the_uploaded_files_back(scratch_server, live_restore):
    assert live_restore.upload.read_bytes() == live_restore.upload_content
    assert not live_restore.later_upload.exists()
    media = scratch_server.root / "media"
    assert stat.S_IMODE(media.stat().st_mode) == 0o2770
    assert not list(scratch_server.root.glob("media.*"))  # nothing left beside it


def test_restore_migrates_the_restored_schema_and_the_site_serves_again(scratch_server, live_restore):
    assert "manage.py migrate" in live_restore.output and "No migrations to apply." in live_restore.output
    status, _, body = scratch_server.request("/readyz")
    assert status == 200 and b'"migrations": "ok"' in body


def test_the_cron_entry_runs_a_backup_as_root_from_the_copy(scratch_server):
    line = next(
        line
        for line in (scratch_server.prefix / "etc/cron.d/ocpizza").read_text().splitlines()
        if line and not line.startswith("#") and "=" not in line.split()[0] and "backup.sh" in line
    )
    user, command = line.split(None, 6)[5:]  # minute hour day month weekday USER COMMAND
    folder = scratch_server.prefix / "var/backups/ocpizza"
    before = set(folder.glob("ocpizza_*"))

    # Cron's bare environment: the paths must come from the recorded deploy.conf. (PG* stand in for
    # the peer authentication the postgres user has on a real server.)
    cron_env = {key: value for key, value in scratch_server.env.items() if key.startswith("PG")}
    result = run(["sh", "-c", command], {**cron_env, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"})

    assert user == "root"
    assert not result.stderr  # --quiet: the paths only
    new = sorted(path.name for path in set(folder.glob("ocpizza_*")) - before)
    assert len(new) == 2 and new[0].endswith(".dump") and new[1].endswith(".media.tar")
    assert result.stdout.split() == [str(folder / name) for name in new]


def test_backup_runs_pg_dump_as_the_backup_user_into_a_folder_only_root_reads(scratch_server):
    # On a real server pg_dump runs as postgres (peer authentication) while backup.sh runs as root.
    # The scratch install uses root for both, so this replays that split on the side.
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        skip_or_fail("no postgres system user (apt-get install postgresql)")
    side = Path(tempfile.mkdtemp(prefix="ocpz-backup-user-"))
    try:
        folder = side / "backups"
        conf = side / "deploy.conf"
        conf.write_text(
            f': "${{OCPIZZA_ROOT:={scratch_server.root}}}"\n'
            f': "${{OCPIZZA_BACKUP_DIR:={folder}}}"\n'
            ': "${OCPIZZA_BACKUP_USER:=postgres}"\n'
            f': "${{OCPIZZA_DB:={scratch_server.database}}}"\n'
        )
        pg = {key: value for key, value in scratch_server.env.items() if key.startswith("PG")}
        backup_command = f"umask 022; OCPIZZA_CONF={conf} {DEPLOY}/backup.sh --quiet"

        result = run(["sh", "-c", backup_command], {**pg, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"})

        dump, media = (Path(line) for line in result.stdout.split())
        assert dump.parent == folder and media.parent == folder
        run(["pg_restore", "--list", dump], scratch_server.env)
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and folder.stat().st_uid == 0
        for path in (dump, media, folder / "backup.log"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.stat().st_uid == 0, path
        assert f"done: {dump}" in (folder / "backup.log").read_text().splitlines()[-1]
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


def test_the_cron_entry_expires_unpaid_orders_every_minute(scratch_server):
    line = next(
        line
        for line in (scratch_server.prefix / "etc/cron.d/ocpizza").read_text().splitlines()
        if line.endswith("manage.py expire_unpaid_orders --verbosity 0")
    )
    assert line.startswith("* * * * * ")
    command = line.split(None, 6)[6]

    result = run(["sh", "-c", command], {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin"})

    assert result.returncode == 0, result.stderr


def test_the_cron_entry_reconciles_card_payments_every_hour(scratch_server):
    line = next(
        line
        for line in (scratch_server.prefix / "etc/cron.d/ocpizza").read_text().splitlines()
        if line.endswith("manage.py reconcile_payments --days 7 --verbosity 0")
    )
    assert line.startswith("17 * * * * ")
    command = line.split(None, 6)[6]

    result = run(["sh", "-c", command], {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin"})

    assert result.returncode == 0, result.stderr


def test_backups_older_than_ten_days_are_removed(scratch_server):
    folder = scratch_server.prefix / "var/backups/ocpizza"
    eleven_days = [folder / "ocpizza_2000-01-01_030000.dump", folder / "ocpizza_2000-01-01_030000.media.tar"]
    nine_days = [folder / "ocpizza_2000-01-03_030000.dump", folder / "ocpizza_2000-01-03_030000.media.tar"]
    for paths, age in ((eleven_days, 11), (nine_days, 9)):
        for path in paths:
            path.write_bytes(b"old")
            then = time.time() - age * 86400
            os.utime(path, (then, then))

    backup(scratch_server)

    assert not any(path.exists() for path in eleven_days)
    assert all(path.exists() for path in nine_days)
    for path in nine_days:
        path.unlink()


def test_a_failed_backup_exits_non_zero_logs_and_keeps_older_backups(scratch_server):
    folder = scratch_server.prefix / "var/backups/ocpizza"
    before = sorted(folder.glob("ocpizza_*"))

    result = scratch_server.script("backup.sh", "--db", "ocpizza_missing_database", check=False)

    assert result.returncode != 0
    assert "FAILED" in (folder / "backup.log").read_text().splitlines()[-1]
    assert sorted(folder.glob("ocpizza_*")) == before
    assert not list(folder.glob(".*.partial"))


def hostile_archive(scratch_server, path):
    """The repository's HEAD as a .tar.gz whose files belong to uid 4242 and are writable by all."""
    plain = path.with_name("plain.tar")
    run(
        ["git", "-C", scratch_server.repo, "archive", "--prefix=ocpizza/", "-o", plain, "HEAD"],
        scratch_server.env,
    )
    with tarfile.open(plain) as source, tarfile.open(path, "w:gz") as target:
        for member in source.getmembers():
            member.uid = member.gid = 4242
            member.uname = member.gname = "mallory"
            member.mode |= 0o666 if member.isfile() else 0o777
            target.addfile(member, source.extractfile(member) if member.isfile() else None)
    return path


@dataclasses.dataclass
class Update:
    output: str
    marker: str
    old_release: str
    master: int
    task_worker: int
    backups_before: int


@pytest.fixture(scope="module")
def next_release(scratch_server, tmp_path_factory):
    """The manual's update: the next version delivered as an archive (here one with hostile owners)."""
    marker = f"release-marker-{secrets.token_hex(4)}"
    css = scratch_server.repo / "static/css/site.css"
    css.write_text(css.read_text() + f"\n/* {marker} */\n")
    backup_script = scratch_server.repo / "deploy/backup.sh"
    backup_script.write_text(backup_script.read_text() + f"# {marker}\n")
    commit(scratch_server.repo, scratch_server.env, "Next release")
    archive = hostile_archive(scratch_server, tmp_path_factory.mktemp("delivery") / "ocpizza-1.1.tar.gz")
    backups = scratch_server.prefix / "var/backups/ocpizza"
    update = Update(
        output="",
        marker=marker,
        old_release=scratch_server.release(),
        master=scratch_server.gunicorn_pid(),
        task_worker=scratch_server.gunicorn_pid("ocpizza-worker"),
        backups_before=len(list(backups.glob("ocpizza_*.dump"))),
    )
    update.output = scratch_server.script("update.sh", archive).stdout
    return update


def test_update_installs_the_next_release_with_a_graceful_reload(scratch_server, next_release):
    assert "[1/7] backup" in next_release.output and "[3/7] requirements" in next_release.output
    new_release = scratch_server.release()
    assert new_release != next_release.old_release
    assert (scratch_server.root / "current").resolve().name == new_release
    assert scratch_server.gunicorn_pid() == next_release.master  # reloaded, not restarted
    assert scratch_server.gunicorn_pid("ocpizza-worker") not in (None, next_release.task_worker)  # restarted
    # Before the site: the new release's tasks are known to the worker before the site queues any.
    output = next_release.output
    assert output.index("task worker restarted") < output.index(f"the site serves {new_release}")
    assert next_release.marker.encode() in scratch_server.request("/static/css/site.css")[2]
    assert scratch_server.request("/readyz")[0] == 200


def test_update_backs_up_before_installing(scratch_server, next_release):
    backups = scratch_server.prefix / "var/backups/ocpizza"

    assert len(list(backups.glob("ocpizza_*.dump"))) == next_release.backups_before + 1


def test_a_release_belongs_to_root_whatever_owners_and_modes_its_archive_carries(
    scratch_server, next_release
):
    release = (scratch_server.root / "current").resolve()

    checked = 0
    for path in [release, *release.rglob("*")]:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            continue
        assert (info.st_uid, info.st_gid) == (0, 0), path
        assert info.st_mode & 0o022 == 0, f"{path} {oct(info.st_mode)}"
        checked += 1
    assert checked > 300
    assert stat.S_IMODE((release / "README.md").stat().st_mode) == 0o644
    assert stat.S_IMODE((release / "deploy/backup.sh").stat().st_mode) == 0o755


def test_update_refreshes_the_root_owned_backup_script_cron_runs(scratch_server, next_release):
    release = (scratch_server.root / "current").resolve()
    copy = scratch_server.prefix / "usr/local/lib/ocpizza/backup.sh"

    assert copy.read_text().endswith(f"# {next_release.marker}\n")  # the new release's, not web.sh's
    assert copy.read_bytes() == (release / "deploy/backup.sh").read_bytes()
    assert copy.stat().st_uid == 0 and copy.stat().st_mode & 0o022 == 0


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
