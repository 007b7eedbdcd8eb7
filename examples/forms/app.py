"""A small blog editor: forms from a model, redisplay with errors, uploads, CSRF, flashes."""

from __future__ import annotations

import datetime
import enum
import os
from pathlib import Path
from typing import Annotated
from typing import Literal

from pydantic import Field

from trivium import App
from trivium import HTTPException
from trivium import Request
from trivium.csrf import CSRF
from trivium.forms import BoundForm
from trivium.forms import CheckboxSelectMultiple
from trivium.forms import Form
from trivium.forms import FormRenderer
from trivium.forms import Textarea
from trivium.http import UploadFile
from trivium.responses import HTMLResponse
from trivium.responses import RedirectResponse
from trivium.sessions import Sessions
from trivium.templating import Templates
from trivium.templating import flash
from trivium.templating import render

HERE = Path(__file__).parent
SECRET_KEY = os.environ.get("BLOG_SECRET_KEY", "dev-only-secret-key-change-me-please-0123456789")

app = App(plugins=[Sessions(secret_key=SECRET_KEY), CSRF()])  # flashes and CSRF live here
templates = Templates(HERE / "templates", packages=["trivium.forms"])
templates.init_app(app)


# --8<-- [start:form]
class Category(enum.Enum):
    NEWS = "news"
    HOW_TO = "how-to"
    OPINION = "opinion"


class ArticleForm(Form):
    # Draw with the app's environment: templates/forms/*.html override the packaged ones.
    form_renderer = FormRenderer(environment=templates.environment)

    title: Annotated[str, Field(min_length=3, max_length=80)]
    body: Annotated[str, Textarea(rows=6), Field(description="Plain text, no HTML.")]
    category: Category = Category.NEWS
    tags: Annotated[list[Literal["python", "web", "async"]], CheckboxSelectMultiple()] = []
    publish_on: datetime.date | None = None
    featured: bool = False
    cover: UploadFile | None = None


# --8<-- [end:form]

ARTICLES: dict[int, dict[str, object]] = {}


async def save(article_id: int, article: ArticleForm) -> None:
    data = article.model_dump(exclude={"cover"})
    if article.cover is not None:
        content = await article.cover.read()
        data["cover"] = f"{article.cover.filename} ({len(content)} bytes)"
    else:
        data["cover"] = ARTICLES.get(article_id, {}).get("cover")
    ARTICLES[article_id] = data


@app.get("/", name="home")
async def home(request: Request) -> HTMLResponse:
    return await render(request, "home.html", {"articles": ARTICLES})


# --8<-- [start:create]
@app.get("/articles/new", name="new_article")
async def new_article(request: Request) -> HTMLResponse:
    form = ArticleForm.empty(request=request)
    return await render(request, "edit.html", {"form": form, "title": "New article"})


@app.post("/articles/new")
async def create_article(
    request: Request, form: BoundForm[ArticleForm]
) -> HTMLResponse | RedirectResponse:
    if not form.is_valid:  # drawn again: errors, and what was typed (files excepted)
        context = {"form": form, "title": "New article"}
        return await render(request, "edit.html", context, status_code=422)
    article_id = max(ARTICLES, default=0) + 1
    await save(article_id, form.data)
    flash(request, f"Published “{form.data.title}”.", "success")
    return RedirectResponse(request.url_for("home"), 303)  # post/redirect/get


# --8<-- [end:create]


# --8<-- [start:edit]
@app.route("/articles/{article_id}/edit", methods=["GET", "POST"], name="edit_article")
async def edit_article(request: Request, article_id: int) -> HTMLResponse | RedirectResponse:
    article = ARTICLES.get(article_id)
    if article is None:
        raise HTTPException(404, f"There is no article {article_id}.")
    # A GET shows the stored values; a POST binds what was sent.
    form = await ArticleForm.from_request(request, initial=article)
    if form.is_valid and form.data.title.lower() == "untitled":
        form.add_error("title", "Give the article a real title.")
    if not form.is_valid:
        status = 422 if form.is_bound else 200
        context = {"form": form, "title": f"Edit article {article_id}"}
        return await render(request, "edit.html", context, status_code=status)
    await save(article_id, form.data)
    flash(request, "Saved.", "success")
    return RedirectResponse(request.url_for("home"), 303)


# --8<-- [end:edit]
