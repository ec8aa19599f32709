#!/usr/bin/env bash
# Writes requirements/<name>.lock: every package pinned, with the sha256 of each of its published files, so an
# install (scripts/envs.sh, uv or pip with --require-hashes) gets exactly these bytes or stops.
#   scripts/lock.sh            add hashes to the current pins (nothing is upgraded)
#   scripts/lock.sh --upgrade  resolve requirements/<name>.in again (newest versions that fit), then hash
# Needs uv (scripts/envs.sh installs it into ~/.cache/settle/tools) and the package index.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
UV="$("$ROOT/scripts/envs.sh" --print-uv)"
for name in app rasa; do
    if [ "${1:-}" = "--upgrade" ]; then
        source_file="$ROOT/requirements/$name.in"; deps=()
    else
        source_file="$ROOT/requirements/$name.lock"; deps=(--no-deps)
    fi
    "$UV" pip compile --quiet "$source_file" "${deps[@]}" --generate-hashes --python-version 3.10 --no-header \
        -o "$ROOT/requirements/$name.lock.new"
    mv "$ROOT/requirements/$name.lock.new" "$ROOT/requirements/$name.lock"
done
