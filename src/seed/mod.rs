//! `liaison seed`: a demo data set from a real visit, or a large synthetic one for
//! load and performance work. Records are composed here and written through
//! `db::bulk`; the command line in `command` is a thin layer over [`demo`] and
//! [`synthetic`].

pub mod command;
mod demo;
pub mod progress;
mod synthetic;
mod words;

use std::fmt;
use std::time::Duration;

use chrono::NaiveDateTime;
use uuid::Uuid;

use crate::db::{self, bulk, DbConn};
use crate::domain::ids::EnterpriseId;

pub use demo::demo;
pub use progress::{Progress, Silent};
pub use synthetic::{synthetic, Options};

/// Why seeding did not happen or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(
        "the database already holds {enterprises} enterprise(s): seeding is meant for an empty \
         database; force it (--force) to add the data beside what is there"
    )]
    NotEmpty { enterprises: i64 },
    #[error("enterprises with these names already exist, so the demo was not loaded: {}", names.join(", "))]
    DuplicateNames { names: Vec<String> },
    /// A built-in record does not fit its own rules: a bug in the seed data.
    #[error("seed data: {0}")]
    Data(String),
    #[error(transparent)]
    Db(#[from] db::Error),
}

impl From<diesel::result::Error> for SeedError {
    fn from(error: diesel::result::Error) -> Self {
        SeedError::Db(db::Error::Query(error))
    }
}

/// What a seed run wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub enterprises: usize,
    pub participants: usize,
    pub order_classes: usize,
    pub internship_bases: usize,
    pub agreements: usize,
    pub visits: usize,
    pub visit_enterprises: usize,
    pub visit_participants: usize,
    pub visit_order_classes: usize,
    pub visit_internship_bases: usize,
    pub stage_transitions: usize,
    /// The demo's industrial park.
    pub park_id: Option<EnterpriseId>,
    /// The seed of a synthetic run, to repeat it.
    pub rng_seed: Option<u64>,
    pub elapsed: Duration,
}

impl Summary {
    /// Every row written, links included.
    pub fn rows(&self) -> usize {
        self.enterprises
            + self.participants
            + self.order_classes
            + self.internship_bases
            + self.agreements
            + self.visits
            + self.visit_enterprises
            + self.visit_participants
            + self.visit_order_classes
            + self.visit_internship_bases
            + self.stage_transitions
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = [
            ("enterprises", self.enterprises),
            ("participants", self.participants),
            ("order classes", self.order_classes),
            ("internship bases", self.internship_bases),
            ("agreements", self.agreements),
            ("visits", self.visits),
            ("visit enterprises", self.visit_enterprises),
            ("visit participants", self.visit_participants),
            ("visit order classes", self.visit_order_classes),
            ("visit internship bases", self.visit_internship_bases),
            ("stage transitions", self.stage_transitions),
        ];
        for (what, count) in lines {
            writeln!(f, "{what:>24}: {count}")?;
        }
        let seconds = self.elapsed.as_secs_f64();
        write!(f, "{:>24}: {} in {seconds:.1} s", "rows", self.rows())?;
        if seconds > 0.0 {
            write!(f, " ({:.0} rows/s)", self.rows() as f64 / seconds)?;
        }
        if let Some(park) = self.park_id {
            write!(f, "\n{:>24}: {park}", "park id")?;
        }
        if let Some(seed) = self.rng_seed {
            write!(
                f,
                "\n{:>24}: {seed} (--rng-seed {seed} repeats this run)",
                "rng seed"
            )?;
        }
        Ok(())
    }
}

/// Rows of every table, ready to insert (parents before children).
#[derive(Debug, Default)]
pub(crate) struct Records {
    enterprises: Vec<bulk::EnterpriseRow>,
    participants: Vec<bulk::ParticipantRow>,
    order_classes: Vec<bulk::OrderClassRow>,
    internship_bases: Vec<bulk::InternshipBaseRow>,
    agreements: Vec<bulk::AgreementRow>,
    visits: Vec<bulk::VisitRow>,
    visit_enterprises: Vec<bulk::VisitEnterpriseRow>,
    visit_participants: Vec<bulk::VisitParticipantRow>,
    visit_order_classes: Vec<bulk::VisitOrderClassRow>,
    visit_internship_bases: Vec<bulk::VisitInternshipBaseRow>,
    /// The moves that brought every item to its stage.
    stage_transitions: Vec<bulk::StageTransitionRow>,
}

impl Records {
    fn rows(&self) -> usize {
        self.enterprises.len()
            + self.participants.len()
            + self.order_classes.len()
            + self.internship_bases.len()
            + self.agreements.len()
            + self.visits.len()
            + self.visit_enterprises.len()
            + self.visit_participants.len()
            + self.visit_order_classes.len()
            + self.visit_internship_bases.len()
            + self.stage_transitions.len()
    }

