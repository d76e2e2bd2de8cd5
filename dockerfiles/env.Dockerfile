# perfbench layer 2: one repository's environment spec (system packages, CA bundle,
# a wheelhouse of its pip packages). Tagged by a hash of everything that went in.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY ca/ /usr/local/share/ca-certificates/perfbench/
RUN if ls /usr/local/share/ca-certificates/perfbench/*.crt >/dev/null 2>&1; then \
        update-ca-certificates >/dev/null; \
    fi
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY env.json pbbuild.py /pb/etc/
RUN python3 /pb/etc/pbbuild.py env
