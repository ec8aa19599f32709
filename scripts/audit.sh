#!/usr/bin/env bash
# `make audit`: pip-audit on both environments' locks (app.lock with dev.lock, and rasa.lock), against a
# vulnerability service (PyPI's JSON API by default; PIP_AUDIT_SERVICE=osv for OSV). Fails on any finding not
# accepted in requirements/audit-ignore.txt, and on any package the service could not look up (--strict): an
# audit that silently skipped packages would pass while proving nothing.
# Needs the service on the network. On a machine that reaches only a package mirror (PyPI's simple index but not
# its per-release JSON), every package is "not found" and this fails, saying so.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AUDIT="$ROOT/.venv-app/bin/pip-audit"
[ -x "$AUDIT" ] || { echo "audit: run \`make setup\` first (pip-audit is in requirements/dev.lock)" >&2; exit 1; }
ignores=()
while read -r id _; do
    [ -n "$id" ] && ignores+=(--ignore-vuln "$id")
done < <(sed -e 's/#.*//' "$ROOT/requirements/audit-ignore.txt")
status=0
for locks in "app.lock dev.lock" "rasa.lock"; do
    requirements=()
    for lock in $locks; do requirements+=(-r "$ROOT/requirements/$lock"); done
    echo "audit: $locks" >&2
    # --require-hashes --disable-pip: audit the pins as locked, without installing anything; the locks are complete.
    "$AUDIT" --strict --require-hashes --disable-pip --progress-spinner off -s "${PIP_AUDIT_SERVICE:-pypi}" \
        "${requirements[@]}" "${ignores[@]}" || status=1
done
exit $status
