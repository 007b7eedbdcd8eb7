"""The full-stack scenarios with Flask's usual extensions.

Flask-Session keeps the session server-side in Redis, Flask-Login loads the user from
PostgreSQL (SQLAlchemy 2 + psycopg 3, one pooled connection per server thread),
Flask-WTF's `CSRFProtect` checks every unsafe request and validates the forms. Users
are the shared `app_user` table (Argon2id hashes), created by bench/setup_db.py.
"""

from __future__ import annotations

import os

import redis
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from flask import Flask
from flask import redirect
from flask import render_template
from flask_login import LoginManager
from flask_login import UserMixin
from flask_login import current_user
from flask_login import login_required
from flask_login import login_user
from flask_session import Session as ServerSideSession
from flask_wtf import CSRFProtect
from flask_wtf import FlaskForm
from sqlalchemy import ForeignKey
from sqlalchemy import MetaData
from sqlalchemy import create_engine
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import Session
from sqlalchemy.orm import mapped_column
from wtforms import IntegerField
from wtforms import PasswordField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import NumberRange

DATABASE_URL = os.environ.get(
    "BENCH_SYNC_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")

app = Flask(__name__)
app.config.update(
    SECRET_KEY="bench-only-secret-key-not-for-production-0123456789",
    SESSION_TYPE="redis",
    SESSION_REDIS=redis.Redis.from_url(REDIS_URL),
    SESSION_KEY_PREFIX="bench:flask:",
)
ServerSideSession(app)
CSRFProtect(app)
login_manager = LoginManager(app)
# One connection per server thread (gunicorn --threads 8, granian --blocking-threads 8).
engine = create_engine(DATABASE_URL, pool_size=8, max_overflow=0)
hasher = PasswordHasher()


class Base(DeclarativeBase):
    metadata = MetaData(schema="bench_fullstack")  # created by bench/setup_db.py


class User(UserMixin, Base):
    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str]
    password_hash: Mapped[str]
    active: Mapped[bool] = mapped_column("is_active")

    @property
    def is_active(self) -> bool:
        return self.active


class Note(Base):
    __tablename__ = "flask_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("bench_fullstack.app_user.id"))
    title: Mapped[str]
    body: Mapped[str]
    priority: Mapped[int]


class LoginForm(FlaskForm):
    email = StringField(validators=[DataRequired()])
    password = PasswordField(validators=[DataRequired()])


class NoteForm(FlaskForm):
    title = StringField(validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(validators=[Length(max=2000)])
    priority = IntegerField(default=3, validators=[NumberRange(min=1, max=5)])


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    with Session(engine) as session:
        return session.get(User, int(user_id))


@app.get("/json")
def json_message():
    return {"message": "Hello, World!"}


@app.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        with Session(engine) as session:
            user = session.scalar(select(User).where(User.email == form.email.data))
        try:
            if user is not None and hasher.verify(user.password_hash, form.password.data):
                login_user(user)
                return redirect("/notes/new", 303)
        except VerificationError:
            pass
        form.password.errors.append("Invalid email or password.")
    return render_template("login.html", form=form)


@app.get("/me")
@login_required
def me():
    return {"email": current_user.email}


@app.route("/notes/new", methods=["GET", "POST"])
@login_required
def new_note():
    form = NoteForm()
    if form.validate_on_submit():
        with Session(engine) as session:
            session.add(
                Note(
                    user_id=current_user.id,
                    title=form.title.data,
                    body=form.body.data or "",
                    priority=form.priority.data,
                )
            )
            session.commit()
        return redirect("/notes/new", 303)
    return render_template("note_form.html", form=form)
