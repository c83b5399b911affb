"""Pure CommerceML 2: the model, the streaming reader and the orders writer. No AWS, no HTTP."""

from chalicelib.commerceml.errors import CommerceMLError
from chalicelib.commerceml.model import *  # noqa: F403
from chalicelib.commerceml.orders import to_update
from chalicelib.commerceml.reader import read
from chalicelib.commerceml.writer import write_orders, write_reference
from chalicelib.commerceml.xml import ChainedStream

__all__ = ["ChainedStream", "CommerceMLError", "read", "to_update", "write_orders", "write_reference"]
