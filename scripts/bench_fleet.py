#!/usr/bin/env python3
"""Benchmark of a staged rollout to a whole fleet: N simulated poles online, then the time from
"roll out" to all N acknowledged (issue 6, "Performance").

A mosquitto on loopback and lichtweg-central on SQLite (copies of the binaries, in the run's own
folder). A route of N poles is stored through the API (version 1, which the poles run, and
version 2, which is rolled out). A fleet simulator in this script multiplexes the N poles over
N / --per-conn MQTT 5 connections (paho-mqtt); each connection subscribes to the route's profile
topic and to every one of its poles' own profile topics, and each pole publishes its retained
`online` and `state` (profileVersion 1) as a real pole does on connecting. Measured:

  online    from the first publish to central's /metrics saying N poles known and N online;
  rollout   from the POST that starts it (canaries: the first --canaries poles, --soak seconds)
            to GET /api/routes/<route>/rollout saying `completed` with N applied, split into the
            canary phase (start to `soaking`), the soak (to `rolling-out`) and the route phase
            (to `completed`); the simulator's own clock gives the same splits from its side.

A simulated pole takes a profile as `lichtweg-pole` does (PoleController.receiveProfile): an empty
message is ignored; the envelope is decoded; the Ed25519 signature over the document's exact
bytes is verified with the public key (really, with `cryptography`: once per copy received per
connection, which stands for every pole of that connection); route and version of envelope and
document must agree; the same version and signature again is ignored silently; an older or equal
version is answered `rejected`/`not-newer`; a pole the document does not list is answered
`pole-not-in-profile`. On accepting, the pole publishes its new retained `state` (with the new
profileVersion) and then its `profile-ack` (`applied`), both QoS 1. Not simulated: parsing and
validating the YAML (the document's route id, version and pole ids are read with patterns), the
atomic write, override and detection-notice subscriptions, per-pole client ids and last wills.

NOTE the fan-out: the broker sends the route's profile once per *connection* here (N / --per-conn
copies); a real fleet has one connection per pole, so the broker sends N copies of the signed
profile (about N x 1.2 MB for N = 10,000).

The phases are timed by the route's Server-Sent Events (a `rollout` event at every change of
state); GET .../rollout is polled only every --poll seconds: it encodes every pole's progress
(0.2 s at 10,000 poles; before the running rollout was served from memory it also decoded the
stored one, and 4 GETs a second cost 18 % of central's CPU).

Usage: bench_fleet.py BIN_DIR [--quick] [--poles N] [--per-conn K] [--canaries C] [--soak S]
                      [--rate R] [--ack-rate R] [--compact] [--default-broker] [--perf]
  BIN_DIR holds lichtweg and lichtweg-central (copied before use). --quick: 1,000 poles.
  --rate: at most R publishes a second from the whole fleet (default unpaced: each connection
  publishes as fast as paho can); --ack-rate: the same for the rollout's answers.
  --compact: poles without sensor lists, a document of about 70 bytes a pole instead of 143.
  --default-broker: mosquitto's default queue limits (1,000 queued QoS 1 messages per client).
  --perf: `perf record` central during the rollout and print its hottest symbols.
A run fails early (--stall, 15 s) when central takes no message while it still lacks some, and
says how many the broker sent and central consumed.
Exit status 0 only if every pole came online and the rollout completed with all N applied.
"""
import argparse, base64, http.client, json, os, queue, re, shutil, signal, subprocess, sys, tempfile, threading, time
import urllib.error, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testbed import free_port, night_longitude, pole_entry, road_profile, start_mosquitto_tuned, wait_port  # noqa: E402

try:
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties
    from paho.mqtt.subscribeoptions import SubscribeOptions
except ImportError:
    sys.exit("bench fleet: needs paho-mqtt in the test venv (.venv-test/bin/pip install paho-mqtt)")
