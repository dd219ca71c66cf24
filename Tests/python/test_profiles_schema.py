"""Checks of the pilot-route profiles in Profiles/*.yaml and of the JSON Schema for editors.

    pip install pytest jsonschema pyyaml
    python3 -m pytest Tests/python/test_profiles_schema.py

* Every profile validates against Profiles/schema/lichtweg-profile.schema.json (draft 2020-12),
  and deliberately broken documents do not.
* The rules a schema cannot express (docs/profile-format.md) hold for every profile: chainage
  strictly increasing, unique pole and sensor ids, references to luminaires, classes and programs,
  steps in night order, no level below its class minimum. On top of that, plausibility checks for
  the pilot routes: 25–45 m between poles, every pole within 3 km of the route's location, pole
  coordinates consistent with chainage, the pole list equal to what scripts/route-from-polyline
  makes of scripts/route-data/<route-id>.json, and the calendar treats the eves of Saxony's public
  holidays 2026–2027 and New Year's Eve specially.

YAML 1.1 (PyYAML) would turn `2026-12-31` into a datetime.date and an unquoted `22:00` into the
integer 1320. The profile format wants dates as strings and times quoted, so the loader below
drops the implicit timestamp resolver (dates stay strings, as in the JSON the control plane
pushes) and leaves the sexagesimal integers alone, so that an unquoted time fails the schema as it
should. It also rejects duplicate keys, which PyYAML would otherwise silently overwrite.
"""

import copy
import datetime
import importlib.machinery
import importlib.util
import json
import math
import pathlib

import jsonschema
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "Profiles" / "schema" / "lichtweg-profile.schema.json"
PROFILE_PATHS = sorted((ROOT / "Profiles").glob("*.yaml"))
SCRIPT_PATH = ROOT / "scripts" / "route-from-polyline"
ROUTE_DATA = ROOT / "scripts" / "route-data"

TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


# ---------------------------------------------------------------------------------------------
# Loading


class ProfileLoader(yaml.SafeLoader):
    """SafeLoader without the implicit timestamp resolver and with duplicate keys as errors."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


ProfileLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text):
    return yaml.load(text, Loader=ProfileLoader)


def load_profile(path):
    with open(path, encoding="utf-8") as f:
        return load_yaml(f.read())


@pytest.fixture(scope="session")
def schema():
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def validator(schema):
    return jsonschema.Draft202012Validator(schema)


def schema_errors(validator, document):
    return sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))


def load_script():
    loader = importlib.machinery.SourceFileLoader("route_from_polyline", str(SCRIPT_PATH))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------
# Domain helpers


def haversine(lat1, lon1, lat2, lon2):
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


def minutes_into_night(hhmm):
    """Minutes since the noon that starts a night: 12:00 → 0, 22:00 → 600, 05:00 → 1020."""
    h, m = map(int, hhmm.split(":"))
    return (h * 60 + m - 720) % 1440


def easter_sunday(year):
    """Gregorian Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l) // 451
    month = (h + l - 7 * m + 114) // 31
    day = (h + l - 7 * m + 114) % 31 + 1
    return datetime.date(year, month, day)


def saxony_holidays(year):
    """Public holidays in Saxony (without Fronleichnam, which only some Sorbian municipalities of
    Landkreis Bautzen keep)."""
    easter = easter_sunday(year)
    nov23 = datetime.date(year, 11, 23)
    buss_und_bettag = nov23 - datetime.timedelta(days=(nov23.weekday() - 2) % 7 or 7)
    return {
        "Neujahr": datetime.date(year, 1, 1),
        "Karfreitag": easter - datetime.timedelta(days=2),
        "Ostermontag": easter + datetime.timedelta(days=1),
        "Tag der Arbeit": datetime.date(year, 5, 1),
        "Christi Himmelfahrt": easter + datetime.timedelta(days=39),
        "Pfingstmontag": easter + datetime.timedelta(days=50),
        "Tag der Deutschen Einheit": datetime.date(year, 10, 3),
        "Reformationstag": datetime.date(year, 10, 31),
        "Buß- und Bettag": buss_und_bettag,
        "1. Weihnachtstag": datetime.date(year, 12, 25),
        "2. Weihnachtstag": datetime.date(year, 12, 26),
    }


def range_contains(rng, date):
    if len(rng["from"]) == 5:  # yearly MM-DD, may wrap over the new year
        d = date.strftime("%m-%d")
        lo, hi = rng["from"], rng["to"]
        return lo <= d <= hi if lo <= hi else (d >= lo or d <= hi)
    return rng["from"] <= date.isoformat() <= rng["to"]


