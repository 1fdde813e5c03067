//! List parameters shared by every resource: sort keys, limits and keyset cursors.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{Deserialize, Serialize};

use super::FieldError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// A sort key and direction, as in `sort=-created_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<K> {
    pub key: K,
    pub descending: bool,
}

/// Where the previous page ended: the sort it was made for, the last item's sort
/// value and its id (the tie-breaker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "s")]
    pub sort: String,
    #[serde(rename = "v")]
    pub value: String,
    #[serde(rename = "i")]
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        // Serialising a struct of strings cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Reads a cursor back; `None` for anything this service would not have made:
    /// the tie-breaker must be a record's id, and no stored value holds a NUL.
    fn decode(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        let cursor: Self = serde_json::from_slice(&bytes).ok()?;
        let made_here =
            cursor.id.parse::<uuid::fmt::Hyphenated>().is_ok() && !cursor.value.contains('\0');
        made_here.then_some(cursor)
    }
}

/// One page of a list.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Converts every item, keeping the cursor; the first failure wins.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, E>>()?,
            next_cursor: self.next_cursor,
        })
    }
}

/// A page embedded in another record: the first items, and where the rest are.
#[derive(Debug, Serialize)]
pub struct Embedded<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    /// The list request that continues after these items, when there are more.
    pub next: Option<String>,
}

impl<T> Embedded<T> {
    /// `list` is the path and filter of the full list, e.g. `/api/v1/visits?enterprise_id=…`.
    pub fn new(page: Page<T>, list: &str) -> Self {
        let next = page
            .next_cursor
            .as_ref()
            .map(|cursor| format!("{list}&cursor={cursor}"));
        Embedded {
            items: page.items,
            next_cursor: page.next_cursor,
            next,
        }
    }
}

/// Validated paging: how many items, in what order, after which item.
#[derive(Debug, Clone)]
pub struct PageRequest<K> {
    pub sort: Sort<K>,
    pub limit: i64,
    pub after: Option<Cursor>,
}

impl<K: Copy + std::str::FromStr<Err = String> + SortKey> PageRequest<K> {
    /// Parses `sort`, `limit` and `cursor`, adding any problem to `errors`.
    pub fn parse(
        sort: Option<&str>,
        limit: Option<&str>,
        cursor: Option<&str>,
        errors: &mut Vec<FieldError>,
    ) -> Self {
        let mut parsed_sort = Sort {
            key: K::DEFAULT,
            descending: K::DEFAULT_DESCENDING,
        };
        if let Some(raw) = sort {
            let (descending, name) = match raw.strip_prefix('-') {
                Some(name) => (true, name),
                None => (false, raw),
            };
            match name.parse::<K>() {
                Ok(key) => parsed_sort = Sort { key, descending },
                Err(message) => errors.push(FieldError::new("sort", "unknown_sort", message)),
            }
        }
        let mut parsed_limit = DEFAULT_LIMIT;
        if let Some(raw) = limit {
            match raw.parse::<i64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => parsed_limit = n,
                _ => errors.push(FieldError::new(
                    "limit",
                    "out_of_range",
                    format!("must be a whole number from 1 to {MAX_LIMIT}"),
                )),
            }
        }
        let sort_name = Self::first(parsed_limit).with_sort(parsed_sort).sort_name();
        let after = cursor.and_then(|raw| match Cursor::decode(raw) {
            Some(c) if c.sort == sort_name => Some(c),
            Some(c) => {
                errors.push(FieldError::new(
                    "cursor",
                    "cursor_mismatch",
                    format!(
                        "this cursor continues `sort={}`, not `sort={sort_name}`",
                        c.sort
                    ),
                ));
                None
            }
            None => {
                errors.push(FieldError::new(
                    "cursor",
                    "invalid_cursor",
                    "not a cursor returned by this list",
                ));
                None
            }
        });
        Self {
            sort: parsed_sort,
            limit: parsed_limit,
            after,
        }
    }

    /// The first `limit` items in the default order, for a caller that is not a
    /// client's list request (such as a record embedded in another's page).
    pub fn first(limit: i64) -> Self {
        Self {
            sort: Sort {
                key: K::DEFAULT,
                descending: K::DEFAULT_DESCENDING,
            },
            limit: limit.clamp(0, MAX_LIMIT),
            after: None,
        }
    }

    /// Continues after `next_cursor`, a cursor this request's own page returned.
    pub fn continue_from(&mut self, next_cursor: &str) -> Result<(), super::DomainError> {
        match Cursor::decode(next_cursor) {
            Some(cursor) if cursor.sort == self.sort_name() => {
                self.after = Some(cursor);
                Ok(())
            }
            _ => Err(super::DomainError::BadRequest(vec![FieldError::new(
                "cursor",
                "invalid_cursor",
                "not a cursor returned by this list",
            )])),
        }
    }

    fn with_sort(self, sort: Sort<K>) -> Self {
        Self { sort, ..self }
    }

    /// The `sort` parameter that this request stands for, as stored in cursors.
    pub fn sort_name(&self) -> String {
        let prefix = if self.sort.descending { "-" } else { "" };
        format!("{prefix}{}", self.sort.key.name())
    }

    /// Builds a page from up to `limit + 1` rows: the extra row only says there is more.
    pub fn page<T>(&self, mut rows: Vec<T>, cursor_of: impl Fn(&T) -> (String, String)) -> Page<T> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = match rows.last() {
            Some(last) if more => {
                let (value, id) = cursor_of(last);
                Some(
                    Cursor {
                        sort: self.sort_name(),
                        value,
                        id,
                    }
                    .encode(),
                )
            }
            _ => None,
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

/// A resource's sortable keys.
pub trait SortKey: Sized {
    const DEFAULT: Self;
    /// Whether the default order is newest (or largest) first.
    const DEFAULT_DESCENDING: bool = false;
    fn name(self) -> &'static str;
}

/// The parsed request, or a 400 naming every bad parameter.
pub fn bad_request_unless_empty<T>(
    errors: Vec<FieldError>,
    value: T,
) -> Result<T, super::DomainError> {
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(super::DomainError::BadRequest(errors))
    }
}

