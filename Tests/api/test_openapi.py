"""The control plane's API against its OpenAPI document, docs/openapi.yaml.

What is checked:

1. The document is valid OpenAPI (openapi-spec-validator) and schemathesis loads it.
2. The document and the Swift code list the same endpoints: every `api.get/post/...("…")` and
   `router.get("…")` in Sources/CentralService/API/*.swift and Application+build.swift is in the
   document, and every documented operation is registered in the code.
3. The real server, fuzzed by schemathesis through every documented operation with the admin's
   Bearer token, never answers 5xx (or dies), answers only documented status codes and content
   types, and its bodies match the documented schemas; without credentials every protected
   operation is refused (`ignored_auth`).
4. What the fuzzer does not reach by itself: the session cookie with its CSRF token, the
   Server-Sent Events stream (not fuzzed: it never ends), a token name that must survive the trip
   through a path segment, and inputs that have hurt the server (huge numbers, an MQTT wildcard in a
   path, years 0 and 9999); each must be refused with a documented 4xx and a JSON error body, or
   answered as documented, and the server must still answer afterwards.

The components are real, each on a free loopback port: mosquitto, `lichtweg-central serve` on
SQLite (the binaries in .build/debug, or LICHTWEG_BIN_DIR). The server is seeded through the API
with the Brandis–Beucha profile, and pole BB-001's reports (online, state, telemetry, a lamp
failure) are published to the broker, so that the pole, energy and alarm endpoints have something
to show. Every process is stopped at the end, also when a test fails.

Artifacts (logs, the schemathesis output and JUnit report) go to .build-api/ (LICHTWEG_API_ARTIFACTS).
LICHTWEG_API_MAX_EXAMPLES (default 10) and LICHTWEG_API_SEED (default 1) tune the fuzzing.

Run: scripts/api-test   (or .venv-test/bin/python -m pytest -q Tests/api)
"""
from __future__ import annotations

import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("LICHTWEG_BIN_DIR", REPO / ".build" / "debug"))
SPEC_PATH = REPO / "docs" / "openapi.yaml"
SERVICE = REPO / "Sources" / "CentralService"
WEB_ROOT = SERVICE / "Web"
TRAFFIC_DIR = REPO / "Profiles" / "traffic"
SEED_PROFILE = REPO / "Profiles" / "brandis-beucha.yaml"
ARTIFACTS = Path(os.environ.get("LICHTWEG_API_ARTIFACTS", REPO / ".build-api"))
MAX_EXAMPLES = int(os.environ.get("LICHTWEG_API_MAX_EXAMPLES", "10"))
SEED = os.environ.get("LICHTWEG_API_SEED", "1")
# A hard stop for the fuzzing run (it takes about 30 s with the defaults).
FUZZ_TIMEOUT = float(os.environ.get("LICHTWEG_API_FUZZ_TIMEOUT", "300"))

ROUTE = "brandis-beucha"
POLE = "BB-001"
ADMIN = ("api-admin", "api-admin-password-1")
# Long and odd, so that the fuzzer's DELETE /api/tokens/{name} never revokes it.
TOKEN_NAME = "conformance-admin-7f3a9c"
# The route the bad-input checks roll out on: no rollout of it runs, so a start reaches the plan.
BAD_INPUT_ROUTE = "bad-input-road"

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
# What must hold for every fuzzed request.
CHECKS = [
    "not_a_server_error",            # no 5xx, no dropped connection
    "status_code_conformance",       # only documented status codes
    "content_type_conformance",      # only documented content types
    "response_schema_conformance",   # bodies match the documented schemas
    "ignored_auth",                  # protected operations refuse requests without credentials
]
# Operations the fuzzer leaves out, and why.
NOT_FUZZED = {
    "routeEvents": "Server-Sent Events never end; test_event_stream checks the stream",
}
# Previews simulate `nights` nights, a second or more each for a big route: the fuzzer gets a
# copy of the document whose maximum is this (the server's own limit, 31, is in the document).
PREVIEW_MAX_NIGHTS = 3


# -- the document ---------------------------------------------------------------------------------

