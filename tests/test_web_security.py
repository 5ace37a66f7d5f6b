"""Web security of the real `python app.py`: no file is served through any of Gradio's file routes
however the path is encoded, other sites' pages cannot use the server, and with a login every
route that carries data refuses a visitor without a session."""
import http.client
import json
import re
import time
import urllib.parse
import uuid
from urllib.parse import urlsplit

import pytest

from tests.app_server import corpus_with_hostile_document, start_app
from tests.conftest import MISSING_MODEL, PROXY_NAME

USER, PASSWORD = "redaksi", "rahasia-warta"
# What must never appear in a refusal: /etc/passwd, the corpus, the index manifest, the process
# environment, source code.
LEAKS = ("root:", "Biotown", "Fengshan", "Hebei", '"counts"', "WARTA_", "HF_HUB_OFFLINE", "import ", "def ")


def request(server_url: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            read: int | None = None):
    """(status, headers, body) for exactly this path (no normalisation, no encoding)."""
    netloc = urlsplit(server_url).netloc
    connection = http.client.HTTPConnection(netloc, timeout=15)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        # `read`: at most that many bytes, as soon as some arrive (a stream never ends by itself).
        data = response.read() if read is None else response.read1(read)
        return response.status, response.headers, data.decode("utf-8", "replace")
    finally:
        connection.close()


def encodings(target: str, corpus: str) -> list[str]:
    """`target` (an absolute path) spelled the ways a traversal tries to slip past a check."""
    rel = "../" * 12 + target.lstrip("/")
    return [target, urllib.parse.quote(target, safe=""), urllib.parse.quote(urllib.parse.quote(target, safe=""), safe=""),
            rel, rel.replace("../", "..%2f"), rel.replace("../", "..%2F"), rel.replace("../", "%2e%2e/"),
            rel.replace("../", "%2e%2e%2f"), rel.replace("../", "..%252f"), rel.replace("../", "%252e%252e%252f"),
            rel.replace("../", "..\\"), rel.replace("../", "..%5c"), rel.replace("../", "%c0%ae%c0%ae/"),
            rel.replace("../", "....//"), corpus + "/" + rel.replace("../", "..%2f"), target + "%00.txt"]


FILE_ROUTES = ["/gradio_api/file=", "/file=", "/gradio_api/file/", "/gradio_api/proxy="]
STATIC_ROUTES = ["/static/", "/assets/", "/svelte/", "/gradio_api/custom_component/x/client/"]


def test_no_file_route_serves_system_corpus_or_index_files_in_any_encoding(app_server):
    corpus = str(app_server.corpus.resolve())
    manifest = str(next(app_server.index.glob("builds/*/manifest.json")).resolve())
    targets = ["/etc/passwd", "/proc/self/environ", str(next(app_server.corpus.glob("*.txt")).resolve()),
               manifest, str(app_server.index.resolve()), corpus, str((app_server.corpus / ".." / "app.log").resolve())]
    tried = 0
    for target in targets:
        for spelled in encodings(target, corpus):
            for route in FILE_ROUTES + STATIC_ROUTES:
                for method in ("GET", "HEAD"):
                    status, _, body = request(app_server.url, method, route + spelled)
                    assert status in (400, 403, 404, 405), (method, route + spelled, status)
                    assert not any(leak in body for leak in LEAKS), (route + spelled, body[:200])
                    tried += 1
    # Relative to the working directory (the project root: app.py, rag/, corpus/, index/).
    for relative in ("app.py", "rag/config.py", "corpus/000_e05857b49ea00b42.txt", "index/", "./app.py", "README.md"):
        for route in FILE_ROUTES:
            status, _, body = request(app_server.url, "GET", route + relative)
            assert status in (403, 404) and not any(leak in body for leak in LEAKS), (route + relative, status)
            tried += 1
    assert tried > 1500


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/config", "http://93.184.215.14/x.png",
                                 "https://evil.example/x.png", "file:///etc/passwd", "http%3A%2F%2F93.184.215.14%2F"])
def test_file_routes_fetch_no_url_for_a_visitor(app_server, url):
    """Gradio's /file=<url> would make the server download any public URL (an open relay)."""
    url = url.format(port=urlsplit(app_server.url).port)
    for route in FILE_ROUTES:
        status, _, body = request(app_server.url, "GET", route + url)
        assert status == 403 and "serves no files" in body, (route + url, status, body[:200])


