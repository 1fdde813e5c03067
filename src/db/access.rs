//! API tokens (create, list, revoke, authenticate, the first-start token) and the
//! audit trail (write one entry inside a change's transaction, read them back).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::Value;

use super::schema::{api_tokens, audit_log};
use super::stamp::{MaybeStamp, Stamp};
use super::{
    after_time, cursor_time, keyset, serialise, stored, utc, write, DbConn, Error, Result,
};
use crate::domain::access::{
    self, Actor, AuditAction, AuditActor, AuditEntry, AuditFilter, EntityKind, IssuedToken, Role,
    Token, TokenFields,
};
use crate::domain::ids::{AuditId, TokenId};
use crate::domain::page::Page;
use crate::domain::{self, DomainError};

/// Serialises first-start token creation across processes.
const BOOTSTRAP_LOCK: i64 = 0x4c69_6169_736f_6e03;

/// How stale `last_used_at` may get before a request refreshes it: one write per
/// token per interval instead of one per request.
const LAST_USED_GRANULARITY: Duration = Duration::seconds(60);

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
struct TokenRow {
    id: String,
    name: String,
    role: String,
    token_hash: String,
    #[diesel(deserialize_as = Stamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = MaybeStamp)]
    last_used_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    expires_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    revoked_at: Option<NaiveDateTime>,
}

impl TokenRow {
    fn into_domain(self) -> Result<Token> {
        Ok(Token {
            id: stored("api_tokens.id", &self.id)?,
            name: self.name,
            role: stored("api_tokens.role", &self.role)?,
            created_at: utc(self.created_at),
            last_used_at: self.last_used_at.map(utc),
            expires_at: self.expires_at.map(utc),
            revoked_at: self.revoked_at.map(utc),
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = api_tokens)]
struct NewTokenRow<'a> {
    id: String,
    name: &'a str,
    role: &'a str,
    token_hash: &'a str,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
}

/// Creates a token and returns it with its secret, which is not kept.
pub fn create_token(conn: &mut DbConn, fields: &TokenFields, actor: &Actor) -> Result<IssuedToken> {
    let id = TokenId::generate();
    let (secret, hash) = access::new_secret(id)
        .map_err(|e| Error::Corrupt(format!("no random bytes for a token: {e}")))?;
    let created = write(conn, |conn| {
        if let Some(existing) = find_by_name(conn, &fields.name)? {
            return Err(duplicate_name(&fields.name, existing.id));
        }
        let created_at = domain::now();
        diesel::insert_into(api_tokens::table)
            .values(NewTokenRow {
                id: id.to_string(),
                name: &fields.name,
                role: fields.role.as_str(),
                token_hash: &hash,
                created_at: created_at.naive_utc(),
                expires_at: fields.expires_at.map(|t| t.naive_utc()),
            })
            .execute(conn)?;
        let token = get_token(conn, id)?;
        let after = serde_json::to_value(&token).unwrap_or_default();
        record(
            conn,
            actor,
            AuditAction::Create,
            EntityKind::Token,
            &id.to_string(),
            &access::changes(None, &after),
        )?;
        Ok(token)
    });
    let token = match created {
        // Another request took the name between the check and the insert.
        Err(e) if e.is_unique_violation() => {
            let existing = find_by_name(conn, &fields.name)?;
            return Err(match existing {
                Some(t) => duplicate_name(&fields.name, t.id),
                None => e,
            });
        }
        other => other?,
    };
    Ok(IssuedToken { token, secret })
}

fn duplicate_name(name: &str, existing: TokenId) -> Error {
    DomainError::Conflict {
        code: "duplicate",
        detail: format!("a token named `{name}` already exists (names are never reused)"),
        existing_id: Some(existing.to_string()),
    }
    .into()
}

pub fn get_token(conn: &mut DbConn, id: TokenId) -> Result<Token> {
    api_tokens::table
        .find(id.to_string())
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| token_not_found(&id.to_string()))?
        .into_domain()
}

fn find_by_name(conn: &mut DbConn, name: &str) -> Result<Option<Token>> {
    api_tokens::table
        .filter(api_tokens::name.eq(name))
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?
        .map(TokenRow::into_domain)
        .transpose()
}

