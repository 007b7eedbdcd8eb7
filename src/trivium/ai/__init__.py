"""AI serving: models loaded once per worker, micro-batching, and (extra `mcp`) an MCP server.

Names load on first use, so `import trivium.ai` stays cheap:

- `Model`, `ModelLoadError`, `ModelNotLoadedError`, `ModelCrashedError` (`trivium.ai.serving`): an app-scoped model run in a
  thread or process pool;
- `batched`, `Batcher`, `BatchError` (`trivium.ai._batch`): dynamic micro-batching;
- `MCP`, `McpTool`, `mcp`, `Prompt` (`trivium.ai._mcp*`): an MCP server of curated routes
  (the `mcp` SDK is imported only when the server starts).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from trivium.ai._batch import Batcher
    from trivium.ai._batch import BatchError
    from trivium.ai._batch import batched
    from trivium.ai._mcp import MCP
    from trivium.ai._mcp import McpTool
    from trivium.ai._mcp_marks import Prompt
    from trivium.ai._mcp_marks import mcp
    from trivium.ai.serving import Model
    from trivium.ai.serving import ModelCrashedError
    from trivium.ai.serving import ModelLoadError
    from trivium.ai.serving import ModelNotLoadedError

__all__ = [
    "MCP",
    "BatchError",
    "Batcher",
    "McpTool",
    "Model",
    "ModelCrashedError",
    "ModelLoadError",
    "ModelNotLoadedError",
    "Prompt",
    "batched",
    "mcp",
]

_LAZY = {
    "BatchError": "trivium.ai._batch",
    "Batcher": "trivium.ai._batch",
    "batched": "trivium.ai._batch",
    "Model": "trivium.ai.serving",
    "ModelCrashedError": "trivium.ai.serving",
    "ModelLoadError": "trivium.ai.serving",
    "ModelNotLoadedError": "trivium.ai.serving",
    "MCP": "trivium.ai._mcp",
    "McpTool": "trivium.ai._mcp",
    "Prompt": "trivium.ai._mcp_marks",
    "mcp": "trivium.ai._mcp_marks",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'trivium.ai' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
