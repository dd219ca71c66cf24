"""Issue 7, item 1: the broker SIGKILLed and restarted during a rollout and during heavy telemetry.

mosquitto runs with persistence (autosave every second), so sessions, retained messages and
queued QoS 1 messages survive its restarts; lichtweg-central (SQLite) and five `lichtweg-pole`
processes (sim backend, telemetry every second, on an equator road where it is night now) keep
their persistent sessions. A Python load generator adds ~200 telemetry reports/s of synthetic
poles, each report's start equal to the previous one's end.

Injected: the broker SIGKILLed three times — during the canary soak of a rollout (its soak timer
runs out while the broker is away), during heavy telemetry, and once more right after everything
had reconnected — each time for a few seconds, restarted on the same port. After the second
restart the control plane is held (SIGSTOP) until every pole has reported again: its reconnect
back-off makes it come back after some poles in any real fleet; here it is made certain.

Checked: while the broker is away, every pole's PWM stand-in shows the level its profile in force
asks for, and a presence edge still lights its own pole (the neighbour, which would hear of it
over MQTT only, stays at base); the poles (retained `online` true again, with the time they said
so) and the control plane reconnect; the rollout completes with every pole applied; per pole, the
reports stored by the control plane chain without a gap (each `from` is the previous `to`), as do
the reports a plain persistent subscriber saw, and everything that subscriber saw is stored; every
synthetic report the broker acknowledged is stored; the poles' `energyWh` counters never go down.

The harness here (`Rig`, `Watcher`, `route_profile`) is also used by test_central_restart.py.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from stack import ENGINEER, Api  # Tests/ui/stack.py (conftest puts it on sys.path)
from testbed import free_port, night_longitude, pole_entry, road_profile, stop_groups, wait_port

REPO = Path(__file__).resolve().parents[2]
KEEP = os.environ.get("LICHTWEG_RELIABILITY_KEEP") == "1"
PWM_PERIOD_NS = 1_000_000  # frequencyHz 1000 in the poles' configuration


def iso(t: float) -> str:
    ms = int(t * 1000)
    return datetime.fromtimestamp(ms // 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_iso(s: str) -> float:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def route_profile(route: str, poles: list[str], version: int, base: int, lon: float, hold: float = 5) -> str:
    """A valid profile for a straight road of `poles`, 35 m apart, each with one PIR facing up
    the road: base level `base` all night, presence 100 % on the pole and one pole ahead."""
    return road_profile(route, [pole_entry(p, 35 * i, lon) for i, p in enumerate(poles)], lon, version=version,
                        name="Reliability test road", comment="reliability test road", base=base, step_ramp=0.5,
                        presence={"level": 100, "holdSeconds": hold, "rampUpSeconds": 0.2, "rampDownSeconds": 1,
                                  "polesAhead": 1, "polesBehind": 0, "maxPolesAhead": 1})


def wait_for(what: str, done, seconds: float, interval: float = 0.1):
    """Polls `done()` until it returns something truthy; bounded in time."""
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            last = done()
        except (OSError, urllib.error.URLError, AssertionError) as e:  # a component still (re)starting
            last = e
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not reached in {seconds} s (last: {str(last)[:500]})")


class Rig:
    """mosquitto with persistence, lichtweg-central on SQLite and `lichtweg-pole` processes, each
    startable, SIGKILLable and restartable on the same port / database / client id / data."""

    def __init__(self, name: str, route: str, poles: list[str], telemetry_seconds: float = 1):
        self.bin = Path(os.environ["LICHTWEG_BIN_DIR"])
        for b in ("lichtweg", "lichtweg-pole", "lichtweg-central"):
            if not (self.bin / b).exists():
                raise FileNotFoundError(f"{self.bin / b} is missing (LICHTWEG_BIN_DIR)")
        self.work = Path(tempfile.mkdtemp(prefix=f"lichtweg-relfault-{name}-"))
        self.route, self.poles = route, list(poles)
        self.telemetry_seconds = telemetry_seconds
        self.lon = night_longitude()
        self.bport, self.hport = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.hport}"
        self.client_id = f"lichtweg-central-rel-{name}-{os.getpid()}"
        self.db = self.work / "central.sqlite"
        self.procs: dict[str, subprocess.Popen] = {}
        self.every: list[subprocess.Popen] = []  # every process ever started, for teardown
        self.key, self.pub = self.work / "central.key", self.work / "profile-signing.pub"
        self.broker_extra = os.environ.get("LICHTWEG_RELIABILITY_BROKER_CONF", "")  # more mosquitto.conf lines

    # -- processes -------------------------------------------------------------------------------

    def spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        with open(self.work / f"{name}.log", "a") as log:  # appended: a restart keeps the history
            log.write(f"---- {time.time():.3f} start {name}\n")
            log.flush()
            p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 cwd=self.work, start_new_session=True)
        self.procs[name] = p
        self.every.append(p)
        return p

    def sigkill(self, name: str) -> float:
        p = self.procs[name]
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
        return time.monotonic()

    def signal(self, name: str, sig: int) -> None:
        os.killpg(self.procs[name].pid, sig)

    def alive(self) -> None:
        for name, p in self.procs.items():
            if p.poll() is not None:
                raise AssertionError(f"{name} exited with {p.returncode}:\n{self.tail(name)}")

    def log(self, name: str) -> str:
        try:
            return (self.work / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, name: str, lines: int = 15) -> str:
        noise = ("[ServiceLifecycle]", "mqtt connect failed", "Saving in-memory database")
        return "\n".join([l for l in self.log(name).splitlines() if not any(n in l for n in noise)][-lines:])

    def tails(self) -> str:
        return "\n".join(f"== {n} ==\n{self.tail(n)}" for n in self.procs)

    def stop(self) -> None:
        """SIGTERM to every process group still running, SIGKILL after 5 s; the scratch dir goes
        unless LICHTWEG_RELIABILITY_KEEP=1."""
        stop_groups(self.every)
        if KEEP:
            print(f"scratch kept: {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    # -- components ------------------------------------------------------------------------------

    def start_broker(self) -> float:
        """mosquitto on the rig's port, keeping sessions, retained and queued messages on disk."""
        store = self.work / "broker"
        store.mkdir(exist_ok=True)
        conf = self.work / "mosquitto.conf"
        conf.write_text(f"user {os.environ.get('USER') or 'root'}\nlistener {self.bport} 127.0.0.1\n"
                        "allow_anonymous true\npersistence true\n"
                        f"persistence_location {store}/\nautosave_interval 1\n"
                        "max_queued_messages 100000\nlog_type error\nlog_type warning\nlog_type notice\n"
                        "log_type information\nlog_timestamp_format %Y-%m-%dT%H:%M:%S\n" + self.broker_extra)
        self.spawn("mosquitto", ["mosquitto", "-c", str(conf)])
        if not wait_port(self.bport, 15):
            raise AssertionError(f"mosquitto did not listen on {self.bport}:\n{self.tail('mosquitto')}")
        return time.monotonic()

    def setup_central(self) -> None:
        subprocess.run([str(self.bin / "lichtweg"), "key", "generate", "--private", str(self.key), "--public", str(self.pub)],
                       check=True, capture_output=True)
        subprocess.run([str(self.bin / "lichtweg-central"), "user", "add", ENGINEER[0], "--role", "engineer",
                        "--db", f"sqlite:{self.db}"], input=ENGINEER[1] + "\n", text=True, check=True, capture_output=True)

    def start_central(self) -> float:
        t0 = time.monotonic()
        self.spawn("central", [str(self.bin / "lichtweg-central"), "serve", "--db", f"sqlite:{self.db}",
                               "--listen", f"127.0.0.1:{self.hport}", "--broker", f"mqtt://127.0.0.1:{self.bport}",
                               "--signing-key", str(self.key), "--client-id", self.client_id])
        if not wait_port(self.hport, 30):
            raise AssertionError(f"central did not listen on {self.hport}:\n{self.tail('central')}")
        return time.monotonic() - t0

    def pole_dir(self, pole: str) -> Path:
        return self.work / pole

    def start_pole(self, pole: str) -> None:
        d = self.pole_dir(pole)
        d.mkdir(exist_ok=True)
        config = d / "pole.yaml"
        config.write_text(f"""format: lichtweg-pole/1
pole: {pole}
route: {self.route}
backend: sim
dataDirectory: {d / 'data'}
profileKey: {self.pub}
location: {{lat: 0.0, lon: {self.lon}}}
telemetrySeconds: {self.telemetry_seconds}
mqtt:
  url: mqtt://127.0.0.1:{self.bport}
  keepAliveSeconds: 5
gpio:
  chip: gpiochip0
  sensors:
    - {{id: a, line: 17, bias: pull-down}}
  relay: {{line: 22}}
  lampFeedback: {{line: 23, bias: pull-up, activeLow: true}}
pwm: {{chip: 0, channel: 0, frequencyHz: 1000, rampStepHz: 100}}
""")
        self.spawn(f"pole-{pole}", [str(self.bin / "lichtweg-pole"), "--config", str(config), "--log-level", "debug"])

    def start(self) -> "Rig":
        self.start_broker()
        self.setup_central()
        self.start_central()
        for p in self.poles:
            self.start_pole(p)
        self.alive()
        self.api = Api(self.base, *ENGINEER)
        return self

    # -- looking at things -----------------------------------------------------------------------

    def level(self, pole: str) -> tuple[float | None, str]:
        """(the lamp's PWM level in percent, the relay) as the sim backend's files show them."""
        sim = self.pole_dir(pole) / "data" / "sim"
        try:
            duty = int((sim / "pwm/pwmchip0/pwm0/duty_cycle").read_text().strip() or "0")
            relay = (sim / "relay").read_text().strip()
        except (OSError, ValueError):
            return None, "?"
        return round(duty * 100 / PWM_PERIOD_NS, 2), relay

    def simulate(self, pole: str, line: str) -> None:
        fd = os.open(self.pole_dir(pole) / "data" / "sim" / "inputs", os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)

    def metrics(self) -> dict[str, float]:
        with urllib.request.urlopen(self.base + "/metrics", timeout=5) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
        return out

    def rollout(self) -> dict:
        return self.api.get(f"/api/routes/{self.route}/rollout")

    def upload(self, version: int, base: int) -> None:
        self.api.post(f"/api/routes/{self.route}/profiles",
                      {"document": route_profile(self.route, self.poles, version, base, self.lon), "comment": f"v{version}"})

    def query(self, sql: str, args=()) -> list[tuple]:
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()