def program_for_night(calendar, date):
    """The program of the night that begins on `date` (first matching rule, else the default)."""
    for rule in calendar.get("rules", []):
        if "weekdays" in rule and WEEKDAYS[date.weekday()] not in rule["weekdays"]:
            continue
        dates, ranges = rule.get("dates", []), rule.get("ranges", [])
        if dates or ranges:
            if date.isoformat() not in dates and not any(range_contains(r, date) for r in ranges):
                continue
        return rule["program"]
    return calendar["default"]


def semantic_issues(doc):
    """The rules of docs/profile-format.md that the schema cannot express, as messages."""
    issues = []
    route = doc["route"]
    poles = route["poles"]
    seen = {}
    for i, pole in enumerate(poles):
        if pole["id"] in seen:
            issues.append(f"poles[{i}]: duplicate pole id {pole['id']}")
        seen[pole["id"]] = i
        if i > 0 and not pole["chainage"] > poles[i - 1]["chainage"]:
            issues.append(f"poles[{i}]: chainage {pole['chainage']} not greater than {poles[i - 1]['chainage']}")
        if pole["luminaire"] not in route["luminaires"]:
            issues.append(f"poles[{i}]: unknown luminaire {pole['luminaire']}")
        sensor_ids = [s["id"] for s in pole.get("sensors", [])]
        if len(sensor_ids) != len(set(sensor_ids)):
            issues.append(f"poles[{i}]: duplicate sensor id")
    minimums = doc["lightingClasses"]
    programs = doc["programs"]
    calendar = doc["calendar"]
    for name in [calendar["default"]] + [r["program"] for r in calendar.get("rules", [])]:
        if name not in programs:
            issues.append(f"calendar: unknown program {name}")
    for name, program in programs.items():
        if program["class"] not in minimums:
            issues.append(f"programs.{name}.class: no minimum for {program['class']}")
        previous = None
        for j, step in enumerate(program["steps"]):
            where = f"programs.{name}.steps[{j}]"
            if j == 0 and step["at"] != "switchOn":
                issues.append(f"{where}: first step must be at switchOn")
            if j > 0:
                if step["at"] == "switchOn":
                    issues.append(f"{where}: only the first step is at switchOn")
                else:
                    t = minutes_into_night(step["at"])
                    if previous is not None and t <= previous:
                        issues.append(f"{where}: {step['at']} not after the previous step in night order")
                    previous = t
            cls = step.get("class", program["class"])
            if cls not in minimums:
                issues.append(f"{where}: no minimum for class {cls}")
            elif step["level"] < minimums[cls]:
                issues.append(f"{where}: level {step['level']} below the {cls} minimum {minimums[cls]}")
        presence = program.get("presence")
        if presence is not None:
            highest = max(step["level"] for step in program["steps"])
            if presence.get("level", 100) < highest:
                issues.append(f"programs.{name}.presence.level below the base level {highest}")
            if presence.get("maxPolesAhead", 8) < presence.get("polesAhead", 2):
                issues.append(f"programs.{name}.presence.maxPolesAhead less than polesAhead")
        on, off = program["switchOn"], program["switchOff"]
        if "at" in on and "at" in off and minutes_into_night(on["at"]) >= minutes_into_night(off["at"]):
            issues.append(f"programs.{name}.switchOff.at not after switchOn.at in night order")
    return issues


# ---------------------------------------------------------------------------------------------
# The schema itself


def test_schema_is_a_valid_draft_2020_12_schema(schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] and schema["title"]


def _walk(node, path="#"):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")


def test_every_property_has_a_description_and_objects_are_closed(schema):
    missing, open_objects = [], []
    for path, node in _walk(schema):
        for name, sub in node.get("properties", {}).items():
            if "description" not in sub:
                missing.append(f"{path}/properties/{name}")
        if node.get("type") == "object" and "additionalProperties" not in node:
            open_objects.append(path)
    assert not missing, f"properties without description: {missing}"
    assert not open_objects, f"objects without additionalProperties: {open_objects}"


# ---------------------------------------------------------------------------------------------
# The profiles


def test_the_three_pilot_profiles_exist():
    names = {p.stem for p in PROFILE_PATHS}
    assert {"brandis-beucha", "naunhof-ammelshain", "borsdorf-panitzsch"} <= names
    for name in ("brandis-beucha", "naunhof-ammelshain", "borsdorf-panitzsch"):
        assert (ROUTE_DATA / f"{name}.json").is_file()


@pytest.fixture(scope="module", params=PROFILE_PATHS, ids=lambda p: p.name)
def profile(request):
    return request.param, load_profile(request.param)


