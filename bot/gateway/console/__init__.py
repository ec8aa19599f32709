"""The agent console (routes in routes.py, templates in ../templates/console/, JS and CSS in static/) and the
compliance console (compliance.py), sharing one login."""

from __future__ import annotations

from bot.gateway.console import compliance
from bot.gateway.console.routes import router

__all__ = ["compliance", "router"]
