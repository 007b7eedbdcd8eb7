"""Django-style admin pages for SQLAlchemy models, fast on big tables.

```python
from trivium import App
from trivium.admin import Admin, ModelAdmin
from trivium.auth import Auth
from trivium.db import Database

db = Database("sqlite:///app.db")
auth = Auth(db, secret_key="...48 random characters...")
admin = Admin(db, auth)


class PostAdmin(ModelAdmin):
    list_display = ("title", "author__email", "published")
    list_filter = ("published", "author")
    search_fields = ("title",)


admin.register(Post, PostAdmin)
app = App(plugins=[db, auth, admin])  # pages under /admin
```

Needs the `db`, `auth` and `templates` extras. See docs/admin.md.
"""

from __future__ import annotations

from trivium.admin._filters import ListFilter
from trivium.admin._inlines import InlineModelAdmin
from trivium.admin._inlines import StackedInline
from trivium.admin._inlines import TabularInline
from trivium.admin._options import ModelAdmin
from trivium.admin._options import action
from trivium.admin._options import display
from trivium.admin._pages import AdminPage
from trivium.admin._site import Admin

__all__ = [
    "Admin",
    "AdminPage",
    "InlineModelAdmin",
    "ListFilter",
    "ModelAdmin",
    "StackedInline",
    "TabularInline",
    "action",
    "display",
]
