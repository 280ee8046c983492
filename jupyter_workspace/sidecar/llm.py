"""LLM access through litellm: the only place the workspace talks to model providers.

litellm would fetch its model cost map from the network on import; the local copy is forced
before the first import. Errors are turned into a `kind` and a message fit for a user. The
configured key goes only to the base URL it was configured for, and it never leaves this process
in clear: every configured key is masked literally (and anything that looks like a key by
pattern) in errors, and in everything the process prints (`mask_output`), which the coordinator
logs.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import AsyncIterator
from typing import Any, TextIO

from .. import protocol

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

_KEYISH = re.compile(
    r"\b(sk|key|token|api[_-]?key)[-_A-Za-z0-9]*[=: -]*[A-Za-z0-9_\-\*\.]{8,}", re.IGNORECASE
)
# a key after the words that announce one, whatever it looks like (with a digit, which
# keys have and words such as "Bearer authentication" do not)
_ANNOUNCED = re.compile(
    r"\b(bearer|(?:key|token) provided:?)\s+(?=[^\s\"',;]*\d)"
    r"[^\s\"',;]{8,}",
    re.IGNORECASE,
)
# environment variables holding secrets: provider keys (OPENAI_API_KEY, ...), tokens
_SECRET_NAME = re.compile(
    r"(API_KEY|_TOKEN|_SECRET|_SECRET_KEY|_ACCESS_KEY|_PASSWORD)$", re.IGNORECASE
)
HIDDEN = "…(hidden)"
API_KEY_ENV = protocol.LLM_API_KEY_ENV
# Sent instead of a key to a server the key was not configured for: without one, litellm would
# take a provider's key from the environment (OPENAI_API_KEY, ...) and send that instead.
NO_KEY = "none"


class ChatError(Exception):
    """A provider failure as the user reads it. Its message leaves the sidecar, so it never
    holds a configured key."""

    def __init__(self, kind: str, message: str) -> None:
        message = mask_keys(message)
        super().__init__(message)
        self.kind = kind
        self.message = message


def load() -> str:
    """Import litellm (about 3 s); returns its version."""
    import litellm

    litellm.suppress_debug_info = True
    litellm.drop_params = True
    from importlib.metadata import version

    return version("litellm")


async def stream_chat(
    request: dict[str, Any], usage: dict[str, Any] | None = None
) -> AsyncIterator[str]:
    """Yield the answer's text pieces as the provider streams them. `usage`, if given, is
    filled with what the provider reports it used ({prompt_tokens, completion_tokens, cost};
    cost None when litellm knows no price for the model), when it reports it."""
    import litellm

    model = request["model"]
    api_base = request.get("api_base") or None
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": request["messages"],
        "stream": True,
        "timeout": float(request.get("timeout") or 120),
        "num_retries": 0,
        # the last chunk carries the usage (providers that cannot: dropped, drop_params)
        "stream_options": {"include_usage": True},
    }
    if api_base:
        kwargs["api_base"] = api_base
    key = key_for(api_base)
    if key:
        kwargs["api_key"] = key
    try:
        response = await litellm.acompletion(**kwargs)
    except Exception as e:  # every provider failure becomes a ChatError
        raise classify(e, model, api_base) from None
    try:
        async for chunk in response:
            if usage is not None:
                _read_usage(chunk, model, usage)
            choices = getattr(chunk, "choices", None) or []
            delta = getattr(choices[0], "delta", None) if choices else None
            text = getattr(delta, "content", None) if delta is not None else None
            if text:
                yield text
    except Exception as e:
        raise classify(e, model, api_base) from None
    finally:
        await _close(response)


def _read_usage(chunk: Any, model: str, usage: dict[str, Any]) -> None:
    """The chunk's usage, if it has one, into `usage`. Never raises: usage is a report, and a
    failure to read it must not break the answer."""
    try:
        reported = getattr(chunk, "usage", None)
        if reported is None:
            return
        prompt = int(getattr(reported, "prompt_tokens", 0) or 0)
        completion = int(getattr(reported, "completion_tokens", 0) or 0)
        if not prompt and not completion:
            return
        usage.update(prompt_tokens=prompt, completion_tokens=completion, cost=None)
        cost = getattr(reported, "cost", None)
        if not isinstance(cost, int | float) or isinstance(cost, bool):
            hidden = getattr(chunk, "_hidden_params", None) or {}
            cost = hidden.get("response_cost") if isinstance(hidden, dict) else None
        if not isinstance(cost, int | float) or isinstance(cost, bool):
            cost = _price(model, prompt, completion)
        usage["cost"] = float(cost) if cost is not None else None
    except Exception:  # a report, never a failure
        return


def _price(model: str, prompt: int, completion: int) -> float | None:
    """litellm's price for the tokens, or None for a model it has no price for (a local
    one)."""
    import litellm

    try:
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=model, prompt_tokens=prompt, completion_tokens=completion
        )
    except Exception:  # litellm raises for a model not in its cost map
        return None
    return float(prompt_cost) + float(completion_cost)


async def _close(response: Any) -> None:
    """Close the provider's HTTP response now, so a Stop really stops the provider."""
    for target in (
        response,
        getattr(response, "completion_stream", None),
        getattr(response, "response", None),
    ):
        close = getattr(target, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):  # best effort on teardown
                await close()


