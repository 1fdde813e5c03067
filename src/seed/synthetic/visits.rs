//! Synthetic visits: first a compact plan per visit (when, who, what), drawn
//! enterprise by enterprise and sorted by creation time so that ids, and the
//! indexes over them, grow in insertion order; then rows, a chunk at a time, so
//! that a million visits never sit in memory as text.

use chrono::{Datelike, NaiveDateTime, TimeDelta, Weekday};
use fastrand::Rng;

use super::super::words::{self, fill};
use super::super::Records;
use super::world::{working_hours, World, SETTLE_DAYS};
use super::{pick, weighted};
use crate::db::bulk::{
    VisitEnterpriseRow, VisitInternshipBaseRow, VisitOrderClassRow, VisitParticipantRow, VisitRow,
};
use crate::domain::visit::search_text;

/// Visits per enterprise: uniform in this range, about 25 on average.
const VISITS_PER_ENTERPRISE: std::ops::RangeInclusive<usize> = 20..=30;
/// Share of visits still to come (within `FUTURE_DAYS`); the rest are history.
const FUTURE_SHARE: f64 = 0.06;
const FUTURE_DAYS: i64 = 182;
/// Share of past visits that were cancelled rather than held.
const CANCELLED_SHARE: f64 = 0.10;
/// Share of visits with a second enterprise (a park with a member company, or a
/// joint visit).
const SECOND_ENTERPRISE_SHARE: f64 = 0.10;
/// Share of visits that discuss one of the enterprise's order classes or bases.
const ITEM_SHARE: f64 = 0.20;
/// Most people on one visit: two of the college, two of the partners.
const MAX_PEOPLE: usize = 4;
const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Inbound,
    Outbound,
    Online,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Planned,
    Held,
    Cancelled,
}

