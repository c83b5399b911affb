"""Webhook signatures and retry timing. Pure.

Receivers check: X-Cmlbridge-Signature == "sha256=" + hex(HMAC-SHA256(secret, f"{timestamp}.{body}")),
with timestamp = the X-Cmlbridge-Timestamp header and body = the raw request body. For a day after
the secret is rotated the header carries two signatures, comma-separated (the new secret's first):
a receiver accepts the request when one of them is its secret's.
"""

from __future__ import annotations

import hashlib
import hmac
import random

BASE_DELAY = 60
MAX_DELAY = 12 * 3600
MAX_ATTEMPTS = 12  # 1, 2, 4 ... 512 min, then 12 h twice: about 1.5 days in all


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_header(secrets: list[str], timestamp: str, body: bytes) -> str:
    return ",".join(signature(secret, timestamp, body) for secret in secrets)


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, part.strip()) for part in (header or "").split(","))


def retry_delay(attempts: int, rng: random.Random | None = None) -> int:
    """Seconds before the next try after `attempts` failed ones: exponential, capped, jittered."""
    base = min(MAX_DELAY, BASE_DELAY * 2 ** max(attempts - 1, 0))
    jitter = (rng or random).uniform(0.8, 1.2)
    return int(min(MAX_DELAY, base * jitter))
