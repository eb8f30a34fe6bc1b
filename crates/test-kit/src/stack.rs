//! Running a parser on a small stack, where an unbounded recursion would abort the test binary
//! (the input suites of `crates/api` share it).

/// The stack the JSON decoder runs on. serde_json stops at 128 levels of nesting; the deepest
/// document it builds (nested objects in a free JSON field, `hookDetails`) takes about 2.3 KiB
/// a level in a debug build, 300 KiB in all (measured: 256 KiB overflows), so this leaves a
/// margin of 1.7, and a decoder without the limit would overflow it at about 220 levels. An
/// overflow aborts the test binary.
pub const SMALL_STACK: usize = 512 * 1024;

/// Runs `work` on a thread with a [`SMALL_STACK`]-sized stack; a panic fails the test.
pub fn on_small_stack<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(work)
        .expect("spawn a parser thread")
        .join()
        .expect("parsing never panics")
}
