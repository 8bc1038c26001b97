# shellcheck shell=bash disable=SC2034
# (SC2034: the variables here are used by the scripts that source this file.)
# Shared by the deployment scripts: the paths of an installation, in one place, and small helpers.
#
# Every value below can be overridden, in this order of precedence:
#   1. the environment of the command (OCPIZZA_ROOT=/opt/ocpizza deploy/web.sh);
#   2. the file $OCPIZZA_CONF (default /etc/ocpizza/deploy.conf), written by web.sh with the
#      values it installed, so that update.sh, backup.sh and cron use the same ones later;
#   3. the defaults here.
# OCPIZZA_PREFIX puts the whole installation under a scratch folder (used by the tests): every
# default path below then starts with it.

# The file written by web.sh is sourced first; it only sets variables the environment did not set.
: "${OCPIZZA_PREFIX:=}"
: "${OCPIZZA_CONF:=${OCPIZZA_PREFIX}/etc/ocpizza/deploy.conf}"
if [ -r "$OCPIZZA_CONF" ]; then
  # shellcheck source=/dev/null
  . "$OCPIZZA_CONF"
fi

# Application
: "${OCPIZZA_ROOT:=${OCPIZZA_PREFIX}/srv/ocpizza}"        # releases/, current, venv/, static/...
: "${OCPIZZA_VENV:=${OCPIZZA_ROOT}/venv}"                 # THE virtualenv (the only place it is named)
: "${OCPIZZA_ENV_FILE:=${OCPIZZA_ROOT}/.env}"             # secrets and settings, linked into each release
: "${OCPIZZA_USER:=ocpizza}"                              # system user that runs Gunicorn
: "${OCPIZZA_PYTHON:=python3}"                            # used to create the virtualenv (3.12 on Ubuntu 24.04)
: "${OCPIZZA_LOG_DIR:=${OCPIZZA_PREFIX}/var/log/ocpizza}"
: "${OCPIZZA_SCRIPTS_DIR:=${OCPIZZA_PREFIX}/usr/local/lib/ocpizza}"   # root-owned copy of backup.sh for cron
: "${OCPIZZA_KEEP_RELEASES:=5}"                           # old releases kept for a quick roll-back

# Web server
: "${OCPIZZA_SERVER_NAMES:=oc-pizza.fr www.oc-pizza.fr}"
: "${OCPIZZA_LISTEN_ADDRESS:=}"                           # empty: every address (tests: 127.0.0.1)
: "${OCPIZZA_HTTP_PORT:=80}"
: "${OCPIZZA_HTTPS_PORT:=443}"
: "${OCPIZZA_ACME_ROOT:=${OCPIZZA_PREFIX}/var/www/letsencrypt}"   # certbot --webroot -w here
: "${OCPIZZA_TLS_CERT:=${OCPIZZA_PREFIX}/etc/letsencrypt/live/oc-pizza.fr/fullchain.pem}"
: "${OCPIZZA_TLS_KEY:=${OCPIZZA_PREFIX}/etc/letsencrypt/live/oc-pizza.fr/privkey.pem}"
: "${OCPIZZA_NGINX_DIR:=${OCPIZZA_PREFIX}/etc/nginx}"
: "${OCPIZZA_NGINX_LOG_DIR:=${OCPIZZA_PREFIX}/var/log/nginx}"
: "${OCPIZZA_SUPERVISOR_CONF:=${OCPIZZA_PREFIX}/etc/supervisor/supervisord.conf}"
: "${OCPIZZA_SUPERVISOR_DIR:=${OCPIZZA_PREFIX}/etc/supervisor/conf.d}"
: "${OCPIZZA_PROGRAM:=ocpizza}"                           # Supervisor program name
: "${OCPIZZA_CRON_FILE:=${OCPIZZA_PREFIX}/etc/cron.d/ocpizza}"

# Database and backups
: "${OCPIZZA_DB:=ocpizza}"                                # database name; server from libpq's PGHOST...
: "${OCPIZZA_BACKUP_DIR:=${OCPIZZA_PREFIX}/var/backups/ocpizza}"
: "${OCPIZZA_BACKUP_DAYS:=10}"
: "${OCPIZZA_BACKUP_USER:=postgres}"                      # OS user that runs pg_dump, psql (peer authentication)
: "${OCPIZZA_BACKUP_TIME:=30 3}"                          # cron minute and hour of the daily backup

