"""The one accessor of the running process's container (container.py): built once from the
environment's Settings on first use; tests and the local stack install one they built."""

from __future__ import annotations

from chalicelib.aws import clients as boto3_clients
from chalicelib.container import Container
from chalicelib.settings import Settings

_current: Container | None = None


def container() -> Container:
    global _current
    if _current is None:
        _current = Container(Settings.from_env())
    return _current


def use(built: Container) -> Container:
    """Install a container built elsewhere (tests: changed settings or twins)."""
    global _current
    _current = built
    return built


def reset(clients: bool = True) -> None:
    """Forget the container and (unless told) the boto3 clients (the local stack after a
    restart; tests keep the clients: moto intercepts every client, whenever it was made)."""
    global _current
    _current = None
    if clients:
        boto3_clients.reset()
