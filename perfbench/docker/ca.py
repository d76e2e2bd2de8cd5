"""The extra CA bundle that builds must trust (pip behind a TLS-intercepting proxy).

Taken from the ``ca_bundle`` option, else ``PERFBENCH_CA_BUNDLE``, else the first of
``PIP_CERT`` / ``SSL_CERT_FILE`` / ``REQUESTS_CA_BUNDLE`` that is set: whatever makes
pip work on the host makes it work in the image. ``none`` turns it off. The bundle
is split into one file per certificate, because ``update-ca-certificates`` reads one
certificate per file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from pathlib import Path

from ..errors import InputError

log = logging.getLogger(__name__)

CA_ENV = "PERFBENCH_CA_BUNDLE"
FALLBACK_ENVS = ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def resolve_ca_bundle(explicit: str | Path | None = None) -> Path | None:
    """The bundle to install, or None; an explicitly named bundle must exist."""
    if explicit is not None and str(explicit) != "":
        return _checked(str(explicit), "ca_bundle")
    if os.environ.get(CA_ENV):
        return _checked(os.environ[CA_ENV], CA_ENV)
    for name in FALLBACK_ENVS:
        value = os.environ.get(name)
        if value:
            path = Path(value)
            if path.is_file():
                return path
            log.warning("%s names %s, which is not a file; no extra CA bundle", name, value)
            return None
    return None


def _checked(value: str, source: str) -> Path | None:
    if value.lower() == "none":
        return None
    path = Path(value)
    if not path.is_file():
        raise InputError(f"CA bundle {value} (from {source}) is not a file")
    return path


def certificates(bundle: Path | None) -> list[str]:
    """The PEM certificates in ``bundle`` (empty without one)."""
    if bundle is None:
        return []
    return _PEM.findall(bundle.read_text(errors="replace"))


def bundle_digest(bundle: Path | None) -> str:
    """What the env layer's tag depends on: the certificates, not the file's name."""
    return hashlib.sha256("\n".join(certificates(bundle)).encode()).hexdigest()[:16]


def write_ca_dir(bundle: Path | None, dest: Path) -> int:
    """Write one ``.crt`` per certificate into ``dest``; returns how many."""
    dest.mkdir(parents=True, exist_ok=True)
    certs = certificates(bundle)
    for i, pem in enumerate(certs):
        (dest / f"extra-{i:04d}.crt").write_text(pem + "\n")
    return len(certs)
