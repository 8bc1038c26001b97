#!/usr/bin/env bash
# OC Pizza: install a new release of the application and switch to it without stopping the site.
set -euo pipefail
# Releases, configs and static files must stay readable by the app and Nginx, whatever root's umask.
umask 022

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  cat <<'EOF'
Usage: sudo deploy/update.sh [--ref REF] SOURCE
       sudo deploy/update.sh --help

Installs the release found in SOURCE, which is one of:
  - an archive of the application (.zip, .tar.gz, .tgz), as delivered;
  - a git repository (folder or URL), at REF (default: its HEAD);
  - a folder holding the application (copied as it is).
The first installation is done the same way, after web.sh.

Steps, stopping at the first error (the site keeps serving the release it had):
  1. back up the database and the uploaded files (backup.sh);
  2. unpack the release into releases/<date>-<commit>, linked to the shared .env; whatever owners
     and modes the archive carries, the release belongs to root and only root may write to it;
  3. create the virtualenv if missing, pip install -r requirements.txt;
  4. manage.py check --deploy, then migrate;
  5. manage.py collectstatic;
  6. point `current` at the new release and reload Gunicorn gracefully (SIGHUP: running
     requests finish in the old workers); then wait until /healthz answers from the new release,
     or point `current` back and reload again; restart the task worker; refresh the root-owned
     copy of backup.sh that cron runs;
  7. keep the last OCPIZZA_KEEP_RELEASES releases, delete older ones.
Migrations run while the old release still serves: they must be additive (new columns nullable
or with defaults, removals in a later release), as Django's migrations usually are.
EOF
}

ref=""
source_arg=""
while [ $# -gt 0 ]; do
  case "$1" in
    --ref) [ $# -ge 2 ] || { usage >&2; exit 2; }; ref="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) printf 'Unknown option: %s\n\n' "$1" >&2; usage >&2; exit 2 ;;
    *) [ -z "$source_arg" ] || { usage >&2; exit 2; }; source_arg="$1"; shift ;;
  esac
done
[ -n "$source_arg" ] || { usage >&2; exit 2; }

# shellcheck source=deploy/lib.sh
. "$DEPLOY_DIR/lib.sh"

[ "$(id -u)" -eq 0 ] || die "update.sh must run as root (sudo deploy/update.sh ...)."
[ -d "$OCPIZZA_RELEASES" ] || die "$OCPIZZA_RELEASES is missing: run deploy/web.sh first."
[ -f "$OCPIZZA_ENV_FILE" ] || die "$OCPIZZA_ENV_FILE is missing: run deploy/web.sh first, then fill it in."

exec 9>"$OCPIZZA_ROOT/.update.lock"
flock -n 9 || die "another update.sh is running."

previous=""
[ -L "$OCPIZZA_CURRENT" ] && previous="$(readlink -f "$OCPIZZA_CURRENT")"
release=""
switched=0
work="$(mktemp -d)"

on_exit() {
  local status=$?
  rm -rf "$work"
  if [ "$status" -ne 0 ]; then
    if [ "$switched" -eq 0 ] && [ -n "$release" ] && [ -d "$release" ]; then
      rm -rf "$release"
    fi
    printf '\nERREUR: update stopped (exit %s). ' "$status" >&2
    if [ -n "$previous" ]; then
      printf 'The site still serves %s.\n' "$(basename "$previous")" >&2
    elif [ "$switched" -eq 1 ]; then
      printf 'First installation: fix the error and run update.sh again.\n' >&2
    else
      printf 'No release was installed.\n' >&2
    fi
  fi
}
trap on_exit EXIT

step() { printf '\n==> [%s] %s\n' "$1" "$2"; }
manage() { (cd "$release" && "$OCPIZZA_VENV/bin/python" manage.py "$@"); }

# --- 1. Backup ----------------------------------------------------------------------------------
step 1/7 "backup of the database and the uploaded files"
"$DEPLOY_DIR/backup.sh"

