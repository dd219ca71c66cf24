"""Issue 7, item 2 (second half): two control-plane instances on one PostgreSQL with shared
subscriptions; one is SIGKILLed under telemetry load, and nothing is lost.

Two `lichtweg-central` processes (`--shared-subscriptions`, their own client ids and ports) use one
real PostgreSQL (Debian's, started here on a loopback port) and one mosquitto; they split the
route's telemetry between them. Five `lichtweg-pole` processes (sim backend) report every 5 s; a
Python load adds 10 synthetic poles × 10 reports/s that follow the same protocol as a pole: each
report starts where the previous one ended, and a report without a telemetry receipt from the
control plane is sent again (after 5 s, then 10, 20 s) — what `UnconfirmedTelemetry` does on a pole.
Eight more synthetic poles raise and clear faults (about 10 fault messages/s, some cleared a few
milliseconds after they were raised) before, during and after the kill, each sent once at QoS 1
as a pole's outbox does: faults are not receipted and not sent again. Faults are plain
subscriptions, so both instances get every one and both store it.

Injected: instance A SIGKILLed in the middle of the load and kept dead; restarted only after the
checks, to see that what it finds then is not stored twice.

Why a receipt is needed at all: libmosquitto acknowledges a message to the broker before the
control plane has stored it, so the batch A was writing when it died is acknowledged and gone;
and mosquitto 2.0 keeps a dead member's persistent session in the shared group's round robin, so
until A's session expires (`--session-expiry`, 8 s here) half of what the poles send is queued for
A, and dropped with the session. Without the poles' resends, those reports would be lost.

Checked, with A still dead: B stores throughout; every report the broker acknowledged from the
synthetic poles is stored (PostgreSQL) and receipted, each pole's stored reports chain without a gap (each `from` is the
previous `to`), and so do the real poles'; duplicates are stored once. Every fault raised (and
acknowledged by the broker) is exactly one alarm row, keyed by pole, code, sensor and the raise's
instant, cleared at the instant of its clear or open if none was sent: none lost, none twice,
none cleared wrongly — checked with A dead and again after it came back. Measured: reports sent
again, stored only after a resend, and each instance's share; faults raised, cleared, and raised
while A was dead.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from stack import ENGINEER, Api  # Tests/ui/stack.py (conftest puts it on sys.path)
from test_broker_faults import (KEEP, ReceiptingLoad, Rig, SyntheticPoles, chain_gaps, iso, parse_iso, publish_states,
                                unwind_on_sigterm, wait_for)
from testbed import free_port, start_postgres, wait_port

SESSION_EXPIRY = 8      # seconds: how long the broker still queues a dead instance's share
LOAD_AFTER_KILL = 12    # seconds of load while A is dead
DRAIN_SECONDS = 45      # the longest the resends may take to bring everything to B
ROUTE = "rel-failover"
POLES = [f"F{i}" for i in range(1, 6)]
RESEND_AFTER, RESEND_MAX = 5.0, 20.0
FAULT_ROUTE = "rel-ffault"
FAULT_KINDS = [("stuck-sensor", "a"), ("lamp-failure", None)]  # a sensor's fault and one of the pole itself


class FailoverRig(Rig):
    """The broker-fault rig with two control-plane instances on PostgreSQL instead of one on SQLite."""

    def __init__(self):
        super().__init__("failover", ROUTE, POLES, telemetry_seconds=1)
        self.hports = {"A": self.hport, "B": free_port()}
        self.pg_port = None
        self.pg_dir = None

    def stop(self) -> None:
        super().stop()
        if self.pg_dir and not KEEP:
            shutil.rmtree(self.pg_dir, ignore_errors=True)

    def setup_central(self) -> None:
        # Its own folder under /tmp: the server runs as user postgres, which cannot enter the rig's.
        self.pg_dir = tempfile.mkdtemp(prefix="lichtweg-relfault-pg-")
        pg, self.pg_port = start_postgres(self.pg_dir, log=str(self.work / "postgres.log"))
        self.procs["postgres"] = pg
        self.every.insert(0, pg)  # stopped last
        subprocess.run([str(self.bin / "lichtweg"), "key", "generate", "--private", str(self.key), "--public", str(self.pub)],
                       check=True, capture_output=True)

    @property
    def db_url(self) -> str:
        return f"postgres://lichtweg@127.0.0.1:{self.pg_port}/lichtweg"

    def start_central(self, instance: str = "A") -> float:
        t0 = time.monotonic()
        port = self.hports[instance]
        self.spawn(f"central-{instance}", [str(self.bin / "lichtweg-central"), "serve", "--db", self.db_url,
                                           "--listen", f"127.0.0.1:{port}", "--broker", f"mqtt://127.0.0.1:{self.bport}",
                                           "--signing-key", str(self.key), "--client-id", f"{self.client_id}-{instance}",
                                           "--shared-subscriptions", "--session-expiry", str(SESSION_EXPIRY)])
        if not wait_port(port, 30):
            raise AssertionError(f"central {instance} did not listen on {port}:\n{self.tail(f'central-{instance}')}")
        return time.monotonic() - t0

    def start(self) -> "FailoverRig":
        self.start_broker()
        self.setup_central()
        self.start_central("A")  # one after the other: both would migrate the same empty database
        self.start_central("B")
        for p in self.poles:
            self.start_pole(p)
        self.alive()
        return self

    def instance_metrics(self, instance: str) -> dict[str, float]:
        self.base = f"http://127.0.0.1:{self.hports[instance]}"
        return self.metrics()

    def query(self, sql: str, args=()) -> list[tuple]:
        """Rows of a query with `?` placeholders for numbers and strings (psql, unaligned)."""
        for a in args:
            sql = sql.replace("?", "'" + str(a).replace("'", "''") + "'" if isinstance(a, str) else repr(a), 1)
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "lichtweg", "-d", "lichtweg",
                              "-At", "-F", "\t", "-c", sql], check=True, capture_output=True, text=True).stdout
        rows = []
        for line in out.splitlines():
            rows.append(tuple(None if v == "" else float(v) if v.replace(".", "", 1).replace("-", "", 1).isdigit() else v
                              for v in line.split("\t")))
        return rows


class FaultLoad(SyntheticPoles):
    """Synthetic poles on an unstored route (their retained state makes the control plane keep
    their faults) that raise and clear faults over one paho connection, each message once at
    QoS 1, in order, as a pole's outbox sends them. Every `period` s the next (pole, code, sensor)
    in turn changes: raised if it was clear, cleared if it was raised; every third raise is
    cleared again a few milliseconds later, so that one instance may store the raise and the clear
    before the other stores the raise. Keeps every lifecycle: (pole, code, sensor, raised ms) ->
    cleared ms or None, with the broker's acknowledgements of its messages."""

    def __init__(self, port: int, count: int = 8, period: float = 0.1, prefix: str = "FFAULT", route: str = FAULT_ROUTE):
        super().__init__(daemon=True)
        self.poles = [f"{prefix}{i:02d}" for i in range(count)]
        self.slots = [(p, code, sensor) for p in self.poles for code, sensor in FAULT_KINDS]
        self.period = period
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.open: dict[tuple, int] = {}                       # slot -> raised ms, while raised
        self.lifecycles: dict[tuple, int | None] = {}          # (pole, code, sensor, raised ms) -> cleared ms
        self.raised_at_mono: dict[tuple, float] = {}           # lifecycle -> when it was raised (monotonic)
        self.infos: list[mqtt.MQTTMessageInfo] = []
        self.last_ms = 0
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"rel-ffault-{os.getpid()}",
                                  clean_session=True, protocol=mqtt.MQTTv311)
        self.client.max_inflight_messages_set(100)
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()
        wait_for("fault poles connected", self.client.is_connected, 10)
        publish_states(self.client, self.poles, route)

    def _instant(self) -> int:
        """Now in whole milliseconds (as the wire has it), later than any instant sent before."""
        ms = max(round(parse_iso(iso(time.time())) * 1000), self.last_ms + 1)
        self.last_ms = ms
        return ms

    def _send(self, slot: tuple, active: bool, ms: int) -> None:
        pole, code, sensor = slot
        payload = {"schema": "lichtweg.fault/1", "pole": pole, "code": code, "sensor": sensor, "active": active,
                   "detail": "synthetic" if active else None, "at": iso(ms / 1000)}
        info = self.client.publish(f"lichtweg/v1/pole/{pole}/fault", json.dumps(payload), qos=1)
        with self.lock:
            self.infos.append(info)

    def _raise(self, slot: tuple) -> None:
        ms = self._instant()
        with self.lock:
            self.open[slot] = ms
            self.lifecycles[(*slot, ms)] = None
            self.raised_at_mono[(*slot, ms)] = time.monotonic()
        self._send(slot, True, ms)

    def _clear(self, slot: tuple) -> None:
        ms = self._instant()
        with self.lock:
            raised = self.open.pop(slot)
            self.lifecycles[(*slot, raised)] = ms
        self._send(slot, False, ms)

    def run(self) -> None:
        turn = raises = 0
        while not self.stopping.wait(self.period):
            slot = self.slots[turn % len(self.slots)]
            turn += 1
            if slot in self.open:
                self._clear(slot)
                continue
            self._raise(slot)
            raises += 1
            if raises % 3 == 0:
                self._clear(slot)  # a fault that came and went at once

    def finish(self) -> None:
        """Stops changing faults (what is raised stays raised) and waits for the broker's acknowledgements."""
        self.stopping.set()
        self.join(5)
        for info in list(self.infos):
            info.wait_for_publish(10)

    def unacknowledged(self) -> int:
        with self.lock:
            return sum(1 for info in self.infos if not info.is_published())

    def raised_since(self, mono: float) -> int:
        with self.lock:
            return sum(1 for t in self.raised_at_mono.values() if t >= mono)

    def check(self, rig: "FailoverRig") -> dict[str, list]:
        """Every lifecycle against the alarm rows of the route: lost (no row), duplicated (rows
        beyond the first of a raise), wrongly cleared or open, and rows of no raise."""
        with self.lock:
            expected = dict(self.lifecycles)
        rows: dict[tuple, list] = {}
        for pole, code, sensor, raised, cleared in rig.query(
                "SELECT pole, code, sensor, raised_at, cleared_at FROM alarms WHERE route = ?", (FAULT_ROUTE,)):
            key = (pole, code, sensor, round(float(raised) * 1000))
            rows.setdefault(key, []).append(None if cleared is None else round(float(cleared) * 1000))
        lost = sorted(k for k in expected if k not in rows)
        duplicated = sorted((k, len(v)) for k, v in rows.items() if len(v) > 1)
        wrong = sorted((k, expected[k], v) for k, v in rows.items() if k in expected and any(c != expected[k] for c in v))
        extra = sorted(k for k in rows if k not in expected)
        return {"lost": lost, "duplicated": duplicated, "wrong": wrong, "extra": extra}



