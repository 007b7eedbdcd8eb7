"""Logs, metrics, traces and health checks, as one plugin on the public protocol.

```python
from trivium import App
from trivium.observability import Observability

app = App(plugins=[Observability(metrics=True, access_log=True)])
```

Every route gets one request step (compiled at start-up, no ASGI middleware) that binds
the request ID (accepted from `X-Request-ID` when well-formed, else generated, and
echoed) and the client address for log records, counts and times the request by route
template and status for Prometheus (correct across Granian's worker processes), and
opens an OpenTelemetry span when asked. `/livez` and `/readyz` tell an orchestrator
whether the process is alive and ready (databases reachable and migrated, stores
reachable). See docs/observability.md.
"""

from __future__ import annotations

from trivium.observability._health import Check
from trivium.observability._metrics import MULTIPROC_ENV
from trivium.observability._metrics import Metrics
from trivium.observability._plugin import Observability
from trivium.observability._plugin import ObservabilityStep

__all__ = ["MULTIPROC_ENV", "Check", "Metrics", "Observability", "ObservabilityStep"]
