//! Memory settings shared by the commands that bound their memory: parsing a size ("1GiB",
//! "none") and asking glibc to hand freed memory back to the OS.

/// A memory size: "1GiB", "512MiB", "4G", "800M", "1073741824" (binary multiples for K/M/G/T);
/// "none", "unlimited" or "0" is None.
pub fn parse_memory_size(s: &str) -> Result<Option<u64>, String> {
    let t = s.trim().to_ascii_lowercase().replace('_', "");
    if matches!(t.as_str(), "none" | "unlimited" | "0") {
        return Ok(None);
    }
    let t = t.trim_end_matches('b').trim_end_matches('i');
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let v: f64 = num.trim().parse().map_err(|_| {
        format!("{s:?} is not a memory size: expected e.g. 512MiB, 1GiB, 4G or none")
    })?;
    Ok(Some((v * mult as f64) as u64))
}

/// With a memory limit, have glibc's allocator hand freed memory back to the OS instead of
/// keeping it per thread: the query engine frees and reallocates its pool many times while it
/// spills, and with the defaults (one arena per thread, dynamic trim threshold) peak RSS grew to
/// about limit + 0.4 GB at 100M postings (measured: 645 MB at 256 MiB; 10M: 443 MB, 305 MB with
/// these settings; see BENCHMARKS.md "Memory as N grows"). Call it before other threads start
/// (before the engine's runtime), so one arena applies to every thread. A no-op off glibc.
pub fn return_freed_memory_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before other threads run.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 << 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_multiples() {
        assert_eq!(parse_memory_size("1GiB").unwrap(), Some(1 << 30));
        assert_eq!(parse_memory_size("512MiB").unwrap(), Some(512 << 20));
        assert_eq!(parse_memory_size("4g").unwrap(), Some(4 << 30));
        assert_eq!(parse_memory_size("1_000").unwrap(), Some(1000));
        assert_eq!(parse_memory_size("none").unwrap(), None);
        assert_eq!(parse_memory_size("0").unwrap(), None);
        assert!(parse_memory_size("lots").is_err());
    }
}
