"""The admin over HTTP: access, change list, forms, conflicts, deletion (every database)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import anyio
from sqlalchemy import func
from sqlalchemy import select
from tests.admin.adminapp import Article
from tests.admin.adminapp import ArticleComment
from tests.admin.adminapp import Memo
from tests.admin.adminapp import Writer
from tests.admin.adminapp import WriterNote
from tests.admin.adminapp import csrf_of
from tests.admin.adminapp import grant
from tests.admin.adminapp import log_in
from tests.admin.adminapp import make_app
from tests.admin.adminapp import seed
from tests.admin.adminapp import twin

from trivium import Depends
from trivium.db import Database
from trivium.testing import TestClient


@contextlib.contextmanager
def client_as(db: Database, email: str | None, articles: int = 12) -> Iterator[TestClient]:
    anyio.run(seed, db, articles)
    app, _, _ = make_app(db)
    with TestClient(app, follow_redirects=False) as client:
        if email is not None:
            log_in(client, email)
        yield client


async def _scalar(db: Database, statement: object) -> object:
    db = twin(db)
    async with db.sessionmaker() as session:
        value = await session.scalar(statement)  # type: ignore[call-overload]
    await db.dispose()
    return value


def scalar(db: Database, statement: object) -> object:
    return anyio.run(_scalar, db, statement)


def titles(text: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', text)


def test_anonymous_users_are_sent_to_the_login_page(db: Database) -> None:
    with client_as(db, None) as client:
        answer = client.get("/admin/blog/article?q=x")
        assert answer.status_code == 303
        assert (
            answer.headers["location"]
            == "/admin/accounts/login?next=%2Fadmin%2Fblog%2Farticle%3Fq%3Dx"
        )


def test_users_who_are_not_staff_get_403(db: Database) -> None:
    with client_as(db, "plain@example.com") as client:
        assert client.get("/admin").status_code == 403
        assert client.get("/admin/blog/article").status_code == 403


def test_staff_without_permissions_see_no_models_and_cannot_open_them(db: Database) -> None:
    with client_as(db, "staff@example.com") as client:
        index = client.get("/admin")
        assert index.status_code == 200
        assert "permission to view or edit anything" in index.text
        assert client.get("/admin/blog/article").status_code == 403
        assert client.get("/admin/blog/article/1/change").status_code == 403
        assert client.get("/admin/blog/article/add").status_code == 403
        assert client.get("/admin/blog/article/export?format=csv").status_code == 403


def test_change_list_shows_columns_related_fields_and_pages(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get("/admin/blog/article?o=title")
        assert page.status_code == 200
        assert titles(page.text) == ["Post 00", "Post 01", "Post 02", "Post 03", "Post 04"]
        assert "<td>Octavia</td>" in page.text  # writer__name
        assert "12 article objects" in page.text
        second = client.get("/admin/blog/article?o=title&p=3")
        assert titles(second.text) == ["Post 10", "Post 11"]
        descending = client.get("/admin/blog/article?o=-title")
        assert titles(descending.text)[0] == "Post 11"


def test_search_filters_and_date_drill_down(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        found = client.get("/admin/blog/article?q=post+07")
        assert titles(found.text) == ["Post 07"]
        by_writer = client.get("/admin/blog/article?q=octavia&o=title")
        assert titles(by_writer.text) == ["Post 00", "Post 03", "Post 06", "Post 09"]
        published = client.get("/admin/blog/article?published__exact=1&status__exact=live&o=title")
        assert titles(published.text) == ["Post 00", "Post 04", "Post 08"]
        octavia = scalar(db, select(Writer.id).where(Writer.name == "Octavia"))
        mine = client.get(f"/admin/blog/article?writer_id__exact={octavia}&published__exact=0")
        assert sorted(titles(mine.text)) == ["Post 03", "Post 09"]
        year = scalar(db, select(func.min(Article.id)))
        assert year is not None
        drill = client.get("/admin/blog/article")
        this_year = re.search(r"created_at__year=(\d{4})", drill.text)
        assert this_year is not None
        in_year = client.get(f"/admin/blog/article?created_at__year={this_year.group(1)}")
        assert "12 article objects" in in_year.text
        assert "created_at__month=12" in in_year.text


def test_malformed_filters_and_sort_keys_are_ignored_with_a_message(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get(
            "/admin/blog/article?o=nope,-secret_note&published__exact=maybe"
            "&writer_id__exact=abc&created_at__gte=yesterday&p=x&after=%%%&bogus=1"
            "&created_at__year=99999"
        )
        assert page.status_code == 200
        text = page.text
        assert "Ignored the unknown sort field &#39;nope&#39;" in text
        assert "Ignored the unknown sort field &#39;-secret_note&#39;" in text
        assert "Ignored the filter &#39;published&#39;" in text
        assert "Ignored the filter &#39;writer&#39;" in text
        assert "Ignored the filter &#39;created at&#39;" in text
        assert "Ignored the unknown parameter &#39;bogus&#39;" in text
        assert "Ignored the date filter" in text
        assert "12 article objects" in text


def test_values_are_escaped(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get("/admin/blog/article/add")
        answer = client.post(
            "/admin/blog/article/add",
            data={
                "title": "<script>alert(1)</script>",
                "status": "draft",
                "csrf_token": csrf_of(page),
            },
        )
        assert answer.status_code == 303, answer.text
        listing = client.get("/admin/blog/article?q=alert")
        assert "<script>alert(1)</script>" not in listing.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing.text


def test_add_redisplays_errors_beside_fields_and_ignores_readonly_and_excluded(
    db: Database,
) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get("/admin/blog/article/add")
        assert 'name="secret_note"' not in page.text
        assert 'name="created_at"' not in page.text
        token = csrf_of(page)
        bad = client.post(
            "/admin/blog/article/add", data={"title": "", "status": "nope", "csrf_token": token}
        )
        assert bad.status_code == 422
        assert 'aria-invalid="true"' in bad.text
        assert "Please correct the errors below." in bad.text
        good = client.post(
            "/admin/blog/article/add",
            data={
                "title": "Fresh",
                "status": "live",
                "published": "true",
                "secret_note": "mass assignment",
                "created_at": "2001-01-01T00:00:00Z",
                "csrf_token": token,
                "_continue": "1",
            },
        )
        assert good.status_code == 303, good.text
        assert re.fullmatch(r"/admin/blog/article/\d+/change", good.headers["location"])
        note = scalar(db, select(Article.secret_note).where(Article.title == "Fresh"))
        created = scalar(db, select(Article.created_at).where(Article.title == "Fresh"))
        assert note == ""
        assert created is not None
        assert created.year > 2001  # type: ignore[attr-defined]
        assert "Fresh" in client.get("/admin").text  # recent actions


def test_a_foreign_key_naming_no_row_is_a_field_error(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get("/admin/blog/article/add")
        answer = client.post(
            "/admin/blog/article/add",
            data={
                "title": "x",
                "status": "draft",
                "writer_id": "999999",
                "csrf_token": csrf_of(page),
            },
        )
        assert answer.status_code == 422
        assert "No writer has the key 999999." in answer.text


def test_an_invalid_form_with_a_foreign_key_is_redrawn_not_a_500(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get("/admin/blog/article/add")
        writer = client.post(
            "/admin/blog/writer/add",
            data={"name": "Ada", "csrf_token": csrf_of(client.get("/admin/blog/writer/add"))},
        )
        assert writer.status_code == 303, writer.text
        writer_id = str(scalar(db, select(Writer.id).where(Writer.name == "Ada")))
        for title, key in (("", writer_id), ("x" * 500, writer_id), ("", "<script>")):
            answer = client.post(
                "/admin/blog/article/add",
                data={
                    "title": title,
                    "status": "draft",
                    "writer_id": key,
                    "csrf_token": csrf_of(page),
                },
            )
            assert answer.status_code == 422, (title[:5], key, answer.text[:200])
            assert "Please correct the errors below." in answer.text


def test_keys_and_filters_out_of_a_columns_range_never_fail_the_page(db: Database) -> None:
    huge = "99999999999999999999999"
    with client_as(db, "root@example.com") as client:
        for path in ("change", "delete", "history"):
            assert client.get(f"/admin/blog/article/{huge}/{path}").status_code == 404
        listing = client.get(f"/admin/blog/article?writer_id__exact={huge}")
        assert listing.status_code == 200
        assert client.get("/admin/blog/article?q=a%00b").status_code == 200
        assert client.get(f"/admin/audit?before={huge}").status_code in (200, 403, 404)
        page = client.get("/admin/blog/article/add")
        answer = client.post(
            "/admin/blog/article/add",
            data={"title": "x", "status": "draft", "writer_id": huge, "csrf_token": csrf_of(page)},
        )
        assert answer.status_code == 422
        assert f"No writer has the key {huge}." in answer.text


def test_forms_need_the_csrf_token(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        answer = client.post("/admin/blog/article/add", data={"title": "x", "status": "draft"})
        assert answer.status_code == 403
        assert (
            scalar(db, select(func.count()).select_from(Article).where(Article.title == "x")) == 0
        )


def test_concurrent_edits_are_refused_with_a_conflict_message(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        first = client.get("/admin/blog/article/1/change")
        second = client.get("/admin/blog/article/1/change")
        etag = re.search(r'name="_etag" value="([^"]+)"', first.text)
        assert etag is not None
        common = {
            "status": "draft",
            "csrf_token": csrf_of(first),
            "_etag": etag.group(1).replace("&#34;", '"'),
        }
        saved = client.post("/admin/blog/article/1/change", data={**common, "title": "Mine"})
        assert saved.status_code == 303, saved.text
        late = client.post("/admin/blog/article/1/change", data={**common, "title": "Theirs"})
        assert late.status_code == 409
        assert "Someone else changed this article" in late.text
        assert 'value="Mine"' in late.text
        assert second.status_code == 200
        assert scalar(db, select(Article.title).where(Article.id == 1)) == "Mine"


def test_versioned_models_use_their_version_as_the_tag(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get("/admin/blog/memo/add")
        client.post("/admin/blog/memo/add", data={"text": "v1", "csrf_token": csrf_of(page)})
        memo = scalar(db, select(Memo.id))
        form = client.get(f"/admin/blog/memo/{memo}/change")
        assert "-v1&#34;" in form.text
        tag = f'"Memo-{memo}-v1"'
        ok = client.post(
            f"/admin/blog/memo/{memo}/change",
            data={"text": "v2", "_etag": tag, "csrf_token": csrf_of(form)},
        )
        assert ok.status_code == 303
        stale = client.post(
            f"/admin/blog/memo/{memo}/change",
            data={"text": "v3", "_etag": tag, "csrf_token": csrf_of(form)},
        )
        assert stale.status_code == 409
        assert scalar(db, select(Memo.text)) == "v2"


def test_delete_confirmation_lists_what_cascades(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        octavia = scalar(db, select(Writer.id).where(Writer.name == "Octavia"))
        confirm = client.get(f"/admin/blog/writer/{octavia}/delete")
        assert confirm.status_code == 200
        assert "Also deleted" in confirm.text
        assert "article: 4" in confirm.text
        assert "Post 00" in confirm.text
        done = client.post(
            f"/admin/blog/writer/{octavia}/delete", data={"csrf_token": csrf_of(confirm)}
        )
        assert done.status_code == 303
        assert scalar(db, select(func.count()).select_from(Article)) == 8
        assert scalar(db, select(func.count()).select_from(Writer)) == 1


def test_view_only_staff_get_a_read_only_page_and_cannot_post(db: Database) -> None:
    with client_as(db, None) as client:
        anyio.run(grant, db, "staff@example.com", "blog.view_article")
        log_in(client, "staff@example.com")
        listing = client.get("/admin/blog/article")
        assert listing.status_code == 200
        page = client.get("/admin/blog/article/1/change")
        assert page.status_code == 200
        assert 'name="title"' not in page.text
        assert 'data-field="title"' in page.text
        refused = client.post(
            "/admin/blog/article/1/change", data={"title": "x", "csrf_token": csrf_of(page)}
        )
        assert refused.status_code == 403
        assert client.get("/admin/blog/article/1/delete").status_code == 403
        assert client.get("/admin/blog/article/add").status_code == 403
        assert scalar(db, select(Article.title).where(Article.id == 1)) == "Post 00"


async def _note(db: Database) -> None:
    db = twin(db)
    async with db.sessionmaker() as session:
        session.add(WriterNote(writer_id=1, article_id=2, text="keep me"))
        await session.commit()
    await db.dispose()


def test_deletion_lists_unlinked_rows_and_refuses_when_rows_protect_the_object(
    db: Database,
) -> None:
    with client_as(db, "root@example.com") as client:
        anyio.run(_note, db)
        article = client.get("/admin/blog/article/2/delete")
        assert "Unlinked" in article.text
        assert "writer note: 1 (keep me)" in article.text
        writer = client.get("/admin/blog/writer/1/delete")
        assert "which are protected" in writer.text
        assert "writer note: 1 (keep me)" in writer.text
        assert "Yes, I’m sure" not in writer.text
        refused = client.post("/admin/blog/writer/1/delete", data={"csrf_token": csrf_of(article)})
        assert refused.status_code == 409
        assert scalar(db, select(func.count()).select_from(Writer)) == 2
        done = client.post("/admin/blog/article/2/delete", data={"csrf_token": csrf_of(article)})
        assert done.status_code == 303
        assert scalar(db, select(WriterNote.article_id)) is None


def test_the_change_list_sorts_by_a_related_column(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        page = client.get("/admin/blog/article?o=writer__name")
        assert page.status_code == 200
        assert "Ignored" not in page.text
        # Octavia wrote posts 0, 3, 6 and 9; ties go by key.
        assert titles(page.text) == ["Post 00", "Post 03", "Post 06", "Post 09", "Post 01"]
        assert 'href="?o=-writer__name"' in page.text  # the header now sorts descending
        descending = client.get("/admin/blog/article?o=-writer__name")
        assert titles(descending.text) == ["Post 11", "Post 10", "Post 08", "Post 07", "Post 05"]
        second = client.get("/admin/blog/article?o=writer__name&p=2")
        assert titles(second.text) == ["Post 02", "Post 04", "Post 05", "Post 07", "Post 08"]


async def _comment_on_post_00(db: Database) -> None:
    db = twin(db)
    async with db.sessionmaker() as session:
        post = (await session.scalars(select(Article).where(Article.title == "Post 00"))).one()
        session.add(ArticleComment(article_id=post.id, author="Ann", text="cascades twice"))
        await session.commit()
    await db.dispose()


def test_the_confirmation_follows_cascades_below_the_first_level(db: Database) -> None:
    with client_as(db, "root@example.com") as client:
        anyio.run(_comment_on_post_00, db)
        octavia = scalar(db, select(Writer.id).where(Writer.name == "Octavia"))
        confirm = client.get(f"/admin/blog/writer/{octavia}/delete")
        assert "article: 4" in confirm.text
        # The writer's articles take their comments with them: listed too.
        assert re.search(r"comment[^<]*\(of the article deleted with it\): 1", confirm.text)
        done = client.post(
            f"/admin/blog/writer/{octavia}/delete", data={"csrf_token": csrf_of(confirm)}
        )
        assert done.status_code == 303
        assert scalar(db, select(func.count()).select_from(ArticleComment)) == 0


def test_the_apps_own_login_page_stays_where_page_guards_send_visitors(db: Database) -> None:
    """Installing the admin (its login pages under its prefix) moves no site redirect."""
    from trivium import App
    from trivium.admin import Admin
    from trivium.auth import Auth
    from trivium.auth import login_required
    from trivium.stores import MemoryStore
    from trivium.templating import Templates

    auth = Auth(db, secret_key="s" * 40, session_store=MemoryStore())
    templates = Templates(directory=None, packages=["trivium.auth"])
    app = App(plugins=[db, auth, templates, Admin(db, auth, prefix="/backoffice")])
    app.include_router(auth.pages_router(templates=templates, prefix="/accounts"))

    @app.get("/dashboard", dependencies=[Depends(login_required)])
    async def dashboard() -> dict[str, str]:
        return {}

    with TestClient(app, follow_redirects=False) as client:
        site = client.get("/dashboard")
        back_office = client.get("/backoffice")
    assert site.headers["location"] == "/accounts/login?next=/dashboard"
    assert back_office.headers["location"].startswith("/backoffice/accounts/login")
