"""The web API attacked (issue 7, item 5): every changing operation of docs/openapi.yaml tried with
too small a role, without a session, and without the CSRF token; text fields filled with SQL and
script injection. Refused attempts must leave nothing behind — no row in the database, no message
to the poles — and accepted text must come back exactly as sent, with the schema intact.

Runs the real stack of Tests/ui/stack.py: mosquitto, lichtweg-central (SQLite), three poles.
"""
from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import paho.mqtt.client as mqtt
import pytest
import yaml

from conftest import REPO
from stack import BIN, ENGINEER, POLES, ROUTE, VIEWER, Api, Stack, profile

CHANGING = ("post", "put", "delete")
PUBLIC = {"/api/login", "/api/logout"}
RANKS = {"viewer": 0, "engineer": 1, "admin": 2}
# Tables a refused request must not change (sessions change with every login; telemetry and pole
# snapshots with the poles' own reports).
GUARDED = ["routes", "profile_versions", "audit_log", "users", "rollouts", "alarms", "api_tokens"]
INJECTIONS = [
    "'; DROP TABLE users; --",
    "\" OR 1=1 --",
    "x') UNION SELECT password_hash FROM users --",
    "<script>alert('lichtweg')</script>",
    "<img src=x onerror=alert(1)>",
    "{{7*7}} ${7*7}",
    "../../../../etc/passwd",
    "Straße 🚲 \u202e",
]


def operations():
    """(method, path, role) of every changing operation, the role from its summary."""
    doc = yaml.safe_load((REPO / "docs" / "openapi.yaml").read_text())
    found = []
    for path, item in doc["paths"].items():
        for method in CHANGING:
            op = item.get(method)
            if not op or path in PUBLIC:
                continue
            m = re.search(r"\((viewer|engineer|admin)\)", op.get("summary", ""))
            assert m, f"{method.upper()} {path}: the summary names no role"
            found.append((method.upper(), path, m.group(1)))
    return found


def concrete(path: str) -> str:
    return (path.replace("{route}", ROUTE).replace("{version}", "1").replace("{pole}", POLES[0])
            .replace("{id}", "1").replace("{name}", "nobody"))


