//! Paging tokens: opaque to clients, checked on the way back in.
//!
//! GetLogEvents tokens look like CloudWatch's, `f/` or `b/` and 56 digits: the stream's
//! fingerprint (20), the event sequence number the token points at (20) and a check (16), so
//! a token of another stream, or a garbled one, is refused rather than misread.

use crate::LogsError;

/// Which way a GetLogEvents token pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Events from the position on.
    Forward,
    /// Events before the position.
    Backward,
}

pub(crate) fn invalid_token() -> LogsError {
    LogsError::InvalidParameter("The specified nextToken is invalid.".into())
}

fn check(fingerprint: u64, position: u64) -> u64 {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&fingerprint.to_le_bytes());
    bytes[8..].copy_from_slice(&position.to_le_bytes());
    u64::from(crc32fast::hash(&bytes))
}

/// A GetLogEvents token for `position` in the stream with `fingerprint`.
pub(crate) fn get_token(direction: Direction, fingerprint: u64, position: u64) -> String {
    let prefix = match direction {
        Direction::Forward => 'f',
        Direction::Backward => 'b',
    };
    let check = check(fingerprint, position);
    format!("{prefix}/{fingerprint:020}{position:020}{check:016}")
}

/// Reads a GetLogEvents token of the stream with `fingerprint`, whose next event will be
/// numbered `next_seq`.
pub(crate) fn read_get_token(
    token: &str,
    fingerprint: u64,
    next_seq: u64,
) -> Result<(Direction, u64), LogsError> {
    let (direction, digits) = match token.split_at_checked(2) {
        Some(("f/", d)) => (Direction::Forward, d),
        Some(("b/", d)) => (Direction::Backward, d),
        _ => return Err(invalid_token()),
    };
    if digits.len() != 56 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid_token());
    }
    let number = |r: std::ops::Range<usize>| digits[r].parse::<u64>().map_err(|_| invalid_token());
    let (fp, position, sum) = (number(0..20)?, number(20..40)?, number(40..56)?);
    if fp != fingerprint || sum != check(fp, position) || position > next_seq {
        return Err(invalid_token());
    }
    Ok((direction, position))
}

/// A token that carries a name (DescribeLogGroups, DescribeLogStreams by name): `<tag>/<hex>`.
pub(crate) fn name_token(tag: char, name: &str) -> String {
    format!("{tag}/{}", hex::encode(name))
}

/// Reads a token made by [`name_token`] with `tag`.
pub(crate) fn read_name_token(tag: char, token: &str) -> Result<String, LogsError> {
    let rest = token
        .strip_prefix(tag)
        .and_then(|t| t.strip_prefix('/'))
        .ok_or_else(invalid_token)?;
    let bytes = hex::decode(rest).map_err(|_| invalid_token())?;
    String::from_utf8(bytes).map_err(|_| invalid_token())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_tokens_round_trip_and_refuse_strangers() {
        let t = get_token(Direction::Backward, 42, 7);
        assert_eq!(t.len(), 58);
        assert_eq!(
            read_get_token(&t, 42, 10).unwrap(),
            (Direction::Backward, 7)
        );
        assert!(read_get_token(&t, 43, 10).is_err());
        assert!(read_get_token(&t, 42, 6).is_err());
        let garbled = t.replace("b/", "f/");
        assert_eq!(
            read_get_token(&garbled, 42, 10).unwrap().0,
            Direction::Forward
        );
        let mut flipped = t.clone().into_bytes();
        flipped[30] = if flipped[30] == b'1' { b'2' } else { b'1' };
        assert!(read_get_token(std::str::from_utf8(&flipped).unwrap(), 42, 10).is_err());
        assert!(read_get_token("x/1", 42, 10).is_err());
        assert!(read_get_token("", 42, 10).is_err());
    }

    #[test]
    fn name_tokens_round_trip() {
        let t = name_token('n', "/ecs/web");
        assert_eq!(read_name_token('n', &t).unwrap(), "/ecs/web");
        assert!(read_name_token('g', &t).is_err());
        assert!(read_name_token('n', "n/zz").is_err());
    }
}
