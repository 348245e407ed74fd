#!/bin/sh
# Runs once, when the compose PostgreSQL initialises its volume: the schema owner `sluice_owner`
# (no superuser; the `migrate` service connects as it) with its database `sluice`, and the runtime
# role `sluice_app` from docs/postgres-roles.sql (rows only, no DDL) for coordinators and workers.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$OWNER_PASSWORD" <<'SQL'
CREATE ROLE sluice_owner LOGIN PASSWORD :'owner_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE sluice OWNER sluice_owner;
SQL
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname sluice \
  -v owner_role=sluice_owner -v app_role=sluice_app -v app_password="$APP_PASSWORD" \
  -f /etc/sluice/postgres-roles.sql
