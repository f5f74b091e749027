#!/bin/sh
# First start of the event store's PostgreSQL (docker-entrypoint-initdb.d): the owner of
# zhenggai's schema, who runs the migrations and makes the process logins (CREATEROLE),
# and its database. The password comes from a secret file, never from the compose file.
set -eu
password="$(cat "${ZHENGGAI_OWNER_PASSWORD_FILE:-/run/secrets/zhenggai_owner_password}")"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v owner_password="$password" <<'SQL'
CREATE ROLE zhenggai_owner LOGIN CREATEROLE PASSWORD :'owner_password';
CREATE DATABASE zhenggai OWNER zhenggai_owner;
REVOKE ALL ON DATABASE zhenggai FROM PUBLIC;
SQL