def multipart(name: str, content: bytes) -> tuple[bytes, dict]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/html\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_uploads_are_refused_and_nothing_is_stored(app_server):
    """Warta takes no files: Gradio would keep every upload (a disk anyone can fill) and serve it back."""
    body, headers = multipart("evil.html", b"<script>alert(1)</script>")
    for path in ("/gradio_api/upload", "/gradio_api/upload?upload_id=x", "/gradio_api/upload/"):
        status, _, answer = request(app_server.url, "POST", path, body, headers)
        assert status == 403 and "/tmp" not in answer and "evil.html" not in answer, (path, status, answer)
    assert request(app_server.url, "GET", "/gradio_api/upload_progress?upload_id=x")[0] == 403


def test_fastapi_schema_and_docs_pages_are_not_served(app_server):
    for path in ("/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"):
        assert request(app_server.url, "GET", path)[0] == 404, path


# ---------------------------------------------------------------- 15: other sites' pages

def join_body() -> bytes:
    return json.dumps({"data": ["Siapa Direktur Hebei MPA?", "auto"], "fn_index": 0,
                       "session_hash": uuid.uuid4().hex[:10]}).encode()


def cross_origin_requests(port: int) -> list[tuple[str, str, bytes | None]]:
    ask = json.dumps({"data": ["Siapa Direktur Hebei MPA?", "auto"]}).encode()
    upload, _ = multipart("x.txt", b"x")
    return [("POST", "/gradio_api/queue/join", join_body()), ("POST", "/gradio_api/call/ask", ask),
            ("POST", "/gradio_api/call/check", json.dumps({"data": ["Biotown"]}).encode()),
            ("GET", "/gradio_api/queue/data?session_hash=abc", None), ("GET", "/gradio_api/info", None),
            ("GET", "/config", None), ("GET", "/gradio_api/heartbeat/abc", None), ("POST", "/gradio_api/cancel",
            json.dumps({"session_hash": "abc", "fn_index": 0, "event_id": "x"}).encode()),
            ("POST", "/gradio_api/upload", upload), ("GET", "/", None)]


# (origin, whether Gradio's CORS grants it anyway): it lets any page served from localhost in, on
# any port, when the server is reached as localhost (and reads "127.0.0.1:PORT.evil.example", which
# no browser sends, as 127.0.0.1); the request itself is still refused.
FOREIGN_ORIGINS = [("http://evil.example", False), ("https://evil.example", False), ("null", False),
                   ("http://127.0.0.1.evil.example", False), ("http://evil.example:{port}", False),
                   ("http://localhost:{other}", True), ("http://127.0.0.1:{other}", True),
                   ("http://127.0.0.1:{port}.evil.example", True)]


def test_requests_from_other_sites_pages_are_refused_and_not_granted_cors(app_server):
    port = urlsplit(app_server.url).port
    own = f"127.0.0.1:{port}"
    tried = 0
    for origin, local in FOREIGN_ORIGINS:
        origin = origin.format(port=port, other=port + 1)
        for method, path, body in cross_origin_requests(port):
            headers = {"Origin": origin, "Content-Type": "application/json"}
            preflight = request(app_server.url, "OPTIONS", path, headers={
                "Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": "content-type"})
            status, response_headers, answer = request(app_server.url, method, path, body, headers, read=4000)
            assert status == 403 and "Cross-origin requests are not allowed" in answer, (origin, method, path, status)
            if not local:
                assert preflight[1].get("access-control-allow-origin") is None, (origin, path, preflight[1])
                assert response_headers.get("access-control-allow-origin") is None, (origin, path)
            assert "event_id" not in answer and not any(leak in answer for leak in LEAKS)
            tried += 2
        # Also when the server is reached under a public name (behind a proxy, or --host 0.0.0.0):
        # Gradio's own CORS then grants every origin, so only the refusal stands in the way.
        for host in (PROXY_NAME, "192.168.1.20:7860"):
            status, _, answer = request(app_server.url, "POST", "/gradio_api/queue/join", join_body(),
                                        {"Origin": origin, "Host": host, "Content-Type": "application/json"})
            assert status == 403 and "event_id" not in answer, (origin, host, status)
            tried += 1
    assert tried == len(FOREIGN_ORIGINS) * (2 * len(cross_origin_requests(port)) + 2)
    # The page's own origin (and a proxy's public name for it) still gets in.
    for headers in ({"Origin": f"http://{own}"}, {"Origin": f"https://{PROXY_NAME}", "Host": PROXY_NAME},
                    {"Origin": f"https://{PROXY_NAME}", "X-Forwarded-Host": PROXY_NAME}):
        status, _, answer = request(app_server.url, "POST", "/gradio_api/call/ask",
                                    json.dumps({"data": ["Siapa Direktur Hebei MPA?", "auto"]}).encode(),
                                    {"Content-Type": "application/json", **headers})
        assert status == 200 and "event_id" in answer, (headers, status, answer)


