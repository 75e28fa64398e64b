"""Fixtures of the metrics tests."""

from tests.metrics.databases import database

__all__ = ["database"]
