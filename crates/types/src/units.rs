//! Task-level `cpu` and `memory` strings, normalised at registration as ECS does.
//!
//! `cpu` accepts CPU units (`"1024"`) or vCPUs (`"1 vCPU"`, `"0.25 vcpu"`); `memory` accepts MiB
//! (`"2048"`) or GB (`"2 GB"`, `"2GB"`). Both are stored as integer strings.

/// Parses a task cpu value into CPU units; `None` when it is neither form.
pub fn parse_cpu(s: &str) -> Option<u32> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    if let Some(n) = lower.strip_suffix("vcpu") {
        let v: f64 = n.trim().parse().ok()?;
        return to_units(v * 1024.0);
    }
    t.parse().ok()
}

/// Parses a task memory value into MiB; `None` when it is neither form.
pub fn parse_memory(s: &str) -> Option<u32> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    if let Some(n) = lower.strip_suffix("gb") {
        let v: f64 = n.trim().parse().ok()?;
        return to_units(v * 1024.0);
    }
    t.parse().ok()
}

fn to_units(v: f64) -> Option<u32> {
    (v.is_finite() && v > 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX)).then_some(v as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        assert_eq!(parse_cpu("1 vCPU"), Some(1024));
        assert_eq!(parse_cpu("0.25 vcpu"), Some(256));
        assert_eq!(parse_cpu("512"), Some(512));
        assert_eq!(parse_cpu("lots"), None);
        assert_eq!(parse_memory("2 GB"), Some(2048));
        assert_eq!(parse_memory("1GB"), Some(1024));
        assert_eq!(parse_memory("300"), Some(300));
        assert_eq!(parse_memory("-1 GB"), None);
    }
}
