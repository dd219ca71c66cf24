#!/usr/bin/env python3
"""Benchmark of lichtweg-central's telemetry ingest against a bare mosquitto_sub, in the same run.

A route of POLES poles is stored through the API; every pole says it is there (retained state);
then one publisher sends MESSAGES telemetry reports (QoS 1, distinct intervals, round-robin over
the poles) as fast as the broker takes them. Two subscribers receive them: `mosquitto_sub` (the
reference: what a bare client gets on this machine) and the control plane, which decodes each
report, stores it once and shares it out over quarter hours (SQLite, in batches: one transaction for
what arrived during the previous one). Measured: how long each took
to have all of them, and the ratio of their rates (control plane / reference; the issue's goal is
at least 0.9). The control plane's count is read from its /metrics.

Usage: bench_central.py BIN_DIR [--quick]   (BIN_DIR with lichtweg and lichtweg-central)
"""
import json, os, re, signal, subprocess, sys, tempfile, threading, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testbed import free_port, night_longitude, pole_entry, road_profile, start_mosquitto, wait_port  # noqa: E402

try:
    import paho.mqtt.client as mqtt
except ImportError:
    sys.exit("bench central: needs paho-mqtt in the test venv (.venv-test/bin/pip install paho-mqtt)")

BIN = sys.argv[1]
QUICK = "--quick" in sys.argv
POLES = 200
MESSAGES = 4000 if QUICK else 20000
procs = []
work = tempfile.mkdtemp(prefix="lichtweg-bench-central-")


def stop_all():
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


def metric(port, name):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    m = re.search(rf"^{name} (\S+)$", text, flags=re.M)
    return float(m.group(1)) if m else 0.0


