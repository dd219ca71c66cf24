"""Soak (issue 7, item 7): a pilot route with a night of traffic compressed into minutes, memory and
file descriptors of every process sampled after a warm-up and at the end → no growth.

Real processes: mosquitto, `lichtweg-central serve` (SQLite) and one `lichtweg-pole` (sim backend,
telemetry every 2 s) per pole of a straight test route on an equator road where it is night now.
The profile goes in through the control plane's API and is rolled out, as an engineer would do it.
Simulated road users (both directions, cyclist-to-car speeds so that a night's traffic fits into
minutes) walk along the route: each switches the facing PIR of every pole on as it comes within
10 m and off as it leaves, written into the poles' sim FIFOs.

VmRSS (/proc/PID/status) and the open file descriptors (/proc/PID/fd) of every process are sampled
after WARMUP seconds of traffic and at the end. Tolerances:
- RSS: + max(2 MiB, 10 %) per process. The processes' memory is not flat at the page level: glibc
  malloc arenas per thread, Swift's and Foundation's caches, SQLite's page cache (central) and
  mosquitto's per-client buffers grow in steps of up to a few hundred KiB before they level off.
  A leak per message is what this test is after: the run moves thousands of MQTT messages (state,
  detection notices, telemetry) and about a thousand sensor edges, so a leak of a kilobyte per
  message or edge shows as several MiB, above the tolerance. Smaller leaks need a longer run
  (LICHTWEG_SOAK_SECONDS) – the tolerance does not grow with the duration.
- File descriptors: no growth at all (every socket, file and pipe a process opens in steady state
  must be closed again).
It also checks that every process is still alive, and that the control plane stored telemetry from
every pole, before the warm-up sample and more of it during the measured window.

Environment: LICHTWEG_SOAK_SECONDS (traffic time including the warm-up, default 120),
LICHTWEG_SOAK_POLES (default 8), LICHTWEG_SOAK_SEED (default 3).
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from stack import Api, WEB_ROOT  # noqa: F401  (conftest puts Tests/ui on sys.path)
from testbed import free_port, night_longitude, pole_entry, road_profile, stop_groups, wait_port

BIN = Path(os.environ["LICHTWEG_BIN_DIR"])
SECONDS = float(os.environ.get("LICHTWEG_SOAK_SECONDS", "120"))
POLES = int(os.environ.get("LICHTWEG_SOAK_POLES", "8"))
SEED = int(os.environ.get("LICHTWEG_SOAK_SEED", "3"))
WARMUP = 20.0
SPACING = 30.0          # metres between poles
ROUTE = "soak-road"
ENGINEER = ("soak", "soak-password-1")
RSS_TOLERANCE_KIB = 2048
RSS_TOLERANCE_FRACTION = 0.10


def pole_ids() -> list[str]:
    return [f"S{i + 1:02d}" for i in range(POLES)]


def profile(lon: float) -> str:
    sensors = [("a", "pir", "increasing", 20), ("b", "pir", "decreasing", 20)]
    poles = [pole_entry(p, i * SPACING, lon, sensors=sensors) for i, p in enumerate(pole_ids())]
    return road_profile(ROUTE, poles, lon, name="Soak test road", comment="soak test road", base=20, step_ramp=2,
                        presence={"level": 100, "holdSeconds": 5, "rampUpSeconds": 0.5, "rampDownSeconds": 2,
                                  "polesAhead": 2, "polesBehind": 1, "maxPolesAhead": 3})


class Procs:
    """Every process started, each in its own session; `stop` kills the groups."""

    def __init__(self, work: Path):
        self.work = work
        self.items: list[tuple[str, subprocess.Popen]] = []

    def spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.work / f"{name}.log", "w")
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        log.close()
        self.items.append((name, p))
        return p

    def dead(self) -> list[str]:
        return [f"{n} (exit {p.returncode})" for n, p in self.items if p.poll() is not None]

    def tail(self, name: str, lines: int = 20) -> str:
        try:
            return "\n".join((self.work / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        stop_groups(p for _, p in self.items)


def sample(procs: Procs) -> dict[str, tuple[int, int]]:
    """name -> (VmRSS in KiB, open file descriptors)."""
    out = {}
    for name, p in procs.items:
        rss = None
        with open(f"/proc/{p.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        out[name] = (rss, len(os.listdir(f"/proc/{p.pid}/fd")))
    return out


def telemetry_counts(db: Path) -> dict[str, tuple[int, int]]:
    """pole -> (telemetry reports stored, detections they counted), read from the central's SQLite."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        rows = con.execute("SELECT pole, count(*), sum(detections) FROM telemetry_reports GROUP BY pole").fetchall()
        return {pole: (n, int(d or 0)) for pole, n, d in rows}
    finally:
        con.close()


