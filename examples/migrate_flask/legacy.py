"""The legacy Flask app: a bookmarks blueprint on SQLite, Jinja templates, a JSON view."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import abort
from flask import current_app
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

HERE = Path(__file__).parent
bp = Blueprint("bookmarks", __name__, template_folder=str(HERE / "templates"))


def connect() -> sqlite3.Connection:
    connection = sqlite3.connect(current_app.config["DATABASE"])
    connection.row_factory = sqlite3.Row
    return connection


def all_bookmarks() -> list[dict[str, object]]:
    with connect() as connection:
        rows = connection.execute("SELECT id, title, url FROM bookmark ORDER BY id").fetchall()
    return [dict(row) for row in rows]


@bp.get("/")
def index() -> str:
    return render_template("bookmarks.html", bookmarks=all_bookmarks())


@bp.post("/add")
def add() -> Response:
    title, url = request.form.get("title", "").strip(), request.form.get("url", "")
    if not title or not url.startswith(("http://", "https://")):
        abort(400)
    with connect() as connection:
        connection.execute("INSERT INTO bookmark (title, url) VALUES (?, ?)", (title, url))
    return redirect(url_for("bookmarks.index"))


@bp.get("/bookmarks.json")
def as_json() -> Response:
    return jsonify(all_bookmarks())


def create_app(database: Path) -> Flask:
    with sqlite3.connect(database) as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS bookmark (id INTEGER PRIMARY KEY, title TEXT, url TEXT)"
        )
    app = Flask(__name__)
    app.config.update(SECRET_KEY="legacy-flask-secret", DATABASE=str(database))
    app.register_blueprint(bp)
    return app
