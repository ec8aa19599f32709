#!/usr/bin/env bash
# Creates, or reuses, the project's two Python 3.10 environments from the pinned lock files:
#   rasa: the Rasa server (rasa 3.6.21 pins Python <3.11, SQLAlchemy <1.5, TensorFlow 2.12)
#   app:  the gateway and the action server (rasa-sdk 3.6.2, SQLAlchemy 2, FastAPI, stripe, twilio)
# An environment lives in $SETTLE_CACHE/venvs/<name>-<hash of its lock file>, so a changed lock file
# builds a fresh one and an unchanged one is reused; .venv-rasa and .venv-app point at the current ones.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${SETTLE_CACHE:-$HOME/.cache/settle}"
mkdir -p "$CACHE/venvs"

find_python310() {
    local candidate
    for candidate in "${SETTLE_PYTHON310:-}" python3.10; do
        if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
            command -v "$candidate"; return 0
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        local version
        for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10\.[0-9]+$' | sort -t. -k3 -n -r); do
            candidate="$(pyenv prefix "$version")/bin/python"
            if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
        done
    fi
    return 1
}

ensure_env() {
    local name="$1" lock="$ROOT/requirements/$1.lock" python="$2"
    local hash dir
    hash="$( (cat "$lock"; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-12)"
    dir="$CACHE/venvs/$name-$hash"
    (
        flock 9
        if [ ! -f "$dir/.complete" ]; then
            echo "settle: creating the $name environment in $dir (first run only; takes a few minutes)" >&2
            rm -rf "$dir"
            "$python" -m venv "$dir"
            "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.0"
            "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$lock"
            touch "$dir/.complete"
        fi
    ) 9>"$CACHE/venvs/.$name.lock"
    ln -sfn "$dir" "$ROOT/.venv-$name"
}

PYTHON310="$(find_python310)" || {
    cat >&2 <<'MSG'
settle: no Python 3.10 found. rasa 3.6.21 runs only on Python 3.10.
  Install one (for example `pyenv install 3.10.13`, or your system's python3.10 package),
  or point SETTLE_PYTHON310 at a python3.10 executable, then run this again.
MSG
    exit 1
}

for name in "${@:-rasa app}"; do
    for n in $name; do ensure_env "$n" "$PYTHON310"; done
done
