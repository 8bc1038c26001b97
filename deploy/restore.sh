#!/usr/bin/env bash
# OC Pizza: restore a backup written by backup.sh (or a plain SQL dump) after a confirmation.
set -euo pipefail

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  cat <<'EOF_USAGE'
Usage: sudo deploy/restore.sh [--db NAME | --new-db NAME [--owner ROLE]] [--force] [--no-media]
                              [--no-migrate] [--yes] DUMP

Restores DUMP, a file of backup.sh (custom format, ocpizza_*.dump) or a plain SQL dump:
  --db NAME       into the existing database NAME (default: $OCPIZZA_DB, ocpizza). Refused while
                  the application runs: sudo supervisorctl stop ocpizza ocpizza-worker first.
                  Then, in this order:
                  1. a safety backup of NAME and of the uploaded files (backup.sh), whose paths
                     are printed: restoring it undoes this restore;
                  2. NAME's schema is dropped and created again, and DUMP restored into it, in one
                     transaction (all or nothing): no table of a later release survives;
                  3. the uploaded files (MEDIA_ROOT) are replaced by the archive written with the
                     dump (ocpizza_*.media.tar next to it), when there is one;
                  4. manage.py migrate of the installed release brings the schema forward.
  --new-db NAME   into a new database NAME, created here, owned by ROLE (default: ocpizza);
                  the live database and the uploaded files are not touched.
  --force         restore into the live database even though the application is running.
  --no-media      leave the uploaded files as they are.
  --no-migrate    do not run manage.py migrate afterwards.
  --yes           do not ask for confirmation (scripts); without it the database name must be
                  typed at the prompt.

Run as root. psql runs as the backup user ($OCPIZZA_BACKUP_USER, postgres) with peer
authentication, or the usual libpq way (PGHOST, PGPORT, PGUSER): no password anywhere.
The manual's plain route still works for a plain SQL file:  psql ocpizza < dump.sql
(and pg_restore -f dump.sql ocpizza_....dump turns a backup.sh file into such a file).
EOF_USAGE
}

# shellcheck source=deploy/lib.sh
. "$DEPLOY_DIR/lib.sh"

target="$OCPIZZA_DB"
new_db=""
owner="ocpizza"
assume_yes=0
force=0
with_media=1
migrate=1
dump=""
while [ $# -gt 0 ]; do
  case "$1" in
    --db) [ $# -ge 2 ] || { usage >&2; exit 2; }; target="$2"; shift 2 ;;
    --new-db) [ $# -ge 2 ] || { usage >&2; exit 2; }; new_db="$2"; target="$2"; shift 2 ;;
    --owner) [ $# -ge 2 ] || { usage >&2; exit 2; }; owner="$2"; shift 2 ;;
    --force) force=1; shift ;;
    --no-media) with_media=0; shift ;;
    --no-migrate) migrate=0; shift ;;
    --yes) assume_yes=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) printf 'Unknown option: %s\n\n' "$1" >&2; usage >&2; exit 2 ;;
    *) [ -z "$dump" ] || { usage >&2; exit 2; }; dump="$1"; shift ;;
  esac
