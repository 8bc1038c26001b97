#!/usr/bin/env bash
# OC Pizza: install the web server side of the application on the server (run as root).
set -euo pipefail
# Releases, configs and static files must stay readable by the app and Nginx, whatever root's umask.
umask 022

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE_DIR="$(dirname "$DEPLOY_DIR")"

usage() {
  cat <<'EOF'
Usage: sudo deploy/web.sh [--prefix DIR] [--no-reload] [--help]

Installs, or brings up to date, everything the operating system needs to run OC Pizza:
  - the system user, the folders (releases, static, media, run, logs, backups);
  - the .env file from .env.example with a fresh DJANGOSECRETKEY, if there is none yet
    (never overwritten: fill in DATABASE_URL and the keys afterwards); its owner and mode
    (root:ocpizza, 640) are put back on every run;
  - the Nginx site (sites-available/ocpizza, its link in sites-enabled, snippets/ocpizza-headers.conf);
    without a Let's Encrypt certificate yet, a self-signed one stands in (see docs/exploitation.md);
  - the Supervisor program (conf.d/ocpizza.conf) that runs Gunicorn;
  - a root-owned copy of backup.sh (/usr/local/lib/ocpizza), run as root by cron;
  - the cron entries: the daily backup, Wagtail's scheduled publishing, the expiry of unpaid
    orders and the hourly reconciliation of card payments (cron.d/ocpizza).
Then checks the Nginx configuration (nginx -t) and reloads Nginx and Supervisor.
Running it again changes nothing that is already right.

Options:
  --prefix DIR   install under DIR instead of / (a scratch folder, for tests); Nginx and
                 Supervisor are then reloaded only through DIR/etc/nginx/nginx.conf and
                 DIR/etc/supervisor/supervisord.conf, when they run.
  --no-reload    install the files and check them, but reload neither Nginx nor Supervisor.
  --help         show this help.

Paths and ports come from deploy/lib.sh, overridable from the environment; the values used are
recorded in /etc/ocpizza/deploy.conf for update.sh and backup.sh.
EOF
}

reload=1
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || { usage >&2; exit 2; }; export OCPIZZA_PREFIX="${2%/}"; shift 2 ;;
    --prefix=*) export OCPIZZA_PREFIX="${1#--prefix=}"; OCPIZZA_PREFIX="${OCPIZZA_PREFIX%/}"; shift ;;
    --no-reload) reload=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) printf 'Option inconnue: %s\n\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
done

# shellcheck source=deploy/lib.sh
. "$DEPLOY_DIR/lib.sh"

[ "$(id -u)" -eq 0 ] || die "web.sh must run as root (sudo deploy/web.sh)."
for tool in nginx supervisorctl openssl; do
  command -v "$tool" >/dev/null || die "$tool is missing: sudo apt-get install nginx supervisor openssl"
done

