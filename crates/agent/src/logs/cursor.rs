//! Where shipping a container's output has got to, in the engine's own terms: the timestamp
//! (ns) of the last line shipped and how many lines with exactly that timestamp were shipped.
//! Each PutLogEvents carries the cursor after its last line as its `sequenceToken`, which the
//! server stores with the batch; after a crash the stream's `uploadSequenceToken` says where
//! to resume: ask the engine for the output since that second and skip what the cursor
//! covers, so nothing is missed and nothing is sent twice.

/// A position in a container's output: `<ns>:<lines at that ns>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor {
    /// The engine timestamp of the last line shipped, in ns since the epoch.
    pub ns: i64,
    /// Lines with exactly that timestamp already shipped.
    pub at_ns: u64,
}

impl Cursor {
    /// Reads a token as [`Cursor::token`] writes it; anything else (a stream that never had
    /// one, or one written by someone else) means "from the start".
    pub fn parse(token: Option<&str>) -> Cursor {
        token
            .and_then(|t| t.split_once(':'))
            .and_then(|(ns, n)| {
                Some(Cursor {
                    ns: ns.parse().ok()?,
                    at_ns: n.parse().ok()?,
                })
            })
            .unwrap_or_default()
    }

    /// The token a batch ending here carries.
    pub fn token(&self) -> String {
        format!("{}:{}", self.ns, self.at_ns)
    }

    /// The `since` to ask the engine for (whole seconds: all the engine takes), at or before
    /// the cursor.
    pub fn since_seconds(&self) -> i64 {
        self.ns.div_euclid(1_000_000_000)
    }

    /// Moves past a line stamped `ns` (lines fed in the engine's order). A line stamped
    /// earlier than the cursor (stdout and stderr are stamped apart, so their lines can cross
    /// by a few microseconds) leaves it where it is: a resume skips everything before the
    /// cursor's timestamp anyway.
    pub fn advance(&mut self, ns: i64) {
        if ns == self.ns {
            self.at_ns += 1;
        } else if ns > self.ns {
            *self = Cursor { ns, at_ns: 1 };
        }
    }
}

/// Skips what a resumed shipper has already shipped: lines before the cursor, and the first
/// `at_ns` lines at its timestamp.
#[derive(Debug, Clone, Copy)]
pub struct Resume {
    shipped: Cursor,
    seen_at_ns: u64,
}

impl Resume {
    /// Resuming after `shipped`.
    pub fn after(shipped: Cursor) -> Self {
        Resume {
            shipped,
            seen_at_ns: 0,
        }
    }

    /// Whether the line stamped `ns` (lines fed in the engine's order) was shipped already.
    pub fn skip(&mut self, ns: i64) -> bool {
        if ns < self.shipped.ns {
            return true;
        }
        if ns == self.shipped.ns && self.seen_at_ns < self.shipped.at_ns {
            self.seen_at_ns += 1;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_junk_means_the_start() {
        let c = Cursor {
            ns: 1_700_000_000_123_456_789,
            at_ns: 2,
        };
        assert_eq!(Cursor::parse(Some(&c.token())), c);
        assert_eq!(c.since_seconds(), 1_700_000_000);
        assert_eq!(Cursor::parse(None), Cursor::default());
        assert_eq!(Cursor::parse(Some("49590302")), Cursor::default());
        assert_eq!(Cursor::parse(Some("a:b")), Cursor::default());
    }

    #[test]
    fn resuming_skips_exactly_what_was_shipped() {
        // Three lines share a timestamp; two of them were shipped before the crash.
        let lines = [5, 7, 7, 7, 9];
        let mut cursor = Cursor::default();
        for ns in &lines[..3] {
            cursor.advance(*ns);
        }
        assert_eq!(cursor, Cursor { ns: 7, at_ns: 2 });
        let mut resume = Resume::after(cursor);
        let fresh: Vec<_> = lines.iter().filter(|ns| !resume.skip(**ns)).collect();
        assert_eq!(fresh, [&7, &9]);
    }
}
