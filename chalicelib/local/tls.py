"""`make run TLS=1`: the local stack over HTTPS with client-certificate verification (Python's
`ssl`), handing the verified certificate to the app the way API Gateway's mutual TLS does
(`requestContext.identity.clientCert.clientCertPem`), so access by certificates is tested end to
end. A call without a certificate still connects (as through API Gateway's `execute-api` endpoint):
the app refuses it for a tenant that registered certificates, and serves the others."""

from __future__ import annotations

import functools
import ssl
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from chalice.local import ChaliceRequestHandler, LocalDevServer, LocalGateway

from chalicelib.authority import Authority

SERVER_NAMES = ("localhost", "127.0.0.1")


class CertificateRequestHandler(ChaliceRequestHandler):
    """Chalice's local handler, with the peer's verified certificate in every event."""

    def __init__(self, request: Any, client_address: Any, server: Any, app_object: Any, config: Any) -> None:
        self.local_gateway = LocalGateway(app_object, config)
        converter = self.local_gateway.event_converter
        make_event = converter.create_lambda_event

        def with_certificate(*args: Any, **kwargs: Any) -> Any:
            event = make_event(*args, **kwargs)
            der = self.connection.getpeercert(binary_form=True)
            if der:
                identity = event["requestContext"].setdefault("identity", {})
                identity["clientCert"] = {"clientCertPem": ssl.DER_cert_to_PEM_cert(der)}
            return event

        converter.create_lambda_event = with_certificate  # type: ignore[method-assign]
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)


def serve_tls(server: LocalDevServer, folder: Path, app_object: Any, config: Any) -> Authority:
    """Wrap the local server's socket in TLS: its certificate from the provider CA in `folder`
    (made on first use), client certificates of that CA verified when presented."""
    authority = Authority.load_or_create(folder)
    cert, key = folder / "server.crt", folder / "server.key"
    if not (cert.exists() and key.exists()):
        issued = authority.issue_server(SERVER_NAMES)
        key.touch(mode=0o600)
        key.write_bytes(issued.key_pem)
        cert.write_bytes(issued.certificate_pem + authority.root.certificate_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.load_verify_locations(authority.certificate_path)
    context.verify_mode = ssl.CERT_OPTIONAL
    http = server.server
    # The handshake on the handler's thread (its first read), never on the accepting one.
    http.socket = context.wrap_socket(http.socket, server_side=True, do_handshake_on_connect=False)
    http.RequestHandlerClass = functools.partial(
        CertificateRequestHandler, app_object=app_object, config=config
    )
    return authority
