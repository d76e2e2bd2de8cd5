"""A small client for any OpenAI-compatible chat-completions endpoint (standard library only).

``POST {url}/chat/completions`` with ``{"model", "messages", ...}`` and read
``choices[0].message.content``: the one shape every compatible server (OpenAI,
vLLM, llama.cpp, Ollama, LiteLLM) speaks. Settings come from flags or the
environment (``PERFBENCH_LLM_URL``, ``PERFBENCH_LLM_MODEL``, ``PERFBENCH_LLM_KEY``).
Network and protocol failures raise :class:`LLMError` with a message that names
the endpoint and what went wrong; the key never appears in messages or logs.

One client for the project: the miner's ``llm`` workload generator and the built-in agent
(``perfbench agent run --llm-url``) both use it. ``complete`` also returns the ``usage``
token counts and the time the call took, which the agent records per step.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from .errors import InputError, PerfbenchError

log = logging.getLogger(__name__)

ENV_URL = "PERFBENCH_LLM_URL"
ENV_MODEL = "PERFBENCH_LLM_MODEL"
ENV_KEY = "PERFBENCH_LLM_KEY"
RETRY_STATUS = (429, 500, 502, 503, 504)


class LLMError(PerfbenchError):
    """The chat endpoint could not be reached or did not answer in the expected shape."""


@dataclass(frozen=True)
class LLMSettings:
    url: str
    model: str
    key: str | None = None
    timeout_s: float = 180.0
    temperature: float = 0.2
    max_tokens: int = 4096
    retries: int = 2

    @property
    def endpoint(self) -> str:
        base = self.url.rstrip("/")
        return base if base.endswith("/chat/completions") else base + "/chat/completions"

    @classmethod
    def resolve(
        cls, url: str | None = None, model: str | None = None, key: str | None = None, **extra: Any
    ) -> LLMSettings | None:
        """Flags first, then the environment; None when no URL is set anywhere."""
        url = url or os.environ.get(ENV_URL) or None
        model = model or os.environ.get(ENV_MODEL) or None
        key = key or os.environ.get(ENV_KEY) or None
        if not url:
            return None
        if not url.startswith(("http://", "https://")):
            raise InputError(f"{url!r} is not an http(s) URL", field="llm-url")
        if not model:
            raise InputError(
                f"an LLM URL is set but no model: pass --llm-model or set {ENV_MODEL}",
                field="llm-model",
            )
        return cls(url=url, model=model, key=key, **extra)


@dataclass(frozen=True)
class ChatReply:
    """One answer: its text, the endpoint's ``usage`` counts (0 when it sent none), its time."""

    content: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    seconds: float = 0.0
    finish_reason: str = ""


class LLMClient:
    """Sends chat requests; retries briefly on rate limits and server errors."""

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings

    def chat(self, messages: list[dict[str, str]], **params: Any) -> str:
        """The assistant's reply text to ``messages``."""
        return self.complete(messages, **params).content

    def complete(self, messages: list[dict[str, str]], **params: Any) -> ChatReply:
        """The assistant's reply to ``messages`` with its token counts and duration."""
        s = self.settings
        t0 = time.monotonic()
        body = {
            "model": s.model,
            "messages": messages,
            "temperature": s.temperature,
            "max_tokens": s.max_tokens,
            **params,
        }
        data = self._post(body)
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise LLMError(
                f"{s.endpoint} answered without choices[0].message.content; is it an "
                f"OpenAI-compatible chat endpoint? (got keys {sorted(data)[:6]})"
            ) from None
        if not isinstance(content, str):
            raise LLMError(
                f"{s.endpoint} answered with non-text content ({type(content).__name__})"
            )
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        prompt, completion = _count(usage, "prompt_tokens"), _count(usage, "completion_tokens")
        return ChatReply(
            content=content,
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=_count(usage, "total_tokens") or prompt + completion,
            seconds=time.monotonic() - t0,
            finish_reason=str(data["choices"][0].get("finish_reason") or ""),
        )

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        s = self.settings
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if s.key:
            headers["Authorization"] = f"Bearer {s.key}"
        payload = json.dumps(body).encode()
        for attempt in range(s.retries + 1):
            request = urllib.request.Request(
                s.endpoint, data=payload, headers=headers, method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=s.timeout_s) as response:
                    raw = response.read()
                break
            except urllib.error.HTTPError as exc:
                detail = exc.read()[:300].decode(errors="replace").strip()
                if exc.code in RETRY_STATUS and attempt < s.retries:
                    log.warning("LLM endpoint answered HTTP %d; retrying", exc.code)
                    time.sleep(1.5 * (attempt + 1))
                    continue
                hint = " (check --llm-key)" if exc.code in (401, 403) else ""
                raise LLMError(
                    f"LLM endpoint {s.endpoint} answered HTTP {exc.code}{hint}: "
                    f"{detail or exc.reason}"
                ) from None
            except urllib.error.URLError as exc:
                raise LLMError(f"cannot reach LLM endpoint {s.endpoint}: {exc.reason}") from None
            except TimeoutError:
                raise LLMError(
                    f"LLM endpoint {s.endpoint} did not answer within {s.timeout_s:.0f}s"
                ) from None
            except ConnectionError as exc:
                raise LLMError(f"cannot reach LLM endpoint {s.endpoint}: {exc}") from None
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            raise LLMError(
                f"{s.endpoint} answered with something that is not JSON: "
                f"{raw[:120].decode(errors='replace')!r}"
            ) from None
        if not isinstance(data, dict):
            raise LLMError(f"{s.endpoint} answered with JSON that is not an object")
        if "error" in data and "choices" not in data:
            raise LLMError(f"{s.endpoint} answered with an error: {str(data['error'])[:300]}")
        return data


def _count(usage: dict[str, Any], key: str) -> int:
    value = usage.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