/// Parses a boolean query flag (`true`/`false`, `1`/`0`).
pub fn parse_flag(field: &str, raw: Option<&str>, errors: &mut Vec<FieldError>) -> bool {
    match raw {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(_) => {
            errors.push(FieldError::new(
                field,
                "invalid_boolean",
                "must be `true` or `false`",
            ));
            false
        }
    }
}

/// Parses an optional query value with `FromStr`, adding a problem to `errors`.
pub fn parse_param<T: std::str::FromStr>(
    field: &str,
    raw: Option<&str>,
    code: &'static str,
    errors: &mut Vec<FieldError>,
) -> Option<T>
where
    T::Err: std::fmt::Display,
{
    match raw?.parse() {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(FieldError::new(field, code, e.to_string()));
            None
        }
    }
}

/// Parses an optional id in a query: one that is not a UUID is a problem that says so.
pub fn parse_id_param<T>(field: &str, raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<T>
where
    T: std::str::FromStr<Err = uuid::Error>,
{
    match raw?.parse() {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(FieldError::new(
                field,
                "invalid_id",
                format!("must be a UUID ({e})"),
            ));
            None
        }
    }
}

/// A search text for `q=`: normalised like names, `None` when blank.
pub fn search_text(raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let q = super::name::key(raw?);
    if q.contains('\0') {
        errors.push(FieldError::new(
            "q",
            "invalid_character",
            "must not contain NUL characters",
        ));
        return None;
    }
    if q.chars().count() > 200 {
        errors.push(FieldError::new(
            "q",
            "too_long",
            "must be at most 200 characters",
        ));
        return None;
    }
    (!q.is_empty()).then_some(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Key {
        Name,
        CreatedAt,
    }
    impl std::str::FromStr for Key {
        type Err = String;
        fn from_str(s: &str) -> Result<Self, String> {
            match s {
                "name" => Ok(Key::Name),
                "created_at" => Ok(Key::CreatedAt),
                _ => Err("unknown".into()),
            }
        }
    }
    impl SortKey for Key {
        const DEFAULT: Self = Key::CreatedAt;
        fn name(self) -> &'static str {
            match self {
                Key::Name => "name",
                Key::CreatedAt => "created_at",
            }
        }
    }

    #[test]
    fn cursor_round_trips_and_must_match_the_sort() {
        let mut errors = vec![];
        let first: PageRequest<Key> =
            PageRequest::parse(Some("-name"), Some("2"), None, &mut errors);
        assert!(errors.is_empty());
        assert_eq!(
            first.sort,
            Sort {
                key: Key::Name,
                descending: true
            }
        );
        let page = first.page(vec!["c", "b", "a"], |s| {
            (
                s.to_string(),
                format!("01a22514-c2d6-7588-937c-56af8c5187c{s}"),
            )
        });
        assert_eq!(page.items, ["c", "b"]);
        let cursor = page.next_cursor.expect("more rows");
        let next: PageRequest<Key> =
            PageRequest::parse(Some("-name"), None, Some(&cursor), &mut errors);
        assert!(errors.is_empty());
        assert_eq!(next.after.map(|c| c.value), Some("b".to_string()));
        let _: PageRequest<Key> =
            PageRequest::parse(Some("name"), None, Some(&cursor), &mut errors);
        assert_eq!(errors[0].code, "cursor_mismatch");
    }

    #[test]
    fn rejects_bad_parameters() {
        let mut errors = vec![];
        let _: PageRequest<Key> =
            PageRequest::parse(Some("size"), Some("0"), Some("%%%"), &mut errors);
        let codes: Vec<_> = errors.iter().map(|e| e.code).collect();
        assert_eq!(codes, ["unknown_sort", "out_of_range", "invalid_cursor"]);
        let mut errors = vec![];
        let _: PageRequest<Key> = PageRequest::parse(None, Some("201"), None, &mut errors);
        assert_eq!(errors.len(), 1);
    }
}
