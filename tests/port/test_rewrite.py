"""port_source: FastAPI/Starlette imports rewritten to trivium.compat, everything else kept."""

from __future__ import annotations

import textwrap

import pytest

from trivium.port import port_source

pytestmark = pytest.mark.drives_no_app


def _port(source: str) -> str:
    return port_source(textwrap.dedent(source), "app.py").source


def test_from_import_keeps_parentheses_comments_and_names() -> None:
    source = """\
        # the app
        from fastapi import (  # framework
            Depends,  # DI
            FastAPI,
        )
    """
    assert _port(source) == textwrap.dedent(
        """\
        # the app
        from trivium.compat.fastapi import (  # framework
            Depends,  # DI
            FastAPI,
        )
        """
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "from fastapi.security import OAuth2PasswordBearer",
            "from trivium.compat.fastapi.security import OAuth2PasswordBearer",
        ),
        (
            "from starlette.middleware.base import BaseHTTPMiddleware",
            "from trivium.compat.starlette.middleware.base import BaseHTTPMiddleware",
        ),
        ("import starlette.status as status", "import trivium.compat.starlette.status as status"),
        ("import fastapi as fa", "import trivium.compat.fastapi as fa"),
        ("from starlette import status", "from trivium.compat.starlette import status"),
        ("from fastapi import *", "from trivium.compat.fastapi import *"),
        ("import fastapi", "from trivium.compat import fastapi"),
    ],
)
def test_import_forms_point_at_trivium_compat(before: str, after: str) -> None:
    assert _port(before + "\n") == after + "\n"


def test_import_fastapi_keeps_attribute_use_working() -> None:
    ported = _port(
        """\
        import fastapi

        def dependency():
            return fastapi.Depends
        """
    )
    namespace: dict[str, object] = {}
    exec(compile(ported, "app.py", "exec"), namespace)
    import trivium.compat.fastapi

    assert namespace["fastapi"] is trivium.compat.fastapi
    assert namespace["dependency"]() is trivium.compat.fastapi.Depends  # type: ignore[operator]


def test_dotted_import_binds_the_package_and_loads_the_submodule() -> None:
    ported = _port("import fastapi.security  # auth\nx = fastapi.security.OAuth2PasswordBearer\n")
    assert ported == (
        "import trivium.compat.fastapi.security  # auth\n"
        "from trivium.compat import fastapi\n"
        "x = fastapi.security.OAuth2PasswordBearer\n"
    )
    namespace: dict[str, object] = {}
    exec(compile(ported, "app.py", "exec"), namespace)
    import trivium.compat.fastapi.security

    assert namespace["x"] is trivium.compat.fastapi.security.OAuth2PasswordBearer


def test_mixed_import_keeps_other_modules() -> None:
    ported = _port("import os, fastapi  # both\n")
    assert ported == "import os  # both\nfrom trivium.compat import fastapi\n"


def test_imports_inside_functions_and_blocks_keep_their_indentation() -> None:
    source = """\
        def main():
            if True:
                import fastapi.security
                from fastapi import Depends
            return Depends
    """
    assert _port(source) == textwrap.dedent(
        """\
        def main():
            if True:
                import trivium.compat.fastapi.security
                from trivium.compat import fastapi
                from trivium.compat.fastapi import Depends
            return Depends
        """
    )


def test_porting_twice_changes_nothing_more() -> None:
    source = textwrap.dedent(
        """\
        import fastapi.security
        import starlette.status as status
        from fastapi import Depends, FastAPI
        from fastapi_users import FastAPIUsers
        """
    )
    once = port_source(source, "app.py")
    twice = port_source(once.source, "app.py")
    assert once.changed
    assert once.converted == 3
    assert not twice.changed
    assert twice.source == once.source
    assert twice.converted == 0


def test_ported_imports_are_neither_changed_nor_reported() -> None:
    source = textwrap.dedent(
        """\
        import fastapi
        import fastapi as fa
        import fastapi.security
        import starlette
        import starlette.status as status
        from fastapi import FastAPI
        from starlette.responses import JSONResponse
        """
    )
    once = port_source(source, "app.py")
    twice = port_source(once.source, "app.py")
    assert once.problems == ()
    assert not twice.changed
    assert twice.problems == ()


def test_other_code_and_windows_line_endings_are_untouched() -> None:
    source = (
        "import json\r\nfrom fastapi import Depends\r\n\r\nx = 'from fastapi import Depends'\r\n"
    )
    result = port_source(source, "app.py")
    assert result.source == (
        "import json\r\nfrom trivium.compat.fastapi import Depends\r\n\r\n"
        "x = 'from fastapi import Depends'\r\n"
    )


def test_relative_imports_and_unrelated_modules_are_not_reported() -> None:
    result = port_source(
        "from . import fastapi\nimport os\nfrom myapp.fastapi_helpers import x\n",
        "a.py",
        frozenset({"myapp"}),
    )
    assert not result.changed
    assert result.problems == ()


def test_unconvertible_imports_are_left_and_reported_with_line_and_reason() -> None:
    source = textwrap.dedent(
        """\
        from fastapi import Depends
        from fastapi.dependencies.utils import get_dependant
        from starlette._utils import is_async_callable
        from fastapi_users import FastAPIUsers
        import fastapi_pagination
        from fastapi import Depends, NoSuchName
        """
    )
    result = port_source(source, "app/main.py")
    assert result.source.splitlines()[1:] == source.splitlines()[1:]
    found = {(p.line, p.module): p.reason for p in result.problems}
    assert list(found) == [
        (2, "fastapi.dependencies.utils"),
        (3, "starlette._utils"),
        (4, "fastapi_users"),
        (5, "fastapi_pagination"),
        (6, "fastapi"),
    ]
    assert "internals, not public API" in found[2, "fastapi.dependencies.utils"]
    assert "private module" in found[3, "starlette._utils"]
    assert "third-party FastAPI/Starlette plugin" in found[4, "fastapi_users"]
    assert "has no NoSuchName" in found[6, "fastapi"]
    assert str(result.problems[0]).startswith("app/main.py:2: fastapi.dependencies.utils")


def test_module_trivium_compat_lacks_is_reported() -> None:
    result = port_source("from fastapi.no_such_module import thing\n", "a.py")
    assert not result.changed
    assert [p.reason for p in result.problems] == [
        "trivium.compat has no module trivium.compat.fastapi.no_such_module"
    ]


def test_syntax_error_is_reported_and_source_kept() -> None:
    result = port_source("from fastapi import Depends\ndef broken(:\n", "bad.py")
    assert not result.changed
    assert len(result.problems) == 1
    assert result.problems[0].line == 2
    assert result.problems[0].reason.startswith("could not parse")


def test_strings_naming_fastapi_objects_follow_the_import() -> None:
    source = textwrap.dedent(
        """\
        import pytest
        from unittest import mock


        @pytest.mark.filterwarnings("ignore::fastapi.security.OAuth2PasswordBearer")
        def test_x():
            with mock.patch('starlette.status.HTTP_200_OK', 201):
                pass
            docs = "fastapi.tiangolo.com"
            unknown = "fastapi.security.NoSuchThing"
        """
    )
    result = port_source(source, "test_x.py")
    assert result.converted == 2
    assert '"ignore::trivium.compat.fastapi.security.OAuth2PasswordBearer"' in result.source
    assert "mock.patch('trivium.compat.starlette.status.HTTP_200_OK', 201)" in result.source
    assert 'docs = "fastapi.tiangolo.com"' in result.source
    assert 'unknown = "fastapi.security.NoSuchThing"' in result.source
    assert not port_source(result.source, "test_x.py").changed
