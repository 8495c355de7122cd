//! The examples in `--help`: every command's help shows at least one, written as the operator
//! types it (the binary's name first), and each one parses. The administration commands that
//! root and licensing servers share write `{bin}` where the binary's name goes;
//! [`with_binary_name`] puts it in.

use clap::{Command, Parser};

/// Where the binary's name goes in the help text of commands both servers have.
pub const BIN_PLACEHOLDER: &str = "{bin}";

/// `command` and its subcommands with [`BIN_PLACEHOLDER`] replaced by `bin`.
#[must_use]
pub fn with_binary_name(command: Command, bin: &str) -> Command {
    let long_about = command.get_long_about().map(|text| text.to_string());
    let command = match long_about {
        Some(text) if text.contains(BIN_PLACEHOLDER) => {
            command.long_about(text.replace(BIN_PLACEHOLDER, bin))
        }
        _ => command,
    };
    let about = command.get_about().map(|text| text.to_string());
    let command = match about {
        Some(text) if text.contains(BIN_PLACEHOLDER) => {
            command.about(text.replace(BIN_PLACEHOLDER, bin))
        }
        _ => command,
    };
    command.mut_subcommands(|sub| with_binary_name(sub, bin))
}

/// The command line of binary `bin` read into `P` (exits with clap's message when it does not
/// parse, or after printing help or the version).
#[must_use]
pub fn parse<P: Parser>(bin: &str) -> P {
    let mut command = with_binary_name(P::command(), bin);
    let matches = command.get_matches_mut();
    P::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut command).exit())
}

/// What is wrong with the examples of `command` (the whole command line of binary `bin`, as
/// [`with_binary_name`] made it) and of every subcommand: a subcommand with no example, an
/// example that does not start with `bin` (after any `VAR=value` settings), ends a line with
/// `\\`, does not parse, or runs another command. Empty when all is well.
#[must_use]
pub fn example_problems(command: &Command, bin: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut root = command.clone();
    root.build();
    check(&root, &root, bin, &mut Vec::new(), &mut problems);
    problems
}

fn check(
    root: &Command,
    command: &Command,
    bin: &str,
    path: &mut Vec<String>,
    problems: &mut Vec<String>,
) {
    let text = command
        .get_long_about()
        .or(command.get_about())
        .map(|t| t.to_string())
        .unwrap_or_default();
    let name = if path.is_empty() {
        bin.to_owned()
    } else {
        format!("{bin} {}", path.join(" "))
    };
    if text.lines().any(|line| line.trim_end().ends_with("\\\\")) {
        problems.push(format!("{name}: a line of its help ends with \\\\"));
    }
    let examples = examples(&text, bin, path.is_empty());
    if examples.is_empty() {
        problems.push(format!("{name}: its help has no example"));
    }
    for example in examples {
        let words = shell_words(&example);
        // The command itself: after any settings, before any redirection or pipe.
        let command_words: Vec<&String> = words
            .iter()
            .skip_while(|w| is_setting(w))
            .take_while(|w| !w.starts_with(['>', '<', '|']))
            .collect();
        if command_words.first().map(|w| w.as_str()) != Some(bin) {
            problems.push(format!(
                "{name}: example {example:?} does not start with {bin}"
            ));
            continue;
        }
        match root.clone().try_get_matches_from(command_words) {
            Err(error) => problems.push(format!(
                "{name}: example {example:?} does not parse: {}",
                error.render()
            )),
            Ok(matches) if !path.is_empty() => {
                let mut ran = Vec::new();
                let mut at = &matches;
                while let Some((sub, inner)) = at.subcommand() {
                    ran.push(sub.to_owned());
                    at = inner;
                }
                if !ran.starts_with(&path[..]) {
                    problems.push(format!(
                        "{name}: example {example:?} runs {bin} {}",
                        ran.join(" ")
                    ));
                }
            }
            Ok(_) => {}
        }
    }
    for sub in command.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        path.push(sub.get_name().to_owned());
        check(root, sub, bin, path, problems);
        path.pop();
    }
}

/// The examples in a help text: what follows `Example:` on its line, and, in the binary's own
/// help (`top`), every indented line that starts with the binary's name (after any
/// `VAR=value`); a line ending with ` \` goes on on the next.
fn examples(text: &str, bin: &str, top: bool) -> Vec<String> {
    let mut found = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        let start = match trimmed.strip_prefix("Example:") {
            Some(rest) => rest.trim().to_owned(),
            None if top && starts_with_command(trimmed, bin) => trimmed.to_owned(),
            None => continue,
        };
        let mut example = start;
        while example.ends_with('\\') && !example.ends_with("\\\\") {
            example.pop();
            example.truncate(example.trim_end().len());
            match lines.next() {
                Some(next) => {
                    example.push(' ');
                    example.push_str(next.trim());
                }
                None => break,
            }
        }
        found.push(example);
    }
    found
}

fn starts_with_command(line: &str, bin: &str) -> bool {
    line.split_whitespace()
        .find(|w| !is_setting(w))
        .is_some_and(|w| w == bin)
}

/// `NAME=value`, an environment setting before a command.
fn is_setting(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    })
}

/// Splits a command line as a POSIX shell would for our examples: words separated by blanks,
/// single and double quotes kept together.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_examples() {
        assert_eq!(
            shell_words("RMS_TOKEN=x rms-root acl set S 'O:SYG:SYD:P(A;;CC;;;BA)'"),
            [
                "RMS_TOKEN=x",
                "rms-root",
                "acl",
                "set",
                "S",
                "O:SYG:SYD:P(A;;CC;;;BA)"
            ]
        );
        let text = "Start here:\n  rms-x a \\\n      --b c\n  rms-x d\nExample: rms-x e";
        assert_eq!(
            examples(text, "rms-x", true),
            ["rms-x a --b c", "rms-x d", "rms-x e"]
        );
        assert_eq!(examples(text, "rms-x", false), ["rms-x e"]);
        assert!(is_setting("RMS_TOKEN=rms_..."));
        assert!(!is_setting("--at=2026"));
    }
}
