//! The queries an import needs beyond the API's own: records named by credit code or
//! name rather than id, and the record a row duplicates.

use std::collections::HashMap;

use diesel::prelude::*;

use super::columns::Target;
use crate::db::schema::{
    agreements, enterprises, internship_bases, order_classes, participants, visits,
};
use crate::db::{self, DbConn};
use crate::domain::credit_code::CreditCode;
use crate::domain::name;

/// What a reference in a cell names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    One(String),
    None,
    /// Several records answer to the name; the count found (at most 2 are looked for).
    Many,
}

/// Looks references up, remembering what it found: a file names the same few
/// enterprises over and over. Misses are not remembered, since a later row of the
/// same file may create the record.
#[derive(Default)]
pub struct Resolver {
    found: HashMap<(Target, String, Vec<String>), String>,
}

impl Resolver {
    /// The record of kind `target` that `value` names. `within` narrows names of
    /// order classes and bases to these enterprises' when it is not empty.
    pub fn resolve(
        &mut self,
        conn: &mut DbConn,
        target: Target,
        value: &str,
        within: &[String],
    ) -> db::Result<Found> {
        let key = (target, value.to_string(), within.to_vec());
        if let Some(id) = self.found.get(&key) {
            return Ok(Found::One(id.clone()));
        }
        let found = find(conn, target, value, within)?;
        if let Found::One(id) = &found {
            self.found.insert(key, id.clone());
        }
        Ok(found)
    }
}

fn one(ids: Vec<String>) -> Found {
    match ids.len() {
        0 => Found::None,
        1 => ids.into_iter().next().map_or(Found::None, Found::One),
        _ => Found::Many,
    }
}

fn find(conn: &mut DbConn, target: Target, value: &str, within: &[String]) -> db::Result<Found> {
    let value = value.trim();
    if uuid::Uuid::parse_str(value).is_ok() {
        return by_id(conn, target, value);
    }
    let key = name::key(value);
    let ids: Vec<String> = match target {
        Target::Enterprise => {
            use enterprises::dsl as e;
            if let Ok(code) = CreditCode::parse(value) {
                let by_code = e::enterprises
                    .filter(e::credit_code.eq(code.as_str()))
                    .select(e::id)
                    .limit(2)
                    .load(conn)?;
                if !by_code.is_empty() {
                    return Ok(one(by_code));
                }
            }
            e::enterprises
                .filter(e::name_key.eq(&key))
                .select(e::id)
                .limit(2)
                .load(conn)?
        }
        Target::Participant => {
            use participants::dsl as p;
            if value.contains('@') {
                p::participants
                    .filter(p::email.eq(value))
                    .select(p::id)
                    .limit(2)
                    .load(conn)?
            } else {
                p::participants
                    .filter(p::name_key.eq(&key))
                    .select(p::id)
                    .limit(2)
                    .load(conn)?
            }
        }
        Target::OrderClass => {
            use order_classes::dsl as o;
            let mut query = o::order_classes
                .filter(o::name_key.eq(&key))
                .select(o::id)
                .limit(2)
                .into_boxed();
            if !within.is_empty() {
                query = query.filter(o::enterprise_id.eq_any(within));
            }
            query.load(conn)?
        }
        Target::InternshipBase => {
            use internship_bases::dsl as b;
            let mut query = internship_bases::table
                .filter(b::name_key.eq(&key))
                .select(b::id)
                .limit(2)
                .into_boxed();
            if !within.is_empty() {
                query = query.filter(b::enterprise_id.eq_any(within));
            }
            query.load(conn)?
        }
        Target::Agreement => {
            use agreements::dsl as a;
            let by_number: Vec<String> = a::agreements
                .filter(a::number.eq(value))
                .select(a::id)
                .limit(2)
                .load(conn)?;
            if by_number.is_empty() {
                a::agreements
                    .filter(a::title_key.eq(&key))
                    .select(a::id)
                    .limit(2)
                    .load(conn)?
            } else {
                by_number
            }
        }
        // Visits have no name to go by.
        Target::Visit => Vec::new(),
    };
    Ok(one(ids))
}

