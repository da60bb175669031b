//! A process's CPU time and resident memory from `/proc`, for the load benches.

/// CPU seconds a process has used, split into its own code and the kernel's on its behalf.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CpuTimes {
    pub(crate) user: f64,
    pub(crate) system: f64,
}

impl CpuTimes {
    pub(crate) fn total(self) -> f64 {
        self.user + self.system
    }

    /// The CPU used between `earlier` and `self`.
    pub(crate) fn since(self, earlier: CpuTimes) -> CpuTimes {
        CpuTimes {
            user: self.user - earlier.user,
            system: self.system - earlier.system,
        }
    }
}

/// CPU times of process `pid` (clock ticks of 1/100 s; zero when it is gone).
pub(crate) fn cpu_times(pid: u32) -> CpuTimes {
    stat_cpu_times(&format!("/proc/{pid}/stat"))
}

/// This process's CPU seconds, user + system.
pub(crate) fn own_cpu_secs() -> f64 {
    stat_cpu_times("/proc/self/stat").total()
}

/// Resident memory of process `pid` in KiB (0 when it is gone).
pub(crate) fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn stat_cpu_times(path: &str) -> CpuTimes {
    let Ok(stat) = std::fs::read_to_string(path) else {
        return CpuTimes::default();
    };
    // The fields after the command name, which may contain spaces and ends with ')'.
    let fields: Vec<&str> = stat[stat.rfind(')').map_or(0, |i| i + 1)..]
        .split_whitespace()
        .collect();
    let secs = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0) as f64
            / 100.0
    };
    CpuTimes {
        user: secs(11),
        system: secs(12),
    }
}
