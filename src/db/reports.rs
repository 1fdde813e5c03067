//! Managers' reports: each is one aggregate query, counted and grouped by the database.

use chrono::{Days, NaiveDate, NaiveDateTime};
use diesel::dsl::{count, count_star, max, min};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Double, Nullable, Text, Timestamp};

use super::one_of::one_of;
use super::schema::{
    agreements, enterprises, internship_bases, order_classes, visit_enterprises, visits,
};
use super::{keyset, stored, utc, DbConn, Result};
use crate::domain::page::Page;
use crate::domain::report::{
    Activity, ActivityFilter, ActivityGroup, ActivityRow, ExpiringAgreement, ExpiringFilter,
    ExpiringItem, Funnel, FunnelFilter, ItemKind, Named, Pipeline, Scope, StageFigures,
    StalledFilter, StalledItem,
};
use crate::domain::stage::Stage;
use crate::domain::visit::VisitStatus;
use crate::domain::{self};

// Report rows name an item together with its enterprise, grouped by both ids; the
// other columns depend on those ids (primary keys), which both backends accept.
diesel::allow_columns_to_appear_in_same_group_by_clause!(
    enterprises::id,
    enterprises::name,
    enterprises::name_key,
    order_classes::id,
    order_classes::name,
    order_classes::stage,
    order_classes::stage_changed_at,
    internship_bases::id,
    internship_bases::name,
    internship_bases::stage,
    internship_bases::stage_changed_at,
    agreements::id,
    agreements::title,
    agreements::number,
    agreements::kind,
    agreements::valid_until,
);

diesel::alias!(agreements as newer: NewerAgreements);

/// Narrows a boxed query that joins `enterprises` to the report's scope.
macro_rules! scoped {
    ($query:expr, $scope:expr) => {{
        let scope: &Scope = $scope;
        let mut query = $query;
        if let Some(industry) = &scope.industry {
            query = query.filter(enterprises::industry.eq(industry.clone()));
        }
        if let Some(region) = &scope.region {
            query = query.filter(enterprises::region.eq(region.clone()));
        }
        if let Some(park) = scope.park_id {
            let park = park.to_string();
            query = query.filter(
                enterprises::id
                    .eq(park.clone())
                    .or(enterprises::parent_id.eq(park)),
            );
        }
        if !scope.include_archived {
            query = query.filter(enterprises::archived_at.is_null());
        }
        query
    }};
}

/// Counts per stage of enterprises, order classes and internship bases: three
/// `GROUP BY stage` branches of one `UNION ALL`.
pub fn pipeline(conn: &mut DbConn, scope: &Scope) -> Result<Pipeline> {
    use enterprises::dsl as e;
    use internship_bases::dsl as ib;
    use order_classes::dsl as oc;
    // diesel's MultiConnection backend does not implement `UNION`: the query is
    // loaded on the backend's own connection (`native!`).
    macro_rules! counts {
        ($conn:expr) => {{
            let of_enterprises = scoped!(
                e::enterprises
                    .group_by(e::stage)
                    .select((
                        ItemKind::Enterprise.as_str().into_sql::<Text>(),
                        e::stage,
                        count_star(),
                    ))
                    .into_boxed(),
                scope
            );
            // An item counts when its enterprise is in the scope. Without a narrower
            // scope that is "not archived", asked as `NOT IN` the few archived
            // enterprises. A join of every item to its enterprise made PostgreSQL
            // read all enterprises, twice (a hash join over a sequential scan): the
            // report took 30 ms at a million visits with it, 17 ms without.
            let mut of_classes = oc::order_classes
                .group_by(oc::stage)
                .select((
                    ItemKind::OrderClass.as_str().into_sql::<Text>(),
                    oc::stage,
                    count_star(),
                ))
                .into_boxed();
            let mut of_bases = ib::internship_bases
                .group_by(ib::stage)
                .select((
                    ItemKind::InternshipBase.as_str().into_sql::<Text>(),
                    ib::stage,
                    count_star(),
                ))
                .into_boxed();
            if scope.narrowed() {
                let in_scope = || scoped!(e::enterprises.select(e::id).into_boxed(), scope);
                of_classes = of_classes.filter(oc::enterprise_id.eq_any(in_scope()));
                of_bases = of_bases.filter(ib::enterprise_id.eq_any(in_scope()));
            } else if !scope.include_archived {
                let archived = || {
                    e::enterprises
                        .filter(e::archived_at.is_not_null())
                        .select(e::id)
                };
                of_classes = of_classes.filter(oc::enterprise_id.ne_all(archived()));
                of_bases = of_bases.filter(ib::enterprise_id.ne_all(archived()));
            }
            if !scope.include_archived {
                of_classes = of_classes.filter(oc::archived_at.is_null());
                of_bases = of_bases.filter(ib::archived_at.is_null());
            }
            of_enterprises
                .union_all(of_classes)
                .union_all(of_bases)
                .load::<(String, String, i64)>($conn)?
        }};
    }
    let rows = super::native!(conn, |c| counts!(c));
    let mut pipeline = Pipeline::default();
    for (kind, stage, n) in rows {
        let kind: ItemKind = stored("report.kind", &kind)?;
        let stage: Stage = stored("report.stage", &stage)?;
        pipeline.counts(kind).add(stage, n);
    }
    Ok(pipeline)
}

