//! Shared helpers for the integration tests: reading the golden vector files.
