"""The web UI in a real headless Chromium, against a real control plane, broker and poles.

One engineer's session, in order (each test starts where the one before stopped):
log in → the routes → a route's live schematic (a simulated road user lights the poles) → the
profile editor (a validation error at its line, fixed; the changes; a preview of the night;
upload) → a staged rollout watched live until every pole runs the new version → a rollout halted
with a reason, and a rollback → an alarm from a broken lamp, acknowledged → a pole going offline
→ energy charts → the audit log → a new route from the editor's template; then a viewer, who is
offered no changes. Screenshots of every step go to .build-ui/ (NN-step.png).
"""
from __future__ import annotations

import re
import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from stack import ENGINEER, POLES, ROUTE, VIEWER


# --- helpers ---------------------------------------------------------------------------------

def css(b, selector):
    return b.d.find_element(By.CSS_SELECTOR, selector)


def click(b, selector, what: str):
    """Clicks `selector` once it can be clicked. The schematic is drawn anew on every live event,
    so an element found a moment ago may be gone (stale) when the click arrives: find it again."""
    def attempt(d):
        d.find_element(By.CSS_SELECTOR, selector).click()
        return True
    b.wait(attempt, 10, what)


def css_all(b, selector):
    return b.d.find_elements(By.CSS_SELECTOR, selector)


def pole_attrs(b) -> dict[str, dict[str, str]]:
    """The schematic's poles as the browser shows them: id → {online, level, version, alarm}."""
    return b.js("""
        const out = {};
        for (const g of document.querySelectorAll('#schematic g.pole')) out[g.dataset.pole] = {...g.dataset};
        return out;""")


def select_in_editor(b, needle: str) -> int:
    """Selects the first `needle` in the profile text area (as a user's mouse would) and returns its line."""
    line = b.js("""
        const t = document.getElementById('profile-doc');
        const i = t.value.indexOf(arguments[0]);
        if (i < 0) return null;
        t.focus();
        t.setSelectionRange(i, i + arguments[0].length);
        return t.value.slice(0, i).split('\\n').length;""", needle)
    assert line, f"'{needle}' is not in the editor"
    return line


def type_keys(b, text: str) -> None:
    """Real key presses into the focused element (input events as a person typing makes them)."""
    ActionChains(b.d).send_keys(text).perform()


def no_console_errors(b) -> None:
    """No script error, CSP violation or failed request so far; and every visible control on the
    page has a name a screen reader can say (a label, aria-label, or a button's text)."""
    problems = b.console_problems()
    assert not problems, "the browser console reports errors (a CSP violation, a script error, a failed request):\n" + "\n".join(problems)
    unnamed = b.js("""
        return [...document.querySelectorAll('input, select, textarea, button')]
          .filter(e => e.getClientRects().length || e.type === 'radio')
          .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby')
                       && !(e.tagName === 'BUTTON' && e.textContent.trim()))
          .map(e => e.outerHTML.slice(0, 160));""")
    assert not unnamed, "controls without an accessible name:\n" + "\n".join(unnamed)


def login(b, name: str, password: str) -> None:
    b.wait(lambda d: d.find_element(By.ID, "login-name"), message="the login form")
    for field, value in (("login-name", name), ("login-password", password)):
        el = css(b, f"#{field}")
        el.clear()
        el.send_keys(value)
    css(b, "#login-submit").click()


# --- the engineer's session -------------------------------------------------------------------

def test_login(stack, browser):
    b = browser
    b.open()
    b.wait(lambda d: "#/login" in d.current_url and d.find_element(By.ID, "login-name").is_displayed(), message="redirect to the login page")
    b.shot("login")
    # A wrong password: refused, said plainly, no session.
    login(b, ENGINEER[0], "not-the-password")
    b.wait(lambda d: "Wrong name or password" in d.find_element(By.ID, "login-message").text, message="bad credentials shown")
    assert "#/login" in b.d.current_url
    login(b, *ENGINEER)
    b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, f'#routes-table tr[data-route="{ROUTE}"]'), message="the routes table")
    row = css(b, f'#routes-table tr[data-route="{ROUTE}"]')
    assert "Teststraße (UI test)" in row.text
    assert "3 of 3 poles online" in row.text
    assert "v1" in row.text
    assert css(b, "#user-name").text == ENGINEER[0] and css(b, "#user-role").text.lower() == "engineer"
    b.shot("routes")
    no_console_errors(b)


