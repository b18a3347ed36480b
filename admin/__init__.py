"""The agent console and admin pages: `register(app)` adds them to the app factory's Flask app."""

from __future__ import annotations

from typing import Any


def register(app: Any) -> None:
    """Add the console, its live stream, sign-in and admin pages; wire handover to services."""
    from admin import auth, console, pages, stream

    services = app.extensions["wuye"]
    if services.handover.sessions is None:
        services.handover.bind(services.sessions, services.config)
    if services.outbox.on_change is None:
        services.outbox.on_change = services.handover.delivery_changed
    auth.configure(app)
    for blueprint in (auth.bp, console.bp, stream.bp, pages.bp):
        app.register_blueprint(blueprint)
    pages.seed_canned(services.sessions)