def is_pilot_route(doc):
    """Pilot routes are the profiles generated from scripts/route-data/<route-id>.json; the
    plausibility checks specific to them (length, generated pole list, holiday calendar) do not
    apply to other profiles that may be added to Profiles/."""
    return (ROUTE_DATA / f"{doc['route']['id']}.json").is_file()


@pytest.fixture(scope="module")
def pilot(profile):
    path, doc = profile
    if not is_pilot_route(doc):
        pytest.skip(f"{path.name} is not generated from scripts/route-data/")
    return path, doc


def test_profile_validates_against_the_schema(profile, validator):
    path, doc = profile
    errors = schema_errors(validator, doc)
    assert not errors, "\n".join(f"{path.name}: {e.json_path}: {e.message}" for e in errors)


def test_profile_route_id_matches_file_name(profile):
    path, doc = profile
    assert doc["route"]["id"] == path.stem


def test_profile_has_no_semantic_issues(profile):
    path, doc = profile
    assert semantic_issues(doc) == [], path.name


def test_pole_chainage_strictly_increasing_and_ids_unique(profile):
    _, doc = profile
    poles = doc["route"]["poles"]
    chainages = [p["chainage"] for p in poles]
    assert all(b > a for a, b in zip(chainages, chainages[1:]))
    ids = [p["id"] for p in poles]
    assert len(ids) == len(set(ids))


def test_pole_spacing_between_25_and_45_m(profile):
    _, doc = profile
    poles = doc["route"]["poles"]
    for a, b in zip(poles, poles[1:]):
        gap = b["chainage"] - a["chainage"]
        assert 25 <= gap <= 45, f"{a['id']}→{b['id']}: {gap:.1f} m"


def test_pilot_section_length_and_pole_count_are_plausible(pilot):
    _, doc = pilot
    poles = doc["route"]["poles"]
    length = poles[-1]["chainage"] - poles[0]["chainage"]
    assert 1000 <= length <= 2500
    assert 25 <= len(poles) <= 75


def test_poles_within_3_km_of_the_route_location(profile):
    _, doc = profile
    loc = doc["route"]["location"]
    for pole in doc["route"]["poles"]:
        d = haversine(loc["lat"], loc["lon"], pole["lat"], pole["lon"])
        assert d <= 3000, f"{pole['id']} is {d:.0f} m from the route location"


def test_location_is_near_the_middle_of_the_route(profile):
    _, doc = profile
    loc, poles = doc["route"]["location"], doc["route"]["poles"]
    middle = min(poles, key=lambda p: abs(p["chainage"] - poles[-1]["chainage"] / 2))
    assert haversine(loc["lat"], loc["lon"], middle["lat"], middle["lon"]) < 100


def test_pole_coordinates_agree_with_chainage(profile):
    _, doc = profile
    poles = doc["route"]["poles"]
    for a, b in zip(poles, poles[1:]):
        along = b["chainage"] - a["chainage"]
        straight = haversine(a["lat"], a["lon"], b["lat"], b["lon"])
        # coordinates are rounded to 1e-5 degrees (about 1 m); a chord is never longer than the road
        assert 0.9 * along - 2 <= straight <= along + 2, f"{a['id']}→{b['id']}: {straight:.1f} m vs {along:.1f} m"


def test_pole_list_is_the_output_of_route_from_polyline(pilot):
    _, doc = pilot
    route_id = doc["route"]["id"]
    with open(ROUTE_DATA / f"{route_id}.json", encoding="utf-8") as f:
        data = json.load(f)
    lines, _ = load_script().generate(data)
    generated = load_yaml("\n".join(lines))
    assert generated == doc["route"]["poles"]


def test_step_levels_not_below_class_minimums(profile):
    _, doc = profile
    minimums = doc["lightingClasses"]
    for name, program in doc["programs"].items():
        for step in program["steps"]:
            cls = step.get("class", program["class"])
            assert cls in minimums, f"{name}: class {cls} has no minimum"
            assert step["level"] >= minimums[cls], f"{name} {step['at']}: {step['level']} < {cls} {minimums[cls]}"


def test_steps_in_night_order_starting_at_switch_on(profile):
    _, doc = profile
    for name, program in doc["programs"].items():
        steps = program["steps"]
        assert steps[0]["at"] == "switchOn", name
        times = [minutes_into_night(s["at"]) for s in steps[1:]]
        assert times == sorted(set(times)), f"{name}: {[s['at'] for s in steps]}"


