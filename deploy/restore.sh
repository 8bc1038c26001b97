#!/usr/bin/env bash
# OC Pizza: restore a dump written by backup.sh (or a plain SQL dump) after a confirmation.
set -euo pipefail

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  cat <<'EOF'
Usage: deploy/restore.sh [--db NAME | --new-db NAME [--owner ROLE]] [--yes] DUMP

Restores DUMP, a file of backup.sh (custom format, ocpizza_*.dump) or a plain SQL dump:
  --db NAME       into the existing database NAME (default: $OCPIZZA_DB, ocpizza): its current
                  tables are dropped and replaced, in one transaction (all or nothing).
                  Stop the application first: sudo supervisorctl stop ocpizza
  --new-db NAME   into a new database NAME, created here, owned by ROLE (default: ocpizza);
                  the live database is not touched. Point DATABASE_URL at it to use it.
  --yes           do not ask for confirmation (scripts); without it the database name must be
                  typed at the prompt.

Run as root or as the postgres user. The server is reached the usual libpq way (local socket and
peer authentication, or PGHOST, PGPORT, PGUSER, PGPASSWORD).
The manual's plain route still works for a plain SQL file:  psql ocpizza < dump.sql
(and pg_restore -f dump.sql ocpizza_....dump turns a backup.sh file into such a file).
EOF
}

# shellcheck source=deploy/lib.sh
. "$DEPLOY_DIR/lib.sh"

target="$OCPIZZA_DB"
new_db=""
owner="ocpizza"
assume_yes=0
dump=""
while [ $# -gt 0 ]; do
  case "$1" in
    --db) [ $# -ge 2 ] || { usage >&2; exit 2; }; target="$2"; shift 2 ;;
    --new-db) [ $# -ge 2 ] || { usage >&2; exit 2; }; new_db="$2"; target="$2"; shift 2 ;;
    --owner) [ $# -ge 2 ] || { usage >&2; exit 2; }; owner="$2"; shift 2 ;;
    --yes) assume_yes=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) printf 'Unknown option: %s\n\n' "$1" >&2; usage >&2; exit 2 ;;
    *) [ -z "$dump" ] || { usage >&2; exit 2; }; dump="$1"; shift ;;
  esac
done
[ -n "$dump" ] || { usage >&2; exit 2; }
[ -r "$dump" ] || die "cannot read $dump"

# A custom-format dump starts with PGDMP; anything else is taken as SQL text for psql.
if [ "$(head -c 5 "$dump")" = PGDMP ]; then format=custom; else format=sql; fi

db_exists() {
  [ "$(as_db_user psql --no-password -X -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '${1//\'/\'\'}'")" = 1 ]
}
if [ -n "$new_db" ]; then
  ! db_exists "$new_db" || die "database $new_db already exists: choose another name, or use --db $new_db."
else
  db_exists "$target" || die "database $target does not exist: use --new-db $target to create it."
fi

cat <<EOF
Dump      : $dump ($format format, $(du -h "$dump" | cut -f1), $(date -r "$dump" '+%Y-%m-%d %H:%M'))
Database  : $target $(if [ -n "$new_db" ]; then echo "(new, owner $owner)"; else echo "(EXISTING: its data will be REPLACED)"; fi)
EOF
if [ "$assume_yes" -eq 0 ]; then
  [ -t 0 ] || die "no terminal to confirm: run it in a terminal or pass --yes."
  read -r -p "Type the database name ($target) to go on: " answer
  [ "$answer" = "$target" ] || die "not confirmed: nothing was changed."
fi

if [ -n "$new_db" ]; then
  as_db_user createdb --no-password --owner="$owner" --encoding=UTF8 --template=template0 "$new_db"
  say "database $new_db created"
fi

say "restoring into $target..."
if [ "$format" = custom ]; then
  # Read by this shell, so the postgres user needs no access to the dump's folder.
  as_db_user pg_restore --no-password --dbname="$target" --clean --if-exists \
    --single-transaction --exit-on-error <"$dump"
else
  as_db_user psql --no-password -X -q -v ON_ERROR_STOP=1 --single-transaction -d "$target" <"$dump" >/dev/null
fi
as_db_user vacuumdb --no-password --analyze-only --quiet --dbname="$target"
say "restore finished: $target"
if [ -n "$new_db" ]; then
  say "to use it: set DATABASE_URL=.../$new_db in $OCPIZZA_ENV_FILE, then: supervisorctl restart $OCPIZZA_PROGRAM"
else
  say "start the application again if it was stopped: supervisorctl start $OCPIZZA_PROGRAM"
fi
