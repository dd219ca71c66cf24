#!/usr/bin/env python3
"""Records which functions lichtweg-pole runs, for the link order of scripts/build-pole.

Runs an unordered build (symbols kept, debug info stripped for valgrind) under callgrind
through what a pole does in a night: start with no profile (failsafe), connect to a real
mosquitto, take a signed profile (Europe/Berlin), presence edges from its own sensor and
detection notices from its neighbour (a second, normal pole), a manual override set and
cleared, telemetry, then idle, and a graceful stop. Writes every function of the binary that
ran, one mangled name per line, most instructions first, to the order file.

Usage: pole_order.py UNORDERED_BINARY LICHTWEG_CLI ORDER_FILE
"""
import os, re, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testbed import night_longitude, pole_entry, road_profile, sim_pole_config, start_mosquitto  # noqa: E402

BINARY, CLI, ORDER = sys.argv[1:4]
work = tempfile.mkdtemp(prefix="lichtweg-pole-order-")
procs = []


def pole_config(pole, port):
    d = f"{work}/{pole}"
    os.makedirs(d)
    open(f"{d}/pole.yaml", "w").write(sim_pole_config(pole, "order-road", f"{d}/data", f"{work}/k.pub", port,
                                                      telemetry_seconds=5))
    return d


def edge(d, value):
    with open(f"{d}/data/sim/inputs", "w") as f:
        f.write(f"a {value}\n")


def wait_for(path, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if os.path.exists(path): return True
        time.sleep(0.2)
    return False


try:
    broker, port = start_mosquitto(work)
    procs.append(broker)
    subprocess.run([CLI, "key", "generate", "--private", f"{work}/k.key", "--public", f"{work}/k.pub"],
                   check=True, stdout=subprocess.DEVNULL)
    lon = night_longitude()
    poles = ["P01", "P02"]
    text = road_profile("order-road", [pole_entry(p, i * 35, lon) for i, p in enumerate(poles)], lon,
                        presence={"level": 100, "holdSeconds": 5, "polesAhead": 1, "polesBehind": 1})
    open(f"{work}/profile.yaml", "w").write(text.replace("timezone: UTC", "timezone: Europe/Berlin"))
    subprocess.run([CLI, "profile", "sign", f"{work}/profile.yaml", "--key", f"{work}/k.key", "-o", f"{work}/signed.json"],
                   check=True, stderr=subprocess.DEVNULL)

    recorded = pole_config("P01", port)
    neighbour = pole_config("P02", port)
    stripped = f"{work}/lichtweg-pole"
    subprocess.run(["objcopy", "--strip-debug", BINARY, stripped], check=True)  # valgrind 3.19 cannot read its DWARF
    out = f"{work}/callgrind.out"
    p1 = subprocess.Popen(["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={out}",
                           stripped, "--config", f"{recorded}/pole.yaml"],
                          stdout=subprocess.DEVNULL, stderr=open(f"{work}/P01.log", "w"))
    procs.append(p1)
    p2 = subprocess.Popen([BINARY, "--config", f"{neighbour}/pole.yaml"], stdout=subprocess.DEVNULL,
                          stderr=open(f"{work}/P02.log", "w"))
    procs.append(p2)
    assert wait_for(f"{recorded}/data/sim/inputs", 120), "the recorded pole did not start"
    time.sleep(5)
    subprocess.run(["mosquitto_pub", "-p", str(port), "-t", "lichtweg/v1/route/order-road/profile", "-r", "-q", "1",
                    "-f", f"{work}/signed.json"], check=True)
    time.sleep(20)
    for _ in range(3):
        edge(recorded, 1); time.sleep(1); edge(recorded, 0); time.sleep(2)
        edge(neighbour, 1); time.sleep(1); edge(neighbour, 0); time.sleep(2)
    override = '{"schema": "lichtweg.override/1", "level": 100, "reason": "link order recording"}'
    subprocess.run(["mosquitto_pub", "-p", str(port), "-t", "lichtweg/v1/pole/P01/override", "-r", "-q", "1",
                    "-m", override], check=True)
    time.sleep(5)
    subprocess.run(["mosquitto_pub", "-p", str(port), "-t", "lichtweg/v1/pole/P01/override", "-r", "-q", "1",
                    "-n"], check=True)
    time.sleep(30)  # idle: clock ticks, telemetry, keep-alives
    p1.send_signal(signal.SIGTERM)
    p1.wait(timeout=120)
    log = open(f"{work}/P01.log").read()
    assert "profile applied" in log, "the recorded pole did not take the profile"

    # callgrind's compressed names: fn=(id) name once, then fn=(id); ob= likewise.
    names, objects, cost = {}, {}, {}
    current_ob, current_fn = None, None
    for line in open(out, errors="replace"):
        m = re.match(r"^(c?)(ob|fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
        if m:
            called, kind, ident, name = m.groups()
            table = objects if kind == "ob" else names
            if name: table[ident] = name
            if not called:
                if kind == "ob": current_ob = objects[ident]
                else: current_fn = names[ident] if current_ob and current_ob.endswith("/lichtweg-pole") else None
            continue
        if current_fn and line[:1] in "0123456789+-*":
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():  # position, instructions
                cost[current_fn] = cost.get(current_fn, 0) + int(parts[1])
    # Functions without a symbol appear as addresses: nothing the linker could place.
    functions = [f.split("'")[0] for f, _ in sorted(cost.items(), key=lambda kv: -kv[1]) if not f.startswith("0x")]
    unique = list(dict.fromkeys(functions))
    tmp = ORDER + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(unique) + "\n")
    os.replace(tmp, ORDER)
    print(f"{len(unique)} functions of lichtweg-pole ran; written to {ORDER}")
finally:
    for p in procs:
        if p.poll() is None: p.send_signal(signal.SIGTERM)
    for p in procs:
        try: p.wait(timeout=10)
        except subprocess.TimeoutExpired: p.kill()
