#!/usr/bin/env python3
"""Latency and loss on the poles' links (`tc netem`), run inside the qemu guest by scripts/hil.

The host's kernel has no CONFIG_NET_SCH_NETEM; the guest's Debian kernel has sch_netem and veth as
modules (loaded by scripts/hil.d/init). Everything here is real except the road users (edges written
into the sim backend's input FIFO) and the lamps (the sim backend's PWM files):

- a real mosquitto in the guest's root network namespace;
- 3 x PAIRS real `lichtweg-pole` processes (release build, backend sim), each in its own network
  namespace joined to the root namespace by a veth pair with its own /30;
- the route: one pole every 40 m, presence 100 %, base 10 %, hold 5 s, notices reach one pole
  either way (a PIR alone gives no direction); pole 3k (a "sender") is pulsed, pole 3k+1 (its
  "receiver") is lit only by its notice, pole 3k+2 is idle (it keeps the next sender's notice
  away from this receiver).

Phases: baseline; netem (`delay D loss P` on both directions of every pole's link: the egress of the
root namespace's side, towards the pole, and of the pole's side, towards the broker), a warm-up
round, then the measured rounds; netem removed (recovery). In every round each sender gets one
presence edge; measured are edge -> the receiver's PWM duty rising (the notice path: sender ->
broker -> receiver, two impaired links) and edge -> the sender's own PWM rising (local light).

The simulator's network model (Sources/RouteSim: a log-normal latency given by median and p95, and
an independent loss per notice and subscriber) is given the parameters that netem should amount to,
derived before the measurement from the baseline and the netem settings; its predicted share of
notices later than the budget (the time a car needs to reach the stopping sight distance of the
pole the notice must light) is compared with the measured share (binomial 95 % interval). `lichtweg
sim` runs the same road at both parameter sets for the predicted outcome for road users.

Then road users (`lichtweg sim --live`: cars whose sensor edges are written into the poles' FIFOs in
real time, the PWM outputs sampled) drive along the live poles for a window with netem on again and
for one after it: their light ahead (the share of their time with every pole in stopping sight
distance ahead lit) is compared with the simulator's prediction for the same cars over 200 draws of
a network whose notice latencies are those measured on the path in the rounds before
(`network.latencySamplesSeconds`).

Stdlib only. Writes RUN/netem.json. Bounded: every loop has a deadline; about 4 minutes in the guest (TCG).
"""
import argparse, json, math, os, re, shutil, socket, statistics, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--repo", required=True)
ap.add_argument("--run", required=True, help="read-write folder shared with the host")
ap.add_argument("--bin", required=True, help="folder with the release binaries")
args = ap.parse_args()
sys.path.insert(0, os.path.join(args.repo, "scripts"))
from testbed import night_longitude, pole_entry, road_profile, write_json_atomically  # noqa: E402

WORK = "/run/netem"
PAIRS = int(os.environ.get("LICHTWEG_NETEM_PAIRS", "6"))
DELAY_MS = int(os.environ.get("LICHTWEG_NETEM_DELAY_MS", "300"))     # per link and direction
LOSS_PCT = float(os.environ.get("LICHTWEG_NETEM_LOSS_PCT", "20"))     # per link and direction
SPACING = 40.0                 # m between poles
BASE, PRESENCE, HOLD = 10, 100, 5
PULSE = 0.25                   # s a sensor stays active
PERIOD = 6.0                   # s between two pulses of one sender (hold 5 s after the release + margin)
ROUNDS = {"baseline": 2, "warmup": 1, "netem": 6, "recovery": 1}
RECOVERY_ROUNDS = 5            # at most, to let retransmission timers backed off under netem run out
GIVE_UP = HOLD                 # a notice later than the hold lights nothing (hold counts from `at`)
# The time that matters. A car at 80 km/h (22.2 m/s) needs 100 m to stop (the simulator's traffic
# model: reaction 2 s, 4.4 m/s^2). Detected at a pole, it is within stopping sight distance of the
# pole three 40 m spans ahead after (120 - 100) / 22.2 = 0.9 s: a notice must have lit that pole by
# then. (Poles closer ahead are within sight already and need earlier detections.)
CAR_SPEED, CAR_SIGHT = 80 / 3.6, 100.0
BUDGET = round((3 * SPACING - CAR_SIGHT) / CAR_SPEED, 2)
DEADLINE = float(os.environ.get("LICHTWEG_NETEM_SECONDS", "330"))   # hard limit of the whole driver
# Road users on the live poles (`lichtweg sim --live`): cars only, 300 an hour in both directions
# (every hour alike, so the seed gives the same cars whenever the window starts), sensors ideal.
# Seed 4 gives 5 cars in the 45 s window, with 106 s of "a pole in sight ahead" among them.
LIVE_WINDOW, LIVE_SEED, LIVE_CARS_PER_HOUR, LIVE_DRAWS = 45, 4, 300, 200
LIVE_SAMPLE_MS = 20

