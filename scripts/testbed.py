"""What the Python tools that run real components share: free loopback ports, waiting for a
server, a local mosquitto, and a longitude where it is night now (the poles run on the real clock,
so the tools move the road instead of the time).

Used by scripts/bench_pole.py, scripts/demo_route.py, scripts/hil.d/guest.py and Tests/ui.
"""
import os, socket, subprocess, time


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