def fault_figures(faults: FaultLoad, problems: dict[str, list]) -> dict:
    return {"lost": len(problems["lost"]), "duplicated": sum(n - 1 for _, n in problems["duplicated"]),
            "wrong_cleared_state": len(problems["wrong"]), "rows_of_no_raise": len(problems["extra"])}


def wait_for_faults(faults: FaultLoad, rig: "FailoverRig", seconds: float) -> dict[str, list]:
    """The check, repeated until it finds nothing or `seconds` have passed (B may still be storing)."""
    end = time.monotonic() + seconds
    while True:
        problems = faults.check(rig)
        if not any(problems.values()) or time.monotonic() > end:
            return problems
        time.sleep(0.5)


@pytest.fixture
def rig():
    unwind_on_sigterm()
    r = FailoverRig()
    try:
        r.start()
        yield r
    except BaseException:
        print(r.tails())
        raise
    finally:
        r.stop()


def stored_count(rig: FailoverRig) -> int:
    return int(rig.query("SELECT count(*) FROM telemetry_reports")[0][0])


def real_pole_gaps(rig: FailoverRig) -> dict[str, list]:
    out = {}
    for p in POLES:
        rows = [(float(a), float(b)) for a, b in rig.query("SELECT from_at, to_at FROM telemetry_reports WHERE pole = ? ORDER BY from_at", (p,))]
        if chain_gaps(rows) or not rows:
            out[p] = chain_gaps(rows)[:3]
    return out


