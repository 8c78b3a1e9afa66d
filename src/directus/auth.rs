//! Authentication. A static token is sent as it is; email/password needs a session, refreshed
//! (or logged into again) when the access token expires, after 15 minutes by default, so that a
//! long push survives it. Logins are requests too, but carry secrets and no bearer token, so
//! they take their own path here, retried like any request and never logged.

use super::retry::{Backoff, is_overload};
use super::{Client, DirectusError, Request, Result, read_body, snippet};
use crate::secret::Secret;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

/// How to authenticate, in the original tool's precedence: a token wins.
#[derive(Debug, Clone)]
pub enum Credentials {
    Token(Secret),
    Password { email: String, password: Secret },
}

#[derive(Default)]
pub(super) struct Session {
    access_token: Option<String>,
    refresh_token: Option<String>,
}

impl Client {
    /// The bearer token requests carry now (logging in first for email/password), for hooks
    /// that call the instance themselves.
    pub async fn bearer_token(&self) -> Result<String> {
        self.access_token(false).await
    }

    /// The bearer token to send; logs in (or refreshes) for email/password credentials.
    pub(super) async fn access_token(&self, renew: bool) -> Result<String> {
        let (email, password) = match &self.credentials {
            Credentials::Token(token) => return Ok(token.expose().to_string()),
            Credentials::Password { email, password } => (email, password),
        };
        let mut session = self.session.lock().await;
        if let (Some(token), false) = (&session.access_token, renew) {
            return Ok(token.clone());
        }
        if renew && let Some(refresh_token) = session.refresh_token.clone() {
            let body = json!({"refresh_token": refresh_token, "mode": "json"});
            if let Ok(tokens) = self.auth_call("/auth/refresh", &body).await {
                *session = tokens;
                return Ok(session.access_token.clone().unwrap_or_default());
            }
        }
        let body = json!({"email": email, "password": password.expose(), "mode": "json"});
        *session = self.auth_call("/auth/login", &body).await?;
        Ok(session.access_token.clone().unwrap_or_default())
    }

    /// `POST /auth/login` or `/auth/refresh`, retried like any request while the server is
    /// overloaded or rate-limited. The body holds secrets: it is never logged.
    async fn auth_call(&self, path: &str, body: &Value) -> Result<Session> {
        let url = format!("{}{}", self.base, path);
        let mut backoff = Backoff::default();
        let response = loop {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let response = self
                .http
                .post(&url)
                .json(body)
                .send()
                .await
                .map_err(|e| self.transport_error(e))?;
            let status = response.status();
            if is_overload(status)
                && let Some(delay) = backoff.next(response.headers())
            {
                tracing::debug!("POST {path} answered {status}; retrying in {delay:?}");
                drop(response);
                tokio::time::sleep(delay).await;
                continue;
            }
            break response;
        };
        let request = Request::new(Method::POST, path);
        if !response.status().is_success() {
            let error = self.error_from(&request, response).await;
            return Err(self.not_directus_on_404(&format!("POST {path}"), error));
        }
        let text = read_body(&Method::POST, path, response).await?;
        let parsed: Value =
            serde_json::from_str(&text).map_err(|_| DirectusError::NotDirectus {
                url: crate::secret::MaskedUrl::new(&self.base),
                detail: format!("POST {path} answered {}", snippet(&text)),
            })?;
        let token = |key: &str| {
            parsed
                .pointer(&format!("/data/{key}"))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        match token("access_token") {
            Some(access) => Ok(Session {
                access_token: Some(access),
                refresh_token: token("refresh_token"),
            }),
            None => Err(DirectusError::Unauthorized {
                message: format!("POST {path} returned no access token"),
            }),
        }
    }
}