class Watcher:
    """A paho subscriber with its own persistent session on the rig's broker: everything under
    lichtweg/v1/, with the time each message arrived."""

    def __init__(self, port: int, name: str, topics=("lichtweg/v1/#",)):
        self.messages: list[tuple[float, str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.topics = topics
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"rel-watch-{name}-{os.getpid()}",
                                  clean_session=False, protocol=mqtt.MQTTv311)
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)
        self.client.on_connect = self._connected
        self.client.on_message = self._message
        self.connected = threading.Event()
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()
        if not self.connected.wait(10):
            raise AssertionError("the watcher did not connect")

    def _connected(self, client, userdata, flags, reason, properties):
        if not reason.is_failure:
            for t in self.topics:
                client.subscribe(t, qos=1)
            self.connected.set()

    def _message(self, client, userdata, msg):
        with self.lock:
            self.messages.append((time.monotonic(), msg.topic, bytes(msg.payload), bool(msg.retain)))

    def snapshot(self) -> list[tuple[float, str, bytes, bool]]:
        with self.lock:
            return list(self.messages)

    def json(self, suffix: str, since: float = 0) -> list[tuple[float, dict]]:
        """(arrival, payload) of the non-empty messages whose topic ends with `suffix`."""
        out = []
        for t, topic, payload, _ in self.snapshot():
            if t >= since and topic.endswith(suffix) and payload:
                out.append((t, json.loads(payload)))
        return out

    def stop(self) -> None:
        self.client.loop_stop()
        try:
            self.client.disconnect()
        except Exception:
            pass