def load_spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text())


def documented_operations(spec: dict) -> dict[tuple[str, str], dict]:
    return {(method.upper(), path): op
            for path, item in spec["paths"].items()
            for method, op in item.items() if method in HTTP_METHODS}


ROUTE_CALL = re.compile(r'\b(api|router)\s*\.\s*(get|post|put|patch|delete|head|on)\s*\(\s*"([^"]*)"')
GROUP_CALL = re.compile(r'\.group\s*\(\s*"([^"]*)"')


def swift_routes() -> dict[tuple[str, str], str]:
    """(METHOD, /path/{param}) → where it is registered, from the Swift sources."""
    build = SERVICE / "Application+build.swift"
    files = sorted((SERVICE / "API").glob("*.swift")) + [build]
    groups = [(f, m.group(1)) for f in files for m in GROUP_CALL.finditer(f.read_text())]
    # The regex below knows two receivers: `router` (the root) and `api` (router.group("api")).
    # A new group would hide its routes from it: say so rather than pass without them.
    assert groups == [(build, "api")] and 'let api = router.group("api")' in build.read_text(), (
        f"route groups changed ({[(str(f.relative_to(REPO)), g) for f, g in groups]}): teach swift_routes() about them")
    routes = {}
    for f in files:
        text = f.read_text()
        for m in ROUTE_CALL.finditer(text):
            receiver, method, path = m.groups()
            assert method != "on", f"{f}: router.on(...) is not understood by this test"
            full = ("/api/" if receiver == "api" else "/") + path.strip("/")
            full = re.sub(r":(\w+)", r"{\1}", full)
            line = text.count("\n", 0, m.start()) + 1
            routes[(method.upper(), full)] = f"{f.relative_to(REPO)}:{line}"
    return routes


DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time")
def _is_date_time(value) -> bool:
    return not isinstance(value, str) or bool(DATE_TIME.fullmatch(value))


@FORMATS.checks("date")
def _is_date(value) -> bool:
    return not isinstance(value, str) or bool(DATE.fullmatch(value))


def schema_errors(spec: dict, schema: dict, value) -> list[str]:
    from openapi_schema_validator import OAS30Validator
    root = dict(schema, components=spec["components"])
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
            for e in OAS30Validator(root, format_checker=FORMATS).iter_errors(value)]


