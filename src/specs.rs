//! The GraphQL and OpenAPI specifications of an instance, saved beside the dump for review.

use crate::directus::{Client, DirectusError, Request};
use crate::json::to_dump_string;
use reqwest::Method;

/// The specs as the dump holds them: text, never compared item by item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Specs {
    pub item_graphql: String,
    pub system_graphql: String,
    /// In the dump's JSON format.
    pub openapi: String,
}

impl Specs {
    pub async fn fetch(client: &Client) -> Result<Specs, DirectusError> {
        let (item_graphql, system_graphql, openapi) = tokio::try_join!(
            client.text(Request::new(Method::GET, "/server/specs/graphql")),
            client.text(Request::new(Method::GET, "/server/specs/graphql/system")),
            client.get("/server/specs/oas"),
        )?;
        Ok(Specs {
            item_graphql,
            system_graphql,
            openapi: to_dump_string(&openapi),
        })
    }
}
