"""`lichtweg profile preview --format json` against PyEphem, at Leipzig, over 2026-2027.

    pip install ephem pytest
    swift build                                   # or set LICHTWEG_BIN to the binary
    python3 -m pytest Tests/python/test_preview_vs_ephem.py

For 60 nights spread evenly over 2026-2027 (plus the four DST-change nights among them), a
temporary profile whose program switches on at sunset and off at sunrise (and one at civil dusk and
civil dawn) is previewed, and the switch times are compared with PyEphem (libastro, VSOP87), which
shares no code with LightCore's NOAA implementation:

  * sunrise/sunset: pressure 0 (no refraction model), horizon -0:34, upper limb;
  * civil dawn/dusk: pressure 0, horizon -6, centre of the disc (use_center=True);
  * the evening event of the night beginning on D is the first setting after the sun's transit
    nearest 12:00 UTC - longitude/15 h on D, the morning event the last rising before the transit on
    D + 1 (the convention of SolarCalculator and of Tests/python/solar_reference.py).

The tolerance is 60 s. The UTC offset of every timestamp is checked against Europe/Berlin's at
that instant (zoneinfo).

A missing binary is a failure, not a skip: this test exists to run.
"""
import datetime
import json
import os
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import ephem
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
LAT, LON = 51.3397, 12.3731
ZONE = ZoneInfo("Europe/Berlin")
TOLERANCE_SECONDS = 60.0

EVENTS = {
    # kind: (switch-on event, switch-off event)
    "sun": ("sunset", "sunrise"),
    "civil": ("civilDusk", "civilDawn"),
}


def _nights():
    """60 dates: 56 every 13 days from 2026-01-01 (to 2027-12-28), and the 4 DST-change nights."""
    start = datetime.date(2026, 1, 1)
    dates = {start + datetime.timedelta(days=13 * i) for i in range(56)}
    dates |= {datetime.date(2026, 3, 28), datetime.date(2026, 10, 24),
              datetime.date(2027, 3, 27), datetime.date(2027, 10, 30)}
    dates = sorted(dates)
    assert len(dates) == 60, len(dates)
    assert dates[0].year == 2026 and dates[-1].year == 2027
    return dates


NIGHTS = _nights()


def profile_yaml(on_event, off_event, on_offset=0, off_offset=0):
    return f"""\
format: lichtweg-profile/1
version: 1
route:
  id: ephem-check
  name: Ephem check Leipzig
  timezone: Europe/Berlin
  location: {{lat: {LAT}, lon: {LON}}}
  luminaires:
    led: {{power: 40, standby: 0.5}}
  poles:
    - {{id: A1, chainage: 0, lat: {LAT}, lon: {LON}, luminaire: led}}
lightingClasses: {{P4: 30}}
calendar:
  default: night
programs:
  night:
    switchOn: {{event: {on_event}, offsetMinutes: {on_offset}}}
    switchOff: {{event: {off_event}, offsetMinutes: {off_offset}}}
    class: P4
    steps:
      - {{at: switchOn, level: 50}}
"""


# MARK: - Fixtures


@pytest.fixture(scope="session")
def lichtweg_bin():
    """The binary's path; whether it exists is checked in each test (a FAILED, not an ERROR)."""
    configured = os.environ.get("LICHTWEG_BIN")
    return Path(configured).resolve() if configured else REPO_ROOT / ".build" / "debug" / "lichtweg"


def require_binary(path):
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"lichtweg binary not found at {path} - build it with `swift build` "
            f"(or point LICHTWEG_BIN at it); this test does not skip",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def profiles(tmp_path_factory):
    directory = tmp_path_factory.mktemp("profiles")
    files = {}
    for kind, (on_event, off_event) in EVENTS.items():
        files[kind] = directory / f"leipzig-{kind}.yaml"
        files[kind].write_text(profile_yaml(on_event, off_event), encoding="utf-8")
    files["offsets"] = directory / "leipzig-offsets.yaml"
    files["offsets"].write_text(profile_yaml("sunset", "sunrise", 15, -20), encoding="utf-8")
    return files


def preview(binary, profile, night):
    require_binary(binary)
    result = subprocess.run(
        [str(binary), "profile", "preview", str(profile), "--date", night.isoformat(), "--format", "json"],
        capture_output=True, text=True, timeout=60, cwd=REPO_ROOT,
    )
    assert result.returncode == 0, f"preview failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout)


# MARK: - PyEphem


def _observer(event):
    obs = ephem.Observer()
    obs.lat, obs.lon = str(LAT), str(LON)
    obs.elevation = 0
    obs.pressure = 0
    obs.horizon = "-0:34" if event in ("sunrise", "sunset") else "-6"
    return obs


def _transit(obs, date):
    """The sun's upper transit nearest 12:00 UTC - LON/15 h on `date`."""
    approx = ephem.Date(datetime.datetime(date.year, date.month, date.day, 12)) - LON / 360.0
    obs.date = approx - 0.5
    return obs.next_transit(ephem.Sun())