# --- 2. The new release -------------------------------------------------------------------------
step 2/7 "unpacking $source_arg"
src="$work/src"
commit=""
case "$source_arg" in
  *.zip)
    mkdir -p "$src"; unzip -q "$source_arg" -d "$src" ;;
  *.tar.gz|*.tgz)
    # Never the archive's owners and modes: they would be kept as root extracts it.
    mkdir -p "$src"; tar -xzf "$source_arg" -C "$src" --no-same-owner --no-same-permissions ;;
  *)
    if [ -n "$ref" ] || [ -e "$source_arg/.git" ] || [[ $source_arg == *.git ]] || [[ $source_arg == *://* ]]; then
      git clone --quiet --no-checkout "$source_arg" "$src"
      git -C "$src" -c advice.detachedHead=false checkout --quiet "${ref:-HEAD}"
      commit="$(git -C "$src" rev-parse --short=10 HEAD)"
      rm -rf "$src/.git"
    elif [ -d "$source_arg" ]; then
      mkdir -p "$src"
      (cd "$source_arg" && tar -cf - --exclude=./.venv --exclude=./.venv312 --exclude=./.env \
        --exclude=./db.sqlite3 --exclude=./media --exclude=./staticfiles --exclude=__pycache__ .) \
        | tar -xf - -C "$src" --no-same-owner --no-same-permissions
    else
      die "$source_arg is neither an archive, a git repository nor a folder."
    fi ;;
esac
# An archive usually holds one top folder around the project.
if [ ! -f "$src/manage.py" ]; then
  mapfile -t tops < <(find "$src" -mindepth 1 -maxdepth 1)
  if [ "${#tops[@]}" -eq 1 ] && [ -f "${tops[0]}/manage.py" ]; then src="${tops[0]}"; fi
fi
[ -f "$src/manage.py" ] && [ -f "$src/requirements.txt" ] || die "no manage.py and requirements.txt in $source_arg."

release_id="$(date '+%Y%m%d-%H%M%S')${commit:+-$commit}"
release="$OCPIZZA_RELEASES/$release_id"
[ ! -e "$release" ] || die "$release already exists (two updates in the same second?)."
mv "$src" "$release"
# The code runs as the application user, as root (migrate, collectstatic) and its backup.sh was
# run by cron: nobody but root may change it. Links inside are left alone, never followed.
chown -R --no-dereference root:root "$release"
chmod -R u+rwX,go+rX,go-w "$release"
ln -s "$OCPIZZA_ENV_FILE" "$release/.env"
printf '%s\n' "$release_id" >"$release/RELEASE"
say "release $release_id"

# --- 3. Virtualenv and requirements -------------------------------------------------------------
step 3/7 "requirements into $OCPIZZA_VENV"
if [ ! -x "$OCPIZZA_VENV/bin/python" ]; then
  "$OCPIZZA_PYTHON" -m venv "$OCPIZZA_VENV"
  "$OCPIZZA_VENV/bin/python" -m pip install --quiet --upgrade pip
fi
"$OCPIZZA_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$release/requirements.txt"

# --- 4. Checks and migrations -------------------------------------------------------------------
step 4/7 "manage.py check --deploy, migrate"
manage check --deploy
manage migrate --noinput

# --- 5. Static files ----------------------------------------------------------------------------
step 5/7 "collectstatic"
manage collectstatic --noinput --verbosity 0

# --- 6. Switch and reload -----------------------------------------------------------------------
step 6/7 "switch to $release_id and reload Gunicorn"

point_current_at() {  # atomic: a new link renamed over the old one
  ln -sfn "$1" "$OCPIZZA_ROOT/.current.new"
  mv -T "$OCPIZZA_ROOT/.current.new" "$OCPIZZA_CURRENT"
}
reload_gunicorn() {
  if ! supervisor_running; then
    warn "Supervisor is not running: start it (systemctl start supervisor); Gunicorn will follow."
    return 1
  fi
  if supctl status "$OCPIZZA_PROGRAM" 2>/dev/null | grep -q RUNNING; then
    supctl signal HUP "$OCPIZZA_PROGRAM" >/dev/null
    say "Gunicorn reloaded (HUP)"
  else
    supctl start "$OCPIZZA_PROGRAM" >/dev/null
    say "Gunicorn started"
  fi
}
# wait_for_release ID: until /healthz, asked through Gunicorn's socket, names release ID.
wait_for_release() {
  "$OCPIZZA_VENV/bin/python" - "$OCPIZZA_SOCKET" "${OCPIZZA_SERVER_NAMES%% *}" "$1" <<'PY'
import http.client, json, socket, sys, time

path, host, wanted = sys.argv[1:4]

class UnixConnection(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(path)

seen = "no answer"
deadline = time.monotonic() + 90
while time.monotonic() < deadline:
    try:
        conn = UnixConnection(host)
        conn.request("GET", "/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"})
        response = conn.getresponse()
        body = response.read()
        seen = f"HTTP {response.status}"
        if response.status == 200:
            seen = json.loads(body).get("release")
            if seen == wanted:
                sys.exit(0)
    except (OSError, ValueError) as error:
        seen = str(error)
    time.sleep(1)
sys.exit(f"/healthz did not report release {wanted} (last answer: {seen})")
PY
}

# The task worker has no graceful reload: it finishes its current task, then starts anew, on the
# release `current` points at. It is restarted before the site reloads: a new release may queue a
# task the old worker does not know (it would fail it, never to be retried), while the new one
# still runs every task the old release queues.
restart_task_worker() {
  if supctl status "$OCPIZZA_PROGRAM-worker" >/dev/null 2>&1 || [ "$?" -eq 3 ]; then
    if supctl restart "$OCPIZZA_PROGRAM-worker" >/dev/null; then
      say "task worker restarted"
    else
      warn "the task worker did not restart: see $OCPIZZA_LOG_DIR/worker.log"
    fi
  fi
}

point_current_at "$release"
switched=1
restart_task_worker
if reload_gunicorn && wait_for_release "$release_id"; then
  say "the site serves $release_id"
  install_tools "$release/deploy" "$OCPIZZA_SCRIPTS_DIR"
  say "backup script of $release_id copied to $OCPIZZA_SCRIPTS_DIR (run by cron)"
else
  if [ -n "$previous" ]; then
    warn "the new release does not answer: back to $(basename "$previous")."
    point_current_at "$previous"
    reload_gunicorn || true
    restart_task_worker
  fi
  die "release $release_id is installed in $release but not serving; see $OCPIZZA_LOG_DIR/gunicorn-error.log"
fi

# --- 7. Old releases ----------------------------------------------------------------------------
step 7/7 "cleaning old releases (keeping $OCPIZZA_KEEP_RELEASES)"
mapfile -t releases < <(find "$OCPIZZA_RELEASES" -mindepth 1 -maxdepth 1 -type d | sort -r)
for old in "${releases[@]:$OCPIZZA_KEEP_RELEASES}"; do
  [ "$old" != "$(readlink -f "$OCPIZZA_CURRENT")" ] || continue
  rm -rf "$old"
  say "removed $old"
done
say "update finished: $release_id"
