//! A recursive-descent parser from tokens to [`Expr`], bounded in length and nesting.

use super::lexer::{Token, lex};
use super::syntax::{Comparison, Node, Operator, Subject};
use super::{Expr, MAX_EXPRESSION_CHARS, MAX_NESTING, QueryError, parse_date};

struct Parser {
    tokens: Vec<(usize, Token)>,
    at: usize,
    end: usize,
    /// Parentheses and negations open around the current token.
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(_, t)| t)
    }

    fn position(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(p, _)| *p)
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, QueryError> {
        Err(QueryError {
            position: self.position(),
            message: message.into(),
        })
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).map(|(_, t)| t.clone());
        self.at += 1;
        t
    }

    fn is_word(&self, words: &[&str]) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if words.contains(&w.as_str()))
    }

    /// `a or b or ...`, as one node.
    fn or(&mut self) -> Result<Node, QueryError> {
        let mut terms = vec![self.and()?];
        while self.peek() == Some(&Token::Op("||")) || self.is_word(&["or"]) {
            self.next();
            terms.push(self.and()?);
        }
        Ok(flat(terms, Node::Any))
    }

    /// `a and b and ...`, as one node.
    fn and(&mut self) -> Result<Node, QueryError> {
        let mut terms = vec![self.unary()?];
        while self.peek() == Some(&Token::Op("&&")) || self.is_word(&["and"]) {
            self.next();
            terms.push(self.unary()?);
        }
        Ok(flat(terms, Node::All))
    }

    fn unary(&mut self) -> Result<Node, QueryError> {
        let negated = self.peek() == Some(&Token::Op("!")) || self.is_word(&["not"]);
        let grouped = self.peek() == Some(&Token::Open);
        if !negated && !grouped {
            return self.comparison();
        }
        // Checked before recursing, so no input can take the parser deeper than this.
        if self.depth == MAX_NESTING {
            return self.error(format!(
                "parentheses and negations nest more than {MAX_NESTING} levels deep"
            ));
        }
        self.next();
        self.depth += 1;
        let node = if negated {
            self.unary().map(|inner| Node::Not(Box::new(inner)))
        } else {
            self.or().and_then(|inner| {
                if self.next() == Some(Token::Close) {
                    Ok(inner)
                } else {
                    self.at -= 1;
                    self.error("expected ) to close the parenthesis")
                }
            })
        };
        self.depth -= 1;
        node
    }

    fn subject(&mut self) -> Result<Subject, QueryError> {
        let Some(Token::Word(word)) = self.peek().cloned() else {
            return self.error("expected a subject such as attribute:ecs.instance-type");
        };
        let subject = match word.as_str() {
            "agentConnected" => Subject::AgentConnected,
            "agentVersion" => Subject::AgentVersion,
            "ec2InstanceId" => Subject::Ec2InstanceId,
            "registeredAt" => Subject::RegisteredAt,
            "runningTasksCount" => Subject::RunningTasksCount,
            "task:group" => Subject::TaskGroup,
            w => match w.strip_prefix("attribute:") {
                Some(name) if !name.is_empty() => Subject::Attribute(name.to_string()),
                _ => {
                    return self.error(format!(
                        "unknown subject {w:?}: use agentConnected, agentVersion, attribute:<name>, ec2InstanceId, registeredAt, runningTasksCount or task:group"
                    ));
                }
            },
        };
        self.next();
        Ok(subject)
    }

    fn operator(&mut self) -> Result<Operator, QueryError> {
        let op = match self.peek().cloned() {
            Some(Token::Op("==")) => Operator::Eq,
            Some(Token::Op("!=")) => Operator::Ne,
            Some(Token::Op(">")) => Operator::Gt,
            Some(Token::Op(">=")) => Operator::Ge,
            Some(Token::Op("<")) => Operator::Lt,
            Some(Token::Op("<=")) => Operator::Le,
            Some(Token::Op("=~")) => Operator::Matches,
            Some(Token::Op("!~")) => Operator::NotMatches,
            Some(Token::Op("!")) => {
                self.next();
                return match self.peek() {
                    Some(Token::Word(w)) if w == "exists" => {
                        self.next();
                        Ok(Operator::NotExists)
                    }
                    Some(Token::Word(w)) if w == "in" => {
                        self.next();
                        Ok(Operator::NotIn)
                    }
                    _ => self.error("expected exists or in after !"),
                };
            }
            Some(Token::Word(w)) => match w.as_str() {
                "equals" => Operator::Eq,
                "not_equals" => Operator::Ne,
                "greater_than" => Operator::Gt,
                "greater_than_equal" => Operator::Ge,
                "less_than" => Operator::Lt,
                "less_than_equal" => Operator::Le,
                "exists" => Operator::Exists,
                "not_exists" => Operator::NotExists,
                "in" => Operator::In,
                "not_in" => Operator::NotIn,
                "matches" => Operator::Matches,
                "not_matches" => Operator::NotMatches,
                _ => return self.error(format!("unknown operator {w:?}")),
            },
            _ => return self.error("expected an operator such as == or in"),
        };
        self.next();
        Ok(op)
    }

    fn value(&mut self) -> Result<String, QueryError> {
        match self.next() {
            Some(Token::Word(w)) | Some(Token::Quoted(w)) => Ok(w),
            _ => {
                self.at -= 1;
                self.error("expected a value")
            }
        }
    }

    fn comparison(&mut self) -> Result<Node, QueryError> {
        let subject = self.subject()?;
        let op = self.operator()?;
        let value_at = self.position();
        let values = match op {
            Operator::Exists | Operator::NotExists => vec![],
            Operator::In | Operator::NotIn => {
                if self.next() != Some(Token::OpenList) {
                    self.at -= 1;
                    return self.error("expected [ to open the list of in");
                }
                let mut list = vec![self.value()?];
                loop {
                    match self.next() {
                        Some(Token::Comma) => list.push(self.value()?),
                        Some(Token::CloseList) => break,
                        _ => {
                            self.at -= 1;
                            return self.error("expected , or ] in the list");
                        }
                    }
                }
                list
            }
            _ => vec![self.value()?],
        };
        let pattern = match op {
            Operator::Matches | Operator::NotMatches => {
                let p =
                    regex::Regex::new(&format!("^(?:{})$", values[0])).map_err(|e| QueryError {
                        position: value_at,
                        message: format!("invalid regular expression {:?}: {e}", values[0]),
                    })?;
                Some(p)
            }
            _ => None,
        };
        if subject == Subject::RegisteredAt
            && !values.is_empty()
            && values.iter().any(|v| parse_date(v).is_none())
        {
            return Err(QueryError {
                position: value_at,
                message: format!(
                    "registeredAt needs a date such as 2018-06-18 or 2018-06-18T22:28:28+00:00, not {:?}",
                    values[0]
                ),
            });
        }
        Ok(Node::Compare(Box::new(Comparison {
            subject,
            op,
            values,
            pattern,
        })))
    }
}

/// One term as itself, several as `group` of them.
fn flat(mut terms: Vec<Node>, group: fn(Vec<Node>) -> Node) -> Node {
    if terms.len() == 1 {
        terms.remove(0)
    } else {
        group(terms)
    }
}

/// Parses an expression of at most [`MAX_EXPRESSION_CHARS`] characters whose parentheses and
/// negations nest at most [`MAX_NESTING`] deep.
pub fn parse(input: &str) -> Result<Expr, QueryError> {
    if input.chars().nth(MAX_EXPRESSION_CHARS).is_some() {
        return Err(QueryError {
            position: MAX_EXPRESSION_CHARS,
            message: format!("the expression is over {MAX_EXPRESSION_CHARS} characters"),
        });
    }
    let tokens = lex(input)?;
    if tokens.is_empty() {
        return Err(QueryError {
            position: 0,
            message: "the expression is empty".into(),
        });
    }
    let mut p = Parser {
        tokens,
        at: 0,
        end: input.chars().count(),
        depth: 0,
    };
    let root = p.or()?;
    if p.at < p.tokens.len() {
        return p.error("unexpected text after the expression: join conditions with and/or");
    }
    Ok(Expr(root))
}
