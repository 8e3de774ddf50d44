"""Fixtures for the models tests: the real services from tests.services."""

from tests.services import postgres_url, redis_broker_url, s3_server, s3_url  # noqa: F401
