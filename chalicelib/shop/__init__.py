"""The shop-facing JSON API (a blueprint under /api/v1) and its queries."""