/// Items at a non-final stage since before the cutoff whose enterprise has had no
/// visit since the cutoff (`NOT EXISTS`), oldest stage first, each with its
/// enterprise's latest visit.
pub fn stalled(conn: &mut DbConn, filter: &StalledFilter) -> Result<Page<StalledItem>> {
    use enterprises::dsl as e;
    use visit_enterprises::dsl as ve;
    use visits::dsl as v;
    let now = domain::now().naive_utc();
    let cutoff = now - chrono::Duration::days(filter.days);
    let finals = [Stage::Completed.as_str(), Stage::Terminated.as_str()];
    let page = &filter.page;
    let after = page
        .after
        .as_ref()
        .map(|c| super::parse_cursor_time(&c.value).map(|t| (t, c.id.clone())))
        .transpose()?;
    // An item is stalled when its enterprise has no visit that counts (a live one
    // that has begun) since the cutoff: `NOT EXISTS` over the range of the
    // enterprise's visits in `visit_enterprises (enterprise_id, starts_at, …)`, so
    // that the items are walked in the page's order and the walk stops at the page's
    // end. (Grouping every item with all its visits to find the last one read every
    // visit of every enterprise: seconds at a million visits.)
    // A visit called off was no contact.
    let contact = [VisitStatus::Planned.as_str(), VisitStatus::Held.as_str()];
    macro_rules! visited_since_cutoff {
        ($enterprise:expr) => {
            diesel::dsl::exists(
                ve::visit_enterprises
                    .inner_join(v::visits.on(v::id.eq(ve::visit_id)))
                    .filter(ve::enterprise_id.eq($enterprise))
                    .filter(ve::starts_at.ge(cutoff))
                    .filter(ve::starts_at.le(now))
                    .filter(v::archived_at.is_null())
                    .filter(v::status.eq_any(contact))
                    .select(ve::visit_id),
            )
        };
    }
    type Row = (String, String, String, NaiveDateTime, String, String);
    let rows: Vec<Row> = match filter.kind {
        ItemKind::Enterprise => {
            let query = scoped!(
                e::enterprises
                    .select((
                        e::id,
                        e::name,
                        e::stage,
                        e::stage_changed_at,
                        e::id,
                        e::name,
                    ))
                    .filter(e::stage.ne_all(finals))
                    .filter(e::stage_changed_at.lt(cutoff))
                    .filter(diesel::dsl::not(visited_since_cutoff!(e::id)))
                    .into_boxed(),
                &filter.scope
            );
            keyset!(query, e::stage_changed_at, e::id, false, after)
                .limit(page.limit + 1)
                .load(conn)?
        }
        ItemKind::OrderClass => {
            use order_classes::dsl as oc;
            let mut query = scoped!(
                oc::order_classes
                    .inner_join(e::enterprises)
                    .select((
                        oc::id,
                        oc::name,
                        oc::stage,
                        oc::stage_changed_at,
                        e::id,
                        e::name,
                    ))
                    .filter(oc::stage.ne_all(finals))
                    .filter(oc::stage_changed_at.lt(cutoff))
                    .filter(diesel::dsl::not(visited_since_cutoff!(oc::enterprise_id)))
                    .into_boxed(),
                &filter.scope
            );
            if !filter.scope.include_archived {
                query = query.filter(oc::archived_at.is_null());
            }
            keyset!(query, oc::stage_changed_at, oc::id, false, after)
                .limit(page.limit + 1)
                .load(conn)?
        }
        ItemKind::InternshipBase => {
            use internship_bases::dsl as ib;
            let mut query = scoped!(
                ib::internship_bases
                    .inner_join(e::enterprises)
                    .select((
                        ib::id,
                        ib::name,
                        ib::stage,
                        ib::stage_changed_at,
                        e::id,
                        e::name,
                    ))
                    .filter(ib::stage.ne_all(finals))
                    .filter(ib::stage_changed_at.lt(cutoff))
                    .filter(diesel::dsl::not(visited_since_cutoff!(ib::enterprise_id)))
                    .into_boxed(),
                &filter.scope
            );
            if !filter.scope.include_archived {
                query = query.filter(ib::archived_at.is_null());
            }
            keyset!(query, ib::stage_changed_at, ib::id, false, after)
                .limit(page.limit + 1)
                .load(conn)?
        }
    };
    // The last counted visit of each enterprise on the page (before the cutoff, or
    // none): one grouped query over those enterprises' visits.
    let page_enterprises: Vec<&str> = rows.iter().map(|r| r.4.as_str()).collect();
    let last_visits: std::collections::HashMap<String, Option<NaiveDateTime>> =
        ve::visit_enterprises
            .inner_join(v::visits.on(v::id.eq(ve::visit_id)))
            .filter(one_of(ve::enterprise_id, &page_enterprises))
            .filter(ve::starts_at.le(now))
            .filter(v::archived_at.is_null())
            .filter(v::status.eq_any(contact))
            .group_by(ve::enterprise_id)
            .select((ve::enterprise_id, max(ve::starts_at)))
            .load::<(String, Option<NaiveDateTime>)>(conn)?
            .into_iter()
            .collect();
    let rows: Vec<_> = rows
        .into_iter()
        .map(
            |(id, name, stage, changed, enterprise_id, enterprise_name)| {
                let last = last_visits.get(&enterprise_id).copied().flatten();
                (
                    id,
                    name,
                    stage,
                    changed,
                    enterprise_id,
                    enterprise_name,
                    last,
                )
            },
        )
        .collect();
    let rows = page.page(rows, |r| (super::cursor_time(r.3), r.0.clone()));
    let kind = filter.kind;
    Ok(Page {
        items: rows
            .items
            .into_iter()
            .map(
                |(id, name, stage, changed, enterprise_id, enterprise_name, last)| {
                    Ok(StalledItem {
                        id,
                        kind,
                        name,
                        enterprise: Named {
                            id: enterprise_id,
                            name: enterprise_name,
                        },
                        stage: stored("report.stage", &stage)?,
                        stage_changed_at: utc(changed),
                        last_visit_at: last.map(utc),
                    })
                },
            )
            .collect::<Result<_>>()?,
        next_cursor: rows.next_cursor,
    })
}

