"""A stand-in for an OpenAI-compatible chat endpoint: a real HTTP server on 127.0.0.1.

It speaks the JSON shape of ``POST /v1/chat/completions`` (request: ``model`` and
``messages``; response: ``choices[0].message.content`` with ``usage``) and answers
with canned replies chosen by what the prompt contains, so tests exercise the real
client over a real socket. It can require a bearer key, and records every request.

``scripts`` replay a conversation: when a script's needle is in the prompt, the reply is
the script's entry at the number of assistant turns the request already holds (the server
keeps no state: the conversation itself says how far it has got), then ``default``.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeLLM:
    """``with FakeLLM({"dedupe": reply}) as llm: ... llm.url ...``."""

    def __init__(
        self,
        replies: dict[str, str],
        *,
        default: str = "I cannot help with that.",
        key: str | None = None,
        status: int = 200,
        scripts: dict[str, list[str]] | None = None,
    ) -> None:
        self.replies = replies
        self.scripts = scripts or {}
        self.default = default
        self.key = key
        self.status = status
        self.requests: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reply_for(self, prompt: str, turn: int = 0) -> str:
        for needle, script in self.scripts.items():
            if needle in prompt:
                return script[turn] if turn < len(script) else self.default
        for needle, reply in self.replies.items():
            if needle in prompt:
                return reply
        return self.default

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                if fake.key and self.headers.get("Authorization") != f"Bearer {fake.key}":
                    self._send(401, {"error": {"message": "invalid api key", "type": "auth"}})
                    return
                try:
                    length = int(self.headers.get("Content-Length", "0"))
                    body = json.loads(self.rfile.read(length))
                    messages = body["messages"]
                    model = body["model"]
                    prompt = "\n".join(m["content"] for m in messages)
                except (ValueError, KeyError, TypeError) as exc:
                    self._send(400, {"error": {"message": f"bad request: {exc}"}})
                    return
                fake.requests.append(body)
                if fake.status != 200:
                    self._send(fake.status, {"error": {"message": "server trouble"}})
                    return
                turn = sum(1 for m in messages if m.get("role") == "assistant")
                content = fake.reply_for(prompt, turn)
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{len(fake.requests)}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": content},
                            }
                        ],
                        "usage": {
                            "prompt_tokens": len(prompt.split()),
                            "completion_tokens": len(content.split()),
                            "total_tokens": len(prompt.split()) + len(content.split()),
                        },
                    },
                )

        return Handler
