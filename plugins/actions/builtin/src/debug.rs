//! `debug:wait`: pauses the task (Backstage's, at most ten minutes).
//!
//! `debug:log`: a message into the task log, and optionally the workspace's
//! files (with their contents). Each file is its own log line: the host
//! caps a line at 8 KiB and a call at 2,000 lines, so the listing stops at
//! `MAX_FILES` files and each file's contents at `MAX_CONTENT_BYTES`.

use crate::context::Context;
use crate::error::{ActionError, Result};
use crate::input::{Input, mistyped};
use crate::walk::{self, Kind};
use serde_json::{Value, json};

const MAX_FILES: usize = 1_000;
const MAX_CONTENT_BYTES: usize = 6 * 1024;

/// Backstage's limit for one wait.
const MAX_WAIT_MS: u64 = 10 * 60 * 1000;

pub fn wait_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "minutes": { "title": "Waiting period in minutes", "type": "number" },
            "seconds": { "title": "Waiting period in seconds", "type": "number" },
            "milliseconds": { "title": "Waiting period in milliseconds", "type": "number" }
        }
    })
}

pub fn wait(ctx: &Context, input: &Input) -> Result<Value> {
    let mut total = 0f64;
    for (name, factor) in [
        ("minutes", 60_000.0),
        ("seconds", 1_000.0),
        ("milliseconds", 1.0),
    ] {
        match input.get(name) {
            None => {}
            Some(Value::Number(n)) => match n.as_f64() {
                Some(v) if v >= 0.0 => total += v * factor,
                _ => {
                    return Err(ActionError::invalid(format!(
                        "input `{name}` must not be negative"
                    )));
                }
            },
            Some(other) => return Err(mistyped(name, "a number", other)),
        }
    }
    let ms = total.round() as u64;
    if ms > MAX_WAIT_MS {
        return Err(ActionError::invalid(format!(
            "waiting {ms} ms is over the limit of {MAX_WAIT_MS} ms (ten minutes)"
        )));
    }
    ctx.info(format!("waiting {ms} ms"));
    // A sleep is no work: it does not count against the call's CPU time.
    std::thread::sleep(std::time::Duration::from_millis(ms));
    Ok(json!({}))
}

pub fn log_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "message": {
                "title": "Message to output.",
                "type": "string"
            },
            "listWorkspace": {
                "title": "List all files in the workspace",
                "description": "`true` or `with-filenames` lists the files' paths; `with-contents` adds what they hold.",
                "oneOf": [
                    { "type": "boolean" },
                    { "type": "string", "enum": ["with-filenames", "with-contents"] }
                ]
            }
        }
    })
}

#[derive(Debug, PartialEq, Eq)]
enum Listing {
    None,
    Names,
    Contents,
}

pub fn log(ctx: &Context, input: &Input) -> Result<Value> {
    let listing = match input.get("listWorkspace") {
        None | Some(Value::Bool(false)) => Listing::None,
        Some(Value::Bool(true)) => Listing::Names,
        Some(Value::String(s)) if s == "with-filenames" => Listing::Names,
        Some(Value::String(s)) if s == "with-contents" => Listing::Contents,
        Some(Value::String(s)) => {
            return Err(ActionError::invalid(format!(
                "input `listWorkspace` (`{s}`) must be true, false, `with-filenames` or `with-contents`"
            )));
        }
        Some(other) => return Err(mistyped("listWorkspace", "a boolean or a string", other)),
    };
    match input.get("message") {
        None => {}
        Some(Value::String(message)) => ctx.info(message),
        // Backstage writes whatever it is given; a value logs as its JSON.
        Some(other) => ctx.info(other.to_string()),
    }
    if listing != Listing::None {
        list_workspace(ctx, listing == Listing::Contents)?;
    }
    Ok(json!({}))
}

fn list_workspace(ctx: &Context, contents: bool) -> Result<()> {
    let entries = walk::walk(ctx.workspace, walk::WORKSPACE, "the workspace")?;
    let files: Vec<_> = entries.iter().filter(|e| e.kind != Kind::Dir).collect();
    let plural = if files.len() == 1 { "" } else { "s" };
    ctx.info(format!("Workspace ({} file{plural}):", files.len()));
    for entry in files.iter().take(MAX_FILES) {
        if !contents || entry.kind != Kind::File {
            ctx.info(format!("  - {}", entry.relative));
            continue;
        }
        let path = ctx.workspace.join(&entry.relative);
        let bytes = read_prefix(&path, MAX_CONTENT_BYTES)?;
        ctx.info(format!(
            "  - {}:\n\n{}",
            entry.relative,
            shown(&bytes, entry.len)
        ));
    }
    if files.len() > MAX_FILES {
        ctx.info(format!("  … and {} more files", files.len() - MAX_FILES));
    }
    Ok(())
}