def test_holiday_eves_and_new_years_eve(pilot):
    path, doc = pilot
    calendar, programs = doc["calendar"], doc["programs"]
    for year in (2026, 2027):
        for holiday, date in saxony_holidays(year).items():
            eve = date - datetime.timedelta(days=1)
            if eve.year not in (2026, 2027):
                continue
            chosen = program_for_night(calendar, eve)
            assert chosen != calendar["default"], f"{path.name}: eve of {holiday} {date} runs {chosen}"
        new_years_eve = programs[program_for_night(calendar, datetime.date(year, 12, 31))]
        assert "presence" not in new_years_eve, f"{path.name}: New Year's Eve {year} dims on presence"
        assert all(step["level"] == 100 for step in new_years_eve["steps"]), path.name


def test_a_plain_weeknight_runs_the_default_program(pilot):
    _, doc = pilot
    # Tuesday 10 March 2026: no holiday, no Advent, not a weekend night
    assert program_for_night(doc["calendar"], datetime.date(2026, 3, 10)) == doc["calendar"]["default"]
    # Friday 13 March 2026 is a weekend night
    assert program_for_night(doc["calendar"], datetime.date(2026, 3, 13)) != doc["calendar"]["default"]


def test_every_program_is_reachable_from_the_calendar(profile):
    _, doc = profile
    calendar = doc["calendar"]
    used = {calendar["default"]} | {r["program"] for r in calendar.get("rules", [])}
    assert set(doc["programs"]) == used


def test_easter_and_buss_und_bettag_dates():
    assert easter_sunday(2026) == datetime.date(2026, 4, 5)
    assert easter_sunday(2027) == datetime.date(2027, 3, 28)
    assert saxony_holidays(2026)["Buß- und Bettag"] == datetime.date(2026, 11, 18)
    assert saxony_holidays(2027)["Buß- und Bettag"] == datetime.date(2027, 11, 17)
    assert saxony_holidays(2026)["Christi Himmelfahrt"] == datetime.date(2026, 5, 14)
    assert saxony_holidays(2027)["Pfingstmontag"] == datetime.date(2027, 5, 17)


# ---------------------------------------------------------------------------------------------
# Broken documents

MINIMAL = """
format: lichtweg-profile/1
version: 3
route:
  id: test-route
  name: Test
  timezone: Europe/Berlin
  location: {lat: 51.33, lon: 12.6}
  luminaires:
    led-24w: {power: 24, standby: 0.5}
  poles:
    - {id: T-001, chainage: 0.0, lat: 51.33, lon: 12.6, luminaire: led-24w, sensors: [{id: a, kind: pir, facing: increasing, range: 12}]}
    - {id: T-002, chainage: 35.0, lat: 51.3303, lon: 12.6, luminaire: led-24w}   # sensors may be left out
lightingClasses: {P4: 30, P6: 10}
safety: {failsafeLevel: 100}
calendar:
  default: weeknight
  rules:
    - {name: New Year's Eve, dates: [2026-12-31], program: weeknight}
    - {name: Advent, ranges: [{from: 12-01, to: 12-23}, {from: 2026-12-27, to: 2027-01-02}], program: weeknight}
    - {name: Weekend, weekdays: [fri, sat], program: weeknight}
programs:
  weeknight:
    switchOn: {event: sunset, offsetMinutes: 10}
    switchOff: {event: sunrise, offsetMinutes: -10}
    class: P4
    steps:
      - {at: switchOn, level: 30}
      - {at: "22:00", level: 10, class: P6}
      - {at: "05:00", level: 30, class: P4}
    presence: {level: 100, holdSeconds: 90}
"""


@pytest.fixture
def minimal():
    return load_yaml(MINIMAL)


def test_minimal_document_is_valid(minimal, validator):
    assert schema_errors(validator, minimal) == []
    assert semantic_issues(minimal) == []


def _set(doc, path, value):
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def _delete(doc, path):
    node = doc
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]


