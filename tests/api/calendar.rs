//! `GET /api/v1/visits.ics`: the visits calendar, and its feed tokens.

use icalendar::{Component, EventLike};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{backend_tests, id_of, TestApp};

backend_tests!(
    the_feed_is_valid_icalendar,
    feed_tokens_read_the_feed_and_nothing_else
);

const FEED: &str = "/api/v1/visits.ics";

async fn visit(app: &TestApp, body: serde_json::Value) -> serde_json::Value {
    app.post("/api/v1/visits", &body).await.expect(201).body
}

async fn the_feed_is_valid_icalendar(app: TestApp) {
    let park = app
        .enterprise(json!({"name": "Carbonbay Industrial Park"}))
        .await;
    let held = visit(
        &app,
        json!({
            "title": "Carbonbay park delegation; order class, bases",
            "starts_at": "2024-11-29T02:00:00Z",
            "ends_at": "2024-11-29T04:30:00Z",
            "direction": "inbound",
            "status": "held",
            "location": "Admin building, room 301",
            "summary": format!("{}\nSecond line", "碳湾产业园".repeat(20)),
            "enterprise_ids": [id_of(&park)],
        }),
    )
    .await;
    let cancelled = visit(
        &app,
        json!({"title": "Return visit", "starts_at": "2025-01-10T06:00:00Z",
               "direction": "outbound", "status": "cancelled", "enterprise_ids": [id_of(&park)]}),
    )
    .await;
    let response = app.get(FEED).await.expect(200);
    assert_eq!(
        response.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    let text = &response.text;
    assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:"));
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "a line of {} octets: {line}", line.len());
        assert!(!line.contains('\n'), "a bare newline");
    }
    let unfolded = text.replace("\r\n ", "");
    assert_eq!(unfolded.matches("BEGIN:VEVENT").count(), 2);
    assert!(unfolded.contains(&format!("UID:{}@liaison\r\n", id_of(&held))));
    assert!(unfolded.contains("DTSTART:20241129T020000Z\r\nDTEND:20241129T043000Z\r\n"));
    assert!(unfolded.contains("SUMMARY:Carbonbay park delegation\\; order class\\, bases\r\n"));
    assert!(unfolded.contains("LOCATION:Admin building\\, room 301\r\n"));
    assert!(unfolded.contains("\\nSecond line"));
    assert!(unfolded.contains("STATUS:CONFIRMED\r\n"));
    // A cancelled visit stays in the feed, marked cancelled, with a default hour.
    let cancelled_event = unfolded
        .split("BEGIN:VEVENT")
        .find(|e| e.contains(&id_of(&cancelled)))
        .expect("the cancelled visit");
    assert!(cancelled_event.contains("STATUS:CANCELLED"));
    assert!(cancelled_event.contains("DTEND:20250110T070000Z"));
    // An iCalendar parser reads it back, values unescaped and unfolded.
    let parsed: icalendar::Calendar = text.parse().expect("the icalendar crate parses the feed");
    let events: Vec<&icalendar::Event> = parsed
        .components
        .iter()
        .filter_map(|c| match c {
            icalendar::CalendarComponent::Event(event) => Some(event),
            _ => None,
        })
        .collect();
    assert_eq!(events.len(), 2);
    let event = events
        .iter()
        .find(|e| e.get_uid() == Some(format!("{}@liaison", id_of(&held)).as_str()))
        .expect("the held visit's event");
    assert_eq!(
        event.get_summary(),
        Some("Carbonbay park delegation; order class, bases")
    );
    assert_eq!(event.get_location(), Some("Admin building, room 301"));
    assert_eq!(
        event
            .get_description()
            .map(|d| d.ends_with("\nSecond line")),
        Some(true),
        "{:?}",
        event.get_description()
    );
    assert_eq!(
        event.get_start(),
        Some(icalendar::DatePerhapsTime::DateTime(
            icalendar::CalendarDateTime::Utc(
                chrono::DateTime::parse_from_rfc3339("2024-11-29T02:00:00Z")
                    .expect("time")
                    .to_utc()
            )
        ))
    );
    assert_eq!(event.get_status(), Some(icalendar::EventStatus::Confirmed));
    let cancelled_uid = format!("{}@liaison", id_of(&cancelled));
    assert!(events
        .iter()
        .any(|e| e.get_uid() == Some(cancelled_uid.as_str())
            && e.get_status() == Some(icalendar::EventStatus::Cancelled)));
    // The UID is stable: an edit changes the event, not its identity.
    app.patch(
        &format!("/api/v1/visits/{}", id_of(&held)),
        &json!({"location": "Room 302"}),
    )
    .await
    .expect(200);
    let again = app.get(FEED).await.expect(200).text.replace("\r\n ", "");
    assert!(again.contains(&format!("UID:{}@liaison\r\n", id_of(&held))));
    assert!(again.contains("LOCATION:Room 302\r\nDESCRIPTION"));
    assert!(again.contains("SEQUENCE:1\r\n"));
    // The visit list's filters apply.
    let held_only = app
        .get(&format!("{FEED}?status=held"))
        .await
        .expect(200)
        .text;
    assert_eq!(held_only.matches("BEGIN:VEVENT").count(), 1);
    let errors = app
        .get(&format!("{FEED}?status=done"))
        .await
        .field_errors(400);
    assert_eq!(errors[0].0, "status");
    app.get(&format!("{FEED}?limit=5")).await.problem(400);
    app.get(&format!("{FEED}?colour=red")).await.problem(400);
}

