# Sourced by Settle's container scripts: podman with the settings these machines need (podman/containers.conf),
# as root. settle_podman takes podman's own arguments; image builds run at low priority (2 shared cores).
DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$DEPLOY_DIR/podman/containers.conf}"
settle_podman() {
    local priority=()
    [ "${1:-}" = build ] && priority=(nice -n 10)
    "${priority[@]}" podman --runtime runc --cgroup-manager cgroupfs "$@"
}
# Docker's image format: OCI images cannot carry a HEALTHCHECK, and podman would drop ours silently.
export BUILDAH_FORMAT=docker