try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:
    sys.exit("bench fleet: needs cryptography in the test venv (.venv-test/bin/pip install cryptography)")

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("bin_dir")
ap.add_argument("--quick", action="store_true")
ap.add_argument("--poles", type=int)
ap.add_argument("--per-conn", type=int, default=500, help="poles per MQTT connection (500)")
ap.add_argument("--canaries", type=int, default=10)
ap.add_argument("--soak", type=float, default=5.0)
ap.add_argument("--ack-timeout", type=float, default=60.0)
ap.add_argument("--poll", type=float, default=2.0,
                help="seconds between GETs of the rollout (each decodes the whole stored rollout: keep it rare)")
ap.add_argument("--default-broker", action="store_true")
ap.add_argument("--perf", action="store_true")
ap.add_argument("--compact", action="store_true", help="poles without sensor lists (a smaller document: 10,000 fit 1 MiB)")
ap.add_argument("--rate", type=float, help="at most this many publishes a second from the whole fleet (default: unpaced)")
ap.add_argument("--ack-rate", type=float, help="the same during the rollout (default: --rate; 0: unpaced)")
ap.add_argument("--stall", type=float, default=15.0, help="fail when central makes no progress for this many seconds")
args = ap.parse_args()

N = args.poles or (1000 if args.quick else 10000)
ROUTE = "fleet-road"
BODY_LIMIT = 4 << 20  # BodyLimit.document in Sources/CentralService/API/JSONBody.swift
ONLINE_SECONDS = 180   # bounds of the phases
ROLLOUT_SECONDS = 300
HARD_LIMIT = 900       # the whole run, whatever happens
ROOT = "lichtweg/v1"
procs = []
work = tempfile.mkdtemp(prefix="lichtweg-bench-fleet-")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def stamp(t=None):
    t = time.time() if t is None else t
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int((t % 1) * 1000):03d}Z"


def pole_id(i):
    return f"P{i:05d}"


# MARK: - The profile documents

def document(n, version, lon, level=20, compact=None):
    compact = args.compact if compact is None else compact
    sensors = None if compact else [("a", "pir", "increasing", 20)]
    poles = [pole_entry(pole_id(i), i * 30, lon, lat=i * 0.0003, luminaire="led", sensors=sensors) for i in range(n)]
    return road_profile(ROUTE, poles, lon, version=version, name="Fleet benchmark road", luminaire=("led", 30, 0.5),
                        base=level, presence={"level": 80, "holdSeconds": 30})


def body_size(n, lon, compact=None):
    return len(json.dumps({"document": document(n, 2, lon, compact=compact)}).encode())


def largest_fitting(lon, compact=False):
    lo, hi = 1, 20000
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if body_size(mid, lon, compact) <= BODY_LIMIT:
            lo = mid
        else:
            hi = mid - 1
    return lo


# MARK: - Processes, API, metrics

def stop_all():
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


def api(method, path, body=None, timeout=30):
    request = urllib.request.Request(f"http://127.0.0.1:{hport}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")[:500]


def metrics():
    text = urllib.request.urlopen(f"http://127.0.0.1:{hport}/metrics", timeout=10).read().decode()
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\w+)(?:\{[^}]*\})? (\S+)$", text, flags=re.M)}


class CPU:
    """Samples a process's CPU time (/proc/PID/stat) every `period` s: peak and mean % of one core."""
    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, pid, period=0.5):
        self.pid, self.period, self.peak, self.phase_peak = pid, period, 0.0, 0.0
        self.stop = threading.Event()
        threading.Thread(target=self.run, daemon=True).start()

    def ticks(self):
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            return None

    def seconds(self):
        t = self.ticks()
        return t / self.TICK if t is not None else 0.0

    def run(self):
        last, at = self.ticks(), time.monotonic()
        while not self.stop.wait(self.period):
            now, t = time.monotonic(), self.ticks()
            if t is None or last is None:
                return
            pct = 100.0 * (t - last) / self.TICK / (now - at)
            self.peak, self.phase_peak = max(self.peak, pct), max(self.phase_peak, pct)
            last, at = t, now

    def take_phase_peak(self):
        p, self.phase_peak = self.phase_peak, 0.0
        return p