/// What the listing shows of a file: its text, cut after `MAX_CONTENT_BYTES`
/// (of which `head` is the start), or that it is binary.
fn shown(head: &[u8], len: u64) -> String {
    let binary = format!("(binary, {len} bytes)");
    if head.is_empty() {
        return String::new();
    }
    // The same test for binary as the fetch actions' (`copy::text_of`).
    if head[..head.len().min(8000)].contains(&0) {
        return binary;
    }
    let cut = len > head.len() as u64;
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // Cut inside a character: up to it.
        Err(e) if cut && e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return binary,
    };
    if cut {
        format!("{text}\n… ({len} bytes, cut)")
    } else {
        text.to_owned()
    }
}

/// At most `max` bytes from the start of a file.
fn read_prefix(path: &std::path::Path, max: usize) -> Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| ActionError::io("read", path, &e))?;
    let mut bytes = Vec::new();
    file.take(max as u64)
        .read_to_end(&mut bytes)
        .map_err(|e| ActionError::io("read", path, &e))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::testing::Dirs;

    fn run(dirs: &Dirs, input: Value) -> Result<Value> {
        log(&dirs.context(), &Input::parse(&input.to_string()).unwrap())
    }

    #[test]
    fn a_message_goes_to_the_log() {
        let dirs = Dirs::new();
        assert_eq!(
            run(&dirs, json!({"message": "Hello, payments!"})).unwrap(),
            json!({})
        );
        assert_eq!(dirs.lines.text(), "Hello, payments!");
        run(&dirs, json!({"message": {"a": 1}})).unwrap();
        assert!(dirs.lines.text().ends_with(r#"{"a":1}"#));
    }

    #[test]
    fn the_workspace_is_listed_with_names_or_contents() {
        let dirs = Dirs::new();
        Dirs::write(
            &dirs.workspace,
            &[
                ("README.md", "# hi"),
                ("src/main.rs", "fn main() {}"),
                ("empty", ""),
            ],
        );
        std::fs::write(dirs.workspace.join("logo.png"), b"\x89PNG\0\0").unwrap();
        std::fs::write(dirs.workspace.join("big.txt"), "é".repeat(5_000)).unwrap();
        run(&dirs, json!({"listWorkspace": true})).unwrap();
        assert_eq!(
            dirs.lines.text(),
            "Workspace (5 files):\n  - README.md\n  - big.txt\n  - empty\n  - logo.png\n  - src/main.rs"
        );
        let dirs_names = Dirs::new();
        Dirs::write(&dirs_names.workspace, &[("a", "")]);
        run(&dirs_names, json!({"listWorkspace": "with-filenames"})).unwrap();
        assert_eq!(dirs_names.lines.text(), "Workspace (1 file):\n  - a");

        let before = dirs.lines.0.borrow().len();
        run(&dirs, json!({"listWorkspace": "with-contents"})).unwrap();
        let lines: Vec<String> = dirs.lines.0.borrow()[before..]
            .iter()
            .map(|(_, l)| l.clone())
            .collect();
        assert_eq!(lines[1], "  - README.md:\n\n# hi");
        assert!(
            lines[2].starts_with("  - big.txt:\n\néé")
                && lines[2].ends_with("… (10000 bytes, cut)"),
            "{}",
            lines[2]
        );
        assert_eq!(lines[3], "  - empty:\n\n");
        assert_eq!(lines[4], "  - logo.png:\n\n(binary, 6 bytes)");
        assert_eq!(lines[5], "  - src/main.rs:\n\nfn main() {}");
    }

    #[test]
    fn list_workspace_takes_only_its_values() {
        let dirs = Dirs::new();
        let e = run(&dirs, json!({"listWorkspace": "everything"})).unwrap_err();
        assert_eq!(e.code, "invalid-input");
        let e = run(&dirs, json!({"listWorkspace": 1})).unwrap_err();
        assert_eq!(
            e.message,
            "input `listWorkspace` must be a boolean or a string, not a number"
        );
        run(&dirs, json!({"listWorkspace": false})).unwrap();
        assert_eq!(dirs.lines.text(), "");
    }
}
