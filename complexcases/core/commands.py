"""Helpers shared by the management commands."""

from __future__ import annotations

import getpass


def default_actor() -> str:
    """Who is running a command, for the audit trail: the operating system's user name."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "unknown"
