//! Tokens of the inside of JSON (`{ }`) and space-delimited (`[ ]`) patterns.
//!
//! A word is any run of characters other than spaces, quotes, parentheses, commas and the
//! operator characters `= ! < > & |`, so selectors (`$.a[0].b`), wildcards (`*.html*`),
//! numbers (`-1e3`) and `...` each come out as one word. A regular expression, `%...%`, is one
//! token whatever it holds (`%gray|grey%`).

use super::invalid;
use crate::LogsError;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    /// Whether the operator orders numbers (`<`, `<=`, `>`, `>=`), rather than testing equality.
    pub(super) fn is_order(self) -> bool {
        matches!(self, Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }

    /// How the operator is written.
    pub(super) fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token<'a> {
    LParen,
    RParen,
    And,
    Or,
    Comma,
    Op(Op),
    /// A double-quoted string, unescaped.
    Quoted(String),
    /// A regular expression: the text between the `%`s.
    Regex(&'a str),
    Word(&'a str),
}

impl Token<'_> {
    /// The token as the user wrote it (near enough), for error messages.
    pub(super) fn describe(&self) -> String {
        match self {
            Token::LParen => "'('".into(),
            Token::RParen => "')'".into(),
            Token::And => "'&&'".into(),
            Token::Or => "'||'".into(),
            Token::Comma => "','".into(),
            Token::Op(op) => format!("'{}'", op.symbol()),
            Token::Quoted(s) => format!("\"{s}\""),
            Token::Regex(r) => format!("%{r}%"),
            Token::Word(w) => format!("'{w}'"),
        }
    }
}

/// Splits `text` into tokens.
pub(super) fn lex(text: &str) -> Result<Vec<Token<'_>>, LogsError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let mut next_is = |want: char| chars.next_if(|&(_, n)| n == want).is_some();
        let token = match c {
            c if c.is_whitespace() => continue,
            '(' => Token::LParen,
            ')' => Token::RParen,
            ',' => Token::Comma,
            '&' if next_is('&') => Token::And,
            '|' if next_is('|') => Token::Or,
            '&' | '|' => return Err(invalid(format!("'{c}' must be doubled ('{c}{c}')"))),
            '=' => Token::Op(Op::Eq),
            '!' if next_is('=') => Token::Op(Op::Ne),
            '!' => return Err(invalid("'!' must be followed by '=' ('!=')")),
            '<' if next_is('=') => Token::Op(Op::Le),
            '<' => Token::Op(Op::Lt),
            '>' if next_is('=') => Token::Op(Op::Ge),
            '>' => Token::Op(Op::Gt),
            '"' => Token::Quoted(quoted(&mut chars)?),
            '%' => {
                let len = text[at + 1..]
                    .find('%')
                    .ok_or_else(|| invalid("a regular expression's '%' is never closed"))?;
                let end = at + 1 + len;
                while chars.next_if(|&(i, _)| i <= end).is_some() {}
                Token::Regex(&text[at + 1..end])
            }
            _ => {
                let mut end = at + c.len_utf8();
                while let Some((i, n)) = chars.next_if(|&(_, n)| is_word_char(n)) {
                    end = i + n.len_utf8();
                }
                Token::Word(&text[at..end])
            }
        };
        tokens.push(token);
    }
    if tokens
        .iter()
        .filter(|t| matches!(t, Token::Regex(_)))
        .count()
        > MAX_REGEXES
    {
        return Err(invalid(format!(
            "at most {MAX_REGEXES} regular expressions fit in one JSON or space-delimited pattern"
        )));
    }
    Ok(tokens)
}

/// CloudWatch's limit on regular expressions in one JSON or space-delimited pattern.
const MAX_REGEXES: usize = 2;

fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !"\"(),=!<>&|".contains(c)
}

/// The rest of a double-quoted string whose opening quote was just read; `\"` and `\\` escape.
pub(super) fn quoted(chars: &mut impl Iterator<Item = (usize, char)>) -> Result<String, LogsError> {
    let mut out = String::new();
    while let Some((_, c)) = chars.next() {
        match c {
            '"' => return Ok(out),
            '\\' => match chars.next() {
                Some((_, e @ ('"' | '\\'))) => out.push(e),
                Some((_, e)) => {
                    out.push('\\');
                    out.push(e);
                }
                None => break,
            },
            _ => out.push(c),
        }
    }
    Err(invalid("unbalanced quotes: a '\"' is never closed"))
}