/// A token named by its id or, failing that, by its name (for the command line).
pub fn find_token(conn: &mut DbConn, name_or_id: &str) -> Result<Token> {
    if let Ok(id) = name_or_id.parse::<TokenId>() {
        if let Ok(token) = get_token(conn, id) {
            return Ok(token);
        }
    }
    find_by_name(conn, name_or_id)?.ok_or_else(|| token_not_found(name_or_id))
}

fn token_not_found(what: &str) -> Error {
    DomainError::NotFound {
        kind: "token",
        id: what.to_string(),
    }
    .into()
}

/// Every token, oldest first: a college has a handful, so there is no paging.
pub fn list_tokens(conn: &mut DbConn) -> Result<Vec<Token>> {
    api_tokens::table
        .order((api_tokens::created_at.asc(), api_tokens::id.asc()))
        .select(TokenRow::as_select())
        .load(conn)?
        .into_iter()
        .map(TokenRow::into_domain)
        .collect()
}

/// Revokes a token for good; a token revoked already is a conflict.
pub fn revoke_token(conn: &mut DbConn, id: TokenId, actor: &Actor) -> Result<Token> {
    write(conn, |conn| {
        let touched = diesel::update(api_tokens::table.find(id.to_string()))
            .set(api_tokens::name.eq(api_tokens::name))
            .execute(conn)?;
        if touched == 0 {
            return Err(token_not_found(&id.to_string()));
        }
        let before = get_token(conn, id)?;
        if before.revoked_at.is_some() {
            return Err(DomainError::Conflict {
                code: "already_revoked",
                detail: format!("token `{}` is revoked already", before.name),
                existing_id: None,
            }
            .into());
        }
        diesel::update(api_tokens::table.find(id.to_string()))
            .set(api_tokens::revoked_at.eq(domain::now().naive_utc()))
            .execute(conn)?;
        let after = get_token(conn, id)?;
        record(
            conn,
            actor,
            AuditAction::Revoke,
            EntityKind::Token,
            &id.to_string(),
            &access::changes(
                Some(&serde_json::to_value(&before).unwrap_or_default()),
                &serde_json::to_value(&after).unwrap_or_default(),
            ),
        )?;
        Ok(after)
    })
}

/// Why a presented token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not one of ours, or its secret is wrong: the same answer for both.
    Unknown,
    /// Revoked or expired.
    Unusable(&'static str),
}

/// Checks a presented token: one primary-key read, a constant-time hash
/// comparison, and now and then a write of `last_used_at`.
pub fn authenticate(
    conn: &mut DbConn,
    presented: &str,
) -> Result<std::result::Result<Token, Refusal>> {
    let Some(id) = access::claimed_id(presented) else {
        return Ok(Err(Refusal::Unknown));
    };
    let Some(row) = api_tokens::table
        .find(id.to_string())
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(Err(Refusal::Unknown));
    };
    if !access::matches(presented, &row.token_hash) {
        return Ok(Err(Refusal::Unknown));
    }
    let token = row.into_domain()?;
    let now = domain::now();
    if let Some(reason) = token.refusal(now) {
        return Ok(Err(Refusal::Unusable(reason)));
    }
    if token
        .last_used_at
        .is_none_or(|at| now - at >= LAST_USED_GRANULARITY)
    {
        // Best effort: a busy database must not fail the request over a timestamp.
        if let Err(e) = diesel::update(api_tokens::table.find(id.to_string()))
            .set(api_tokens::last_used_at.eq(now.naive_utc()))
            .execute(conn)
        {
            tracing::warn!(error = %e, token = %token.name, "cannot record token use");
        }
    }
    Ok(Ok(token))
}

