#!/usr/bin/env bash
# Creates, or reuses, the project's two environments from the hash-pinned lock files:
#   rasa: the Rasa server, Python 3.10 (rasa 3.6.21, the last open-source release, pins Python <3.11,
#         SQLAlchemy <1.5, TensorFlow 2.12): requirements/rasa.lock
#   app:  the gateway, the action server and the jobs, Python 3.12 (the newest rasa-sdk, SQLAlchemy 2, FastAPI,
#         stripe, twilio): requirements/app.lock, plus the development and test tools of requirements/dev.lock
# An environment lives in $SETTLE_CACHE/venvs/<name>-<hash of its lock files>, so a changed lock file
# builds a fresh one and an unchanged one is reused; .venv-rasa and .venv-app point at the current ones.
# The two are built at the same time by uv (about a minute each on 2 cores, against pip's several), itself
# installed once from requirements/uv.lock; with SETTLE_INSTALLER=pip, or when uv cannot be installed, pip does it.
# Every file installed must match a sha256 in the lock (--require-hashes). scripts/lock.sh writes the locks.
#   scripts/envs.sh [rasa] [app]   build those (default both)
#   scripts/envs.sh --print-uv     install uv if needed and print its path
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${SETTLE_CACHE:-$HOME/.cache/settle}"
mkdir -p "$CACHE/venvs"

# find_python MINOR: a CPython 3.MINOR executable: $SETTLE_PYTHON3<MINOR>, python3.MINOR on the PATH, or pyenv's newest.
find_python() {
    local minor="$1" candidate override="SETTLE_PYTHON3$1"
    for candidate in "${!override:-}" "python3.$minor"; do
        if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c "import sys; sys.exit(sys.version_info[:2] != (3, $minor))" 2>/dev/null; then
            command -v "$candidate"; return 0
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        local version
        for version in $(pyenv versions --bare 2>/dev/null | grep -E "^3\.$minor\.[0-9]+\$" | sort -t. -k3 -n -r); do
            candidate="$(pyenv prefix "$version")/bin/python"
            if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
        done
    fi
    return 1
}

ensure_uv() {
    # uv in a venv of its own, keyed by its lock; prints its path, or fails (the caller falls back to pip).
    local lock="$ROOT/requirements/uv.lock" dir
    dir="$CACHE/tools/uv-$(sha256sum "$lock" | cut -c1-12)"
    (
        flock 9
        if [ ! -f "$dir/.complete" ]; then
            rm -rf "$dir"
            "$PYTHON310" -m venv "$dir" >&2
            "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r "$lock" >&2
            touch "$dir/.complete"
        fi
    ) 9>"$CACHE/.uv.lock" || return 1
    echo "$dir/bin/uv"
}

ensure_env() {
    local name="$1" python="$2" hash dir started locks=()
    if [ "$name" = app ]; then
        locks=("$ROOT/requirements/app.lock" "$ROOT/requirements/dev.lock")
    else
        locks=("$ROOT/requirements/$name.lock")
    fi
    hash="$( (cat "${locks[@]}"; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-12)"
    dir="$CACHE/venvs/$name-$hash"
    (
        flock 9
        if [ ! -f "$dir/.complete" ]; then
            started=$SECONDS
            echo "settle: creating the $name environment with ${UV:-pip} (first run only; about 30 s with uv," \
                 "4-6 with pip)" >&2
            rm -rf "$dir"
            "$python" -m venv "$dir"
            local requirements=()
            for lock in "${locks[@]}"; do requirements+=(-r "$lock"); done
            if [ -n "$UV" ]; then
                # No --compile-bytecode: it compiles all of TensorFlow; the first start compiles only what it imports.
                "$UV" pip install --quiet --python "$dir/bin/python" --require-hashes --no-deps "${requirements[@]}"
            else
                "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
                    "${requirements[@]}"
            fi
            touch "$dir/.complete"
            echo "settle: the $name environment is ready ($((SECONDS - started)) s)" >&2
        fi
    ) 9>"$CACHE/venvs/.$name.lock"
    ln -sfn "$dir" "$ROOT/.venv-$name"
}

no_python() {
    cat >&2 <<MSG
settle: no Python 3.$1 found. $2
  Install one (for example \`pyenv install 3.$1\`, or your system's python3.$1 package),
  or point SETTLE_PYTHON3$1 at a python3.$1 executable, then run this again.
MSG
    exit 1
}

PYTHON310="$(find_python 10)" || no_python 10 "rasa 3.6.21, the last open-source release, runs only on Python 3.10."
PYTHON312="$(find_python 12)" || no_python 12 "The gateway, the action server and the jobs run on Python 3.12."

UV=""
if [ "${1:-}" = "--print-uv" ]; then
    ensure_uv
    exit
fi
if [ "${SETTLE_INSTALLER:-uv}" = "uv" ]; then
    UV="$(ensure_uv)" || { echo "settle: could not install uv; installing with pip instead" >&2; UV=""; }
fi

# Both environments at once: each is mostly download and unpacking, which overlap well.
pids=()
for name in ${@:-rasa app}; do
    if [ "$name" = app ]; then python="$PYTHON312"; else python="$PYTHON310"; fi
    ensure_env "$name" "$python" & pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
