"""Runtime settings, read from the environment at call time (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass

# Lambda's synchronous payload is 6 MB and binary bodies travel base64 (x4/3): see docs/platform.md §2.
MAX_FILE_LIMIT = 3_500_000


@dataclass(frozen=True)
class Settings:
    stage: str
    tenants_table: str
    catalog_table: str
    exchange_table: str
    orders_table: str
    idempotency_table: str
    bucket: str
    import_queue_name: str
    file_limit: int
    session_ttl_seconds: int
    zip_max_total_bytes: int
    zip_max_entries: int
    zip_max_ratio: int
    cors_origins: str
    require_https_webhooks: bool
    allow_private_webhooks: bool  # loopback/private receivers: only for local and dev stages
    mail_from: str  # the SES-verified sender of the owners' exchange notices; "" (default): no e-mail
    # How long the cards of a products-only file (import.xml) wait for the exchange's next file
    # (offers.xml builds them with its own: a card written once an exchange, not once a file).
    cards_owed_seconds: int = 60

    @property
    def dead_letter_queue_name(self) -> str:
        return f"{self.import_queue_name}-dlq"  # infra/resources.json: after 3 receives

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        stage = env.get("STAGE", "dev")
        prefix = f"cmlbridge-{stage}"
        return cls(
            stage=stage,
            tenants_table=env.get("TENANTS_TABLE", f"{prefix}-tenants"),
            catalog_table=env.get("CATALOG_TABLE", f"{prefix}-catalog"),
            exchange_table=env.get("EXCHANGE_TABLE", f"{prefix}-exchange"),
            orders_table=env.get("ORDERS_TABLE", f"{prefix}-orders"),
            idempotency_table=env.get("IDEMPOTENCY_TABLE", f"{prefix}-idempotency"),
            bucket=env.get("BUCKET", f"{prefix}-data"),
            import_queue_name=env.get("IMPORT_QUEUE_NAME", f"{prefix}-import"),
            file_limit=min(int(env.get("FILE_LIMIT", MAX_FILE_LIMIT)), MAX_FILE_LIMIT),
            session_ttl_seconds=int(env.get("SESSION_TTL_SECONDS", 3 * 3600)),
            zip_max_total_bytes=int(env.get("ZIP_MAX_TOTAL_BYTES", 2 * 1024**3)),
            zip_max_entries=int(env.get("ZIP_MAX_ENTRIES", 200_000)),
            zip_max_ratio=int(env.get("ZIP_MAX_RATIO", 200)),
            cors_origins=env.get("CORS_ORIGINS", "*"),
            require_https_webhooks=env.get("REQUIRE_HTTPS_WEBHOOKS", "").lower() == "true",
            allow_private_webhooks=env.get("ALLOW_PRIVATE_WEBHOOKS", "").lower() == "true",
            mail_from=env.get("MAIL_FROM", ""),
            cards_owed_seconds=min(max(int(env.get("CARDS_OWED_SECONDS", 60)), 0), 900),  # SQS: ≤ 900
        )


def settings() -> Settings:
    return Settings.from_env()
