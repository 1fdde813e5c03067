//! Access control and accountability: roles, API tokens (their secrets and hashes)
//! and the entries of the audit trail.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::ids::{AuditId, TokenId};
use super::input::{self, Checker};
use super::page::{self, PageRequest, SortKey};
use super::rfc3339;
use super::{vocabulary, DomainError, FieldError};

vocabulary! {
    /// What a token may do; each role may do everything the one before it may.
    /// `feed` may only read the visits calendar (`/api/v1/visits.ics`), and may send
    /// its token in the query string, since calendar clients cannot send headers.
    Role {
        Feed => "feed",
        Viewer => "viewer",
        Officer => "officer",
        Admin => "admin",
    }
}

impl Role {
    /// Whether a token of this role may do what `needed` may.
    pub fn allows(self, needed: Role) -> bool {
        self.rank() >= needed.rank()
    }

    fn rank(self) -> u8 {
        match self {
            Role::Feed => 0,
            Role::Viewer => 1,
            Role::Officer => 2,
            Role::Admin => 3,
        }
    }
}

/// A token as listed: everything but its secret, which is never stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Token {
    pub id: TokenId,
    pub name: String,
    pub role: Role,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "rfc3339::option")]
    pub last_used_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "rfc3339::option")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "rfc3339::option")]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Token {
    /// Why the token can no longer be used at `now`, if it cannot.
    pub fn refusal(&self, now: DateTime<Utc>) -> Option<&'static str> {
        if self.revoked_at.is_some() {
            Some("the token has been revoked")
        } else if self.expires_at.is_some_and(|at| at <= now) {
            Some("the token has expired")
        } else {
            None
        }
    }
}

/// A token just created, with the secret that is shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    #[serde(flatten)]
    pub token: Token,
    /// `Authorization: Bearer <token>`; only its hash is kept.
    #[serde(rename = "token")]
    pub secret: String,
}

/// The spelling of every token: a fixed prefix, the token's id (so that the lookup
/// is one primary-key read) and 256 random bits.
const TOKEN_PREFIX: &str = "liaison_";
const ID_HEX_LEN: usize = 32;
const SECRET_BYTES: usize = 32;
/// Base64url without padding of `SECRET_BYTES` bytes.
const SECRET_LEN: usize = 43;

/// Makes a new token for `id`: the secret to hand out once and the hash to store.
pub fn new_secret(id: TokenId) -> Result<(String, String), getrandom::Error> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes)?;
    let secret = format!(
        "{TOKEN_PREFIX}{}_{}",
        id.0.simple(),
        URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = hash(&secret);
    Ok((secret, hash))
}

/// The id a presented token claims, if it is spelled like one of ours at all.
pub fn claimed_id(presented: &str) -> Option<TokenId> {
    let rest = presented.strip_prefix(TOKEN_PREFIX)?;
    if rest.len() != ID_HEX_LEN + 1 + SECRET_LEN || !rest.is_ascii() {
        return None;
    }
    let (id, secret) = rest.split_at(ID_HEX_LEN);
    let secret = secret.strip_prefix('_')?;
    if !secret
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    Uuid::try_parse(id).ok().map(TokenId)
}

/// The stored form of a token: SHA-256, hex. Tokens carry 256 random bits, so a
/// fast hash is enough; a password hash would only slow every request down.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares a presented token with a stored hash in time that does not depend on
/// where they differ.
pub fn matches(presented: &str, stored_hash: &str) -> bool {
    hash(presented)
        .as_bytes()
        .ct_eq(stored_hash.as_bytes())
        .into()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub expires_in_days: Option<i64>,
}

/// A checked request for a new token.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenFields {
    pub name: String,
    pub role: Role,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Longest token lifetime that can be asked for: ten years.
pub const MAX_EXPIRES_IN_DAYS: i64 = 3650;

impl TokenFields {
    pub fn from_body(body: &Value) -> Result<Self, DomainError> {
        input::parse_body(
            body,
            &["id", "created_at", "last_used_at", "revoked_at"],
            |i| Self::parse(i, super::now()),
        )
    }

