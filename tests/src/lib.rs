//! Shared helpers for the integration tests: reading the golden vector files.

pub mod error_params;
