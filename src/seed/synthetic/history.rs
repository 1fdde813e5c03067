//! Synthetic stage histories: the moves that brought each enterprise, order class and
//! base from `intention` to the stage the world drew for it, each checked by the
//! stage machine the API uses, so that an item's `stage` and `stage_changed_at` are
//! those of its last move, as if every move had been made through the API.

use std::collections::HashMap;

use chrono::{NaiveDateTime, TimeDelta};
use fastrand::Rng;

use super::super::SeedError;
use super::world::World;
use crate::db::bulk::StageTransitionRow;
use crate::domain::stage::Stage;
use crate::domain::stage_machine::{self, Evidence, SubjectKind};

/// Chance that a move forward stops at a stage on the way instead of skipping it:
/// one half gives about 0.06 moves per visit (60 000 for a million visits).
const STOP_ON_THE_WAY: f64 = 0.5;
const TERMINATE_NOTE: &str = "企业经营调整，合作终止";

/// One move of one item.
#[derive(Debug, Clone, Copy)]
pub struct Move {
    pub from: Stage,
    pub to: Stage,
    pub at: NaiveDateTime,
}

/// Every item's moves, indexed like the item rows in `Records`.
#[derive(Debug, Default)]
pub struct Histories {
    pub enterprises: Vec<Vec<Move>>,
    pub order_classes: Vec<Vec<Move>>,
    pub internship_bases: Vec<Vec<Move>>,
}

impl Histories {
    /// When the item was first moved to a stage that needs an agreement: the day its
    /// agreement was signed.
    pub fn signed_at(&self, kind: SubjectKind, row: usize) -> Option<NaiveDateTime> {
        let moves = match kind {
            SubjectKind::Enterprise => &self.enterprises,
            SubjectKind::OrderClass => &self.order_classes,
            SubjectKind::InternshipBase => &self.internship_bases,
        };
        moves
            .get(row)?
            .iter()
            .find(|m| m.to.needs_agreement())
            .map(|m| m.at)
    }
}

/// Draws a history for every item of the world and sets the item's stage columns
/// (`stage_changed_at`, `updated_at`, `version`) to what those moves leave behind.
/// Items start at `intention` when created; one still there has no history.
pub fn draw(world: &mut World, rng: &mut Rng) -> Result<Histories, SeedError> {
    let today = world.today;
    let r = &mut world.records;
    let mut histories = Histories::default();
    for e in &mut r.enterprises {
        let moves = moves_to(parse(e.stage)?, e.created_at, today, rng);
        if let Some(last) = moves.last() {
            (e.stage_changed_at, e.updated_at) = (last.at, last.at);
            e.version += moves.len() as i64;
        }
        histories.enterprises.push(moves);
    }
    for c in &mut r.order_classes {
        let moves = moves_to(parse(c.stage)?, c.created_at, today, rng);
        if let Some(last) = moves.last() {
            (c.stage_changed_at, c.updated_at) = (last.at, last.at);
            c.version += moves.len() as i64;
        }
        histories.order_classes.push(moves);
    }
    for b in &mut r.internship_bases {
        let moves = moves_to(parse(b.stage)?, b.created_at, today, rng);
        if let Some(last) = moves.last() {
            (b.stage_changed_at, b.updated_at) = (last.at, last.at);
            b.version += moves.len() as i64;
        }
        histories.internship_bases.push(moves);
    }
    Ok(histories)
}

fn parse(stage: &str) -> Result<Stage, SeedError> {
    stage
        .parse()
        .map_err(|_| SeedError::Data(format!("stage {stage:?}")))
}

/// The moves from `intention` at `created` to `target`, at increasing times before
/// `today`. Forward moves may skip stages; a termination comes from `intention` or
/// `negotiation`, so that no terminated item needs an agreement it does not have.
fn moves_to(
    target: Stage,
    created: NaiveDateTime,
    today: NaiveDateTime,
    rng: &mut Rng,
) -> Vec<Move> {
    let mut stages = Vec::new();
    match target {
        Stage::Intention => {}
        Stage::Terminated => {
            if rng.bool() {
                stages.push(Stage::Negotiation);
            }
            stages.push(Stage::Terminated);
        }
        _ => {
            stages.extend(
                Stage::ALL
                    .iter()
                    .copied()
                    .skip_while(|s| *s != Stage::Negotiation)
                    .take_while(|s| *s != target)
                    .filter(|_| rng.f64() < STOP_ON_THE_WAY),
            );
            stages.push(target);
        }
    }
    // Minutes after creation, spread over the time up to today.
    let span = (today - created).num_minutes().max(2);
    let mut offsets: Vec<i64> = stages.iter().map(|_| rng.i64(1..span)).collect();
    offsets.sort_unstable();
    let mut from = Stage::Intention;
    stages
        .into_iter()
        .zip(offsets)
        .map(|(to, minutes)| {
            let m = Move {
                from,
                to,
                at: created + TimeDelta::minutes(minutes),
            };
            from = to;
            m
        })
        .collect()
}

