-- OC Pizza: the PostgreSQL role and database of the application. Safe to run again: it creates
-- what is missing and sets the ownership (and, with a password file, the password) of what exists.
--
--   sudo -u postgres psql -X < deploy/script_database.sql
--   sudo -u postgres psql -c '\password ocpizza'     (typed twice, sent already hashed: SCRAM)
--
-- (Read through root's shell, `<`: the postgres user may not enter the folder of the delivery.)
-- Without a terminal, the password can come from a file of mode 600 (or 400) that the user
-- running psql can read; the file's name is the only thing on the command line:
--
--   sudo -u postgres psql -X -v password_file=/var/lib/postgresql/ocpizza.password < deploy/script_database.sql
--
-- Optional variables: -v role=ocpizza -v dbname=ocpizza (the defaults).
-- The password never appears on a command line nor in this file; put the same value in
-- DATABASE_URL in .env.

\set ON_ERROR_STOP on
\set QUIET on

\if :{?role}
\else
  \set role ocpizza
\endif
\if :{?dbname}
\else
  \set dbname ocpizza
\endif
\if :{?password}
  \echo 'ERREUR: un mot de passe en ligne de commande reste visible (ps, historique du shell).'
  \echo 'Utilisez \\password ou -v password_file=FICHIER (mode 600) : voir l''en-tête de ce script.'
  DO $$ BEGIN RAISE EXCEPTION 'password given on the command line: refused'; END $$;
\endif

-- Checked before anything is created.
\if :{?password_file}
  \set password_file_mode `stat -c %a -- :'password_file' 2>/dev/null`
  SELECT :'password_file_mode' IN ('600', '400') AS password_file_private \gset
  \if :password_file_private
  \else
    \echo 'ERREUR: le fichier du mot de passe doit exister et n''être lisible que par son propriétaire (chmod 600):' :'password_file'
    DO $$ BEGIN RAISE EXCEPTION 'password file missing or readable by others'; END $$;
  \endif
\endif

SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEROLE', :'role') \gexec

\if :{?password_file}
  \set password `cat -- :'password_file'`
  -- Kept out of the server's log whatever log_statement says (this session only).
  SET log_statement = 'none';
  SET log_min_duration_statement = -1;
  -- Written as a literal by format(): psql variables are not expanded inside the statement text.
  SELECT format('ALTER ROLE %I PASSWORD %L', :'role', :'password') \gexec
  \unset password
  RESET log_statement;
  RESET log_min_duration_statement;
\endif

SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'dbname', :'role', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'dbname') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'dbname', :'role') \gexec
-- Only the owner (and superusers) may connect.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'dbname') \gexec

-- Since PostgreSQL 15 only the database owner may create tables in the public schema: make sure
-- the application's migrations can.
\connect :dbname
SELECT format('ALTER SCHEMA public OWNER TO %I', :'role') \gexec

\echo 'Base' :dbname 'et rôle' :role 'prêts.'
\if :{?password_file}
\else
  \echo 'Mot de passe du rôle, à taper deux fois (puis à reporter dans DATABASE_URL) :'
  \echo '  sudo -u postgres psql -c ''\\password' :role''''
\endif
