"""Issue 7, item 2 (second half): two control-plane instances on one PostgreSQL with shared
subscriptions; one is SIGKILLed under telemetry load, and nothing is lost.

Two `lichtweg-central` processes (`--shared-subscriptions`, their own client ids and ports) use one
real PostgreSQL (Debian's, started here on a loopback port) and one mosquitto; they split the
route's telemetry between them. Five `lichtweg-pole` processes (sim backend) report every 5 s; a
Python load adds 10 synthetic poles × 10 reports/s that follow the same protocol as a pole: each
report starts where the previous one ended, and a report without a telemetry receipt from the
control plane is sent again (after 5 s, then 10, 20 s) — what `UnconfirmedTelemetry` does on a pole.

Injected: instance A SIGKILLed in the middle of the load and kept dead; restarted only after the
checks, to see that what it finds then is not stored twice.

Why a receipt is needed at all: libmosquitto acknowledges a message to the broker before the
control plane has stored it, so the batch A was writing when it died is acknowledged and gone;
and mosquitto 2.0 keeps a dead member's persistent session in the shared group's round robin, so
until A's session expires (`--session-expiry`, 8 s here) half of what the poles send is queued for
A, and dropped with the session. Without the poles' resends, those reports would be lost.

Checked, with A still dead: B stores throughout; every report the broker acknowledged from the
synthetic poles is stored (PostgreSQL) and receipted, each pole's stored reports chain without a gap (each `from` is the
previous `to`), and so do the real poles'; duplicates are stored once. Measured: reports sent
again, stored only after a resend, and each instance's share.
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

from test_broker_faults import KEEP, Rig, chain_gaps, iso, parse_iso, unwind_on_sigterm, wait_for
from testbed import free_port, start_postgres, wait_port

SESSION_EXPIRY = 8      # seconds: how long the broker still queues a dead instance's share
LOAD_AFTER_KILL = 12    # seconds of load while A is dead
DRAIN_SECONDS = 45      # the longest the resends may take to bring everything to B
ROUTE = "rel-failover"
POLES = [f"F{i}" for i in range(1, 6)]
RESEND_AFTER, RESEND_MAX = 5.0, 20.0


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


class ReceiptingLoad(threading.Thread):
    """`count` synthetic poles reporting every `period` s over one paho connection, with the
    poles' resend rule: a report the control plane has not receipted is sent again after
    RESEND_AFTER s, doubling up to RESEND_MAX s. Knows which reports the broker acknowledged."""

    def __init__(self, port: int, count: int = 10, period: float = 0.1):
        super().__init__(daemon=True)
        self.poles = [f"FLOAD{i:02d}" for i in range(count)]
        self.period = period
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
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"rel-fload-{os.getpid()}",
                                  clean_session=False, protocol=mqtt.MQTTv311)
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(0)
        self.client.on_message = self._message
        self.client.on_connect = self._connected
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()
        wait_for("failover load connected", self.client.is_connected, 10)
        for p in self.poles:
            state = {"schema": "lichtweg.state/1", "pole": p, "route": "rel-fload", "state": "base", "level": 10,
                     "program": "night", "profileVersion": 1, "faults": [], "uptimeSeconds": 1, "firmware": "load",
                     "at": iso(time.time()), "droppedMessages": 0}
            self.client.publish(f"lichtweg/v1/pole/{p}/state", json.dumps(state), qos=1, retain=True).wait_for_publish(5)

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
                    self.pending[key] = [payload, mono + RESEND_AFTER, 1]
                    self.sent += 1
                self._publish(p, key, payload)
                self.last_to[p] = parse_iso(iso(now))
            self._resend_due(mono)

    def _resend_due(self, mono: float) -> None:
        """Sends again every report whose receipt is overdue; each is due again later (doubling)."""
        with self.lock:
            due = [(k, v) for k, v in self.pending.items() if v[1] <= mono]
            for k, v in due:
                v[1] = mono + min(RESEND_AFTER * 2 ** v[2], RESEND_MAX)
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

    def close(self) -> None:
        self.stopping.set()
        self.client.loop_stop()
        try:
            self.client.disconnect()
        except Exception:
            pass


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
    load = ReceiptingLoad(rig.bport)
    try:
        wait_for("both instances connected", lambda: all(
            rig.instance_metrics(i).get("lichtweg_central_mqtt_messages_total", 0) >= 1 for i in "AB"), 20, 0.2)
        load.start()
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

        # -- A back (its session expired meanwhile): nothing stored twice ---------------------------
        rig.start_central("A")
        wait_for("A storing again", lambda: rig.instance_metrics("A").get("lichtweg_central_mqtt_messages_total", 0) >= 1, 20, 0.2)
        time.sleep(2)
        duplicates = int(rig.query("SELECT count(*) - count(DISTINCT (pole, from_at)) FROM telemetry_reports")[0][0])

        measured = {
            "session_expiry_seconds": SESSION_EXPIRY, "load_after_kill_seconds": LOAD_AFTER_KILL,
            "a_dead_seconds": round(a_dead_for, 1), "all_stored_after_kill_seconds": round(t_drained - t_kill, 1),
            "load_reports_sent": load.sent, "load_reports_acked": len(acked), "load_reports_stored": len(acked & stored),
            "load_acked_missing": len(missing), "load_unreceipted_at_end": unreceipted,
            "load_resends": load.resent, "load_reports_resent": resent_stored,
            "real_pole_resend_log_lines": real_resends, "real_reports_stored": real_stored,
            "gaps": sum(len(v) for v in gaps.values()), "real_pole_gaps": sum(len(v) for v in real_gaps.values()),
            "duplicate_rows_after_a_returned": duplicates,
            "stored_total_at_kill_and_after": [stored_at_kill, stored_later],
            "seconds": round(time.monotonic() - started, 1),
        }
        record("control plane: one of two instances SIGKILLed",
               f"2 lichtweg-central instances (--shared-subscriptions, --session-expiry {SESSION_EXPIRY:g}, one PostgreSQL); "
               f"{len(POLES)} lichtweg-pole + {len(load.poles)} synthetic poles × {1 / load.period:g} reports/s, "
               f"both resending what is not receipted; instance A SIGKILLed under the load and kept dead", measured)
        assert not missing, f"{len(missing)} acknowledged reports not stored while A was dead, e.g. {missing[:5]}"
        assert unreceipted == 0, f"{unreceipted} reports never receipted"
        assert not gaps and not real_gaps, f"gaps: {gaps} {real_gaps}"
        assert duplicates == 0
    finally:
        load.close()
