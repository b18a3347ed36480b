"""The console fixtures (signed-in admins) for the notice tests."""

from tests.admin.conftest import admin_staff, agent, console_app, make_staff  # noqa: F401
