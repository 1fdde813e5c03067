//! Managers' reports: each is one aggregate query, counted and grouped by the database.

use chrono::{Days, NaiveDate, NaiveDateTime};
use diesel::dsl::{count, count_star, max, min};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};

use super::schema::{
    agreements, enterprises, internship_bases, order_classes, visit_enterprises, visits,
};
use super::{keyset, stored, utc, DbConn, Result};
use crate::domain::page::Page;
use crate::domain::report::{
    Activity, ActivityFilter, ActivityGroup, ActivityRow, ExpiringAgreement, ExpiringFilter,
    ExpiringItem, ItemKind, Named, Pipeline, Scope, StalledFilter, StalledItem,
};
use crate::domain::stage::Stage;
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
    // diesel's MultiConnection backend does not implement `UNION`, so the same
    // query-builder expression is loaded on the concrete connection of each backend.
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
            let mut of_classes = scoped!(
                oc::order_classes
                    .inner_join(e::enterprises)
                    .group_by(oc::stage)
                    .select((
                        ItemKind::OrderClass.as_str().into_sql::<Text>(),
                        oc::stage,
                        count_star(),
                    ))
                    .into_boxed(),
                scope
            );
            let mut of_bases = scoped!(
                ib::internship_bases
                    .inner_join(e::enterprises)
                    .group_by(ib::stage)
                    .select((
                        ItemKind::InternshipBase.as_str().into_sql::<Text>(),
                        ib::stage,
                        count_star(),
                    ))
                    .into_boxed(),
                scope
            );
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
    let rows = match conn {
        DbConn::Sqlite(c) => counts!(c),
        DbConn::Pg(c) => counts!(c),
    };
    let mut pipeline = Pipeline::default();
    for (kind, stage, n) in rows {
        let kind: ItemKind = stored("report.kind", &kind)?;
        let stage: Stage = stored("report.stage", &stage)?;
        pipeline.counts(kind).add(stage, n);
    }
    Ok(pipeline)
}

type StalledRow = (
    String,
    String,
    String,
    NaiveDateTime,
    String,
    String,
    Option<NaiveDateTime>,
);

/// Items at a non-final stage since before the cutoff whose enterprise has had no
/// visit since the cutoff: the latest visit of each comes from a `LEFT JOIN … GROUP
/// BY` and is tested in `HAVING`.
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
    // Visits that count: live ones that have begun. Joined on these conditions (not
    // filtered after the join) so that an enterprise without any keeps its row.
    macro_rules! counted_visits {
        () => {
            v::visits.on(v::id
                .eq(ve::visit_id)
                .and(v::archived_at.is_null())
                .and(v::starts_at.le(now)))
        };
    }
    let last_visit = max(v::starts_at.nullable());
    let rows: Vec<StalledRow> = match filter.kind {
        ItemKind::Enterprise => {
            let query = scoped!(
                e::enterprises
                    .left_join(ve::visit_enterprises.on(ve::enterprise_id.eq(e::id)))
                    .left_join(counted_visits!())
                    .group_by(e::id)
                    .select((
                        e::id,
                        e::name,
                        e::stage,
                        e::stage_changed_at,
                        e::id,
                        e::name,
                        last_visit,
                    ))
                    .having(last_visit.is_null().or(last_visit.lt(cutoff)))
                    .filter(e::stage.ne_all(finals))
                    .filter(e::stage_changed_at.lt(cutoff))
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
                    .left_join(ve::visit_enterprises.on(ve::enterprise_id.eq(oc::enterprise_id)))
                    .left_join(counted_visits!())
                    .group_by((oc::id, e::id))
                    .select((
                        oc::id,
                        oc::name,
                        oc::stage,
                        oc::stage_changed_at,
                        e::id,
                        e::name,
                        last_visit,
                    ))
                    .having(last_visit.is_null().or(last_visit.lt(cutoff)))
                    .filter(oc::stage.ne_all(finals))
                    .filter(oc::stage_changed_at.lt(cutoff))
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
                    .left_join(ve::visit_enterprises.on(ve::enterprise_id.eq(ib::enterprise_id)))
                    .left_join(counted_visits!())
                    .group_by((ib::id, e::id))
                    .select((
                        ib::id,
                        ib::name,
                        ib::stage,
                        ib::stage_changed_at,
                        e::id,
                        e::name,
                        last_visit,
                    ))
                    .having(last_visit.is_null().or(last_visit.lt(cutoff)))
                    .filter(ib::stage.ne_all(finals))
                    .filter(ib::stage_changed_at.lt(cutoff))
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
  AND ($3 OR (v.archived_at IS NULL AND e.archived_at IS NULL))
  AND ($4::text IS NULL OR e.industry = $4)
  AND ($5::text IS NULL OR e.region = $5)
  AND ($6::text IS NULL OR e.id = $6 OR e.parent_id = $6)
GROUP BY month
ORDER BY month";

/// Visits in `[from, to)` counted per month, enterprise or direction. A visit counts
/// when one of its enterprises is in scope; per month and direction it counts once.
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
