"""Fixtures of the UI tests: the real stack (mosquitto, lichtweg-central, lichtweg-pole × 3) and a
headless Chromium driven by Selenium, with screenshots into .build-ui/."""
from __future__ import annotations

import base64
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

from stack import REPO, Stack

SHOTS = Path(os.environ.get("LICHTWEG_UI_SHOTS", REPO / ".build-ui"))
WIDTH, HEIGHT = 1280, 800


@pytest.fixture(scope="session")
def stack():
    s = Stack(keep=os.environ.get("LICHTWEG_UI_KEEP") == "1").start()
    try:
        s.api = s.seed()
        yield s
    finally:
        s.stop()


def _chromium() -> tuple[str, str]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not binary or not Path(driver).exists():
        pytest.fail("chromium and chromium-driver are needed (Debian packages; scripts/ui-test installs them)")
    return binary, driver


class Browser:
    """The WebDriver with the few things the tests need: waiting, full-page screenshots, the console."""

    def __init__(self, driver: webdriver.Chrome, base: str):
        self.d = driver
        self.base = base
        self.shots: list[Path] = []

    def open(self, hash_: str = "") -> None:
        self.d.get(f"{self.base}/{hash_}")

    def wait(self, condition, seconds: float = 15, message: str = ""):
        """Waits until `condition(driver)` is truthy and returns it (with the page shot on failure)."""
        try:
            return WebDriverWait(self.d, seconds, poll_frequency=0.1, ignored_exceptions=(Exception,)).until(condition, message)
        except TimeoutException:
            self.shot(f"FAILED-{re.sub(r'[^a-z0-9]+', '-', message.lower())[:60]}")
            raise

    def js(self, script: str, *args):
        return self.d.execute_script(script, *args)

    def shot(self, name: str) -> Path:
        """The whole page (beyond the 1280×800 viewport when it is longer) as SHOTS/NN-name.png."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{len(self.shots) + 1:02d}-{name}.png"
        # From the top (the sticky header would otherwise be drawn where the page was scrolled to),
        # and without the passing notices ("Rollout started"), closed as a user closes them (a
        # click), so that they do not cover what the picture is about.
        self.d.execute_script("window.scrollTo(0, 0); document.querySelectorAll('#toasts .toast').forEach(t => t.click())")
        height = self.d.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]["height"]
        png = self.d.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": WIDTH, "height": max(HEIGHT, min(int(height), 4000)), "scale": 1}})
        path.write_bytes(base64.b64decode(png["data"]))
        self.shots.append(path)
        return path

    # Refusals the UI asks for and shows (Chromium logs every 4xx answer as a console error):
    # GET /api/me before logging in, a wrong password, a document that does not validate, the
    # rollout of a route that never had one (404 is how the API says "none yet").
    EXPECTED = re.compile(r"/api/(me|login) - .*status of 401|/api/profiles/(check|preview) - .*status of 422"
                          r"|/api/routes/[^/ ]+/rollout - .*status of 404")

    def console_problems(self) -> list[str]:
        """Errors in the browser's console since the last call (script errors, CSP violations,
        failed requests), but the expected refusals above."""
        problems = []
        for entry in self.d.get_log("browser"):
            text = entry.get("message", "")
            if entry.get("level") != "SEVERE":
                continue
            if entry.get("source") == "network" and self.EXPECTED.search(text):
                continue
            problems.append(text)
        return problems


@pytest.fixture(scope="session")
def browser(stack):
    binary, driver_path = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={WIDTH},{HEIGHT}", "--lang=en-GB", "--disable-extensions",
                "--no-first-run", "--password-store=basic"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Old screenshots would mislead: the directory holds this run's only.
    if SHOTS.exists():
        for old in SHOTS.glob("*.png"):
            old.unlink()
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
        yield Browser(driver, stack.base)
    finally:
        driver.quit()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        b = item.funcargs.get("browser")
        s = item.funcargs.get("stack")
        if b is not None:
            try:
                b.shot(f"FAILED-{item.name}")
            except Exception:  # noqa: BLE001 - the failure itself matters more
                pass
        if s is not None:
            logs = "\n".join(f"--- {name}\n{s.tail(name, 25)}" for name, _ in s.procs)
            report.sections.append(("component logs", logs))
