"""The slot finder: speakers in several timezones, busy time, working hours, step alignment."""

import time as clock
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.scheduling.availability import WeeklyWindow, available_intervals, covers, overlaps
from api.scheduling.slots import SpeakerCalendar, find_slots

LONDON = "Europe/London"
SYDNEY = "Australia/Sydney"
HOUR = timedelta(hours=1)


def at(*args):
    return datetime(*args, tzinfo=UTC)


def calendar(tz, windows, start, end, busy=()):
    weekly = [WeeklyWindow.parse(*w) for w in windows]
    return SpeakerCalendar(tz, available_intervals(tz, weekly, [], start, end), list(busy))


def starts(slots):
    return [slot.starts_at for slot in slots]


def test_sydney_and_london_speakers_with_a_london_trust():
    start, end = at(2026, 1, 12), at(2026, 1, 13)  # Monday; London +00, Sydney +11
    speakers = {
        "syd": calendar(SYDNEY, [(0, "20:00", "23:00")], start, end),  # 09:00-12:00 UTC
        "lon": calendar(LONDON, [(0, "09:00", "17:00")], start, end),
    }
    slots = find_slots(
        start=start, end=end, duration=2 * HOUR, trust_tz=LONDON, speakers=speakers, trust_busy=[]
    )
    assert starts(slots) == [at(2026, 1, 12, 9), at(2026, 1, 12, 9, 30), at(2026, 1, 12, 10)]
    ten = slots[2]
    assert ten.ends_at == at(2026, 1, 12, 12)
    assert ten.local_times == {
        "syd": "2026-01-12T21:00:00+11:00",
        "lon": "2026-01-12T10:00:00+00:00",
    }


def test_local_times_follow_both_daylight_saving_changes():
    # London springs forward on 29 March, Sydney falls back on 5 April: the gap between them
    # goes 11 hours -> 10 hours -> 9 hours.
    start, end = at(2026, 3, 23), at(2026, 4, 11)
    speakers = {"syd": calendar(SYDNEY, [], start, end), "lon": calendar(LONDON, [], start, end)}
    slots = find_slots(
        start=start,
        end=end,
        duration=HOUR,
        trust_tz=LONDON,
        speakers=speakers,
        trust_busy=[],
        step=timedelta(hours=1),
        working_start=time(10),
        working_end=time(11),
        limit=1000,
    )
    by_day = {slot.local_times["lon"][:10]: slot for slot in slots}
    assert by_day["2026-03-27"].local_times == {
        "syd": "2026-03-27T21:00:00+11:00",
        "lon": "2026-03-27T10:00:00+00:00",
    }
    assert by_day["2026-03-30"].local_times == {
        "syd": "2026-03-30T20:00:00+11:00",
        "lon": "2026-03-30T10:00:00+01:00",
    }
    assert by_day["2026-04-06"].local_times == {
        "syd": "2026-04-06T19:00:00+10:00",
        "lon": "2026-04-06T10:00:00+01:00",
    }
    assert by_day["2026-03-30"].starts_at == at(2026, 3, 30, 9)
    assert len(slots) == 15  # weekdays only: three weeks less the weekends


def test_working_hours_are_the_trusts_not_the_speakers():
    start, end = at(2026, 1, 12), at(2026, 1, 13)
    speakers = {"lon": calendar(LONDON, [], start, end)}  # always available
    slots = find_slots(
        start=start,
        end=end,
        duration=3 * HOUR,
        trust_tz="America/New_York",
        speakers=speakers,
        trust_busy=[],
    )
    # 09:00-17:00 in New York (-05) is 14:00-22:00 UTC; a 3-hour slot starts 14:00..19:00.
    assert starts(slots)[0] == at(2026, 1, 12, 14)
    assert starts(slots)[-1] == at(2026, 1, 12, 19)
    assert len(slots) == 11


def test_back_to_back_busy_slots_leave_neighbours_free():
    start, end = at(2026, 1, 12), at(2026, 1, 13)
    busy = [(at(2026, 1, 12, 10), at(2026, 1, 12, 11)), (at(2026, 1, 12, 11), at(2026, 1, 12, 12))]
    speakers = {"a": calendar(LONDON, [(0, "09:00", "17:00")], start, end, busy)}
    slots = find_slots(
        start=start,
        end=end,
        duration=HOUR,
        trust_tz=LONDON,
        speakers=speakers,
        trust_busy=[(at(2026, 1, 12, 14), at(2026, 1, 12, 15))],
    )
    assert starts(slots) == [
        at(2026, 1, 12, 9),
        at(2026, 1, 12, 12),
        at(2026, 1, 12, 12, 30),
        at(2026, 1, 12, 13),
        at(2026, 1, 12, 15),
        at(2026, 1, 12, 15, 30),
        at(2026, 1, 12, 16),
    ]


