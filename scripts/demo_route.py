#!/usr/bin/env python3
"""The control-plane part of scripts/demo: a whole pilot route, live.

Starts a local mosquitto, the control plane `lichtweg-central` (SQLite) with a demo user, and one
`lichtweg-pole` process (sim backend) per pole of the Brandis–Beucha route. It uploads the route's
profile through the control plane's API and rolls it out (one canary first), then walks simulated
road users along the path by switching the poles' simulated presence sensors, so that the road
lights up ahead of them in the browser. Prints the URL and the login, and runs for
LICHTWEG_DEMO_MINUTES (default 15; 0 stops as soon as the rollout is done).

The route is moved to a longitude where it is night now (time zone UTC), so that the lamps are on
whenever the demo runs; everything else is the pilot profile as it is.

Usage: demo_route.py BIN_DIR WORK_DIR
"""
import http.cookiejar, json, os, random, re, secrets, signal, subprocess, sys, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testbed import free_port, night_longitude, start_mosquitto, wait_port  # noqa: E402

BIN, WORK = sys.argv[1], sys.argv[2]
MINUTES = float(os.environ.get("LICHTWEG_DEMO_MINUTES", "15"))
ROUTE = "brandis-beucha"
procs = []


def wait_for(port, what, seconds=30):
    if not wait_port(port, seconds):
        sys.exit(f"demo: {what} did not start on port {port} (see {WORK})")


def spawn(args, log, **kw):
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(log, "w"), **kw)
    procs.append(p)
    return p


def stop_all():
    """SIGTERM to everything started, newest first (the poles before the broker), then wait."""
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


def stop(*_):
    stop_all()
    sys.exit(0)


class API:
    """The control plane's JSON API with a session cookie and the CSRF token, as the browser uses it."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = None

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.csrf:
            request.add_header("X-CSRF-Token", self.csrf)
        try:
            with self.opener.open(request, timeout=30) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as e:
            sys.exit(f"demo: {method} {path} failed: {e.code} {e.read().decode()[:300]}")


signal.signal(signal.SIGINT, stop)
signal.signal(signal.SIGTERM, stop)
try:
    os.makedirs(WORK, exist_ok=True)
    # Broker.
    broker, bport = start_mosquitto(WORK, log=f"{WORK}/mosquitto.log")
    procs.append(broker)

    # Control plane with a demo engineer.
    subprocess.run([f"{BIN}/lichtweg", "key", "generate", "--private", f"{WORK}/signing.key", "--public", f"{WORK}/signing.pub"],
                   check=True, stdout=subprocess.DEVNULL)
    db = f"sqlite:{WORK}/central.sqlite"
    password = "demo-" + secrets.token_urlsafe(9)
    subprocess.run([f"{BIN}/lichtweg-central", "user", "add", "demo", "--role", "engineer", "--db", db],
                   input=password + "\n", text=True, check=True, stdout=subprocess.DEVNULL)
    hport = int(os.environ.get("LICHTWEG_DEMO_PORT", "0")) or free_port()
    spawn([f"{BIN}/lichtweg-central", "serve", "--db", db, "--listen", f"127.0.0.1:{hport}", "--broker", f"mqtt://127.0.0.1:{bport}",
           "--signing-key", f"{WORK}/signing.key", "--client-id", "lichtweg-central-demo",
           "--web-root", "Sources/CentralService/Web", "--traffic-dir", "Profiles/traffic"], f"{WORK}/central.log")
    wait_for(hport, "lichtweg-central")

    # The route, moved to where it is night now.
    text = open(f"Profiles/{ROUTE}.yaml").read()
    text = text.replace("timezone: Europe/Berlin", "timezone: UTC")
    text = re.sub(r"^(  location: )\{lat: [-0-9.]+, lon: [-0-9.]+\}", rf"\1{{lat: 0.0, lon: {night_longitude()}}}", text,
                  count=1, flags=re.M)
    poles = re.findall(r"^    - \{id: (BB-\d+),", text, flags=re.M)

    # One pole process per pole.
    for pole in poles:
        d = f"{WORK}/poles/{pole}"
        os.makedirs(d, exist_ok=True)
        sensors = "[{id: a, line: 17}, {id: b, line: 27}" + (", {id: entry, line: 24}" if pole in (poles[0], poles[-1]) else "") + "]"
        open(f"{d}/pole.yaml", "w").write(f"""format: lichtweg-pole/1
