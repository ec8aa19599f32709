#!/usr/bin/env bash
# Issue 21's newcomer measure: from `git clone` to the first answered chat, with empty caches (a machine that has
# never run Settle: no ~/.cache/settle, no uv cache), printing when each step of `make run` finished.
#   bench/first_chat.sh [RUNS]     clones this repository's HEAD into a temporary folder RUNS times (default 1)
# It needs ports 8000, 5005, 5055, 12111 and 2525 free (a `make run` of its own), and stops it after each run.
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-1}"
for run in $(seq 1 "$RUNS"); do
    WORK="$(mktemp -d)"
    T0=$(date +%s.%N)
    stamp() { python3 -c "import sys; print(f'run {sys.argv[4]}: {float(sys.argv[1]) - float(sys.argv[2]):6.1f} s  {sys.argv[3]}')" \
        "$(date +%s.%N)" "$T0" "$1" "$run"; }
    git clone -q "$ROOT" "$WORK/settle"
    stamp "cloned"
    cd "$WORK/settle" || exit 1
    export SETTLE_CACHE="$WORK/cache" UV_CACHE_DIR="$WORK/uv-cache"
    setsid make run > "$WORK/run.log" 2>&1 &
    RUN_PID=$!
    seen=""
    while kill -0 "$RUN_PID" 2>/dev/null; do
        for marker in "app environment is ready" "rasa environment is ready" "training the Rasa model" \
                      "starting the action server"; do
            if [[ "$seen" != *"$marker"* ]] && grep -q "$marker" "$WORK/run.log"; then
                seen="$seen|$marker"
                stamp "$marker"
            fi
        done
        if [[ "$seen" == *"starting the action server"* ]]; then
            answer=$(curl -s -m 20 http://127.0.0.1:8000/webhooks/rest/webhook -H 'content-type: application/json' \
                -d '{"sender":"first-chat","message":"what do I owe?"}' 2>/dev/null)
            # "having trouble" is the gateway's answer while Rasa still loads its model: not an answered chat.
            if [[ "$answer" == *'"text"'* && "$answer" != *"having trouble"* ]]; then
                stamp "first answered chat"
                break
            fi
        fi
        sleep 1
    done
    kill -TERM -- "-$RUN_PID" 2>/dev/null
    sleep 5
    kill -KILL -- "-$RUN_PID" 2>/dev/null
    cd "$ROOT" && rm -rf "$WORK"
done