started = time.monotonic()
checks = []
result = {"checks": checks, "pairs": PAIRS, "netem": {"delayMs": DELAY_MS, "lossPercent": LOSS_PCT},
          "budgetSeconds": BUDGET, "simulated": "road users (edges into the sim backend's input FIFO), lamps (its PWM files)"}
procs = []


def log(msg):
    print(f"[netem {time.monotonic() - started:6.1f}s] {msg}", flush=True)


def check(name, ok, detail=""):
    checks.append({"name": name, "ok": bool(ok), "detail": str(detail)})
    log(f"{'PASS' if ok else 'FAIL'} {name}{': ' + str(detail) if detail else ''}")
    return ok


def sh(*argv, check_rc=True):
    p = subprocess.run(list(argv), capture_output=True, text=True, timeout=20)
    if check_rc and p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def left():
    return DEADLINE - (time.monotonic() - started)


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))] if v else None


def r3(x):
    return None if x is None else round(x, 3)


# MARK: - Statistics: the simulator's model and a binomial interval


def lognormal_sf(x, median, p95):
    """P(latency > x) for the simulator's log-normal (SimRandom.logNormal: sigma = ln(p95/median)/1.645)."""
    if median <= 0:
        return 0.0
    sigma = math.log(p95 / median) / 1.6448536 if p95 > median else 0.0
    if sigma == 0:
        return 1.0 if median > x else 0.0
    z = (math.log(x) - math.log(median)) / sigma
    return 0.5 * math.erfc(z / math.sqrt(2))


def binom_cdf(k, n, p):
    return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k + 1))


def clopper_pearson(k, n, alpha=0.05):
    """Exact two-sided (1 - alpha) interval for a binomial share k/n (bisection on the CDF)."""
    def solve(f):
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = (lo + hi) / 2
            if f(mid):
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2
    lower = 0.0 if k == 0 else solve(lambda p: 1 - binom_cdf(k - 1, n, p) < alpha / 2)
    upper = 1.0 if k == n else solve(lambda p: binom_cdf(k, n, p) > alpha / 2)
    return lower, upper


# MARK: - The rig


class Pole:
    def __init__(self, i, pid):
        self.i, self.id = i, pid
        self.ns, self.host_if, self.inner = f"lwn{i}", f"lwh{i}", f"lwi{i}"
        self.host_addr, self.addr = f"10.201.{i + 1}.1", f"10.201.{i + 1}.2"
        self.dir = f"{WORK}/{pid}"
        self.pwm = f"{self.dir}/data/sim/pwm/pwmchip0/pwm0"
        self.fifo = None
        self.period = None

    def level(self):
        try:
            if not self.period:
                with open(f"{self.pwm}/period") as f:
                    self.period = int(f.read().split()[0] or 0) or None
                if not self.period:
                    return None
            with open(f"{self.pwm}/duty_cycle") as f:
                return int(f.read().split()[0]) * 100 / self.period
        except (OSError, ValueError, IndexError):
            return None

    def sense(self, active):
        if self.fifo is None:
            self.fifo = os.open(f"{self.dir}/data/sim/inputs", os.O_WRONLY | os.O_NONBLOCK)
        os.write(self.fifo, b"a 1\n" if active else b"a 0\n")


def batch(argv, lines):
    """One `ip -batch` / `tc -batch` process for many commands (each process costs ~0.2 s under TCG)."""
    p = subprocess.run(argv + ["-batch", "-"], input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} -batch: exit {p.returncode}: {p.stderr.strip()}")


def make_network(poles):
    batch(["ip"], [f"netns add {p.ns}" for p in poles]
          + [f"link add {p.host_if} type veth peer name {p.inner} netns {p.ns}" for p in poles]
          + [f"addr add {p.host_addr}/30 dev {p.host_if}" for p in poles]
          + [f"link set {p.host_if} up" for p in poles])
    for p in poles:
        batch(["ip", "-n", p.ns], ["link set lo up", f"addr add {p.addr}/30 dev {p.inner}", f"link set {p.inner} up"])


