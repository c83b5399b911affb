"""One webhook POST, defended: the host is resolved and every address checked (no loopback,
private, link-local, multicast or reserved targets unless allowed), the connection goes to the
address that was checked (no DNS rebinding between check and connect), TLS still verifies the
host name, redirects are answers, and the whole exchange has one deadline (a receiver that
drips a byte at a time is cut off)."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 10
ANSWER_BYTES = 512  # what is kept of the receiver's answer, for the people who read the log


class Refused(Exception):
    """The URL may not be contacted; the message says why."""


def public_address(host: str, port: int, allow_private: bool) -> str:
    """The first address of `host` that may be contacted; Refused when any address is not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"host {host!r} does not resolve ({exc})") from None
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not allow_private and not _is_public(ip):
            raise Refused(f"refused: {host} resolves to {ip}, which is not a public address")
    if not addresses:
        raise Refused(f"host {host!r} has no address")
    return addresses[0]


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local or ip.is_unspecified
    )


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a fixed address, with SNI and certificate checks for the URL's host name."""

    def __init__(self, address: str, host: str, port: int, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, address: str, host: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    allow_private: bool = False,
    deadline_seconds: float = TIMEOUT_SECONDS,
) -> tuple[int | None, str | None]:
    """(status code, error) — the code is None when no answer came."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None, f"refused: {url[:80]!r} is not an http(s) URL"
    try:
        port = parts.port or (443 if scheme == "https" else 80)
        address = public_address(parts.hostname, port, allow_private)
    except ValueError:
        return None, f"refused: {url[:80]!r} has no valid port"
    except Refused as exc:
        return None, str(exc)
    kind = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    connection = kind(address, parts.hostname, port, timeout=deadline_seconds)
    cut = threading.Event()
    watchdog = threading.Timer(deadline_seconds, _cut, (connection, cut))
    watchdog.start()
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(ANSWER_BYTES).decode("utf-8", "replace")
        if 200 <= response.status < 300:
            return response.status, None
        return response.status, f"HTTP {response.status}: {answer.strip()[:200]}".rstrip(": ")
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        if cut.is_set():
            return None, f"no complete answer within {deadline_seconds:g} s"
        return None, f"{type(exc).__name__}: {exc}"
    finally:
        watchdog.cancel()
        connection.close()


def _cut(connection: http.client.HTTPConnection, cut: threading.Event) -> None:
    """The deadline passed: break the socket so the blocked read returns at once."""
    cut.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