/// On a database without any token, creates the `admin` token `bootstrap` and
/// returns it, so that a newcomer can call the API straight away.
pub fn bootstrap(conn: &mut DbConn) -> Result<Option<IssuedToken>> {
    let needed = write(conn, |conn| {
        serialise(conn, BOOTSTRAP_LOCK)?;
        let count: i64 = api_tokens::table.count().get_result(conn)?;
        Ok::<_, Error>(count == 0)
    })?;
    if !needed {
        return Ok(None);
    }
    let fields = TokenFields {
        name: "bootstrap".into(),
        role: Role::Admin,
        expires_at: None,
    };
    let actor = Actor {
        name: crate::domain::access::FIRST_START.into(),
        ..Actor::command_line()
    };
    match create_token(conn, &fields, &actor) {
        Ok(token) => Ok(Some(token)),
        // Another process started at the same moment and made it.
        Err(Error::Domain(DomainError::Conflict { .. })) => Ok(None),
        Err(e) => Err(e),
    }
}

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
struct NewAuditRow<'a> {
    id: String,
    at: NaiveDateTime,
    actor_id: Option<String>,
    actor_name: &'a str,
    action: &'a str,
    entity_kind: &'a str,
    entity_id: &'a str,
    changes: String,
    request_id: Option<&'a str>,
}

/// Writes one audit entry; call it inside the change's own transaction, so that the
/// entry exists exactly when the change does.
pub fn record(
    conn: &mut DbConn,
    actor: &Actor,
    action: AuditAction,
    entity_kind: EntityKind,
    entity_id: &str,
    changes: &Value,
) -> Result<()> {
    diesel::insert_into(audit_log::table)
        .values(NewAuditRow {
            id: AuditId::generate().to_string(),
            at: domain::now().naive_utc(),
            actor_id: actor.token_id.map(|id| id.to_string()),
            actor_name: &actor.name,
            action: action.as_str(),
            entity_kind: entity_kind.as_str(),
            entity_id,
            changes: changes.to_string(),
            request_id: actor.request_id.as_deref(),
        })
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
struct AuditRow {
    id: String,
    #[diesel(deserialize_as = Stamp)]
    at: NaiveDateTime,
    actor_id: Option<String>,
    actor_name: String,
    action: String,
    entity_kind: String,
    entity_id: String,
    changes: String,
    request_id: Option<String>,
}

impl AuditRow {
    fn into_domain(self) -> Result<AuditEntry> {
        Ok(AuditEntry {
            id: stored("audit_log.id", &self.id)?,
            at: utc(self.at),
            actor: AuditActor {
                token_id: self
                    .actor_id
                    .as_deref()
                    .map(|id| stored("audit_log.actor_id", id))
                    .transpose()?,
                name: self.actor_name,
            },
            action: stored("audit_log.action", &self.action)?,
            entity_kind: stored("audit_log.entity_kind", &self.entity_kind)?,
            entity_id: stored("audit_log.entity_id", &self.entity_id)?,
            changes: serde_json::from_str(&self.changes)
                .map_err(|e| Error::Corrupt(format!("audit_log.changes: {e}")))?,
            request_id: self.request_id,
        })
    }
}

/// One page of the audit trail, newest first.
pub fn audit_page(conn: &mut DbConn, filter: &AuditFilter) -> Result<Page<AuditEntry>> {
    use audit_log::dsl as a;
    let mut query = a::audit_log.select(AuditRow::as_select()).into_boxed();
    if let Some(id) = &filter.entity_id {
        query = query.filter(a::entity_id.eq(id.clone()));
    }
    if let Some(kind) = filter.entity_kind {
        query = query.filter(a::entity_kind.eq(kind.as_str()));
    }
    if let Some(actor) = &filter.actor {
        query = match actor.parse::<TokenId>() {
            Ok(id) => query.filter(a::actor_id.eq(id.to_string())),
            Err(_) => query.filter(a::actor_name.eq(actor.clone())),
        };
    }
    if let Some(action) = filter.action {
        query = query.filter(a::action.eq(action.as_str()));
    }
    let request = &filter.page;
    let after = after_time(request.after.as_ref())?;
    let (from, to) = super::period_beside_cursor(
        filter.from.map(|t| t.naive_utc()),
        filter.to.map(|t| t.naive_utc()),
        after.as_ref(),
        request.sort.descending,
    );
    if let Some(from) = from {
        query = query.filter(a::at.ge(from));
    }
    if let Some(to) = to {
        query = query.filter(a::at.lt(to));
    }
    let query = keyset!(query, a::at, a::id, request.sort.descending, after);
    let rows: Vec<AuditRow> = query.limit(request.limit + 1).load(conn)?;
    request
        .page(rows, |row| (cursor_time(row.at), row.id.clone()))
        .try_map(AuditRow::into_domain)
}
