#!/bin/sh
# Temporal's two databases on its own PostgreSQL, made and brought to the schema of the
# admin-tools image's version with temporal-sql-tool (as Temporal's docker-compose
# examples do). Idempotent: `create` of an existing database and `setup-schema` of a
# versioned one are skipped; `update-schema` applies only the missing versions.
set -eu
SQL_PASSWORD="$(cat "$SQL_PASSWORD_FILE")"
export SQL_PASSWORD
schema=/etc/temporal/schema/postgresql/v12
tool() { temporal-sql-tool --plugin "$SQL_PLUGIN" --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" "$@"; }

until tool --db postgres validate-health 2>/dev/null; do
    echo "waiting for $SQL_HOST:$SQL_PORT"; sleep 2
done
for db in temporal temporal_visibility; do
    tool --db "$db" create 2>/dev/null || echo "database $db exists"
done
if ! tool --db temporal update-schema -d "$schema/temporal/versioned" 2>/dev/null; then
    tool --db temporal setup-schema -v 0.0
    tool --db temporal update-schema -d "$schema/temporal/versioned"
fi
if ! tool --db temporal_visibility update-schema -d "$schema/visibility/versioned" 2>/dev/null; then
    tool --db temporal_visibility setup-schema -v 0.0
    tool --db temporal_visibility update-schema -d "$schema/visibility/versioned"
fi
echo "temporal schema ready"