async fn feed_tokens_read_the_feed_and_nothing_else(app: TestApp) {
    let feed = app.token("calendar", "feed").await;
    let viewer = app.token("dashboard", "viewer").await;
    let with_query = format!("{FEED}?token={feed}");
    let response = app
        .request_as(None, Method::GET, &with_query, None, &[])
        .await
        .expect(200);
    assert!(response.text.starts_with("BEGIN:VCALENDAR"));
    // The feed token in the header works for the feed too, and for nothing else.
    app.request_as(Some(&feed), Method::GET, FEED, None, &[])
        .await
        .expect(200);
    let problem = app
        .request_as(Some(&feed), Method::GET, "/api/v1/visits", None, &[])
        .await
        .problem(403);
    assert_eq!(problem["required_role"], "viewer");
    // A token in the query string counts only on the feed.
    app.request_as(
        None,
        Method::GET,
        &format!("/api/v1/visits?token={feed}"),
        None,
        &[],
    )
    .await
    .problem(401);
    // Other roles use the header, and only there: their secrets stay out of URLs.
    app.request_as(Some(&viewer), Method::GET, FEED, None, &[])
        .await
        .expect(200);
    for token in [&viewer, &app.admin_token] {
        let problem = app
            .request_as(
                None,
                Method::GET,
                &format!("{FEED}?token={token}"),
                None,
                &[],
            )
            .await
            .problem(401);
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("only a `feed` token")),
            "{problem}"
        );
    }
    // One token, not two.
    app.request_as(
        None,
        Method::GET,
        &format!("{with_query}&token={feed}"),
        None,
        &[],
    )
    .await
    .problem(401);
    // A wrong query token is refused.
    app.request_as(None, Method::GET, FEED, None, &[])
        .await
        .problem(401);
    app.request_as(
        None,
        Method::GET,
        &format!("{FEED}?token={}x", &feed),
        None,
        &[],
    )
    .await
    .problem(401);
    // Revoked, the feed stops at once.
    let tokens = app.get("/api/v1/tokens").await.expect(200).body;
    let id = tokens["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|t| t["name"] == "calendar")
        .map(id_of)
        .expect("the feed token");
    app.delete(&format!("/api/v1/tokens/{id}"))
        .await
        .expect(200);
    app.request_as(None, Method::GET, &with_query, None, &[])
        .await
        .problem(401);
}
