//! Newtype ids, so that one kind of record's id cannot stand in for another's.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($name:ident) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl $name {
            /// A new time-ordered (v7) id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        /// Only the hyphenated form the API writes (in either case): the braced,
        /// `urn:uuid:` and undashed forms `Uuid` also reads are not ids here.
        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse::<uuid::fmt::Hyphenated>()
                    .map(|id| Self(id.into_uuid()))
            }
        }
    };
}

id_type!(EnterpriseId);
id_type!(ParticipantId);
id_type!(OrderClassId);
id_type!(InternshipBaseId);
id_type!(AgreementId);
id_type!(VisitId);
id_type!(TransitionId);
id_type!(TokenId);
id_type!(AuditId);
