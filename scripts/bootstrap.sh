#!/usr/bin/env bash
# Set up a fresh machine for perfbench: system packages, the Docker engine, Chromium and
# the Python package with its test tools. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in git patch util-linux iproute2 debootstrap debian-archive-keyring gpgv docker.io chromium; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
    echo "bootstrap: installing ${need_apt[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Reinstall when perfbench is missing, installed from another checkout, or a tool is missing.
installed=$(cd / && python -c "import os, perfbench; print(os.path.dirname(os.path.dirname(perfbench.__file__)))" 2>/dev/null || true)
if [[ "$installed" != "$PWD" ]] || ! (cd / && python -c "import pytest, ruff, ray, playwright") >/dev/null 2>&1 \
        || [[ "${PERFBENCH_REINSTALL:-}" == 1 ]]; then
    echo "bootstrap: installing perfbench and its test tools" >&2
    python -m pip install -q --disable-pip-version-check -e ".[dev,ray]"
fi

if [[ -x .ci/install-docker.sh || -f .ci/install-docker.sh ]]; then
    bash .ci/install-docker.sh
fi
