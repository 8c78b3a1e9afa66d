//! Counted nouns for messages: "1 item", "2 items".

/// `n` and the noun in the number it takes.
pub fn count(n: usize, one: &str, many: &str) -> String {
    match n {
        1 => format!("1 {one}"),
        _ => format!("{n} {many}"),
    }
}

/// `text` cut to at most `max` characters, with `…` when cut.
pub fn clip(text: &str, max: usize) -> String {
    match text.chars().count() > max {
        true => format!(
            "{}…",
            text.chars().take(max.saturating_sub(1)).collect::<String>()
        ),
        false => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_is_singular() {
        assert_eq!(super::count(1, "item", "items"), "1 item");
        assert_eq!(super::count(0, "item", "items"), "0 items");
        assert_eq!(
            super::count(2, "id-map row", "id-map rows"),
            "2 id-map rows"
        );
    }
}
