//! The engine's timestamps (RFC 3339 in UTC with up to nanoseconds, as `docker logs
//! --timestamps` and `State.FinishedAt` write them) as ns since the epoch, without a date
//! library.

/// `2024-05-01T12:34:56.123456789Z` (or with a `+hh:mm` offset) → ns since the epoch.
pub fn parse_ns(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        s.get(from..to)?.bytes().try_fold(0i64, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &s[19..];
    let mut nanos = 0i64;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let mut scaled = num(20, 20 + digits.min(9))?;
        for _ in digits.min(9)..9 {
            scaled *= 10;
        }
        nanos = scaled;
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = rest[1..].split_once(':')?;
            sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    seconds.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_timestamps() {
        assert_eq!(parse_ns("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_ns("2024-05-01T12:34:56.123456789Z"),
            Some(1_714_566_896_123_456_789)
        );
        assert_eq!(
            parse_ns("2024-05-01T12:34:56.5Z"),
            Some(1_714_566_896_500_000_000)
        );
        assert_eq!(
            parse_ns("2024-05-01T14:34:56+02:00"),
            Some(1_714_566_896_000_000_000)
        );
        // The engine's "never": out of reach of ns in an i64.
        assert_eq!(parse_ns("0001-01-01T00:00:00Z"), None);
        assert_eq!(parse_ns("yesterday"), None);
        assert_eq!(parse_ns("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_ns("2024-05-01T12:34:56.Z"), None);
    }
}
