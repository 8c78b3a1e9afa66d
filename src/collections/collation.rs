//! Emulates the order of JavaScript's `String.prototype.localeCompare` (ICU root collation)
//! for the characters that appear in sort keys, so that dumps list items in the same order as
//! the original tool's. Differences from byte order: letters compare case-insensitively first
//! (lowercase before uppercase on ties), punctuation sorts before digits and digits before
//! letters, and `_` sorts before `-`.

use std::cmp::Ordering;

/// ICU root order of ASCII punctuation and symbols (variable characters first).
const PUNCTUATION: &str = "_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";

fn primary(c: char) -> (u8, u32) {
    if c.is_whitespace() {
        return (0, c as u32);
    }
    if let Some(position) = PUNCTUATION.find(c) {
        return (1, position as u32);
    }
    if c.is_ascii_digit() {
        return (2, c as u32);
    }
    if c.is_alphabetic() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        return (3, lower as u32);
    }
    (4, c as u32)
}

/// Compares like `a.localeCompare(b)` for ASCII keys; deterministic for any input.
pub fn collate(a: &str, b: &str) -> Ordering {
    let primary_order = a.chars().map(primary).cmp(b.chars().map(primary));
    primary_order.then_with(|| {
        // Tie-break on case, lowercase first, then bytes so that distinct strings never tie.
        let case = |s: &str| s.chars().map(|c| c.is_uppercase()).collect::<Vec<_>>();
        case(a).cmp(&case(b)).then_with(|| a.cmp(b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_icu_root_order() {
        assert_eq!(collate("R-foo_bar-create", "R-foo-read"), Ordering::Less);
        assert_eq!(collate("a", "B"), Ordering::Less);
        assert_eq!(collate("a", "A"), Ordering::Less);
        assert_eq!(collate("9", "a"), Ordering::Less);
        assert_eq!(collate("-", "0"), Ordering::Less);
        assert_eq!(collate("abc", "abc"), Ordering::Equal);
        let mut uuids = vec!["f0", "0a", "a0", "09"];
        uuids.sort_by(|a, b| collate(a, b));
        assert_eq!(uuids, ["09", "0a", "a0", "f0"]);
    }
}