def publish_states(client: mqtt.Client, poles: list[str], route: str) -> None:
    """Each synthetic pole's retained state, as a pole publishes it on connecting: the control plane
    learns the pole's route from it."""
    for p in poles:
        state = {"schema": "lichtweg.state/1", "pole": p, "route": route, "state": "base", "level": 10,
                 "program": "night", "profileVersion": 1, "faults": [], "uptimeSeconds": 1, "firmware": "load",
                 "at": iso(time.time()), "droppedMessages": 0}
        client.publish(f"lichtweg/v1/pole/{p}/state", json.dumps(state), qos=1, retain=True).wait_for_publish(5)


class SyntheticPoles(threading.Thread):
    """A thread of synthetic poles sharing one paho connection (`self.client`), stopped through
    `self.stopping`."""

    def close(self) -> None:
        self.stopping.set()
        self.client.loop_stop()
        try:
            self.client.disconnect()
        except Exception:
            pass


class ReceiptingLoad(SyntheticPoles):
    """Heavy telemetry: `count` synthetic poles on an unstored route (their retained state makes
    the control plane keep their reports), each reporting every `period` s over one paho
    connection while connected, each report starting where the previous one ended. They follow the
    poles' resend rule (UnconfirmedTelemetry): a report the control plane has not receipted is sent
    again after `resend_after` s, doubling up to `resend_max` s. Knows which reports the broker
    acknowledged: the broker itself may lose those (its autosave is once a second, and it is
    SIGKILLed), the protocol must not."""

    def __init__(self, port: int, count: int = 10, period: float = 0.1, prefix: str = "LOAD", route: str = "rel-load",
                 resend_after: float = 5.0, resend_max: float = 20.0):
        super().__init__(daemon=True)
        self.poles = [f"{prefix}{i:02d}" for i in range(count)]
        self.period = period
        self.resend_after, self.resend_max = resend_after, resend_max
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.infos: list[tuple[mqtt.MQTTMessageInfo, tuple[str, int]]] = []
        # (pole, from in ms) -> [payload, next due (monotonic), sends]
        self.pending: dict[tuple[str, int], list] = {}
        self.receipted: set[tuple[str, int]] = set()
        self.resent = 0
        self.resent_keys: set[tuple[str, int]] = set()
        self.sent = 0
        self.last_to = {p: time.time() for p in self.poles}
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"rel-{prefix.lower()}-{os.getpid()}",
                                  clean_session=False, protocol=mqtt.MQTTv311)
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(0)
        self.client.on_message = self._message
        self.client.on_connect = self._connected
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()
        wait_for("load generator connected", self.client.is_connected, 10)
        publish_states(self.client, self.poles, route)

    def _connected(self, client, userdata, flags, reason, properties):
        client.subscribe([(f"lichtweg/v1/pole/{p}/telemetry-receipt", 1) for p in self.poles])

    def _message(self, client, userdata, msg):
        try:
            receipt = json.loads(msg.payload)
            keys = {(receipt["pole"], round(parse_iso(f) * 1000)) for f in receipt["reports"]}
        except (ValueError, KeyError, TypeError):
            return
        with self.lock:
            self.receipted |= keys
            for k in keys:
                self.pending.pop(k, None)

    def acked(self) -> set[tuple[str, int]]:
        """(pole, from in ms) of every report the broker acknowledged at least once."""
        with self.lock:
            return {key for info, key in self.infos if info.is_published()}

    def _publish(self, pole: str, key: tuple[str, int], payload: str) -> None:
        info = self.client.publish(f"lichtweg/v1/pole/{pole}/telemetry", payload, qos=1)
        with self.lock:
            self.infos.append((info, key))

    def run(self) -> None:
        while not self.stopping.wait(self.period):
            if not self.client.is_connected():
                continue
            now, mono = time.time(), time.monotonic()
            for p in self.poles:
                payload = json.dumps({"schema": "lichtweg.telemetry/1", "pole": p, "from": iso(self.last_to[p]), "to": iso(now),
                                      "energyWh": 0, "intervalEnergyWh": 0.001, "detections": 0, "edges": 0,
                                      "repeatedEdges": 0, "bounces": 0, "level": 10})
                key = (p, round(parse_iso(iso(self.last_to[p])) * 1000))
                with self.lock:
                    self.pending[key] = [payload, mono + self.resend_after, 1]
                    self.sent += 1
                self._publish(p, key, payload)
                self.last_to[p] = parse_iso(iso(now))
            self._resend_due(mono)

    def _resend_due(self, mono: float) -> None:
        """Sends again every report whose receipt is overdue; each is due again later (doubling)."""
        with self.lock:
            due = [(k, v) for k, v in self.pending.items() if v[1] <= mono]
            for k, v in due:
                v[1] = mono + min(self.resend_after * 2 ** v[2], self.resend_max)
                v[2] += 1
                self.resent += 1
                self.resent_keys.add(k)
        for k, v in due:
            self._publish(k[0], k, v[0])

    def unconfirmed(self) -> int:
        with self.lock:
            return len(self.pending)

    def finish(self) -> None:
        """Stops making new reports; resending goes on in `drain`."""
        self.stopping.set()
        self.join(5)

    def drain(self, seconds: float) -> None:
        """Keeps resending until every report is receipted or `seconds` have passed."""
        end = time.monotonic() + seconds
        while time.monotonic() < end and self.unconfirmed():
            mono = time.monotonic()
            self._resend_due(mono)
            time.sleep(0.2)



