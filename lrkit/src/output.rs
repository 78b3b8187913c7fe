//! Writing to stdout and stderr without `println!`'s and `eprintln!`'s panic on a closed pipe
//! (`lrkit ... | head`, a closed stderr).

use std::io::Write;

/// Prints `text` and a newline. A closed pipe ends the process quietly (as a C tool killed
/// by `SIGPIPE` would); any other write error ends it with exit code 1.
pub(crate) fn print_line(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        print_error(&format!("error: cannot write to stdout: {e}"));
        std::process::exit(1);
    }
}

/// Prints `text` and a newline to stderr. A failure to write there (a closed pipe, a full
/// disk) is ignored: there is nowhere left to report it, and the exit code still tells.
pub(crate) fn print_error(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}").and_then(|()| err.flush());
}
