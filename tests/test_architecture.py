"""The house rules, read from the imports with `ast` (docs/architecture.md):
- boto3 and botocore only in `aws/` and `local/`;
- `commerceml/` and `sync/` are pure: nothing of AWS, HTTP or the other boxes;
- the peer boxes (`exchange`, `shop`, `orders`, `notify`) never import each other — they meet
  through ports wired in `wiring.py`, and share HTTP plumbing through `chalicelib/http.py`;
- only entry points (routes, the SQS handlers, the CLI, the local stack) import `wiring`;
- no module of `chalicelib/` is over 400 lines;
- use cases never import `aws/` (only the container, the twins in `memory/` and `local/` do);
- no `["pk"]` or `["sk"]` outside `aws/` and `memory/`: stores hand out ids by name;
- no class inherits from more than one project class (collaborators, not mixins);
- no import cycles among the modules' top-level imports.
Each failure names the file and the import; each rule is proven on a planted violation."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

CHALICELIB = Path(__file__).resolve().parents[1] / "chalicelib"
PEERS = {"exchange", "shop", "orders", "notify", "console"}
PURE = {"commerceml", "sync"}
PURE_SHARED = {"values"}  # pure helpers every box may use (one Decimal text, one UTC stamp)
AWS_LIBRARIES = {"boto3", "botocore"}
HTTP_LIBRARIES = {"chalice", "urllib", "http", "requests"}
WIRING_USERS = {
    "http",
    "admin",
    "admin_certificates",
    "exchange/routes",
    "exchange/jobs",
    "shop/routes",
    "orders/routes",
    "local",
}
WIRING_USERS |= {
    "console/web",
    "console/routes",
    "console/pages",
    "console/connect",
    "console/webhooks",
    "console/operator",
    "console/replay",
}  # the console's routes
MAX_LINES = 400
AWS_USERS = {"aws", "memory", "local", "container", "wiring"}  # wiring: resets boto3's clients
KEY_USERS = {"aws", "memory"}


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
        if box in PURE and target not in PURE | PURE_SHARED:
            found.append(f"{relative}: imports {name} (commerceml/ and sync/ import no other box)")
        if box in PEERS and target in PEERS and target != box:
            found.append(f"{relative}: imports {name} (peer boxes meet through ports)")
        entry = "/".join(parts[:2]) if len(parts) > 1 else box
        if target == "wiring" and entry not in WIRING_USERS and box not in WIRING_USERS:
            found.append(f"{relative}: imports {name} (only entry points know every box)")
        if target == "aws" and box not in AWS_USERS | PURE:
            found.append(f"{relative}: imports {name} (use cases never import aws/)")
    lines = len(source.splitlines())
    if lines > MAX_LINES:
        found.append(f"{relative}: {lines} lines (at most {MAX_LINES})")
    tree = ast.parse(source)
    if box not in KEY_USERS:
        for node in ast.walk(tree):
            key = (
                node.slice.value
                if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
                else None
            )
            if key in ("pk", "sk"):
                found.append(f"{relative}:{getattr(node, 'lineno', 0)}: reads [{key!r}] (keys stay in aws/)")
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            mixed = [b.id for b in node.bases if isinstance(b, ast.Name) and b.id in project_classes()]
            if len(mixed) > 1:
                found.append(f"{relative}: class {node.name} inherits {', '.join(mixed)} (one project base)")
    return found


@functools.cache
def project_classes() -> frozenset[str]:
    names = set()
    for path in modules():
        names |= {n.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ClassDef)}
    return frozenset(names)


def top_level_imports(source: str) -> list[str]:
    """The chalicelib modules a module imports when it is loaded (not inside functions, not for
    the type checker only)."""
    names = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("chalicelib"):
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names if a.name.startswith("chalicelib")]
    return names


def cycles(sources: dict[str, str]) -> list[list[str]]:
    """Import cycles among modules (`chalicelib.x.y` → source), each as the path that closes it."""
    graph = {
        module: sorted({n for n in top_level_imports(source) if n in sources and n != module})
        for module, source in sources.items()
    }
    found, state = [], dict.fromkeys(graph, 0)  # 0 new, 1 on the path, 2 done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in graph[module]:
            if state[target] == 1:
                found.append([*path[path.index(target) :], target])
            elif state[target] == 0:
                visit(target, [*path, target])
        state[module] = 2

    for module in graph:
        if state[module] == 0:
            visit(module, [module])
    return found


def module_sources() -> dict[str, str]:
    sources = {}
    for path in modules():
        dotted = ".".join(path.relative_to(CHALICELIB.parent).with_suffix("").parts)
        sources[dotted.removesuffix(".__init__")] = path.read_text()
    return sources


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
        ("exchange/worker.py", "from chalicelib.aws.blobs import BlobStore\n", "never import aws/"),
        ("journal.py", "def f(item):\n    return item['sk']\n", "keys stay in aws/"),
        ("exchange/worker.py", "class ImportWorker(Prepare, Apply):\n    pass\n", "one project base"),
    ],
)
def test_a_planted_violation_is_caught_and_named(relative, source, rule):
    found = violations(relative, source)
    assert len(found) == 1 and relative in found[0] and rule in found[0], found


def test_there_are_no_import_cycles():
    assert cycles(module_sources()) == []


def test_a_planted_import_cycle_is_caught_and_named():
    sources = module_sources()
    sources["chalicelib.params"] += (
        "\nfrom chalicelib.shop.catalog import ShopCatalog\n"  # catalog imports params
    )
    found = cycles(sources)
    assert any({"chalicelib.params", "chalicelib.shop.catalog"} <= set(c) and c[0] == c[-1] for c in found), (
        found
    )


def test_the_allowed_shapes_pass():
    assert violations("aws/catalog.py", "from boto3.dynamodb.conditions import Key\n") == []
    assert (
        violations(
            "orders/routes.py", "from chalicelib import wiring\nfrom chalicelib.http import json_api\n"
        )
        == []
    )
    assert violations("exchange/worker.py", "from chalicelib.sync.plan import plan\n") == []
    assert violations("container.py", "from chalicelib.aws.blobs import BlobStore\n") == []
    assert violations("aws/outbox.py", "def f(item):\n    return item['sk']\n") == []
    assert violations("memory/catalog.py", "class InMemoryCatalogStore(CatalogStore):\n    pass\n") == []