def key_for(api_base: str | None) -> str | None:
    """The key for a request to `api_base`: the configured key (or, when none is configured,
    the provider's own from the environment: None) only for the base URL it was configured
    for, protocol.LLM_API_KEY_BASE_ENV (empty: the provider's default address); NO_KEY for
    any other."""
    configured_for = os.environ.get(protocol.LLM_API_KEY_BASE_ENV, "")
    if (api_base or "").rstrip("/") != configured_for.rstrip("/"):
        return NO_KEY
    return os.environ.get(API_KEY_ENV) or None


def configured_keys() -> list[str]:
    """The secrets this process holds in its environment, longest first (so that a key that
    contains another is masked whole)."""
    keys = {
        value
        for name, value in os.environ.items()
        if (name == API_KEY_ENV or _SECRET_NAME.search(name)) and len(value) >= 8
    }
    return sorted(keys, key=len, reverse=True)


def mask_keys(text: str) -> str:
    """`text` with every occurrence of a configured key, and any key after `Bearer` or
    `key provided:`, hidden: what a provider echoes back in an error or a log line."""
    for key in configured_keys():
        text = text.replace(key, HIDDEN)
    return _ANNOUNCED.sub(lambda m: f"{m.group(1)} {HIDDEN}", text)


def mask(text: str) -> str:
    """`mask_keys`, and also anything shaped like a key (`sk-...`, `api_key=...`): for a
    provider's error text, where an unknown key may appear."""
    return _KEYISH.sub(lambda m: m.group(1) + HIDDEN, mask_keys(text))


class _MaskedStream:
    """A text stream that masks keys in what is written to it (the coordinator logs the
    sidecar's output)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(mask_keys(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def mask_output() -> None:
    """Mask keys in everything this process prints to stdout and stderr from now on (logging
    handlers created later write through these too)."""
    if not isinstance(sys.stdout, _MaskedStream):
        sys.stdout = _MaskedStream(sys.stdout)
    if not isinstance(sys.stderr, _MaskedStream):
        sys.stderr = _MaskedStream(sys.stderr)


def classify(error: BaseException, model: str, api_base: str | None) -> ChatError:
    import litellm

    where = api_base or "the provider's default address"
    detail = mask(str(error)).replace("litellm.", "")
    detail = detail if len(detail) <= 400 else detail[:400] + "…"
    exc = litellm.exceptions
    if isinstance(error, exc.Timeout):
        return ChatError("timeout", f"The model {model} did not answer in time ({detail})")
    if isinstance(error, exc.AuthenticationError | exc.PermissionDeniedError) or (
        "missing credentials" in detail.lower() or "api_key" in detail.lower()
    ):
        return ChatError(
            "auth",
            f"The provider refused the API key for {model}. Set the key "
            f"in the server's environment or config. ({detail})",
        )
    if isinstance(error, exc.RateLimitError):
        return ChatError(
            "rate_limit", f"The provider is rate-limiting {model}; try again shortly. ({detail})"
        )
    if isinstance(error, exc.NotFoundError):
        return ChatError("not_found", f"The provider does not know the model {model}. ({detail})")
    if isinstance(error, exc.APIConnectionError) or _is_connection_error(error):
        return ChatError(
            "unreachable",
            f"No LLM server answered at {where} for {model}. "
            "Is it running (for Ollama: `ollama serve`)? "
            f"({detail})",
        )
    if isinstance(error, exc.BadRequestError):
        return ChatError("bad_request", f"The provider refused the request for {model}. ({detail})")
    return ChatError("other", f"The model {model} failed: {detail}")


def _is_connection_error(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, ConnectionError | OSError) or any(
        s in text
        for s in (
            "connection error",
            "connection refused",
            "connect call failed",
            "cannot connect",
            "name or service not known",
            "all connection attempts failed",
        )
    )