def netem(poles, on):
    """netem on both directions of every pole's link (the egress of either end of its veth), or removed."""
    spec = f"netem delay {DELAY_MS}ms loss {LOSS_PCT:g}%"
    verb = f"qdisc add dev {{}} root {spec}" if on else "qdisc del dev {} root"
    batch(["tc"], [verb.format(p.host_if) for p in poles])          # broker -> pole
    for p in poles:
        batch(["tc", "-n", p.ns], [verb.format(p.inner)])            # pole -> broker


def netem_stats(poles):
    """What netem did: packets sent and dropped per direction, summed over the poles."""
    total = {"down": [0, 0], "up": [0, 0]}
    for p in poles:
        for way, argv in (("down", ["tc", "-s", "-j", "qdisc", "show", "dev", p.host_if]),
                          ("up", ["tc", "-n", p.ns, "-s", "-j", "qdisc", "show", "dev", p.inner])):
            for q in json.loads(sh(*argv) or "[]"):
                if q.get("kind") == "netem":
                    total[way][0] += q.get("packets", 0)
                    total[way][1] += q.get("drops", 0)
    return {w: {"packets": s, "dropped": d, "dropShare": r3(d / (s + d)) if s + d else None} for w, (s, d) in total.items()}


def tcp_retrans(ns=None):
    text = sh("ip", "netns", "exec", ns, "cat", "/proc/net/snmp") if ns else open("/proc/net/snmp").read()
    rows = [l.split() for l in text.splitlines() if l.startswith("Tcp:")]
    return int(rows[1][rows[0].index("RetransSegs")])


def tcp_stalled():
    """MQTT connections (either end) still waiting on a retransmission: `ss -ti` shows a backoff or
    segments being retransmitted. One `ip -all netns exec` for all pole namespaces."""
    out = sh("ss", "-tin", "state", "established", check_rc=False) + sh("ip", "-all", "netns", "exec", "ss", "-tin",
                                                                         "state", "established", check_rc=False)
    return len(re.findall(r"\bbackoff:[1-9]", out)) + len(re.findall(r"\bretrans:[1-9]", out))


def tcp_info(ns=None):
    """rtt and rto of the established MQTT connections (ss -ti), as the kernel has them."""
    argv = ["ss", "-tin", "state", "established"] + (["-N", ns] if ns else [])
    out = sh(*argv, check_rc=False)
    rtts = [float(m) for m in re.findall(r"\brtt:([\d.]+)/", out)]
    rtos = [float(m) for m in re.findall(r"\brto:([\d.]+)", out)]
    return {"rttMs": rtts, "rtoMs": rtos}


# MARK: - The run


