//! Writing to stdout and stderr: without `println!`'s and `eprintln!`'s panic on a closed pipe
//! (`lrkit ... | head`, a closed stderr), every other write error an error (exit code 1),
//! streamed rows through one buffer ([`Stdout`]), and control characters of the user's text (a
//! spec file's ESC or CR) escaped in every error message.

use std::borrow::Cow;
use std::io::Write;

use crate::error::CliError;

/// Prints `text` and a newline, flushed; a closed pipe is [`CliError::BrokenPipe`] (the
/// command ends quietly, its files cleaned up), any other write error a [`CliError::Runtime`].
pub(crate) fn line(text: &str) -> Result<(), CliError> {
    let mut out = Stdout::new();
    out.line(text).and_then(|()| out.finish())
}

/// Prints `text` and a newline, for a command that holds no file open. A closed pipe ends the
/// process quietly (the reader asked for no more, as `| head` does); any other write error
/// ends it with exit code 1.
pub(crate) fn print_line(text: &str) {
    if let Err(e) = line(text) {
        if !matches!(e, CliError::BrokenPipe) {
            print_error(&format!("error: {e}"));
            std::process::exit(1);
        }
        std::process::exit(0);
    }
}

/// Prints `text` and a newline to stderr, control characters (but newlines) escaped. A
/// failure to write there (a closed pipe, a full disk) is ignored: there is nowhere left to
/// report it, and the exit code still tells.
pub(crate) fn print_error(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", escape_controls(text)).and_then(|()| err.flush());
}

/// `text` with every control character but `\n` written as Python writes it in a string's
/// repr (`\x1b`, `\r`, `\t`), so that user text cannot drive the terminal.
pub(crate) fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push('\n'),
            c if c.is_control() => out.push_str(&escape_char(c)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// How [`escape_controls`] shows one character: itself, or its escape.
pub(crate) fn escape_char(c: char) -> Cow<'static, str> {
    match c {
        '\t' => Cow::Borrowed("\\t"),
        '\r' => Cow::Borrowed("\\r"),
        '\n' => Cow::Borrowed("\\n"),
        // Every control character is below U+0100: two hex digits, as Python's repr.
        c if c.is_control() => Cow::Owned(format!("\\x{:02x}", u32::from(c))),
        c => Cow::Owned(c.to_string()),
    }
}

/// Buffered stdout for output streamed as it is computed: every write error is a
/// [`CliError`] ([`CliError::BrokenPipe`] for a reader that went away).
pub(crate) struct Stdout {
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
}

impl Stdout {
    /// Locks stdout for the writer's lifetime.
    pub(crate) fn new() -> Self {
        Self { out: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock()) }
    }

    /// Writes `text`.
    pub(crate) fn write(&mut self, text: &str) -> Result<(), CliError> {
        self.out.write_all(text.as_bytes()).map_err(stdout_error)
    }

    /// Writes `text` and a newline.
    pub(crate) fn line(&mut self, text: &str) -> Result<(), CliError> {
        self.write(text)?;
        self.write("\n")
    }

    /// Flushes what is buffered.
    pub(crate) fn finish(&mut self) -> Result<(), CliError> {
        self.out.flush().map_err(stdout_error)
    }
}

fn stdout_error(e: std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::BrokenPipe
    } else {
        CliError::Runtime(format!("cannot write to stdout: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn control_characters_are_escaped_as_python_does() {
        assert_eq!(escape_controls("a\x1b[31mb\rc\td\u{9b}e\nf"), "a\\x1b[31mb\\rc\\td\\x9be\nf");
        assert!(matches!(escape_controls("plain é"), std::borrow::Cow::Borrowed(_)));
    }
}