def test_route_schematic_is_live(stack, browser):
    b = browser
    css(b, f'a.route-link[data-route="{ROUTE}"]').click()
    b.wait(lambda d: len(pole_attrs(b)) == 3, message="three poles in the schematic")
    poles = b.wait(lambda d: (p := pole_attrs(b)) and all(x["level"] == "10" and x["version"] == "1" and x["online"] == "true" for x in p.values()) and p,
                   message="every pole online at 10 % with version 1")
    assert list(poles) == POLES
    b.wait(lambda d: d.find_element(By.ID, "live").text == "Live", message="the live event stream open")
    # The poles are placed along the chainage (0, 35, 80 m): the gaps are in that proportion.
    xs = b.js("""return [...document.querySelectorAll('#schematic g.pole line')].filter(l => l.getAttribute('x1') === l.getAttribute('x2')
                 && l.getAttribute('stroke-width') === '3').map(l => +l.getAttribute('x1'));""")
    assert len(xs) == 3 and abs((xs[1] - xs[0]) / (xs[2] - xs[0]) - 35 / 80) < 0.01, xs
    b.shot("route-overview")

    # A simulated road user at U2: the pole reports 100 % and the schematic shows it, live.
    stack.poles["U2"].simulate("a 1")
    b.wait(lambda d: pole_attrs(b)["U2"]["level"] == "100", 15, "U2 lit to 100 % by a road user, over SSE")
    click(b, '#schematic g.pole[data-pole="U2"]', "U2 selected in the schematic")
    b.wait(lambda d: d.find_element(By.CSS_SELECTOR, '#pole-detail .detail-card[data-pole="U2"]'), message="U2's details")
    assert "100 %" in css(b, "#pole-detail").text
    assert css(b, '#poles-table tr[data-pole="U2"]').get_attribute("class").find("row-selected") >= 0
    b.shot("presence-live")
    stack.poles["U2"].simulate("a 0")
    # The hold (6 s) runs out and the pole falls back to its base level, again live.
    b.wait(lambda d: pole_attrs(b)["U2"]["level"] == "10", 20, "U2 back at 10 % after the hold")
    no_console_errors(b)


