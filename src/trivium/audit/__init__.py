"""An audit trail that sees every write made through trivium's data layer.

```python
from datetime import timedelta

from trivium import App
from trivium.audit import Audit
from trivium.db import Database

db = Database("postgresql://app@localhost/app")
audit = Audit(db, retention=timedelta(days=365))
app = App(plugins=[db, audit])
```

Every create, update and delete made through `db`'s sessions (handlers, `crud_router`,
`Model.objects(...)` including bulk `update()`/`delete()`, many-to-many links, plain ORM
flushes) writes an `AuditEntry` in the same transaction: who (the request's user or API
token, or `actor(...)`), which request, which object, what changed (secrets redacted),
when. `Audit.history`, `Audit.log` and `Audit.revert` read and use the trail;
`trivium audit purge` trims it. See docs/audit.md.
"""

from __future__ import annotations

from trivium.audit._audit import MAX_LOG_PAGE
from trivium.audit._audit import Audit
from trivium.audit._capture import DEFAULT_SECRETS
from trivium.audit._capture import DEFAULT_UNTRACKED
from trivium.audit._cli import parse_age
from trivium.audit._context import Actor
from trivium.audit._context import actor
from trivium.audit._context import current_actor
from trivium.audit._models import REDACTED
from trivium.audit._models import TABLE
from trivium.audit._models import Action
from trivium.audit._models import ActorKind
from trivium.audit._models import AuditEntry
from trivium.audit._models import AuditEntryRead
from trivium.audit._models import encode_pk

__all__ = [
    "DEFAULT_SECRETS",
    "DEFAULT_UNTRACKED",
    "MAX_LOG_PAGE",
    "REDACTED",
    "TABLE",
    "Action",
    "Actor",
    "ActorKind",
    "Audit",
    "AuditEntry",
    "AuditEntryRead",
    "actor",
    "current_actor",
    "encode_pk",
    "parse_age",
]
