//! Names and codes of synthetic records: unique enterprise names composed from
//! places, trade-name syllables and industries; valid, unique credit codes; people's
//! names with a pinyin for their mailboxes.

use std::collections::HashSet;

use fastrand::Rng;

use super::super::words::{self, Place, GIVEN, SURNAMES, TRADE};
use super::super::SeedError;
use super::pick;
use crate::domain::credit_code::CreditCode;
use crate::domain::enterprise::EnterpriseKind;
use crate::domain::name;

/// Enterprise names and credit codes in use, the database's and this run's.
pub struct Names {
    pub keys: HashSet<String>,
    pub codes: HashSet<String>,
}

/// Attempts at a unique name or code before giving up (only a tiny word list
/// against a huge N gets near it).
const ATTEMPTS: usize = 1_000;

impl Names {
    /// A new enterprise name, its short form for titles, and a pinyin for its domain.
    pub fn unique_name(
        &mut self,
        rng: &mut Rng,
        kind: EnterpriseKind,
        place: &Place,
        industry: &words::Industry,
    ) -> Result<(String, String, String), SeedError> {
        for attempt in 0..ATTEMPTS {
            let (trade, pinyin) = two_syllables(rng);
            // The first attempts use the common patterns; later ones widen them.
            let wide = attempt >= 8;
            let (name, short) = match kind {
                EnterpriseKind::Company => {
                    let short = format!("{trade}{}", industry.segment);
                    (
                        format!(
                            "{}{short}{}",
                            place.name,
                            pick(rng, words::COMPANY_SUFFIXES)
                        ),
                        short,
                    )
                }
                EnterpriseKind::IndustrialPark => {
                    let short = format!("{trade}{}", pick(rng, words::PARK_TYPES));
                    (format!("{}{short}", place.name), short)
                }
                EnterpriseKind::Association => {
                    let kind = pick(rng, words::ASSOCIATION_TYPES);
                    let short = if wide {
                        format!("{trade}{}{kind}", industry.label)
                    } else {
                        format!("{}{kind}", industry.label)
                    };
                    (format!("{}{short}", place.name), short)
                }
                EnterpriseKind::Government => {
                    let short = format!("{trade}{}", pick(rng, words::ZONE_TYPES));
                    (
                        format!(
                            "{}{short}{}",
                            place.name,
                            pick(rng, words::GOVERNMENT_OFFICES)
                        ),
                        short,
                    )
                }
                EnterpriseKind::Institution => {
                    let (kind, _) = pick(rng, words::INSTITUTION_TYPES);
                    let short = format!("{trade}{kind}");
                    (format!("{}{short}", place.name), short)
                }
            };
            if self.keys.insert(name::key(&name)) {
                return Ok((name, short, pinyin));
            }
        }
        Err(SeedError::Data(format!(
            "no unused {kind} name left after {ATTEMPTS} attempts"
        )))
    }

    /// A new, valid credit code: registration authority and kind, the place's
    /// division code, an organisation code with its GB 11714 check, then the
    /// GB 32100 check character.
    pub fn unique_code(
        &mut self,
        rng: &mut Rng,
        kind: EnterpriseKind,
        place: &Place,
    ) -> Result<String, SeedError> {
        let authority = match kind {
            EnterpriseKind::Company | EnterpriseKind::IndustrialPark => "91",
            EnterpriseKind::Institution => "12",
            EnterpriseKind::Government => "11",
            EnterpriseKind::Association => "51",
        };
        for _ in 0..ATTEMPTS {
            let mut organisation: Vec<u8> = Vec::with_capacity(9);
            if authority == "91" && rng.bool() {
                // Codes issued since 2015 carry "MA" and letters.
                organisation.extend_from_slice(b"MA");
                for _ in 0..6 {
                    organisation.push(*pick(rng, b"0123456789ABCDEFGHJKLMNPQRTUWXY"));
                }
            } else {
                for _ in 0..8 {
                    organisation.push(b'0' + rng.u8(0..10));
                }
            }
            organisation.push(organisation_check(&organisation));
            let body = format!(
                "{authority}{}{}",
                place.division,
                String::from_utf8_lossy(&organisation)
            );
            let code = CreditCode::complete(&body)
                .ok_or_else(|| SeedError::Data(format!("credit code body {body}")))?
                .to_string();
            if self.codes.insert(code.clone()) {
                return Ok(code);
            }
        }
        Err(SeedError::Data(format!(
            "no unused credit code left after {ATTEMPTS} attempts"
        )))
    }
}

/// The check character of an organisation code (GB 11714): weights 3 7 9 10 5 8 4 2
/// over digits and letters (A = 10), eleven minus the sum modulo 11, 10 written X.
fn organisation_check(body: &[u8]) -> u8 {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(c, w)| {
            let value = if c.is_ascii_digit() {
                u32::from(c - b'0')
            } else {
                u32::from(c - b'A') + 10
            };
            value * w
        })
        .sum();
    match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        n => b'0' + n as u8,
    }
}

/// A two-syllable trade name and its pinyin, e.g. ("恒瑞", "hengrui").
pub fn two_syllables(rng: &mut Rng) -> (String, String) {
    let first = rng.usize(..TRADE.len());
    let mut second = rng.usize(..TRADE.len() - 1);
    if second >= first {
        second += 1;
    }
    let ((a, pa), (b, pb)) = (TRADE[first], TRADE[second]);
    (format!("{a}{b}"), format!("{pa}{pb}"))
}

/// A person's name and a mailbox name from its pinyin, e.g. ("王晓明", "xiaoming.wang").
pub fn person_name(rng: &mut Rng) -> (String, String) {
    let (surname, surname_pinyin) = *pick(rng, SURNAMES);
    let (first, first_pinyin) = *pick(rng, GIVEN);
    if rng.bool() {
        let (second, second_pinyin) = *pick(rng, GIVEN);
        (
            format!("{surname}{first}{second}"),
            format!("{first_pinyin}{second_pinyin}.{surname_pinyin}"),
        )
    } else {
        (
            format!("{surname}{first}"),
            format!("{first_pinyin}.{surname_pinyin}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::words::PLACES;

    #[test]
    fn organisation_check_matches_published_codes() {
        // The organisation codes inside published credit codes (characters 9–17).
        for code in [
            "914403001922038216",
            "91330100716105852F",
            "9144030071526726XG",
        ] {
            let organisation = &code.as_bytes()[8..17];
            assert_eq!(
                organisation_check(&organisation[..8]),
                organisation[8],
                "{code}"
            );
        }
    }

    #[test]
    fn generated_codes_validate() {
        let mut rng = Rng::with_seed(7);
        let mut names = Names {
            keys: HashSet::new(),
            codes: HashSet::new(),
        };
        for kind in EnterpriseKind::ALL {
            for _ in 0..200 {
                let code = names
                    .unique_code(&mut rng, *kind, &PLACES[0])
                    .expect("a code");
                assert_eq!(CreditCode::parse(&code).map(|c| c.to_string()), Ok(code));
            }
        }
    }
}
