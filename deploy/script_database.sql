-- OC Pizza: the PostgreSQL role and database of the application. Safe to run again: it creates
-- what is missing and sets the password and ownership of what exists.
--
--   sudo -u postgres psql -v password='UN-MOT-DE-PASSE-LONG' -f deploy/script_database.sql
--
-- Optional variables: -v role=ocpizza -v dbname=ocpizza (the defaults).
-- The password is never written in this file; put the same value in DATABASE_URL in .env.

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
\else
  \echo 'ERREUR: pas de mot de passe. Relancez avec: psql -v password=... -f deploy/script_database.sql'
  DO $$ BEGIN RAISE EXCEPTION 'missing psql variable: password'; END $$;
\endif

SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
-- Written as a literal by format(): psql variables are not expanded inside the statement text.
SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEROLE PASSWORD %L', :'role', :'password') \gexec

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
