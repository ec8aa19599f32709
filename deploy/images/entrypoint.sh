#!/bin/sh
# Every Settle image's entrypoint: secrets come as files (compose `secrets:`, Kubernetes secret volumes), named by
# NAME_FILE, and are read here into NAME for this process only, so that they appear in no compose file, no
# `podman inspect` environment listing and no command line. NAME set already wins; a NAME_FILE that cannot be read
# stops the start, naming it. Then it runs the command it was given.
set -eu
for assignment in $(env | grep -E '^[A-Z][A-Z0-9_]*_FILE=/run/secrets/' | cut -d= -f1); do
    name="${assignment%_FILE}"
    file="$(printenv "$assignment")"
    if [ -z "$(printenv "$name" || true)" ]; then
        [ -r "$file" ] || { echo "settle-entrypoint: $assignment names $file, which cannot be read" >&2; exit 1; }
        value="$(cat "$file")"
        export "$name=$value"
    fi
    unset "$assignment"
done
exec "$@"
