//! Placeholder, replaced by the sgd-cuda implementation.