    pub fn parse(input: TokenInput, now: DateTime<Utc>) -> Result<Self, DomainError> {
        let mut check = Checker::new();
        let name = token_name(&mut check, input.name);
        let role = input.role.unwrap_or_else(|| {
            check.push(
                "role",
                "required",
                format!("`role` is required: one of {}", Role::expected()),
            );
            Role::Viewer
        });
        let expires_at = input.expires_in_days.and_then(|days| {
            if (1..=MAX_EXPIRES_IN_DAYS).contains(&days) {
                Some(now + Duration::days(days))
            } else {
                check.push(
                    "expires_in_days",
                    "out_of_range",
                    format!("must be a whole number of days from 1 to {MAX_EXPIRES_IN_DAYS}"),
                );
                None
            }
        });
        check.finish(TokenFields {
            name,
            role,
            expires_at,
        })
    }
}

/// The actor the audit trail records for changes made by `liaison` subcommands.
pub const COMMAND_LINE: &str = "command line";
/// The actor the audit trail records for the token a first start makes.
pub const FIRST_START: &str = "first start";

/// A new token's name: one line of 1 to 100 characters, none of them a control
/// character, and not an actor name the audit trail gives to changes made without
/// a token. The name is the actor of the token's changes in the audit trail and a
/// column of `liaison token list`: a line break would split the table's row, an
/// escape sequence would be run by the terminal showing it, and a token named
/// `command line` would pass its changes off as an operator's.
fn token_name(check: &mut Checker, name: Option<String>) -> String {
    if name
        .as_deref()
        .is_some_and(|n| n.chars().any(char::is_control))
    {
        check.push(
            "name",
            "invalid_character",
            "must not contain control characters (line breaks, tabs, escapes)",
        );
        return String::new();
    }
    let name = check.required_line("name", name, 100);
    let key = super::name::key(&name);
    if let Some(actor) = [COMMAND_LINE, FIRST_START]
        .into_iter()
        .find(|actor| super::name::key(actor) == key)
    {
        check.push(
            "name",
            "reserved",
            format!(
                "`{actor}` is what the audit trail calls changes made without a token; \
                 choose another name"
            ),
        );
    }
    name
}

/// Who makes a change: the token of the request (or the command line), and the
/// request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub token_id: Option<TokenId>,
    pub name: String,
    pub role: Role,
    pub request_id: Option<String>,
}

impl Actor {
    /// Changes made by `liaison` subcommands, run by whoever can reach the database.
    pub fn command_line() -> Self {
        Actor {
            token_id: None,
            name: COMMAND_LINE.into(),
            role: Role::Admin,
            request_id: None,
        }
    }

    pub fn require(&self, needed: Role) -> Result<(), Forbidden> {
        if self.role.allows(needed) {
            Ok(())
        } else {
            Err(Forbidden {
                needed,
                role: self.role,
            })
        }
    }
}

/// A token's role is below what the operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this needs a token with the `{needed}` role (or higher); this token's role is `{role}`")]
pub struct Forbidden {
    pub needed: Role,
    pub role: Role,
}

vocabulary! {
    /// What a change did.
    AuditAction {
        Create => "create",
        Update => "update",
        Archive => "archive",
        Restore => "restore",
        Move => "move",
        Revoke => "revoke",
    }
}

vocabulary! {
    /// The kinds of record the audit trail follows.
    EntityKind {
        Enterprise => "enterprise",
        Participant => "participant",
        Visit => "visit",
        OrderClass => "order_class",
        InternshipBase => "internship_base",
        Agreement => "agreement",
        Token => "token",
    }
}

impl From<super::stage_machine::SubjectKind> for EntityKind {
    fn from(kind: super::stage_machine::SubjectKind) -> Self {
        use super::stage_machine::SubjectKind;
        match kind {
            SubjectKind::Enterprise => EntityKind::Enterprise,
            SubjectKind::OrderClass => EntityKind::OrderClass,
            SubjectKind::InternshipBase => EntityKind::InternshipBase,
        }
    }
}

/// One change in the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: AuditId,
    #[serde(serialize_with = "rfc3339::serialize")]
    pub at: DateTime<Utc>,
    pub actor: AuditActor,
    pub action: AuditAction,
    pub entity_kind: EntityKind,
    pub entity_id: Uuid,
    /// `{"field": {"old": …, "new": …}}` for every field the change touched.
    pub changes: Value,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditActor {
    /// The token's id; `null` for the command line.
    pub token_id: Option<TokenId>,
    pub name: String,
}

/// Members that change on every write or never change, left out of the changes.
const UNTRACKED: &[&str] = &["id", "created_at", "updated_at", "version"];

