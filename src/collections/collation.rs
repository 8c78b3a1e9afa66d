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

/// Orders names the way people count: runs of digits by their value (`Role 2` before
/// `Role 10`, which [`collate`] puts the other way), the rest as [`collate`] does.
pub fn natural(a: &str, b: &str) -> Ordering {
    let (mut left, mut right) = (runs(a), runs(b));
    let primary_order = loop {
        let order = match (left.next(), right.next()) {
            (None, None) => break Ordering::Equal,
            (None, Some(_)) => break Ordering::Less,
            (Some(_), None) => break Ordering::Greater,
            (Some(Run::Number(x)), Some(Run::Number(y))) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            // A run of other characters never starts with a digit, so a number and a word are
            // told apart by their first characters: the order stays one order.
            (Some(x), Some(y)) => x
                .text()
                .chars()
                .map(primary)
                .cmp(y.text().chars().map(primary)),
        };
        if order != Ordering::Equal {
            break order;
        }
    };
    primary_order.then_with(|| collate(a, b))
}

enum Run<'a> {
    Number(&'a str),
    Text(&'a str),
}

impl<'a> Run<'a> {
    fn text(&self) -> &'a str {
        match self {
            Run::Number(text) | Run::Text(text) => text,
        }
    }
}

/// `Role 10b` as `Role `, `10`, `b`.
fn runs(text: &str) -> impl Iterator<Item = Run<'_>> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let digits = first.is_ascii_digit();
        let end = rest
            .find(|c: char| c.is_ascii_digit() != digits)
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(end);
        rest = tail;
        Some(match digits {
            true => Run::Number(run),
            false => Run::Text(run),
        })
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

    #[test]
    fn natural_order_counts_numbers() {
        let mut names = vec![
            "Role 170", "Role 2", "role 10", "Role 10", "Role 010", "Role", "Role 9b", "Role 9a",
            "Editor", "3",
        ];
        names.sort_by(|a, b| natural(a, b));
        assert_eq!(
            names,
            [
                "3", "Editor", "Role", "Role 2", "Role 9a", "Role 9b", "Role 010", "role 10",
                "Role 10", "Role 170"
            ]
        );
        assert_eq!(natural("a", "a"), Ordering::Equal);
    }
}
