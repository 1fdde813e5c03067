//! Name normalisation: the key under which two spellings of one name are the same.

use unicode_normalization::UnicodeNormalization;

/// Collapses surrounding and inner whitespace to single spaces, without changing
/// case, and drops the characters that show nothing and mean nothing in a one-line
/// text (a zero-width space, a word joiner, a byte order mark, a soft hyphen), so
/// that a name pasted with one is the name without it. Joiners that shape a script
/// (U+200C, U+200D) and direction marks are kept.
pub fn tidy(name: &str) -> String {
    let shown: String = name.chars().filter(|c| !invisible(*c)).collect();
    shown.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}')
}

/// The comparison key of a name: NFKC (full-width letters, digits and spaces become
/// their ASCII forms), lower case, whitespace runs collapsed to one space.
pub fn key(name: &str) -> String {
    let folded: String = name.nfkc().collect::<String>().to_lowercase();
    tidy(&folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_trims_and_collapses() {
        assert_eq!(
            tidy("  Carbonbay   Chemical\tCo. "),
            "Carbonbay Chemical Co."
        );
        assert_eq!(tidy("碳湾\u{3000}化工"), "碳湾 化工");
        assert_eq!(tidy("测试\u{200b}企业\u{feff}"), "测试企业");
        assert_eq!(
            tidy("Carbon\u{00ad}bay \u{2060} Chemical"),
            "Carbonbay Chemical"
        );
        // A zero-width non-joiner spells a Persian or Uyghur word: kept.
        assert_eq!(tidy("می\u{200c}خواهم"), "می\u{200c}خواهم");
    }

    #[test]
    fn key_ignores_case_width_and_spacing() {
        let expected = "carbonbay chemical co.";
        for variant in [
            "Carbonbay Chemical Co.",
            "CARBONBAY CHEMICAL CO.",
            "  carbonbay   chemical co. ",
            "Ｃａｒｂｏｎｂａｙ　Ｃｈｅｍｉｃａｌ　Ｃｏ．",
            "Carbonbay\u{00a0}Chemical\nCo.",
        ] {
            assert_eq!(key(variant), expected, "{variant:?}");
        }
    }

    #[test]
    fn key_keeps_distinct_names_distinct() {
        assert_ne!(key("Carbonbay Chemical"), key("Carbonbay Chemicals"));
        assert_ne!(key("碳湾化工"), key("碳湾化学"));
        assert_eq!(key("碳湾（集团）"), key("碳湾(集团)"));
    }
}
