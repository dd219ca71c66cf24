"""The real components the UI tests run against, each on a free loopback port:

- a mosquitto broker,
- the control plane `lichtweg-central serve` (SQLite in a scratch directory, the UI's files
  served straight from Sources/CentralService/Web with --web-root, so no rebuild is needed),
- a few `lichtweg-pole` daemons with the `sim` backend on an equator road where it is night now.

`Stack` starts them and stops every process it started, also when a start fails. Run this file by
itself (`.venv-test/bin/python Tests/ui/stack.py`) to get the same stack for looking at the UI by
hand; Ctrl-C stops it.
"""
from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("LICHTWEG_BIN_DIR", REPO / ".build" / "debug"))
WEB_ROOT = REPO / "Sources" / "CentralService" / "Web"

sys.path.insert(0, str(REPO / "scripts"))
import testbed  # noqa: E402  (free ports, night longitude: shared with the other tools)
from testbed import free_port, night_longitude  # noqa: E402

ROUTE = "ui-road"
POLES = ["U1", "U2", "U3"]
ENGINEER = ("erik", "erik-password-1")
VIEWER = ("vera", "vera-password-1")


def wait_port(port: int, seconds: float = 15) -> None:
    if not testbed.wait_port(port, seconds):
        raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


def profile(version: int, base_level: int = 10, hold_seconds: int = 6, lon: float | None = None,
            poles_ahead: int = 1) -> str:
    """A valid three-pole profile for the test road; base level `base_level`, presence 100,
    notices reaching `poles_ahead` poles."""
    lon = night_longitude() if lon is None else lon
    poles = [testbed.pole_entry("U1", 0, lon, lat=0.0), testbed.pole_entry("U2", 35, lon, lat=0.0003),
             testbed.pole_entry("U3", 80, lon, lat=0.0007, sensors=[("a", "pir", "decreasing", 20)])]
    return testbed.road_profile(ROUTE, poles, lon, version=version, name="Teststraße (UI test)", comment="UI test road",
                                base=base_level, step_ramp=0.5,
                                presence={"level": 100, "holdSeconds": hold_seconds, "rampUpSeconds": 0.2, "rampDownSeconds": 1,
                                          "polesAhead": poles_ahead, "polesBehind": 0, "maxPolesAhead": poles_ahead})


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


class Api:
    """A logged-in API client (cookie and CSRF token), for setting the stage and for checks."""

    def __init__(self, base: str, name: str, password: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = None
        self.csrf = self.call("POST", "/api/login", {"name": name, "password": password})["csrf"]

    def call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.csrf and method not in ("GET", "HEAD"):
            req.add_header("X-CSRF-Token", self.csrf)
        try:
            with self.opener.open(req, timeout=30) as r:
                text = r.read().decode()
        except urllib.error.HTTPError as e:
            raise AssertionError(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}") from None
        return json.loads(text) if text else None

    def get(self, path):
        return self.call("GET", path)

    def post(self, path, body=None):
        return self.call("POST", path, body if body is not None else {})

    def wait(self, path, done, seconds=30, what=None):
        deadline = time.monotonic() + seconds
        last = None
        while time.monotonic() < deadline:
            last = self.get(path)
            if done(last):
                return last
            time.sleep(0.2)
        raise AssertionError(f"{what or path} not reached in {seconds} s; last: {json.dumps(last)[:2000]}")


class Pole:
    def __init__(self, pole: str, work: Path, broker_port: int, public_key: Path, lon: float):
        self.pole = pole
        self.dir = work / pole
        self.dir.mkdir()
        self.data = self.dir / "data"
        self.config = self.dir / "pole.yaml"
        self.config.write_text(f"""format: lichtweg-pole/1
pole: {pole}
route: {ROUTE}
backend: sim
dataDirectory: {self.data}
profileKey: {public_key}
location: {{lat: 0.0, lon: {lon}}}
telemetrySeconds: 5
mqtt:
  url: mqtt://127.0.0.1:{broker_port}
  keepAliveSeconds: 5
gpio:
  chip: gpiochip0
  sensors:
    - {{id: a, line: 17, bias: pull-down}}
  relay: {{line: 22}}
  lampFeedback: {{line: 23, bias: pull-up, activeLow: true}}
pwm: {{chip: 0, channel: 0, frequencyHz: 1000, rampStepHz: 100}}
""")
        self.log = self.dir / "pole.log"

    def simulate(self, line: str) -> None:
        """A line into the sim backend's input FIFO: `a 1`/`a 0` (sensor a), `lamp broken`/`lamp ok`."""
        fifo = self.data / "sim" / "inputs"
        deadline = time.monotonic() + 10
        while not fifo.exists():
            if time.monotonic() > deadline:
                raise AssertionError(f"{fifo} is not there")
            time.sleep(0.05)
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)


