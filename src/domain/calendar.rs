//! Visits as an iCalendar (RFC 5545) feed for calendar clients.

use chrono::{DateTime, Duration, Utc};

use super::visit::{Visit, VisitStatus};

/// How long a visit without an end is shown to last.
const DEFAULT_LENGTH: Duration = Duration::hours(1);

/// The whole calendar: one `VEVENT` per visit, lines ending in CRLF and folded at 75
/// octets as RFC 5545 requires.
pub fn render(visits: &[Visit]) -> String {
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Liaison//Visits//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Liaison visits",
    ] {
        push(&mut out, line);
    }
    for visit in visits {
        event(&mut out, visit);
    }
    push(&mut out, "END:VCALENDAR");
    out
}

fn event(out: &mut String, visit: &Visit) {
    let ends_at = visit.ends_at.unwrap_or(visit.starts_at + DEFAULT_LENGTH);
    let status = match visit.status {
        VisitStatus::Planned => "TENTATIVE",
        VisitStatus::Held => "CONFIRMED",
        VisitStatus::Cancelled => "CANCELLED",
    };
    let mut description = Vec::new();
    if !visit.enterprises.is_empty() {
        let names: Vec<&str> = visit.enterprises.iter().map(|e| e.name.as_str()).collect();
        description.push(format!("With: {}", names.join(", ")));
    }
    for (label, text) in [
        ("Purpose", &visit.purpose),
        ("Summary", &visit.summary),
        ("Outcome", &visit.outcome),
        ("Follow-up", &visit.follow_up),
    ] {
        if let Some(text) = text {
            description.push(format!("{label}: {text}"));
        }
    }
    push(out, "BEGIN:VEVENT");
    // Stable per visit, so clients update an event instead of adding another.
    push(out, &format!("UID:{}@liaison", visit.id));
    push(out, &format!("DTSTAMP:{}", utc(visit.updated_at)));
    push(out, &format!("LAST-MODIFIED:{}", utc(visit.updated_at)));
    push(out, &format!("SEQUENCE:{}", visit.version - 1));
    push(out, &format!("DTSTART:{}", utc(visit.starts_at)));
    push(out, &format!("DTEND:{}", utc(ends_at)));
    push(out, &format!("SUMMARY:{}", text(&visit.title)));
    if let Some(location) = &visit.location {
        push(out, &format!("LOCATION:{}", text(location)));
    }
    if !description.is_empty() {
        push(
            out,
            &format!("DESCRIPTION:{}", text(&description.join("\n"))),
        );
    }
    push(out, &format!("STATUS:{status}"));
    push(
        out,
        &format!("CATEGORIES:{}", visit.direction.as_str().to_uppercase()),
    );
    push(out, "END:VEVENT");
}

/// A UTC time in the form `20241129T020000Z`.
fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value: backslash, semicolon, comma and newlines.
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line, folded so that no line exceeds 75 octets (a fold never
/// splits a character), with CRLF.
fn push(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_long_lines_fold_without_splitting_characters() {
        assert_eq!(text("a;b,c\\d\ne"), "a\\;b\\,c\\\\d\\ne");
        let mut out = String::new();
        let long = format!("SUMMARY:{}", "碳湾".repeat(40));
        push(&mut out, &long);
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets", line.len());
        }
        assert_eq!(out.replace("\r\n ", "").trim_end(), long);
    }
}
