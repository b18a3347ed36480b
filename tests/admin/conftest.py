"""Console fixtures: the app with the console registered, signed-in staff clients."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from admin.users import User, UserStore

PASSWORD = "correct-horse-battery-9"
_CSRF = re.compile(r'name="csrf[-_]token" (?:content|value)="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page carries no CSRF token"
    return match.group(1)


@dataclass
class Staff:
    """A signed-in browser session: a test client plus the session's CSRF token."""

    client: Any
    user: User
    csrf: str

    def get(self, path: str) -> Any:
        return self.client.get(path)

    def post(self, path: str, json: dict[str, Any] | None = None) -> Any:
        return self.client.post(path, json=json if json is not None else {},
                                headers={"X-CSRF-Token": self.csrf})

    def form(self, path: str, data: dict[str, str]) -> Any:
        return self.client.post(path, data={**data, "csrf_token": self.csrf})


def sign_in(client: Any, username: str, password: str = PASSWORD) -> Any:
    token = csrf_of(client.get("/console/login").text)
    return client.post("/console/login",
                       data={"username": username, "password": password, "csrf_token": token})


@pytest.fixture()
def console_app(app: Any) -> Any:
    return app


@pytest.fixture()
def make_staff(console_app: Any, services: Any) -> Callable[..., Staff]:
    def make(username: str = "agent1", role: str = "agent") -> Staff:
        user = UserStore(services.sessions).create(username, PASSWORD, role, username.upper())
        client = console_app.test_client()
        response = sign_in(client, username)
        assert response.status_code == 302, response.text
        csrf = csrf_of(client.get("/console").text)
        return Staff(client, user, csrf)

    return make


@pytest.fixture()
def agent(make_staff: Callable[..., Staff]) -> Staff:
    return make_staff("agent1", "agent")


@pytest.fixture()
def admin_staff(make_staff: Callable[..., Staff]) -> Staff:
    return make_staff("boss", "admin")
