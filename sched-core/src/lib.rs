//! Placeholder, replaced by the sched-core implementation.
#![no_std]