# Paths derived from the above, never set by hand.
OCPIZZA_RELEASES="${OCPIZZA_ROOT}/releases"
OCPIZZA_CURRENT="${OCPIZZA_ROOT}/current"
OCPIZZA_RUN_DIR="${OCPIZZA_ROOT}/run"
OCPIZZA_SOCKET="${OCPIZZA_RUN_DIR}/gunicorn.sock"
OCPIZZA_STATIC_ROOT="${OCPIZZA_ROOT}/static"
OCPIZZA_MEDIA_ROOT="${OCPIZZA_ROOT}/media"

# The variables web.sh records in $OCPIZZA_CONF.
OCPIZZA_CONFIG_VARS=(
  OCPIZZA_ROOT OCPIZZA_VENV OCPIZZA_ENV_FILE OCPIZZA_USER OCPIZZA_PYTHON OCPIZZA_LOG_DIR OCPIZZA_SCRIPTS_DIR
  OCPIZZA_KEEP_RELEASES OCPIZZA_SERVER_NAMES OCPIZZA_LISTEN_ADDRESS OCPIZZA_HTTP_PORT
  OCPIZZA_HTTPS_PORT OCPIZZA_ACME_ROOT OCPIZZA_TLS_CERT OCPIZZA_TLS_KEY OCPIZZA_NGINX_DIR OCPIZZA_NGINX_LOG_DIR
  OCPIZZA_SUPERVISOR_CONF OCPIZZA_SUPERVISOR_DIR OCPIZZA_PROGRAM OCPIZZA_CRON_FILE OCPIZZA_DB
  OCPIZZA_BACKUP_DIR OCPIZZA_BACKUP_DAYS OCPIZZA_BACKUP_USER OCPIZZA_BACKUP_TIME
)

say() { printf '==> %s\n' "$*"; }
warn() { printf 'ATTENTION: %s\n' "$*" >&2; }
die() { printf 'ERREUR: %s\n' "$*" >&2; exit 1; }

# render TEMPLATE: print TEMPLATE with every @NAME@ replaced by the value of $NAME.
render() {
  local template="$1" line name value
  local pattern='@(OCPIZZA_[A-Z_]+)@'
  while IFS= read -r line || [ -n "$line" ]; do
    while [[ $line =~ $pattern ]]; do
      name="${BASH_REMATCH[1]}"
      [ -n "${!name+set}" ] || die "$template uses @$name@, which is not defined"
      value="${!name}"
      line="${line//"@${name}@"/"$value"}"
    done
    printf '%s\n' "$line"
  done <"$template"
}

# as_db_user CMD...: run a PostgreSQL client as the backup user (peer authentication on Ubuntu);
# the connection itself follows libpq's usual PGHOST, PGPORT, PGUSER variables when they are set.
as_db_user() {
  if [ "$(id -u)" -eq 0 ] && [ "$OCPIZZA_BACKUP_USER" != root ]; then
    runuser -u "$OCPIZZA_BACKUP_USER" -- "$@"
  else
    "$@"
  fi
}

# supervisorctl with the configured Supervisor.
supctl() { supervisorctl -c "$OCPIZZA_SUPERVISOR_CONF" "$@"; }
# supervisorctl status answers 0, or 3 when a program is stopped, once supervisord listens.
supervisor_running() {
  local rc=0
  supctl status >/dev/null 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]
}

# app_running: true when Supervisor runs the application (Gunicorn or the task worker), i.e. when
# something may be writing to the database and the media folder.
app_running() {
  supervisor_running || return 1
  supctl status "$OCPIZZA_PROGRAM" "$OCPIZZA_PROGRAM-worker" 2>/dev/null \
    | grep -Eq '[[:space:]](RUNNING|STARTING|BACKOFF|STOPPING)([[:space:]]|$)'
}

# install_tools SOURCE DEST: copy the scripts cron runs as root (SOURCE's backup.sh and the lib.sh
# it reads) into DEST, owned by root and writable by root only, so no file the application user
# could change is ever run by root. web.sh and update.sh call it; cron runs DEST/backup.sh.
install_tools() {
  local source="$1" dest="$2" name mode
  install -d -m 755 -o root -g root "$dest"
  for name in lib.sh backup.sh; do
    mode=644
    [ "$name" != backup.sh ] || mode=755
    install -m "$mode" -o root -g root "$source/$name" "$dest/.$name.new"
    mv -f "$dest/.$name.new" "$dest/$name"
  done
}
