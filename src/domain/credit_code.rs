//! 统一社会信用代码 (unified social credit code, GB 32100-2015): 18 characters whose
//! last one is a check character over the first 17.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// The code's alphabet: digits and capitals without I, O, S, V and Z.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weight of position i is 3^i mod 31.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A credit code whose length, alphabet and check character are valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("must be 18 characters, got {0}")]
    Length(usize),
    #[error("character {position} (`{found}`) is not allowed; use digits and capitals except I, O, S, V, Z")]
    Character { position: usize, found: char },
    #[error("check character is `{found}`, the first 17 characters give `{expected}`")]
    CheckCharacter { found: char, expected: char },
}

impl CreditCode {
    /// Parses a code as a person would type it: surrounding spaces, lower case and
    /// full-width characters are accepted and normalised.
    pub fn parse(input: &str) -> Result<Self, CreditCodeError> {
        let code: String = input.trim().nfkc().collect::<String>().to_uppercase();
        let chars: Vec<char> = code.chars().collect();
        if chars.len() != 18 {
            return Err(CreditCodeError::Length(chars.len()));
        }
        let mut values = [0u32; 18];
        for (i, c) in chars.iter().enumerate() {
            values[i] = value_of(*c).ok_or(CreditCodeError::Character {
                position: i + 1,
                found: *c,
            })?;
        }
        let expected = check_of(&values);
        if chars[17] != expected {
            return Err(CreditCodeError::CheckCharacter {
                found: chars[17],
                expected,
            });
        }
        Ok(Self(code))
    }