def ephem_event(event, date):
    """The instant (aware UTC datetime) of `event` on `date` at Leipzig."""
    obs = _observer(event)
    obs.date = _transit(obs, date)
    use_center = event in ("civilDawn", "civilDusk")
    if event in ("sunrise", "civilDawn"):
        t = obs.previous_rising(ephem.Sun(), use_center=use_center)
    else:
        t = obs.next_setting(ephem.Sun(), use_center=use_center)
    return ephem.Date(t).datetime().replace(tzinfo=datetime.timezone.utc)


# MARK: - Checks


def parse(timestamp):
    """An ISO-8601 timestamp that must carry a UTC offset."""
    t = datetime.datetime.fromisoformat(timestamp)
    assert t.utcoffset() is not None, f"{timestamp} has no UTC offset"
    return t


def assert_berlin_offset(timestamp):
    t = parse(timestamp)
    expected = t.astimezone(ZONE).utcoffset()
    assert t.utcoffset() == expected, f"{timestamp}: offset {t.utcoffset()}, Europe/Berlin has {expected} then"


def assert_close(actual, expected, what):
    difference = (actual - expected).total_seconds()
    assert abs(difference) <= TOLERANCE_SECONDS, (
        f"{what}: lichtweg {actual.isoformat()} vs PyEphem {expected.astimezone(ZONE).isoformat()} "
        f"({difference:+.1f} s)"
    )


@pytest.mark.parametrize("kind", sorted(EVENTS))
@pytest.mark.parametrize("night", NIGHTS, ids=lambda d: d.isoformat())
def test_switch_times_match_pyephem(lichtweg_bin, profiles, night, kind):
    data = preview(lichtweg_bin, profiles[kind], night)
    on_event, off_event = EVENTS[kind]
    assert data["date"] == night.isoformat()
    assert data["program"] == "night"

    switch_on, switch_off = parse(data["switchOn"]), parse(data["switchOff"])
    assert_close(switch_on, ephem_event(on_event, night), f"{night} {on_event}")
    assert_close(switch_off, ephem_event(off_event, night + datetime.timedelta(days=1)), f"{night} {off_event}")

    # The evening is on the night's date and the morning on the next, in local time.
    assert switch_on.date() == night, data["switchOn"]
    assert switch_off.date() == night + datetime.timedelta(days=1), data["switchOff"]

    # Every timestamp carries the offset Europe/Berlin has at that instant.
    stamps = [data["switchOn"], data["switchOff"]] + [step["at"] for step in data["steps"]]
    stamps += [data[key] for key in ("sunset", "sunrise") if data.get(key)]
    for stamp in stamps:
        assert_berlin_offset(stamp)

    assert [step["at"] for step in data["steps"]] == [data["switchOn"]]
    assert data["steps"][0]["level"] == 50
    assert data["energyWh"] > 0
    if kind == "sun":
        # With no offset the program's switch times are the reported sunset and sunrise.
        assert data["sunset"] == data["switchOn"] and data["sunrise"] == data["switchOff"]


@pytest.mark.parametrize("night", NIGHTS[::10], ids=lambda d: d.isoformat())
def test_offsets_shift_the_switch_times(lichtweg_bin, profiles, night):
    """sunset + 15 min and sunrise - 20 min."""
    data = preview(lichtweg_bin, profiles["offsets"], night)
    assert_close(parse(data["switchOn"]), ephem_event("sunset", night) + datetime.timedelta(minutes=15),
                 f"{night} sunset + 15 min")
    assert_close(parse(data["switchOff"]),
                 ephem_event("sunrise", night + datetime.timedelta(days=1)) - datetime.timedelta(minutes=20),
                 f"{night} sunrise - 20 min")
    for stamp in (data["switchOn"], data["switchOff"]):
        assert_berlin_offset(stamp)


@pytest.mark.parametrize("night, on_offset, off_offset", [
    (datetime.date(2026, 3, 28), "+01:00", "+02:00"),
    (datetime.date(2026, 7, 15), "+02:00", "+02:00"),
    (datetime.date(2026, 10, 24), "+02:00", "+01:00"),
    (datetime.date(2027, 1, 15), "+01:00", "+01:00"),
])
def test_offsets_around_dst(lichtweg_bin, profiles, night, on_offset, off_offset):
    """Literal offsets, so that a zoneinfo mistake cannot hide a lichtweg one."""
    data = preview(lichtweg_bin, profiles["sun"], night)
    assert data["switchOn"].endswith(on_offset), data["switchOn"]
    assert data["switchOff"].endswith(off_offset), data["switchOff"]


def test_nights_are_spread_over_both_years():
    by_year = {year: [d for d in NIGHTS if d.year == year] for year in (2026, 2027)}
    assert len(by_year[2026]) >= 28 and len(by_year[2027]) >= 28
    assert {d.month for d in NIGHTS} == set(range(1, 13))
