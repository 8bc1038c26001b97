#!/usr/bin/env bash
# OC Pizza: dump the database (pg_dump, custom format, compressed) and archive the uploaded files
# (MEDIA_ROOT: images and documents), then remove the backups older than the retention period.
# Run daily as root by cron (cron.d/ocpizza, installed by web.sh) and by update.sh.
set -Eeuo pipefail

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  cat <<'EOF_USAGE'
Usage: sudo deploy/backup.sh [--db NAME] [--dir DIR] [--keep-days N] [--no-prune] [--quiet] [--help]

Writes, side by side, one backup made of two files with the same date:
  DIR/ocpizza_YYYY-MM-DD_HHMMSS.dump        the database (pg_dump custom format, compressed)
  DIR/ocpizza_YYYY-MM-DD_HHMMSS.media.tar   the uploaded files (MEDIA_ROOT: images, documents)
checks that pg_restore and tar can read them back, then deletes the backups older than N days.
Prints the two new files' paths, one per line (the dump first).
A failure is written to DIR/backup.log and to syslog (tag ocpizza-backup) and exits non-zero;
old backups are only removed after a good one was written.

  --db NAME       database to dump (default: $OCPIZZA_DB, ocpizza)
  --dir DIR       where backups go (default: $OCPIZZA_BACKUP_DIR, /var/backups/ocpizza)
  --keep-days N   retention in days (default: $OCPIZZA_BACKUP_DAYS, 10)
  --no-prune      remove no old backup (restore.sh's safety backup)
  --quiet         print nothing but the paths and errors (for cron)

Run as root: the uploaded files are readable by the application and root only. DIR is root's
(mode 700). pg_dump runs as the backup user ($OCPIZZA_BACKUP_USER, postgres) with peer
authentication: no password anywhere. The server is reached the usual libpq way (local socket, or
PGHOST, PGPORT, PGUSER from the environment).
EOF_USAGE
}

# shellcheck source=deploy/lib.sh
. "$DEPLOY_DIR/lib.sh"

quiet=0
prune=1
while [ $# -gt 0 ]; do
  case "$1" in
    --db) [ $# -ge 2 ] || { usage >&2; exit 2; }; OCPIZZA_DB="$2"; shift 2 ;;
    --dir) [ $# -ge 2 ] || { usage >&2; exit 2; }; OCPIZZA_BACKUP_DIR="$2"; shift 2 ;;
    --keep-days) [ $# -ge 2 ] || { usage >&2; exit 2; }; OCPIZZA_BACKUP_DAYS="$2"; shift 2 ;;
    --no-prune) prune=0; shift ;;
    --quiet) quiet=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) printf 'Unknown option: %s\n\n' "$1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $OCPIZZA_BACKUP_DAYS =~ ^[1-9][0-9]*$ ]] || die "--keep-days wants a whole number of days, not '$OCPIZZA_BACKUP_DAYS'."
[ "$(id -u)" -eq 0 ] || die "backup.sh must run as root (sudo): the uploaded files are not readable by others."

umask 077
[ -d "$OCPIZZA_BACKUP_DIR" ] || install -d -m 700 -o root -g root "$OCPIZZA_BACKUP_DIR"
log_file="$OCPIZZA_BACKUP_DIR/backup.log"

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

partials=()
on_error() {
  local status=$?
  [ "${#partials[@]}" -eq 0 ] || rm -f "${partials[@]}"
  log ERROR "backup of database '$OCPIZZA_DB' and $OCPIZZA_MEDIA_ROOT FAILED (exit $status); older backups kept."
  exit "$status"
}
trap on_error ERR

command -v pg_dump >/dev/null || { log ERROR "pg_dump is missing (apt-get install postgresql-client)"; exit 1; }
[ -d "$OCPIZZA_MEDIA_ROOT" ] || { log ERROR "$OCPIZZA_MEDIA_ROOT (MEDIA_ROOT) is missing: run web.sh"; exit 1; }

stamp="$(date '+%Y-%m-%d_%H%M%S')"
base="ocpizza_$stamp"
n=1
while [ -e "$OCPIZZA_BACKUP_DIR/$base.dump" ] || [ -e "$OCPIZZA_BACKUP_DIR/$base.media.tar" ]; do
  n=$((n + 1))  # two backups in the same second (update.sh right after cron)
  base="ocpizza_${stamp}-$n"
done
dump="$OCPIZZA_BACKUP_DIR/$base.dump"
media="$OCPIZZA_BACKUP_DIR/$base.media.tar"
partials=("$OCPIZZA_BACKUP_DIR/.$base.dump.partial" "$OCPIZZA_BACKUP_DIR/.$base.media.tar.partial")

# The database first: a file uploaded meanwhile is then at worst an unused extra in the archive,
# never a row pointing at a missing file.
log INFO "dumping database '$OCPIZZA_DB' to $dump"
# Written by this shell (the backup user is not allowed into the backup folder).
as_db_user pg_dump --format=custom --compress=6 --no-password --dbname="$OCPIZZA_DB" >"${partials[0]}"
pg_restore --list "${partials[0]}" >/dev/null

log INFO "archiving $OCPIZZA_MEDIA_ROOT to $media"
# Images and documents are compressed already: a plain tar is as small and much faster.
# Exit status 1 means a file changed while it was read (an upload): the archive is still good.
status=0
tar --create --file="${partials[1]}" --directory="$OCPIZZA_MEDIA_ROOT" --warning=no-file-changed . || status=$?
if [ "$status" -gt 1 ]; then (exit "$status"); fi
tar --list --file="${partials[1]}" >/dev/null

mv "${partials[0]}" "$dump"
mv "${partials[1]}" "$media"
partials=()
log INFO "done: $dump ($(du -h "$dump" | cut -f1)), $media ($(du -h "$media" | cut -f1))"

# Rotation: -mtime +N means "at least N+1 whole days old", so this keeps the last N days.
if [ "$prune" -eq 1 ]; then
  while IFS= read -r old; do
    rm -f "$old"
    log INFO "removed (older than $OCPIZZA_BACKUP_DAYS days): $old"
  done < <(find "$OCPIZZA_BACKUP_DIR" -maxdepth 1 -type f \( -name 'ocpizza_*.dump' -o -name 'ocpizza_*.media.tar' \) \
             -mtime +"$((OCPIZZA_BACKUP_DAYS - 1))")
  find "$OCPIZZA_BACKUP_DIR" -maxdepth 1 -type f -name '.ocpizza_*.partial' -mtime +0 -delete
fi

printf '%s\n%s\n' "$dump" "$media"
