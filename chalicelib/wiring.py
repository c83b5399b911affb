"""The one accessor of the running process's container (container.py): built once from the
environment's Settings on first use; tests and the local stack install one they built."""

from __future__ import annotations

from chalicelib.aws import clients
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


def reset() -> None:
    """Forget the container and the boto3 clients (tests; the local stack after a restart)."""
    global _current
    _current = None
    clients.reset()