type ExpiringRow = (
    (String, String, Option<String>, String, Option<NaiveDate>),
    (String, String),
    (Option<String>, Option<String>),
    (Option<String>, Option<String>),
    Option<String>,
);

/// Agreements in force whose last day falls within the window, soonest first, each
/// with its renewal: the first-created newer live agreement for the same enterprise,
/// kind and covered item that runs past this one's end (a self `LEFT JOIN`, `MIN`).
pub fn expiring(conn: &mut DbConn, filter: &ExpiringFilter) -> Result<Page<ExpiringItem>> {
    use agreements::dsl as a;
    use enterprises::dsl as e;
    use internship_bases::dsl as ib;
    use order_classes::dsl as oc;
    let today = domain::today();
    let horizon = today
        .checked_add_days(Days::new(filter.within.unsigned_abs()))
        .unwrap_or(NaiveDate::MAX);
    let page = &filter.page;
    let after = page
        .after
        .as_ref()
        .map(|c| {
            crate::domain::input::parse_date(&c.value)
                .map(|d| (d, c.id.clone()))
                .map_err(|_| super::bad_cursor())
        })
        .transpose()?;
    let renewal = newer
        .field(a::enterprise_id)
        .eq(a::enterprise_id)
        .and(newer.field(a::kind).eq(a::kind))
        .and(newer.field(a::id).ne(a::id))
        .and(newer.field(a::archived_at).is_null())
        .and(newer.field(a::valid_from).ge(a::valid_from))
        .and(
            newer
                .field(a::valid_until)
                .is_null()
                .or(newer.field(a::valid_until).gt(a::valid_until))
                .assume_not_null(),
        )
        .and(
            newer
                .field(a::order_class_id)
                .eq(a::order_class_id)
                .or(newer
                    .field(a::order_class_id)
                    .is_null()
                    .and(a::order_class_id.is_null()))
                .assume_not_null(),
        )
        .and(
            newer
                .field(a::internship_base_id)
                .eq(a::internship_base_id)
                .or(newer
                    .field(a::internship_base_id)
                    .is_null()
                    .and(a::internship_base_id.is_null()))
                .assume_not_null(),
        );
    let mut query = scoped!(
        a::agreements
            .inner_join(e::enterprises)
            .left_join(oc::order_classes.on(a::order_class_id.eq(oc::id.nullable())))
            .left_join(ib::internship_bases.on(a::internship_base_id.eq(ib::id.nullable())))
            .left_join(newer.on(renewal))
            .group_by((a::id, e::id, oc::id, ib::id))
            .select((
                (a::id, a::title, a::number, a::kind, a::valid_until),
                (e::id, e::name),
                (oc::id.nullable(), oc::name.nullable()),
                (ib::id.nullable(), ib::name.nullable()),
                min(newer.field(a::id).nullable()),
            ))
            .filter(a::valid_from.le(today))
            .filter(a::valid_until.ge(today))
            .filter(a::valid_until.le(horizon))
            .into_boxed(),
        &filter.scope
    );
    if !filter.scope.include_archived {
        query = query.filter(a::archived_at.is_null());
    }
    let query = keyset!(query, a::valid_until.assume_not_null(), a::id, false, after);
    let rows: Vec<ExpiringRow> = query.limit(page.limit + 1).load(conn)?;
    let rows = page.page(rows, |r| {
        let until = r.0 .4.map(|d| d.to_string()).unwrap_or_default();
        (until, r.0 .0.clone())
    });
    let named = |(id, name): (Option<String>, Option<String>)| match (id, name) {
        (Some(id), Some(name)) => Some(Named { id, name }),
        _ => None,
    };
    let items = rows
        .items
        .into_iter()
        .map(|(agreement, enterprise, class, base, replaced_by)| {
            let (id, title, number, kind, valid_until) = agreement;
            let valid_until = valid_until
                .ok_or_else(|| super::Error::Corrupt(format!("agreement {id} has no end")))?;
            Ok(ExpiringItem {
                agreement: ExpiringAgreement {
                    kind: stored("agreements.kind", &kind)?,
                    id,
                    title,
                    number,
                    valid_until,
                },
                enterprise: Named {
                    id: enterprise.0,
                    name: enterprise.1,
                },
                order_class: named(class),
                internship_base: named(base),
                replaced_by,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Page {
        items,
        next_cursor: rows.next_cursor,
    })
}

#[derive(QueryableByName)]
struct MonthCount {
    #[diesel(sql_type = Text)]
    month: String,
    #[diesel(sql_type = BigInt)]
    visits: i64,
}

/// The month grouping is the one place the backends differ: a month key is
/// `strftime` on SQLite and `to_char` on PostgreSQL, and diesel cannot group by a
/// function call (its grouping check only knows columns). So one static statement per
/// backend, every value bound; the filters are written to be inert when unset.
const MONTHS_SQLITE: &str = "\
SELECT strftime('%Y-%m', v.starts_at) AS month, COUNT(DISTINCT v.id) AS visits
FROM visits v
JOIN visit_enterprises ve ON ve.visit_id = v.id
JOIN enterprises e ON e.id = ve.enterprise_id
WHERE v.starts_at >= ?1 AND v.starts_at < ?2
  AND v.status <> 'cancelled'
  AND (?3 OR (v.archived_at IS NULL AND e.archived_at IS NULL))
  AND (?4 IS NULL OR e.industry = ?4)
  AND (?5 IS NULL OR e.region = ?5)
  AND (?6 IS NULL OR e.id = ?6 OR e.parent_id = ?6)
GROUP BY month
ORDER BY month";

const MONTHS_POSTGRES: &str = "\
SELECT to_char(v.starts_at, 'YYYY-MM') AS month, COUNT(DISTINCT v.id) AS visits
FROM visits v
JOIN visit_enterprises ve ON ve.visit_id = v.id
JOIN enterprises e ON e.id = ve.enterprise_id
WHERE v.starts_at >= $1 AND v.starts_at < $2
  AND v.status <> 'cancelled'
  AND ($3 OR (v.archived_at IS NULL AND e.archived_at IS NULL))
  AND ($4::text IS NULL OR e.industry = $4)
  AND ($5::text IS NULL OR e.region = $5)
  AND ($6::text IS NULL OR e.id = $6 OR e.parent_id = $6)
GROUP BY month
ORDER BY month";

/// Visits in `[from, to)`, but for cancelled ones, counted per month, enterprise or
/// direction. A visit counts when one of its enterprises is in scope; per month and
/// direction it counts once.
pub fn activity(conn: &mut DbConn, filter: &ActivityFilter) -> Result<Activity> {
    use enterprises::dsl as e;
    use visit_enterprises::dsl as ve;
    use visits::dsl as v;
    let midnight = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN);
    let (from, to) = (midnight(filter.from), midnight(filter.to));
    let scope = &filter.scope;
    let items = match filter.group {
        ActivityGroup::Month => {
            let park = scope.park_id.map(|p| p.to_string());
            macro_rules! months {
                ($sql:expr, $conn:expr) => {
                    diesel::sql_query($sql)
                        .bind::<Timestamp, _>(from)
                        .bind::<Timestamp, _>(to)
                        .bind::<Bool, _>(scope.include_archived)
                        .bind::<Nullable<Text>, _>(scope.industry.clone())
                        .bind::<Nullable<Text>, _>(scope.region.clone())
                        .bind::<Nullable<Text>, _>(park.clone())
                        .load::<MonthCount>($conn)?
                };
            }
            let counted = match conn {
                DbConn::Sqlite(c) => months!(MONTHS_SQLITE, c),
                DbConn::Pg(c) => months!(MONTHS_POSTGRES, c),
            };
            filter
                .months()
                .into_iter()
                .map(|month| {
                    let visits = counted
                        .iter()
                        .find(|c| c.month == month)
                        .map_or(0, |c| c.visits);
                    ActivityRow::Month { month, visits }
                })
                .collect()
        }
        ActivityGroup::Direction => {
            let mut query = scoped!(
                v::visits
                    .inner_join(ve::visit_enterprises.inner_join(e::enterprises))
                    .group_by(v::direction)
                    .select((v::direction, count(v::id).aggregate_distinct()))
                    .filter(v::starts_at.ge(from))
                    .filter(v::starts_at.lt(to))
                    .filter(v::status.ne(VisitStatus::Cancelled.as_str()))
                    .order(v::direction)
                    .into_boxed(),
                scope
            );
            if !scope.include_archived {
                query = query.filter(v::archived_at.is_null());
            }
            let rows: Vec<(String, i64)> = query.load(conn)?;
            rows.into_iter()
                .map(|(direction, visits)| {
                    Ok(ActivityRow::Direction {
                        direction: stored("visits.direction", &direction)?,
                        visits,
                    })
                })
                .collect::<Result<_>>()?
        }
        ActivityGroup::Enterprise => {
            let mut query = scoped!(
                ve::visit_enterprises
                    .inner_join(v::visits)
                    .inner_join(e::enterprises)
                    .group_by(e::id)
                    .select((e::id, e::name, count_star()))
                    .filter(v::starts_at.ge(from))
                    .filter(v::starts_at.lt(to))
                    .filter(v::status.ne(VisitStatus::Cancelled.as_str()))
                    .order((count_star().desc(), e::name_key, e::id))
                    .limit(crate::domain::report::TOP_ENTERPRISES)
                    .into_boxed(),
                scope
            );
            if !scope.include_archived {
                query = query.filter(v::archived_at.is_null());
            }
            let rows: Vec<(String, String, i64)> = query.load(conn)?;
            rows.into_iter()
                .map(|(id, name, visits)| ActivityRow::Enterprise {
                    enterprise: Named { id, name },
                    visits,
                })
                .collect()
        }
    };
    Ok(Activity {
        group: filter.group,
        from: filter.from,
        to: filter.to,
        items,
    })
}

/// The funnel, written once for both backends. SQLite numbers `$n` parameters in the
/// order they first appear, so `params` names each one once, in order, and the rest
/// of the statement reads them from there. Only the length of a span in days is
/// spelled differently (`julianday` on SQLite, an epoch difference on PostgreSQL):
/// it is pasted in at compile time, so each backend gets one static statement.
///
/// - `items`: the items of the kind whose enterprise is in scope, created since the
///   period began: an item entered at its creation or earlier, so one created
///   before the period cannot be in its cohort (and each table is read from its
///   `created_at` index, not whole).
/// - `firsts`, `cohort`: an item entered the pipeline at its creation or at its first
///   recorded move, whichever is earlier (a history can be entered after the fact);
///   the cohort is the items that entered in the period.
/// - `entries`: each time an item entered a stage: its moves, and, unless its
///   history records how it started (a move with no `from_stage`), the `intention`
///   it was created at, whose start is known only when the creation precedes every
///   move.
/// - `ordered`: a stay ends at the next entry; the last one is still open.
/// - `reach`: when an item first got to each stage or beyond: every item is at
///   `intention` from its entry, and a move to a stage reaches it and every stage
///   before it (skipped stages are passed through; moving back unreaches nothing).
///   An item without any history has reached its current stage at
///   `stage_changed_at` (data loaded without a history).
/// - `terminated`: nothing moves out of it, so the current stage tells.
/// - `spans`, `ranked`, `medians`: finished stays and times to reach, in days, with
///   their medians (the mean of the two middle values for an even count).
macro_rules! funnel_sql {
    ($days:literal, $instant:literal) => {
        concat!(
            "\
WITH params AS (
  SELECT CAST($1 AS TEXT) AS kind, CAST($2 AS ",
            $instant,
            ") AS from_at, CAST($3 AS ",
            $instant,
            ") AS to_at,
         CAST($4 AS BOOLEAN) AS include_archived,
         CAST($5 AS TEXT) AS industry, CAST($6 AS TEXT) AS region, CAST($7 AS TEXT) AS park_id
),
stages (stage, ordinal) AS (
  VALUES ('intention', 1), ('negotiation', 2), ('agreement', 3), ('implementation', 4), ('completed', 5)
),
items AS (
  SELECT i.id, i.created_at, i.stage, i.stage_changed_at
  FROM (
    SELECT 'enterprise' AS kind, id, id AS enterprise_id, created_at, archived_at, stage, stage_changed_at
    FROM enterprises
    WHERE created_at >= (SELECT from_at FROM params)
    UNION ALL
    SELECT 'order_class', id, enterprise_id, created_at, archived_at, stage, stage_changed_at
    FROM order_classes
    WHERE created_at >= (SELECT from_at FROM params)
    UNION ALL
    SELECT 'internship_base', id, enterprise_id, created_at, archived_at, stage, stage_changed_at
    FROM internship_bases
    WHERE created_at >= (SELECT from_at FROM params)
  ) i
  JOIN params p ON i.kind = p.kind
  JOIN enterprises e ON e.id = i.enterprise_id
  WHERE (p.include_archived OR (i.archived_at IS NULL AND e.archived_at IS NULL))
    AND (p.industry IS NULL OR e.industry = p.industry)
    AND (p.region IS NULL OR e.region = p.region)
    AND (p.park_id IS NULL OR e.id = p.park_id OR e.parent_id = p.park_id)
),
moves AS (
  SELECT t.id, t.subject_id AS item_id, t.from_stage, t.to_stage, t.occurred_at
  FROM stage_transitions t
  WHERE t.subject_kind = (SELECT kind FROM params)
),
firsts AS (
  SELECT i.id, i.created_at, i.stage, i.stage_changed_at, MIN(m.occurred_at) AS first_move_at,
         MAX(CASE WHEN m.id IS NOT NULL AND m.from_stage IS NULL THEN 1 ELSE 0 END) AS recorded_start
  FROM items i
  LEFT JOIN moves m ON m.item_id = i.id
  GROUP BY i.id, i.created_at, i.stage, i.stage_changed_at
),
cohort AS (
  SELECT f.id, f.created_at, f.stage, f.stage_changed_at, f.first_move_at, f.recorded_start,
         f.entered_at
  FROM (
    SELECT id, created_at, stage, stage_changed_at, first_move_at, recorded_start,
           CASE WHEN first_move_at < created_at THEN first_move_at ELSE created_at END AS entered_at
    FROM firsts
  ) f
  JOIN params p ON f.entered_at >= p.from_at AND f.entered_at <= p.to_at
),
entries AS (
  SELECT c.id AS item_id, 'intention' AS stage, 0 AS seq, '' AS move_id,
         CASE WHEN c.first_move_at IS NULL OR c.created_at <= c.first_move_at THEN c.created_at END AS started_at
  FROM cohort c
  WHERE c.recorded_start = 0
  UNION ALL
  SELECT m.item_id, m.to_stage, 1, m.id, m.occurred_at
  FROM moves m
  JOIN cohort c ON c.id = m.item_id
),
ordered AS (
  SELECT stage, started_at,
         LEAD(started_at) OVER (PARTITION BY item_id ORDER BY seq, started_at, move_id) AS ended_at
  FROM entries
),
reach AS (
  SELECT s.stage, a.item_id, MIN(a.entered_at) AS entered_at, MIN(a.at) AS reached_at
  FROM (
    SELECT c.id AS item_id, 1 AS ordinal, c.entered_at AS at, c.entered_at
    FROM cohort c
    UNION ALL
    SELECT c.id, st.ordinal,
           CASE WHEN c.stage_changed_at < c.entered_at THEN c.entered_at ELSE c.stage_changed_at END,
           c.entered_at
    FROM cohort c
    JOIN stages st ON st.stage = c.stage
    WHERE c.first_move_at IS NULL
    UNION ALL
    SELECT m.item_id, st.ordinal, m.occurred_at, c.entered_at
    FROM moves m
    JOIN cohort c ON c.id = m.item_id
    JOIN stages st ON st.stage = m.to_stage
  ) a
  JOIN stages s ON s.ordinal <= a.ordinal
  GROUP BY s.stage, a.item_id
),
spans AS (
  SELECT 'stay' AS measure, stage, started_at AS start_at, ended_at AS end_at
  FROM ordered
  WHERE started_at IS NOT NULL AND ended_at IS NOT NULL
  UNION ALL
  SELECT 'reach', stage, entered_at, reached_at
  FROM reach
),
ranked AS (
  SELECT measure, stage, days,
         ROW_NUMBER() OVER (PARTITION BY measure, stage ORDER BY days) AS n,
         COUNT(*) OVER (PARTITION BY measure, stage) AS total
  FROM (SELECT measure, stage, ",
            $days,
            " AS days FROM spans) d
),
medians AS (
  SELECT measure, stage, AVG(days) AS median_days, MAX(total) AS counted
  FROM ranked
  WHERE n IN ((total + 1) / 2, (total + 2) / 2)
  GROUP BY measure, stage
)
SELECT s.stage,
       COALESCE(r.counted, 0) AS reached,
       COALESCE(st.counted, 0) AS stays,
       st.median_days AS median_days,
       r.median_days AS median_days_to_reach,
       (SELECT COUNT(*) FROM cohort) AS entered,
       (SELECT COUNT(*) FROM cohort WHERE stage = 'terminated') AS terminated
FROM stages s
LEFT JOIN medians r ON r.measure = 'reach' AND r.stage = s.stage
LEFT JOIN medians st ON st.measure = 'stay' AND st.stage = s.stage
ORDER BY s.ordinal"
        )
    };
}

// Every parameter is cast to its type, so that the statement can be prepared (and
// explained, see tests/api/query_plans.rs) without its values: PostgreSQL cannot
// tell a bare `$2` in a select list from text. Instants are TEXT on SQLite.
// SQLite keeps instants to the millisecond, but a `julianday` difference (days since
// 4714 BC, in a double) is off by up to about 50 µs: rounded back to whole
// milliseconds it is exact, and a span of 432 s is 0.005 days as on PostgreSQL, not
// a hair under (which rounded to 0.00 rather than 0.01).
const FUNNEL_SQLITE: &str = funnel_sql!(
    "ROUND((julianday(end_at) - julianday(start_at)) * 86400000) / 86400000.0",
    "TEXT"
);
const FUNNEL_POSTGRES: &str = funnel_sql!(
    "CAST(EXTRACT(EPOCH FROM end_at - start_at) AS DOUBLE PRECISION) / 86400",
    "TIMESTAMP"
);

#[derive(QueryableByName)]
struct FunnelRow {
    #[diesel(sql_type = Text)]
    stage: String,
    #[diesel(sql_type = BigInt)]
    reached: i64,
    #[diesel(sql_type = BigInt)]
    stays: i64,
    #[diesel(sql_type = Nullable<Double>)]
    median_days: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    median_days_to_reach: Option<f64>,
    #[diesel(sql_type = BigInt)]
    entered: i64,
    #[diesel(sql_type = BigInt)]
    terminated: i64,
}

/// How the items that entered the pipeline in the period have moved since: one row
/// per stage of one statement, every value bound.
pub fn funnel(conn: &mut DbConn, filter: &FunnelFilter) -> Result<Funnel> {
    let from = filter.from.and_time(chrono::NaiveTime::MIN);
    // The last microsecond of `to` (both databases keep microseconds), rather than
    // the next midnight, which after 9999-12-31 has a year SQLite's text order
    // misplaces. Times of day wrap around, so this is 23:59:59.999999.
    let last_microsecond = chrono::NaiveTime::MIN - chrono::TimeDelta::microseconds(1);
    let to = filter.to.and_time(last_microsecond);
    let scope = &filter.scope;
    let park = scope.park_id.map(|p| p.to_string());
    macro_rules! funnel {
        ($sql:expr, $conn:expr) => {
            diesel::sql_query($sql)
                .bind::<Text, _>(filter.kind.as_str())
                .bind::<Timestamp, _>(from)
                .bind::<Timestamp, _>(to)
                .bind::<Bool, _>(scope.include_archived)
                .bind::<Nullable<Text>, _>(scope.industry.clone())
                .bind::<Nullable<Text>, _>(scope.region.clone())
                .bind::<Nullable<Text>, _>(park.clone())
                .load::<FunnelRow>($conn)?
        };
    }
    let rows = match conn {
        DbConn::Sqlite(c) => funnel!(FUNNEL_SQLITE, c),
        DbConn::Pg(c) => funnel!(FUNNEL_POSTGRES, c),
    };
    let (entered, terminated) = rows.first().map_or((0, 0), |r| (r.entered, r.terminated));
    let figures = rows
        .into_iter()
        .map(|r| {
            Ok(StageFigures {
                stage: stored("report.stage", &r.stage)?,
                reached: r.reached,
                stays: r.stays,
                median_days: r.median_days,
                median_days_to_reach: r.median_days_to_reach,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Funnel::new(filter, entered, terminated, &figures))
}
