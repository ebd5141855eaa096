"""Headers every page and asset of the console and the portal carries: a strict
Content-Security-Policy (scripts and styles only from this server's own files — no
inline script, so an injected ``<script>`` does not run), no framing (clickjacking), no
MIME sniffing, no referrer (a URL can hold an id), no caching of pages that show
personal data, and HSTS when the server speaks TLS.

Pure ASGI, so it costs the API's own routes nothing: it touches only paths under the
pages' prefixes.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
NO_STORE = (b"cache-control", b"no-store")


class PageHeaders:
    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...], assets: str) -> None:
        self.app = app
        self.prefixes = prefixes
        self.assets = assets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        added = list(HEADERS)
        if scope.get("scheme") == "https":
            added.append(HSTS)
        if not path.startswith(self.assets):
            added.append(NO_STORE)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)