def test_every_speaker_must_be_free():
    start, end = at(2026, 1, 12), at(2026, 1, 13)
    speakers = {
        "a": calendar(LONDON, [(0, "09:00", "12:00")], start, end),
        "b": calendar(LONDON, [(0, "11:00", "17:00")], start, end),
    }
    slots = find_slots(
        start=start, end=end, duration=HOUR, trust_tz=LONDON, speakers=speakers, trust_busy=[]
    )
    assert starts(slots) == [at(2026, 1, 12, 11)]
    speakers["b"] = calendar(LONDON, [(0, "12:00", "17:00")], start, end)
    assert (
        find_slots(
            start=start, end=end, duration=HOUR, trust_tz=LONDON, speakers=speakers, trust_busy=[]
        )
        == []
    )


def test_starts_are_aligned_in_the_trusts_local_time():
    # Kolkata is +05:30, so local half hours are whole UTC hours and vice versa.
    start, end = at(2026, 1, 12), at(2026, 1, 13)
    speakers = {"a": calendar(LONDON, [], start, end)}
    slots = find_slots(
        start=at(2026, 1, 12, 4, 10),
        end=end,
        duration=HOUR,
        trust_tz="Asia/Kolkata",
        speakers=speakers,
        trust_busy=[],
        step=timedelta(hours=1),
    )
    # 04:10 UTC is 09:40 local: the first whole local hour is 10:00 = 04:30 UTC.
    assert starts(slots)[0] == at(2026, 1, 12, 4, 30)
    assert slots[0].local_times["a"] == "2026-01-12T04:30:00+00:00"
    assert len(slots) == 7  # 10:00 .. 16:00 local


def test_weekends_and_custom_weekdays():
    start, end = at(2026, 1, 10), at(2026, 1, 12)  # Saturday and Sunday
    speakers = {"a": calendar(LONDON, [], start, end)}
    common = dict(
        start=start, end=end, duration=8 * HOUR, trust_tz=LONDON, speakers=speakers, trust_busy=[]
    )
    assert find_slots(**common) == []
    assert starts(find_slots(**common, weekdays=frozenset({6}))) == [at(2026, 1, 11, 9)]


def test_slots_must_fit_inside_the_requested_range_and_limit():
    start, end = at(2026, 1, 12, 10, 15), at(2026, 1, 12, 13)
    speakers = {"a": calendar(LONDON, [], start, end)}
    slots = find_slots(
        start=start, end=end, duration=HOUR, trust_tz=LONDON, speakers=speakers, trust_busy=[]
    )
    assert starts(slots) == [
        at(2026, 1, 12, 10, 30),
        at(2026, 1, 12, 11),
        at(2026, 1, 12, 11, 30),
        at(2026, 1, 12, 12),
    ]
    limited = find_slots(
        start=start,
        end=end,
        duration=HOUR,
        trust_tz=LONDON,
        speakers=speakers,
        trust_busy=[],
        limit=2,
    )
    assert starts(limited) == starts(slots)[:2]


def test_working_hours_across_the_london_clock_change():
    # Friday 27 March is GMT, Monday 30 March is BST: 09:00 local moves from 09:00 to 08:00 UTC.
    start, end = at(2026, 3, 27), at(2026, 3, 31)
    speakers = {"a": calendar(LONDON, [], start, end)}
    slots = find_slots(
        start=start, end=end, duration=8 * HOUR, trust_tz=LONDON, speakers=speakers, trust_busy=[]
    )
    assert starts(slots) == [at(2026, 3, 27, 9), at(2026, 3, 30, 8)]


def test_rejects_nonsense():
    start, end = at(2026, 1, 12), at(2026, 1, 13)
    common = dict(start=start, end=end, trust_tz=LONDON, speakers={}, trust_busy=[])
    with pytest.raises(ValueError):
        find_slots(**common, duration=timedelta(0))
    with pytest.raises(ValueError):
        find_slots(**common, duration=HOUR, step=timedelta(0))
    with pytest.raises(ValueError):
        find_slots(**common, duration=HOUR, working_start=time(17), working_end=time(9))
    with pytest.raises(ValueError):
        find_slots(**{**common, "start": datetime(2026, 1, 12)}, duration=HOUR)


# --- properties -----------------------------------------------------------------------------

