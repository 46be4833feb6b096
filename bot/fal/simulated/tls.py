"""The simulated fal's TLS: a throw-away CA made for each run, the server certificate it
issues, and client contexts that trust only that CA."""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme

CA_FILE_NAME = "simulated-fal-ca.pem"


def server_context(names: set[str], data_dir: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context with a certificate for `names`, and the CA's PEM written to
    `data_dir` (for clients to trust)."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*sorted(names)).configure_cert(context)
    ca_file = data_dir / CA_FILE_NAME
    ca.cert_pem.write_to_path(str(ca_file))
    return context, ca_file


def client_context(ca_file: Path) -> ssl.SSLContext:
    """A client context trusting the CA in `ca_file`."""
    # Only this CA: loading the system's roots as well costs ~0.1 s and trusts nothing here.
    return ssl.create_default_context(cafile=str(ca_file))
