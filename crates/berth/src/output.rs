//! What `berth` prints on standard output. A reader that goes away early (`berth audit | head`)
//! ends the process quietly with the status a shell gives a command its closed pipe killed
//! (141), as other Unix commands end, instead of a panic with a backtrace.

use std::io::Write;

/// The status of a process killed by SIGPIPE, as a shell reports it.
const CLOSED_PIPE: i32 = 128 + 13;

/// Writes one line; see [`say!`](crate::say).
pub fn line(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{args}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(CLOSED_PIPE);
        }
        // Nothing else can be told on standard output; standard error may still work.
        eprintln!("error: cannot write to standard output: {e}");
        std::process::exit(1);
    }
}

/// `println!` through [`line`].
#[macro_export]
macro_rules! say {
    () => {
        $crate::output::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))
    };
}
