"""Issue 7, item 2 (first half): lichtweg-central SIGKILLed mid-rollout and restarted with the same
database and MQTT client id → the rollout resumes from its stored state and completes.

A route of four `lichtweg-pole` processes (sim backend), mosquitto, the control plane on SQLite.
Version 1 is rolled out first; then three rollouts, each with one canary, and the control plane
SIGKILLed in a different stage of each:

1. **soak** (v2, soak 8 s): killed 2 s into the soak, restarted 2 s later. The version must reach
   the route when the *stored* soak ends: not at once, and not 8 s after the restart.
2. **canary, before the canary acknowledged** (v3): the canary is stopped (SIGSTOP) before the start,
   so that it cannot answer; the control plane is killed in the canary stage; the canary is resumed
   while the control plane is away, applies the version and acknowledges into the control plane's
   persistent session; the restarted control plane must take that acknowledgement.
3. **route stage** (v4): one pole is stopped, so the rollout stays in `rolling-out`; the control
   plane is killed as soon as it is there (within the second in which single acknowledgements are
   not stored yet); the pole is resumed while the control plane is away.

Checked after each: the rollout completes with every pole applied, the lamps are at the version's
base level; at the end: one rollout row per version, all completed; the audit log has every upload
and start once, in order; every pole acknowledged each version as applied exactly once and applied
it once (its log), with no rejection but `not-newer`; the retained profile on the route's topic is
the last version and no canary topic keeps a retained profile.
"""
from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_broker_faults import (  # noqa: E402  (the shared harness of the fault-injection tests)
    LogTail, Rig, Watcher, chain_gaps, unwind_on_sigterm, wait_for,
)

ROUTE = "rel-central"
POLES = ["C1", "C2", "C3", "C4"]
SOAK = 8
BASES = {1: 10, 2: 30, 3: 20, 4: 40}


@pytest.fixture
def rig():
    unwind_on_sigterm()
    r = Rig("central", ROUTE, POLES, telemetry_seconds=2)
    try:
        r.start()
        yield r
    finally:
        r.stop()


def retained(port: int, topics: list[str], seconds: float = 1.5) -> dict[str, bytes]:
    """The retained message of each topic (absent: none), as a new clean client gets them."""
    got: dict[str, bytes] = {}
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"rel-retained-{time.monotonic_ns()}", clean_session=True)
    c.on_message = lambda client, userdata, msg: got.__setitem__(msg.topic, bytes(msg.payload)) if msg.retain else None
    c.connect("127.0.0.1", port, keepalive=5)
    c.loop_start()
    try:
        for t in topics:
            c.subscribe(t, qos=1)
        time.sleep(seconds)
    finally:
        c.loop_stop()
        c.disconnect()
    return got


