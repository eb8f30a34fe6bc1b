//! The query language's limits: whatever a caller sends, parsing and evaluating it neither
//! panics nor overflows a small stack, and input beyond [`MAX_NESTING`] or
//! [`MAX_EXPRESSION_CHARS`] is refused with an error saying so.

use berth_scheduler::query::{Expr, Facts, MAX_EXPRESSION_CHARS, MAX_NESTING, QueryError, parse};
use proptest::prelude::*;

/// The stack each parse runs on. The deepest expression allowed (32 nested parentheses) needs
/// about 68 KiB in one debug build, measured, but a mix of parentheses and negations in another
/// debug build (a clean one: other inlining) took over 128 KiB, so this leaves a margin of two
/// over that; a parser that recursed once per character would still overflow it within a
/// thousand characters (the inputs go to 2,500).
const STACK: usize = 256 * 1024;

/// Parses `input` and evaluates the result on a thread with a [`STACK`]-sized stack. An
/// overflow aborts the test binary; a panic fails the test.
fn parse_on_small_stack(input: String) -> Result<bool, QueryError> {
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            let facts = Facts {
                agent_connected: true,
                ..Facts::default()
            };
            parse(&input).map(|expr: Expr| expr.matches(&facts))
        })
        .expect("spawn a parser thread")
        .join()
        .expect("parsing and evaluating never panic")
}

/// What wraps the comparison in a nested expression.
#[derive(Debug, Clone, Copy)]
enum Wrap {
    Bang,
    Not,
    Paren,
}

/// `wraps` around `agentConnected == true`, each parenthesis closed and followed by
/// `or false_term` when `chained`, so nesting and flat chains mix.
fn nested(wraps: &[Wrap], chained: bool) -> String {
    let mut s = String::new();
    for w in wraps {
        s.push_str(match w {
            Wrap::Bang => "!",
            Wrap::Not => "not ",
            Wrap::Paren => "(",
        });
    }
    s.push_str("agentConnected == true");
    for w in wraps.iter().rev() {
        if let Wrap::Paren = w {
            s.push(')');
            if chained {
                s.push_str(" or agentConnected == false");
            }
        }
    }
    s
}

fn wrap() -> impl Strategy<Value = Wrap> {
    prop_oneof![Just(Wrap::Bang), Just(Wrap::Not), Just(Wrap::Paren)]
}

/// Fragments of the language, so random input gets past the lexer and into the parser.
fn fragment() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "!",
        "not ",
        "(",
        ")",
        "[",
        "]",
        ",",
        " and ",
        " or ",
        "&&",
        "||",
        "==",
        "=~",
        "!~",
        "'",
        "\"",
        " in ",
        " exists",
        "attribute:a",
        "task:group",
        "agentConnected",
        " == true",
        " == b",
        "x",
        " ",
        "(.*)",
        "+",
    ])
}

fn overlong_error(e: &QueryError) -> bool {
    e.message == format!("the expression is over {MAX_EXPRESSION_CHARS} characters")
}

fn too_deep_error(e: &QueryError) -> bool {
    e.message
        .contains(&format!("more than {MAX_NESTING} levels"))
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics_or_overflows(input in ".{0,2500}") {
        let _ = parse_on_small_stack(input);
    }

    #[test]
    fn arbitrary_fragments_never_panic_or_overflow(
        parts in prop::collection::vec(fragment(), 0..600),
    ) {
        let _ = parse_on_small_stack(parts.concat());
    }

    #[test]
    fn nesting_is_capped_and_evaluates_as_written(
        wraps in prop::collection::vec(wrap(), 0..=3 * MAX_NESTING),
        chained in any::<bool>(),
    ) {
        let input = nested(&wraps, chained);
        let result = parse_on_small_stack(input.clone());
        if input.chars().count() > MAX_EXPRESSION_CHARS {
            prop_assert!(result.is_err_and(|e| overlong_error(&e)), "{input}");
        } else if wraps.len() > MAX_NESTING {
            prop_assert!(result.is_err_and(|e| too_deep_error(&e)), "{input}");
        } else {
            // Parentheses and the false `or` terms change nothing: negations decide.
            let negations = wraps.iter().filter(|w| !matches!(w, Wrap::Paren)).count();
            prop_assert_eq!(result, Ok(negations % 2 == 0), "{}", input);
        }
    }

    #[test]
    fn runs_of_one_opener_are_capped(
        (opener, levels) in prop::sample::select(vec![
            ("!", 1), ("not ", 1), ("(", 1), ("!(", 2), ("not(", 2),
        ]),
        count in 0..2 * MAX_EXPRESSION_CHARS,
    ) {
        // Unclosed parentheses are an error too; only which error is checked here.
        let input = format!("{}agentConnected == true", opener.repeat(count));
        let result = parse_on_small_stack(input.clone());
        if input.chars().count() > MAX_EXPRESSION_CHARS {
            prop_assert!(result.is_err_and(|e| overlong_error(&e)), "{input}");
        } else if count * levels > MAX_NESTING {
            prop_assert!(result.is_err_and(|e| too_deep_error(&e)), "{input}");
        }
    }
}

#[test]
fn the_deepest_allowed_expression_parses() {
    let wraps: Vec<Wrap> = [Wrap::Paren, Wrap::Not, Wrap::Bang]
        .into_iter()
        .cycle()
        .take(MAX_NESTING)
        .collect();
    assert!(parse_on_small_stack(nested(&wraps, true)).is_ok());
}

#[test]
fn a_long_flat_chain_parses_and_evaluates() {
    let term = "agentConnected == false or ";
    let count = (MAX_EXPRESSION_CHARS - 30) / term.len();
    let input = format!("{}agentConnected == true", term.repeat(count));
    assert_eq!(parse_on_small_stack(input), Ok(true));
}

#[test]
fn three_hundred_thousand_bangs_are_refused_by_length() {
    let e = parse_on_small_stack("!".repeat(300_000)).expect_err("too long");
    assert!(overlong_error(&e), "{e}");
    assert_eq!(e.position, MAX_EXPRESSION_CHARS);
    assert_eq!(
        e.to_string(),
        "invalid expression at position 2000: the expression is over 2000 characters"
    );
}

#[test]
fn one_level_too_deep_is_refused_where_it_goes_too_deep() {
    let input = format!("{}agentConnected == true", "!".repeat(MAX_NESTING + 1));
    let e = parse_on_small_stack(input).expect_err("too deep");
    assert!(too_deep_error(&e), "{e}");
    assert_eq!(e.position, MAX_NESTING);
}
