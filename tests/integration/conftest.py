"""Integration tests run against the real services on loopback (see tests/services.py)."""

from tests.services import postgres_url, redis_broker_url, s3_server, s3_url  # noqa: F401
