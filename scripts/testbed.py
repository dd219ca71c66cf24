"""What the Python tools that run real components share: free loopback ports, waiting for a
server, a local mosquitto, and a longitude where it is night now (the poles run on the real clock,
so the tools move the road instead of the time).

Also the profile of a test road (road_profile, pole_entry), so that each tool does not write its own.

Used by scripts/bench_*.py, scripts/demo_route.py, scripts/hil.d/guest.py, Tests/ui and Tests/reliability.
"""
import os, socket, subprocess, time


def write_json_atomically(path, obj):
    """`obj` as JSON at `path`, whole or not at all: a temporary file, fsync, rename (a reader
    on the other side of a 9p mount or after a crash never sees half a file)."""
    import json
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.rename(path + ".tmp", path)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, seconds=30):
    """True once something accepts connections on 127.0.0.1:port, False after `seconds`."""
    end = time.time() + seconds
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def night_longitude():
    """A longitude on the equator (12-hour nights) where it is the middle of the night now."""
    hours = (time.time() % 86400) / 3600
    lon = (12 - hours) * 15 + 180  # the sun is overhead at (12 - UTC hours) x 15 degrees
    while lon > 180:
        lon -= 360
    while lon <= -180:
        lon += 360
    return round(lon, 3)


def start_mosquitto(directory, port=None, log=None):
    """A mosquitto on 127.0.0.1 with anonymous access and no persistence, run as the current user
    (started by root it would switch to user mosquitto), queueing up to 100,000 QoS 1 messages per
    client as docs/central.md advises for the control plane. Returns (process, port)."""
    port = port or free_port()
    conf = os.path.join(directory, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"user {os.environ.get('USER') or 'root'}\nlistener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                "max_queued_messages 100000\n")
    process = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                               stderr=open(log, "w") if log else subprocess.DEVNULL)
    if not wait_port(port, 20):
        process.kill()
        raise RuntimeError(f"mosquitto did not start on port {port}")
    return process, port


def start_mosquitto_tuned(directory, extra=(), port=None, log=None, nofile=None):
    """Like start_mosquitto, with further mosquitto.conf lines (`extra`, e.g.
    ["max_queued_messages 1000000", "max_inflight_messages 0"]) and, if `nofile` is given, the
    broker's open-file limit raised to it (for many connections). Returns (process, port)."""
    port = port or free_port()
    conf = os.path.join(directory, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"user {os.environ.get('USER') or 'root'}\nlistener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        for line in extra:
            f.write(line.rstrip("\n") + "\n")

    def limits():
        if nofile:
            import resource
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            wanted = nofile if hard == resource.RLIM_INFINITY else min(nofile, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    process = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                               stderr=open(log, "w") if log else subprocess.DEVNULL, preexec_fn=limits)
    if not wait_port(port, 20):
        process.kill()
        raise RuntimeError(f"mosquitto did not start on port {port}")
    return process, port


def sim_pole_config(pole: str, route: str, data: str, key: str, port: int, *, telemetry_seconds: float | None = None) -> str:
    """A `pole.yaml` for a pole with the `sim` backend and one sensor `a` on line 17, against a
    broker on 127.0.0.1:`port`: what the benchmark and the link-order recording both run."""
    return "\n".join([
        "format: lichtweg-pole/1", f"pole: {pole}", f"route: {route}", "backend: sim",
        f"dataDirectory: {data}", f"profileKey: {key}",
        *([f"telemetrySeconds: {telemetry_seconds:g}"] if telemetry_seconds else []),
        f'mqtt: {{url: "mqtt://127.0.0.1:{port}"}}',
        "gpio:", "  chip: gpiochip0", "  sensors: [{id: a, line: 17}]",
        "pwm: {chip: 0, channel: 0}", ""])


def flow(mapping: dict) -> str:
    """A YAML flow mapping, `{a: 1, b: x}`, of simple values in the given order."""
    return "{" + ", ".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in mapping.items()) + "}"


def pole_entry(pole: str, chainage: float, lon: float, *, lat: float | None = None, luminaire: str = "led40",
               sensors: list[tuple[str, str, str, float]] | None = (("a", "pir", "increasing", 20),)) -> str:
    """One pole of a test road as a flow mapping: sensors as (id, kind, facing, range) tuples,
    none at all when `sensors` is None; on the equator, `lat` from the chainage unless given."""
    lat = chainage / 111_320 if lat is None else lat
    text = f"{{id: {pole}, chainage: {chainage:g}, lat: {lat:.6f}, lon: {lon}, luminaire: {luminaire}"
    if sensors is not None:
        text += ", sensors: [" + ", ".join(
            flow({"id": s, "kind": k, "facing": f, "range": f"{r:g}"}) for s, k, f, r in sensors) + "]"
    return text + "}"


