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
# ... except, with the "Add documents" panel on (WARTA_ALLOW_UPLOADS, rag/web/uploads.py), exactly
# this route, POST: its files are deleted once added, and the file routes stay refused.
UPLOAD_ROUTE = "/gradio_api/upload"
RESULT_STREAM = re.compile(r"^/gradio_api/call/(?:v2/)?[^/]+/(?P<event>[^/]+)/?$")


def _stream_wanted(scope) -> tuple[str, str] | None:
    """("event", id) for a /call result stream, ("session", hash) for the queue's, else None."""
    from urllib.parse import parse_qs

    if m := RESULT_STREAM.match(scope["path"]):
        return "event", m["event"]
    if scope["path"].rstrip("/") == "/gradio_api/queue/data":
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        return "session", (query.get("session_hash") or [""])[0]
    return None
API_INFO = re.compile(rb"window\.gradio_api_info = .*?;</script>", re.DOTALL)


def _host(value: str) -> str:
    """host[:port], lower case, without the scheme's default port."""
    value = value.strip().lower()
    return value[:-3] if value.endswith(":80") else value[:-4] if value.endswith(":443") else value


def _name(host: str) -> str:
    """The name or address of host[:port] ("[::1]:7860" -> "::1")."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def allowed_host(host: str, allowed: tuple[str, ...] = ()) -> bool:
    """Whether the server answers to this Host: an IP address, localhost, or a name the operator
    listed. DNS rebinding works only through a name (the attacker's, pointed at 127.0.0.1), so an
    address is always safe to answer and any other name is refused."""
    import ipaddress

    name = _name(_host(host)).rstrip(".")
    if not name:
        return False
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return name == "localhost" or name.endswith(".localhost") or name in allowed or _host(host) in allowed


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


def too_large_refusal(limit: int, chars: int) -> dict:
    """An oversized request, told like `busy_refusal` so the page shows it under the question box."""
    return {"detail": [{"__type__": "validate", "is_valid": False, "parameter_name": "request",
                        "message": say_both("too_large", limit=_size(limit), chars=chars)}]}


def invalid_refusal(why: str) -> dict:
    """A request whose values do not fit its event (rag.web.payloads), told like `busy_refusal`."""
    return {"detail": [{"__type__": "validate", "is_valid": False, "parameter_name": "data",
                        "message": f"Permintaan tidak valid / Invalid request: {why}"}]}


def _size(n: int) -> str:
    return f"{n / (1 << 20):g} MiB" if n >= 1 << 20 else f"{n / 1024:g} KiB"


async def read_body(receive, limit: int) -> bytes | None:
    """The whole request body, or None as soon as it passes `limit` bytes: what is over the limit
    is never kept, so no request can make the server hold more than `limit` for it."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        size += len(message.get("body", b""))
        if size > limit:
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _discard_rest(receive, most: int = 64 << 20, seconds: float = 10.0) -> None:
    """Read and drop what the client is still sending after its refusal (a bounded lingering
    close): closing on unread data resets the connection, and the client may then never see why.
    Nothing read here is kept."""
    import asyncio

    async def drain():
        dropped = 0
        while dropped < most:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body"):
                return
            dropped += len(message.get("body", b""))

    try:
        await asyncio.wait_for(drain(), seconds)
    except (asyncio.TimeoutError, OSError):
        pass


def _replay(body: bytes, receive):
    """A `receive` that hands the app the body already read, then the client's own messages."""
    sent = False

    async def replayed():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


# Gradio sets its login cookie SameSite=None, so any site's page could send it (a cross-site
# GET /logout logs the user out). Strict: only this server's own pages carry it.
_SAME_SITE = re.compile(rb"samesite=(?:none|lax)", re.I)


def _strict_cookies(headers) -> list:
    return [(k, _SAME_SITE.sub(b"SameSite=strict", v) if k.lower() == b"set-cookie" else v) for k, v in headers]


class WebGuard:
    """ASGI middleware for what Gradio would otherwise allow: a Host that is not this server's
    (DNS rebinding), a request from another site's page (its CORS lets any origin in once the
    server is reached by a name other than localhost), bodies larger than `max_body`, unlimited
    password guesses, cross-site cookies, uploads and file routes (NOT_SERVED), FastAPI's docs,
    the API description on the login page; and a full queue answered "busy, try again" in both
    languages."""

    def __init__(self, app, allowed_hosts: tuple[str, ...] = (), max_body: int = 1 << 20,
                 max_question_chars: int = 1000, payloads=None, known_event=None,
                 upload_bytes: int | None = None) -> None:
        from rag.web.logins import LoginLimiter

        self.app = app
        self.payloads = payloads  # rag.web.payloads.PayloadCheck for the page's events, or None
        # known_event("event", id) / ("session", hash): whether Gradio's queue holds that event's
        # result or that session's messages (it answers an unknown one by raising inside a stream
        # it already started: a traceback and a cut-off response).
        self.known_event = known_event
        self.allowed_hosts = tuple(h.lower() for h in allowed_hosts)
        self.max_body, self.max_question_chars = max_body, max_question_chars
        self.logins = LoginLimiter()
        # The largest upload request let through to UPLOAD_ROUTE; None (the default): none is.
        self.upload_bytes = upload_bytes

    def _host_refused(self, scope) -> str | None:
        headers = dict(scope.get("headers") or [])
        names = [headers.get(b"host", b"").decode("latin-1")]
        if b"x-forwarded-host" in headers:
            names.append(headers[b"x-forwarded-host"].decode("latin-1").split(",")[0])
        return next((n for n in names if not allowed_host(n, self.allowed_hosts)), None)

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        if (host := self._host_refused(scope)) is not None:
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            return await send_json(send, 421, {"detail": say_both("host_refused", host=host[:80] or "(none)")})
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)
        path, headers = scope["path"], dict(scope.get("headers") or [])
        if not same_origin(scope):
            return await send_json(send, 403, {"detail": "Cross-origin requests are not allowed."})
        # Sec-Fetch-Site is set by the browser itself: a navigation from another site's page
        # (a link or form to /logout or /login) is refused; the page itself may be linked to.
        if headers.get(b"sec-fetch-site") == b"cross-site" and path not in ("/", ""):
            return await send_json(send, 403, {"detail": "Cross-site requests are not allowed."})
        upload = self.upload_bytes is not None and path == UPLOAD_ROUTE and scope["method"] == "POST"
        if NOT_SERVED.match(path) and not upload:
            return await send_json(send, 403, {"detail": "Warta takes no uploads and serves no files."})
        if self.known_event and scope["method"] == "GET" and (wanted := _stream_wanted(scope)):
            if not self.known_event(*wanted):
                return await send_json(send, 404, {"detail": "No such event or session: ask again (POST)."})
        if upload:  # streamed to Gradio, which writes the files to disk and caps each one's size
            declared = headers.get(b"content-length", b"")
            if not declared.isdigit() or int(declared) > self.upload_bytes:
                await send_json(send, 413, {"detail": f"An upload must declare its length and be at most "
                                                      f"{_size(self.upload_bytes)}."})
                return await _discard_rest(receive)
        elif scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            declared = headers.get(b"content-length", b"0")
            body = None if not declared.isdigit() or int(declared) > self.max_body else \
                await read_body(receive, self.max_body)
            if body is None:
                refusal = too_large_refusal(self.max_body, self.max_question_chars)
                await send_json(send, 422 if "queue/join" in path else 413, refusal)
                return await _discard_rest(receive)
            if self.payloads is not None:
                body, why = self.payloads.checked(path, body)
                if body is None:
                    return await send_json(send, 422, invalid_refusal(why))
            receive = _replay(body, receive)

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
            if message["type"] == "http.response.start":
                message = {**message, "headers": _strict_cookies(message.get("headers", []))}
            await send(message)

        if scope["method"] == "POST" and path.rstrip("/") in ("/login", "/gradio_api/login"):
            return await self.logins.guard(scope, receive, send_rewritten, self.app)
        await self.app(scope, receive, send_rewritten)
