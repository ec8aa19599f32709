#!/bin/bash
# First start: initdb, an application role POSTGRES_APP_USER whose password is the file POSTGRES_APP_PASSWORD_FILE
# (never an argument or variable), and the databases POSTGRES_DATABASES (space-separated) owned by it. The
# superuser `postgres` can only connect over the local socket inside the container (peer). Then runs postgres.
set -euo pipefail
: "${POSTGRES_APP_USER:=settle}" "${POSTGRES_DATABASES:=settle settle_tracker}"
: "${POSTGRES_APP_PASSWORD_FILE:=/run/secrets/postgres_password}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    [ -r "$POSTGRES_APP_PASSWORD_FILE" ] || { echo "postgres: cannot read $POSTGRES_APP_PASSWORD_FILE" >&2; exit 1; }
    initdb -D "$PGDATA" -U postgres --auth-local=peer --auth-host=reject -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >"$PGDATA/pg_hba.conf" <<HBA
local all postgres peer
host  all $POSTGRES_APP_USER 0.0.0.0/0 scram-sha-256
host  all $POSTGRES_APP_USER ::/0 scram-sha-256
HBA
    pg_ctl -D "$PGDATA" -w -o "-c listen_addresses=''" start >/dev/null
    {
        # psql reads the password from the file itself (\set with backticks), so it is in no command line.
        echo "\\set pw \`cat $POSTGRES_APP_PASSWORD_FILE\`"
        echo "CREATE ROLE \"$POSTGRES_APP_USER\" LOGIN PASSWORD :'pw';"
        for db in $POSTGRES_DATABASES; do echo "CREATE DATABASE \"$db\" OWNER \"$POSTGRES_APP_USER\";"; done
    } | psql -v ON_ERROR_STOP=1 -q -U postgres -d postgres
    pg_ctl -D "$PGDATA" -w -m fast stop >/dev/null
    echo "postgres: initialised; role $POSTGRES_APP_USER, databases: $POSTGRES_DATABASES"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c password_encryption=scram-sha-256 -c jit=off "$@"
