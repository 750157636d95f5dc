#!/bin/sh
# Runs on every `docker compose up` (postgres image, as the superuser): makes sure Temporal's own
# role and its two databases exist. Idempotent. The role's password follows TEMPORAL_DB_PASSWORD.
set -eu
: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD is not set}"

psql -v ON_ERROR_STOP=1 -v pw="$TEMPORAL_DB_PASSWORD" <<'SQL'
SELECT 'CREATE ROLE temporal LOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'temporal')\gexec
ALTER ROLE temporal WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'pw';
SELECT 'CREATE DATABASE temporal OWNER temporal'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'temporal')\gexec
SELECT 'CREATE DATABASE temporal_visibility OWNER temporal'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'temporal_visibility')\gexec
SQL
echo 'Temporal role and databases are in place'
