"""The agent console (routes in routes.py, templates in ../templates/console/, JS and CSS in static/) and the
compliance console (compliance.py) and the operations console (operations.py), sharing one login."""

from __future__ import annotations

from bot.gateway.console import compliance, operations
from bot.gateway.console.routes import router

__all__ = ["compliance", "operations", "router"]
