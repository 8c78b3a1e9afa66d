//! The GraphQL and OpenAPI specifications of an instance, saved beside the dump for review.

use crate::directus::{Client, DirectusError, Request};
use crate::dump::json::to_dump_string;
use reqwest::Method;
use std::path::PathBuf;

pub struct Specs {
    pub item_graphql: String,
    pub system_graphql: String,
    pub openapi: serde_json::Value,
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
            openapi,
        })
    }

    /// Files relative to the specs folder; GraphQL byte for byte as Directus sent it.
    pub fn to_files(&self) -> Vec<(PathBuf, String)> {
        vec![
            (PathBuf::from("item.graphql"), self.item_graphql.clone()),
            (PathBuf::from("system.graphql"), self.system_graphql.clone()),
            (PathBuf::from("openapi.json"), to_dump_string(&self.openapi)),
        ]
    }
}