def test_instance_killed_under_load_loses_nothing(rig: FailoverRig, record):
    started = time.monotonic()
    load = ReceiptingLoad(rig.bport, prefix="FLOAD", route="rel-fload", resend_after=RESEND_AFTER, resend_max=RESEND_MAX)
    faults = FaultLoad(rig.bport)
    try:
        wait_for("both instances connected", lambda: all(
            rig.instance_metrics(i).get("lichtweg_central_mqtt_messages_total", 0) >= 1 for i in "AB"), 20, 0.2)
        wait_for("the fault poles' states stored", lambda: int(rig.query(
            "SELECT count(*) FROM pole_snapshots WHERE route = ?", (FAULT_ROUTE,))[0][0]) == len(faults.poles), 20, 0.2)
        load.start()
        faults.start()
        wait_for("both instances storing", lambda: all(
            rig.instance_metrics(i).get("lichtweg_central_telemetry_reports_total", 0) > 0 for i in "AB"), 20, 0.2)
        time.sleep(3)

        # -- A dies in the middle of the load and stays dead ----------------------------------------
        rig.sigkill("central-A")
        t_kill = time.monotonic()
        stored_at_kill = stored_count(rig)
        time.sleep(LOAD_AFTER_KILL)
        stored_later = stored_count(rig)
        assert stored_later > stored_at_kill, f"B stopped storing when A died: {stored_at_kill} → {stored_later}"
        t_end = time.time()
        load.finish()
        faults.finish()

        # -- with A still dead: every acknowledged report stored, every chain whole ------------------
        load.drain(DRAIN_SECONDS)
        t_drained = time.monotonic()
        wait_for("every real pole's reports chained and past the end of the load", lambda: not real_pole_gaps(rig) and all(
            (rig.query("SELECT max(to_at) FROM telemetry_reports WHERE pole = ?", (p,))[0][0] or 0) > t_end for p in POLES),
            DRAIN_SECONDS, 0.5)
        a_dead_for = time.monotonic() - t_kill
        acked = load.acked()
        stored = {(p, round(f * 1000)) for p in load.poles
                  for (f,) in rig.query("SELECT from_at FROM telemetry_reports WHERE pole = ?", (p,))}
        missing = sorted(acked - stored)
        gaps = {}
        for p in load.poles:
            rows = [(float(a), float(b)) for a, b in rig.query("SELECT from_at, to_at FROM telemetry_reports WHERE pole = ? ORDER BY from_at", (p,))]
            if chain_gaps(rows):
                gaps[p] = chain_gaps(rows)[:3]
        real_gaps = real_pole_gaps(rig)
        real_stored = {p: int(rig.query("SELECT count(*) FROM telemetry_reports WHERE pole = ?", (p,))[0][0]) for p in POLES}
        resent_stored = len(load.resent_keys & stored)
        real_resends = sum(rig.log(f"pole-{p}").count("telemetry sent again") for p in POLES)
        unreceipted = load.unconfirmed()
        fault_problems = wait_for_faults(faults, rig, 20)
        fault_unacked = faults.unacknowledged()

        # -- A back (its session expired meanwhile): nothing stored twice ---------------------------
        rig.start_central("A")
        wait_for("A storing again", lambda: rig.instance_metrics("A").get("lichtweg_central_mqtt_messages_total", 0) >= 1, 20, 0.2)
        time.sleep(2)
        duplicates = int(rig.query("SELECT count(*) - count(DISTINCT (pole, from_at)) FROM telemetry_reports")[0][0])
        fault_problems_after = faults.check(rig)
        lifecycles = list(faults.lifecycles.values())

        measured = {
            "session_expiry_seconds": SESSION_EXPIRY, "load_after_kill_seconds": LOAD_AFTER_KILL,
            "a_dead_seconds": round(a_dead_for, 1), "all_stored_after_kill_seconds": round(t_drained - t_kill, 1),
            "load_reports_sent": load.sent, "load_reports_acked": len(acked), "load_reports_stored": len(acked & stored),
            "load_acked_missing": len(missing), "load_unreceipted_at_end": unreceipted,
            "load_resends": load.resent, "load_reports_resent": resent_stored,
            "real_pole_resend_log_lines": real_resends, "real_reports_stored": real_stored,
            "gaps": sum(len(v) for v in gaps.values()), "real_pole_gaps": sum(len(v) for v in real_gaps.values()),
            "duplicate_rows_after_a_returned": duplicates,
            "faults_raised": len(lifecycles), "faults_cleared": sum(1 for c in lifecycles if c is not None),
            "faults_raised_after_kill": faults.raised_since(t_kill), "fault_messages_unacknowledged": fault_unacked,
            "alarms_with_a_dead": fault_figures(faults, fault_problems),
            "alarms_after_a_returned": fault_figures(faults, fault_problems_after),
            "stored_total_at_kill_and_after": [stored_at_kill, stored_later],
            "seconds": round(time.monotonic() - started, 1),
        }
        record("control plane: one of two instances SIGKILLed",
               f"2 lichtweg-central instances (--shared-subscriptions, --session-expiry {SESSION_EXPIRY:g}, one PostgreSQL); "
               f"{len(POLES)} lichtweg-pole + {len(load.poles)} synthetic poles × {1 / load.period:g} reports/s, "
               f"both resending what is not receipted; {len(faults.poles)} synthetic poles raising and clearing faults "
               f"(~{1 / faults.period:g} changes/s, sent once); instance A SIGKILLed under the load and kept dead", measured)
        assert not missing, f"{len(missing)} acknowledged reports not stored while A was dead, e.g. {missing[:5]}"
        assert unreceipted == 0, f"{unreceipted} reports never receipted"
        assert not gaps and not real_gaps, f"gaps: {gaps} {real_gaps}"
        assert duplicates == 0
        assert fault_unacked == 0, f"{fault_unacked} fault messages not acknowledged by the broker"
        for when, problems in (("with A dead", fault_problems), ("after A returned", fault_problems_after)):
            assert not any(problems.values()), (
                f"alarms {when}: {fault_figures(faults, problems)}; e.g. lost {problems['lost'][:3]}, "
                f"duplicated {problems['duplicated'][:3]}, wrong {problems['wrong'][:3]}, of no raise {problems['extra'][:3]}")
    finally:
        faults.close()
        load.close()