def run():
    os.makedirs(WORK)
    lw, pole_bin = f"{args.bin}/lichtweg", f"{args.bin}/lichtweg-pole"
    for m in ("sch_netem", "veth"):
        if not os.path.isdir(f"/sys/module/{m}"):
            return check(f"kernel module {m} loaded", False, "not in /sys/module (scripts/hil.d/init loads it)")
    result["kernel"] = os.uname().release
    # A PIR alone gives no direction, so a notice lights the poles on both sides: each pair gets an
    # idle third pole after it, so that a sender's pole behind is never a measured receiver.
    poles = [Pole(i, f"N{i + 1:02d}") for i in range(3 * PAIRS)]
    pairs = [(poles[3 * k], poles[3 * k + 1]) for k in range(PAIRS)]
    make_network(poles)
    log(f"{len(poles)} network namespaces with veth pairs")

    port = 1883
    listeners = "".join(f"listener {port} {a}\n" for a in ["127.0.0.1"] + [p.host_addr for p in poles])
    with open(f"{WORK}/mosquitto.conf", "w") as f:
        # As docs/central.md advises for a broker of poles: notices leave without waiting (no Nagle).
        f.write(f"user root\n{listeners}allow_anonymous true\npersistence false\nset_tcp_nodelay true\n")
    procs.append(subprocess.Popen(["mosquitto", "-c", f"{WORK}/mosquitto.conf"], stdout=subprocess.DEVNULL,
                                  stderr=open(f"{args.run}/netem-mosquitto.log", "w")))
    end = time.monotonic() + 15
    while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
        if time.monotonic() > end:
            return check("mosquitto listening in the guest", False, "not within 15 s")
        time.sleep(0.05)

    lon = night_longitude()
    profile = road_profile("netem-road", [pole_entry(p.id, SPACING * p.i, lon) for p in poles], lon, base=BASE, step_ramp=0,
                           presence={"level": PRESENCE, "holdSeconds": HOLD, "rampUpSeconds": 0, "rampDownSeconds": 0,
                                     "polesAhead": 1, "polesBehind": 0, "maxPolesAhead": 1},
                           safety={"debounceSeconds": 0.1})
    with open(f"{WORK}/profile.yaml", "w") as f:
        f.write(profile)
    sh(lw, "key", "generate", "--private", f"{WORK}/profile.key", "--public", f"{WORK}/profile.pub")
    sh(lw, "profile", "sign", f"{WORK}/profile.yaml", "--key", f"{WORK}/profile.key", "-o", f"{WORK}/signed.json")
    sh("mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", "lichtweg/v1/route/netem-road/profile",
       "-r", "-q", "1", "-f", f"{WORK}/signed.json")
    for p in poles:
        os.makedirs(p.dir)
        with open(f"{p.dir}/pole.yaml", "w") as f:
            f.write(f"""format: lichtweg-pole/1
pole: {p.id}
route: netem-road
backend: sim
dataDirectory: {p.dir}/data
profileKey: {WORK}/profile.pub
location: {{lat: 0.0, lon: {lon}}}
mqtt: {{url: "mqtt://{p.host_addr}:{port}"}}
gpio:
  chip: gpiochip0
  sensors:
    - {{id: a, line: 17, bias: pull-down}}
  relay: {{line: 22}}
pwm: {{chip: 0, channel: 0, frequencyHz: 1000}}
""")
        procs.append(subprocess.Popen(["ip", "netns", "exec", p.ns, pole_bin, "--config", f"{p.dir}/pole.yaml",
                                       "--log-level", "debug"], stdout=subprocess.DEVNULL,
                                      stderr=open(f"{args.run}/netem-{p.id}.log", "w"), stdin=subprocess.DEVNULL))
    log(f"{len(poles)} poles started, mosquitto on {len(poles) + 1} listeners")
    # Every lamp at base: the profile applied and the start-up presence (2 x hold) run out.
    end = time.monotonic() + 40
    while time.monotonic() < end and not all(abs((p.level() or -1) - BASE) < 0.5 for p in poles):
        time.sleep(0.1)
    at_base = [p.id for p in poles if abs((p.level() or -1) - BASE) < 0.5]
    dead = [p.id for p, pr in zip(poles, procs[1:]) if pr.poll() is not None]
    if not check(f"{len(poles)} poles (each in its own network namespace) applied the signed profile, lamps at base",
                 len(at_base) == len(poles) and not dead, f"at base: {len(at_base)} of {len(poles)}; exited: {dead}; levels {[r3(p.level()) for p in poles]}"):
        return
    setup = time.monotonic() - started
    result["setupSeconds"] = round(setup, 1)
    rounds_needed = sum(ROUNDS.values())
    if left() < rounds_needed * PERIOD + 8:
        return check("time left for the measurement", False, f"setup took {setup:.0f} s, {left():.0f} s left")

    samples = {}   # phase -> list of {"pair", "notice", "local"}

    def measure(phase, rounds):
        """`rounds` rounds: each sender pulsed once, staggered; returns latencies (None = not within GIVE_UP)."""
        out = samples.setdefault(phase, [])
        step = PERIOD / PAIRS
        t0 = time.monotonic() + 0.05
        events = []                      # (time, kind, pair)
        for r in range(rounds):
            for k in range(PAIRS):
                t = t0 + r * PERIOD + k * step
                events += [(t, "on", k), (t + PULSE, "off", k)]
        events.sort()
        pending = []                     # [pole, t_edge, record, key]
        t_end, stop = t0 + rounds * PERIOD, t0 + rounds * PERIOD + GIVE_UP
        # The phase lasts its full rounds, so that the next one starts a full period after each pair's last pulse.
        while (events or pending or time.monotonic() < t_end) and time.monotonic() < stop:
            now = time.monotonic()
            while events and events[0][0] <= now:
                _, kind, k = events.pop(0)
                sender, receiver = pairs[k]
                if kind == "on":
                    rec = {"pair": k, "notice": None, "local": None,
                           "readyReceiver": abs((receiver.level() or -1) - BASE) < 0.5,
                           "readySender": abs((sender.level() or -1) - BASE) < 0.5}
                    t_edge = time.monotonic()
                    sender.sense(True)
                    out.append(rec)
                    pending += [[sender, t_edge, rec, "local"], [receiver, t_edge, rec, "notice"]]
                else:
                    sender.sense(False)
            now = time.monotonic()
            for item in list(pending):
                pole, t_edge, rec, key = item
                lv = pole.level()
                if lv is not None and lv >= PRESENCE - 0.5:
                    rec[key] = now - t_edge
                    pending.remove(item)
                elif now - t_edge > GIVE_UP:
                    pending.remove(item)
            time.sleep(0.004)
        return out

    def summary(recs, key):
        # An edge whose lamp was not at base before it cannot show a rise: left out and counted.
        ready = "readyReceiver" if key == "notice" else "readySender"
        skipped = sum(1 for r in recs if not r[ready])
        recs = [r for r in recs if r[ready]]
        lat = [r[key] for r in recs if r[key] is not None]
        n = len(recs)
        late = sum(1 for r in recs if r[key] is None or r[key] > BUDGET)
        return {"n": n, "delivered": len(lat), "withinBudget": n - late, "lateOrLost": late,
                "lateShare": r3(late / n) if n else None, "medianSeconds": r3(statistics.median(lat)) if lat else None,
                "p95Seconds": r3(pct(lat, 0.95)), "maxSeconds": r3(max(lat)) if lat else None,
                "minSeconds": r3(min(lat)) if lat else None, "notAtBaseBefore": skipped, "all": [r3(r[key]) for r in recs]}

    def road_users(phase, latencies, loss, own_reaction):
        """Road users driven through the live poles for LIVE_WINDOW s (`lichtweg sim --live`), their
        light ahead compared with the simulator's prediction for a network of `latencies` (the
        notice latencies just measured on this path) and `loss`."""
        model = open(os.path.join(args.repo, "Profiles/traffic/rural-night.yaml")).read()
        for kind in ("pedestrian", "cyclist", "car"):
            rate = LIVE_CARS_PER_HOUR if kind == "car" else 0
            model = re.sub(rf"(\n  {kind}:\n(?:    #.*\n)*    hourly: )\[[^\]]*\]", rf"\g<1>[{', '.join([str(rate)] * 24)}]", model)
        model = re.sub(r"  latencyMedianSeconds: [\d.]+\n  latencyP95Seconds: [\d.]+\n  loss: [\d.]+",
                       f"  latencySamplesSeconds: [{', '.join(f'{x:.3f}' for x in latencies)}]\n  loss: {loss:.4f}", model)
        traffic = f"{WORK}/traffic-live-{phase}.yaml"
        with open(traffic, "w") as f:
            f.write(model)
        cmd = [lw, "sim", "--live", "--profile", f"{WORK}/profile.yaml", "--traffic", traffic, "--ideal-sensors",
               "--seed", str(LIVE_SEED), "--window", str(LIVE_WINDOW), "--network-draws", str(LIVE_DRAWS),
               "--tolerance", f"{own_reaction:.3f}", "--sample-ms", str(LIVE_SAMPLE_MS), "--settle-timeout", "20",
               "--pole-data", WORK, "--json", "--no-progress"]
        log(f"{phase}: road users on the live poles for {LIVE_WINDOW} s: {' '.join(cmd[1:])}")
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=max(10, min(LIVE_WINDOW + 90, left())))
        with open(f"{args.run}/netem-live-{phase}.log", "w") as f:
            f.write(out.stderr)
        try:
            j = json.loads(out.stdout)
        except ValueError:
            check(f"{phase}: lichtweg sim --live ran", False, f"exit {out.returncode}: {out.stderr.strip()[-400:]}")
            return None
        la = j["lightAhead"]
        rec = {"roadUsers": j["roadUsers"], "usersByKind": j["usersByKind"], "lineEdges": j["lineEdges"],
               "replayLateMaxSeconds": j["replayLateMaxSeconds"], "live": la["live"], "virtual": la["virtual"],
               "predicted": la.get("predicted"), "decisions": {k: j[k] for k in ("decisions", "matched", "missing", "extra")},
               "network": {"latencySamples": len(latencies), "loss": round(loss, 4)}, "exit": out.returncode,
               "command": "lichtweg " + " ".join(cmd[1:])}
        result.setdefault("roadUsers", {})[phase] = rec
        p = la.get("predicted") or {}
        check(f"{phase}: the road users' light ahead on the live poles is what the simulator predicts for the measured "
              f"network (within its 2.5-97.5 % over {LIVE_DRAWS} draws, +- the live timing allowance)",
              out.returncode == 0 and p.get("withinPrediction") and j["roadUsers"] >= 3,
              f"{j['roadUsers']} road users, {la['live']['exposedSeconds']:.1f} s with a pole in sight ahead; live "
              f"{la['live']['ratio']:.4f}, predicted {p.get('low', float('nan')):.4f}-{p.get('high', float('nan')):.4f} "
              f"(median {p.get('median', float('nan')):.4f}; allowance {p.get('allowance', float('nan')):.4f}) with "
              f"{p.get('network')}; decisions matched one by one {j['matched']} of {j['decisions']}")
        return rec

    # --- a. Baseline.
    log(f"baseline: {ROUNDS['baseline']} rounds x {PAIRS} pairs")
    measure("baseline", ROUNDS["baseline"])
    base_n, base_l = summary(samples["baseline"], "notice"), summary(samples["baseline"], "local")
    result["baseline"] = {"notice": base_n, "local": base_l}
    check(f"baseline: every notice lit the pole ahead within the budget ({BUDGET} s)",
          base_n["n"] and base_n["withinBudget"] == base_n["n"],
          f"{base_n['withinBudget']} of {base_n['n']}; median {base_n['medianSeconds']} s, p95 {base_n['p95Seconds']} s, "
          f"max {base_n['maxSeconds']} s")
    if not base_n["delivered"]:
        return

    # The simulator's parameters for the netem'd path, fixed before it is measured. A notice crosses
    # two impaired links (sender -> broker, broker -> receiver): + 2 D, and its first transmission
    # survives with (1 - P)^2. MQTT runs over TCP: a dropped segment is not a lost notice but is
    # sent again, at the earliest after 200 ms (Linux' minimum RTO; the tail-loss probe of a
    # single segment waits 2 x srtt + 200 ms), so it arrives after the budget: for the light
    # ahead it is lost ("a late notice is worth nothing", docs/mqtt.md).
    d, p = DELAY_MS / 1000, LOSS_PCT / 100
    eq = {"latencyMedianSeconds": r3(base_n["medianSeconds"] + 2 * d),
          "latencyP95Seconds": r3(max(base_n["p95Seconds"], base_n["medianSeconds"]) + 2 * d),
          "loss": r3(1 - (1 - p) ** 2)}
    base_eq = {"latencyMedianSeconds": base_n["medianSeconds"], "latencyP95Seconds": max(base_n["p95Seconds"], base_n["medianSeconds"]),
               "loss": 0.0}
    predicted = eq["loss"] + (1 - eq["loss"]) * lognormal_sf(BUDGET, eq["latencyMedianSeconds"], eq["latencyP95Seconds"])
    result["simulatorParameters"] = {"baseline": base_eq, "netem": eq}
    log(f"simulator's parameters for the netem'd path: {eq}; predicted late share {predicted:.3f}")

    # --- b. netem on, warm-up round (TCP learns the new round-trip time), then c. measured rounds.
    retrans0 = {"root": tcp_retrans(), **{s.id: tcp_retrans(s.ns) for s, _ in pairs}}
    netem(poles, True)
    result["netemCommand"] = f"tc qdisc add dev <veth> root netem delay {DELAY_MS}ms loss {LOSS_PCT:g}% (both ends of each pole's veth)"
    log(f"netem on: delay {DELAY_MS} ms, loss {LOSS_PCT:g} % on both directions of {len(poles)} links")
    measure("warmup", ROUNDS["warmup"])
    measure("netem", ROUNDS["netem"])
    net_n, net_l = summary(samples["netem"], "notice"), summary(samples["netem"], "local")
    stats = netem_stats(poles)
    info = {"brokerSide": tcp_info(), "senders": tcp_info(pairs[0][0].ns)}
    retrans = {"brokerSide": tcp_retrans() - retrans0["root"],
               "senders": sum(tcp_retrans(s.ns) - retrans0[s.id] for s, _ in pairs)}
    netem(poles, False)
    log("netem removed")
    result["netemPhase"] = {"notice": net_n, "local": net_l, "warmup": summary(samples["warmup"], "notice"),
                            "qdisc": stats, "tcpRetransmittedSegments": retrans, "tcp": info}
    k, n = net_n["lateOrLost"], net_n["n"]
    lo, hi = clopper_pearson(k, n) if n else (0, 1)
    result["comparison"] = {"predictedLateShare": r3(predicted), "measuredLateShare": net_n["lateShare"],
                            "measuredInterval95": [r3(lo), r3(hi)], "lostWithinHold": n - net_n["delivered"]}
    check("netem was in place: packets delayed and dropped on both directions",
          all(stats[w]["packets"] > 0 and stats[w]["dropped"] > 0 for w in stats),
          f"{stats}; TCP segments retransmitted {retrans}")
    # What the first runs found: the live path is about twice as late as this naive translation
    # predicts (0.67 against 0.36). A dropped segment of MQTT's TCP stream is sent again after
    # seconds, and a notice also waits behind other dropped segments and a collapsed congestion
    # window. So the naive model is a best case, which is what is checked; for predictions the
    # simulator is given the measured latency distribution (below, and docs/testing.md).
    lost = n - net_n["delivered"]
    measured_eq = {"latencyMedianSeconds": net_n["medianSeconds"], "latencyP95Seconds": net_n["p95Seconds"],
                   "loss": r3(lost / n) if n else 0.0}
    result["simulatorParameters"]["measured"] = measured_eq
    result["comparison"]["naiveModelIsOptimistic"] = bool(n and hi >= predicted)
    result["comparison"]["measuredOverPredicted"] = r3(net_n["lateShare"] / predicted) if n and predicted else None
    check(f"netem {DELAY_MS} ms / {LOSS_PCT:g} % per link and direction: the simulator's naive model (link delays added, "
          f"link loss per notice) is a best case: no fewer notices later than {BUDGET} s than it predicts (binomial 95 %)",
          n and hi >= predicted,
          f"measured {k} of {n} = {net_n['lateShare']} (95 % interval {lo:.3f}-{hi:.3f}), predicted {predicted:.3f} "
          f"with {eq}; delivered {net_n['delivered']} of {n} within the hold; latencies median {net_n['medianSeconds']} s, "
          f"p95 {net_n['p95Seconds']} s, max {net_n['maxSeconds']} s")
    # f. The pole's own sensor keeps lighting its own lamp as fast as without netem.
    limit = max(2 * base_l["maxSeconds"], base_l["maxSeconds"] + 0.1) if base_l["maxSeconds"] else 0.5
    check("under netem each pole's own sensor lit its own lamp within its baseline time",
          net_l["n"] and net_l["delivered"] == net_l["n"] and net_l["maxSeconds"] <= limit,
          f"{net_l['delivered']} of {net_l['n']}; median {net_l['medianSeconds']} s, max {net_l['maxSeconds']} s "
          f"(baseline median {base_l['medianSeconds']} s, max {base_l['maxSeconds']} s; limit {limit:.3f} s)")

    # --- e. Recovery.
    # A segment dropped just before netem went is still waiting for its retransmission timer, which
    # TCP doubles with every loss in a row. Unmeasured rounds until one has every notice within the
    # budget (at most RECOVERY_ROUNDS) let the connections settle, as a real link would; how long
    # that took is recorded.
    removed_at, settle = time.monotonic(), []
    for k in range(RECOVERY_ROUNDS):
        measure(f"recovery-settle-{k}", 1)
        settle.append(summary(samples[f"recovery-settle-{k}"], "notice"))
        if settle[-1]["n"] and settle[-1]["withinBudget"] == settle[-1]["n"]:
            break
    settled_after = time.monotonic() - removed_at
    measure("recovery", ROUNDS["recovery"])
    rec_n = summary(samples["recovery"], "notice")
    result["recovery"] = {"notice": rec_n, "local": summary(samples["recovery"], "local"),
                          "settleRounds": settle, "settledAfterSeconds": r3(settled_after)}
    log(f"netem removed {settled_after:.1f} s ago: {len(settle)} settle round(s), the last with "
        f"{settle[-1]['withinBudget']} of {settle[-1]['n']} notices within the budget")
    rec_limit = 2 * base_n["medianSeconds"] + 0.05
    check("netem removed: notices back at the baseline latency, every one within the budget",
          rec_n["n"] and rec_n["withinBudget"] == rec_n["n"] and rec_n["medianSeconds"] <= rec_limit,
          f"{rec_n['withinBudget']} of {rec_n['n']} within {BUDGET} s; median {rec_n['medianSeconds']} s "
          f"(baseline {base_n['medianSeconds']} s, limit {rec_limit:.3f} s), max {rec_n['maxSeconds']} s")

    # --- f. Road users, under netem and after it. After the pair rounds, not between them: once
    # cars have passed, a pole pairs a lone presence with a neighbour's notice of up to two minutes
    # before (TravelEstimator: a walker at 0.3 m/s) and announces it going the other way, which the
    # pair rounds cannot tell from a lost notice (a first run showed two pairs "stalled" for a
    # minute, their TCP connections fine). netem goes on again, as before; the network model is
    # the notice latencies measured under it (those within the hold; the rest lost: a notice after
    # the hold lights nothing), and after it the recovery round's.
    net_lat = [x for x in net_n["all"] if x is not None]
    rec_lat = [x for x in rec_n["all"] if x is not None]
    own = max(base_l["maxSeconds"] or 0.02, 0.02)
    if net_lat and rec_lat and left() > 2 * LIVE_WINDOW + 70:
        netem(poles, True)
        log("netem on again for the road users")
        time.sleep(PERIOD)  # as the warm-up round: TCP learns the longer round trip
        live_netem = road_users("netem", net_lat, (net_n["n"] - len(net_lat)) / net_n["n"], own)
        netem(poles, False)
        # As the settle rounds do: retransmission timers backed off under netem run out first.
        removed_at, end = time.monotonic(), time.monotonic() + 40
        while (stalled := tcp_stalled()) and time.monotonic() < end:
            time.sleep(1)
        result["roadUsersRecoveryWaitSeconds"] = r3(time.monotonic() - removed_at)
        log(f"netem removed; {time.monotonic() - removed_at:.1f} s until no MQTT connection waited on a retransmission"
            + (f" (still {stalled})" if stalled else ""))
        live_rec = road_users("recovery", rec_lat, 0.0, own)
        if live_rec and live_netem and live_rec.get("predicted") and live_netem.get("predicted"):
            check("the road users' light ahead fell under netem and came back: under netem below what the clean "
                  "path predicts, after it within that",
                  live_netem["live"]["ratio"] < live_rec["predicted"]["low"] - live_rec["predicted"]["allowance"],
                  f"under netem {live_netem['live']['ratio']:.4f}; after {live_rec['live']['ratio']:.4f}, predicted for the "
                  f"clean path {live_rec['predicted']['low']:.4f}-{live_rec['predicted']['high']:.4f}")
    else:
        check("road users on the live poles under netem and after", False,
              f"{len(net_lat)} notice latencies under netem, {len(rec_lat)} after; {left():.0f} s left")

    # --- d. What the simulator says about the road at both parameter sets (the same profile).
    for p in poles:
        procs[1 + p.i].terminate()
    sims = {}
    model = open(os.path.join(args.repo, "Profiles/traffic/rural-night.yaml")).read()
    for name, params in (("baseline", base_eq), ("netem", eq), ("measured", result["simulatorParameters"].get("measured"))):
        if not params or params["latencyMedianSeconds"] is None:
            continue
        text = re.sub(r"latencyMedianSeconds: [\d.]+", f"latencyMedianSeconds: {params['latencyMedianSeconds']}", model)
        text = re.sub(r"latencyP95Seconds: [\d.]+", f"latencyP95Seconds: {params['latencyP95Seconds']}", text)
        text = re.sub(r"(\n  loss:) [\d.]+", rf"\1 {params['loss']}", text)
        with open(f"{WORK}/traffic-{name}.yaml", "w") as f:
            f.write(text)
        out = subprocess.run([lw, "sim", "--profile", f"{WORK}/profile.yaml", "--traffic", f"{WORK}/traffic-{name}.yaml",
                              "--nights", "1", "--ideal-sensors", "--json", "--no-progress"],
                             capture_output=True, text=True, timeout=max(5, min(30, left())))
        if out.returncode == 0:
            j = json.loads(out.stdout)
            sims[name] = {k: j[k] for k in ("darkExposureSeconds", "lightAheadRatio", "usersWithDarkness", "savingsVsFull")}
            sims[name]["users"] = sum(j.get("usersByKind", {}).values()) if isinstance(j.get("usersByKind"), dict) else None
        else:
            sims[name] = {"error": out.stderr.strip()[-300:]}
    result["simulator"] = {"command": "lichtweg sim --profile <the live road> --traffic <rural-night with the parameters> "
                                      "--nights 1 --ideal-sensors", **sims}
    check("lichtweg sim ran the live road at the baseline, the naive netem and the measured parameters",
          all("error" not in s for s in sims.values()), sims)


try:
    run()
except Exception as e:  # a crash of the driver is a failed run, with the reason
    import traceback
    traceback.print_exc()
    check("netem driver ran to the end", False, f"{type(e).__name__}: {e}")
finally:
    for pr in procs:
        if pr.poll() is None:
            pr.kill()
    result["seconds"] = round(time.monotonic() - started, 1)
    write_json_atomically(f"{args.run}/netem.json", result)
    failed = [c for c in checks if not c["ok"]]
    log(f"{len(checks) - len(failed)} of {len(checks)} netem checks passed")
sys.exit(1 if failed or not checks else 0)