def resolve(spec: dict, obj: dict) -> dict:
    while "$ref" in obj:
        node = spec
        for part in obj["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        obj = node
    return obj


# -- HTTP -------------------------------------------------------------------------------------------

@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    set_cookies: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    def json(self):
        return json.loads(self.body)

    def __str__(self) -> str:
        return f"{self.status} {self.headers.get('content-type', '(no content type)')}: {self.body[:600].decode(errors='replace')}"


def call(base: str, method: str, path: str, body=None, headers: dict | None = None, timeout: float = 60) -> Reply:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Reply(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read(), r.headers.get_all("Set-Cookie") or [])
    except urllib.error.HTTPError as e:
        return Reply(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read(), e.headers.get_all("Set-Cookie") or [])


def check_documented(spec: dict, method: str, template: str, reply: Reply) -> None:
    """The reply's status, content type and body are what the document says for this operation."""
    op = spec["paths"][template][method.lower()]
    where = f"{method} {template}"
    assert str(reply.status) in op["responses"], f"{where}: undocumented status {reply}"
    response = resolve(spec, op["responses"][str(reply.status)])
    content = response.get("content")
    if not content:
        assert reply.body == b"", f"{where}: {reply.status} documented without a body, got {reply}"
        return
    assert reply.content_type in content, f"{where}: content type {reply.content_type!r} not documented for {reply.status}"
    schema = content[reply.content_type].get("schema")
    if schema is None:
        return
    if reply.content_type.endswith("json"):
        value = reply.json()
    else:
        value = reply.body.decode()
    errors = schema_errors(spec, schema, value)
    assert not errors, f"{where}: the {reply.status} body does not match the document:\n  " + "\n  ".join(errors) + f"\n{reply}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, seconds: float, alive=lambda: True) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive():
            raise AssertionError(f"the process meant to listen on {port} exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


def iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


# -- the components -----------------------------------------------------------------------------------

class Stack:
    """mosquitto and lichtweg-central, started for the tests and stopped by stop() whatever happens."""

    def __init__(self):
        self.work = ARTIFACTS / "run"
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        self.procs: dict[str, subprocess.Popen] = {}
        self.base = ""
        self.token = ""
        self.broker_port = 0

    def spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.work / f"{name}.log", "w")
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             cwd=self.work, start_new_session=True)
        log.close()
        self.procs[name] = p
        return p

    def alive(self, name: str) -> bool:
        p = self.procs.get(name)
        return p is not None and p.poll() is None

    def tail(self, name: str, lines: int = 60) -> str:
        try:
            return "\n".join((self.work / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def crash_excerpt(self, name: str = "central") -> str:
        """The fatal error and the crashed thread's first frames if the log has a Swift backtrace,
        else the log's end."""
        try:
            lines = (self.work / f"{name}.log").read_text(errors="replace").splitlines()
        except OSError:
            return ""
        fatal = [line for line in lines if "Fatal error" in line or "Program crashed" in line]
        crashed = next((i for i, line in enumerate(lines) if line.rstrip().endswith("crashed:")), None)
        if not fatal and crashed is None:
            return "\n".join(lines[-60:])
        frames = [line for line in lines[crashed:crashed + 12] if line.strip()] if crashed is not None else []
        return "\n".join(fatal + frames) + f"\n(the whole log: {self.work / (name + '.log')})"

    def stop(self) -> None:
        """SIGTERM to every process started here, then SIGKILL to any still running after 5 s. Each
        runs in its own process group, which is signalled whole: a crashed server leaves its
        backtracer (swift-backtrace) behind, holding the listening socket."""
        def signal_group(pgid: int, sig: int) -> bool:
            try:
                os.killpg(pgid, sig)
                return True
            except (ProcessLookupError, PermissionError):
                return False

        procs = list(reversed(list(self.procs.values())))
        for p in procs:
            signal_group(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            while signal_group(p.pid, 0) and time.monotonic() < deadline:
                time.sleep(0.05)
            signal_group(p.pid, signal.SIGKILL)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    def run(self, args: list[str], stdin: str | None = None) -> str:
        r = subprocess.run(args, input=stdin, text=True, capture_output=True, cwd=self.work, timeout=60)
        assert r.returncode == 0, f"{' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
        return r.stdout

    def start(self) -> None:
        central = BIN / "lichtweg-central"
        for b in (central, BIN / "lichtweg"):
            assert b.exists(), f"{b} is missing: build first (swift build)"
        assert shutil.which("mosquitto") and shutil.which("mosquitto_pub"), "mosquitto is missing: run scripts/setup"

        self.broker_port = free_port()
        conf = self.work / "mosquitto.conf"
        conf.write_text(f"user root\nlistener {self.broker_port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.spawn("mosquitto", ["mosquitto", "-c", str(conf)])
        wait_port(self.broker_port, 15, lambda: self.alive("mosquitto"))

        key, pub = self.work / "central.key", self.work / "central.pub"
        self.run([str(BIN / "lichtweg"), "key", "generate", "--private", str(key), "--public", str(pub)])
        db = f"sqlite:{self.work / 'central.sqlite'}"
        self.run([str(central), "user", "add", ADMIN[0], "--role", "admin", "--db", db], stdin=ADMIN[1] + "\n")
        out = self.run([str(central), "token", "add", TOKEN_NAME, "--role", "admin", "--db", db])
        self.token = [line for line in out.splitlines() if line.strip()][-1].strip()
        assert re.fullmatch(r"[A-Za-z0-9_-]{20,}", self.token), f"no token in {out!r}"

        port = free_port()
        self.spawn("central", [str(central), "serve", "--db", db, "--listen", f"127.0.0.1:{port}",
                               "--broker", f"mqtt://127.0.0.1:{self.broker_port}", "--signing-key", str(key),
                               "--client-id", f"lichtweg-central-api-test-{os.getpid()}",
                               "--web-root", str(WEB_ROOT), "--traffic-dir", str(TRAFFIC_DIR)])
        wait_port(port, 30, lambda: self.alive("central"))
        self.base = f"http://127.0.0.1:{port}"

        r = self.api("POST", f"/api/routes/{ROUTE}/profiles",
                     {"document": SEED_PROFILE.read_text(), "comment": "seeded by Tests/api"})
        assert r.status == 201, f"seeding {ROUTE}: {r}"
        self.report_pole()
        self.wait(f"/api/routes/{ROUTE}/poles", lambda b: len(b["items"]) == 1, "the pole's state stored")
        self.wait("/api/alarms", lambda b: len(b["items"]) == 1, "the lamp failure raised as an alarm")
        self.wait(f"/api/poles/{POLE}/energy", lambda b: len(b["buckets"]) >= 1, "the telemetry stored")

    def api(self, method: str, path: str, body=None, headers: dict | None = None) -> Reply:
        return call(self.base, method, path, body, {"Authorization": f"Bearer {self.token}", **(headers or {})})

    def wait(self, path: str, done, what: str, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        last = None
        while time.monotonic() < deadline:
            last = self.api("GET", path)
            if last.status == 200 and done(last.json()):
                return
            time.sleep(0.1)
        raise AssertionError(f"{what}: not within {seconds} s; last GET {path}: {last}")

    def publish(self, topic: str, payload: dict, retain: bool = False) -> None:
        args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.broker_port), "-q", "1", "-t", topic,
                "-m", json.dumps(payload)]
        self.run(args + (["-r"] if retain else []))

    def report_pole(self, level: float = 30) -> None:
        """What pole BB-001 would say: online, its state, a telemetry interval, a lamp failure."""
        now = datetime.now(timezone.utc)
        t = f"lichtweg/v1/pole/{POLE}"
        self.publish(f"{t}/online", {"schema": "lichtweg.online/1", "pole": POLE, "online": True,
                                      "firmware": "0.4.0", "at": iso(now)}, retain=True)
        self.publish(f"{t}/state", {"schema": "lichtweg.state/1", "pole": POLE, "route": ROUTE, "state": "base",
                                     "failsafeReason": None, "level": level, "program": "weeknight",
                                     "profileVersion": 1, "faults": ["lamp-failure"], "uptimeSeconds": 100,
                                     "firmware": "0.4.0", "droppedMessages": 0, "at": iso(now)}, retain=True)
        self.publish(f"{t}/telemetry", {"schema": "lichtweg.telemetry/1", "pole": POLE,
                                         "from": iso(now - timedelta(minutes=5)), "to": iso(now),
                                         "energyWh": 100.5, "intervalEnergyWh": 3.5, "detections": 4,
                                         "edges": 8, "repeatedEdges": 0, "bounces": 0, "level": level})
        self.publish(f"{t}/fault", {"schema": "lichtweg.fault/1", "pole": POLE, "code": "lamp-failure",
                                     "sensor": None, "active": True, "detail": "no current", "at": iso(now)})


@pytest.fixture(scope="module")
def stack():
    s = Stack()
    atexit.register(s.stop)
    # A SIGTERM (a cancelled CI job, `timeout`) unwinds like Ctrl-C so that the processes, which run
    # in their own sessions, are stopped too.
    previous = None
    if threading.current_thread() is threading.main_thread():
        def terminate(signum, frame):
            raise KeyboardInterrupt(f"signal {signum}")
        previous = signal.signal(signal.SIGTERM, terminate)
    try:
        s.start()
        yield s
    finally:
        s.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="module")
def spec() -> dict:
    return load_spec()


def assert_alive(stack: Stack, after: str) -> None:
    """The server still answers. A Swift crash first writes a backtrace (seconds, the process still
    there but deaf), so a health request that gets no answer waits for the exit before it says so."""
    answered = False
    if stack.alive("central"):
        try:
            answered = call(stack.base, "GET", "/api/health", timeout=5).status == 200
        except (OSError, http.client.HTTPException):
            pass
    if not answered:
        try:
            stack.procs["central"].wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        state = "is still running but does not answer" if stack.alive("central") else \
            f"died (exit {stack.procs['central'].returncode})"
        pytest.fail(f"lichtweg-central {state} ({after}):\n{stack.crash_excerpt()}", pytrace=False)


# -- 1, 2: the document itself ----------------------------------------------------------------------------

def test_document_is_valid_openapi(spec):
    from openapi_spec_validator import validate
    import schemathesis
    validate(spec)
    loaded = schemathesis.openapi.from_path(str(SPEC_PATH))
    operations = [r.ok() for r in loaded.get_all_operations()]
    assert len(operations) == len(documented_operations(spec))


def test_document_lists_exactly_the_routes_in_the_code(spec):
    code = swift_routes()
    doc = documented_operations(spec)
    missing = sorted(f"{m} {p}   ({where})" for (m, p), where in code.items() if (m, p) not in doc)
    extra = sorted(f"{m} {p}" for (m, p) in doc if (m, p) not in code)
    assert not missing, "registered in the code but not in docs/openapi.yaml:\n  " + "\n  ".join(missing)
    assert not extra, "in docs/openapi.yaml but not registered in the code:\n  " + "\n  ".join(extra)
    assert len(code) >= 30  # the regex still finds the routes


def test_every_operation_documents_its_errors(spec):
    """Every protected operation documents 401 and 403, every one with a body 400 and 413, and
    every operation has a unique operationId (the fuzzer's exclusions use it)."""
    ids = [op["operationId"] for op in documented_operations(spec).values()]
    assert len(ids) == len(set(ids))
    problems = []
    for (method, path), op in documented_operations(spec).items():
        codes = set(op["responses"])
        if op.get("security", [1]) != []:
            problems += [f"{method} {path}: no {c}" for c in ("401", "403") if c not in codes]
        if "requestBody" in op:
            problems += [f"{method} {path}: no {c}" for c in ("400", "413") if c not in codes]
    assert not problems, "\n".join(problems)


# -- 3: the server fuzzed against the document -------------------------------------------------------------

def failures_section(output: str) -> str:
    m = re.search(r"^=+ FAILURES =+$(.*?)^=+ (WARNINGS|SUMMARY) =+$", output, re.S | re.M)
    return m.group(1).strip() if m else output[-6000:]


def test_server_conforms_to_the_document(stack, spec):
    fuzz = json.loads(json.dumps(spec))
    fuzz["components"]["schemas"]["PreviewRequest"]["properties"]["nights"]["maximum"] = PREVIEW_MAX_NIGHTS
    # The fuzzer is an admin: it may change and remove only users it could have made itself, not
    # the accounts the later tests log in with (it found api-admin's name and removed it).
    users = fuzz["paths"]["/api/users/{name}"]["parameters"][0]
    users["schema"] = {"type": "string", "pattern": "^fuzz-[a-z0-9]{1,12}$"}
    users["example"] = "fuzz-user"
    fuzz_path = ARTIFACTS / "openapi-fuzz.json"
    fuzz_path.write_text(json.dumps(fuzz, indent=1))
    excluded = [a for op in NOT_FUZZED for a in ("--exclude-operation-id", op)]
    cmd = [sys.executable, "-m", "schemathesis.cli", "run", str(fuzz_path),
           "--url", stack.base,
           "--header", f"Authorization: Bearer {stack.token}",
           "--checks", ",".join(CHECKS),
           *excluded,
           "--phases", "examples,coverage,fuzzing",
           "--max-examples", str(MAX_EXAMPLES),
           "--seed", SEED,
           "--workers", "1",
           "--request-timeout", "30",
           "--generation-with-security-parameters", "false",
           "--generation-database", "none",
           "--report", "junit", "--report-junit-path", str(ARTIFACTS / "schemathesis-junit.xml"),
           "--no-color"]
    log = ARTIFACTS / "schemathesis.txt"
    started = time.monotonic()
    with open(log, "w") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ARTIFACTS,
                             env={**os.environ, "NO_COLOR": "1"}, start_new_session=True)
        try:
            rc = p.wait(timeout=FUZZ_TIMEOUT)
        except subprocess.TimeoutExpired:
            rc = None
        finally:
            if p.poll() is None:  # timed out, or interrupted
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    if rc is None:
        pytest.fail(f"schemathesis did not finish in {FUZZ_TIMEOUT:.0f} s; its output: {log}", pytrace=False)
    output = log.read_text(errors="replace")
    took = time.monotonic() - started
    print(f"schemathesis: exit {rc} after {took:.0f} s; output in {log}")
    print("\n".join(line for line in output.splitlines() if re.match(r"\s*(\d+ generated|Tested:|Selected:)", line)))
    problems = []
    if rc != 0:
        problems.append(f"schemathesis found failures (exit {rc}; the whole output: {log}):\n\n{failures_section(output)}")
    if not stack.alive("central"):
        problems.append(f"lichtweg-central died during the run:\n{stack.crash_excerpt()}")
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)
    selected = re.search(r"Selected:\s*(\d+)/(\d+)", output)
    tested = re.search(r"Tested:\s*(\d+)", output)
    assert selected and tested and tested.group(1) == selected.group(1), f"not every selected operation was tested:\n{output[-3000:]}"
    assert int(selected.group(1)) == len(documented_operations(spec)) - len(NOT_FUZZED)


