#!/usr/bin/env bash
# Runs once from /docker-entrypoint-initdb.d when the warehouse volume is empty: roles and database.
set -euo pipefail
: "${CSTRACK_DB_PASSWORD:?set CSTRACK_DB_PASSWORD in infra/.env}"
: "${CSTRACK_REPORTER_PASSWORD:?set CSTRACK_REPORTER_PASSWORD in infra/.env}"
psql --username "$POSTGRES_USER" --dbname postgres \
    -v cstrack_password="$CSTRACK_DB_PASSWORD" \
    -v reporter_password="$CSTRACK_REPORTER_PASSWORD" \
    -f /opt/cstrack-init/init-warehouse.sql