def test_names_the_server_was_not_given_are_refused_dns_rebinding(app_server):
    """A page on attacker.example, its name pointed at 127.0.0.1, sends Host and Origin that match
    each other: only the server's own names (addresses, localhost, WARTA_ALLOWED_HOSTS) get in."""
    port = urlsplit(app_server.url).port
    routes = [("POST", "/gradio_api/queue/join", join_body()), ("GET", "/config", None), ("GET", "/", None),
              ("GET", "/gradio_api/info", None), ("POST", "/login", b"username=a&password=b"),
              ("GET", "/gradio_api/queue/data?session_hash=abc", None)]
    for name in (f"attacker.example:{port}", "attacker.example", f"127.0.0.1.attacker.example:{port}",
                 f"{PROXY_NAME}.attacker.example", f"localhost.attacker.example:{port}", ""):
        for method, path, body in routes:
            headers = {"Host": name, "Origin": f"http://{name}", "Content-Type": "application/json"}
            status, _, answer = request(app_server.url, method, path, body, headers, read=4000)
            assert status == 421 and "WARTA_ALLOWED_HOSTS" in answer, (name, path, status)
            assert "event_id" not in answer and not any(leak in answer for leak in LEAKS if leak != "WARTA_")
        # ... nor through a forwarded name the attacker's script adds
        status, _, _ = request(app_server.url, "GET", "/config", headers={"Host": f"127.0.0.1:{port}",
                                                                        "X-Forwarded-Host": name or "x.example"})
        assert status == 421, name
    for name in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "192.168.1.20:7860", PROXY_NAME,
                 f"{PROXY_NAME.upper()}:{port}"):
        status, _, answer = request(app_server.url, "POST", "/gradio_api/call/ask",
                                    json.dumps({"data": ["Siapa Direktur Hebei MPA?", "auto"]}).encode(),
                                    {"Host": name, "Origin": f"http://{name}", "Content-Type": "application/json"})
        assert status == 200 and "event_id" in answer, (name, status, answer)


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_bodies_over_the_limit_are_refused_unread(app_server, chunked):
    def payload():
        body = json.dumps({"data": ["x" * (5 << 20), "auto"], "fn_index": 0, "session_hash": "big"}).encode()
        # Chunked: no Content-Length, so it is counted as it arrives and refused once past the limit.
        return iter([body[i:i + (64 << 10)] for i in range(0, len(body), 64 << 10)]) if chunked else body

    for path, wanted in (("/gradio_api/queue/join", 422), ("/gradio_api/call/ask", 413), ("/login", 413)):
        status, _, answer = request(app_server.url, "POST", path, payload(), {"Content-Type": "application/json"})
        assert status == wanted and "The request is too large (over 1 MiB)" in answer, (path, status)
    status, _, answer = request(app_server.url, "POST", "/gradio_api/call/ask",
                                json.dumps({"data": ["Siapa Direktur Hebei MPA?", "auto"]}).encode(),
                                {"Content-Type": "application/json"})
    assert status == 200 and "event_id" in answer