/// The stage transition rows of every history, each move checked against the stage
/// machine with the evidence it cites: the agreement that covers the item (an
/// enterprise's framework agreement), and a note for a termination.
pub fn rows(
    world: &World,
    histories: &Histories,
    rng: &mut Rng,
) -> Result<Vec<StageTransitionRow>, SeedError> {
    let r = &world.records;
    let mut framework = HashMap::new();
    let mut covering = HashMap::new();
    for a in &r.agreements {
        match (a.kind, &a.order_class_id, &a.internship_base_id) {
            ("framework", _, _) => {
                framework.entry(a.enterprise_id.as_str()).or_insert(&a.id);
            }
            (_, Some(item), _) | (_, None, Some(item)) => {
                covering.insert(item.as_str(), &a.id);
            }
            _ => {}
        }
    }
    let items = r
        .enterprises
        .iter()
        .zip(&histories.enterprises)
        .map(|(e, moves)| (SubjectKind::Enterprise, &e.id, &e.id, 0, moves))
        .chain(
            r.order_classes
                .iter()
                .zip(&histories.order_classes)
                .map(|(c, moves)| {
                    let kind = SubjectKind::OrderClass;
                    (kind, &c.id, &c.enterprise_id, c.enrolled_count, moves)
                }),
        )
        .chain(
            r.internship_bases
                .iter()
                .zip(&histories.internship_bases)
                .map(|(b, moves)| {
                    let kind = SubjectKind::InternshipBase;
                    (kind, &b.id, &b.enterprise_id, b.capacity, moves)
                }),
        );
    let mut rows = Vec::new();
    for (kind, id, enterprise_id, headcount, moves) in items {
        let agreement = match kind {
            SubjectKind::Enterprise => framework.get(id.as_str()),
            _ => covering.get(id.as_str()),
        };
        for m in moves {
            let note = (m.to == Stage::Terminated).then_some(TERMINATE_NOTE);
            let agreement = agreement.filter(|_| m.to.needs_agreement());
            let evidence = Evidence {
                note: note.is_some(),
                agreement: agreement.is_some(),
                headcount,
            };
            stage_machine::check(kind, m.from, m.to, &evidence).map_err(|refusal| {
                SeedError::Data(format!("{kind} {id}: {} → {}: {refusal:?}", m.from, m.to))
            })?;
            rows.push(StageTransitionRow {
                id: world.id_at(m.at, rng).to_string(),
                subject_kind: kind.as_str(),
                subject_id: id.clone(),
                enterprise_id: enterprise_id.clone(),
                from_stage: Some(m.from.as_str()),
                to_stage: m.to.as_str(),
                occurred_at: m.at,
                // Entered in the office the same day.
                recorded_at: (m.at + TimeDelta::minutes(rng.i64(5..=240))).min(world.today),
                actor: None,
                note: note.map(String::from),
                visit_id: None,
                agreement_id: agreement.map(|a| (*a).clone()),
            });
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::NaiveDate;

    use super::super::Options;
    use super::*;
    use crate::db::bulk::TakenNames;

    #[test]
    fn every_item_ends_where_its_history_does() {
        let options = Options {
            enterprises: 400,
            rng_seed: 9,
            force: false,
            today: NaiveDate::from_ymd_opt(2026, 3, 2).expect("a date"),
        };
        let world = World::generate(&options, &mut Rng::with_seed(9), &TakenNames::default())
            .expect("generates");
        let r = &world.records;
        // About 60 000 moves for 40 000 enterprises (a million visits).
        let moves = r.stage_transitions.len();
        assert!((400..=800).contains(&moves), "{moves} moves");

        let signed_on: HashMap<&str, NaiveDate> = r
            .agreements
            .iter()
            .filter_map(|a| Some((a.id.as_str(), a.signed_on?)))
            .collect();
        let mut last: HashMap<&str, &StageTransitionRow> = HashMap::new();
        for t in &r.stage_transitions {
            assert!(t.occurred_at < world.today && t.recorded_at <= world.today);
            assert!(t.recorded_at >= t.occurred_at);
            let previous = last.insert(t.subject_id.as_str(), t);
            match previous {
                Some(p) => {
                    assert_eq!(t.from_stage, Some(p.to_stage), "{t:?}");
                    assert!(t.occurred_at >= p.occurred_at, "{t:?}");
                }
                None => assert_eq!(t.from_stage, Some("intention"), "{t:?}"),
            }
            if let Some(agreement) = &t.agreement_id {
                assert!(
                    signed_on[agreement.as_str()] <= t.occurred_at.date(),
                    "{t:?}"
                );
            }
        }
        let items = r
            .enterprises
            .iter()
            .map(|e| (&e.id, e.stage, e.stage_changed_at, e.created_at, e.version))
            .chain(
                r.order_classes
                    .iter()
                    .map(|c| (&c.id, c.stage, c.stage_changed_at, c.created_at, c.version)),
            )
            .chain(
                r.internship_bases
                    .iter()
                    .map(|b| (&b.id, b.stage, b.stage_changed_at, b.created_at, b.version)),
            );
        let mut stages = HashMap::new();
        for (id, stage, changed_at, created_at, version) in items {
            *stages.entry(stage).or_insert(0) += 1;
            let moved = r
                .stage_transitions
                .iter()
                .filter(|t| &t.subject_id == id)
                .count();
            assert_eq!(version, 1 + moved as i64, "{id}");
            match last.get(id.as_str()) {
                Some(t) => {
                    assert_eq!((t.to_stage, t.occurred_at), (stage, changed_at), "{id}");
                    assert!(t.occurred_at > created_at);
                }
                None => assert_eq!(("intention", created_at), (stage, changed_at), "{id}"),
            }
        }
        assert_eq!(
            stages.len(),
            6,
            "every stage is held by some item: {stages:?}"
        );
    }
}