LEASE_SECONDS = 15  # lichtweg-central's rollout lease (renewed every 5 s)
SOAK = 6


def test_rollout_taken_over_when_its_instance_dies(rig: FailoverRig, record):
    """Issue 7, item 2, across instances: a rollout run by instance A, which is SIGKILLed in the
    canary soak and kept dead, is carried on and completed by instance B once A's lease has run
    out; B refuses a second rollout of the route while A runs the first."""
    started = time.monotonic()
    subprocess.run([str(rig.bin / "lichtweg-central"), "user", "add", ENGINEER[0], "--role", "engineer", "--db", rig.db_url],
                   input=ENGINEER[1] + "\n", text=True, check=True, capture_output=True)
    for i in "AB":
        assert rig.procs[f"central-{i}"].poll() is None, f"instance {i} exited:\n{rig.tail(f'central-{i}')}"
    # Retried: in one run the first login at B was reset by the peer (not reproduced in 5 runs since).
    a = wait_for("a session at A", lambda: Api(f"http://127.0.0.1:{rig.hports['A']}", *ENGINEER), 20, 0.5)
    b = wait_for("a session at B", lambda: Api(f"http://127.0.0.1:{rig.hports['B']}", *ENGINEER), 20, 0.5)
    rig.api = a
    bases = {1: 10, 2: 30}
    rig.upload(1, bases[1])
    a.post(f"/api/routes/{ROUTE}/rollouts", {"version": 1})
    wait_for("version 1 rolled out by A", lambda: a.get(f"/api/routes/{ROUTE}/rollout")["state"] == "completed", 30)
    wait_for("every lamp at version 1's base", lambda: all(rig.level(p)[0] == bases[1] for p in POLES), 15)

    rig.upload(2, bases[2])
    a.post(f"/api/routes/{ROUTE}/rollouts", {"version": 2, "canaries": ["F1"], "soakSeconds": SOAK, "ackTimeoutSeconds": 30})
    wait_for("v2 soaking at A", lambda: a.get(f"/api/routes/{ROUTE}/rollout")["state"] == "soaking", 15, 0.05)
    owner_before = rig.query("SELECT owner FROM rollouts WHERE route = ? AND version = 2", (ROUTE,))[0][0]
    try:
        b.post(f"/api/routes/{ROUTE}/rollouts", {"version": 2})
        refused = "started"
    except AssertionError as e:  # the client's way of saying the answer was not 2xx
        refused = str(e)

    # -- A dies in the soak and stays dead ---------------------------------------------------------
    t_kill = rig.sigkill("central-A")
    owner = lambda: rig.query("SELECT owner FROM rollouts WHERE route = ? AND version = 2", (ROUTE,))[0][0]
    wait_for("B took the rollout over", lambda: owner() == f"{rig.client_id}-B", LEASE_SECONDS + 20, 0.2)
    taken_after = time.monotonic() - t_kill
    final = wait_for("v2 finished by B", lambda: (v := b.get(f"/api/routes/{ROUTE}/rollout"))["version"] == 2
                     and v["state"] in ("completed", "halted") and v, 40, 0.2)
    finished_after = time.monotonic() - t_kill
    wait_for("every lamp at version 2's base", lambda: all(rig.level(p)[0] == bases[2] for p in POLES), 15)
    audit = [e["action"] for e in b.get("/api/audit?limit=50")["items"]]
    measured = {"owner_before": owner_before, "second_rollout_at_b": refused[:120],
                "taken_over_after_kill_seconds": round(taken_after, 1), "lease_seconds": LEASE_SECONDS,
                "finished_after_kill_seconds": round(finished_after, 1), "final_state": final["state"],
                "applied": final["applied"], "poles": len(POLES), "seconds": round(time.monotonic() - started, 1)}
    record("control plane: the instance running a rollout SIGKILLed",
           f"2 lichtweg-central instances on one PostgreSQL, {len(POLES)} lichtweg-pole; a rollout of version 2 "
           f"(canary F1, soak {SOAK} s) started at A; A SIGKILLed 0-1 s into the soak and kept dead", measured)
    assert owner_before == f"{rig.client_id}-A", owner_before
    assert " 409 " in refused and "rollout-running" in refused, refused
    assert final["state"] == "completed" and final["applied"] == len(POLES), final
    assert taken_after <= LEASE_SECONDS + 5 + 3, f"taken over {taken_after:.1f} s after the kill"
    assert "rollout.start" in audit
