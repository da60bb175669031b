//! [`CallTime`]: the session's notion of "now", always handed in by the driver.
//!
//! The session never reads a clock (str0m's rule); the driver converts its monotonic clock into
//! milliseconds since an epoch of its choosing (e.g. when the Media Stream socket opened) and
//! converts [`CallTime`] deadlines back. Pure value type, no I/O.

use std::time::Duration;

/// A point in time, in whole milliseconds since the driver's epoch; monotonic by contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CallTime(u64);

impl CallTime {
    /// The driver's epoch.
    pub const ZERO: Self = Self(0);

    /// The instant `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Milliseconds from `earlier` to `self`, zero if `earlier` is later.
    pub const fn millis_since(self, earlier: Self) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl std::ops::Add<Duration> for CallTime {
    type Output = Self;

    fn add(self, rhs: Duration) -> Self {
        let ms = u64::try_from(rhs.as_millis()).unwrap_or(u64::MAX);
        Self(self.0.saturating_add(ms))
    }
}

impl std::fmt::Display for CallTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "t+{}ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_durations_saturates_and_differences_never_go_negative() {
        let t = CallTime::from_millis(1_000) + Duration::from_millis(1_500);
        assert_eq!(t.as_millis(), 2_500);
        assert_eq!(t.millis_since(CallTime::from_millis(3_000)), 0);
        assert_eq!(
            (CallTime::from_millis(u64::MAX) + Duration::from_secs(1)).as_millis(),
            u64::MAX
        );
    }
}