def test_central_killed_mid_rollout_resumes(rig: Rig, record):
    started = time.monotonic()
    central_log = LogTail(rig.work / "central.log", ("rollout resumed", "rollout advanced", "rollout finished", "rollout step failed"))
    central_log.start()
    watcher = None
    rounds: list[dict] = []
    try:
        rig.upload(1, BASES[1])
        rig.api.post(f"/api/routes/{ROUTE}/rollouts", {"version": 1})
        wait_for("version 1 rolled out", lambda: rig.rollout()["state"] == "completed", 30)
        watcher = Watcher(rig.bport, "central")
        wait_for("every lamp at version 1's base", lambda: all(rig.level(p)[0] == BASES[1] for p in POLES), 15)
        wait_for("a stored report of every pole", lambda: all(
            rig.query("SELECT count(*) FROM telemetry_reports WHERE pole = ?", (p,))[0][0] for p in POLES), 10, 0.2)

        def restart_central(r: dict) -> None:
            """Restarts the control plane and notes how long until it serves and resumes."""
            time.sleep(max(0.0, r["t_kill"] + 1.5 - time.monotonic()))  # away for 1.5 s at least
            t0 = time.monotonic()
            r["down_s"] = round(t0 - r["t_kill"], 2)
            r["http_up_s"] = round(rig.start_central(), 2)
            r["resumed_log_s"] = round(wait_for("'rollout resumed' in the log",
                                                lambda: central_log.first_after("rollout resumed", t0), 15, 0.05) - t0, 2)
            r["t_restart"] = t0

        def finish(r: dict, version: int) -> None:
            final = wait_for(f"version {version}'s rollout finished", lambda: (v := rig.rollout())["version"] == version
                             and v["state"] in ("completed", "halted") and v, 40, 0.1)
            r["completed_after_restart_s"] = round(time.monotonic() - r["t_restart"], 2)
            r["rollout_s"] = round(time.monotonic() - r["t_start"], 2)
            r["final_state"] = final["state"]
            r["applied"] = final["applied"]
            assert final["state"] == "completed", f"round {r['killed_in']}: {final}"
            assert final["applied"] == len(POLES) and all(p["progress"] == "applied" for p in final["poles"]), final
            wait_for(f"every lamp at version {version}'s base ({BASES[version]} %)",
                     lambda: all(rig.level(p)[0] == BASES[version] for p in POLES), 10, 0.05)
            rounds.append(r)

        def route_published(version: int, since: float) -> float | None:
            for t, m in watcher.json(f"/route/{ROUTE}/profile", since):
                if m.get("version") == version:
                    return t
            return None

        # -- round 1: killed 2 s into the soak ----------------------------------------------------
        rig.upload(2, BASES[2])
        r = {"killed_in": "soak", "version": 2, "t_start": time.monotonic()}
        rig.api.post(f"/api/routes/{ROUTE}/rollouts", {"version": 2, "canaries": ["C2"], "soakSeconds": SOAK, "ackTimeoutSeconds": 30})
        wait_for("v2 soaking", lambda: rig.rollout()["state"] == "soaking", 15, 0.05)
        t_soak = time.monotonic()
        time.sleep(2)
        r["t_kill"] = rig.sigkill("central")
        wall_first_kill = time.time()
        time.sleep(2)
        restart_central(r)
        r["state_after_restart"] = rig.rollout()["state"]
        assert r["state_after_restart"] == "soaking", rig.rollout()
        t_route = wait_for("v2 on the route's topic", lambda: route_published(2, t_soak), SOAK + 10, 0.05)
        r["soak_observed_s"] = round(t_route - t_soak, 2)
        finish(r, 2)
        # The stored end of the soak is kept: not skipped by the restart, not started again.
        assert SOAK - 0.5 <= r["soak_observed_s"] <= SOAK + 1.5, r

        # -- round 2: killed in the canary stage, before the canary acknowledged ------------------
        rig.upload(3, BASES[3])
        r = {"killed_in": "canary (before its ack)", "version": 3, "t_start": time.monotonic()}
        rig.signal("pole-C3", signal.SIGSTOP)
        try:
            rig.api.post(f"/api/routes/{ROUTE}/rollouts", {"version": 3, "canaries": ["C3"], "soakSeconds": 2, "ackTimeoutSeconds": 30})
            wait_for("v3 in the canary stage", lambda: rig.rollout()["state"] == "canary", 10, 0.05)
            time.sleep(0.3)
            r["t_kill"] = rig.sigkill("central")
        finally:
            rig.signal("pole-C3", signal.SIGCONT)
        wait_for("the canary acknowledged v3 while the control plane was away",
                 lambda: any(m.get("version") == 3 and m.get("result") == "applied" for _, m in watcher.json("/pole/C3/profile-ack")), 10, 0.05)
        restart_central(r)
        finish(r, 3)
        # The resume publishes the canary's bundle again (before its MQTT link is up): did it go out?
        r["republished_after_restart"] = sum(1 for _, m in watcher.json("/pole/C3/profile", r["t_restart"]) if m.get("version") == 3)

        # -- round 3: killed in the route stage, with one pole not yet acknowledged --------------
        rig.upload(4, BASES[4])
        r = {"killed_in": "route stage (C4 pending)", "version": 4, "t_start": time.monotonic()}
        rig.signal("pole-C4", signal.SIGSTOP)
        try:
            rig.api.post(f"/api/routes/{ROUTE}/rollouts", {"version": 4, "canaries": ["C1"], "soakSeconds": 1, "ackTimeoutSeconds": 30})
            wait_for("v4 rolling out", lambda: rig.rollout()["state"] == "rolling-out", 10, 0.02)
            r["t_kill"] = rig.sigkill("central")
            r["applied_when_killed"] = rig.query("SELECT body FROM rollouts WHERE version = 4")[0][0].count('"applied"')
        finally:
            rig.signal("pole-C4", signal.SIGCONT)
        wait_for("C4 acknowledged v4 while the control plane was away",
                 lambda: any(m.get("version") == 4 and m.get("result") == "applied" for _, m in watcher.json("/pole/C4/profile-ack")), 10, 0.05)
        restart_central(r)
        finish(r, 4)
        time.sleep(0.5)
        r["republished_after_restart"] = sum(1 for _, m in watcher.json(f"/route/{ROUTE}/profile", r["t_restart"]) if m.get("version") == 4)

        # -- what is left behind ----------------------------------------------------------------
        # Telemetry sent while the control plane was away waited in its session at the broker:
        # each pole's stored reports chain without a gap across the three kills.
        t_last = time.time()
        wait_for("a stored report of every pole after the last restart", lambda: all(
            (rig.query("SELECT max(to_at) FROM telemetry_reports WHERE pole = ?", (p,))[0][0] or 0) > t_last for p in POLES), 10, 0.2)
        reports = {p: rig.query("SELECT from_at, to_at FROM telemetry_reports WHERE pole = ? ORDER BY from_at", (p,)) for p in POLES}
        gaps = {p: chain_gaps(rows) for p, rows in reports.items() if chain_gaps(rows)}
        time.sleep(1)
        rows = rig.query("SELECT version, finished, body FROM rollouts WHERE route = ? ORDER BY id", (ROUTE,))
        states = [(v, next(iter(json.loads(b)["state"]))) for v, _, b in rows]
        audit = [a for a in reversed(rig.api.get("/api/audit?limit=1000")["items"]) if a["action"] not in ("login", "logout")]
        audit_actions = [(a["action"], a["subject"]) for a in audit]
        expected_audit = [("user.add", "user erik")] + [x for v in (1, 2, 3, 4) for x in
                                                         (("profile.upload", f"route {ROUTE} version {v}"),
                                                          ("rollout.start", f"route {ROUTE} version {v}"))]
        acks = {}
        for _, m in watcher.json("/profile-ack"):
            key = (m["pole"], m.get("version"), m["result"], m.get("reason"), m["at"])  # a QoS 1 duplicate counts once
            acks[key] = m
        applied = {}
        for pole, version, result, reason, _ in acks:
            if result == "applied":
                applied[(pole, version)] = applied.get((pole, version), 0) + 1
        bad_rejections = [k for k in acks if k[2] == "rejected" and k[3] != "not-newer"]
        applied_in_logs = {(p, v): rig.log(f"pole-{p}").count(f"version={v} [PoleDaemon] profile applied")
                           for p in POLES for v in (2, 3, 4)}
        kept = retained(rig.bport, [f"lichtweg/v1/route/{ROUTE}/profile"] + [f"lichtweg/v1/pole/{p}/profile" for p in POLES])
        route_version = json.loads(kept[f"lichtweg/v1/route/{ROUTE}/profile"]).get("version") if kept.get(f"lichtweg/v1/route/{ROUTE}/profile") else None
        canary_topics_kept = sorted(t for t, payload in kept.items() if "/pole/" in t and payload)
        alarms = rig.api.get(f"/api/alarms?route={ROUTE}")["items"]
        step_failures = [line for _, line in central_log.hits if "rollout step failed" in line]

        measured = {
            "rounds": [{k: v for k, v in r.items() if not k.startswith("t_")} for r in rounds],
            "rollout_rows": states,
            "audit_ok": audit_actions == expected_audit,
            "applied_acks": {f"{p}:v{v}": n for (p, v), n in sorted(applied.items()) if v in (2, 3, 4)},
            "other_rejections": len(bad_rejections),
            "route_topic_version": route_version,
            "canary_topics_still_retained": canary_topics_kept,
            "alarms": sorted({(a["code"], a["open"]) for a in alarms}),
            "rollout_step_failures": len(step_failures),
            "telemetry_reports_stored": {p: len(rows) for p, rows in reports.items()},
            "telemetry_gaps": sum(len(g) for g in gaps.values()),
            "seconds": round(time.monotonic() - started, 1),
        }
        record("central SIGKILLed mid-rollout",
               f"lichtweg-central SIGKILLed and restarted (same SQLite, same client id) in 3 rollouts of a {len(POLES)}-pole "
               f"route: 2 s into an {SOAK} s soak; in the canary stage before the canary (SIGSTOPped) acknowledged; "
               f"in the route stage with one pole (SIGSTOPped) pending; the stopped pole resumed while central was away",
               measured)

        problems = []
        if states != [(v, "completed") for v in (1, 2, 3, 4)]:
            problems.append(f"rollouts stored: {states}")
        if audit_actions != expected_audit:
            problems.append(f"audit log {audit_actions}, expected {expected_audit}")
        for p in POLES:
            for v in (2, 3, 4):
                if applied.get((p, v), 0) != 1:
                    problems.append(f"{p} acknowledged version {v} as applied {applied.get((p, v), 0)} times")
                if applied_in_logs[(p, v)] != 1:
                    problems.append(f"{p} logged applying version {v} {applied_in_logs[(p, v)]} times")
        if bad_rejections:
            problems.append(f"rejections: {bad_rejections}")
        if gaps:
            problems.append(f"gaps in the stored telemetry (previous to, next from): {gaps}")
        for p, rows in reports.items():
            if not rows or rows[0][0] > wall_first_kill or rows[-1][1] < t_last:
                problems.append(f"{p}'s stored reports do not span the kills: {rows[:1]} … {rows[-1:]}")
        if route_version != 4:
            problems.append(f"the route's retained profile is version {route_version}, not 4")
        if canary_topics_kept:
            problems.append(f"canary topics still carry a retained profile: {canary_topics_kept}")
        # The only alarms: each pole's `no-profile` from before version 1, cleared by it.
        extra_alarms = [(a["pole"], a["code"], a["open"]) for a in alarms if a["code"] != "no-profile" or a["open"]]
        if extra_alarms:
            problems.append(f"alarms raised: {extra_alarms}")
        assert not problems, "\n".join(problems)
    except BaseException:
        print(rig.tails())
        raise
    finally:
        central_log.stopping.set()
        if watcher:
            watcher.stop()
