//! Placeholder, replaced by the sgd-cpu implementation.
#![cfg_attr(not(feature = "std"), no_std)]
