"""ASGI middleware of the API: the request-body limit and the structured access log (one JSON
line per request on the ``logflow.api.access`` logger: method, path, status, duration,
identity, rows).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

access_log = logging.getLogger("logflow.api.access")

Scope = dict[str, Any]
Receive = Any
Send = Any


class BodyTooLarge(Exception):
    """A request body over the limit (HTTP 413)."""


class BodyLimit:
    """Refuses request bodies over ``max_bytes``: at once when ``Content-Length`` says so,
    else while the body is read (the handler then answers 413)."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                body = json.dumps({"error": f"request body over the limit of {self.max_bytes}"
                                            " bytes"}).encode()
                await send({"type": "http.response.start", "status": 413,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(f"request body over the limit of {self.max_bytes} bytes")
            return message

        await self.app(scope, limited, send)


class AccessLog:
    """Logs one JSON line per HTTP request when it is answered."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def record(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            state = scope.get("state") or {}
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(json.dumps({
                    "method": scope["method"], "path": scope["path"], "status": status,
                    "duration_ms": round((time.perf_counter() - start) * 1000, 3),
                    "identity": state.get("identity"), "rows": state.get("rows"),
                    "peer": (scope.get("client") or [None])[0]}))
