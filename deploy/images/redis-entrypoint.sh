#!/bin/bash
# Redis with a password from a file. Locks, leases, rate limits and pub/sub are all short-lived: no persistence.
set -euo pipefail
file="${REDIS_PASSWORD_FILE:-/run/secrets/redis_password}"
[ -r "$file" ] || { echo "redis: cannot read $file" >&2; exit 1; }
umask 077
{
    echo "bind 0.0.0.0 ::"
    echo "port 6379"
    echo "protected-mode yes"
    echo "dir /var/lib/redis"
    echo "save \"\""
    echo "appendonly no"
    printf 'requirepass "%s"\n' "$(cat "$file")"
} >/run/redis/redis.conf
exec redis-server /run/redis/redis.conf "$@"