def raw(base: str, method: str, path: str, body=None, cookie: str | None = None, csrf: str | None = None):
    """(status, parsed body) without raising on 4xx."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if cookie:
        req.add_header("Cookie", cookie)
    if csrf:
        req.add_header("X-CSRF-Token", csrf)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read().decode()
            return r.status, (json.loads(text) if text else None), r.headers
    except urllib.error.HTTPError as e:
        text = e.read().decode(errors="replace")
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text
        return e.code, parsed, e.headers


def login(base: str, name: str, password: str) -> tuple[str, str]:
    """(cookie, csrf) of a new session."""
    req = urllib.request.Request(base + "/api/login", data=json.dumps({"name": name, "password": password}).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        cookie = r.headers["Set-Cookie"].split(";")[0]
        return cookie, json.loads(r.read())["csrf"]


def counts(db) -> dict:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in GUARDED}
    finally:
        con.close()


def schema(db) -> list:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    finally:
        con.close()


class Commands:
    """Messages the control plane sends to poles (profiles, overrides) while we watch."""

    def __init__(self, port: int):
        self.seen: list[str] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"attack-watch-{time.time_ns()}")
        self.client.on_message = self._message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe([("lichtweg/v1/+/+/profile", 1), ("lichtweg/v1/+/+/override", 1)])
        self.client.loop_start()
        time.sleep(0.5)  # the retained ones from before
        self.reset()

    def _message(self, client, userdata, msg):
        if not msg.retain:
            with self.lock:
                self.seen.append(msg.topic)

    def reset(self):
        with self.lock:
            self.seen.clear()

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture(scope="module")
def stack():
    s = Stack().start()
    try:
        s.api = s.seed()
        db = s.work / "central.sqlite"
        subprocess.run([str(BIN / "lichtweg-central"), "user", "add", "ada", "--role", "admin", "--db", f"sqlite:{db}"],
                       input="ada-password-1\n", text=True, check=True, capture_output=True)
        s.db = db
        yield s
    finally:
        s.stop()


def test_wrong_roles_missing_session_and_csrf_are_refused_and_leave_nothing(stack, record):
    ops = operations()
    assert len(ops) >= 12, ops
    watch = Commands(stack.broker_port)
    viewer = login(stack.base, *VIEWER)  # logins are audited: before the count
    engineer = login(stack.base, *ENGINEER)
    before, tables = counts(stack.db), schema(stack.db)
    tried = {"role": 0, "session": 0, "csrf": 0}
    try:
        for method, path, role in ops:
            url = concrete(path)
            body = {} if method != "DELETE" else None
            # No session at all.
            status, _, _ = raw(stack.base, method, url, body)
            assert status == 401, f"{method} {url} without a session: {status}"
            tried["session"] += 1
            # A session whose role is too small.
            for who, (cookie, csrf) in (("viewer", viewer), ("engineer", engineer)):
                if RANKS[who] < RANKS[role]:
                    status, reply, _ = raw(stack.base, method, url, body, cookie, csrf)
                    assert status == 403, f"{method} {url} as {who} (needs {role}): {status} {reply}"
                    tried["role"] += 1
            # The right role without the CSRF token (cookie sessions only; tokens carry no cookie).
            cookie = engineer[0] if RANKS[role] <= RANKS["engineer"] else None
            if cookie:
                status, reply, _ = raw(stack.base, method, url, body, cookie, None)
                assert status == 403, f"{method} {url} without CSRF: {status} {reply}"
                assert isinstance(reply, dict) and reply.get("error"), f"{method} {url}: no JSON error body"
                tried["csrf"] += 1
        time.sleep(1)  # anything sent would have reached the watcher by now
        after = counts(stack.db)
        assert after == before, f"refused requests changed the database: {before} -> {after}"
        assert schema(stack.db) == tables
        assert watch.seen == [], f"refused requests sent to the poles: {watch.seen}"
    finally:
        watch.close()
    record("web API: wrong role, no session, no CSRF token",
           f"{len(ops)} changing operations of docs/openapi.yaml: {tried['session']} without a session, "
           f"{tried['role']} with too small a role, {tried['csrf']} without the CSRF token",
           {"operations": len(ops), "attempts": sum(tried.values()), "refused": sum(tried.values()),
            "rowsChanged": 0, "commandsSent": 0})


def test_injection_in_every_text_field_is_stored_verbatim_or_refused(stack, record):
    api = Api(stack.base, *ENGINEER)
    admin = Api(stack.base, "ada", "ada-password-1")
    users_before = counts(stack.db)["users"]
    tables = schema(stack.db)
    outcomes = {"storedVerbatim": 0, "refused": 0}
    by_field: dict[str, dict[str, int]] = {}
    reasons: dict[str, str] = {}

    def note(field: str, what: str):
        outcomes[what] += 1
        by_field.setdefault(field, {"storedVerbatim": 0, "refused": 0})[what] += 1
    latest = max(v["version"] for v in api.get(f"/api/routes/{ROUTE}/profiles")["items"])

    def attempt(field, fn):
        try:
            return fn()
        except AssertionError as e:
            code = int(re.search(r": (\d{3}) ", str(e)).group(1))
            assert 400 <= code < 500, f"an injection got {code}: {e}"
            note(field, "refused")
            reasons.setdefault(field, str(e)[:160])
            return None

    for i, text in enumerate(INJECTIONS):
        # The version comment: stored and shown in the UI and the audit log.
        latest += 1
        doc = profile(latest, lon=stack.lon)
        stored = attempt("comment", lambda: api.post(f"/api/routes/{ROUTE}/profiles", {"document": doc, "comment": text}))
        if stored is not None:
            got = api.get(f"/api/routes/{ROUTE}/profiles/{latest}")
            assert got["summary"]["comment"] == text, f"comment changed on the way: {text!r} -> {got['summary']!r}"
            note("comment", "storedVerbatim")
        # The route's name inside the document (a YAML single-quoted scalar): validated, then stored.
        latest += 1
        named = re.sub(r"(?m)^  name: .*$", "  name: '" + text.replace("'", "''") + "'", profile(latest, lon=stack.lon))
        if attempt("route name", lambda: api.post(f"/api/routes/{ROUTE}/profiles", {"document": named})) is not None:
            names = [r["name"] for r in api.get("/api/routes")["items"] if r["id"] == ROUTE]
            assert names == [text], f"route name changed on the way: {text!r} -> {names}"
            note("route name", "storedVerbatim")
        else:
            latest -= 1
        # An override's reason (sent to the pole, written to the audit log), then cleared.
        until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 600))
        if attempt("override reason", lambda: api.call("POST", f"/api/poles/{POLES[0]}/override",
                                                       {"level": 50, "until": until, "reason": text})) is not None:
            note("override reason", "storedVerbatim")
            api.call("DELETE", f"/api/poles/{POLES[0]}/override")
        # An API token's name (admin): stored, listed, then revoked.
        name = f"t{i}-{text}"
        if attempt("token name", lambda: admin.post("/api/tokens", {"name": name, "role": "viewer"})) is not None:
            listed = [t["name"] for t in admin.get("/api/tokens")["items"]]
            assert name in listed, f"token name changed on the way: {name!r} not in {listed}"
            admin.call("DELETE", "/api/tokens/" + urllib.parse.quote(name, safe=""))
            note("token name", "storedVerbatim")
        # The same text as a path parameter: a route or pole that does not exist.
        for path in (f"/api/routes/{urllib.parse.quote(text, safe='')}/profiles",
                     f"/api/poles/{urllib.parse.quote(text, safe='')}/energy"):
            status, reply, headers = raw(stack.base, "GET", path, None, *login(stack.base, *VIEWER))
            assert status in (200, 400, 404), f"GET {path}: {status}"
            assert headers.get_content_type() == "application/json"
    # The audit log holds the texts exactly; the schema and the users are untouched.
    audit = json.dumps(api.get("/api/audit?limit=200"))
    for text in INJECTIONS:
        assert json.dumps(text)[1:-1] in audit, f"{text!r} not in the audit log as sent"
    assert schema(stack.db) == tables, "the database schema changed"
    assert counts(stack.db)["users"] == users_before
    # Stored script text cannot run in the UI: the page forbids inline scripts and handlers.
    csp = urllib.request.urlopen(stack.base + "/", timeout=10).headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in (p.strip() for p in csp.split(";")) if d}
    scripts = directives.get("script-src", directives.get("default-src"))  # script-src falls back
    assert scripts == ["'self'"], f"scripts allowed from {scripts}: {csp}"
    record("web API: SQL and script injection in text fields",
           f"{len(INJECTIONS)} injection texts into version comments, route names, override reasons, "
           "token names and path parameters",
           {"texts": len(INJECTIONS), "storedVerbatim": outcomes["storedVerbatim"], "refused": outcomes["refused"],
            "byField": by_field, "refusals": reasons, "schemaChanged": False, "usersChanged": False, "inlineScriptAllowed": False})
