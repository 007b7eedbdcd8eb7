"""A small Flask app with Flask-Login and its own SQLite users table."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from flask import Flask
from flask import request
from flask_login import LoginManager
from flask_login import UserMixin
from flask_login import current_user
from flask_login import login_user
from flask_login import logout_user

SECRET = "flask-login-secret-for-tests"


class LegacyUser(UserMixin):
    def __init__(self, user_id: int, email: str) -> None:
        self.id = user_id
        self.email = email


def create_database(path: Path, users: dict[int, str]) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute('CREATE TABLE IF NOT EXISTS "user" (id INTEGER PRIMARY KEY, email TEXT)')
        connection.execute('DELETE FROM "user"')
        connection.executemany('INSERT INTO "user" VALUES (?, ?)', users.items())


def create_app(database: Path) -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    manager = LoginManager(app)

    @manager.user_loader
    def load(user_id: str) -> LegacyUser | None:
        with sqlite3.connect(database) as connection:
            row = connection.execute(
                'SELECT id, email FROM "user" WHERE id = ?', (int(user_id),)
            ).fetchone()
        return LegacyUser(*row) if row else None

    @app.post("/login/<int:user_id>")
    def login(user_id: int) -> dict[str, bool]:
        user = load(str(user_id))
        return {
            "ok": user is not None
            and login_user(user, remember=request.args.get("remember") == "1")
        }

    @app.post("/logout")
    def logout() -> dict[str, bool]:
        logout_user()
        return {"ok": True}

    @app.get("/me")
    def me() -> dict[str, str | None]:
        return {"email": current_user.email if current_user.is_authenticated else None}

    return app