def road_profile(route: str, poles: list[str], lon: float, *, version: int = 1, name: str | None = None,
                 comment: str | None = None, luminaire: tuple[str, float, float] = ("led40", 40, 0.5),
                 lighting_class: tuple[str, int] = ("P4", 10), base: float = 20, step_ramp: float | None = None,
                 presence: dict | None = None, safety: dict | None = None) -> str:
    """A profile document of a test road on the equator at longitude `lon` (night_longitude()
    makes it night now): one program from sunset to sunrise at `base` percent with presence
    control. `poles` are pole_entry() strings. What the tools, benchmarks and tests that run real
    poles share, instead of each writing its own."""
    presence = presence or {"level": 100, "holdSeconds": 5}
    lines = [
        "format: lichtweg-profile/1",
        f"version: {version}",
        *([f"comment: {comment}"] if comment else []),
        "route:",
        f"  id: {route}",
        f"  name: {name or route}",
        "  timezone: UTC",
        f"  location: {{lat: 0.0, lon: {lon}}}",
        "  luminaires:",
        f"    {luminaire[0]}: {{power: {luminaire[1]:g}, standby: {luminaire[2]:g}}}",
        "  poles:",
        *[f"    - {p}" for p in poles],
        f"lightingClasses: {{{lighting_class[0]}: {lighting_class[1]}}}",
        *([f"safety: {flow(safety)}"] if safety else []),
        "calendar: {default: night}",
        "programs:",
        "  night:",
        "    switchOn: {event: sunset}",
        "    switchOff: {event: sunrise}",
        f"    class: {lighting_class[0]}",
        *([f"    stepRampSeconds: {step_ramp:g}"] if step_ramp is not None else []),
        "    steps:",
        f"      - {{at: switchOn, level: {base:g}}}",
        f"    presence: {flow(presence)}",
    ]
    return "\n".join(lines) + "\n"


def stop_groups(processes, grace: float = 5) -> None:
    """Stops processes that were started with start_new_session=True, newest first: SIGCONT (a
    test may have stopped one) and SIGTERM to each process group, SIGKILL to any group still
    there after `grace` seconds in all."""
    import signal
    processes = list(processes)
    for p in reversed(processes):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGCONT)
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + grace
    for p in reversed(processes):
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=5)


def postgres_binary(name: str) -> str:
    """Debian's versioned PostgreSQL server programs (/usr/lib/postgresql/N/bin), newest first."""
    root = "/usr/lib/postgresql"
    versions = sorted((v for v in os.listdir(root) if v.isdigit()), key=int, reverse=True) if os.path.isdir(root) else []
    for v in versions:
        path = os.path.join(root, v, "bin", name)
        if os.access(path, os.X_OK):
            return path
    raise FileNotFoundError(f"{name} of PostgreSQL not found under {root} (scripts/setup installs postgresql)")


def start_postgres(directory, port=None, log=None):
    """A real PostgreSQL from Debian's packages in `directory` on 127.0.0.1:port, user `lichtweg`
    trusted, database `lichtweg`. Started by root it runs as user postgres (it refuses root), as
    the Swift tests' PostgresServer does. Returns (process, port); stop it with stop_groups."""
    port = port or free_port()
    data = os.path.join(directory, "pgdata")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    os.makedirs(directory, exist_ok=True)
    if as_postgres:
        subprocess.run(["chown", "postgres:postgres", directory], check=True)
    subprocess.run(as_postgres + [postgres_binary("initdb"), "-D", data, "-U", "lichtweg", "-A", "trust", "--no-sync",
                                  "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
    process = subprocess.Popen(as_postgres + [postgres_binary("postgres"), "-D", data, "-p", str(port), "-k", directory,
                                              "-h", "127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off"],
                               stdout=subprocess.DEVNULL, stderr=open(log, "w") if log else subprocess.DEVNULL,
                               start_new_session=True)
    for _ in range(300):
        if subprocess.run([postgres_binary("pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-q"]).returncode == 0:
            break
        if process.poll() is not None:
            raise RuntimeError(f"PostgreSQL exited with {process.returncode} (log: {log})")
        time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError(f"PostgreSQL did not start on port {port} (log: {log})")
    subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "lichtweg", "-d", "postgres", "-q",
                    "-c", "CREATE DATABASE lichtweg"], check=True, capture_output=True)
    return process, port
