"""LLM access through litellm: the only place the workspace talks to model providers.

litellm would fetch its model cost map from the network on import; the local copy is forced
before the first import. Errors are turned into a `kind` and a message fit for a user, with
anything that looks like a key masked.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import AsyncIterator
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

_KEYISH = re.compile(r"\b(sk|key|token|api[_-]?key)[-_A-Za-z0-9]*[=: -]*[A-Za-z0-9_\-\*\.]{8,}",
                     re.IGNORECASE)
API_KEY_ENV = "JUPYTER_WORKSPACE_LLM_API_KEY"


class ChatError(Exception):
    def __init__(self, kind: str, message: str) -> None:
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


async def stream_chat(request: dict[str, Any]) -> AsyncIterator[str]:
    """Yield the answer's text pieces as the provider streams them."""
    import litellm

    model = request["model"]
    api_base = request.get("api_base") or None
    kwargs: dict[str, Any] = {
        "model": model,
        "messages": request["messages"],
        "stream": True,
        "timeout": float(request.get("timeout") or 120),
        "num_retries": 0,
    }
    if api_base:
        kwargs["api_base"] = api_base
    key = os.environ.get(API_KEY_ENV)
    if key:
        kwargs["api_key"] = key
    try:
        response = await litellm.acompletion(**kwargs)
    except Exception as e:  # noqa: BLE001 - every provider failure becomes a ChatError
        raise classify(e, model, api_base) from None
    try:
        async for chunk in response:
            choices = getattr(chunk, "choices", None) or []
            delta = getattr(choices[0], "delta", None) if choices else None
            text = getattr(delta, "content", None) if delta is not None else None
            if text:
                yield text
    except Exception as e:  # noqa: BLE001
        raise classify(e, model, api_base) from None
    finally:
        await _close(response)


async def _close(response: Any) -> None:
    """Close the provider's HTTP response now, so a Stop really stops the provider."""
    for target in (response, getattr(response, "completion_stream", None),
                   getattr(response, "response", None)):
        close = getattr(target, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):  # best effort on teardown
                await close()


def mask(text: str) -> str:
    return _KEYISH.sub(lambda m: m.group(1) + "…(hidden)", text)


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
        return ChatError("auth", f"The provider refused the API key for {model}. Set the key "
                         f"in the server's environment or config. ({detail})")
    if isinstance(error, exc.RateLimitError):
        return ChatError("rate_limit", f"The provider is rate-limiting {model}; try again "
                         f"shortly. ({detail})")
    if isinstance(error, exc.NotFoundError):
        return ChatError("not_found", f"The provider does not know the model {model}. "
                         f"({detail})")
    if isinstance(error, exc.APIConnectionError) or _is_connection_error(error):
        return ChatError("unreachable", f"No LLM server answered at {where} for {model}. "
                         "Is it running (for Ollama: `ollama serve`)? " f"({detail})")
    if isinstance(error, exc.BadRequestError):
        return ChatError("bad_request", f"The provider refused the request for {model}. "
                         f"({detail})")
    return ChatError("other", f"The model {model} failed: {detail}")


def _is_connection_error(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, ConnectionError | OSError) or any(
        s in text for s in ("connection error", "connection refused", "connect call failed",
                            "cannot connect", "name or service not known",
                            "all connection attempts failed"))
