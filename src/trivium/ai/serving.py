"""`Model`: an app-scoped model, loaded once per worker, run off the event loop.

```python
from trivium import App
from trivium.ai import Model, batched


def load():  # module level: a process pool calls it in each of its processes
    return joblib.load("model.joblib")


def predict(model, rows):  # runs in the pool, with the loaded model
    return model.predict(rows).tolist()


model = Model(load, executor="thread")  # or "process" (workers=N), or "loop"
app = App(plugins=[model])


@batched(max_size=32, max_wait_ms=5)
async def classify(rows: list[list[float]]) -> list[int]:
    return await model.run(predict, rows)
```

The model is loaded at start-up (in the executor, so a slow load does not block the
loop) and closed at shutdown. Inference runs where `executor` says:

| executor | where `run(fn, ...)` runs `fn(model, ...)` | for |
|---|---|---|
| `"thread"` (default) | a pool of `workers` threads (default 1), the model loaded once | libraries that release the GIL (NumPy, scikit-learn, ONNX Runtime, PyTorch) |
| `"process"` | a pool of `workers` processes, each loading the model once | pure-Python models that hold the GIL |
| `"loop"` | on the event loop itself | models so cheap that a hop costs more |

With `"process"`, `load` and the functions given to `run` must be importable
module-level functions (they are sent to the pool by name) and arguments and results
are pickled. A pool process that dies during a call (the OOM killer, a crash in native
code) fails that call with `ModelCrashedError` (a 503 in a handler) and the pool is
started again for the next ones: one bad input never takes the model down for good.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import concurrent.futures.process
import contextlib
import functools
import multiprocessing
import os
import threading
import time
from collections.abc import AsyncIterator
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar
from typing import Literal
from typing import TypeVar

from trivium.errors import ConfigurationError
from trivium.errors import ServiceUnavailable
from trivium.errors import TriviumError
from trivium.plugins import Plugin

if TYPE_CHECKING:
    from trivium.app import App

__all__ = ["Model", "ModelCrashedError", "ModelLoadError", "ModelNotLoadedError"]

R = TypeVar("R")

_EXECUTORS = ("thread", "process", "loop")
_PROCESS_MODEL: Any = None  # the model of a pool process (loaded by its initializer)


class ModelCrashedError(ServiceUnavailable):
    """503: a pool process died during this call; the pool was started again."""


class ModelLoadError(TriviumError):
    """The model's `load` failed at start-up; the app does not start.

    Its cause (`__cause__`) is `load`'s own exception, whose traceback the start-up log
    shows; with the process executor that traceback is in the pool process's output.
    """


class ModelNotLoadedError(RuntimeError):
    """`Model.run` or `Model.instance` before the app started (or after it stopped)."""


_PARENT_POLL_SECONDS = 1.0


def _load_in_process(load: Callable[[], Any], parent: int) -> None:
    global _PROCESS_MODEL
    threading.Thread(
        target=_exit_with_parent, args=(parent,), name="model-parent-watch", daemon=True
    ).start()
    _PROCESS_MODEL = load()


def _exit_with_parent(parent: int) -> None:
    """End this pool process once the server worker that started it is gone.

    A worker killed outright (`kill -9`, out of memory) cannot shut its pool down; its
    processes would live on, each holding a copy of the model.
    """
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_SECONDS)
    os._exit(0)


def _run_in_process(func: Callable[..., R], args: tuple[Any, ...]) -> R:
    return func(_PROCESS_MODEL, *args)


class Model(Plugin):
    """A model loaded once per worker and run in a thread or process pool.

    Args:
        load: returns the model (called once per worker, or once per pool process).
        executor: `"thread"`, `"process"` or `"loop"` (see the module docstring).
        workers: threads or processes of the pool (default 1).
        name: tells several models apart in errors and logs.

    Raises:
        ConfigurationError: an unknown executor, or `workers` not a whole number ≥ 1
            (`ai-model-option`).
    """

    unique: ClassVar[bool] = False
    install_hint: ClassVar[str] = "app.install(Model(load))"

    def __init__(
        self,
        load: Callable[[], Any],
        *,
        executor: Literal["thread", "process", "loop"] = "thread",
        workers: int = 1,
        name: str | None = None,
    ) -> None:
        if not callable(load):
            raise ConfigurationError(
                f"Model(load=...) takes a function that returns the model, not {load!r}",
                "ai-model-option",
            )
        if executor not in _EXECUTORS:
            raise ConfigurationError(
                f"Model(executor={executor!r}): use one of {', '.join(_EXECUTORS)}",
                "ai-model-option",
            )
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigurationError(
                f"Model(workers={workers!r}) must be a whole number, 1 or more", "ai-model-option"
            )
        self.load = load
        self.executor = executor
        self.workers = workers
        self.name = name or getattr(load, "__qualname__", "model")
        self._model: Any = None
        self._loaded = False
        self._pool: concurrent.futures.Executor | None = None

    @property
    def instance(self) -> Any:
        """The loaded model (thread and loop executors).

        Raises:
            ModelNotLoadedError: before start-up, after shutdown, or with the process
                executor (the model lives in the pool's processes).
        """
        if not self._loaded:
            raise ModelNotLoadedError(self._not_loaded())
        return self._model

    def _not_loaded(self) -> str:
        if self.executor == "process" and self._pool is not None:
            return (
                f"model {self.name!r} lives in the pool's processes; use `await model.run(fn, ...)`"
            )
        return (
            f"model {self.name!r} is not loaded: install the Model in the app "
            "(App(plugins=[model])) and call it while the app runs"
        )

    async def run(self, func: Callable[..., R], *args: Any) -> R:
        """Return `func(model, *args)`, run on the model's executor."""
        if self._pool is None and not (self.executor == "loop" and self._loaded):
            raise ModelNotLoadedError(self._not_loaded())
        if self.executor == "loop":
            return func(self._model, *args)
        loop = asyncio.get_running_loop()
        pool = self._pool
        assert pool is not None
        if self.executor != "process":
            return await loop.run_in_executor(pool, functools.partial(func, self._model, *args))
        try:
            return await loop.run_in_executor(pool, functools.partial(_run_in_process, func, args))
        except concurrent.futures.process.BrokenProcessPool as exc:
            self._restart(pool)
            raise ModelCrashedError(
                f"model {self.name!r}: a pool process died during this call (killed, out "
                "of memory or crashed); the pool was started again",
                retry_after=1,
            ) from exc

    def _restart(self, broken: concurrent.futures.Executor) -> None:
        """Replace a broken process pool (once, whichever failed call comes first)."""
        if self._pool is not broken:
            return  # another call restarted it already, or the app stopped
        self._pool = self._process_pool()
        broken.shutdown(wait=False, cancel_futures=True)

    def _process_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        # Spawned, not forked: a fork of a process running an event loop and threads
        # (the server's) is not safe. Each process loads the model as it starts.
        return concurrent.futures.ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_load_in_process,
            initargs=(self.load, os.getpid()),
        )

    def lifespan(self, app: App) -> contextlib.AbstractAsyncContextManager[None]:
        """Load the model at start-up; shut its pool down at shutdown."""
        del app
        return self._serving()

    @contextlib.asynccontextmanager
    async def _serving(self) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        try:
            await self._load(loop)
        except Exception as exc:
            pool, self._pool = self._pool, None
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
            raise self._load_error(exc) from exc
        try:
            yield None
        finally:
            pool, self._pool = self._pool, None
            self._model, self._loaded = None, False
            if pool is not None:
                await loop.run_in_executor(None, functools.partial(pool.shutdown, wait=True))

    async def _load(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.executor == "process":
            self._pool = self._process_pool()
            # Start every process (each loads the model) before serving.
            await asyncio.gather(
                *(loop.run_in_executor(self._pool, _noop) for _ in range(self.workers))
            )
            return
        if self.executor == "thread":
            self._pool = concurrent.futures.ThreadPoolExecutor(
                self.workers, thread_name_prefix=f"model-{self.name}"
            )
        self._model = await loop.run_in_executor(self._pool, self.load)
        self._loaded = True

    def _load_error(self, exc: Exception) -> ModelLoadError:
        if isinstance(exc, concurrent.futures.process.BrokenProcessPool):
            return ModelLoadError(
                f"model {self.name!r} failed to load in a pool process (its traceback is in "
                "that process's output above); the app does not start"
            )
        return ModelLoadError(
            f"model {self.name!r} failed to load ({type(exc).__name__}: {exc}); "
            "the app does not start"
        )


def _noop() -> None:
    return None
