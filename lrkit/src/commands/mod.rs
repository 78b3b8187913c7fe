//! The commands, one module each: its clap `Args` (options, help, the limits of its sizes)
//! and its `run`. They share the modules beside them (spec, output, plot, ...), which import
//! nothing from here.
//!
//! Every size a user gives has an upper limit in its command's `Args` (far above any sensible
//! run), so that a typo or a hostile value gets a message, not an abort on an allocation or a
//! thread the process cannot have.

pub(crate) mod bench;
pub(crate) mod schedule;
pub(crate) mod train;