ZONES = [LONDON, SYDNEY, "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
ORIGINS = [at(2026, 1, 5), at(2026, 3, 26), at(2026, 4, 2), at(2026, 10, 1), at(2026, 10, 22)]


@st.composite
def intervals_near(draw, origin, max_size):
    result = []
    for _ in range(draw(st.integers(0, max_size))):
        first = origin + timedelta(minutes=15 * draw(st.integers(0, 6 * 96)))
        result.append((first, first + timedelta(minutes=15 * draw(st.integers(1, 16)))))
    return result


@st.composite
def problems(draw):
    origin = draw(st.sampled_from(ORIGINS))
    start = origin + timedelta(minutes=15 * draw(st.integers(0, 96)))
    end = start + timedelta(minutes=15 * draw(st.integers(1, 5 * 96)))
    speakers = {}
    for index in range(draw(st.integers(0, 3))):  # zero: only the trust matters
        tz = draw(st.sampled_from(ZONES))
        windows = []  # none at all means always available
        for _ in range(draw(st.integers(0, 2))):  # patterns like "weekdays 09:00-17:30"
            first = draw(st.integers(0, 35)) * 30
            last = draw(st.integers(max(first // 30 + 1, 24), 48)) * 30
            for weekday in draw(st.sets(st.integers(0, 6), min_size=3)):
                windows.append(WeeklyWindow(weekday, first, last))
        available = available_intervals(tz, windows, [], start, end)
        speakers[f"s{index}"] = SpeakerCalendar(tz, available, draw(intervals_near(origin, 4)))
    working_start = draw(st.integers(0, 16))
    return dict(
        start=start,
        end=end,
        duration=timedelta(minutes=15 * draw(st.integers(1, 16))),
        trust_tz=draw(st.sampled_from(ZONES)),
        speakers=speakers,
        trust_busy=draw(intervals_near(origin, 4)),
        step=timedelta(minutes=draw(st.sampled_from([15, 30, 45, 60, 90]))),
        working_start=time(working_start),
        working_end=time(draw(st.integers(working_start + 4, 23))),
        weekdays=frozenset(draw(st.sets(st.integers(0, 6), min_size=3))),
        limit=draw(st.integers(1, 400)),
    )


def brute_force(problem):
    """Every aligned local start, one by one: slow, obvious, independent of the finder."""
    zone = ZoneInfo(problem["trust_tz"])
    found = []
    day = problem["start"].astimezone(zone).date() - timedelta(days=1)
    while day <= problem["end"].astimezone(zone).date():
        midnight = datetime.combine(day, time())
        wall = midnight
        while wall.date() == day:
            instant = wall.replace(tzinfo=zone).astimezone(UTC)
            finish = instant + problem["duration"]
            local_finish = finish.astimezone(zone)
            ok = (
                instant.astimezone(zone).replace(tzinfo=None) == wall  # the clocks do not skip it
                and day.weekday() in problem["weekdays"]
                and wall.time() >= problem["working_start"]
                and local_finish.date() == day
                and local_finish.time() <= problem["working_end"]
                and problem["start"] <= instant
                and finish <= problem["end"]
                and all(covers(c.available, instant, finish) for c in problem["speakers"].values())
                and not any(
                    overlaps(instant, finish, *busy)
                    for c in problem["speakers"].values()
                    for busy in c.busy
                )
                and not any(overlaps(instant, finish, *busy) for busy in problem["trust_busy"])
            )
            if ok and instant not in found:
                found.append(instant)
            wall += problem["step"]
        day += timedelta(days=1)
    return sorted(found)[: problem["limit"]]


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(problems())
def test_finder_agrees_with_brute_force(problem):
    slots = find_slots(**problem)
    assert starts(slots) == brute_force(problem)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(problems())
def test_every_slot_is_available_free_and_described(problem):
    slots = find_slots(**problem)
    assert len(slots) <= problem["limit"]
    assert starts(slots) == sorted(set(starts(slots)))
    for slot in slots:
        assert slot.ends_at - slot.starts_at == problem["duration"]
        assert problem["start"] <= slot.starts_at and slot.ends_at <= problem["end"]
        for speaker_id, speaker in problem["speakers"].items():
            assert covers(speaker.available, slot.starts_at, slot.ends_at)
            assert not any(overlaps(slot.starts_at, slot.ends_at, *busy) for busy in speaker.busy)
            local = datetime.fromisoformat(slot.local_times[speaker_id])
            assert local == slot.starts_at
            assert local.utcoffset() == slot.starts_at.astimezone(ZoneInfo(speaker.tz)).utcoffset()
        assert set(slot.local_times) == set(problem["speakers"])
        assert not any(
            overlaps(slot.starts_at, slot.ends_at, *busy) for busy in problem["trust_busy"]
        )
        trust_local = slot.starts_at.astimezone(ZoneInfo(problem["trust_tz"]))
        assert trust_local.weekday() in problem["weekdays"]
        minutes = trust_local.hour * 60 + trust_local.minute
        assert minutes % (problem["step"] // timedelta(minutes=1)) == 0


# --- speed ------------------------------------------------------------------------------------


def test_three_speakers_over_four_weeks_is_fast():
    start, end = at(2026, 3, 16), at(2026, 4, 13)  # spans both spring changes
    weekdays = [(d, "08:00", "18:00") for d in range(5)]
    busy = [
        (at(2026, 3, 16, 10) + timedelta(days=d), at(2026, 3, 16, 11) + timedelta(days=d))
        for d in range(28)
    ]
    speakers = {
        "lon": calendar(LONDON, weekdays, start, end, busy),
        "syd": calendar(SYDNEY, [(d, "06:00", "22:00") for d in range(7)], start, end),
        "nyc": calendar("America/New_York", [(d, "04:00", "14:00") for d in range(5)], start, end),
    }
    began = clock.perf_counter()
    runs = 50
    for _ in range(runs):
        slots = find_slots(
            start=start,
            end=end,
            duration=HOUR,
            trust_tz=LONDON,
            speakers=speakers,
            trust_busy=busy[::2],
        )
    per_call = (clock.perf_counter() - began) / runs
    assert slots
    assert per_call < 0.05, f"{per_call * 1000:.2f} ms per call"
