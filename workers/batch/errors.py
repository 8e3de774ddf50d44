"""The one error of a batch as a whole, apart from every module that raises it."""

from __future__ import annotations


class BatchError(Exception):
    """The batch cannot go on at all (as opposed to one file failing)."""