def test_values_a_component_cannot_read_are_refused_without_a_traceback(app_server):
    """Through the raw queue, as any client may send them: Gradio alone printed a traceback for each
    and told the client `"error": null`."""
    config = json.loads(request(app_server.url, "GET", "/config")[2])
    fn = {d["api_name"]: d["id"] for d in config["dependencies"]}
    tracebacks = app_server.output().count("Traceback")
    nan = float("nan")
    bad = [(fn["ask"], [5, "auto"]), (fn["ask"], [["Biotown"], "auto"]), (fn["ask"], [{"q": 1}, "auto"]),
           (fn["ask"], [nan, "auto"]), (fn["ask"], ["Biotown", 7]), (fn["check"], [True]),
           (fn["ask"], ["Biotown", "auto", None, None, None, None, "extra"]), (fn["respond"], [5, None, "auto", None]),
           (fn["respond"], ["Biotown", None, ["auto"], None]), (fn["load_example"], ["Siapa Direktur Hebei MPA?"]),
           (fn["load_example"], [999]), (fn["load_example"], [-1]), ("0", ["x"]), (True, ["x"]), (10**6, ["x"]),
           (fn["ask"], "Biotown")]
    for index, data in bad:
        body = json.dumps({"data": data, "fn_index": index, "session_hash": uuid.uuid4().hex[:10]}).encode()
        status, _, answer = request(app_server.url, "POST", "/gradio_api/queue/join", body,
                                    {"Content-Type": "application/json"})
        assert status == 422 and "Invalid request" in answer and "event_id" not in answer, (index, data, status)
    for raw in (b"[1, 2]", b"not json", b"[" * 100_000):
        status, _, answer = request(app_server.url, "POST", "/gradio_api/queue/join", raw,
                                    {"Content-Type": "application/json"})
        assert status == 422 and "Invalid request" in answer, raw[:10]
    status, _, answer = request(app_server.url, "POST", "/gradio_api/call/ask", json.dumps({"data": [42]}).encode(),
                                {"Content-Type": "application/json"})
    assert status == 422 and "value 1 must be string, not int" in answer
    # Left-out values are nothing: the endpoint's own message says what is missing.
    status, _, answer = request(app_server.url, "POST", "/gradio_api/call/check", json.dumps({"data": []}).encode(),
                                {"Content-Type": "application/json"})
    assert status == 200 and "event_id" in answer
    result = request(app_server.url, "GET", f"/gradio_api/call/check/{json.loads(answer)['event_id']}")[2]
    assert "The claim is empty" in result, result
    status, _, answer = request(app_server.url, "POST", "/gradio_api/call/ask",
                                json.dumps({"data": ["Siapa Direktur Hebei MPA?"]}).encode(),
                                {"Content-Type": "application/json"})
    result = request(app_server.url, "GET", f"/gradio_api/call/ask/{json.loads(answer)['event_id']}")[2]
    assert "Fengshan Wang" in result
    # The API page's curl examples use /call/v2/NAME, values by name: private events, unknown
    # names, wrong types are refused; a left-out question is empty.
    for name, body in (("respond", {"question": "Biotown"}), ("load_example", {}), ("ask", {"x": 1}),
                       ("ask", {"question": 5}), ("check", {"claim": ["Biotown"]}), ("ask", [1])):
        status, _, answer = request(app_server.url, "POST", f"/gradio_api/call/v2/{name}", json.dumps(body).encode(),
                                    {"Content-Type": "application/json"})
        assert status == 422 and "Invalid request" in answer, (name, body, status)
    status, _, answer = request(app_server.url, "POST", "/gradio_api/call/v2/ask", b"{}",
                                {"Content-Type": "application/json"})
    result = request(app_server.url, "GET", f"/gradio_api/call/v2/ask/{json.loads(answer)['event_id']}")[2]
    assert "The question is empty" in result, result
    assert app_server.output().count("Traceback") == tracebacks


# ---------------------------------------------------------------- 16: with a login

@pytest.fixture(scope="module")
def login_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("app-login")
    corpus = corpus_with_hostile_document(workdir / "corpus")
    server = start_app(workdir, corpus, MISSING_MODEL, MISSING_MODEL,
                       extra_env={"WARTA_USERNAME": USER, "WARTA_PASSWORD": PASSWORD})
    yield server
    server.stop()


def all_routes() -> list[tuple[str, str]]:
    """(method, path template) of every route the app serves: the same Blocks built here, and the
    route table Gradio builds for it."""
    from gradio.routes import App

    from app import WartaChatUI
    from rag.config import Settings
    from rag.web.service import PipelineService

    demo = WartaChatUI(PipelineService(Settings())).create_app()
    demo.queue(api_open=False)

    def flat(routes):
        for route in routes:
            if hasattr(route, "original_router"):
                yield from flat(route.original_router.routes)
            elif getattr(route, "path", None):
                yield route

    return sorted({(method, route.path) for route in flat(App.create_app(demo).routes)
                   for method in (route.methods or {"GET"}) if method != "HEAD"})


