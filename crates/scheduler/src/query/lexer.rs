//! The tokens of a query expression: words, quoted strings, operator symbols, brackets.

use super::QueryError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Word(String),
    Quoted(String),
    Op(&'static str),
    Open,
    Close,
    OpenList,
    CloseList,
    Comma,
}

const SYMBOLS: [&str; 11] = [
    "&&", "||", "==", "!=", ">=", "<=", "=~", "!~", ">", "<", "!",
];

pub(super) fn lex(input: &str) -> Result<Vec<(usize, Token)>, QueryError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = vec![];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let simple = match c {
            '(' => Some(Token::Open),
            ')' => Some(Token::Close),
            '[' => Some(Token::OpenList),
            ']' => Some(Token::CloseList),
            ',' => Some(Token::Comma),
            _ => None,
        };
        if let Some(t) = simple {
            out.push((start, t));
            i += 1;
            continue;
        }
        if c == '\'' || c == '"' {
            let end = chars[i + 1..]
                .iter()
                .position(|x| *x == c)
                .map(|p| i + 1 + p)
                .ok_or_else(|| QueryError {
                    position: start,
                    message: format!("the quote {c} is never closed"),
                })?;
            out.push((start, Token::Quoted(chars[i + 1..end].iter().collect())));
            i = end + 1;
            continue;
        }
        if let Some(sym) = SYMBOLS.iter().find(|s| {
            let s: Vec<char> = s.chars().collect();
            chars[i..].starts_with(&s)
        }) {
            out.push((start, Token::Op(sym)));
            i += sym.chars().count();
            continue;
        }
        if "=&|~".contains(c) {
            return Err(QueryError {
                position: start,
                message: format!("unexpected character {c:?}"),
            });
        }
        while i < chars.len() && !chars[i].is_whitespace() && !"()[],'\"=!<>&|~".contains(chars[i])
        {
            i += 1;
        }
        out.push((start, Token::Word(chars[start..i].iter().collect())));
    }
    Ok(out)
}
