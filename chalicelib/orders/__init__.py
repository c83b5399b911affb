"""Orders: rules (pure), use cases, and the shop's order routes."""