changed=()
# install_file SOURCE DEST MODE: put SOURCE at DEST if it differs; remember what changed.
install_file() {
  local src="$1" dest="$2" mode="$3"
  mkdir -p "$(dirname "$dest")"
  if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
    say "unchanged: $dest"
  else
    if [ -f "$dest" ]; then cp -p "$dest" "$dest.previous"; fi
    install -m "$mode" "$src" "$dest"
    changed+=("$dest")
    say "installed: $dest"
  fi
}
# Put back the files of this run if the new configuration is refused.
roll_back() {
  local f
  for f in "${changed[@]}"; do
    if [ -f "$f.previous" ]; then mv -f "$f.previous" "$f"; else rm -f "$f"; fi
  done
}
has_systemd() { [ -z "$OCPIZZA_PREFIX" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# --- 1. The system user -----------------------------------------------------------------------
if ! id "$OCPIZZA_USER" >/dev/null 2>&1; then
  [ -z "$OCPIZZA_PREFIX" ] || die "user $OCPIZZA_USER does not exist (with --prefix, set OCPIZZA_USER to an existing user)."
  useradd --system --user-group --home-dir "$OCPIZZA_ROOT" --no-create-home --shell /usr/sbin/nologin "$OCPIZZA_USER"
  say "system user created: $OCPIZZA_USER"
fi
# Nginx's workers reach the socket and the media through this group.
web_group=www-data
getent group "$web_group" >/dev/null || web_group="$(id -gn "$OCPIZZA_USER")"

# --- 2. Folders ---------------------------------------------------------------------------------
# Code, configuration and static files: root's, readable by all, writable by root only.
install -d -m 755 -o root -g root "$OCPIZZA_ROOT" "$OCPIZZA_RELEASES" "$OCPIZZA_STATIC_ROOT" "$OCPIZZA_ACME_ROOT"
install -d -m 755 "$OCPIZZA_NGINX_LOG_DIR"
install -d -m 2750 -o "$OCPIZZA_USER" -g "$web_group" "$OCPIZZA_RUN_DIR"
install -d -m 2770 -o "$OCPIZZA_USER" -g "$web_group" "$OCPIZZA_MEDIA_ROOT"
# Backups hold the customers' personal data: root's only (backup.sh runs as root).
install -d -m 700 -o root -g root "$OCPIZZA_BACKUP_DIR"
# Logs (Supervisor writes them as root) may show e-mail addresses and tokens in URLs: readable by
# root and the adm group (Ubuntu's log readers) only. Existing files get 640 too; the files
# Supervisor creates when it rotates them stay out of reach in the 750 folder.
log_group=adm
getent group "$log_group" >/dev/null || log_group=root
install -d -m 750 -o root -g "$log_group" "$OCPIZZA_LOG_DIR"
for log in gunicorn-access.log gunicorn-error.log worker.log; do
  [ -e "$OCPIZZA_LOG_DIR/$log" ] || install -m 640 -o root -g "$log_group" /dev/null "$OCPIZZA_LOG_DIR/$log"
done
find "$OCPIZZA_LOG_DIR" -maxdepth 1 -type f -name '*.log*' -exec chown root:"$log_group" {} + -exec chmod 640 {} +
say "folders ready under $OCPIZZA_ROOT, logs in $OCPIZZA_LOG_DIR, backups in $OCPIZZA_BACKUP_DIR"

# --- 3. Recorded configuration (read back by update.sh, backup.sh and cron) ---------------------
{
  echo "# Written by deploy/web.sh. Values of the OC Pizza installation; the environment wins."
  for name in "${OCPIZZA_CONFIG_VARS[@]}"; do
    # shellcheck disable=SC2016 # the line is meant to be sourced later, not expanded now
    printf ': "${%s:=%s}"\n' "$name" "$(printf '%s' "${!name}" | sed 's/[\\"$`]/\\&/g')"
  done
} >"$work/deploy.conf"
install_file "$work/deploy.conf" "$OCPIZZA_CONF" 644

# --- 4. The .env file (secrets: created once, never overwritten) --------------------------------
[ ! -L "$OCPIZZA_ENV_FILE" ] || die "$OCPIZZA_ENV_FILE is a symbolic link: replace it with the file itself."
if [ -f "$OCPIZZA_ENV_FILE" ]; then
  # Secrets: whatever an editor or a copy did to the file, root:ocpizza 640 again on every run.
  chown root:"$OCPIZZA_USER" "$OCPIZZA_ENV_FILE"
  chmod 640 "$OCPIZZA_ENV_FILE"
  say "kept as it is (root:$OCPIZZA_USER, 640): $OCPIZZA_ENV_FILE"
else
  secret="$(openssl rand -base64 48 | tr -d '\n/+=' | cut -c1-60)"
  sed -e "s|^DJANGOSECRETKEY=.*|DJANGOSECRETKEY=$secret|" \
      -e "s|^STATIC_ROOT=.*|STATIC_ROOT=$OCPIZZA_STATIC_ROOT|" \
      -e "s|^MEDIA_ROOT=.*|MEDIA_ROOT=$OCPIZZA_MEDIA_ROOT|" \
      "$SOURCE_DIR/.env.example" >"$work/env"
  install -m 640 -o root -g "$OCPIZZA_USER" "$work/env" "$OCPIZZA_ENV_FILE"
  warn "$OCPIZZA_ENV_FILE created from .env.example with a new DJANGOSECRETKEY:"
  warn "  edit it now (DATABASE_URL password, SENTRY_DSN, NEW_RELIC_LICENSE_KEY, GOOGLEAPIKEY...)."
fi

# --- 5. TLS certificate -------------------------------------------------------------------------
tls_cert="$OCPIZZA_TLS_CERT"
tls_key="$OCPIZZA_TLS_KEY"
if [ ! -r "$tls_cert" ] || [ ! -r "$tls_key" ]; then
  tls_dir="${OCPIZZA_PREFIX}/etc/ocpizza/tls"
  tls_cert="$tls_dir/selfsigned.crt"
  tls_key="$tls_dir/selfsigned.key"
  if [ ! -r "$tls_cert" ] || [ ! -r "$tls_key" ]; then
    install -d -m 700 "$tls_dir"
    first_name="${OCPIZZA_SERVER_NAMES%% *}"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$first_name" \
      -keyout "$tls_key" -out "$tls_cert" 2>/dev/null
    chmod 600 "$tls_key"
  fi
  warn "no certificate at $OCPIZZA_TLS_CERT yet: HTTPS uses a temporary self-signed one."
  warn "  Get the real one with certbot (docs/exploitation.md, section 4.4), then run web.sh again."
fi

# --- 6. Nginx site and Supervisor program -------------------------------------------------------
# shellcheck disable=SC2034 # used by render, through ${!name}
OCPIZZA_HTTP_LISTEN="${OCPIZZA_LISTEN_ADDRESS:+$OCPIZZA_LISTEN_ADDRESS:}$OCPIZZA_HTTP_PORT"
# shellcheck disable=SC2034
OCPIZZA_HTTPS_LISTEN="${OCPIZZA_LISTEN_ADDRESS:+$OCPIZZA_LISTEN_ADDRESS:}$OCPIZZA_HTTPS_PORT"
# Rendering only: the recorded configuration keeps the Let's Encrypt paths for the next run.
OCPIZZA_TLS_CERT="$tls_cert" OCPIZZA_TLS_KEY="$tls_key" render "$DEPLOY_DIR/nginx/ocpizza" >"$work/site"
render "$DEPLOY_DIR/nginx/ocpizza-headers.conf" >"$work/headers"
render "$DEPLOY_DIR/supervisor/ocpizza.conf" >"$work/supervisor"
cat >"$work/cron" <<EOF
# OC Pizza: daily backup of the database and the uploaded files, kept $OCPIZZA_BACKUP_DAYS days
# (installed by deploy/web.sh). Run as root from the root-owned copy, never from a release.
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
$OCPIZZA_BACKUP_TIME * * * root OCPIZZA_CONF=$OCPIZZA_CONF $OCPIZZA_SCRIPTS_DIR/backup.sh --quiet
# Wagtail's scheduled publishing (pages and promotions with a "go live" date), every 5 minutes.
*/5 * * * * $OCPIZZA_USER $OCPIZZA_VENV/bin/python $OCPIZZA_CURRENT/deploy/with_env.py $OCPIZZA_ENV_FILE $OCPIZZA_VENV/bin/python $OCPIZZA_CURRENT/manage.py publish_scheduled
# Orders not paid online in time are cancelled and their stock released, every minute (safe twice).
* * * * * $OCPIZZA_USER $OCPIZZA_VENV/bin/python $OCPIZZA_CURRENT/deploy/with_env.py $OCPIZZA_ENV_FILE $OCPIZZA_VENV/bin/python $OCPIZZA_CURRENT/manage.py expire_unpaid_orders --verbosity 0
# Card payments compared with the provider's and repaired where safe (report for head office), hourly (safe twice).
17 * * * * $OCPIZZA_USER $OCPIZZA_VENV/bin/python $OCPIZZA_CURRENT/deploy/with_env.py $OCPIZZA_ENV_FILE $OCPIZZA_VENV/bin/python $OCPIZZA_CURRENT/manage.py reconcile_payments --days 7 --verbosity 0
EOF

install_file "$work/headers" "$OCPIZZA_NGINX_DIR/snippets/ocpizza-headers.conf" 644
install_file "$work/site" "$OCPIZZA_NGINX_DIR/sites-available/ocpizza" 644
mkdir -p "$OCPIZZA_NGINX_DIR/sites-enabled"
if [ "$(readlink "$OCPIZZA_NGINX_DIR/sites-enabled/ocpizza" 2>/dev/null)" != "$OCPIZZA_NGINX_DIR/sites-available/ocpizza" ]; then
  ln -sfn "$OCPIZZA_NGINX_DIR/sites-available/ocpizza" "$OCPIZZA_NGINX_DIR/sites-enabled/ocpizza"
  say "linked: $OCPIZZA_NGINX_DIR/sites-enabled/ocpizza"
fi
install_file "$work/supervisor" "$OCPIZZA_SUPERVISOR_DIR/$OCPIZZA_PROGRAM.conf" 644
install_file "$work/cron" "$OCPIZZA_CRON_FILE" 644
install_tools "$DEPLOY_DIR" "$OCPIZZA_SCRIPTS_DIR"
say "backup script copied to $OCPIZZA_SCRIPTS_DIR (root's, run by cron)"

# --- 7. Check, then reload ----------------------------------------------------------------------
nginx_conf="$OCPIZZA_NGINX_DIR/nginx.conf"
if [ -f "$nginx_conf" ]; then
  if ! nginx -t -q -c "$nginx_conf"; then
    roll_back
    die "nginx -t refused the configuration: the previous files are back, nothing was reloaded."
  fi
  say "nginx -t: configuration OK"
else
  warn "$nginx_conf not found: Nginx configuration not checked."
fi
for f in "${changed[@]}"; do rm -f "$f.previous"; done

if [ "$reload" -eq 0 ]; then
  say "--no-reload: Nginx and Supervisor not reloaded."
else
  if has_systemd; then
    systemctl reload-or-restart nginx && say "Nginx reloaded"
  elif nginx -s reload -c "$nginx_conf" 2>/dev/null; then
    say "Nginx reloaded"
  else
    warn "Nginx is not running: start it (systemctl start nginx)."
  fi

  if supervisor_running; then
    supctl reread >/dev/null
    supctl update
    say "Supervisor updated"
  elif has_systemd; then
    systemctl enable --now supervisor && say "Supervisor started"
  else
    warn "Supervisor is not running: start it (systemctl start supervisor)."
  fi
fi

if [ ! -e "$OCPIZZA_CURRENT" ]; then
  say "No release installed yet. Next: fill in $OCPIZZA_ENV_FILE, then run deploy/update.sh."
fi
say "web.sh finished."
