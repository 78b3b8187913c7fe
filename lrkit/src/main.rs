//! Placeholder, replaced by the lrkit CLI.
fn main() {}