# -- 4: what the fuzzer does not reach -----------------------------------------------------------------

def test_session_cookie_and_csrf(stack, spec):
    base = stack.base
    login = call(base, "POST", "/api/login", {"name": ADMIN[0], "password": ADMIN[1]})
    check_documented(spec, "POST", "/api/login", login)
    assert login.status == 200 and login.json()["csrf"], login
    cookie_header = next((c for c in login.set_cookies if c.startswith("lichtweg_session=")), None)
    assert cookie_header, login.set_cookies
    attrs = {a.strip().split("=")[0].lower() for a in cookie_header.split(";")}
    assert {"httponly", "path", "max-age", "samesite"} <= attrs and "samesite=strict" in cookie_header.lower().replace(" ", "")
    cookie = {"Cookie": cookie_header.split(";")[0]}
    csrf = login.json()["csrf"]

    me = call(base, "GET", "/api/me", headers=cookie)
    check_documented(spec, "GET", "/api/me", me)
    assert me.status == 200 and me.json() == {"name": ADMIN[0], "role": "admin", "csrf": csrf}

    doc = spec["components"]["schemas"]["Check"]["example"]
    no_csrf = call(base, "POST", "/api/profiles/check", doc, headers=cookie)
    check_documented(spec, "POST", "/api/profiles/check", no_csrf)
    assert no_csrf.status == 403 and no_csrf.json()["error"]["code"] == "csrf", no_csrf
    wrong = call(base, "POST", "/api/profiles/check", doc, headers={**cookie, "X-CSRF-Token": csrf + "x"})
    assert wrong.status == 403 and wrong.json()["error"]["code"] == "csrf", wrong
    relogin = call(base, "POST", "/api/login", {"name": ADMIN[0], "password": ADMIN[1]}, headers=cookie)
    check_documented(spec, "POST", "/api/login", relogin)
    assert relogin.status == 403 and relogin.json()["error"]["code"] == "csrf", relogin
    with_csrf = call(base, "POST", "/api/profiles/check", doc, headers={**cookie, "X-CSRF-Token": csrf})
    check_documented(spec, "POST", "/api/profiles/check", with_csrf)
    assert with_csrf.status == 200, with_csrf

    bad = call(base, "POST", "/api/login", {"name": ADMIN[0], "password": "wrong-password-1"})
    check_documented(spec, "POST", "/api/login", bad)
    assert bad.status == 401 and bad.json()["error"]["code"] == "bad-credentials" and not bad.set_cookies

    out = call(base, "POST", "/api/logout", headers={**cookie, "X-CSRF-Token": csrf})
    check_documented(spec, "POST", "/api/logout", out)
    assert out.status == 204
    gone = call(base, "GET", "/api/me", headers=cookie)
    check_documented(spec, "GET", "/api/me", gone)
    assert gone.status == 401 and gone.json()["error"]["code"] == "unauthenticated"

    # Public paths: open without credentials, but a Bearer token that is not one is refused.
    for path in ("/api/health", "/metrics"):
        check_documented(spec, "GET", path, r := call(base, "GET", path))
        assert r.status == 200, r
        check_documented(spec, "GET", path, r := call(base, "GET", path, headers={"Authorization": "Bearer nonsense"}))
        assert r.status == 401 and r.json()["error"]["code"] == "bad-token", r
    # Under /api an unknown path, and a method a path does not take, get the JSON error body too.
    for method, path in (("GET", "/api/no-such-thing"), ("PUT", "/api/routes")):
        r = stack.api(method, path)
        assert 400 <= r.status < 500 and r.content_type == "application/json", f"{method} {path}: {r}"
        assert not schema_errors(spec, {"$ref": "#/components/schemas/Error"}, r.json()), r
    assert_alive(stack, "after the session checks")


