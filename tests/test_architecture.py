"""The house rules, read from the imports with `ast` (DESIGN.md "Boxes"):
- boto3 and botocore only in `aws/` and `local/`;
- `commerceml/` and `sync/` are pure: nothing of AWS, HTTP or the other boxes;
- the peer boxes (`exchange`, `shop`, `orders`, `notify`) never import each other — they meet
  through ports wired in `wiring.py`, and share HTTP plumbing through `chalicelib/http.py`;
- only entry points (routes, the SQS handlers, the CLI, the local stack) import `wiring`;
- no module of `chalicelib/` is over 400 lines.
Each failure names the file and the import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CHALICELIB = Path(__file__).resolve().parents[1] / "chalicelib"
PEERS = {"exchange", "shop", "orders", "notify", "console"}
PURE = {"commerceml", "sync"}
AWS_LIBRARIES = {"boto3", "botocore"}
HTTP_LIBRARIES = {"chalice", "urllib", "http", "requests"}
WIRING_USERS = {"http", "admin", "exchange/routes", "exchange/jobs", "shop/routes", "orders/routes", "local"}
WIRING_USERS |= {"console/web", "console/routes", "console/pages"}  # the console's routes
MAX_LINES = 400


def imports(source: str) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
            if node.module == "chalicelib":
                names += [f"chalicelib.{alias.name}" for alias in node.names]
    return names


def violations(relative: str, source: str) -> list[str]:
    """What breaks the rules in one module of chalicelib (`relative`: e.g. `orders/service.py`)."""
    parts = relative.removesuffix(".py").split("/")
    box = parts[0]
    found = []
    for name in imports(source):
        top, _, rest = name.partition(".")
        if top in AWS_LIBRARIES and box not in ("aws", "local"):
            found.append(f"{relative}: imports {name} (boto3 only in aws/ and local/)")
        if top in HTTP_LIBRARIES and box in PURE:
            found.append(f"{relative}: imports {name} (commerceml/ and sync/ are pure)")
        if top != "chalicelib" or not rest:
            continue
        target = rest.split(".")[0]
        if box in PURE and target not in PURE:
            found.append(f"{relative}: imports {name} (commerceml/ and sync/ import no other box)")
        if box in PEERS and target in PEERS and target != box:
            found.append(f"{relative}: imports {name} (peer boxes meet through ports)")
        entry = "/".join(parts[:2]) if len(parts) > 1 else box
        if target == "wiring" and entry not in WIRING_USERS and box not in WIRING_USERS:
            found.append(f"{relative}: imports {name} (only entry points know every box)")
    lines = len(source.splitlines())
    if lines > MAX_LINES:
        found.append(f"{relative}: {lines} lines (at most {MAX_LINES})")
    return found


def modules() -> list[Path]:
    return sorted(p for p in CHALICELIB.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(CHALICELIB)))
def test_every_module_keeps_the_house_rules(path):
    relative = str(path.relative_to(CHALICELIB))
    assert violations(relative, path.read_text()) == []


@pytest.mark.parametrize(
    ("relative", "source", "rule"),
    [
        ("shop/catalog.py", "from boto3.dynamodb.conditions import Attr\n", "boto3 only"),
        ("sync/plan.py", "from chalicelib.aws.catalog import keys\n", "import no other box"),
        ("commerceml/writer.py", "import urllib.request\n", "are pure"),
        ("orders/routes.py", "from chalicelib.shop.catalog import parse_limit\n", "peer boxes"),
        ("exchange/protocol.py", "from chalicelib import orders\n", "peer boxes"),
        ("orders/service.py", "from chalicelib import wiring\n", "entry points"),
        ("notify/webhooks.py", "x = 1\n" * (MAX_LINES + 1), "lines"),
    ],
)
def test_a_planted_violation_is_caught_and_named(relative, source, rule):
    found = violations(relative, source)
    assert len(found) == 1 and relative in found[0] and rule in found[0], found


def test_the_allowed_shapes_pass():
    assert violations("aws/catalog.py", "from boto3.dynamodb.conditions import Key\n") == []
    assert (
        violations(
            "orders/routes.py", "from chalicelib import wiring\nfrom chalicelib.http import json_api\n"
        )
        == []
    )
    assert violations("exchange/worker.py", "from chalicelib.sync.plan import plan\n") == []
