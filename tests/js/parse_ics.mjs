// Parse an .ics file with Mozilla's ical.js and print its events as JSON.
//
// Usage: node parse_ics.mjs [file.ics]   (reads stdin when no file is given)
//
// Prints [{uid, sequence, status, summary, start_utc, end_utc, ...}] with times in ISO
// UTC ("2026-03-29T00:30:00Z"). Times come from the VTIMEZONE blocks in the file itself
// (ical.js knows no zones but UTC), so a missing or wrong VTIMEZONE shows up as a wrong
// time, and a TZID with no VTIMEZONE is an error rather than a silent floating time.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

function readInput() {
  const path = process.argv[2];
  return readFileSync(path && path !== "-" ? path : 0, "utf8");
}

function utcIso(time, what, uid) {
  if (!time) {
    return null;
  }
  const zone = time.zone;
  if (!zone || zone === ICAL.Timezone.localTimezone || zone.tzid === "floating") {
    throw new Error(`${uid}: ${what} has no resolvable time zone (floating)`);
  }
  return time.toJSDate().toISOString().replace(/\.000Z$/, "Z");
}

function address(prop) {
  return {
    value: prop.getFirstValue(),
    cn: prop.getParameter("cn") ?? null,
    role: prop.getParameter("role") ?? null,
    partstat: prop.getParameter("partstat") ?? null,
    rsvp: prop.getParameter("rsvp") ?? null,
  };
}

function main() {
  const root = new ICAL.Component(ICAL.parse(readInput()));
  const calendarName = root.getFirstPropertyValue("x-wr-calname");
  const method = root.getFirstPropertyValue("method");
  const events = root.getAllSubcomponents("vevent").map((component) => {
    const event = new ICAL.Event(component);
    const organizer = component.getFirstProperty("organizer");
    return {
      uid: event.uid,
      sequence: event.sequence,
      status: component.getFirstPropertyValue("status"),
      summary: event.summary,
      start_utc: utcIso(event.startDate, "DTSTART", event.uid),
      end_utc: utcIso(event.endDate, "DTEND", event.uid),
      tzid: event.startDate.zone.tzid,
      description: event.description,
      location: event.location,
      categories: component
        .getAllProperties("categories")
        .flatMap((prop) => prop.getValues()),
      organizer: organizer ? address(organizer) : null,
      attendees: component.getAllProperties("attendee").map(address),
      method,
      calendar_name: calendarName,
    };
  });
  process.stdout.write(JSON.stringify(events));
}

try {
  main();
} catch (error) {
  process.stderr.write(`parse_ics: ${error.stack || error}\n`);
  process.exit(1);
}