fn by_id(conn: &mut DbConn, target: Target, id: &str) -> db::Result<Found> {
    let found: Option<String> = match target {
        Target::Enterprise => enterprises::table
            .find(id)
            .select(enterprises::id)
            .first(conn)
            .optional()?,
        Target::Participant => participants::table
            .find(id)
            .select(participants::id)
            .first(conn)
            .optional()?,
        Target::OrderClass => order_classes::table
            .find(id)
            .select(order_classes::id)
            .first(conn)
            .optional()?,
        Target::InternshipBase => internship_bases::table
            .find(id)
            .select(internship_bases::id)
            .first(conn)
            .optional()?,
        Target::Agreement => agreements::table
            .find(id)
            .select(agreements::id)
            .first(conn)
            .optional()?,
        Target::Visit => visits::table
            .find(id)
            .select(visits::id)
            .first(conn)
            .optional()?,
    };
    Ok(found.map_or(Found::None, Found::One))
}

/// Whether a record of kind `target` has this id.
pub fn exists(conn: &mut DbConn, target: Target, id: &str) -> db::Result<bool> {
    Ok(matches!(by_id(conn, target, id)?, Found::One(_)))
}

/// The enterprise with this credit code, or else with this name key.
pub fn enterprise_like(
    conn: &mut DbConn,
    credit_code: Option<&str>,
    name_key: &str,
) -> db::Result<Option<String>> {
    use enterprises::dsl as e;
    if let Some(code) = credit_code {
        let by_code = e::enterprises
            .filter(e::credit_code.eq(code))
            .select(e::id)
            .first(conn)
            .optional()?;
        if by_code.is_some() {
            return Ok(by_code);
        }
    }
    Ok(e::enterprises
        .filter(e::name_key.eq(name_key))
        .select(e::id)
        .first(conn)
        .optional()?)
}

/// The participant on the same side, of the same enterprise, with this name key.
pub fn participant_like(
    conn: &mut DbConn,
    side: &str,
    enterprise: Option<&str>,
    name_key: &str,
) -> db::Result<Option<String>> {
    use participants::dsl as p;
    let query = p::participants
        .filter(p::side.eq(side))
        .filter(p::name_key.eq(name_key))
        .select(p::id)
        .into_boxed();
    let query = match enterprise {
        Some(enterprise) => query.filter(p::enterprise_id.eq(enterprise)),
        None => query.filter(p::enterprise_id.is_null()),
    };
    Ok(query.first(conn).optional()?)
}

/// The visit with this title starting at this time.
pub fn visit_like(
    conn: &mut DbConn,
    title: &str,
    starts_at: chrono::NaiveDateTime,
) -> db::Result<Option<String>> {
    use visits::dsl as v;
    Ok(v::visits
        .filter(v::starts_at.eq(starts_at))
        .filter(v::title.eq(title))
        .select(v::id)
        .first(conn)
        .optional()?)
}

/// The order class of this enterprise with this name key.
pub fn order_class_like(
    conn: &mut DbConn,
    enterprise: &str,
    name_key: &str,
) -> db::Result<Option<String>> {
    use order_classes::dsl as o;
    Ok(o::order_classes
        .filter(o::enterprise_id.eq(enterprise))
        .filter(o::name_key.eq(name_key))
        .select(o::id)
        .first(conn)
        .optional()?)
}

/// The internship base of this enterprise with this name key.
pub fn internship_base_like(
    conn: &mut DbConn,
    enterprise: &str,
    name_key: &str,
) -> db::Result<Option<String>> {
    use internship_bases::dsl as b;
    Ok(internship_bases::table
        .filter(b::enterprise_id.eq(enterprise))
        .filter(b::name_key.eq(name_key))
        .select(b::id)
        .first(conn)
        .optional()?)
}

/// The agreement of this enterprise with this number, or else with this title key.
pub fn agreement_like(
    conn: &mut DbConn,
    enterprise: &str,
    number: Option<&str>,
    title_key: &str,
) -> db::Result<Option<String>> {
    use agreements::dsl as a;
    if let Some(number) = number {
        return Ok(a::agreements
            .filter(a::enterprise_id.eq(enterprise))
            .filter(a::number.eq(number))
            .select(a::id)
            .first(conn)
            .optional()?);
    }
    Ok(a::agreements
        .filter(a::enterprise_id.eq(enterprise))
        .filter(a::title_key.eq(title_key))
        .select(a::id)
        .first(conn)
        .optional()?)
}
