//! Memory figures of this process, from /proc/self/status.

/// A `/proc/self/status` field in MiB (`VmRSS:` now, `VmHWM:` the peak); 0 when unreadable.
pub fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
