//! Writing to stdout without `println!`'s panic on a closed pipe (`lrkit ... | head`).

use std::io::Write;

/// Prints `text` and a newline. A closed pipe ends the process quietly (as a C tool killed
/// by `SIGPIPE` would); any other write error ends it with exit code 1.
pub fn print_line(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}