class Traffic:
    """Road users along the route, played into the poles' sim FIFOs."""

    def __init__(self, work: Path, rng: random.Random):
        self.work = work
        self.rng = rng
        self.events: list[tuple[float, str, str, int]] = []  # (time, pole, sensor, +1/-1)
        self.occupied: dict[tuple[str, str], int] = {}
        self.users = 0
        self.edges = 0
        self.write_errors: list[str] = []
        self.next_user = time.monotonic()

    def fifo(self, pole: str) -> Path:
        return self.work / pole / "data" / "sim" / "inputs"

    def add_user(self, now: float) -> None:
        self.users += 1
        speed = self.rng.uniform(5, 14)  # m/s: a cyclist to a slow car, so the night fits in minutes
        forward = self.rng.random() < 0.5
        poles = pole_ids() if forward else list(reversed(pole_ids()))
        sensor = "a" if forward else "b"
        for k, pole in enumerate(poles):
            at = now + k * SPACING / speed
            self.events += [(at - 10 / speed, pole, sensor, +1), (at + 10 / speed, pole, sensor, -1)]
        self.events.sort()

    def run_until(self, end: float) -> None:
        """Plays users and edges until `end` (monotonic); a user every 0.7 to 2.5 s."""
        while True:
            now = time.monotonic()
            if now >= end:
                return
            if now >= self.next_user:
                self.add_user(now)
                self.next_user = now + self.rng.uniform(0.7, 2.5)
            while self.events and self.events[0][0] <= now:
                _, pole, sensor, delta = self.events.pop(0)
                key = (pole, sensor)
                before = self.occupied.get(key, 0)
                self.occupied[key] = before + delta
                if (before == 0) != (before + delta == 0):  # the line changes: 0 -> 1 or 1 -> 0
                    self.write(pole, f"{sensor} {1 if delta > 0 else 0}")
            wake = min(end, self.next_user, self.events[0][0] if self.events else end)
            time.sleep(max(0.0, min(0.05, wake - time.monotonic())))

    def write(self, pole: str, line: str) -> None:
        try:
            fd = os.open(self.fifo(pole), os.O_WRONLY | os.O_NONBLOCK)
            try:
                os.write(fd, (line + "\n").encode())
            finally:
                os.close(fd)
            self.edges += 1
        except OSError as e:
            self.write_errors.append(f"{pole} {line!r}: {e}")


