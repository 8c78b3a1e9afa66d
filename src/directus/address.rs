//! The instance's address: which URLs the client takes at all, and which ones carry the
//! credentials across the network in clear text.

use super::DirectusError;
use crate::secret::{MaskedUrl, has_userinfo, mask_url};
use std::collections::HashSet;
use std::sync::Mutex;
use url::{Host, Url};

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

/// Whether `host` is this machine: `localhost`, `127.0.0.0/8` or `::1` (also as an IPv4-mapped
/// address), where plain http never leaves the machine.
pub fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|ip| ip.is_loopback())
        }
    }
}

/// Whether requests to `url` carry the token (or the email and password) unencrypted over a
/// network: plain http to a host that is not this machine.
pub fn in_clear(url: &Url) -> bool {
    url.scheme() == "http" && !url.host().as_ref().is_some_and(is_loopback)
}

/// Warns that `given` (parsed: `url`) sends credentials in clear text, once per URL and run: a
/// run may connect to the same instance more than once (and `status` to several).
pub fn warn_if_in_clear(given: &str, url: &Url) {
    static WARNED: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    if !in_clear(url) {
        return;
    }
    let mut warned = WARNED.lock().unwrap_or_else(|p| p.into_inner());
    if warned
        .get_or_insert_with(HashSet::new)
        .insert(url.to_string())
    {
        tracing::warn!(
            "{} is plain http to another machine: the token (or email and password) travels \
             unencrypted; use https",
            mask_url(given)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_in_clear_unless_the_host_is_this_machine() {
        let in_clear = |url: &str| in_clear(&Url::parse(url).unwrap());
        for local in [
            "http://localhost:8055",
            "http://LOCALHOST/",
            "http://127.0.0.1:8055",
            "http://127.1.2.3",
            "http://127.1/",
            "http://[::1]:8055",
            "http://[::ffff:127.0.0.1]/",
            "https://cms.example.com",
            "https://10.0.0.5",
        ] {
            assert!(!in_clear(local), "{local}");
        }
        for remote in [
            "http://cms.example.com",
            "http://10.0.0.5:8055",
            "http://128.0.0.1",
            "http://[::2]/",
            "http://localhost.example.com",
            "http://0.0.0.0:8055",
        ] {
            assert!(in_clear(remote), "{remote}");
        }
    }

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
