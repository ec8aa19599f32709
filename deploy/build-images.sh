#!/usr/bin/env bash
# Builds Settle's images with podman, on a machine with no container registry, and prints their sizes:
#   localhost/settle/{rasa,actions,gateway}:TAG          deploy/images/{rasa,app}.Containerfile
#   localhost/settle/{postgres,redis,proxy}:TAG          deploy/images/{postgres,redis,proxy}.Containerfile
# The base images come from deploy/base-image.sh (built when missing); RASA_BASE_IMAGE=python:3.10-slim and
# APP_BASE_IMAGE=python:3.12-slim build on the official images instead, where a registry is reachable. The model baked into the Rasa image is the one
# bot.training.ensure_model makes for the current config, domain and data (`make train`).
#   deploy/build-images.sh [TAG]      (TAG default: latest)
# SETTLE_BUILD_CA_BUNDLE: a CA bundle trusted for the package downloads (default: the host's, which carries the
# TLS-inspecting egress proxy's CA on these machines); it is a build secret, in no layer.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=deploy/podman.sh
source "$ROOT/deploy/podman.sh"
cd "$ROOT"
for tool in podman podman-compose debootstrap openssl; do
    command -v "$tool" >/dev/null || { echo "build-images: no $tool; as root: apt-get install -y podman runc" \
        "podman-compose debootstrap openssl" >&2; exit 1; }
done
TAG="${1:-latest}"
RASA_BASE_IMAGE="${RASA_BASE_IMAGE:-localhost/settle/python:3.10-slim}"  # rasa 3.6.21 runs only on 3.10
APP_BASE_IMAGE="${APP_BASE_IMAGE:-localhost/settle/python:3.12-slim}"
DEBIAN_IMAGE="${DEBIAN_IMAGE:-localhost/settle/debian:bookworm-slim}"
CA_BUNDLE="${SETTLE_BUILD_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

bash deploy/base-image.sh --if-missing
model="$(.venv-app/bin/python -c 'from bot.training import ensure_model; print(ensure_model(quiet=True).relative_to(__import__("bot.config").config.PROJECT_ROOT))')"

build() {  # NAME CONTAINERFILE BASE_IMAGE [podman build arguments...]
    local name="$1" file="$2" base="$3" started=$SECONDS
    shift 3
    settle_podman build --pull=never --secret "id=ca_bundle,src=$CA_BUNDLE" --build-arg "BASE_IMAGE=$base" \
        --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" -f "deploy/images/$file" -t "localhost/settle/$name:$TAG" "$@" . \
        >"$ROOT/var/build-$name.log" 2>&1 || { tail -30 "$ROOT/var/build-$name.log" >&2; echo "build-images: $name failed" >&2; return 1; }
    echo "build-images: localhost/settle/$name:$TAG ($((SECONDS - started)) s)" >&2
}

mkdir -p var
build gateway app.Containerfile "$APP_BASE_IMAGE" --target gateway
build actions app.Containerfile "$APP_BASE_IMAGE" --target actions
build rasa rasa.Containerfile "$RASA_BASE_IMAGE" --build-arg "MODEL=$model"
build postgres postgres.Containerfile "$RASA_BASE_IMAGE"  # these three use DEBIAN_IMAGE; BASE_IMAGE is unused
build redis redis.Containerfile "$RASA_BASE_IMAGE"
build proxy proxy.Containerfile "$RASA_BASE_IMAGE"
settle_podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E "^localhost/settle/[a-z]+:$TAG " \
    | grep -v -E '/(debian|python):'