try:
    broker, bport = start_mosquitto(work)
    procs.append(broker)
    db = f"sqlite:{work}/central.sqlite"
    subprocess.run([f"{BIN}/lichtweg", "key", "generate", "--private", f"{work}/k.key", "--public", f"{work}/k.pub"],
                   check=True, stdout=subprocess.DEVNULL)
    token = subprocess.run([f"{BIN}/lichtweg-central", "token", "add", "bench", "--role", "engineer", "--db", db],
                           check=True, capture_output=True, text=True).stdout.strip()
    hport = free_port()
    procs.append(subprocess.Popen([f"{BIN}/lichtweg-central", "serve", "--db", db, "--listen", f"127.0.0.1:{hport}",
                                   "--broker", f"mqtt://127.0.0.1:{bport}", "--signing-key", f"{work}/k.key",
                                   "--client-id", "bench-central"],
                                  stdout=subprocess.DEVNULL, stderr=open(f"{work}/central.log", "w")))
    if not wait_port(hport, 60):
        sys.exit(f"bench central: lichtweg-central did not start (see {work}/central.log)")

    # The route, stored through the API.
    lon = night_longitude()
    poles = [f"P{i:04d}" for i in range(POLES)]
    document = road_profile("bench-road", [pole_entry(p, i * 30, lon, lat=i * 0.0003, luminaire="led")
                                           for i, p in enumerate(poles)],
                            lon, name="Benchmark road", luminaire=("led", 30, 0.5), base=20,
                            presence={"level": 80, "holdSeconds": 30})
    request = urllib.request.Request(f"http://127.0.0.1:{hport}/api/routes/bench-road/profiles", method="POST",
                                     data=json.dumps({"document": document}).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=60).read()

    # The reference subscriber.
    received = {"n": 0, "done": None}
    ref = subprocess.Popen(["mosquitto_sub", "-p", str(bport), "-q", "1", "-t", "lichtweg/v1/pole/+/telemetry"],
                           stdout=subprocess.PIPE, text=True, bufsize=1)
    procs.append(ref)

    def count():
        for _ in ref.stdout:
            received["n"] += 1
            if received["n"] == MESSAGES:
                received["done"] = time.monotonic()
    threading.Thread(target=count, daemon=True).start()

    # Every pole is there (its state), so that its reports have a route.
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-fleet", protocol=mqtt.MQTTv311)
    pub.max_inflight_messages_set(1000)
    pub.max_queued_messages_set(0)
    pub.connect("127.0.0.1", bport)
    pub.loop_start()
    now = time.time()
    stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int((t % 1) * 1000):03d}Z"
    for p in poles:
        pub.publish(f"lichtweg/v1/pole/{p}/state", json.dumps({
            "schema": "lichtweg.state/1", "pole": p, "route": "bench-road", "state": "base", "level": 20,
            "faults": [], "uptimeSeconds": 1, "firmware": "bench", "at": stamp(now), "droppedMessages": 0}), qos=1, retain=True)
    deadline = time.time() + 60
    while metric(hport, "lichtweg_central_poles_known") < POLES and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1)

    # The reports: distinct 5-minute intervals, as POLES poles would send them over MESSAGES/POLES rounds.
    base = time.time() - (MESSAGES // POLES + 1) * 300
    payloads = []
    for i in range(MESSAGES):
        p = poles[i % POLES]
        start = base + (i // POLES) * 300
        payloads.append((f"lichtweg/v1/pole/{p}/telemetry", json.dumps({
            "schema": "lichtweg.telemetry/1", "pole": p, "from": stamp(start), "to": stamp(start + 300),
            "energyWh": 1.0 + i, "intervalEnergyWh": 2.5, "detections": i % 3, "edges": 0, "repeatedEdges": 0,
            "bounces": 0, "level": 20})))
    before = metric(hport, "lichtweg_central_telemetry_reports_total")
    t0 = time.monotonic()
    for topic, payload in payloads:
        info = pub.publish(topic, payload, qos=1)
        while info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
            time.sleep(0.001)
            info = pub.publish(topic, payload, qos=1)
    published = time.monotonic()
    stored_at_ref = None
    deadline = time.monotonic() + 600
    last, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        stored = metric(hport, "lichtweg_central_telemetry_reports_total") - before
        if received["done"] and stored_at_ref is None:
            stored_at_ref = stored
        if stored >= MESSAGES:
            break
        if stored != last:
            last, last_change = stored, time.monotonic()
        elif time.monotonic() - last_change > 10:
            # Nothing more arrives: the broker dropped what it queued for the control plane
            # beyond its per-client limit (mosquitto's max_queued_messages).
            print(f"the control plane stopped at {stored:.0f} of {MESSAGES}: the rest never reached it", flush=True)
            break
        time.sleep(0.1)
    central_done = last_change if stored < MESSAGES else time.monotonic()
    pub.loop_stop()
    batches = metric(hport, "lichtweg_central_telemetry_batches_total")

    ref_seconds = (received["done"] or central_done) - t0
    central_seconds = central_done - t0
    ref_rate = MESSAGES / ref_seconds
    central_rate = stored / central_seconds
    print(f"poles {POLES}, telemetry reports {MESSAGES} (QoS 1), control plane on SQLite, binaries from {BIN}")
    print(f"{'publishing took':42s} {published - t0:7.2f} s")
    print(f"{'reference: mosquitto_sub received all':42s} {ref_seconds:7.2f} s  ({ref_rate:8.0f} reports/s)")
    print(f"{'control plane stored':42s} {stored:7.0f} of {MESSAGES} in {central_seconds:.2f} s  ({central_rate:8.0f} reports/s)")
    print(f"{'stored when the reference had all':42s} {stored_at_ref or 0:7.0f}  ({(stored_at_ref or 0) / MESSAGES:.2f} of them)")
    print(f"{'transactions (mean reports per batch)':42s} {batches:7.0f}  ({stored / max(batches, 1):.1f})")
    print(f"{'ratio of rates (control plane / reference)':42s} {central_rate / ref_rate:7.2f}  (goal >= 0.9)")
    print(json.dumps({"poles": POLES, "messages": MESSAGES, "referenceSeconds": ref_seconds, "centralSeconds": central_seconds,
                      "stored": stored, "storedWhenReferenceDone": stored_at_ref, "batches": batches,
                      "ratio": central_rate / ref_rate}))
finally:
    stop_all()
