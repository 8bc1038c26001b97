#!/usr/bin/env bash
# OC Pizza: dump the database (pg_dump, custom format, compressed) and remove dumps older than
# the retention period. Run daily by cron (cron.d/ocpizza, installed by web.sh) and by update.sh.
set -Eeuo pipefail

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  cat <<'EOF'
Usage: deploy/backup.sh [--db NAME] [--dir DIR] [--keep-days N] [--quiet] [--help]

Writes DIR/ocpizza_YYYY-MM-DD_HHMMSS.dump (pg_dump custom format, compressed), checks that
pg_restore can read it, then deletes the dumps older than N days. Prints the new file's path.
A failure is written to DIR/backup.log and to syslog (tag ocpizza-backup) and exits non-zero;
old dumps are only removed after a good one was written.

  --db NAME       database to dump (default: $OCPIZZA_DB, ocpizza)
  --dir DIR       where dumps go (default: $OCPIZZA_BACKUP_DIR, /var/backups/ocpizza)
  --keep-days N   retention in days (default: $OCPIZZA_BACKUP_DAYS, 10)
  --quiet         print nothing but errors (for cron)

Run as root or as the postgres user. As root, DIR and DIR/backup.log are left to the backup user
($OCPIZZA_BACKUP_USER, postgres), so the nightly cron run can still write there. The server is
reached the usual libpq way: local socket and peer authentication by default, or PGHOST, PGPORT,
PGUSER, PGPASSWORD from the environment.
EOF
}

# shellcheck source=deploy/lib.sh
. "$DEPLOY_DIR/lib.sh"

quiet=0
while [ $# -gt 0 ]; do
  case "$1" in
    --db) [ $# -ge 2 ] || { usage >&2; exit 2; }; OCPIZZA_DB="$2"; shift 2 ;;
    --dir) [ $# -ge 2 ] || { usage >&2; exit 2; }; OCPIZZA_BACKUP_DIR="$2"; shift 2 ;;
    --keep-days) [ $# -ge 2 ] || { usage >&2; exit 2; }; OCPIZZA_BACKUP_DAYS="$2"; shift 2 ;;
    --quiet) quiet=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) printf 'Unknown option: %s\n\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $OCPIZZA_BACKUP_DAYS =~ ^[1-9][0-9]*$ ]] || die "--keep-days wants a whole number of days, not '$OCPIZZA_BACKUP_DAYS'."

umask 077
log_file="$OCPIZZA_BACKUP_DIR/backup.log"
# Cron runs this script as the backup user, update.sh and operators as root: what root creates here
# must stay the backup user's, or every later cron run fails to write its log.
if [ "$(id -u)" -eq 0 ] && [ "$OCPIZZA_BACKUP_USER" != root ]; then
  id "$OCPIZZA_BACKUP_USER" >/dev/null 2>&1 || die "the backup user $OCPIZZA_BACKUP_USER does not exist."
  [ -d "$OCPIZZA_BACKUP_DIR" ] || install -d -m 700 -o "$OCPIZZA_BACKUP_USER" -g "$(id -gn "$OCPIZZA_BACKUP_USER")" "$OCPIZZA_BACKUP_DIR"
  if [ "$(stat -c %U "$OCPIZZA_BACKUP_DIR")" != "$OCPIZZA_BACKUP_USER" ]; then
    warn "$OCPIZZA_BACKUP_DIR does not belong to $OCPIZZA_BACKUP_USER: the cron backup cannot write there."
  fi
  # Never follow a link planted in the folder; chown -h would only change the link itself anyway.
  if [ ! -L "$log_file" ]; then
    : >>"$log_file"
    chown -h "$OCPIZZA_BACKUP_USER:" "$log_file"
  fi
else
  mkdir -p "$OCPIZZA_BACKUP_DIR"
fi

log() {  # log LEVEL MESSAGE: to the log file, and to the terminal unless --quiet (errors always)
  local level="$1"; shift
  printf '%s [%s] %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$level" "$*" >>"$log_file" 2>/dev/null || true
  if [ "$level" = ERROR ]; then
    printf 'ERREUR: %s\n' "$*" >&2
    logger -t ocpizza-backup -p user.err "$*" 2>/dev/null || true
  elif [ "$quiet" -eq 0 ]; then
    printf '==> %s\n' "$*" >&2
  fi
}

partial=""
on_error() {
  local status=$?
  [ -z "$partial" ] || rm -f "$partial"
  log ERROR "backup of database '$OCPIZZA_DB' FAILED (exit $status); older dumps kept."
  exit "$status"
}
trap on_error ERR

command -v pg_dump >/dev/null || { log ERROR "pg_dump is missing (apt-get install postgresql-client)"; exit 1; }

stamp="$(date '+%Y-%m-%d_%H%M%S')"
name="ocpizza_$stamp.dump"
n=1
while [ -e "$OCPIZZA_BACKUP_DIR/$name" ]; do  # two backups in the same second (update.sh right after cron)
  n=$((n + 1))
  name="ocpizza_${stamp}-$n.dump"
done
dump="$OCPIZZA_BACKUP_DIR/$name"
partial="$OCPIZZA_BACKUP_DIR/.$name.partial"

log INFO "dumping database '$OCPIZZA_DB' to $dump"
# Written by this shell (the backup user may not be allowed into the folder of a test install).
as_db_user pg_dump --format=custom --compress=6 --no-password --dbname="$OCPIZZA_DB" >"$partial"
pg_restore --list "$partial" >/dev/null
mv "$partial" "$dump"
partial=""
log INFO "done: $dump ($(du -h "$dump" | cut -f1))"

# Rotation: -mtime +N means "at least N+1 whole days old", so this keeps the last N days.
while IFS= read -r old; do
  rm -f "$old"
  log INFO "removed (older than $OCPIZZA_BACKUP_DAYS days): $old"
done < <(find "$OCPIZZA_BACKUP_DIR" -maxdepth 1 -type f -name 'ocpizza_*.dump' -mtime +"$((OCPIZZA_BACKUP_DAYS - 1))")
find "$OCPIZZA_BACKUP_DIR" -maxdepth 1 -type f -name '.ocpizza_*.partial' -mtime +0 -delete

printf '%s\n' "$dump"
