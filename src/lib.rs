//! directus-sync: keeps the configuration of Directus 10 instances under version control.
//!
//! Data flows one way: instance → model → dump → commit for `pull`; dump → plan → instance for
//! `push`. The binary in `main.rs` only calls [`cli::main`].

pub mod cli;
pub mod collections;
pub mod commands;
pub mod config;
pub mod directus;
pub mod dump;
pub mod git;
pub mod hooks;
pub mod idmap;
pub mod instance;
pub mod plan;
pub mod snapshot;
pub mod specs;
