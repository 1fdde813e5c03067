//! Domain: entities, vocabularies and validation rules; no I/O.

pub mod access;
pub mod agreement;
pub mod calendar;
pub mod credit_code;
pub mod enterprise;
pub mod error;
pub mod ids;
pub mod input;
pub mod internship_base;
pub mod name;
pub mod order_class;
pub mod page;
pub mod participant;
pub mod report;
pub mod rfc3339;
pub mod stage;
pub mod stage_machine;
pub mod timeline;
pub mod transition;
pub mod visit;

pub use error::{DomainError, FieldError};

/// Declares a closed vocabulary: a snake_case serde enum that also knows its
/// database spelling and the list of its values (for error messages).
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The accepted spellings, for error messages.
            pub fn expected() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!("`{other}` is not one of: {}", Self::expected())),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use vocabulary;

/// The current time, at the microsecond precision both databases keep.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(6)
}

/// Today's date in UTC: the day against which agreement validity is judged.
pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// An `If-Match` precondition: the versions a client believes current.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match`, or `If-Match: *`: any current version will do.
    #[default]
    Any,
    /// One of these versions must be current; an empty list never matches.
    Versions(Vec<i64>),
}

impl Precondition {
    pub fn check(&self, current: i64) -> Result<(), DomainError> {
        match self {
            Precondition::Versions(versions) if !versions.contains(&current) => {
                Err(DomainError::Stale { current })
            }
            _ => Ok(()),
        }
    }
}