class LogTail(threading.Thread):
    """Follows a component's log (across restarts: the file is appended to) and notes when each
    line containing one of `patterns` appeared (monotonic time; the logs have whole seconds)."""

    def __init__(self, path: Path, patterns: tuple[str, ...]):
        super().__init__(daemon=True)
        self.path, self.patterns = path, patterns
        self.hits: list[tuple[float, str]] = []
        self.stopping = threading.Event()
        self.offset = 0
        self.partial = b""

    def run(self) -> None:
        while not self.stopping.wait(0.05):
            try:
                with open(self.path, "rb") as f:
                    f.seek(self.offset)
                    data = f.read()
            except OSError:
                continue
            self.offset += len(data)
            lines = (self.partial + data).split(b"\n")
            self.partial = lines.pop()
            now = time.monotonic()
            for raw in lines:
                line = raw.decode(errors="replace")
                if any(p in line for p in self.patterns):
                    self.hits.append((now, line))

    def first_after(self, pattern: str, since: float) -> float | None:
        return next((t for t, line in list(self.hits) if t >= since and pattern in line), None)


class LevelSampler(threading.Thread):
    """Reads every pole's PWM level and relay every 50 ms: (monotonic time, pole, level, relay)."""

    def __init__(self, rig: Rig):
        super().__init__(daemon=True)
        self.rig = rig
        self.samples: list[tuple[float, str, float | None, str]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.05):
            t = time.monotonic()
            for p in self.rig.poles:
                level, relay = self.rig.level(p)
                self.samples.append((t, p, level, relay))

    def between(self, start: float, end: float) -> list[tuple[float, str, float | None, str]]:
        return [s for s in self.samples if start <= s[0] <= end]