class Stack:
    def __init__(self, keep: bool = False):
        self.keep = keep
        self.work = Path(tempfile.mkdtemp(prefix="lichtweg-ui-"))
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.poles: dict[str, Pole] = {}
        self.stopped: set[str] = set()
        self.base = None

    # -- processes ---------------------------------------------------------------------------

    def spawn(self, name: str, args: list[str], **kw) -> subprocess.Popen:
        log = open(self.work / f"{name}.log", "w")
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             cwd=REPO, start_new_session=True, **kw)
        self.procs.append((name, p))
        return p

    def stop_process(self, name: str) -> None:
        """Stops one component gracefully (SIGTERM), as a pole's power cut or an update would."""
        self.stopped.add(name)
        for n, p in self.procs:
            if n == name and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=10)

    def check_alive(self) -> None:
        for name, p in self.procs:
            if p.poll() is not None and name not in self.stopped:
                raise AssertionError(f"{name} exited with {p.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 40) -> str:
        try:
            return "\n".join((self.work / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to every process started, in reverse order; SIGKILL to any still running after 5 s."""
        for _, p in reversed(self.procs):
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        for _, p in reversed(self.procs):
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        if not self.keep:
            shutil.rmtree(self.work, ignore_errors=True)

    # -- start -------------------------------------------------------------------------------

    def start(self) -> "Stack":
        # A SIGTERM (a CI job cancelled, a `timeout`) unwinds like Ctrl-C, so that stop() still
        # runs: the components are in their own sessions and would not get the signal themselves.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _terminate)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        central_bin = BIN / "lichtweg-central"
        for b in (central_bin, BIN / "lichtweg-pole", BIN / "lichtweg"):
            if not b.exists():
                raise FileNotFoundError(f"{b} is missing: build first (swift build)")
        # The broker.
        bport = free_port()
        (self.work / "mosquitto.conf").write_text(
            f"user root\nlistener {bport} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.spawn("mosquitto", ["mosquitto", "-c", str(self.work / "mosquitto.conf")])
        wait_port(bport)
        self.broker_port = bport

        # The signing key, the users, the control plane.
        key, pub = self.work / "central.key", self.work / "profile-signing.pub"
        subprocess.run([str(BIN / "lichtweg"), "key", "generate", "--private", str(key), "--public", str(pub)],
                       check=True, capture_output=True)
        db = f"sqlite:{self.work / 'central.sqlite'}"
        for (name, password), role in ((ENGINEER, "engineer"), (VIEWER, "viewer")):
            subprocess.run([str(central_bin), "user", "add", name, "--role", role, "--db", db],
                           input=password + "\n", text=True, check=True, capture_output=True)
        hport = free_port()
        self.spawn("central", [str(central_bin), "serve", "--db", db, "--listen", f"127.0.0.1:{hport}",
                               "--broker", f"mqtt://127.0.0.1:{bport}", "--signing-key", str(key),
                               "--client-id", f"lichtweg-central-ui-{os.getpid()}", "--web-root", str(WEB_ROOT)])
        wait_port(hport, 30)
        self.base = f"http://127.0.0.1:{hport}"
        self.check_alive()

        # The poles, with the control plane's public key.
        self.lon = night_longitude()
        for p in POLES:
            self.poles[p] = Pole(p, self.work, bport, pub, self.lon)
            self.spawn(f"pole-{p}", [str(BIN / "lichtweg-pole"), "--config", str(self.poles[p].config), "--log-level", "debug"])
        self.check_alive()

    # -- the stage the UI test starts from -------------------------------------------------------

    def seed(self) -> Api:
        """Version 1 of the test road stored and rolled out: every pole runs it at base level 10."""
        api = Api(self.base, *ENGINEER)
        api.post(f"/api/routes/{ROUTE}/profiles", {"document": profile(1, lon=self.lon), "comment": "first version"})
        api.post(f"/api/routes/{ROUTE}/rollouts", {"version": 1})
        api.wait(f"/api/routes/{ROUTE}/rollout", lambda r: r["state"] == "completed", 40, "version 1 rolled out")
        api.wait(f"/api/routes/{ROUTE}/poles",
                 lambda r: len(r["items"]) == len(POLES) and all(p.get("profileVersion") == 1 and p.get("level") == 10 and p["online"] for p in r["items"]),
                 20, "every pole at version 1, level 10")
        return api


if __name__ == "__main__":
    stack = Stack(keep=os.environ.get("LICHTWEG_UI_KEEP") == "1")
    stack.start()
    try:
        stack.seed()
        print(f"UI:    {stack.base}/")
        print(f"login: {ENGINEER[0]} / {ENGINEER[1]}  (viewer: {VIEWER[0]} / {VIEWER[1]})")
        print(f"work:  {stack.work}   (sim FIFO: <work>/U2/data/sim/inputs)")
        sys.stdout.flush()
        while True:
            time.sleep(1)
            stack.check_alive()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