pole: {pole}
route: {ROUTE}
backend: sim
dataDirectory: {d}/data
profileKey: {WORK}/signing.pub
telemetrySeconds: 60
mqtt: {{url: "mqtt://127.0.0.1:{bport}"}}
gpio:
  chip: gpiochip0
  sensors: {sensors}
  relay: {{line: 22, activeLow: true}}
pwm: {{chip: 0, channel: 0}}
""")
        spawn([f"{BIN}/lichtweg-pole", "--config", f"{d}/pole.yaml"], f"{d}/log")
    print(f"demo: {len(poles)} poles of {ROUTE} started (lichtweg-pole, sim backend)")

    # Upload and roll out through the API, as an engineer would in the browser.
    api = API(f"http://127.0.0.1:{hport}")
    api.csrf = api.call("POST", "/api/login", {"name": "demo", "password": password})["csrf"]
    api.call("POST", f"/api/routes/{ROUTE}/profiles", {"document": text, "comment": "pilot profile, moved to where it is night now"})
    api.call("POST", f"/api/routes/{ROUTE}/rollouts",
             {"version": 1, "canaries": [poles[len(poles) // 2]], "soakSeconds": 5, "ackTimeoutSeconds": 60})
    state = None
    for _ in range(240):
        state = api.call("GET", f"/api/routes/{ROUTE}/rollout")
        if state["state"] in ("completed", "halted"):
            break
        time.sleep(0.5)
    print(f"demo: rollout {state['state']}: {state['applied']} of {len(state['poles'])} poles applied version 1"
          + (f" ({state.get('reason')})" if state["state"] == "halted" else ""))

    print()
    print(f"  Open   http://127.0.0.1:{hport}/")
    print(f"  Log in as  demo  with password  {password}")
    print(f"  (logs and the database: {WORK})")
    print()

    # Simulated road users: walkers and cyclists along the path; each pole's PIR a sees them come
    # in increasing chainage, b in decreasing (the profile's facing), for a second or so.
    chainage = {m.group(1): float(m.group(2)) for m in re.finditer(r"\{id: (BB-\d+), chainage: ([0-9.]+)", text)}
    end = time.time() + MINUTES * 60
    events = []  # (time, pole, sensor, level)
    next_user = time.time()
    users = 0
    if MINUTES > 0:
        print(f"demo: simulated walkers and cyclists pass for {MINUTES:g} minutes (Ctrl-C stops the demo)")
    while time.time() < end:
        now = time.time()
        if now >= next_user:
            users += 1
            speed = random.choice([1.3, 1.5, 4.5, 5.5])  # m/s: walking, cycling
            forward = random.random() < 0.5
            order = poles if forward else list(reversed(poles))
            start = chainage[order[0]]
            for pole in order:
                t = now + abs(chainage[pole] - start) / speed
                sensor = "a" if forward else "b"
                events += [(t - 8 / speed, pole, sensor, 1), (t + 8 / speed, pole, sensor, 0)]
            events.sort()
            next_user = now + random.uniform(20, 60)
        while events and events[0][0] <= now:
            _, pole, sensor, level = events.pop(0)
            try:
                fd = os.open(f"{WORK}/poles/{pole}/data/sim/inputs", os.O_WRONLY | os.O_NONBLOCK)
                os.write(fd, f"{sensor} {level}\n".encode())
                os.close(fd)
            except OSError:
                pass
        time.sleep(0.05)
    if MINUTES > 0:
        print(f"demo: {users} simulated road users passed")
finally:
    stop_all()