done
[ -n "$dump" ] || { usage >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "restore.sh must run as root (sudo)."
[ -r "$dump" ] || die "cannot read $dump"

# A custom-format dump starts with PGDMP; anything else is taken as SQL text for psql.
if [ "$(head -c 5 "$dump")" = PGDMP ]; then format=custom; else format=sql; fi

db_exists() {
  [ "$(as_db_user psql --no-password -X -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '${1//\'/\'\'}'")" = 1 ]
}
media_archive=""
if [ -n "$new_db" ]; then
  ! db_exists "$new_db" || die "database $new_db already exists: choose another name, or use --db $new_db."
else
  db_exists "$target" || die "database $target does not exist: use --new-db $target to create it."
  if app_running && [ "$force" -eq 0 ]; then
    die "the application is running and may write while the database is replaced. Stop it first:
  sudo supervisorctl stop $OCPIZZA_PROGRAM $OCPIZZA_PROGRAM-worker
(or pass --force to restore all the same). Nothing was changed."
  fi
  if [ "$with_media" -eq 1 ] && [ "$format" = custom ] && [ -f "${dump%.dump}.media.tar" ]; then
    media_archive="${dump%.dump}.media.tar"
  fi
fi

cat <<EOF_SUMMARY
Dump      : $dump ($format format, $(du -h "$dump" | cut -f1), $(date -r "$dump" '+%Y-%m-%d %H:%M'))
Database  : $target $(if [ -n "$new_db" ]; then echo "(new, owner $owner)"; else echo "(EXISTING: its data will be REPLACED, after a safety backup)"; fi)
EOF_SUMMARY
if [ -z "$new_db" ]; then
  if [ -n "$media_archive" ]; then
    echo "Media     : $OCPIZZA_MEDIA_ROOT will be REPLACED by $media_archive"
  else
    echo "Media     : $OCPIZZA_MEDIA_ROOT left as it is ($(if [ "$with_media" -eq 0 ]; then echo "--no-media"; else echo "no .media.tar next to the dump"; fi))"
  fi
fi
if [ "$assume_yes" -eq 0 ]; then
  [ -t 0 ] || die "no terminal to confirm: run it in a terminal or pass --yes."
  read -r -p "Type the database name ($target) to go on: " answer
  [ "$answer" = "$target" ] || die "not confirmed: nothing was changed."
fi

# Beside the backups (root's, on the big disk): the SQL holds the customers' personal data.
[ -d "$OCPIZZA_BACKUP_DIR" ] || install -d -m 700 -o root -g root "$OCPIZZA_BACKUP_DIR"
work="$(mktemp -d "$OCPIZZA_BACKUP_DIR/.restore.XXXXXX")"
trap 'rm -rf "$work"' EXIT

if [ -n "$new_db" ]; then
  as_db_user createdb --no-password --owner="$owner" --encoding=UTF8 --template=template0 "$new_db"
  say "database $new_db created"
else
  say "safety backup of $target and $OCPIZZA_MEDIA_ROOT before replacing them..."
  mapfile -t safety < <("$DEPLOY_DIR/backup.sh" --db "$target" --no-prune --quiet)
  if [ "${#safety[@]}" -ne 2 ] || [ ! -s "${safety[0]}" ]; then
    die "the safety backup failed: nothing was changed."
  fi
  say "safety backup: ${safety[0]} (and ${safety[1]})"
  say "  to undo this restore: sudo $0 --yes ${safety[0]}"
fi

# The SQL to run, in one transaction: a fresh public schema, then the dump. Written out in full
# first, so that a dump pg_restore cannot read to the end never reaches the database.
{
  cat <<'SQL'
DROP SCHEMA IF EXISTS public CASCADE;
CREATE SCHEMA public;
SELECT format('ALTER SCHEMA public OWNER TO %I', pg_get_userbyid(datdba))
  FROM pg_database WHERE datname = current_database() \gexec
GRANT USAGE ON SCHEMA public TO PUBLIC;
SQL
  if [ "$format" = custom ]; then pg_restore --file=- "$dump"; else cat "$dump"; fi
} >"$work/restore.sql"

say "restoring into $target (fresh schema, one transaction)..."
# Read by this shell, so the postgres user needs no access to the dump's folder.
as_db_user psql --no-password -X -q -v ON_ERROR_STOP=1 --single-transaction -d "$target" \
  <"$work/restore.sql" >/dev/null
rm -f "$work/restore.sql"
as_db_user vacuumdb --no-password --analyze-only --quiet --dbname="$target"
say "database restored: $target"

if [ -n "$media_archive" ]; then
  # Unpacked beside the live folder, then swapped in: a broken archive leaves the files as they were.
  incoming="${OCPIZZA_MEDIA_ROOT}.restoring"
  outgoing="${OCPIZZA_MEDIA_ROOT}.replaced"
  rm -rf "$incoming" "$outgoing"
  install -d -m 700 "$incoming"
  tar --extract --file="$media_archive" --directory="$incoming" --same-owner --same-permissions
  chown --reference="$OCPIZZA_MEDIA_ROOT" "$incoming"
  chmod --reference="$OCPIZZA_MEDIA_ROOT" "$incoming"
  mv -T "$OCPIZZA_MEDIA_ROOT" "$outgoing"
  mv -T "$incoming" "$OCPIZZA_MEDIA_ROOT"
  rm -rf "$outgoing"
  say "uploaded files restored: $OCPIZZA_MEDIA_ROOT"
fi

if [ -n "$new_db" ]; then
  say "to use it: set DATABASE_URL=.../$new_db in $OCPIZZA_ENV_FILE, then: supervisorctl restart $OCPIZZA_PROGRAM"
  exit 0
fi
if [ "$migrate" -eq 1 ] && [ "$target" = "$OCPIZZA_DB" ] && [ -f "$OCPIZZA_CURRENT/manage.py" ]; then
  say "manage.py migrate: bringing the restored schema up to the installed release..."
  (cd "$OCPIZZA_CURRENT" && "$OCPIZZA_VENV/bin/python" manage.py migrate --noinput)
else
  warn "manage.py migrate was not run: run it before starting the application."
fi
say "restore finished. Start the application again: sudo supervisorctl start $OCPIZZA_PROGRAM $OCPIZZA_PROGRAM-worker"