# Reachable without a session by design: the login page and what it loads, session probes that
# answer "nobody", and per-event controls that need an event id only its owner has. Each is still
# checked to carry none of the corpus.
PUBLIC = {"/", "/login", "/login/", "/logout", "/favicon.ico", "/theme.css", "/gradio_api/theme.css",
          "/robots.txt", "/manifest.json", "/static/{path:path}", "/assets/{path:path}", "/svelte/{path:path}",
          "/pwa_icon", "/pwa_icon/{size}", "/gradio_api/user", "/gradio_api/user/", "/gradio_api/token",
          "/gradio_api/token/", "/gradio_api/app_id", "/gradio_api/app_id/", "/gradio_api/startup-events",
          "/gradio_api/heartbeat/{session_hash}", "/gradio_api/cancel", "/gradio_api/reset", "/gradio_api/reset/",
          "/gradio_api/stream/{event_id}", "/gradio_api/stream/{event_id}/close",
          "/gradio_api/stream/{session_hash}/{run}/{component_id}/playlist.m3u8",
          "/gradio_api/stream/{session_hash}/{run}/{component_id}/{segment_id}.{ext}",
          "/gradio_api/stream/{session_hash}/{run}/{component_id}/playlist-file",
          "/gradio_api/custom_component/{id}/{environment}/{type}/{file_name}", "/monitoring/{key}",
          "/gradio_api/vibe-edit", "/gradio_api/vibe-edit/", "/gradio_api/undo-vibe-edit",
          "/gradio_api/undo-vibe-edit/", "/gradio_api/vibe-code", "/gradio_api/vibe-code/",
          "/gradio_api/vibe-starter-queries", "/gradio_api/vibe-starter-queries/"}
# Gradio's data routes, which must be among those refused (the enumeration really found them).
MUST_REFUSE = {"/config", "/gradio_api/info", "/gradio_api/queue/join", "/gradio_api/queue/data",
               "/gradio_api/call/{api_name}", "/gradio_api/file={path_or_url:path}", "/gradio_api/upload",
               "/monitoring", "/gradio_api/openapi.json", "/openapi.json", "/gradio_api/component_server"}
PARAMETERS = {"path_or_url": "/etc/passwd", "url_path": "https://x.hf.space/", "path": "index.html",
              "api_name": "ask", "event_id": "0123abcd", "session_hash": "abc123", "size": "192", "run": "0",
              "component_id": "1", "segment_id": "0", "ext": "ts", "environment": "client", "key": "x",
              "id": "x", "type": "x", "file_name": "x", "endpoint": "x", "record_id": "x", "asset_id": "x"}
# A body with every field any of these routes reads, so no route stops at "field missing".
ANY_BODY = json.dumps({"data": ["Siapa Direktur Hebei MPA?", "auto"], "fn_index": 0, "session_hash": "abc123",
                       "event_id": "0123abcd", "prompt": "x", "code": "x", "hash": "x", "component_id": 1,
                       "fn_name": "x", "body": {}, "username": USER, "password": "wrong"}).encode()


def concrete(template: str) -> str:
    return re.sub(r"\{(\w+)(?::path)?\}", lambda m: PARAMETERS[m.group(1)], template)


def test_with_a_login_every_data_route_refuses_a_visitor_without_a_session(login_server):
    routes = all_routes()
    paths = {path for _, path in routes}
    assert len(routes) > 80 and MUST_REFUSE <= paths, MUST_REFUSE - paths
    refused, public = 0, 0
    for method, template in routes:
        read = 2000 if "heartbeat" in template else None  # a keep-alive stream: its first bytes
        status, _, body = request(login_server.url, method, concrete(template),
                                  ANY_BODY if method in ("POST", "PUT") else None,
                                  {"Content-Type": "application/json"}, read=read)
        assert not any(leak in body for leak in LEAKS + ("Apa itu Biotown", "warta-question")), (method, template)
        if template in PUBLIC:
            public += 1
        else:
            # 422: a body that names no event of this app is refused before the login is asked for
            assert status in (401, 403, 404, 405, 422), (method, template, status, body[:200])
            refused += 1
    assert refused >= 35 and refused + public == len(routes)
    # The login page itself says nothing about the app behind it (Gradio would embed the API
    # description there that /gradio_api/info refuses).
    status, _, page = request(login_server.url, "GET", "/")
    assert status == 200 and '"auth_required":true' in page.replace(" ", "")
    assert "named_endpoints" not in page and "Answer a question from the corpus" not in page