def test_profile_validation_preview_upload(stack, browser):
    b = browser
    css(b, 'a.tab[data-tab="profile"]').click()
    b.wait(lambda d: "lichtweg-profile/1" in d.find_element(By.ID, "profile-doc").get_attribute("value"), message="the stored document in the editor")
    b.wait(lambda d: d.find_element(By.ID, "check-status").get_attribute("data-state") == "ok", message="version 1 checks valid")
    assert "This is version 1 as stored" in css(b, "#problems-host").text

    # Version 2 with a base level of 150 %: the check as you type points at the line and field.
    select_in_editor(b, "version: 1")
    type_keys(b, "version: 2")
    level_line = select_in_editor(b, "level: 10}")
    type_keys(b, "level: 150}")
    b.wait(lambda d: d.find_element(By.ID, "check-status").get_attribute("data-state") == "invalid", message="the invalid level reported")
    problem = css(b, "#problems li.problem")
    assert problem.get_attribute("data-line") == str(level_line)
    assert problem.get_attribute("data-field") == "programs.night.steps[0].level"
    assert f"line {level_line}" in problem.text and "out of range" in problem.text
    assert css(b, f'.gutter .gl[data-line="{level_line}"]').get_attribute("class") == "gl gl-bad"
    assert not css(b, "#upload-submit").is_enabled()
    # The problem's line button puts the cursor on that line.
    problem.find_element(By.CSS_SELECTOR, "button.problem-line").click()
    assert b.js("const t = document.getElementById('profile-doc'); return t.value.slice(0, t.selectionStart).split('\\n').length;") == level_line
    b.shot("validation-error")

    # Fixed: 30 %.
    select_in_editor(b, "level: 150}")
    type_keys(b, "level: 30}")
    b.wait(lambda d: d.find_element(By.ID, "check-status").get_attribute("data-state") == "ok", message="valid again")
    assert "Route ui-road, version 2, 3 poles" in css(b, "#check-ok").text
    assert not css_all(b, ".gutter .gl-bad")

    # The changes against version 1: two lines out, two in.
    css(b, "#tab-changes").click()
    b.wait(lambda d: d.find_element(By.ID, "diff"), message="the diff")
    removed = [e.text for e in css_all(b, '#diff .diff-line[data-op="del"] .dt')]
    added = [e.text for e in css_all(b, '#diff .diff-line[data-op="add"] .dt')]
    assert removed == ["version: 1", "      - {at: switchOn, level: 10}"], removed
    assert added == ["version: 2", "      - {at: switchOn, level: 30}"], added
    assert css(b, "#tab-changes-count").text == "+2 −2"
    b.shot("changes")

    # A preview of tonight: switch times, the level steps as a chart, the simulator's figures.
    css(b, "#tab-preview").click()
    nights = css(b, "#preview-nights")
    nights.clear()
    nights.send_keys("2")
    css(b, "#preview-run").click()
    b.wait(lambda d: d.find_element(By.ID, "preview-result"), 30, "the preview")
    assert re.fullmatch(r"\d\d:\d\d", css(b, "#preview-switch-on").text)
    assert re.fullmatch(r"\d\d:\d\d", css(b, "#preview-switch-off").text)
    assert css_all(b, "#preview-result svg.step-chart path.step-line")
    assert "30 %" in css(b, "#preview-steps").text and "P4" in css(b, "#preview-steps").text
    for figure in ("sim-energy", "sim-full", "sim-savings", "sim-dark", "sim-ahead", "sim-cycles"):
        assert css(b, f"#{figure} .figure-value").text.strip() not in ("", "—"), figure
    assert "2 nights" in css(b, "#preview-simulation h4").text
    b.shot("preview")

    # Upload as version 2.
    css(b, "#upload-comment").send_keys("brighter base level for the UI test")
    upload = css(b, "#upload-submit")
    b.wait(lambda d: upload.is_enabled() and upload.text == "Upload as version 2", message="upload offered as version 2")
    upload.click()
    b.wait(lambda d: "Version 2 stored" in d.find_element(By.ID, "upload-done").text, message="version 2 stored")
    versions = stack.api.get(f"/api/routes/{ROUTE}/profiles")["items"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["comment"] == "brighter base level for the UI test" and versions[0]["author"] == ENGINEER[0]
    assert "level: 30}" in stack.api.get(f"/api/routes/{ROUTE}/profiles/2")["document"]
    b.wait(lambda d: d.find_element(By.ID, "check-status").get_attribute("data-state") == "ok", message="checked again")
    b.shot("uploaded")
    no_console_errors(b)


def test_rollout_with_canary_watched_live(stack, browser):
    b = browser
    css(b, "#go-rollout").click()
    b.wait(lambda d: d.find_element(By.ID, "rollout-form"), message="the rollout form")
    version = Select(css(b, "#rollout-version"))
    assert version.first_selected_option.get_attribute("value") == "2"
    css(b, '#rollout-form input[data-canary="U1"]').click()
    for field, value in (("rollout-soak", "3"), ("rollout-timeout", "30")):
        el = css(b, f"#{field}")
        el.clear()
        el.send_keys(value)
    css(b, "#rollout-start").click()
    b.wait(lambda d: d.find_element(By.ID, "rollout-state").get_attribute("data-state") in ("canary", "soaking"), 10,
           "the rollout in its canary stage")
    # While it runs, halting is offered instead of starting another.
    assert css_all(b, "#halt-form") and not css_all(b, "#rollout-form")
    b.wait(lambda d: d.find_element(By.ID, "rollout-state").get_attribute("data-state") == "soaking", 20, "the canary applied, soaking")
    assert css(b, '.rollout-poles li[data-pole="U1"]').get_attribute("data-progress") == "applied"
    # The pole's state report, which the schematic shows, follows its acknowledgement.
    b.wait(lambda d: pole_attrs(b)["U1"]["version"] == "2", 10, "U1 reporting version 2")
    assert {pole_attrs(b)[p]["version"] for p in ("U2", "U3")} == {"1"}
    b.shot("rollout-soaking")
    b.wait(lambda d: d.find_element(By.ID, "rollout-state").get_attribute("data-state") == "completed", 40, "the rollout completed")
    b.wait(lambda d: all(x["version"] == "2" and x["level"] == "30" for x in pole_attrs(b).values()), 20,
           "every pole at version 2 and 30 % in the schematic")
    assert css(b, "#rollout-progress").get_attribute("value") == "3"
    assert "3 of 3 applied" in css(b, "#rollout-status").text
    assert "v2 ×3" in css(b, "#versions-in-force").text
    assert all(r.get_attribute("data-version") == "2" for r in css_all(b, "#poles-table tbody tr"))
    assert css_all(b, "#rollout-form") and css_all(b, "#rollback-form")
    b.shot("rollout-completed")
    no_console_errors(b)


def test_halt_and_rollback(stack, browser):
    b = browser
    # An older version to the canary U2, with a long soak: halted by the engineer, with a reason.
    Select(css(b, "#rollout-version")).select_by_value("1")
    css(b, '#rollout-form input[data-canary="U2"]').click()
    css(b, "#rollout-start").click()
    b.wait(lambda d: d.find_element(By.ID, "rollout-state").get_attribute("data-state") == "soaking", 20, "soaking version 1")
    css(b, "#halt-reason").send_keys("wrong version chosen")
    css(b, "#rollout-halt").click()
    b.wait(lambda d: d.find_element(By.ID, "rollout-state").get_attribute("data-state") == "halted", 10, "halted")
    assert "halted by erik: wrong version chosen" in css(b, "#rollout-reason").text
    b.shot("rollout-halted")

    # Roll back to version 1's content: stored as version 3 and rolled out to every pole at once.
    b.wait(lambda d: d.find_element(By.ID, "rollback-form"), message="the rollback form after the halt")
    Select(css(b, "#rollback-version")).select_by_value("1")
    css(b, "#rollback-ask").click()
    assert "stores version 3 with the content of version 1" in css(b, "#rollback-form .confirm").text
    css(b, "#rollback-confirm").click()
    b.wait(lambda d: d.find_element(By.CSS_SELECTOR, "#rollout-status .rollout").get_attribute("data-version") == "3", 10, "the rollback's rollout")
    b.wait(lambda d: d.find_element(By.ID, "rollout-state").get_attribute("data-state") == "completed", 30, "the rollback completed")
    b.wait(lambda d: all(x["version"] == "3" and x["level"] == "10" for x in pole_attrs(b).values()), 20,
           "every pole at version 3 and back at 10 %")
    assert Select(css(b, "#rollout-version")).first_selected_option.get_attribute("value") == "3"
    versions = stack.api.get(f"/api/routes/{ROUTE}/profiles")["items"]
    assert versions[0]["version"] == 3 and versions[0]["comment"] == "rollback to the content of version 1"
    b.shot("rolled-back")
    no_console_errors(b)


def test_alarm_marked_and_acknowledged(stack, browser):
    b = browser
    stack.poles["U3"].simulate("lamp broken")
    b.wait(lambda d: pole_attrs(b)["U3"]["alarm"] == "new", 20, "U3 marked with an open alarm")
    row = b.wait(lambda d: d.find_element(By.CSS_SELECTOR, '#route-alarm-table [data-pole="U3"]'), message="the alarm listed")
    assert "lamp-failure" in row.text
    b.shot("alarm-raised")
    row.find_element(By.CSS_SELECTOR, "button[data-ack]").click()
    b.wait(lambda d: pole_attrs(b)["U3"]["alarm"] == "acknowledged", 10, "U3's alarm acknowledged")
    css(b, '#mainnav a[data-nav="alarms"]').click()
    row = b.wait(lambda d: d.find_element(By.CSS_SELECTOR, '#alarms-table tr[data-pole="U3"]'), message="the alarms page")
    assert row.get_attribute("data-acknowledged") == "true" and ENGINEER[0] in row.text
    assert not row.find_elements(By.CSS_SELECTOR, "button[data-ack]")
    b.shot("alarms")
    # Repaired: the alarm closes (shown when all alarms are listed).
    stack.poles["U3"].simulate("lamp ok")
    stack.api.wait("/api/alarms?open=true", lambda r: not r["items"], 15, "the alarm cleared")
    css(b, "#alarm-open").click()
    b.wait(lambda d: d.find_element(By.CSS_SELECTOR, '#alarms-table tr[data-pole="U3"]').get_attribute("data-open") == "false",
           message="the cleared alarm listed")
    no_console_errors(b)


def test_offline_pole_marked(stack, browser):
    b = browser
    b.open(f"#/routes/{ROUTE}")
    b.wait(lambda d: pole_attrs(b).get("U1", {}).get("online") == "true", message="U1 online")
    b.wait(lambda d: d.find_element(By.ID, "live").text == "Live", message="the live event stream open")
    # U1 goes away (it says so on its way out): greyed and marked offline, live.
    stack.stop_process("pole-U1")
    b.wait(lambda d: pole_attrs(b)["U1"]["online"] == "false", 15, "U1 marked offline")
    assert "offline" in css(b, '#poles-table tr[data-pole="U1"]').text
    assert "2 of 3 poles online" in css(b, "#online-count").text
    b.shot("pole-offline")
    no_console_errors(b)


def test_energy_charts(stack, browser):
    b = browser
    # The poles report telemetry every 5 s; wait until the route has some.
    stack.api.wait(f"/api/routes/{ROUTE}/energy", lambda r: r["totalWh"] > 0, 20, "energy reported")
    b.open(f"#/routes/{ROUTE}/energy")
    b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#route-energy-chart rect.chart-bar"), message="bars in the route chart")
    assert css(b, "#card-energy .card-value").text.endswith("Wh")
    assert css(b, "#card-full .card-value").text.endswith("Wh")
    assert css(b, "#card-savings .card-value").text.endswith("%")
    bars = b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#pole-totals-chart rect.chart-bar"), message="bars per pole")
    assert [e.get_attribute("data-pole") for e in bars] == POLES
    css(b, '#pole-totals-chart rect.chart-bar[data-pole="U2"]').click()
    b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, '#pole-energy-chart figure[data-pole="U2"] rect.chart-bar'), message="U2 over time")
    assert Select(css(b, "#energy-pole")).first_selected_option.text == "U2"
    b.shot("energy")
    no_console_errors(b)


