#!/usr/bin/env python3
"""Independent reference times for Tests/LightCoreTests/SolarCalculatorTests.swift.

Prints the table of sunrise, sunset, civil dawn and civil dusk instants (UTC, rounded to the
second) that the Swift test hard-codes, computed with PyEphem (libastro, full VSOP87 theory), which
shares no code with LightCore's NOAA implementation.

    pip install ephem        # the table in the test was made with ephem 4.2.1
    python3 Tests/python/solar_reference.py

Conventions, matching LightCore.SolarCalculator:
  * `date` is the civil date at the place's longitude: the events belong to the solar noon (upper
    transit) nearest to 12:00 UTC - longitude/15 h on that date; the morning events are the last
    rising before that noon, the evening events the first setting after it.
  * sunrise/sunset: no refraction model (pressure = 0) and horizon -0:34, upper limb
    (PyEphem's default use_center=False), i.e. the standard 90.833 deg zenith of NOAA's tables.
  * civil dawn/dusk: horizon -6 deg, centre of the disc (use_center=True), no refraction.
  * An ephem.AlwaysUpError becomes .sunAlwaysAbove, ephem.NeverUpError .sunAlwaysBelow.
"""
import calendar
import datetime

import ephem

# name: (latitude, longitude) in degrees, north and east positive. Same values as the Swift test.
PLACES = {
    "leipzig": (51.3397, 12.3731),
    "brandis": (51.3340, 12.6110),
    "capeTown": (-33.9249, 18.4241),
    "auckland": (-36.8485, 174.7633),
    "tromso": (69.6496, 18.9560),
    "helsinki": (60.1699, 24.9384),
    "oulu": (65.0121, 25.4651),
    "longyearbyen": (78.2232, 15.6267),
}

CASES = [
    ("leipzig", ["2026-01-15", "2026-02-14", "2026-03-20", "2026-03-29", "2026-04-20", "2026-06-21",
                 "2026-08-01", "2026-09-23", "2026-10-25", "2026-11-23", "2026-12-21"]),
    ("brandis", ["2026-03-29", "2026-06-21", "2026-10-25", "2026-12-21"]),
    ("capeTown", ["2026-06-21", "2026-12-21"]),
    ("auckland", ["2026-01-01", "2026-06-21", "2026-12-21"]),
    ("tromso", ["2026-06-21", "2026-12-15"]),
    ("helsinki", ["2026-06-21"]),
    ("oulu", ["2026-06-21"]),
    ("longyearbyen", ["2026-12-21"]),
]

EVENTS = ["sunrise", "sunset", "civilDawn", "civilDusk"]

EPOCH = ephem.Date("1970/1/1 00:00:00")


def observer(lat, lon, event):
    obs = ephem.Observer()
    obs.lat, obs.lon = str(lat), str(lon)
    obs.elevation = 0
    obs.pressure = 0  # no refraction: it is folded into the -0:34 horizon, as NOAA folds it into 90.833
    obs.horizon = "-0:34" if event in ("sunrise", "sunset") else "-6"
    return obs


def solar_noon(obs, date, lon):
    """The upper transit nearest 12:00 UTC - lon/15 h on `date` (equation of time < 17 min)."""
    approx = ephem.Date(date.replace("-", "/") + " 12:00:00") - lon / 360.0
    obs.date = approx - 0.5
    return obs.next_transit(ephem.Sun())


def event_time(name, date, event):
    lat, lon = PLACES[name]
    obs = observer(lat, lon, event)
    noon = solar_noon(obs, date, lon)
    obs.date = noon
    sun = ephem.Sun()
    use_center = event in ("civilDawn", "civilDusk")
    try:
        if event in ("sunrise", "civilDawn"):
            t = obs.previous_rising(sun, use_center=use_center)
        else:
            t = obs.next_setting(sun, use_center=use_center)
    except ephem.AlwaysUpError:
        return ".sunAlwaysAbove"
    except ephem.NeverUpError:
        return ".sunAlwaysBelow"
    seconds = round((t - EPOCH) * 86400)
    stamp = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return '.utc("%s")' % stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    print("// ephem %s" % ephem.__version__)
    for name, dates in CASES:
        for date in dates:
            for event in EVENTS:
                print('(.%s, "%s", .%s, %s),' % (name, date, event, event_time(name, date, event)))


if __name__ == "__main__":
    main()
