#!/usr/bin/env python3
"""Benchmark of lichtweg-pole (release build, sim backend) against a real mosquitto on loopback.

Measures, with references run in the same script:
  - presence edge -> PWM duty-cycle write, inside the daemon (from the edge's timestamp to the
    write having returned), median and p99;
  - detection at one pole -> PWM write at its neighbour, through the broker (from the detecting
    pole's edge timestamp to the neighbour's write), median and p99; reference: plain MQTT
    delivery between two mosquitto clients (mosquitto_pub -l -> mosquitto_sub) on the same broker;
  - resident memory of an idle daemon; reference: mosquitto_sub;
  - CPU use of idle daemons over a window; reference: mosquitto_sub over the same window.

Usage: bench_pole.py POLE_BINARY LICHTWEG_CLI [--quick]
(the pole as scripts/build-pole builds it for the poles; the CLI signs the profile)
"""
import json, os, re, signal, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testbed import night_longitude, pole_entry, road_profile, sim_pole_config, start_mosquitto  # noqa: E402

POLE, CLI = sys.argv[1], sys.argv[2]
QUICK = "--quick" in sys.argv
ROUNDS = 4 if QUICK else 15
IDLE_WINDOW = 10 if QUICK else 30
POLES = [f"P{i:02d}" for i in range(1, 13)]
TRIGGER = ["P01", "P04", "P07", "P10"]   # each has its own neighbours (reach 1)
CLK_TCK = os.sysconf("SC_CLK_TCK")


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def cpu_seconds(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / CLK_TCK


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


work = tempfile.mkdtemp(prefix="lichtweg-bench-pole-")
procs = []


def spawn(args, **kw):
    p = subprocess.Popen(args, **kw)
    procs.append(p)
    return p


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try: p.wait(timeout=5)
        except subprocess.TimeoutExpired: p.kill()


try:
    broker, port = start_mosquitto(work)
    procs.append(broker)

    subprocess.run([CLI, "key", "generate", "--private", f"{work}/k.key", "--public", f"{work}/k.pub"],
                   check=True, stdout=subprocess.DEVNULL)
    lon = night_longitude()
    poles = [pole_entry(p, i * 35, lon, lat=i * 0.0003) for i, p in enumerate(POLES)]
    open(f"{work}/profile.yaml", "w").write(road_profile(
        "bench-road", poles, lon, name="Benchmark road", base=10, step_ramp=0,
        presence={"level": 100, "holdSeconds": 5, "rampUpSeconds": 0, "rampDownSeconds": 0,
                  "polesAhead": 1, "polesBehind": 1, "maxPolesAhead": 1}))
    subprocess.run([CLI, "profile", "sign", f"{work}/profile.yaml", "--key", f"{work}/k.key",
                    "-o", f"{work}/signed.json"], check=True, stderr=subprocess.DEVNULL)

    daemons = {}
    for p in POLES:
        d = f"{work}/{p}"
        os.makedirs(d)
        open(f"{d}/pole.yaml", "w").write(sim_pole_config(p, "bench-road", f"{d}/data", f"{work}/k.pub", port))
        daemons[p] = spawn([POLE, "--config", f"{d}/pole.yaml", "--log-level", "debug"],
                           stdout=subprocess.DEVNULL, stderr=open(f"{d}/log", "w"))
    acks = spawn(["mosquitto_sub", "-p", str(port), "-t", "lichtweg/v1/pole/+/profile-ack", "-C", str(len(POLES)), "-W", "30"],
                 stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    subprocess.run(["mosquitto_pub", "-p", str(port), "-t", "lichtweg/v1/route/bench-road/profile", "-r", "-q", "1",
                    "-f", f"{work}/signed.json"], check=True)
    out, _ = acks.communicate(timeout=40)
    applied = sum(1 for line in out.splitlines() if '"applied"' in line)
    assert applied == len(POLES), f"only {applied} of {len(POLES)} poles applied the profile"

    # Reference client: an idle mosquitto_sub, present over the same window.
    ref = spawn(["mosquitto_sub", "-p", str(port), "-t", "bench/idle"], stdout=subprocess.DEVNULL)
    time.sleep(5)  # past start-up, and past the presence hold every pole keeps after a (re)start
    pids = {p: d.pid for p, d in daemons.items()}
    before = {p: cpu_seconds(pid) for p, pid in pids.items()}
    ref_before = cpu_seconds(ref.pid)
    t0 = time.monotonic()
    time.sleep(IDLE_WINDOW)
    window = time.monotonic() - t0
    cpu = [100 * (cpu_seconds(pid) - before[p]) / window for p, pid in pids.items()]
    ref_cpu = 100 * (cpu_seconds(ref.pid) - ref_before) / window
    rss = [rss_kib(pid) for pid in pids.values()]
    ref_rss = rss_kib(ref.pid)

    # Latency rounds: an edge at the trigger poles, released, then the holds run out.
    # One pole at a time, so that the figure is the daemon's, not 12 daemons queueing for 2 cores.
    for _ in range(ROUNDS):
        for p in TRIGGER:
            with open(f"{work}/{p}/data/sim/inputs", "w") as f: f.write("a 1\n")
            time.sleep(0.25)
            with open(f"{work}/{p}/data/sim/inputs", "w") as f: f.write("a 0\n")
            time.sleep(0.25)
        time.sleep(6.2)

    rss_after = [rss_kib(pid) for pid in pids.values()]  # once edges, notices and ramps have run too

    edge, notice = [], []
    for p in POLES:
        for line in open(f"{work}/{p}/log"):
            m = re.search(r"latencyMicros=(-?\d+)", line)
            if not m: continue
            (edge if "edge to output" in line else notice).append(int(m.group(1)))

    # Reference: plain MQTT delivery on the same broker between two persistent C clients.
    sub = spawn(["mosquitto_sub", "-p", str(port), "-t", "bench/ref"], stdout=subprocess.PIPE, text=True, bufsize=1)
    pub = spawn(["mosquitto_pub", "-p", str(port), "-t", "bench/ref", "-l"], stdin=subprocess.PIPE, text=True, bufsize=1)
    time.sleep(0.5)
    mqtt = []
    for _ in range(200):
        pub.stdin.write(f"{time.time()}\n"); pub.stdin.flush()
        line = sub.stdout.readline()
        mqtt.append((time.time() - float(line)) * 1e6)
        time.sleep(0.005)

    def row(name, v, ref=None):
        r = f"  ({statistics.median(v) / statistics.median(ref):.2f}x reference median)" if ref else ""
        print(f"{name:42s} n={len(v):4d}  median {statistics.median(v):8.0f} us  p99 {pct(v, 0.99):8.0f} us{r}")

    print(f"poles {len(POLES)}, rounds {ROUNDS}, idle window {window:.0f} s, {os.path.basename(POLE)} as scripts/build-pole builds it, sim backend")
    row("edge -> PWM write (in the daemon)", edge)
    row("detection -> neighbour's PWM (via broker)", notice, mqtt)
    row("reference: mosquitto_pub -> mosquitto_sub", mqtt)
    print(f"{'idle RSS per daemon':42s} median {statistics.median(rss) / 1024:.1f} MiB  max {max(rss) / 1024:.1f} MiB"
          f"  (reference mosquitto_sub {ref_rss / 1024:.1f} MiB, {statistics.median(rss) / ref_rss:.1f}x)")
    print(f"{'RSS per daemon after the latency rounds':42s} median {statistics.median(rss_after) / 1024:.1f} MiB  max {max(rss_after) / 1024:.1f} MiB")
    print(f"{'idle CPU per daemon':42s} mean {statistics.mean(cpu):.3f} %  max {max(cpu):.3f} %"
          f"  (reference mosquitto_sub {ref_cpu:.3f} %)")
    print(json.dumps({"edgeMedianMicros": statistics.median(edge), "edgeP99Micros": pct(edge, 0.99),
                      "noticeMedianMicros": statistics.median(notice), "noticeP99Micros": pct(notice, 0.99),
                      "mqttReferenceMedianMicros": statistics.median(mqtt), "idleRSSMiB": statistics.median(rss) / 1024,
                      "idleRSSMaxMiB": max(rss) / 1024, "rssAfterRoundsMiB": statistics.median(rss_after) / 1024,
                      "idleCPUPercent": statistics.mean(cpu), "samples": {"edge": len(edge), "notice": len(notice)}}))
finally:
    cleanup()
