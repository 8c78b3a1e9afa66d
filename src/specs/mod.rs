//! The GraphQL and OpenAPI specifications of an instance, saved beside the dump for review.
//!
//! Kept as the instance's configuration shows in them, not as the instance served them: the
//! hidden collections (the id map's) are removed, the instance's URL is replaced, and what
//! Directus lists in the order the instance's collections and fields were created is sorted.
//! So a pull that changes nothing commits nothing, and two environments with one
//! configuration have identical specs.

mod graphql;
mod openapi;

pub use openapi::SERVER_URL;

use crate::directus::{Client, DirectusError, Request};
use reqwest::Method;

/// The specs as the dump holds them: text, never compared item by item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Specs {
    pub item_graphql: String,
    pub system_graphql: String,
    /// In the dump's JSON format.
    pub openapi: String,
}

const ITEM_GRAPHQL: &str = "/server/specs/graphql";
const SYSTEM_GRAPHQL: &str = "/server/specs/graphql/system";
const OPENAPI: &str = "/server/specs/oas";

impl Specs {
    pub async fn fetch(client: &Client) -> Result<Specs, DirectusError> {
        let (item_graphql, system_graphql, openapi) = tokio::try_join!(
            client.text(Request::new(Method::GET, ITEM_GRAPHQL)),
            client.text(Request::new(Method::GET, SYSTEM_GRAPHQL)),
            client.text(Request::new(Method::GET, OPENAPI)),
        )?;
        let hidden = crate::snapshot::hidden();
        Ok(Specs::from_served(
            &item_graphql,
            &system_graphql,
            &openapi,
            &hidden,
        ))
    }

    /// The specs an instance served, without the `hidden` collections, its URL and the order
    /// of its collections and columns.
    pub fn from_served(
        item_graphql: &str,
        system_graphql: &str,
        openapi: &str,
        hidden: &[&str],
    ) -> Specs {
        Specs {
            item_graphql: sdl(ITEM_GRAPHQL, item_graphql, hidden),
            system_graphql: sdl(SYSTEM_GRAPHQL, system_graphql, hidden),
            openapi: openapi::normalized(openapi, hidden).unwrap_or_else(|| {
                tracing::warn!("{OPENAPI} did not read as JSON; it is saved as served");
                openapi.to_string()
            }),
        }
    }
}

/// A text the lexer cannot split is kept as served: the specs are for reading, and a pull
/// should not fail over them.
fn sdl(path: &str, served: &str, hidden: &[&str]) -> String {
    graphql::normalize(served, hidden).unwrap_or_else(|| {
        tracing::warn!(
            "{path} did not read as GraphQL SDL; it is saved as served, hidden collections included"
        );
        served.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn served_specs_are_normalized_and_broken_sdl_is_kept() {
        let specs = Specs::from_served(
            "type Query {\n  b: Int\n  sync_id_map_by_id(id: ID!): sync_id_map\n  a: Int\n}",
            "type Query {\n",
            &json!({"servers": [{"url": "http://10.1.2.3:8055"}]}).to_string(),
            &["sync_id_map"],
        );
        assert_eq!(specs.item_graphql, "type Query {\n  a: Int\n  b: Int\n}");
        assert_eq!(specs.system_graphql, "type Query {\n");
        assert_eq!(
            specs.openapi,
            "{\n  \"servers\": [\n    {\n      \"url\": \"http://directus.example\"\n    }\n  ]\n}\n"
        );
    }
}
