//! A value that must never be printed: tokens and passwords. `Debug` and `Display` mask it, so a
//! `{:?}` of any struct holding one (options, credentials, errors) cannot leak it. URLs are
//! printed and stored (messages, `--debug`, commit trailers, notes) only through [`mask_url`],
//! so that credentials written into one (`http://user:pass@host`) never leave the process.

use std::fmt;

#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that sends it (an HTTP header, a login body).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where the userinfo of `url` sits: from after `scheme://` (or the start, without a scheme) to
/// its last `@`. The last, not the first, and anywhere in the rest: a password holding an
/// unencoded `@`, `/`, `?` or `#` must be masked whole, and a Directus base URL has no other
/// use for `@`.
fn userinfo(url: &str) -> Option<(usize, usize)> {
    let start = match url.find("://") {
        Some(end)
            if end > 0
                && url[..end]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            end + 3
        }
        _ => 0,
    };
    let at = url[start..].rfind('@')?;
    Some((start, start + at))
}

/// Whether `url` carries credentials (`user:pass@` or `user@` before the host).
pub fn has_userinfo(url: &str) -> bool {
    userinfo(url).is_some()
}

/// `url` as it may be printed or stored: its userinfo, if any, becomes `***`
/// (`http://***@host:8055/`).
pub fn mask_url(url: &str) -> String {
    match userinfo(url) {
        Some((start, at)) => format!("{}***{}", &url[..start], &url[at..]),
        None => url.to_string(),
    }
}

/// A URL option: `Debug` and `Display` show it masked ([`mask_url`]), so that the `--debug`
/// line and any `{:?}` of the options cannot leak credentials written into it.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct MaskedUrl(String);

impl MaskedUrl {
    pub fn new(url: impl Into<String>) -> MaskedUrl {
        MaskedUrl(url.into())
    }

    /// The URL as given, for the client that connects to it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MaskedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", mask_url(&self.0))
    }
}

impl fmt::Display for MaskedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask_url(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn never_prints_its_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(
            format!("{secret} {secret:?} {:?}", Some(&secret)),
            "*** *** Some(***)"
        );
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn urls_print_without_their_userinfo() {
        for (url, masked) in [
            ("http://user:pass@host:8055/", "http://***@host:8055/"),
            ("https://user@host", "https://***@host"),
            ("http://:pass@host", "http://***@host"),
            (
                "http://u:p@ss/w?rd#x@127.0.0.1:8055",
                "http://***@127.0.0.1:8055",
            ),
            ("user:pass@host:8055", "***@host:8055"),
            (" http://user:pass@host", "***@host"),
            ("x/?next=http://user:pass@host", "***@host"),
            ("http://127.0.0.1:8055/", "http://127.0.0.1:8055/"),
            ("localhost:8055", "localhost:8055"),
            ("", ""),
        ] {
            assert_eq!(mask_url(url), masked, "{url:?}");
            assert_eq!(has_userinfo(url), url != masked, "{url:?}");
        }
        let option = MaskedUrl::new("http://admin:hunter2@cms");
        assert_eq!(
            format!("{option} {option:?} {:?}", Some(&option)),
            "http://***@cms \"http://***@cms\" Some(\"http://***@cms\")"
        );
        assert_eq!(option.expose(), "http://admin:hunter2@cms");
    }

    proptest! {
        #[test]
        fn a_password_in_a_url_never_shows_in_its_masked_text(
            scheme in "(https?|ftp|[a-z][a-z0-9+.-]{0,6})",
            user in "[^@]{0,12}",
            password in "\\PC{1,24}",
            host in "[a-z0-9.-]{1,20}",
            port in proptest::option::of(1u16..),
            path in "(/[a-z0-9._~-]{0,8}){0,3}",
        ) {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let url = format!("{scheme}://{user}:{password}@{host}{port}{path}");
            let masked = mask_url(&url);
            prop_assert_eq!(&masked, &format!("{scheme}://***@{host}{port}{path}"));
            prop_assert!(has_userinfo(&url));
            // The visible rest of the URL may happen to hold the password's characters.
            prop_assume!(!format!("{scheme}://***@{host}{port}{path}").contains(&password));
            prop_assert!(!masked.contains(&password));
            let userinfo = format!("{user}:{password}");
            prop_assert!(!masked.contains(&userinfo));
        }

        #[test]
        fn masking_is_idempotent_and_keeps_no_userinfo_but_its_mark(text in "\\PC{0,40}") {
            let masked = mask_url(&text);
            prop_assert_eq!(mask_url(&masked), masked.clone());
            prop_assert_eq!(has_userinfo(&masked), has_userinfo(&text));
            if let Some((start, at)) = userinfo(&masked) {
                prop_assert_eq!(&masked[start..at], "***");
            }
        }
    }
}
