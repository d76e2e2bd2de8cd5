# perfbench layer 1: OS, C toolchain, ccache, git, patch, Python 3 with venv and pip, pytest
# (the packages are rootfs.BASE_PACKAGES: a unit test keeps the two lists equal).
# FROM_IMAGE is either the root filesystem perfbench imported from debootstrap (every
# package already present: this layer then needs no network) or any Debian-like image
# a registry serves (missing packages are installed with apt over the host network).
ARG FROM_IMAGE
FROM ${FROM_IMAGE}
ARG PACKAGES="python3 python3-venv python3-pip python3-dev python3-pytest git build-essential ca-certificates patch util-linux ccache"
ENV LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive
RUN missing=""; \
    for p in $PACKAGES; do \
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"; \
    done; \
    if [ -n "$missing" ]; then \
        echo "installing:$missing"; \
        apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing \
        && rm -rf /var/lib/apt/lists/*; \
    fi
# Equal-length variant roots: paths end up in memory (sys.path, code objects), so
# they must not differ between the variants whose timings are compared.
RUN mkdir -p /pb/base /pb/expt /pb/cand /pb/home /pb/harness /pb/workloads /pb/etc
