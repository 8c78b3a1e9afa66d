//! The instance's address: which URLs the client takes at all.

use super::DirectusError;
use crate::secret::{MaskedUrl, has_userinfo};
use url::Url;

/// `url` parsed, if the client may connect to it: http or https, and no credentials in it
/// (they would go out as HTTP basic auth besides our own, and end up in logs and records).
pub fn parse(url: &str) -> Result<Url, DirectusError> {
    let invalid = |reason: String| DirectusError::InvalidUrl {
        url: MaskedUrl::new(url),
        reason,
    };
    if has_userinfo(url) {
        return Err(invalid(
            "credentials in the URL are never sent; pass a token, or an email and password".into(),
        ));
    }
    let parsed = Url::parse(url).map_err(|e| invalid(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https".into()));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_credentials_are_refused_masked() {
        let error = parse("http://admin:hunter2@127.0.0.1:8055/").unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("http://***@127.0.0.1:8055/") && !message.contains("hunter2"),
            "{message}"
        );
        assert!(!format!("{error:?}").contains("hunter2"), "{error:?}");
        assert!(parse("http://user@host").is_err());
        assert!(parse("ftp://host").is_err());
        assert!(parse("http://127.0.0.1:8055/").is_ok());
    }
}