    /// Inserts every row, in an order that satisfies the foreign keys, and adds
    /// the counts to `summary`. The caller owns the transaction.
    fn insert(
        &self,
        conn: &mut DbConn,
        summary: &mut Summary,
        progress: &mut dyn Progress,
    ) -> Result<(), SeedError> {
        fn step<R: bulk::BulkRow>(
            conn: &mut DbConn,
            rows: &[R],
            count: &mut usize,
            progress: &mut dyn Progress,
        ) -> Result<(), SeedError> {
            let inserted = bulk::insert(conn, rows)?;
            *count += inserted;
            progress.advance(inserted as u64);
            Ok(())
        }
        step(conn, &self.enterprises, &mut summary.enterprises, progress)?;
        step(
            conn,
            &self.participants,
            &mut summary.participants,
            progress,
        )?;
        step(
            conn,
            &self.order_classes,
            &mut summary.order_classes,
            progress,
        )?;
        step(
            conn,
            &self.internship_bases,
            &mut summary.internship_bases,
            progress,
        )?;
        step(conn, &self.agreements, &mut summary.agreements, progress)?;
        step(conn, &self.visits, &mut summary.visits, progress)?;
        step(
            conn,
            &self.visit_enterprises,
            &mut summary.visit_enterprises,
            progress,
        )?;
        step(
            conn,
            &self.visit_participants,
            &mut summary.visit_participants,
            progress,
        )?;
        step(
            conn,
            &self.visit_order_classes,
            &mut summary.visit_order_classes,
            progress,
        )?;
        step(
            conn,
            &self.visit_internship_bases,
            &mut summary.visit_internship_bases,
            progress,
        )?;
        step(
            conn,
            &self.stage_transitions,
            &mut summary.stage_transitions,
            progress,
        )?;
        Ok(())
    }
}

/// Refuses a database that already has enterprises, unless forced.
fn ensure_empty(conn: &mut DbConn, force: bool) -> Result<(), SeedError> {
    if force {
        return Ok(());
    }
    let enterprises = bulk::enterprise_count(conn)?;
    if enterprises > 0 {
        return Err(SeedError::NotEmpty { enterprises });
    }
    Ok(())
}

/// A time-ordered (v7) id for a record created at `at`, its random part drawn
/// from `random`: synthetic ids follow the records' history and repeat with the seed.
fn id_at(at: NaiveDateTime, random: [u8; 10]) -> Uuid {
    let millis = u64::try_from(at.and_utc().timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashSet;

    use super::Records;
    use crate::domain::enterprise::{EnterpriseFields, EnterpriseInput};
    use crate::domain::participant::{ParticipantFields, ParticipantInput};

    /// Every enterprise and participant passes the rules a client's request faces,
    /// and is stored as those rules would store it; names and credit codes are unique.
    pub(crate) fn assert_valid(records: &Records) {
        let mut keys = HashSet::new();
        let mut codes = HashSet::new();
        for e in &records.enterprises {
            let fields = EnterpriseFields::parse(EnterpriseInput {
                name: Some(e.name.clone()),
                credit_code: e.credit_code.clone(),
                kind: e.kind.parse().ok(),
                industry: e.industry.clone(),
                region: e.region.clone(),
                address: e.address.clone(),
                website: e.website.clone(),
                description: e.description.clone(),
                parent_id: e.parent_id.as_deref().and_then(|p| p.parse().ok()),
            })
            .unwrap_or_else(|err| panic!("{}: {err:?}", e.name));
            assert_eq!(
                (
                    &fields.name,
                    &fields.name_key,
                    fields.credit_code.map(|c| c.to_string()),
                    &fields.industry,
                    &fields.region,
                    &fields.address,
                    &fields.website,
                    &fields.description,
                ),
                (
                    &e.name,
                    &e.name_key,
                    e.credit_code.clone(),
                    &e.industry,
                    &e.region,
                    &e.address,
                    &e.website,
                    &e.description,
                ),
                "{} is stored as the API would store it",
                e.name
            );
            assert_eq!(fields.parent_id.is_some(), e.parent_id.is_some());
            assert!(keys.insert(&e.name_key), "{} is unique", e.name);
            if let Some(code) = &e.credit_code {
                assert!(codes.insert(code), "{code} is unique");
            }
        }
        for p in &records.participants {
            let fields = ParticipantFields::parse(ParticipantInput {
                full_name: Some(p.full_name.clone()),
                side: p.side.parse().ok(),
                enterprise_id: p.enterprise_id.as_deref().and_then(|e| e.parse().ok()),
                title: p.title.clone(),
                department: p.department.clone(),
                email: p.email.clone(),
                phone: p.phone.clone(),
                notes: p.notes.clone(),
            })
            .unwrap_or_else(|err| panic!("{}: {err:?}", p.full_name));
            assert_eq!(
                (
                    &fields.full_name,
                    &fields.name_key,
                    &fields.email,
                    &fields.title
                ),
                (&p.full_name, &p.name_key, &p.email, &p.title),
            );
        }
    }
}
