//! Name normalisation: the key under which two spellings of one name are the same.

use unicode_normalization::UnicodeNormalization;

/// Collapses surrounding and inner whitespace to single spaces, without changing case.
pub fn tidy(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ")
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