def test_audit_log(stack, browser):
    b = browser
    css(b, '#mainnav a[data-nav="audit"]').click()
    b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#audit-table tbody tr"), message="the audit log")
    actions = [r.get_attribute("data-action") for r in css_all(b, "#audit-table tbody tr")]
    for action in ("login", "profile.upload", "rollout.start", "rollout.halt", "alarm.acknowledge", "user.add"):
        assert action in actions, f"{action} not in the audit log: {actions}"
    uploads = [r.text for r in css_all(b, '#audit-table tbody tr[data-action="profile.upload"]')]
    assert any("version 2" in u and ENGINEER[0] in u and "brighter base level" in u for u in uploads), uploads
    css(b, "#audit-filter").send_keys("rollout")
    b.wait(lambda d: all(r.get_attribute("data-action").startswith("rollout") for r in css_all(b, "#audit-table tbody tr")), message="filtered")
    b.shot("audit")
    no_console_errors(b)


def test_new_route_from_the_template(stack, browser):
    b = browser
    b.open("#/routes")
    css(b, "#new-route").click()
    b.wait(lambda d: d.find_element(By.ID, "check-status").get_attribute("data-state") == "ok", message="the template checks valid")
    select_in_editor(b, "id: new-route")
    type_keys(b, "id: ui-side-path")
    b.wait(lambda d: "Route ui-side-path, version 1, 2 poles" in d.find_element(By.ID, "problems-host").text, message="valid as ui-side-path")
    css(b, "#upload-comment").send_keys("second road of the UI test")
    upload = css(b, "#upload-submit")
    b.wait(lambda d: upload.is_enabled(), message="upload offered")
    upload.click()
    # The new route's page: its poles from the layout, none of them has reported yet.
    b.wait(lambda d: d.current_url.endswith("#/routes/ui-side-path"), message="on the new route's page")
    b.wait(lambda d: list(pole_attrs(b)) == ["NR-001", "NR-002"], message="the new route's poles")
    assert all(p["online"] == "false" and p["level"] == "" for p in pole_attrs(b).values())
    assert "0 of 2 poles online" in css(b, "#online-count").text
    b.shot("new-route")
    no_console_errors(b)


def test_viewer_sees_but_cannot_change(stack, browser):
    b = browser
    css(b, "#logout").click()
    b.wait(lambda d: "#/login" in d.current_url, message="logged out")
    login(b, *VIEWER)
    b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#routes-table"), message="the routes, as viewer")
    assert not css_all(b, "#new-route")
    b.open(f"#/routes/{ROUTE}")
    b.wait(lambda d: len(pole_attrs(b)) == 3, message="the schematic, as viewer")
    b.wait(lambda d: "viewer" in d.find_element(By.ID, "rollout-controls").text, message="no rollout controls")
    assert not css_all(b, "#rollout-form") and not css_all(b, "#rollback-form") and not css_all(b, "#halt-form")
    b.shot("viewer-route")
    css(b, 'a.tab[data-tab="profile"]').click()
    b.wait(lambda d: d.find_element(By.ID, "check-status").get_attribute("data-state") == "ok", message="a viewer may check")
    assert not css_all(b, "#upload-form")
    b.shot("viewer-profile")
    no_console_errors(b)
