"""What the web server adds to Gradio's defaults (README, "Security"): security headers on every
response, and a guard against requests from other sites, uploads and file routes, FastAPI's docs
pages, and a full queue (answered "busy, try again" in both languages). ASGI middleware, no
Gradio import.
"""
import json
import re
from urllib.parse import urlsplit

from rag.messages import say_both

# Self only: answers quote the corpus and echo questions, so an image or script that slipped
# through escaping still could not load or send anything elsewhere. Gradio's front end needs
# inline scripts and eval (gr.HTML templates), so those stay allowed -- escaping is the first wall.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
                           "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
                           "connect-src 'self'; media-src 'self' blob:; worker-src 'self' blob:; frame-src 'none'; "
                           "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'")
SECURITY_HEADERS = [(b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]


class SecurityHeaders:
    """ASGI middleware adding SECURITY_HEADERS to every HTTP response."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# Warta takes no files and serves none but its page's own assets (/assets, /static): Gradio would
# keep every upload forever (a disk anyone can fill), and fetch any public URL named in /file=.
NOT_SERVED = re.compile(r"^/(?:gradio_api/)?(?:file=|file/|proxy=|upload/?$|upload_progress/?$)")
API_INFO = re.compile(rb"window\.gradio_api_info = .*?;</script>", re.DOTALL)


def _host(value: str) -> str:
    """host[:port], lower case, without the scheme's default port."""
    value = value.strip().lower()
    return value[:-3] if value.endswith(":80") else value[:-4] if value.endswith(":443") else value


def same_origin(scope) -> bool:
    """Whether the request has no Origin header or one naming this server (Host, or the
    X-Forwarded-Host a proxy passes on)."""
    headers = dict(scope.get("headers") or [])
    origin = headers.get(b"origin")
    if origin is None:
        return True
    hosts = {_host(headers.get(b"host", b"").decode("latin-1"))}
    if b"x-forwarded-host" in headers:
        hosts.add(_host(headers[b"x-forwarded-host"].decode("latin-1").split(",")[0]))
    return _host(urlsplit(origin.decode("latin-1")).netloc) in hosts - {""}


async def send_json(send, status: int, payload, headers=()) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


def busy_refusal() -> dict:
    """A full queue, told the way both Gradio clients show a server's own words: one failed
    "validation" (the page shows it under the question box, gradio_client raises it as
    ValidationError). On a 503 they show fixed English text of their own instead."""
    return {"detail": [{"__type__": "validate", "is_valid": False, "parameter_name": "queue",
                        "message": say_both("busy")}]}


class WebGuard:
    """ASGI middleware for what Gradio would otherwise allow: a request from another site's page
    (its CORS lets any origin in once the server is reached by a name other than localhost),
    uploads and file routes (NOT_SERVED), FastAPI's docs, the API description on the login page;
    and a full queue answered "busy, try again" in both languages."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        if not same_origin(scope):
            return await send_json(send, 403, {"detail": "Cross-origin requests are not allowed."})
        if NOT_SERVED.match(path):
            return await send_json(send, 403, {"detail": "Warta takes no uploads and serves no files."})

        page = path == "/" and scope["method"] == "GET"
        held = []  # a 503, or the page: kept until its body is complete, then rewritten

        async def send_rewritten(message):
            if message["type"] == "http.response.start" and (message["status"] == 503 or page):
                held.append(message)
                return
            if held and message["type"] == "http.response.body":
                held.append(message)
                if message.get("more_body"):
                    return
                start, body = held[0], b"".join(m.get("body", b"") for m in held[1:])
                held.clear()
                if start["status"] == 503 and b"Queue is full" in body:
                    return await send_json(send, 422, busy_refusal(), [(b"retry-after", b"5")])
                if page and b'"auth_required":true' in body:
                    # Gradio's login page embeds the API description that /gradio_api/info keeps
                    # behind the login.
                    body = API_INFO.sub(b"window.gradio_api_info = null;</script>", body)
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
                return await send({"type": "http.response.body", "body": body})
            await send(message)

        await self.app(scope, receive, send_rewritten)
