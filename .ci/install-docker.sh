#!/usr/bin/env bash
# Make a Docker engine answer on this machine (Debian/Ubuntu, as root), for the Docker tests.
#
# Idempotent: installs docker.io and debootstrap only when missing, starts dockerd only
# when no engine answers, then waits a bounded time for the socket. Nothing is pulled:
# perfbench builds its base image from a debootstrap root filesystem.
#
# Environment: DOCKERD_LOG (default /var/log/dockerd.log), DOCKER_WAIT_S (default 60).
set -euo pipefail

log() { echo "install-docker: $*" >&2; }
die() { log "error: $*"; exit 1; }

DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
DOCKER_WAIT_S=${DOCKER_WAIT_S:-60}
SOCK=/var/run/docker.sock

engine_answers() {
    if command -v docker >/dev/null 2>&1; then
        docker version --format '{{.Server.Version}}' >/dev/null 2>&1
    else
        python3 - <<'PY' >/dev/null 2>&1
import docker
docker.from_env(timeout=5).ping()
PY
    fi
}

if engine_answers; then
    log "a Docker engine already answers"
else
    [ "$(id -u)" -eq 0 ] || die "must run as root to install and start dockerd"
    missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq || die "apt-get update failed"
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
            || die "apt-get install ${missing[*]} failed"
    fi
    if ! pgrep -x dockerd >/dev/null 2>&1; then
        log "starting dockerd (log: $DOCKERD_LOG)"
        nohup dockerd >"$DOCKERD_LOG" 2>&1 &
    fi
    waited=0
    until engine_answers; do
        if [ "$waited" -ge "$DOCKER_WAIT_S" ]; then
            tail -n 20 "$DOCKERD_LOG" >&2 || true
            die "dockerd did not answer on $SOCK within ${DOCKER_WAIT_S}s (log: $DOCKERD_LOG)"
        fi
        sleep 1
        waited=$((waited + 1))
    done
    log "engine answers after ${waited}s"
fi

# debootstrap is needed for the base image even when an engine was already running.
if ! command -v debootstrap >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || die "debootstrap missing and not root"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null \
        || die "apt-get install debootstrap failed"
fi
