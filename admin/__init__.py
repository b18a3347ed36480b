"""The agent console and admin pages: `register(app)` adds them to the app factory's Flask app."""

from __future__ import annotations

from typing import Any


def register(app: Any) -> None:
    """Add the console, its live stream, sign-in and admin pages."""
    from admin import (
        auth,
        board,
        console,
        desk_pages,
        faq,
        knowledge,
        labels,
        outreach,
        pages,
        stream,
        worker,
    )

    services = app.extensions["wuye"]
    auth.configure(app)
    labels.register(app)
    for blueprint in (auth.bp, console.bp, stream.bp, pages.bp, board.bp, worker.bp,
                      desk_pages.bp, faq.bp, knowledge.bp, outreach.bp):
        app.register_blueprint(blueprint)
    pages.seed_canned(services.sessions)
