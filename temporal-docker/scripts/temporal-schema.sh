#!/bin/sh
# Runs on every `docker compose up` (temporalio/admin-tools): installs or upgrades Temporal's schema
# in its two databases, as the official temporalio/samples-server compose does. Idempotent:
# setup-schema -v 0.0 is skipped once a newer version is recorded, update-schema applies only
# the missing versions (an image upgrade migrates the schema here, before the server starts).
set -eu
: "${SQL_PASSWORD:?SQL_PASSWORD is not set}"   # read by temporal-sql-tool

HOST="${POSTGRES_SEEDS:-postgres}"
PORT="${DB_PORT:-5432}"
USER_NAME="${POSTGRES_USER:-temporal}"
SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12

until nc -z "$HOST" "$PORT"; do echo "waiting for PostgreSQL at $HOST:$PORT..."; sleep 1; done

for pair in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
  db="${pair%%:*}"
  kind="${pair##*:}"
  echo "schema for database $db ($kind)"
  temporal-sql-tool --plugin postgres12 --ep "$HOST" -p "$PORT" -u "$USER_NAME" --db "$db" setup-schema -v 0.0
  temporal-sql-tool --plugin postgres12 --ep "$HOST" -p "$PORT" -u "$USER_NAME" --db "$db" \
    update-schema -d "$SCHEMA_ROOT/$kind/versioned"
done
echo 'Temporal schema is up to date'