def read_event(response: http.client.HTTPResponse, deadline: float) -> str:
    """One SSE block (up to a blank line)."""
    lines = []
    while time.monotonic() < deadline:
        line = response.readline()
        if not line:
            break
        line = line.decode().rstrip("\n")
        if line == "" and lines:
            return "\n".join(lines)
        if line:
            lines.append(line)
    raise AssertionError(f"no complete event before the deadline; got {lines}")


def test_event_stream(stack, spec):
    template = "/api/routes/{route}/events"
    host, port = stack.base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=15)
    try:
        conn.request("GET", f"/api/routes/{ROUTE}/events", headers={"Authorization": f"Bearer {stack.token}"})
        r = conn.getresponse()
        assert r.status == 200
        ctype = r.getheader("Content-Type", "").split(";")[0].strip()
        assert ctype in spec["paths"][template]["get"]["responses"]["200"]["content"], ctype
        assert r.getheader("Cache-Control") == "no-cache"
        deadline = time.monotonic() + 15
        assert read_event(r, deadline) == f": watching {ROUTE}"
        # A new report of the pole: the stream says so with the pole's view.
        stack.report_pole(level=55)
        while True:  # (the `online` report comes first, with the level stored before)
            block = read_event(r, deadline)
            if not block.startswith("event: pole"):
                continue
            data = json.loads(block.split("data: ", 1)[1])
            assert not schema_errors(spec, {"$ref": "#/components/schemas/Pole"}, data), data
            assert data["pole"] == POLE
            if data.get("level") == 55:
                break
    finally:
        conn.close()
    for headers, status in (({"Authorization": f"Bearer {stack.token}"}, 404), ({}, 401)):
        reply = call(stack.base, "GET", "/api/routes/no-such-route/events", headers=headers)
        check_documented(spec, "GET", template, reply)
        assert reply.status == status, reply
    assert_alive(stack, "after the event stream")


