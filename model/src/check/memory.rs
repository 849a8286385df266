//! The process's memory, from Linux's `/proc/self/status` (0 elsewhere).

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
        })
        .unwrap_or(0)
}

/// Resident memory now, bytes.
pub fn resident() -> u64 {
    status_kb("VmRSS:") * 1024
}

/// Peak resident memory, bytes.
pub fn peak() -> u64 {
    status_kb("VmHWM:") * 1024
}

/// The machine's memory, bytes (`MemTotal` in `/proc/meminfo`), if known.
pub fn total() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let l = s.lines().find(|l| l.starts_with("MemTotal:"))?;
    Some(l.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

/// `bytes` in megabytes or gigabytes, for reports.
pub fn gb(bytes: u64) -> String {
    if bytes < 1_000_000_000 {
        format!("{:.0} MB", bytes as f64 / 1e6)
    } else {
        format!("{:.2} GB", bytes as f64 / 1e9)
    }
}

/// Parses a size: bytes, or a number with K, M or G (powers of 1000).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last()? {
        (i, 'K' | 'k') => (&s[..i], 1_000),
        (i, 'M' | 'm') => (&s[..i], 1_000_000),
        (i, 'G' | 'g') => (&s[..i], 1_000_000_000),
        _ => (s, 1),
    };
    let n: f64 = num.parse().ok()?;
    (n.is_finite() && n > 0.0).then_some((n * mult as f64) as u64)
}
