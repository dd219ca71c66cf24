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

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from test_broker_faults import KEEP, ReceiptingLoad, Rig, chain_gaps, unwind_on_sigterm, wait_for
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