def test_a_token_that_can_be_made_can_be_revoked(stack, spec):
    """Names are made from JSON but revoked through a path segment, which a client percent-encodes."""
    for name in ("metrics-scraper.1", "straße"):
        made = stack.api("POST", "/api/tokens", {"name": name, "role": "viewer"})
        check_documented(spec, "POST", "/api/tokens", made)
        if made.status == 400:
            continue  # a name the server does not take at all is fine too
        assert made.status == 201, made
        token = made.json()["token"]
        assert call(stack.base, "GET", "/api/me", headers={"Authorization": f"Bearer {token}"}).status == 200
        gone = stack.api("DELETE", "/api/tokens/" + urllib.parse.quote(name, safe=""))
        check_documented(spec, "DELETE", "/api/tokens/{name}", gone)
        assert gone.status == 204, f"the token {name!r} was made but cannot be revoked: {gone}"
        left = call(stack.base, "GET", "/api/me", headers={"Authorization": f"Bearer {token}"})
        assert left.status == 401 and left.json()["error"]["code"] == "bad-token", left
    assert_alive(stack, "after the tokens")


@pytest.fixture(scope="module")
def bad_input_road(stack, spec) -> str:
    """A stored route of three poles on which no rollout runs."""
    document = spec["components"]["schemas"]["Upload"]["example"]["document"].replace(
        "id: example-road", f"id: {BAD_INPUT_ROUTE}")
    r = stack.api("POST", f"/api/routes/{BAD_INPUT_ROUTE}/profiles", {"document": document})
    assert r.status == 201, r
    return BAD_INPUT_ROUTE