    /// Completes the first 17 characters of a code with their check character, as
    /// an issuing authority does; `None` when `body` is not 17 characters of the
    /// code's alphabet.
    pub fn complete(body: &str) -> Option<Self> {
        let mut values = [0u32; 18];
        let mut count = 0;
        for c in body.chars() {
            if count == 17 {
                return None;
            }
            values[count] = value_of(c)?;
            count += 1;
        }
        if count != 17 {
            return None;
        }
        let mut code = body.to_string();
        code.push(check_of(&values));
        Some(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The check character of the first 17 values (the 18th is ignored).
fn check_of(values: &[u32; 18]) -> char {
    let sum: u32 = WEIGHTS.iter().zip(values.iter()).map(|(w, v)| w * v).sum();
    ALPHABET[((31 - sum % 31) % 31) as usize] as char
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn value_of(c: char) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|&a| a as char == c)
        .map(|p| p as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Published codes of real organisations.
    const REAL: &[&str] = &[
        "914403001922038216", // Huawei Technologies Co., Ltd.
        "91330100716105852F", // Alibaba (China) Co., Ltd.
        "9144030071526726XG", // Shenzhen Tencent Computer Systems Co., Ltd.
        "91110000802100433B", // another code found in public registrations
        "91350100M000100Y43", // the example printed in many explanations of GB 32100
    ];

    #[test]
    fn accepts_real_codes() {
        for code in REAL {
            assert_eq!(
                CreditCode::parse(code).map(|c| c.0),
                Ok(code.to_string()),
                "{code}"
            );
        }
    }

    #[test]
    fn complete_adds_the_check_character_of_real_codes() {
        for code in REAL {
            let completed = CreditCode::complete(&code[..17]).expect("17 valid characters");
            assert_eq!(completed.as_str(), *code);
            assert_eq!(CreditCode::parse(completed.as_str()), Ok(completed));
        }
    }

    #[test]
    fn complete_refuses_a_wrong_body() {
        assert_eq!(CreditCode::complete("9144030019220382"), None);
        assert_eq!(CreditCode::complete("914403001922038216"), None);
        assert_eq!(CreditCode::complete("9144030019220382I"), None);
        assert_eq!(CreditCode::complete("9144030019220382i"), None);
    }

    #[test]
    fn normalises_case_spaces_and_full_width() {
        let c = CreditCode::parse("  9144030071526726xg ").expect("lower case accepted");
        assert_eq!(c.as_str(), "9144030071526726XG");
        let c =
            CreditCode::parse("９１４４０３００７１５２６７２６ＸＧ").expect("full width accepted");
        assert_eq!(c.as_str(), "9144030071526726XG");
    }

    #[test]
    fn rejects_wrong_length() {
        assert_eq!(CreditCode::parse(""), Err(CreditCodeError::Length(0)));
        assert_eq!(
            CreditCode::parse("91440300192203821"),
            Err(CreditCodeError::Length(17))
        );
        assert_eq!(
            CreditCode::parse("9144030019220382166"),
            Err(CreditCodeError::Length(19))
        );
    }

    #[test]
    fn rejects_letters_outside_the_alphabet() {
        for bad in ['I', 'O', 'S', 'V', 'Z', '-', '中'] {
            let mut code: Vec<char> = "914403001922038216".chars().collect();
            code[4] = bad;
            let code: String = code.into_iter().collect();
            assert!(
                matches!(
                    CreditCode::parse(&code),
                    Err(CreditCodeError::Character { position: 5, .. })
                ),
                "{code}"
            );
        }
    }

    #[test]
    fn rejects_every_single_character_change() {
        for code in REAL {
            let chars: Vec<char> = code.chars().collect();
            for i in 0..18 {
                for &a in ALPHABET.iter() {
                    let a = a as char;
                    if a == chars[i] {
                        continue;
                    }
                    let mut changed = chars.clone();
                    changed[i] = a;
                    let changed: String = changed.into_iter().collect();
                    assert!(CreditCode::parse(&changed).is_err(), "{changed} accepted");
                }
            }
        }
    }

    #[test]
    fn rejects_swapped_neighbours() {
        let chars: Vec<char> = "91330100716105852F".chars().collect();
        for i in 0..17 {
            if chars[i] == chars[i + 1] {
                continue;
            }
            let mut swapped = chars.clone();
            swapped.swap(i, i + 1);
            let swapped: String = swapped.into_iter().collect();
            assert!(CreditCode::parse(&swapped).is_err(), "{swapped} accepted");
        }
    }

    /// Any 17 characters of the alphabet.
    fn body() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(ALPHABET.as_slice()), 17)
            .prop_map(|bytes| String::from_utf8(bytes).expect("ASCII"))
    }

    use proptest::prelude::*;

    proptest! {
        /// Whatever is typed, parsing answers without panicking.
        #[test]
        fn parsing_any_text_never_panics(text in any::<String>()) {
            let _ = CreditCode::parse(&text);
        }

        /// A completed body is a valid code, also typed in lower case or full width.
        #[test]
        fn completed_codes_parse_in_every_spelling(body in body()) {
            let code = CreditCode::complete(&body).expect("17 characters of the alphabet");
            prop_assert_eq!(CreditCode::parse(code.as_str()), Ok(code.clone()));
            prop_assert_eq!(CreditCode::parse(&code.as_str().to_lowercase()), Ok(code.clone()));
            let full_width: String = code
                .as_str()
                .chars()
                .map(|c| char::from_u32(c as u32 - 0x21 + 0xFF01).expect("a full-width form"))
                .collect();
            prop_assert_eq!(CreditCode::parse(&full_width), Ok(code));
        }

        /// Changing any one character of a valid code to another of the alphabet is
        /// caught by the check character.
        #[test]
        fn one_changed_character_is_caught(body in body(), at in 0usize..18, by in 1usize..31) {
            let code = CreditCode::complete(&body).expect("17 characters of the alphabet");
            let mut chars: Vec<u8> = code.as_str().bytes().collect();
            let index = ALPHABET.iter().position(|a| *a == chars[at]).expect("in the alphabet");
            chars[at] = ALPHABET[(index + by) % ALPHABET.len()];
            let changed = String::from_utf8(chars).expect("ASCII");
            prop_assert!(CreditCode::parse(&changed).is_err(), "{} accepted", changed);
        }
    }
}
