"""In-memory twins of the stores (the shape of Chalice's todo-app sample): the same methods and
the same answers as the adapters in `aws/`, held true by one contract test run against both
(tests/test_store_contracts.py). Use cases are unit-tested on these, with no AWS at all."""

from chalicelib.memory.catalog import InMemoryCatalogStore
from chalicelib.memory.exchange import (
    InMemoryBlobStore,
    InMemoryConsoleStore,
    InMemoryExchangeStore,
    InMemoryJobQueue,
)
from chalicelib.memory.mail import InMemoryMailer
from chalicelib.memory.orders import InMemoryOrdersStore, InMemoryOutbox
from chalicelib.memory.usage import InMemoryUsageStore

__all__ = [
    "InMemoryBlobStore",
    "InMemoryCatalogStore",
    "InMemoryConsoleStore",
    "InMemoryExchangeStore",
    "InMemoryJobQueue",
    "InMemoryMailer",
    "InMemoryOrdersStore",
    "InMemoryOutbox",
    "InMemoryUsageStore",
]
