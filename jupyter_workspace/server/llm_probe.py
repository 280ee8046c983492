"""Whether the configured LLM answers: a cheap probe at start, after a model failure, on request.

A green "AI: ready" while no LLM server runs sends a newcomer to a chat that can only fail, so
the coordinator asks the LLM server's address for its model list (Ollama: `GET /api/tags`, an
OpenAI-compatible server: `GET {base}/models`) with a short timeout. The probe sends no key: any
HTTP answer means the server is up (a 401 is about the key, which a chat error then explains).
It probes only configured addresses (a request may name one of `llm_api_bases`, as a chat
request may), so no request makes the server fetch a URL of its choosing. A provider's default
address (no `llm_api_base`: OpenAI, Anthropic, ...) is not probed: its state stays `unknown`,
which the UI treats as usable, until a model call says otherwise.

States (`protocol.LLM_STATES`): checking, ready, unreachable, no_model (Ollama answers but has
not pulled the model), unknown. A check is not repeated within `min_interval` unless forced
(the Test connection button); each change is published as an `llm.state` event.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from .. import protocol
from .assistant import LLMConfig
from .tasking import cancel_and_wait

Target = tuple[str, str | None]  # (model, api_base) as LLMConfig.resolve answers them

OLLAMA_PREFIXES = ("ollama/", "ollama_chat/")
# Failures of a model call that may mean the server went away or lost the model.
RECHECK_KINDS = frozenset({"timeout", "not_found"})


class LLMProbe:
    def __init__(
        self,
        config: Callable[[], LLMConfig],
        publish: Callable[[dict[str, Any]], None],
        *,
        timeout: float = 3.0,
        min_interval: float = 10.0,
    ) -> None:
        self._config = config
        self.publish = publish
        self.timeout = timeout
        self.min_interval = min_interval
        self._results: dict[Target, protocol.LLMDescription] = {}
        self._checked_at: dict[Target, float] = {}  # time.monotonic() of the last probe
        self._running: dict[Target, asyncio.Future[protocol.LLMDescription]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- public --------------------------------------------------------------------------------
    def target(self, model: str | None = None, api_base: str | None = None) -> Target:
        """The model and address a check is about: the configuration's, or a request's choice
        (`BadRequest` for an address that is not configured)."""
        config = self._config()
        base = config.configured_base(api_base) if api_base else None
        return config.resolve(model or None, base)

    def describe(self, target: Target | None = None) -> protocol.LLMDescription:
        """The last known state of `target` (default: the configured LLM)."""
        target = target or self.target()
        return self._results.get(target) or _description(target, "checking", None)

    def start(self) -> None:
        """Check the configured LLM in the background (the server's start does not wait)."""
        self._spawn(self.check())

    async def stop(self) -> None:
        for task in list(self._tasks):
            await cancel_and_wait(task)

    async def check(
        self, target: Target | None = None, *, force: bool = False
    ) -> protocol.LLMDescription:
        """Probe `target` (default: the configured LLM) unless it was probed within
        `min_interval`; concurrent checks of one target share one probe."""
        target = target or self.target()
        last = self._checked_at.get(target)
        if not force and last is not None and time.monotonic() - last < self.min_interval:
            return self.describe(target)
        running = self._running.get(target)
        if running is None:
            running = asyncio.ensure_future(self._probe(target))
            self._running[target] = running
            running.add_done_callback(lambda _: self._running.pop(target, None))
        return await asyncio.shield(running)

    def observe(self, model: str, api_base: str | None, kind: str | None, message: str) -> None:
        """What a model call found (`kind` None: it answered), so the state follows real use:
        an unreachable server is marked at once, an answer clears a failure, other failures
        that may mean the server changed are checked again."""
        target = (model, api_base)
        known = self._results.get(target)
        state = known["state"] if known is not None else None
        if kind is None:
            if state != "ready":
                self._set(target, "ready", None)
        elif kind == "unreachable":
            self._set(target, "unreachable", message)
        elif kind in RECHECK_KINDS:
            self._spawn(self.check(target))

    # -- probing -------------------------------------------------------------------------------
    async def _probe(self, target: Target) -> protocol.LLMDescription:
        model, base = target
        self._checked_at[target] = time.monotonic()
        if not base:
            return self._set(target, "unknown", None)
        if target not in self._results:
            self._set(target, "checking", None)
        ollama = model.startswith(OLLAMA_PREFIXES)
        url = base.rstrip("/") + ("/api/tags" if ollama else "/models")
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                response = await http.get(url)
        except httpx.HTTPError as e:
            return self._set(
                target, "unreachable", f"no LLM server answered at {base} ({type(e).__name__})"
            )
        if ollama and response.status_code == 200:
            name = model.split("/", 1)[1]
            if not _ollama_has(response, name):
                return self._set(
                    target,
                    "no_model",
                    f"Ollama at {base} has no model {name}: run `ollama pull {name}`",
                )
        return self._set(target, "ready", None)

    def _set(self, target: Target, state: str, error: str | None) -> protocol.LLMDescription:
        description = _description(target, state, error)
        previous = self._results.get(target)
        self._results[target] = description
        if previous is None or (previous["state"], previous["error"]) != (state, error):
            self.publish({"type": protocol.LLM_STATE, "llm": description})
        return description

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _description(target: Target, state: str, error: str | None) -> protocol.LLMDescription:
    return {
        "model": target[0],
        "api_base": target[1],
        "state": state,
        "error": error,
        "checked_at": time.time(),
    }


def _ollama_has(response: httpx.Response, name: str) -> bool:
    """Whether Ollama's model list names `name` (`llama3.2` is `llama3.2:latest` there). An
    answer that is no model list counts as having it: the server is up, a chat says more."""
    try:
        models = response.json().get("models")
        names = {str(m.get("name") or m.get("model")) for m in models}
    except (ValueError, AttributeError, TypeError):
        return True
    return name in names or f"{name}:latest" in names
