//! The fields of a space-delimited message: separated by spaces, except that a field opening
//! with `[` runs to the next `]` and one opening with `"` to the next `"` (the brackets and
//! quotes are not part of the value). So in
//! `127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /x HTTP/1.0" 200 1534` the timestamp
//! and the request are one field each. A group never closed runs to the end of the message.

/// One field of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MessageField<'a> {
    /// The field's text, without grouping brackets or quotes.
    pub(super) value: &'a str,
    /// The message from this field's start to its end, for a pattern's last field, which
    /// takes the rest of a message that has more fields than the pattern names.
    pub(super) rest: &'a str,
}

/// The fields of `message`, in order.
pub(super) fn split(message: &str) -> Vec<MessageField<'_>> {
    let mut fields = Vec::new();
    let mut rest = message.trim();
    while !rest.is_empty() {
        let close = match rest.as_bytes()[0] {
            b'[' => Some(']'),
            b'"' => Some('"'),
            _ => None,
        };
        let (value, after) = match close {
            Some(close) => {
                let inner = &rest[1..];
                match inner.find(close) {
                    Some(end) => (&inner[..end], &inner[end + 1..]),
                    None => (inner, ""),
                }
            }
            None => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        fields.push(MessageField { value, rest });
        rest = after.trim_start();
    }
    fields
}