BROKEN = {
    "unknown top-level key": lambda d: _set(d, ["colour"], "warm"),
    "unknown key in a pole": lambda d: _set(d, ["route", "poles", 0, "height"], 6),
    "typo in a presence key": lambda d: _set(d, ["programs", "weeknight", "presence", "holdSecond"], 60),
    "unknown key in safety": lambda d: _set(d, ["safety", "failSafeLevel"], 100),
    "level 120": lambda d: _set(d, ["programs", "weeknight", "steps", 0, "level"], 120),
    "negative level": lambda d: _set(d, ["programs", "weeknight", "steps", 1, "level"], -5),
    "class minimum 120": lambda d: _set(d, ["lightingClasses", "P4"], 120),
    "bad class name P7": lambda d: _set(d, ["programs", "weeknight", "class"], "P7"),
    "bad class name Q4": lambda d: _set(d, ["lightingClasses", "Q4"], 30),
    "bad time 25:00": lambda d: _set(d, ["programs", "weeknight", "steps", 1, "at"], "25:00"),
    "bad time 22:60": lambda d: _set(d, ["programs", "weeknight", "steps", 1, "at"], "22:60"),
    "unquoted time (YAML int)": lambda d: _set(d, ["programs", "weeknight", "steps", 1, "at"], 1320),
    "missing route": lambda d: _delete(d, ["route"]),
    "missing calendar default": lambda d: _delete(d, ["calendar", "default"]),
    "first step not at switchOn": lambda d: _set(d, ["programs", "weeknight", "steps", 0, "at"], "18:00"),
    "switchOn at a morning event": lambda d: _set(d, ["programs", "weeknight", "switchOn", "event"], "sunrise"),
    "switchOn with event and at": lambda d: _set(d, ["programs", "weeknight", "switchOn", "at"], "18:00"),
    "offset over 3 hours": lambda d: _set(d, ["programs", "weeknight", "switchOff", "offsetMinutes"], -200),
    "bad date 2026-13-01": lambda d: _set(d, ["calendar", "rules", 0, "dates"], ["2026-13-01"]),
    "yearly and absolute mixed in a range": lambda d: _set(d, ["calendar", "rules", 1, "ranges", 0, "to"], "2026-12-23"),
    "weekday friday": lambda d: _set(d, ["calendar", "rules", 2, "weekdays"], ["friday"]),
    "route id with capitals": lambda d: _set(d, ["route", "id"], "Test_Route"),
    "time zone abbreviation": lambda d: _set(d, ["route", "timezone"], "CET"),
    "sensor kind camera": lambda d: _set(d, ["route", "poles", 0, "sensors", 0, "kind"], "camera"),
    "sensor facing north": lambda d: _set(d, ["route", "poles", 0, "sensors", 0, "facing"], "north"),
    "sensor range 0": lambda d: _set(d, ["route", "poles", 0, "sensors", 0, "range"], 0),
    "latitude 95": lambda d: _set(d, ["route", "poles", 1, "lat"], 95),
    "negative standby": lambda d: _set(d, ["route", "luminaires", "led-24w", "standby"], -1),
    "zero power": lambda d: _set(d, ["route", "luminaires", "led-24w", "power"], 0),
    "version 0": lambda d: _set(d, ["version"], 0),
    "wrong format": lambda d: _set(d, ["format"], "lichtweg-profile/2"),
    "failsafe level 0": lambda d: _set(d, ["safety", "failsafeLevel"], 0),
    "negative hold": lambda d: _set(d, ["programs", "weeknight", "presence", "holdSeconds"], -1),
    "no poles": lambda d: _set(d, ["route", "poles"], []),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_document_fails_the_schema(name, minimal, validator):
    doc = copy.deepcopy(minimal)
    BROKEN[name](doc)
    assert schema_errors(validator, doc), f"'{name}' was accepted by the schema"


SEMANTICALLY_BROKEN = {
    "chainage not increasing": lambda d: _set(d, ["route", "poles", 1, "chainage"], 0.0),
    "duplicate pole id": lambda d: _set(d, ["route", "poles", 1, "id"], "T-001"),
    "level below class minimum": lambda d: _set(d, ["programs", "weeknight", "steps", 1, "level"], 5),
    "class without minimum": lambda d: _set(d, ["programs", "weeknight", "steps", 1, "class"], "P5"),
    "steps out of night order": lambda d: _set(d, ["programs", "weeknight", "steps", 2, "at"], "21:00"),
    "unknown luminaire": lambda d: _set(d, ["route", "poles", 1, "luminaire"], "led-99w"),
    "unknown program in calendar": lambda d: _set(d, ["calendar", "default"], "weekday"),
}


@pytest.mark.parametrize("name", sorted(SEMANTICALLY_BROKEN))
def test_semantically_broken_document_is_caught(name, minimal, validator):
    doc = copy.deepcopy(minimal)
    SEMANTICALLY_BROKEN[name](doc)
    assert semantic_issues(doc), f"'{name}' passed the semantic checks"


def test_loader_keeps_dates_as_strings_and_rejects_duplicate_keys():
    assert load_yaml("d: 2026-12-31\nt: '22:00'\ny: 12-01") == {"d": "2026-12-31", "t": "22:00", "y": "12-01"}
    assert load_yaml("t: 22:00") == {"t": 1320}  # YAML 1.1 sexagesimal: why times must be quoted
    with pytest.raises(yaml.constructor.ConstructorError):
        load_yaml("a: 1\na: 2")
