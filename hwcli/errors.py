"""Errors meant for users: each message says what is wrong, where, and what to do next.

The library raises these; the CLI prints them as one line and exits 1.
"""


class HwError(Exception):
    """Base class for every error a user can cause and fix."""


class DataError(HwError):
    """A data set, ink or style file is missing, unreadable or malformed."""


class ModelError(HwError):
    """A model or checkpoint is missing, corrupt, foreign or of a newer format."""


class UsageError(HwError):
    """Options that cannot work together or values out of range."""