def _in_an_hour() -> str:
    return (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


# (id, method, path template, path, body, expected): "refused" = a documented 4xx with the JSON
# error body; "refused-or-valid" = that, or a documented success whose body matches the document
# (formats included). Those that used to kill the server come last: the server does not come back.
BAD_INPUTS = [
    ("override-set-mqtt-wildcard-pole", "POST", "/api/poles/{pole}/override", "/api/poles/a+b/override",
     lambda: {"level": 50, "until": _in_an_hour(), "reason": "test"}, "refused"),
    ("override-clear-mqtt-wildcard-pole", "DELETE", "/api/poles/{pole}/override", "/api/poles/a+b/override",
     None, "refused"),
    ("override-huge-level", "POST", "/api/routes/{route}/override", f"/api/routes/{ROUTE}/override",
     lambda: {"level": 1e308, "until": _in_an_hour(), "reason": "test"}, "refused"),
    ("energy-year-0", "GET", "/api/routes/{route}/energy", f"/api/routes/{ROUTE}/energy?to=0000-01-01T00:00:00Z",
     None, "refused-or-valid"),
    ("pole-energy-year-0", "GET", "/api/poles/{pole}/energy", f"/api/poles/{POLE}/energy?to=0000-01-01T00:00:00Z",
     None, "refused-or-valid"),
    ("preview-year-9999", "POST", "/api/profiles/preview", "/api/profiles/preview",
     lambda: {**load_spec()["components"]["schemas"]["PreviewRequest"]["example"], "date": "9999-12-31"}, "refused-or-valid"),
    ("audit-limit-huge", "GET", "/api/audit", "/api/audit?limit=99999999999999999999999", None, "refused-or-valid"),
    ("alarm-id-huge", "POST", "/api/alarms/{id}/acknowledge", "/api/alarms/99999999999999999999999/acknowledge",
     None, "refused"),
    ("version-huge", "GET", "/api/routes/{route}/profiles/{version}", f"/api/routes/{ROUTE}/profiles/99999999999999999999",
     None, "refused"),
    ("rollback-huge-version", "POST", "/api/routes/{route}/rollback", f"/api/routes/{BAD_INPUT_ROUTE}/rollback",
     lambda: {"toVersion": 1e30}, "refused"),
    # With a canary, the start arms the acknowledgement timer at once.
    ("rollout-huge-ack-timeout", "POST", "/api/routes/{route}/rollouts", f"/api/routes/{BAD_INPUT_ROUTE}/rollouts",
     lambda: {"version": 1, "canaries": ["E1"], "ackTimeoutSeconds": 1e300}, "refused"),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_refused(stack, spec, bad_input_road, case):
    name, method, template, path, body, expected = case
    assert_alive(stack, "before this case: an earlier one killed it")
    try:
        reply, error = stack.api(method, path, body() if body else None), None
    except (OSError, http.client.HTTPException) as e:
        reply, error = None, e
    if reply is None:
        assert_alive(stack, f"{method} {path} got no answer: {error}")
        pytest.fail(f"{method} {path} got no answer: {error}", pytrace=False)
    time.sleep(0.2)  # a crash in a task the request started comes a moment later
    assert_alive(stack, f"after {method} {path}")
    if expected == "refused" or not 200 <= reply.status < 300:
        assert 400 <= reply.status < 500, f"{method} {path}: expected a 4xx refusal, got {reply}"
    check_documented(spec, method, template, reply)