/// The fields that differ between two JSON views of a record, each with its old and
/// new value; `before` is `None` for a record just created, whose empty fields are
/// left out.
pub fn changes(before: Option<&Value>, after: &Value) -> Value {
    let empty = Map::new();
    let old = before.and_then(Value::as_object).unwrap_or(&empty);
    let new = after.as_object().unwrap_or(&empty);
    let mut changed = Map::new();
    let keys = old
        .keys()
        .chain(new.keys().filter(|k| !old.contains_key(*k)));
    for key in keys {
        if UNTRACKED.contains(&key.as_str()) {
            continue;
        }
        let was = old.get(key).unwrap_or(&Value::Null);
        let now = new.get(key).unwrap_or(&Value::Null);
        if was != now {
            let mut pair = Map::new();
            pair.insert("old".into(), was.clone());
            pair.insert("new".into(), now.clone());
            changed.insert(key.clone(), Value::Object(pair));
        }
    }
    Value::Object(changed)
}

/// The audit trail's only order: newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditSort {
    At,
}

impl SortKey for AuditSort {
    const DEFAULT: Self = AuditSort::At;
    const DEFAULT_DESCENDING: bool = true;
    fn name(self) -> &'static str {
        "-at"
    }
}

impl std::str::FromStr for AuditSort {
    type Err = String;
    fn from_str(_: &str) -> Result<Self, String> {
        Err("the audit trail is always newest first".into())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    pub entity_id: Option<String>,
    pub entity_kind: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AuditFilter {
    /// Hyphenated, as stored.
    pub entity_id: Option<String>,
    pub entity_kind: Option<EntityKind>,
    /// A token's name, or its id.
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    /// `at >= from`.
    pub from: Option<DateTime<Utc>>,
    /// `at < to`.
    pub to: Option<DateTime<Utc>>,
    pub page: PageRequest<AuditSort>,
}

/// The longest `actor=` an audit query takes, as `openapi.yaml` says.
const MAX_ACTOR_FILTER: usize = 200;

impl AuditFilter {
    pub fn parse(params: &AuditParams) -> Result<Self, DomainError> {
        let mut errors: Vec<FieldError> = Vec::new();
        let from = params
            .from
            .as_deref()
            .and_then(|raw| super::visit::bound("from", raw, false, &mut errors));
        let to = params
            .to
            .as_deref()
            .and_then(|raw| super::visit::bound("to", raw, true, &mut errors));
        if let (Some(from), Some(to)) = (from, to) {
            if to <= from {
                errors.push(FieldError::new("to", "before_from", "must be after `from`"));
            }
        }
        let actor = params
            .actor
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty());
        // Token names are at most 100 characters; the bound keeps the filter cheap.
        if params
            .actor
            .as_deref()
            .is_some_and(|a| a.chars().count() > MAX_ACTOR_FILTER)
        {
            errors.push(FieldError::new(
                "actor",
                "too_long",
                format!("must be at most {MAX_ACTOR_FILTER} characters"),
            ));
        }
        let filter = AuditFilter {
            entity_id: page::parse_id_param::<Uuid>(
                "entity_id",
                params.entity_id.as_deref(),
                &mut errors,
            )
            .map(|id| id.hyphenated().to_string()),
            entity_kind: page::parse_param(
                "entity_kind",
                params.entity_kind.as_deref(),
                "invalid_enum",
                &mut errors,
            ),
            actor: actor.map(str::to_string),
            action: page::parse_param(
                "action",
                params.action.as_deref(),
                "invalid_enum",
                &mut errors,
            ),
            from,
            to,
            page: PageRequest::parse(
                None,
                params.limit.as_deref(),
                params.cursor.as_deref(),
                &mut errors,
            ),
        };
        page::bad_request_unless_empty(errors, filter)
    }

    /// The newest `limit` entries of one record, for `?include=history`.
    pub fn of_record(
        entity_kind: EntityKind,
        entity_id: &impl std::fmt::Display,
        limit: i64,
    ) -> Self {
        AuditFilter {
            entity_id: Some(entity_id.to_string()),
            entity_kind: Some(entity_kind),
            actor: None,
            action: None,
            from: None,
            to: None,
            page: PageRequest::first(limit),
        }
    }
}

/// How many entries `?include=history` embeds; `next` links the rest in `/api/v1/audit`.
pub const HISTORY_LIMIT: i64 = 20;

/// Parses a record's `include=`: only `history` is known.
pub fn wants_history(include: Option<&str>) -> Result<bool, DomainError> {
    let mut history = false;
    let mut errors = Vec::new();
    for name in include
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        if name == "history" {
            history = true;
        } else {
            errors.push(FieldError::new(
                "include",
                "invalid_enum",
                format!("`{name}` is not one of: history"),
            ));
        }
    }
    page::bad_request_unless_empty(errors, history)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Admin.allows(Role::Officer));
        assert!(Role::Officer.allows(Role::Viewer));
        assert!(Role::Officer.allows(Role::Officer));
        assert!(!Role::Viewer.allows(Role::Officer));
        assert!(!Role::Officer.allows(Role::Admin));
        assert!(Role::Viewer.allows(Role::Feed));
        assert!(!Role::Feed.allows(Role::Viewer));
    }

    #[test]
    fn a_new_token_names_its_id_and_matches_only_its_hash() {
        let id = TokenId::generate();
        let (secret, stored) = new_secret(id).expect("random bytes");
        assert_eq!(claimed_id(&secret), Some(id));
        assert!(matches(&secret, &stored));
        let (other, _) = new_secret(id).expect("random bytes");
        assert_ne!(secret, other, "secrets are random");
        assert!(!matches(&other, &stored));
    }

    #[test]
    fn malformed_tokens_claim_nothing() {
        let (secret, _) = new_secret(TokenId::generate()).expect("random bytes");
        for bad in [
            "",
            "liaison_",
            &secret[..secret.len() - 1],
            &format!("{secret}x"),
            &secret.replace("liaison_", "laison_"),
            &format!("{}é{}", &secret[..60], &secret[62..]),
            &format!("{}!{}", &secret[..60], &secret[61..]),
        ] {
            assert_eq!(claimed_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn token_fields_name_every_problem() {
        let now = Utc::now();
        let err = TokenFields::parse(
            TokenInput {
                name: Some("  ".into()),
                role: None,
                expires_in_days: Some(0),
            },
            now,
        )
        .expect_err("invalid");
        let DomainError::Invalid(errors) = err else {
            panic!("not a validation error");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "role", "expires_in_days"]);
        let ok = TokenFields::parse(
            TokenInput {
                name: Some("dashboard".into()),
                role: Some(Role::Viewer),
                expires_in_days: Some(30),
            },
            now,
        )
        .expect("valid");
        assert_eq!(ok.expires_at, Some(now + Duration::days(30)));
    }

    #[test]
    fn token_names_are_one_line_and_not_an_actor_of_the_trail() {
        let code = |name: &str| -> Result<String, Vec<(String, &'static str)>> {
            let input = TokenInput {
                name: Some(name.into()),
                role: Some(Role::Viewer),
                expires_in_days: None,
            };
            match TokenFields::parse(input, Utc::now()) {
                Ok(fields) => Ok(fields.name),
                Err(DomainError::Invalid(errors)) => {
                    Err(errors.iter().map(|e| (e.field.clone(), e.code)).collect())
                }
                Err(other) => panic!("{other}"),
            }
        };
        for bad in [
            "multi\nline",
            "tab\there",
            "\u{1b}[31mred\u{1b}[0m",
            "bell\u{7}",
            "nul\0",
            "del\u{7f}",
            "c1\u{9b}31m",
        ] {
            assert_eq!(
                code(bad),
                Err(vec![("name".to_string(), "invalid_character")]),
                "{bad:?}"
            );
        }
        for reserved in [
            "command line",
            "Command  Line",
            "ｃｏｍｍａｎｄ line",
            "first start",
        ] {
            assert_eq!(
                code(reserved),
                Err(vec![("name".to_string(), "reserved")]),
                "{reserved:?}"
            );
        }
        assert_eq!(code("  command-line  ops "), Ok("command-line ops".into()));
        assert_eq!(code("碳湾 dashboard"), Ok("碳湾 dashboard".into()));
    }

    #[test]
    fn changes_name_only_what_differs() {
        let before = json!({"id": "x", "name": "A", "phone": "1", "version": 1, "city": null});
        let after = json!({"id": "x", "name": "B", "phone": null, "version": 2, "city": null});
        assert_eq!(
            changes(Some(&before), &after),
            json!({"name": {"old": "A", "new": "B"}, "phone": {"old": "1", "new": null}})
        );
        assert_eq!(
            changes(None, &json!({"id": "x", "name": "A", "city": null})),
            json!({"name": {"old": null, "new": "A"}})
        );
    }
}
