"""Webhooks: the outbox, HMAC signing, delivery with retries; the scheduled run."""
