#!/bin/sh
# One-shot schema setup for the Temporal server's PostgreSQL stores (docker-compose.yml, service temporal-schema),
# run in the temporalio/admin-tools image: create the two databases if missing, then bring both schemas to the
# version this admin-tools image ships. Idempotent: on an existing database it only applies newer schema versions.
# The password comes from SQL_PASSWORD (which temporal-sql-tool reads), never from a command line.
set -eu

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS must name the PostgreSQL host}"
: "${POSTGRES_USER:?POSTGRES_USER must be set}"
: "${SQL_PASSWORD:?SQL_PASSWORD must be set (the PostgreSQL password)}"
DB_PORT="${DB_PORT:-5432}"
SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12

echo "Waiting for PostgreSQL at ${POSTGRES_SEEDS}:${DB_PORT}..."
tries=0
until nc -z "${POSTGRES_SEEDS}" "${DB_PORT}"; do
  tries=$((tries + 1))
  if [ "${tries}" -ge 60 ]; then
    echo "PostgreSQL did not open ${POSTGRES_SEEDS}:${DB_PORT} within 60 s" >&2
    exit 1
  fi
  sleep 1
done

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "${POSTGRES_SEEDS}" -p "${DB_PORT}" -u "${POSTGRES_USER}" "$@"
}

for store in temporal:temporal visibility:temporal_visibility; do
  schema="${store%%:*}"
  db="${store#*:}"
  # `create` fails on an existing database; that is the state we want, and setup-schema below fails loudly if the
  # database is really unreachable.
  sql_tool --db "${db}" create || echo "database ${db} exists"
  sql_tool --db "${db}" setup-schema -v 0.0
  sql_tool --db "${db}" update-schema -d "${SCHEMA_ROOT}/${schema}/versioned"
done
echo "PostgreSQL schemas for Temporal are up to date."