/// One visit, before its text is written.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    created: NaiveDateTime,
    starts: NaiveDateTime,
    /// Minutes; 0 when no end time was recorded.
    minutes: u16,
    direction: Direction,
    status: Status,
    /// World enterprise indexes; the second is `NONE` for most visits.
    enterprises: [u32; 2],
    /// Participant rows with their roles; `NONE` rows are unused slots.
    people: [(u32, &'static str); MAX_PEOPLE],
    order_class: u32,
    internship_base: u32,
    /// Seeds the text and id of this visit, so that rows can be made in any order.
    text_seed: u64,
}

impl Plan {
    /// Rows this visit adds: itself and its links.
    pub fn rows(&self) -> usize {
        1 + self.enterprises.iter().filter(|e| **e != NONE).count()
            + self.people.iter().filter(|(p, _)| *p != NONE).count()
            + usize::from(self.order_class != NONE)
            + usize::from(self.internship_base != NONE)
    }
}

/// Plans every visit of every enterprise, ordered by creation time.
pub fn plan(world: &World, rng: &mut Rng) -> Vec<Plan> {
    let mut plans = Vec::with_capacity(world.enterprises.len() * 25);
    for e in 0..world.enterprises.len() {
        for _ in 0..rng.usize(VISITS_PER_ENTERPRISE) {
            plans.push(plan_one(world, e, rng));
        }
    }
    // Stable: equal times keep the order they were drawn in.
    plans.sort_by_key(|p| p.created);
    plans
}

fn plan_one(world: &World, e: usize, rng: &mut Rng) -> Plan {
    let today = world.today;
    let enterprise = &world.enterprises[e];
    let since_days = (enterprise.since.date() - today.date()).num_days();
    let future = rng.f64() < FUTURE_SHARE;
    let day = if future {
        weekday_on_or_after(today, rng.i64(1..=FUTURE_DAYS))
    } else {
        weekday_on_or_before(today, rng.i64(since_days + SETTLE_DAYS..=-1))
    };
    let starts = today + TimeDelta::days(day) + working_hours(rng);
    let minutes: u16 = if rng.f64() < 0.9 {
        30 * rng.u16(2..=6)
    } else {
        0
    };
    let ends = starts + TimeDelta::minutes(i64::from(minutes.max(60)));
    let status = if future {
        Status::Planned
    } else if rng.f64() < CANCELLED_SHARE {
        Status::Cancelled
    } else {
        Status::Held
    };
    // Entered when planned, or soon after the meeting for one logged afterwards.
    let created = match status {
        Status::Planned => today - TimeDelta::minutes(rng.i64(10..=60 * 24 * 60)),
        Status::Cancelled => starts - TimeDelta::minutes(rng.i64(3 * 24 * 60..=30 * 24 * 60)),
        Status::Held => (ends + TimeDelta::minutes(rng.i64(30..=3 * 24 * 60))).min(today),
    };
    let direction = weighted(
        rng,
        &[
            (Direction::Inbound, 45),
            (Direction::Outbound, 40),
            (Direction::Online, 15),
        ],
    );
    let second = (rng.f64() < SECOND_ENTERPRISE_SHARE)
        .then(|| second_enterprise(world, e, rng))
        .flatten()
        .filter(|s| world.enterprises[*s].since < starts);

    // Partner people: the visit's enterprises' own, and their member companies'.
    let mut partners: Vec<usize> = Vec::new();
    for v in std::iter::once(e).chain(second) {
        let visiting = &world.enterprises[v];
        for m in std::iter::once(v).chain(visiting.members.iter().copied()) {
            partners.extend(
                world.enterprises[m]
                    .people
                    .iter()
                    .filter(|(_, created)| *created < starts)
                    .map(|(row, _)| *row),
            );
        }
    }
    let school_host = *pick(rng, &world.school_hosts);
    let school_other = if rng.bool() {
        other_than(rng, &world.school_staff, school_host)
    } else {
        None
    };
    let partner_first = (!partners.is_empty()).then(|| partners[rng.usize(..partners.len())]);
    let partner_other = match partner_first {
        Some(first) if rng.bool() => other_than(rng, &partners, first),
        _ => None,
    };
    // The side that receives hosts: the college, unless it travels to the partner.
    let roles: [&'static str; MAX_PEOPLE] =
        if direction == Direction::Outbound && partner_first.is_some() {
            ["guest", "guest", "host", "attendee"]
        } else {
            let speaker = if rng.f64() < 0.2 { "speaker" } else { "guest" };
            ["host", "attendee", speaker, "guest"]
        };
    let mut people = [(NONE, ""); MAX_PEOPLE];
    for (slot, person) in [
        Some(school_host),
        school_other,
        partner_first,
        partner_other,
    ]
    .into_iter()
    .enumerate()
    {
        if let Some(person) = person {
            people[slot] = (person as u32, roles[slot]);
        }
    }

    let mut order_class = NONE;
    let mut internship_base = NONE;
    if rng.f64() < ITEM_SHARE {
        let discussable = |items: &[(usize, NaiveDateTime)]| -> Vec<usize> {
            items
                .iter()
                .filter(|(_, created)| *created < starts)
                .map(|(row, _)| *row)
                .collect()
        };
        if rng.bool() {
            if let Some(row) = rng.choice(discussable(&enterprise.order_classes)) {
                order_class = row as u32;
            }
        } else if let Some(row) = rng.choice(discussable(&enterprise.internship_bases)) {
            internship_base = row as u32;
        }
    }
    Plan {
        created,
        starts,
        minutes,
        direction,
        status,
        enterprises: [e as u32, second.map_or(NONE, |s| s as u32)],
        people,
        order_class,
        internship_base,
        text_seed: rng.u64(..),
    }
}

/// Someone of `people` other than `taken`, if a few draws find one (a person
/// appears in `people` once, so one other person makes that likely).
fn other_than(rng: &mut Rng, people: &[usize], taken: usize) -> Option<usize> {
    (0..8)
        .map(|_| people[rng.usize(..people.len())])
        .find(|p| *p != taken)
}

/// A park's member company, a member's park, or another partner on a joint visit.
fn second_enterprise(world: &World, e: usize, rng: &mut Rng) -> Option<usize> {
    let enterprise = &world.enterprises[e];
    let other = if let Some(member) = rng.choice(enterprise.members.iter().copied()) {
        member
    } else if let Some(park) = enterprise.parent {
        park
    } else {
        rng.usize(..world.enterprises.len())
    };
    (other != e).then_some(other)
}

fn weekday_on_or_before(today: NaiveDateTime, day: i64) -> i64 {
    match (today + TimeDelta::days(day)).weekday() {
        Weekday::Sat => day - 1,
        Weekday::Sun => day - 2,
        _ => day,
    }
}

fn weekday_on_or_after(today: NaiveDateTime, day: i64) -> i64 {
    match (today + TimeDelta::days(day)).weekday() {
        Weekday::Sat => day + 2,
        Weekday::Sun => day + 1,
        _ => day,
    }
}

/// The rows of `plans`: visits and their links.
pub fn rows(world: &World, plans: &[Plan]) -> Records {
    let mut r = Records::default();
    for plan in plans {
        add_rows(world, plan, &mut r);
    }
    r
}

fn add_rows(world: &World, plan: &Plan, r: &mut Records) {
    let mut rng = Rng::with_seed(plan.text_seed);
    let id = world.id_at(plan.created, &mut rng).to_string();
    let starts_at = plan.starts;
    let first = &world.enterprises[plan.enterprises[0] as usize];
    let short = first.short.as_str();
    let topic = if plan.order_class != NONE {
        "订单班"
    } else if plan.internship_base != NONE {
        "实习基地共建"
    } else {
        *pick(&mut rng, words::TOPICS)
    };
    let (title, location) = match plan.direction {
        Direction::Inbound => (
            if rng.bool() {
                format!("{short}来校洽谈{topic}合作")
            } else {
                format!("{short}一行来校交流")
            },
            pick(&mut rng, words::MEETING_ROOMS).to_string(),
        ),
        Direction::Outbound => (
            if rng.bool() {
                format!("赴{short}走访调研")
            } else {
                format!("赴{short}洽谈{topic}合作")
            },
            first.address.clone(),
        ),
        Direction::Online => (
            format!("与{short}线上对接{topic}"),
            pick(&mut rng, words::ONLINE_ROOMS).to_string(),
        ),
    };
    let purpose = fill(pick::<&str>(&mut rng, words::PURPOSES), topic, short);
    let (summary, outcome, follow_up, follow_up_due) = match plan.status {
        Status::Held => {
            let summary = fill(pick::<&str>(&mut rng, words::SUMMARIES), topic, short);
            let outcome = fill(pick::<&str>(&mut rng, words::OUTCOMES), topic, short);
            let follow_up = (rng.f64() < 0.6)
                .then(|| fill(pick::<&str>(&mut rng, words::FOLLOW_UPS), topic, short));
            let due = follow_up
                .as_ref()
                .map(|_| starts_at.date() + TimeDelta::days(rng.i64(7..=45)));
            (Some(summary), Some(outcome), follow_up, due)
        }
        Status::Cancelled => (
            None,
            None,
            rng.bool()
                .then(|| pick(&mut rng, words::CANCEL_NOTES).to_string()),
            None,
        ),
        Status::Planned => (None, None, None, None),
    };
    let ends_at =
        (plan.minutes > 0).then(|| starts_at + TimeDelta::minutes(i64::from(plan.minutes)));
    for e in plan.enterprises.iter().filter(|e| **e != NONE) {
        let row = world.enterprises[*e as usize].row;
        r.visit_enterprises.push(VisitEnterpriseRow {
            visit_id: id.clone(),
            enterprise_id: world.records.enterprises[row].id.clone(),
            starts_at,
        });
    }
    for (person, role) in plan.people.iter().filter(|(p, _)| *p != NONE) {
        r.visit_participants.push(VisitParticipantRow {
            visit_id: id.clone(),
            participant_id: world.records.participants[*person as usize].id.clone(),
            role,
            starts_at,
        });
    }
    if plan.order_class != NONE {
        r.visit_order_classes.push(VisitOrderClassRow {
            visit_id: id.clone(),
            order_class_id: world.records.order_classes[plan.order_class as usize]
                .id
                .clone(),
        });
    }
    if plan.internship_base != NONE {
        r.visit_internship_bases.push(VisitInternshipBaseRow {
            visit_id: id.clone(),
            internship_base_id: world.records.internship_bases[plan.internship_base as usize]
                .id
                .clone(),
        });
    }
    let search_text = search_text([
        Some(&title),
        Some(&purpose),
        summary.as_deref(),
        outcome.as_deref(),
    ]);
    r.visits.push(VisitRow {
        id,
        title,
        starts_at,
        ends_at,
        direction: match plan.direction {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::Online => "online",
        },
        location: Some(location),
        purpose: Some(purpose),
        summary,
        outcome,
        follow_up,
        follow_up_due,
        status: match plan.status {
            Status::Planned => "planned",
            Status::Held => "held",
            Status::Cancelled => "cancelled",
        },
        search_text,
        created_at: plan.created,
        updated_at: plan.created,
        version: 1,
    });
}
