//! directus-sync: keeps the configuration of Directus 10 instances under version control.
//!
//! Data flows one way: instance → [`dump::Dump`] → files and commit for `pull`; revision →
//! `Dump` → [`plan::Plan`] → instance for `push`. The binary in `main.rs` only calls
//! [`cli::main`]; `docs/architecture.md` draws the modules.

pub mod audit;
pub mod cli;
pub mod collections;
pub mod commands;
pub mod config;
pub mod directus;
pub mod dump;
pub mod flows;
pub mod git;
pub mod hooks;
pub mod idmap;
pub mod instance;
pub mod json;
pub mod lock;
pub mod plan;
pub mod secret;
pub mod snapshot;
pub mod specs;
pub mod text;
pub mod ui;
pub mod values;
