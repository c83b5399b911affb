"""The web console for people: server-rendered pages over the same journal and stores as the CLI
and the shop API (its own blueprint, mounted at /console)."""

from chalicelib.console import connect, operator, pages, replay, routes, webhooks  # noqa: F401  (they register their routes)
from chalicelib.console.front import front
from chalicelib.console.web import console

__all__ = ["console", "front"]
