"""Point the real fal_client 1.0.3 at a SimulatedFal (or any fal-compatible base URLs).

What fal_client reads, and when (checked in fal_client/client.py 1.0.3):
- `client.QUEUE_URL_FORMAT` ("https://queue.fal.run/"): read at each submit and get_handle,
  as `QUEUE_URL_FORMAT + application`. Status/result/cancel then follow the URLs the server
  returned. (`FAL_QUEUE_RUN_HOST` only works if set before fal_client is imported, and is always
  https://HOST/ - the module global is the reliable switch.)
- `client.RUN_URL_FORMAT` ("https://fal.run/"): read at each run()/stream().
- `client.REST_URL` ("https://rest.fal.ai"): read when an AsyncCDNTokenManager is created (the
  first upload of each AsyncClient), and by the GCS-style upload fallback at each call.
- `client.CDN_URL` ("https://v3.fal.media"): read at each v3 upload (POST CDN_URL/files/upload).
- TLS: every httpx client fal_client makes uses httpx's default verification, and httpx 0.28
  honours SSL_CERT_FILE (read when each httpx client is built, i.e. lazily, per AsyncClient, per
  upload, per token refresh). We set SSL_CERT_FILE to a bundle of certifi's roots + any bundle
  already named there + the simulator's CA, so other HTTPS in the process keeps working.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import certifi
import fal_client.client as fal_module


class FalUrls(Protocol):
    """Anything with the base URLs (a SimulatedFal has them, as read-only properties)."""

    @property
    def queue_url(self) -> str: ...

    @property
    def rest_url(self) -> str: ...

    @property
    def cdn_url(self) -> str: ...


@dataclass(frozen=True)
class Endpoints:
    """Plain base URLs, for pointing fal_client at a server started elsewhere (CLI)."""

    queue_url: str
    rest_url: str
    cdn_url: str
    run_url: str | None = None


def point_fal_client_at(fal_urls: FalUrls, ca_file: Path | None) -> Callable[[], None]:
    """Patch fal_client's module globals (and SSL_CERT_FILE when `ca_file` is given); returns
    a function that restores everything as it was. Create fal_client.AsyncClient objects after
    this call (their token manager captures REST_URL when first used)."""
    saved = {
        name: getattr(fal_module, name)
        for name in ("QUEUE_URL_FORMAT", "RUN_URL_FORMAT", "REST_URL", "CDN_URL")
    }
    fal_module.QUEUE_URL_FORMAT = fal_urls.queue_url.rstrip("/") + "/"
    run_url = getattr(fal_urls, "run_url", None)
    if run_url:
        fal_module.RUN_URL_FORMAT = run_url.rstrip("/") + "/"
    fal_module.REST_URL = fal_urls.rest_url.rstrip("/")
    fal_module.CDN_URL = fal_urls.cdn_url.rstrip("/")
    saved_env = os.environ.get("SSL_CERT_FILE")
    bundle: Path | None = None
    if ca_file is not None:
        bundle = trust_bundle(ca_file, saved_env)
        os.environ["SSL_CERT_FILE"] = str(bundle)

    def undo() -> None:
        for name, value in saved.items():
            setattr(fal_module, name, value)
        if ca_file is not None:
            if saved_env is None:
                os.environ.pop("SSL_CERT_FILE", None)
            else:
                os.environ["SSL_CERT_FILE"] = saved_env
        if bundle is not None:
            bundle.unlink(missing_ok=True)

    return undo


@contextmanager
def fal_client_pointed_at(fal_urls: FalUrls, ca_file: Path | None) -> Iterator[None]:
    """`point_fal_client_at` as a context manager."""
    undo = point_fal_client_at(fal_urls, ca_file)
    try:
        yield
    finally:
        undo()


def trust_bundle(ca_file: Path, existing: str | None = None, into: Path | None = None) -> Path:
    """A PEM bundle: certifi's roots, the bundle in `existing`, and `ca_file`; written to
    `into`, or to a new temporary file when `into` is None."""
    parts = [Path(certifi.where()).read_text()]
    if existing and Path(existing).is_file():
        parts.append(Path(existing).read_text())
    parts.append(Path(ca_file).read_text())
    if into is not None:
        into.write_text("\n".join(parts))
        return into
    handle, name = tempfile.mkstemp(prefix="fal-trust-", suffix=".pem")
    with os.fdopen(handle, "w") as out:
        out.write("\n".join(parts))
    return Path(name)