def test_a_wrong_password_gets_no_session(login_server):
    form = urllib.parse.urlencode({"username": USER, "password": "wrong"}).encode()
    status, headers, _ = request(login_server.url, "POST", "/login", form,
                                 {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400 and not headers.get_all("set-cookie")


def test_after_logging_in_the_page_and_api_work_and_monitoring_stays_off(login_server, browser):
    from gradio_client import Client

    form = urllib.parse.urlencode({"username": USER, "password": PASSWORD}).encode()
    status, headers, _ = request(login_server.url, "POST", "/login", form,
                                 {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200
    cookie = "; ".join(c.split(";")[0] for c in headers.get_all("set-cookie"))
    session = {"Cookie": cookie}
    assert request(login_server.url, "GET", "/config", headers=session)[0] == 200
    assert request(login_server.url, "GET", "/gradio_api/info", headers=session)[0] == 200
    for path in ("/monitoring", "/monitoring/summary", "/gradio_api/monitoring", "/gradio_api/file=/etc/passwd",
                 "/openapi.json"):
        assert request(login_server.url, "GET", path, headers=session)[0] in (403, 404), path
    client = Client(login_server.url, auth=(USER, PASSWORD), verbose=False)
    assert "Fengshan Wang" in client.predict("Siapa Direktur Hebei MPA?", api_name="/ask")

    page = browser.new_page()
    page.goto(login_server.url)
    page.fill("input[data-testid='textbox']", USER)
    page.fill("input[data-testid='password']", PASSWORD)
    page.click("button:has-text('Login')")
    page.wait_for_selector("#warta-status :text('artikel / articles')", timeout=30000)
    page.fill("#warta-question textarea", "Who is the President Director of MiLab?")
    page.keyboard.press("Enter")
    page.wait_for_function("[...document.querySelectorAll(\"#warta-chat [data-testid='bot']\")]"
                           ".some(b => b.innerText.includes('Idham Hamzah'))", timeout=30000)
    page.close()


def test_a_link_from_another_site_cannot_log_the_user_out(login_server):
    """The browser marks a navigation from another site's page Sec-Fetch-Site: cross-site (and sends
    no Origin on a GET); the session cookie is SameSite=strict besides."""
    form = urllib.parse.urlencode({"username": USER, "password": PASSWORD}).encode()
    status, headers, _ = request(login_server.url, "POST", "/login", form,
                                 {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200
    cookies = headers.get_all("set-cookie")
    assert cookies and all("samesite=strict" in c.lower() for c in cookies), cookies
    session = {"Cookie": "; ".join(c.split(";")[0] for c in cookies)}
    for path in ("/logout", "/login", "/config", "/gradio_api/info"):
        status, _, answer = request(login_server.url, "GET", path, headers={**session, "Sec-Fetch-Site": "cross-site"})
        assert status == 403 and "Cross-site" in answer, (path, status)
    assert request(login_server.url, "GET", "/config", headers=session)[0] == 200  # still logged in
    # A link to the page itself from elsewhere still opens it.
    assert request(login_server.url, "GET", "/", headers={"Sec-Fetch-Site": "cross-site"})[0] == 200


def test_password_guesses_are_slowed_and_the_right_one_waits_too(login_server):
    """Gradio alone took 2,000 wrong passwords in 25 s, then the right one."""
    def login(password):
        form = urllib.parse.urlencode({"username": USER, "password": password}).encode()
        return request(login_server.url, "POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})

    answers = [login(f"guess-{i}") for i in range(30)]
    checked = sum(status == 400 for status, _, _ in answers)
    refused = [(h, a) for status, h, a in answers if status == 429]
    assert 5 <= checked <= 9 and len(refused) == 30 - checked, [s for s, _, _ in answers]
    assert all(int(h["retry-after"]) >= 1 and "Too many wrong passwords" in a for h, a in refused)
    status, headers, _ = login(PASSWORD)
    assert status == 429 and not headers.get_all("set-cookie")  # the right one, guessed now, waits too
    time.sleep(int(headers["retry-after"]) + 0.5)
    status, headers, _ = login(PASSWORD)  # ... and gets in once the wait is over, which clears the count
    assert status == 200 and headers.get_all("set-cookie")
    assert login("wrong")[0] == 400