def test_soak(record):
    rng = random.Random(SEED)
    work = Path(tempfile.mkdtemp(prefix="lichtweg-soak-"))
    procs = Procs(work)
    passed = False
    started = time.monotonic()
    try:
        # Broker.
        bport = free_port()
        (work / "mosquitto.conf").write_text(
            f"user {os.environ.get('USER') or 'root'}\nlistener {bport} 127.0.0.1\nallow_anonymous true\n"
            "persistence false\nmax_queued_messages 100000\n")
        procs.spawn("mosquitto", ["mosquitto", "-c", str(work / "mosquitto.conf")])
        assert wait_port(bport, 20), f"mosquitto did not start:\n{procs.tail('mosquitto')}"

        # Control plane.
        key, pub = work / "central.key", work / "profile-signing.pub"
        subprocess.run([str(BIN / "lichtweg"), "key", "generate", "--private", str(key), "--public", str(pub)],
                       check=True, capture_output=True, timeout=30)
        db_path = work / "central.sqlite"
        db = f"sqlite:{db_path}"
        subprocess.run([str(BIN / "lichtweg-central"), "user", "add", ENGINEER[0], "--role", "engineer", "--db", db],
                       input=ENGINEER[1] + "\n", text=True, check=True, capture_output=True, timeout=60)
        hport = free_port()
        procs.spawn("central", [str(BIN / "lichtweg-central"), "serve", "--db", db, "--listen", f"127.0.0.1:{hport}",
                                "--broker", f"mqtt://127.0.0.1:{bport}", "--signing-key", str(key),
                                "--client-id", f"lichtweg-central-soak-{os.getpid()}", "--web-root", str(WEB_ROOT)])
        assert wait_port(hport, 30), f"lichtweg-central did not start:\n{procs.tail('central')}"

        # The route's poles.
        lon = night_longitude()
        for pole in pole_ids():
            d = work / pole
            d.mkdir()
            (d / "pole.yaml").write_text(f"""format: lichtweg-pole/1
pole: {pole}
route: {ROUTE}
backend: sim
dataDirectory: {d / 'data'}
profileKey: {pub}
location: {{lat: 0.0, lon: {lon}}}
telemetrySeconds: 2
mqtt:
  url: mqtt://127.0.0.1:{bport}
  keepAliveSeconds: 10
gpio:
  chip: gpiochip0
  sensors:
    - {{id: a, line: 17, bias: pull-down}}
    - {{id: b, line: 27, bias: pull-down}}
  relay: {{line: 22}}
  lampFeedback: {{line: 23, bias: pull-up, activeLow: true}}
pwm: {{chip: 0, channel: 0, frequencyHz: 1000, rampStepHz: 100}}
""")
            procs.spawn(f"pole-{pole}", [str(BIN / "lichtweg-pole"), "--config", str(d / "pole.yaml")])

        # The profile through the API, rolled out to every pole.
        api = Api(f"http://127.0.0.1:{hport}", *ENGINEER)
        api.post(f"/api/routes/{ROUTE}/profiles", {"document": profile(lon), "comment": "soak"})
        api.post(f"/api/routes/{ROUTE}/rollouts", {"version": 1})
        api.wait(f"/api/routes/{ROUTE}/rollout", lambda r: r["state"] in ("completed", "halted"), 60, "rollout of v1")
        rollout = api.get(f"/api/routes/{ROUTE}/rollout")
        assert rollout["state"] == "completed", f"rollout: {rollout}"
        api.wait(f"/api/routes/{ROUTE}/poles",
                 lambda r: len(r["items"]) == POLES and all(p.get("profileVersion") == 1 and p["online"] for p in r["items"]),
                 30, "every pole online at version 1")
        del api  # no HTTP client stays open during the measurement
        setup_seconds = time.monotonic() - started
        print(f"soak: {POLES} poles, central and mosquitto up and v1 rolled out in {setup_seconds:.1f} s; "
              f"traffic for {SECONDS:.0f} s (warm-up {WARMUP:.0f} s)")

        # Traffic: warm-up, first sample, the rest, last sample.
        traffic = Traffic(work, rng)
        t0 = time.monotonic()
        traffic.run_until(t0 + WARMUP)
        before = sample(procs)
        telemetry_before = telemetry_counts(db_path)
        edges_before = traffic.edges
        trend = {name: [v[0]] for name, v in before.items()}
        end = t0 + SECONDS
        while time.monotonic() < end:
            traffic.run_until(min(end, time.monotonic() + 10))
            if procs.dead():
                break
            for name, v in sample(procs).items():
                trend[name].append(v[0])
        # Both samples are taken under traffic, so that they compare like with like.
        after = sample(procs) if not procs.dead() else {}
        telemetry_after = telemetry_counts(db_path)
        traffic_seconds = time.monotonic() - t0

        failures = []
        dead = procs.dead()
        if dead:
            failures.append(f"processes died: {dead}\n" + "\n".join(procs.tail(n.split()[0]) for n in dead))
        rows = []
        for name, (rss0, fd0) in before.items():
            if name not in after:
                continue
            rss1, fd1 = after[name]
            allowed = max(RSS_TOLERANCE_KIB, RSS_TOLERANCE_FRACTION * rss0)
            rows.append((name, rss0, rss1, fd0, fd1))
            if rss1 - rss0 > allowed:
                failures.append(f"{name}: RSS {rss0} -> {rss1} KiB (+{rss1 - rss0}, allowed +{allowed:.0f}); "
                                f"samples {trend[name]}")
            if fd1 > fd0:
                failures.append(f"{name}: open fds {fd0} -> {fd1}")
        for name, rss0, rss1, fd0, fd1 in rows:
            print(f"  {name:14s} RSS {rss0:7d} -> {rss1:7d} KiB ({rss1 - rss0:+6d})   fds {fd0:3d} -> {fd1:3d}"
                  f"   trend {trend[name]}")
        nothing = (0, 0)
        missing = [p for p in pole_ids() if telemetry_before.get(p, nothing)[0] == 0]
        if missing:
            failures.append(f"no telemetry stored before the warm-up sample from {missing}")
        stalled = [p for p in pole_ids() if telemetry_after.get(p, nothing)[0] <= telemetry_before.get(p, nothing)[0]]
        if stalled:
            failures.append(f"no telemetry stored during the measured window from {stalled}: {telemetry_before} -> {telemetry_after}")
        blind = [p for p in pole_ids() if telemetry_after.get(p, nothing)[1] == 0]
        if blind:
            failures.append(f"the stored telemetry of {blind} counts no detection: the traffic did not reach them")
        if traffic.write_errors:
            failures.append(f"{len(traffic.write_errors)} sim FIFO writes failed, first: {traffic.write_errors[0]}")
        if traffic.edges < 2 * SECONDS:
            failures.append(f"only {traffic.edges} edges driven in {SECONDS:.0f} s (expected at least {2 * SECONDS:.0f})")

        growth = [(r[2] - r[1], r[0]) for r in rows]
        fd_growth = [(r[4] - r[3], r[0]) for r in rows]
        pole_rows = [r for r in rows if r[0].startswith("pole-")]
        record("soak",
               f"{traffic.users} simulated road users ({traffic.edges} sensor edges, both directions) along {POLES} "
               f"poles for {traffic_seconds:.0f} s, telemetry every 2 s (seed {SEED})",
               {"processes": len(procs.items),
                "seconds": round(traffic_seconds, 1),
                "measured_window_seconds": round(traffic_seconds - WARMUP, 1),
                "road_users": traffic.users,
                "edges_driven": traffic.edges,
                "edges_in_window": traffic.edges - edges_before,
                "max_rss_growth_kib": max(growth)[0] if growth else None,
                "max_rss_growth_process": max(growth)[1] if growth else None,
                "max_fd_growth": max(fd_growth)[0] if fd_growth else None,
                "rss_kib_before_after": {
                    "central": before.get("central", (None,))[0:1] + after.get("central", (None,))[0:1],
                    "mosquitto": before.get("mosquitto", (None,))[0:1] + after.get("mosquitto", (None,))[0:1],
                    "pole_max_before": max((r[1] for r in pole_rows), default=None),
                    "pole_max_after": max((r[2] for r in pole_rows), default=None)},
                "rss_tolerance": f"max({RSS_TOLERANCE_KIB} KiB, {RSS_TOLERANCE_FRACTION:.0%})",
                "fd_tolerance": 0,
                "telemetry_reports_stored": {"at_warmup": sum(n for n, _ in telemetry_before.values()),
                                             "at_end": sum(n for n, _ in telemetry_after.values()),
                                             "poles_reporting": len([p for p in pole_ids() if telemetry_after.get(p)])},
                "detections_in_stored_telemetry": sum(d for _, d in telemetry_after.values()),
                "failures": len(failures)})
        for f in failures:
            print("FAILURE:", f)
        assert not failures, f"{len(failures)} failures, first: {failures[0]}"
        passed = True
    finally:
        procs.stop()
        if passed:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work directory kept: {work}")
