//! `--torch MAJOR.MINOR`: the PyTorch release whose behaviour a spec is built with.
//!
//! The recorded traces are identical on PyTorch 2.11 to 2.15 except for SequentialLR's
//! construction (sched-core's [`SequentialLrInit`]): from 2.13 it performs the initial step of
//! the child that runs at step 0, before that always the first child's.

use core::fmt;
use core::str::FromStr;

use sched_core::SequentialLrInit;

/// A PyTorch release, `major.minor` (a patch number is accepted and ignored: no patch release
/// changed a scheduler).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TorchRelease {
    /// `2` of `2.15`.
    pub major: u32,
    /// `15` of `2.15`.
    pub minor: u32,
}

impl TorchRelease {
    /// The release the default behaviour follows.
    pub(crate) const CURRENT: Self = Self { major: 2, minor: 15 };
    /// The oldest release `--torch` accepts.
    pub(crate) const OLDEST: Self = Self { major: 2, minor: 0 };

    /// How this release's `SequentialLR.__init__` performs its initial step.
    pub(crate) const fn sequential_init(self) -> SequentialLrInit {
        SequentialLrInit::of_torch(self.major, self.minor)
    }
}

impl Default for TorchRelease {
    fn default() -> Self {
        Self::CURRENT
    }
}

impl fmt::Display for TorchRelease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for TorchRelease {
    type Err = String;

    /// `2.12`, `2.12.1`; releases from [`Self::OLDEST`] to [`Self::CURRENT`].
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "{s:?} is not a PyTorch release: expected MAJOR.MINOR from {} to {}, e.g. 2.12",
                Self::OLDEST,
                Self::CURRENT
            )
        };
        let mut parts = s.split('.');
        let mut number = || {
            parts
                .next()
                .filter(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|p| p.parse::<u32>().ok())
        };
        let (Some(major), Some(minor)) = (number(), number()) else { return Err(bad()) };
        let patch = number();
        if parts.next().is_some() || (patch.is_none() && s.matches('.').count() > 1) {
            return Err(bad());
        }
        let release = Self { major, minor };
        if release < Self::OLDEST || release > Self::CURRENT {
            return Err(bad());
        }
        Ok(release)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failure is the assertion
    use super::*;

    #[test]
    fn parses_releases_and_names_bad_ones() {
        let r = |s: &str| s.parse::<TorchRelease>();
        assert_eq!(r("2.12").unwrap(), TorchRelease { major: 2, minor: 12 });
        assert_eq!(r("2.12.1").unwrap(), TorchRelease { major: 2, minor: 12 });
        assert_eq!(r("2.15").unwrap(), TorchRelease::CURRENT);
        assert_eq!(r("2.0").unwrap(), TorchRelease::OLDEST);
        for bad in ["", "2", "2.", ".12", "2.12.", "2.12.1.0", "1.13", "2.16", "3.0", "2.x", "+2.1"]
        {
            let e = r(bad).unwrap_err();
            assert!(e.contains(&format!("{bad:?}")), "{bad}: {e}");
        }
    }

    #[test]
    fn the_sequential_construction_changed_in_2_13() {
        let init = |minor| TorchRelease { major: 2, minor }.sequential_init();
        assert_eq!(init(12), SequentialLrInit::First);
        assert_eq!(init(13), SequentialLrInit::ActiveAtZero);
        assert_eq!(TorchRelease::default().sequential_init(), SequentialLrInit::ActiveAtZero);
    }
}