def _sigterm(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def unwind_on_sigterm() -> None:
    """A SIGTERM (a cancelled CI job, `timeout`) unwinds like Ctrl-C, so that the rig's teardown
    still stops the components, which run in sessions of their own."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _sigterm)


def chain_gaps(rows: list[tuple[float, float]], tolerance: float = 0.002) -> list[tuple[float, float]]:
    """(previous to, next from) wherever a report does not start where the previous one ended."""
    rows = sorted(rows)
    return [(a[1], b[0]) for a, b in zip(rows, rows[1:]) if abs(b[0] - a[1]) > tolerance]


# --------------------------------------------------------------------------------------------------

ROUTE = "rel-broker"
POLES = [f"B{i}" for i in range(1, 6)]
V1_BASE, V2_BASE = 10, 30
CANARY = "B2"
PRESENCE_POLE, NEIGHBOUR = "B4", "B5"  # B4's sensor faces up the road: B5 is the pole ahead
SOAK = 6
HOLD = 5  # the profile's presence hold (the loader's minimum), then a 1 s ramp down
OUTAGES = (6.0, 4.0, 3.0)  # seconds the broker stays dead, kill by kill


@pytest.fixture
def rig():
    unwind_on_sigterm()
    r = Rig("broker", ROUTE, POLES, telemetry_seconds=1)
    try:
        r.start()
        yield r
    finally:
        r.stop()


def test_broker_killed_during_rollout_and_telemetry(rig: Rig, record):
    started = time.monotonic()
    watcher = load = sampler = None
    central_log = LogTail(rig.work / "central.log", ("broker connected", "broker connection lost", "rollout"))
    central_log.start()
    kills: list[dict] = []
    try:
        # -- the stage: version 1 everywhere, a subscriber, the load, the lamps watched ------------
        rig.upload(1, V1_BASE)
        rig.api.post(f"/api/routes/{ROUTE}/rollouts", {"version": 1})
        wait_for("version 1 rolled out", lambda: rig.rollout()["state"] == "completed", 30)
        watcher = Watcher(rig.bport, "broker")
        load = ReceiptingLoad(rig.bport, period=0.05)
        load.start()
        sampler = LevelSampler(rig)
        sampler.start()
        wait_for("every lamp at version 1's base", lambda: all(rig.level(p)[0] == V1_BASE for p in POLES), 15)

        def outage(n: int, seconds: float, during=None) -> dict:
            """SIGKILL the broker, optionally act while it is dead, restart it after `seconds`."""
            t_kill = rig.sigkill("mosquitto")
            wall_kill = time.time()
            if during:
                during(t_kill)
            time.sleep(max(0.0, t_kill + seconds - time.monotonic()))
            # The control plane may connect before start_broker has seen the port open (it polls
            # every 50 ms): its reconnection counts from the broker's start.
            t_start = time.monotonic()
            t_up = rig.start_broker()
            k = {"n": n, "outage_s": round(t_up - t_kill, 2), "t_kill": t_kill, "t_up": t_up, "t_start": t_start,
                 "wall_up": time.time(), "wall_kill": wall_kill}
            kills.append(k)
            return k

        def reconnected(k: dict, seconds: float = 25) -> None:
            """Every pole said `online: true` (its own time) after the restart; central took it in."""
            def poles_back():
                seen = {}
                for _, m in watcher.json("/online"):
                    if m.get("online") and m.get("pole") in POLES and parse_iso(m["at"]) >= k["wall_up"] - 0.5:
                        seen.setdefault(m["pole"], parse_iso(m["at"]) - k["wall_up"])
                return seen if len(seen) == len(POLES) else None
            seen = wait_for(f"kill {k['n']}: every pole online again", poles_back, seconds, 0.2)
            k["pole_reconnect_s"] = {p: round(v, 2) for p, v in sorted(seen.items())}
            central_at = wait_for(f"kill {k['n']}: central reconnected",
                                  lambda: central_log.first_after("broker connected", k["t_start"]), seconds, 0.1)
            k["central_reconnect_s"] = round(central_at - k["t_start"], 2)
            wait_for(f"kill {k['n']}: central sees every pole online",
                     lambda: rig.metrics().get("lichtweg_central_poles_online", 0) >= len(POLES), 15, 0.2)

        # A stored report of every pole first, so that each pole's chain starts before the first kill.
        wait_for("a stored report of every pole", lambda: all(
            rig.query("SELECT count(*) FROM telemetry_reports WHERE pole = ?", (p,))[0][0] for p in POLES), 15, 0.2)

        # -- kill 1: during the canary soak; the soak ends while the broker is dead ----------------
        rig.upload(2, V2_BASE)
        t_rollout = time.monotonic()
        rig.api.post(f"/api/routes/{ROUTE}/rollouts",
                     {"version": 2, "canaries": [CANARY], "soakSeconds": SOAK, "ackTimeoutSeconds": 60})
        wait_for("canary applied, soaking", lambda: rig.rollout()["state"] == "soaking", 20, 0.05)
        wait_for("canary lamp at version 2's base", lambda: rig.level(CANARY)[0] == V2_BASE, 5, 0.05)
        time.sleep(1)
        presence = {}

        def presence_edge(t_kill: float) -> None:
            time.sleep(1)
            rig.simulate(PRESENCE_POLE, "a 1")
            t1 = time.monotonic()
            presence["lit_after_s"] = round(wait_for("presence pole at 100 % with the broker dead",
                                                     lambda: rig.level(PRESENCE_POLE)[0] == 100 and time.monotonic(), 3, 0.02) - t1, 3)
            time.sleep(0.5)
            presence["neighbour_level"] = rig.level(NEIGHBOUR)[0]
            rig.simulate(PRESENCE_POLE, "a 0")
            presence["t_off"] = time.monotonic()
            presence["t_on"] = t1

        k1 = outage(1, OUTAGES[0], presence_edge)
        # Back to base after the hold and the ramp down, whether or not the broker is back yet. The
        # base is version 2's if the control plane came back quickly enough to finish the rollout
        # (the soak ran out while the broker was dead) before the hold and the ramp were over.
        def presence_pole_at_base():
            on_v2 = any(m.get("pole") == PRESENCE_POLE and m.get("profileVersion") == 2 for _, m in watcher.json("/state"))
            base = V2_BASE if on_v2 else V1_BASE
            if rig.level(PRESENCE_POLE)[0] != base:
                return None
            presence["base_reached"] = base
            return time.monotonic()
        back = wait_for("presence pole back at base", presence_pole_at_base, HOLD + 5, 0.05)
        presence["back_to_base_after_s"] = round(back - presence["t_off"], 2)
        reconnected(k1)
        final = wait_for("the rollout completes after the broker's restart",
                         lambda: (r := rig.rollout())["state"] in ("completed", "halted") and r, 40, 0.2)
        rollout_seconds = time.monotonic() - t_rollout
        assert final["state"] == "completed", f"rollout ended {final}"
        assert final["applied"] == len(POLES) and all(p["progress"] == "applied" for p in final["poles"]), final
        wait_for("every lamp at version 2's base", lambda: all(rig.level(p)[0] == V2_BASE for p in POLES), 10)

        # -- kill 2: during heavy telemetry; the control plane comes back after the poles ----------
        # Its reconnect back-off (1 s doubling to 60 s, like a pole's) makes that the rule after a
        # longer outage, and in a fleet of any size some pole is always back first. Held here with
        # SIGSTOP until every pole has reported again, so that the case is there in every run.
        time.sleep(3)
        k2 = outage(2, OUTAGES[1], lambda t: rig.signal("central", signal.SIGSTOP))

        def all_reported_since_restart():
            seen = {m["pole"] for t, m in watcher.json("/telemetry") if t >= k2["t_up"] and m.get("pole") in POLES}
            return len(seen) == len(POLES)
        try:
            wait_for("kill 2: every pole reported after the restart", all_reported_since_restart, 15, 0.1)
        finally:
            rig.signal("central", signal.SIGCONT)
        k2["central_held_s"] = round(time.monotonic() - k2["t_up"], 2)
        reconnected(k2)

        # -- kill 3: during heavy telemetry, right after everything came back -------------------
        time.sleep(1)
        k3 = outage(3, OUTAGES[2])
        reconnected(k3)

        # -- let the last reports in, stop the load and let the ingest settle -------------------
        t_end = time.time()
        wait_for("a report of every pole after the last restart", lambda: all(
            (rig.query("SELECT max(to_at) FROM telemetry_reports WHERE pole = ?", (p,))[0][0] or 0) > t_end + 1 for p in POLES), 20, 0.5)
        load.finish()
        load.drain(60)
        cutoff = time.monotonic()  # what the watcher saw until now must be stored 2 s later
        time.sleep(2)
        sampler.stopping.set()

        # -- the lamps while the broker was dead ------------------------------------------------
        bad_samples = []
        for k in kills:
            expected = {p: (V2_BASE if (k["n"] > 1 or p == CANARY) else V1_BASE) for p in POLES}
            for t, p, level, relay in sampler.between(k["t_kill"] + 0.2, k["t_up"]):
                if p == PRESENCE_POLE and k["n"] == 1 and presence["t_on"] - 0.1 <= t <= presence["t_off"] + HOLD + 1.5:
                    ok = level is not None and expected[p] <= level <= 100 and relay == "1"
                else:
                    ok = level == expected[p] and relay == "1"
                if not ok:
                    bad_samples.append((k["n"], round(t - k["t_kill"], 2), p, level, relay, expected[p]))
        outage_samples = sum(len(sampler.between(k["t_kill"] + 0.2, k["t_up"])) for k in kills)

        # -- telemetry as stored by the control plane -------------------------------------------
        stored, gaps, first_last = {}, {}, {}
        for p in POLES + load.poles:
            rows = rig.query("SELECT from_at, to_at FROM telemetry_reports WHERE pole = ? ORDER BY from_at", (p,))
            stored[p] = len(rows)
            gaps[p] = chain_gaps(rows)
            if rows:
                first_last[p] = (rows[0][0], rows[-1][1])
        real_gaps = {p: g for p, g in gaps.items() if g and p in POLES}
        load_gaps = {p: g for p, g in gaps.items() if g and p in load.poles}
        stored_keys = {(p, round(f * 1000)) for p in load.poles
                       for (f,) in rig.query("SELECT from_at FROM telemetry_reports WHERE pole = ?", (p,))}
        acked = load.acked()
        missing_acked = sorted(acked - stored_keys)

        # Reports the watcher saw from the real poles: their energy counters and their chain.
        energy_drops, seen_reports, seen_gaps = {}, {}, {}
        for p in POLES:
            reports = {}
            for _, m in watcher.json(f"/pole/{p}/telemetry"):
                reports.setdefault(m["from"], m)  # a QoS 1 duplicate counts once
            ordered = sorted(reports.values(), key=lambda m: parse_iso(m["from"]))
            seen_reports[p] = len(ordered)
            seen_gaps[p] = chain_gaps([(parse_iso(m["from"]), parse_iso(m["to"])) for m in ordered])
            energy_drops[p] = [(a["to"], a["energyWh"], b["energyWh"]) for a, b in zip(ordered, ordered[1:])
                               if b["energyWh"] < a["energyWh"]]
        # What the watcher saw must all be stored (the control plane's session lost nothing).
        unseen_by_central = {p: [m for t, m in watcher.json(f"/pole/{p}/telemetry") if t <= cutoff
                                 and not rig.query("SELECT 1 FROM telemetry_reports WHERE pole = ? AND abs(from_at - ?) < 0.002",
                                                  (p, parse_iso(m["from"])))]
                             for p in POLES}
        unseen_by_central = {p: len(v) for p, v in unseen_by_central.items() if v}

        audit = rig.api.get("/api/audit?limit=100")["items"]
        metrics = rig.metrics()
        measured = {
            "kills": len(kills),
            "outage_s": [k["outage_s"] for k in kills],
            "pole_reconnect_s_max": [max(k["pole_reconnect_s"].values()) for k in kills],
            "pole_reconnect_s": [k["pole_reconnect_s"] for k in kills],
            "central_reconnect_s": [k["central_reconnect_s"] for k in kills],
            "central_held_after_restart_s": k2["central_held_s"],
            "rollout_s": round(rollout_seconds, 1),
            "rollout_state": final["state"],
            "presence_during_outage": {k: v for k, v in presence.items() if not k.startswith("t_")},
            "lamp_samples_during_outages": outage_samples,
            "lamp_samples_off_schedule": len(bad_samples),
            "reports_stored_per_pole": {p: stored[p] for p in POLES},
            "reports_seen_by_subscriber": seen_reports,
            "gaps": sum(len(g) for g in real_gaps.values()),
            "gaps_seen_by_subscriber": sum(len(g) for g in seen_gaps.values()),
            "load_reports_sent": load.sent,
            "load_reports_acked": len(acked),
            "load_reports_stored": sum(stored[p] for p in load.poles),
            "load_acked_missing": len(missing_acked),
            "load_resends": load.resent,
            "load_unreceipted_at_end": load.unconfirmed(),
            "load_gaps": sum(len(g) for g in load_gaps.values()),
            "reports_seen_not_stored": unseen_by_central,
            "energy_counter_decreases": sum(len(v) for v in energy_drops.values()),
            "telemetry_dropped_metric": metrics.get("lichtweg_central_telemetry_dropped_total", 0),
            "malformed_metric": metrics.get("lichtweg_central_mqtt_malformed_total", 0),
            "seconds": round(time.monotonic() - started, 1),
        }
        record("broker SIGKILLed during a rollout and heavy telemetry",
               f"mosquitto (persistence, autosave 1 s) SIGKILLed {len(kills)} times for {list(OUTAGES)} s: in the "
               f"canary soak of a {len(POLES)}-pole rollout (soak {SOAK} s, ending while it was dead; a presence edge "
               f"on {PRESENCE_POLE} meanwhile), then twice under {len(load.poles)} synthetic poles x "
               f"{round(1 / load.period)} reports/s plus the real poles' telemetry (telemetrySeconds {rig.telemetry_seconds}); "
               f"after the second restart central held (SIGSTOP) until every pole had reported again",
               measured)

        # Every check, so that one run names every problem.
        problems = []
        if bad_samples:
            problems.append(f"lamps off their schedule while the broker was dead (kill, s after kill, pole, level, relay, "
                            f"expected): {bad_samples[:10]}")
        if not outage_samples:
            problems.append("no lamp samples during the outages")
        if not presence["lit_after_s"] < 1.0:
            problems.append(f"the presence pole took {presence['lit_after_s']} s to light with the broker dead")
        if presence["neighbour_level"] != V1_BASE:
            problems.append(f"the neighbour was at {presence['neighbour_level']} %, yet it cannot have heard of the presence")
        if real_gaps:
            problems.append(f"gaps in the poles' stored telemetry (previous to, next from): {real_gaps}")
        if any(seen_gaps.values()):
            problems.append(f"gaps in the poles' telemetry as a plain subscriber saw it: { {p: g for p, g in seen_gaps.items() if g} }")
        if not all(seen_reports[p] >= 3 for p in POLES):  # a pole reports at its 5 s tick at most
            problems.append(f"too few reports seen (is the test's timeline right?): {seen_reports}")
        for p in POLES:
            # The chain covers the whole test: from before the first kill to after the last restart.
            if not (p in first_last and first_last[p][0] < kills[0]["wall_kill"] and first_last[p][1] > kills[-1]["wall_up"]):
                problems.append(f"{p}'s stored reports do not cover the test: {first_last.get(p)}")
        if unseen_by_central:
            problems.append(f"reports a subscriber saw that the control plane never stored: {unseen_by_central}")
        if missing_acked:
            problems.append(f"{len(missing_acked)} synthetic reports acknowledged by the broker not stored, e.g. {missing_acked[:3]}")
        if load_gaps:
            problems.append(f"gaps in the synthetic poles' stored telemetry: { {p: g[:2] for p, g in list(load_gaps.items())[:3]} }")
        if any(energy_drops.values()):
            problems.append(f"energy counters went down: {energy_drops}")
        if metrics.get("lichtweg_central_telemetry_dropped_total", 0):
            problems.append("the control plane dropped telemetry (lichtweg_central_telemetry_dropped_total)")
        if [a["action"] for a in audit].count("rollout.start") != 2:
            problems.append(f"audit log: {[a['action'] for a in audit]}")
        assert not problems, "\n".join(problems)
    except BaseException:
        print(rig.tails())
        raise
    finally:
        for c in (watcher, load):
            if c:
                c.stop() if isinstance(c, Watcher) else c.close()
        if sampler:
            sampler.stopping.set()
        central_log.stopping.set()

