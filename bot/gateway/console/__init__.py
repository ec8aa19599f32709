"""The agent console (routes in routes.py, templates in ../templates/console/, JS and CSS in static/)."""

from __future__ import annotations

from bot.gateway.console.routes import router

__all__ = ["router"]