def rss_mib(pid):
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":")
                values[key] = int(value.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


class Watch(threading.Thread):
    """Reads the route's Server-Sent Events (GET /api/routes/<route>/events): central sends a
    `rollout` event at every change of the rollout's state and, at most once a second, its progress.
    This times the phases without polling the stored rollout (which costs central a decode of it)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.opened = threading.Event()
        self.seen, self.progress, self.final, self.events = {}, [], None, 0
        self.conn = None

    def run(self):
        try:
            self.conn = http.client.HTTPConnection("127.0.0.1", hport, timeout=ROLLOUT_SECONDS + 60)
            self.conn.request("GET", f"/api/routes/{ROUTE}/events", headers={"Authorization": f"Bearer {token}"})
            response = self.conn.getresponse()
            if response.status != 200:
                return
            self.opened.set()
            event = None
            while True:
                line = response.readline()
                if not line:
                    return
                line = line.rstrip(b"\r\n")
                if line.startswith(b"event: "):
                    event = line[7:]
                    self.events += 1
                elif line.startswith(b"data: ") and event == b"rollout":
                    now, view = time.monotonic(), json.loads(line[6:])
                    self.seen.setdefault(view["state"], now)
                    self.progress.append((now, view["state"], view["applied"]))
                    if view["state"] in ("completed", "halted"):
                        self.final = view
                elif not line:
                    event = None
        except (OSError, http.client.HTTPException, ValueError):
            return

    def close(self):
        try:
            self.conn.sock.shutdown(2)
        except Exception:
            pass


# MARK: - The fleet

class Pacer:
    """At most `rate` publishes a second over the whole fleet (None: as fast as paho goes)."""

    def __init__(self, rate):
        self.rate, self.lock, self.next = rate, threading.Lock(), time.monotonic()

    def take(self):
        if not self.rate:
            return
        with self.lock:
            now = time.monotonic()
            self.next = max(self.next, now - 0.05) + 1.0 / self.rate  # a burst of at most 50 ms
            wait = self.next - now
        if wait > 0:
            time.sleep(wait)


class Connection:
    """One MQTT connection speaking for `poles`, each with its own profile in force. Received
    profiles are handled on a worker thread of the connection, so that paho's network loop keeps
    sending while the simulator verifies and answers."""

    def __init__(self, k, poles, port, public_key, fleet):
        self.k, self.poles, self.public_key, self.fleet = k, poles, public_key, fleet
        self.in_force = {p: (1, None) for p in poles}  # version, signature
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.lock = threading.Lock()
        self.inbox = queue.Queue()
        threading.Thread(target=self.work, daemon=True).start()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"lichtweg-fleet-{k:03d}",
                                  protocol=mqtt.MQTTv5, userdata=self)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self.on_connect
        self.client.on_subscribe = lambda c, u, mid, codes, props: self.subscribed.set()
        self.client.on_message = self.on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 7 * 86400  # as a pole: persistent session, 7 days
        self.client.connect_async("127.0.0.1", port, keepalive=30, clean_start=False, properties=props)
        self.client.loop_start()

    def on_connect(self, client, userdata, flags, reason, properties):
        if reason.is_failure:
            self.fleet.problem(f"connection {self.k}: CONNACK {reason}")
            return
        opts = SubscribeOptions(qos=1)
        client.subscribe([(f"{ROOT}/route/{ROUTE}/profile", opts)] + [(f"{ROOT}/pole/{p}/profile", opts) for p in self.poles])
        self.connected.set()

    def announce(self):
        """What a pole publishes on connecting: retained online, then retained state."""
        for p in self.poles:
            self.publish(f"{ROOT}/pole/{p}/online", json.dumps(
                {"schema": "lichtweg.online/1", "pole": p, "online": True, "firmware": "fleet-sim", "at": stamp()}), retain=True)
            self.publish_state(p, 1)

    def publish(self, topic, payload, retain=False):
        self.fleet.pacer.take()
        self.client.publish(topic, payload, qos=1, retain=retain)
        self.fleet.count("published")

    def publish_state(self, pole, version):
        self.publish(f"{ROOT}/pole/{pole}/state", json.dumps({
            "schema": "lichtweg.state/1", "pole": pole, "route": ROUTE, "state": "base", "failsafeReason": None, "level": 20,
            "program": "night", "profileVersion": version, "faults": [], "uptimeSeconds": 60, "firmware": "fleet-sim",
            "droppedMessages": 0, "at": stamp()}), retain=True)

    def ack(self, pole, route, version, result, reason=None, detail=None):
        self.publish(f"{ROOT}/pole/{pole}/profile-ack", json.dumps({
            "schema": "lichtweg.profile-ack/1", "pole": pole, "route": route, "version": version, "result": result,
            "reason": reason, "detail": detail, "versionInForce": self.in_force[pole][0], "at": stamp()}))
        self.fleet.count("acks_" + result)

    def on_message(self, client, userdata, msg):
        self.inbox.put((time.monotonic(), msg))

    def work(self):
        while True:
            received, msg = self.inbox.get()
            try:
                self.receive(msg, received)
            except Exception as e:  # a bug here must show, not vanish in a thread
                self.fleet.problem(f"connection {self.k}: {type(e).__name__}: {e}")

    def receive(self, msg, received):
        on_route = msg.topic == f"{ROOT}/route/{ROUTE}/profile"
        targets = self.poles if on_route else [msg.topic.split("/")[3]]
        if not msg.payload:  # a cleared retained profile: keep ours
            self.fleet.count("cleared_topics")
            return
        self.fleet.mark("route_copy" if on_route else "canary_copy", received)
        try:
            signed = json.loads(msg.payload)
            if not str(signed.get("schema", "")).startswith("lichtweg.signed-profile/1"):
                raise ValueError("schema")
            doc, version, route = signed["document"], int(signed["version"]), signed["route"]
            sig = base64.b64decode(signed["signature"], validate=True)
            if len(sig) != 64:
                raise ValueError("signature is not base64 of 64 bytes")
        except Exception as e:
            for p in targets:
                self.ack(p, None, None, "rejected", "malformed", str(e))
            return
        try:
            self.public_key.verify(sig, doc.encode())
            self.fleet.count("verifications")
        except InvalidSignature:
            for p in targets:
                self.ack(p, route, version, "rejected", "bad-signature")
            return
        doc_route = re.search(r"^route:\n  id: (\S+)$", doc, flags=re.M)
        doc_version = re.search(r"^version: (\d+)$", doc, flags=re.M)
        listed = None
        with self.lock:
            for p in targets:
                if self.in_force[p] == (version, signed["signature"]):
                    continue  # the same signed profile again: nothing to say
                if route != ROUTE or not doc_route or doc_route.group(1) != ROUTE:
                    self.ack(p, route, version, "rejected", "wrong-route")
                elif not doc_version or int(doc_version.group(1)) != version:
                    self.ack(p, route, version, "rejected", "malformed", "envelope and document disagree")
                elif version <= self.in_force[p][0]:
                    self.ack(p, route, version, "rejected", "not-newer",
                             f"version {version} is not newer than version {self.in_force[p][0]} in force")
                else:
                    if listed is None:
                        listed = set(re.findall(r"^    - \{id: ([^,}]+)", doc, flags=re.M))
                    if p not in listed:
                        self.ack(p, route, version, "rejected", "pole-not-in-profile")
                        continue
                    self.in_force[p] = (version, signed["signature"])
                    self.publish_state(p, version)  # the state machine reports first ...
                    self.ack(p, route, version, "applied")  # ... then the acknowledgement
                    self.fleet.count("applied")
        self.fleet.mark("last_ack", time.monotonic())


class Fleet:
    def __init__(self, n, per_conn, port, public_key, rate):
        self.pacer = Pacer(rate)
        self.lock = threading.Lock()
        self.counts, self.first, self.last, self.problems = {}, {}, {}, []
        poles = [pole_id(i) for i in range(n)]
        self.conns = [Connection(k, poles[i:i + per_conn], port, public_key, self)
                      for k, i in enumerate(range(0, n, per_conn))]

    def count(self, key, by=1):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + by

    def mark(self, key, t):
        with self.lock:
            self.first.setdefault(key, t)
            self.last[key] = t

    def problem(self, text):
        with self.lock:
            self.problems.append(text)

    def wait_ready(self, seconds):
        end = time.monotonic() + seconds
        for c in self.conns:
            if not (c.connected.wait(max(0, end - time.monotonic())) and c.subscribed.wait(max(0, end - time.monotonic()))):
                return False
        return True

    def stop(self):
        for c in self.conns:
            try:
                c.client.disconnect()
                c.client.loop_stop()
            except Exception:
                pass


# MARK: - The run

def fail(text):
    log(f"FAILED: {text} (work folder {work})")
    raise SystemExit(1)


def broker_sys(topic):
    """A number from the broker's $SYS tree (sys_interval 1), or None."""
    try:
        out = subprocess.run(["mosquitto_sub", "-p", str(bport), "-t", f"$SYS/broker/{topic}", "-C", "1", "-W", "3"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
        return int(float(out)) if out else None
    except (subprocess.SubprocessError, ValueError):
        return None


def stalled(m, what):
    """Central has taken no message for --stall seconds: say where the messages went, and fail."""
    fail(f"{what}, and it has taken no MQTT message for {args.stall:g} s. Central consumed "
         f"{m.get('lichtweg_central_mqtt_messages_total', 0):,.0f} messages in all; the simulator published "
         f"{fleet.counts.get('published', 0):,}; the broker sent "
         f"{broker_sys('publish/messages/sent')} (incl. profiles to the fleet) and dropped {broker_sys('publish/messages/dropped')} "
         f"PUBLISH packets. Sent by the broker but not consumed by central = lost inside central")


def on_alarm(signum, frame):
    raise SystemExit(f"bench fleet: gave up after {HARD_LIMIT} s")


signal.signal(signal.SIGALRM, on_alarm)
signal.alarm(HARD_LIMIT)
fleet = None
perf = None
result = {"poles": N}
try:
    bin_dir = os.path.join(work, "bin")
    os.mkdir(bin_dir)
    for name in ("lichtweg", "lichtweg-central"):
        shutil.copy2(os.path.join(args.bin_dir, name), bin_dir)
    lon = night_longitude()
    size_n, size_10k = body_size(N, lon), body_size(10000, lon, False)
    doc_10k = len(document(10000, 2, lon, compact=False).encode())
    fits = largest_fitting(lon)
    log(f"{N} poles: profile body {size_n:,} bytes; 10,000 poles: document {doc_10k:,} bytes, body {size_10k:,} bytes; "
        f"largest N within the {BODY_LIMIT:,}-byte limit: {fits:,}")
    result.update(bodyBytes=size_n, document10kBytes=doc_10k, body10kBytes=size_10k, largestFitting=fits)

    extra = ["sys_interval 1"] + ([] if args.default_broker else
                                  ["max_queued_messages 1000000", "max_queued_bytes 0", "max_inflight_messages 1000"])
    broker, bport = start_mosquitto_tuned(work, extra, log=f"{work}/mosquitto.log", nofile=65536)
    procs.append(broker)
    db = f"sqlite:{work}/central.sqlite"
    subprocess.run([f"{bin_dir}/lichtweg", "key", "generate", "--private", f"{work}/k.key", "--public", f"{work}/k.pub"],
                   check=True, stdout=subprocess.DEVNULL)
    public_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(open(f"{work}/k.pub").read().strip()))
    token = subprocess.run([f"{bin_dir}/lichtweg-central", "token", "add", "bench", "--role", "engineer", "--db", db],
                           check=True, capture_output=True, text=True).stdout.strip()
    hport = free_port()
    central = subprocess.Popen([f"{bin_dir}/lichtweg-central", "serve", "--db", db, "--listen", f"127.0.0.1:{hport}",
                                "--broker", f"mqtt://127.0.0.1:{bport}", "--signing-key", f"{work}/k.key",
                                "--client-id", "bench-central"],
                               stdout=subprocess.DEVNULL, stderr=open(f"{work}/central.log", "w"))
    procs.append(central)
    if not wait_port(hport, 60):
        fail("lichtweg-central did not start (see central.log)")
    cpu_central, cpu_broker, cpu_self = CPU(central.pid), CPU(broker.pid), CPU(os.getpid())

    # Versions 1 (in force on the poles) and 2 (to roll out), through the API.
    for version, level in ((1, 20), (2, 25)):
        t = time.monotonic()
        status, body = api("POST", f"/api/routes/{ROUTE}/profiles", {"document": document(N, version, lon, level)}, timeout=120)
        if status not in (200, 201):
            fail(f"upload of version {version} ({size_n:,} bytes) answered {status}: {body}")
        log(f"version {version} uploaded in {time.monotonic() - t:.2f} s")
    result["uploadSeconds"] = time.monotonic() - t

    # The fleet comes online.
    fleet = Fleet(N, args.per_conn, bport, public_key, args.rate)
    if not fleet.wait_ready(60):
        fail("the simulator's connections did not connect and subscribe within 60 s")
    log(f"{len(fleet.conns)} connections of {args.per_conn} poles connected and subscribed")
    cpu_central.take_phase_peak()
    t0 = time.monotonic()
    threads = [threading.Thread(target=c.announce) for c in fleet.conns]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    published = time.monotonic()
    known_at = online_at = None
    end = t0 + ONLINE_SECONDS
    m, last_seen, last_change = {}, -1, time.monotonic()
    while time.monotonic() < end:
        m = metrics()
        now = time.monotonic()
        if known_at is None and m.get("lichtweg_central_poles_known", 0) >= N:
            known_at = now
        if online_at is None and m.get("lichtweg_central_poles_online", 0) >= N:
            online_at = now
        if known_at and online_at:
            break
        seen_now = m.get("lichtweg_central_mqtt_messages_total", 0)
        if seen_now != last_seen:
            last_seen, last_change = seen_now, now
        elif now - last_change > args.stall:
            stalled(m, f"central knows {m.get('lichtweg_central_poles_known', 0):.0f} of {N} poles")
        time.sleep(0.2)
    if not (known_at and online_at):
        fail(f"central knows {m.get('lichtweg_central_poles_known', 0):.0f} and has {m.get('lichtweg_central_poles_online', 0):.0f} "
             f"online of {N} poles after {ONLINE_SECONDS} s")
    result.update(onlinePublishSeconds=published - t0, knownSeconds=known_at - t0, onlineSeconds=online_at - t0,
                  onlineCentralPeakCPU=cpu_central.take_phase_peak())
    log(f"all {N} poles known after {known_at - t0:.2f} s, online after {online_at - t0:.2f} s")
    time.sleep(1)
    messages_before = metrics().get("lichtweg_central_mqtt_messages_total", 0)

    # The rollout.
    if args.perf:
        perf = subprocess.Popen(["perf", "record", "-F", "499", "-g", "-p", str(central.pid), "-o", f"{work}/perf.data"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    canaries = [pole_id(i) for i in range(min(args.canaries, N - 1))]
    watch = Watch()
    watch.start()
    if not watch.opened.wait(10):
        fail("GET .../events did not open")
    ack_rate = args.rate if args.ack_rate is None else args.ack_rate
    fleet.pacer.rate = ack_rate
    cpu_central.take_phase_peak()
    cpu_before = cpu_central.seconds()
    r0 = time.monotonic()
    status, body = api("POST", f"/api/routes/{ROUTE}/rollouts", {"version": 2, "canaries": canaries, "soakSeconds": args.soak,
                                                                 "ackTimeoutSeconds": args.ack_timeout})
    posted = time.monotonic()
    if status != 201:
        fail(f"POST rollouts answered {status}: {body}")
    seen = {}  # state -> first time a GET showed it
    get_times = []
    view = body
    end = r0 + ROLLOUT_SECONDS
    last_get = 0.0
    last_applied, last_change = -1, time.monotonic()
    while time.monotonic() < end:
        now = time.monotonic()
        if now - last_get >= args.poll or watch.final:
            status, view = api("GET", f"/api/routes/{ROUTE}/rollout")
            last_get = time.monotonic()
            get_times.append(last_get - now)
            if status != 200:
                fail(f"GET rollout answered {status}: {view}")
            seen.setdefault(view["state"], last_get)
            if view["state"] in ("completed", "halted"):
                break
        applied = max([view["applied"]] + [a for _, _, a in watch.progress[-1:]])
        if applied != last_applied:
            last_applied, last_change = applied, now
        elif view["state"] == "rolling-out" and now - last_change > args.stall and now - fleet.last.get("last_ack", now) > args.stall:
            stalled(metrics(), f"the rollout is stuck at {last_applied:,} of {N:,} applied "
                    f"(the simulator sent {fleet.counts.get('acks_applied', 0):,} 'applied' acks)")
        time.sleep(0.05)
    watch.close()
    for state, t in watch.seen.items():  # the events are the exact times; a GET can only be later
        seen[state] = min(t, seen.get(state, t))
    progress = [(t - r0, a) for t, state, a in watch.progress if state == "rolling-out"]
    done = time.monotonic()
    if perf:
        perf.send_signal(signal.SIGINT)
        perf.wait(30)
    cpu_rollout = cpu_central.seconds() - cpu_before
    rollout_peak = cpu_central.take_phase_peak()
    if view.get("state") != "completed":
        fail(f"the rollout is '{view.get('state')}' ({view.get('reason', '')}) with {view.get('applied')} of {N} applied "
             f"after {time.monotonic() - r0:.0f} s; simulator: {fleet.counts}")
    # The canaries' own topics are cleared when it completes: wait a little for those empty messages.
    end = time.monotonic() + 10
    while fleet.counts.get("cleared_topics", 0) < len(canaries) and time.monotonic() < end:
        time.sleep(0.1)
    status, poles = api("GET", f"/api/routes/{ROUTE}/poles")
    on_v2 = sum(1 for p in poles["items"] if p.get("profileVersion") == 2) if status == 200 else -1
    m = metrics()
    rss, hwm = rss_mib(central.pid)

    def at(state):
        return seen[state] - r0 if state in seen else float("nan")
    canary_s = at("soaking")
    soak_s = at("rolling-out") - canary_s
    route_s = at("completed") - at("rolling-out")
    first, last = fleet.first, fleet.last
    # Simulator's clock: canary copies in and acknowledged, route copies in, last acknowledgement out.
    sim = {
        "canaryCopyFirst": first.get("canary_copy", r0) - r0,
        "routeCopyFirst": first.get("route_copy", r0) - r0,
        "routeCopyLast": last.get("route_copy", r0) - r0,
        "lastAck": last.get("last_ack", r0) - r0,
    }
    rate = None
    if len(progress) >= 2 and progress[-1][0] > progress[0][0] and progress[-1][1] > progress[0][1]:
        rate = (progress[-1][1] - progress[0][1]) / (progress[-1][0] - progress[0][0])
    errors = [line.strip() for line in open(f"{work}/central.log") if re.search(r"\b(error|warning|critical)\b", line)]
    result.update(postSeconds=posted - r0, canarySeconds=canary_s, soakSeconds=soak_s, routeSeconds=route_s,
                  totalSeconds=at("completed"), applied=view["applied"], polesOnVersion2=on_v2, sim=sim,
                  routeAppliedPerSecond=rate, centralCPUSecondsRollout=cpu_rollout, centralPeakCPURollout=rollout_peak,
                  centralRSSMiB=rss, centralPeakRSSMiB=hwm, brokerPeakCPU=cpu_broker.peak, simulatorPeakCPU=cpu_self.peak,
                  centralMessages=m.get("lichtweg_central_mqtt_messages_total", 0) - messages_before,
                  malformed=m.get("lichtweg_central_mqtt_malformed_total", 0), simCounts=dict(fleet.counts),
                  getRolloutMaxSeconds=max(get_times), centralLogProblems=len(errors))

    w = 46
    print()
    print(f"fleet rollout: {N:,} poles{' (compact document)' if args.compact else ''} over {len(fleet.conns)} MQTT 5 connections ({args.per_conn}/conn), central on SQLite, "
          f"broker {'defaults' if args.default_broker else 'raised queue limits'}")
    print(f"{'profile body (POST .../profiles), N poles':{w}} {size_n:>12,} bytes  (limit {BODY_LIMIT:,})")
    print(f"{'profile document, 10,000 poles':{w}} {doc_10k:>12,} bytes  (JSON body {size_10k:,}; fits: N <= {fits:,})")
    print(f"{'online: announcements published':{w}} {published - t0:9.2f} s")
    print(f"{'online: central knows all N':{w}} {known_at - t0:9.2f} s")
    print(f"{'online: central has all N online':{w}} {online_at - t0:9.2f} s   (central peak CPU {result['onlineCentralPeakCPU']:.0f} %)")
    print(f"{'rollout: POST answered':{w}} {posted - r0:9.2f} s")
    print(f"{'rollout: canary phase (start -> soaking)':{w}} {canary_s:9.2f} s   ({len(canaries)} canaries)")
    print(f"{'rollout: soak (soaking -> rolling-out)':{w}} {soak_s:9.2f} s   (soakSeconds {args.soak:g})")
    print(f"{'rollout: route phase (-> completed, N applied)':{w}} {route_s:9.2f} s"
          + (f"   (~{rate:,.0f} acks/s seen by the API)" if rate else ""))
    print(f"{'rollout: TOTAL, POST -> completed':{w}} {at('completed'):9.2f} s   (timed by the API's events)")
    print(f"{'  simulator: first canary copy / first route copy':{w}} {sim['canaryCopyFirst']:9.2f} s / {sim['routeCopyFirst']:.2f} s")
    print(f"{'  simulator: last route copy / last ack sent':{w}} {sim['routeCopyLast']:9.2f} s / {sim['lastAck']:.2f} s")
    print(f"{'applied (API) / poles on version 2 (API)':{w}} {view['applied']:>9,} / {on_v2:,}")
    print(f"{'signatures verified / acks applied / cleared':{w}} {fleet.counts.get('verifications', 0):>9,} / "
          f"{fleet.counts.get('acks_applied', 0):,} / {fleet.counts.get('cleared_topics', 0)}")
    print(f"{'central: CPU during rollout / peak':{w}} {cpu_rollout:9.2f} s / {rollout_peak:.0f} % of a core")
    print(f"{'central: RSS at end / peak':{w}} {rss:9.1f} MiB / {hwm:.1f} MiB")
    print(f"{'simulator publish rate limit: online / rollout':{w}} {args.rate or 0:9,.0f} / {ack_rate or 0:,.0f} per s  (0: unpaced)")
    print(f"{'peak CPU: mosquitto / simulator':{w}} {cpu_broker.peak:9.0f} % / {cpu_self.peak:.0f} %")
    print(f"{'central: slowest GET .../rollout':{w}} {max(get_times):9.3f} s")
    print(f"{'central: log lines error/warning':{w}} {len(errors):9d}" + (f"   first: {errors[0][:100]}" if errors else ""))
    if fleet.problems:
        print(f"simulator problems ({len(fleet.problems)}): {fleet.problems[:3]}")
    if perf:
        report = subprocess.run(["perf", "report", "-i", f"{work}/perf.data", "--stdio", "--no-children", "--sort", "symbol",
                                 "-g", "none", "--percent-limit", "1.5"], capture_output=True, text=True, timeout=120).stdout
        print("central's hottest symbols during the rollout (perf):")
        for line in report.splitlines():
            if line.strip() and not line.startswith("#"):
                print("  " + line.strip()[:150])
    print(json.dumps(result))
    ok = view["applied"] == N and on_v2 == N and not fleet.problems
    if not ok:
        fail(f"applied {view['applied']}, on version 2 {on_v2}, simulator problems {len(fleet.problems)}")
    log(f"ok (work folder {work})")
finally:
    signal.alarm(0)
    if perf and perf.poll() is None:
        perf.kill()
    if fleet:
        fleet.stop()
    stop_all()
    shutil.rmtree(os.path.join(work, "bin"), ignore_errors=True)  # the copies; logs and database stay
