//! The docs' commands stay true: every `nasbox` command in a shell block
//! of the README or the book (`docs/src`) must be accepted by the command
//! line as written, and the README's five-minute tour runs for real.

mod support;

use std::path::{Path, PathBuf};

use support::text;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The README and every page of the book.
fn pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut pages = vec![workspace().join("README.md")];
    walk(&workspace().join("docs/src"), &mut pages);
    pages.sort();
    pages
}

/// The shell blocks of a page (```sh), each as its commands: continuation
/// lines joined, comments dropped.
fn shell_blocks(markdown: &str) -> Vec<Vec<String>> {
    let mut blocks = vec![];
    // `Some` inside a shell block; `in_fence` inside any block.
    let mut current: Option<Vec<String>> = None;
    let mut in_fence = false;
    let mut pending = String::new();
    for line in markdown.lines() {
        if let Some(lang) = line.trim_start().strip_prefix("```") {
            if in_fence {
                blocks.extend(current.take());
            } else if lang.trim() == "sh" {
                current = Some(vec![]);
            }
            in_fence = !in_fence;
            continue;
        }
        let Some(block) = current.as_mut() else { continue };
        let code = strip_comment(line);
        match code.trim_end().strip_suffix('\\') {
            Some(head) => pending.push_str(head),
            None => {
                pending.push_str(code.trim_end());
                let command = std::mem::take(&mut pending).trim().to_string();
                if !command.is_empty() {
                    block.push(command);
                }
            }
        }
    }
    blocks
}

/// The line without a trailing `# comment` (outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match (quote, b) {
            (None, b'\'' | b'"') => quote = Some(b),
            (Some(q), c) if c == q => quote = None,
            (None, b'#') if i == 0 || bytes[i - 1] == b' ' => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Shell words: whitespace-separated, with '…' and "…" quoting.
fn words(command: &str) -> Vec<String> {
    let mut words = vec![];
    let mut word = String::new();
    let mut quote = None;
    let mut in_word = false;
    for c in command.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (_, c) => {
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

/// Every `nasbox …` command of the docs, with where it is.
fn documented_commands() -> Vec<(String, Vec<String>)> {
    let mut out = vec![];
    for page in pages() {
        let markdown = std::fs::read_to_string(&page).unwrap();
        let name = page.strip_prefix(workspace()).unwrap_or(&page).display().to_string();
        for block in shell_blocks(&markdown) {
            for command in block {
                let w = words(&command);
                if w.first().is_some_and(|c| c == "nasbox") {
                    out.push((format!("{name}: {command}"), w[1..].to_vec()));
                }
            }
        }
    }
    out
}

#[test]
fn the_parser_finds_commands_comments_and_continuations() {
    let md = "text\n```sh\nnasbox search --a 1 \\\n    --b 'x y'   # a comment\ncargo build\n```\n```toml\nnasbox = 1\n```\n";
    let blocks = shell_blocks(md);
    assert_eq!(blocks, vec![vec!["nasbox search --a 1     --b 'x y'".to_string(), "cargo build".to_string()]]);
    assert_eq!(words(&blocks[0][0]), ["nasbox", "search", "--a", "1", "--b", "x y"]);
    assert_eq!(strip_comment("a '#x' # c"), "a '#x' ");
}

#[test]
fn every_documented_command_is_accepted_by_the_command_line() {
    let commands = documented_commands();
    assert!(commands.len() >= 30, "found only {} documented commands", commands.len());
    let mut refused = vec![];
    for (at, args) in &commands {
        // `--help` after the arguments: clap checks every flag and value it
        // meets before it, then prints the help instead of running.
        let mut with_help: Vec<&str> = args.iter().map(String::as_str).collect();
        with_help.push("--help");
        let o = support::command(&with_help).output().unwrap();
        if !o.status.success() {
            refused.push(format!("{at}\n    {}", text(&o).lines().find(|l| l.contains("error")).unwrap_or_default()));
        }
    }
    assert!(refused.is_empty(), "documented commands the CLI refuses:\n{}", refused.join("\n"));
}

#[test]
fn the_readme_tour_runs() {
    // As a user types it after the set-up: `nasbox` found on PATH (where
    // scripts/install, which scripts/setup runs, links it), in a new shell
    // with nothing else set.
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let tour = readme.split("## A five-minute tour").nth(1).expect("the README has its tour");
    let block = shell_blocks(tour).into_iter().next().expect("the tour has its commands");
    assert!(block.len() >= 5, "{block:?}");
    let dir = tempfile::tempdir().unwrap();
    let cargo_home = dir.path().join("cargo");
    let o = std::process::Command::new(workspace().join("scripts/install"))
        .env("CARGO_HOME", &cargo_home)
        .env("CARGO_TARGET_DIR", support::target_dir())
        .output()
        .unwrap();
    assert!(o.status.success(), "scripts/install:\n{}", text(&o));
    let linked = cargo_home.join("bin/nasbox");
    assert_eq!(linked.canonicalize().unwrap(), std::path::Path::new(env!("CARGO_BIN_EXE_nasbox")).canonicalize().unwrap());
    let home = dir.path().join("home");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    for command in &block {
        assert_eq!(words(command)[0], "nasbox", "{command}");
        let o = std::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(&work)
            .env_clear()
            .env("HOME", &home)
            .env("PATH", format!("{}:/usr/bin:/bin", cargo_home.join("bin").display()))
            .output()
            .unwrap();
        assert!(o.status.success(), "{command}:\n{}", text(&o));
    }
    let run = work.join("runs/tour");
    assert_eq!(support::trials(&run).len(), 8);
    assert!(run.join("report.html").is_file());
    assert!(run.join("final").is_dir());
}

const BEGIN: &str = "<!-- generated from `nasbox … --help` by tests/docs.rs; regenerate: NASBOX_BLESS=1 cargo test --release --test docs -->";
const END: &str = "<!-- end of the generated part -->";

/// `nasbox PATH --help`, as a user sees it piped.
fn help(path: &[String]) -> String {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_nasbox")).args(path).arg("--help").env_remove("COLUMNS").output().unwrap();
    assert!(o.status.success(), "nasbox {} --help:\n{}", path.join(" "), text(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// Every command's help, depth first, as Markdown: each under a heading of
/// its own, the global options only once (under `nasbox`).
fn reference(path: &mut Vec<String>, out: &mut String) {
    let text = help(path);
    let blocks: Vec<&str> = text.trim_end().split("\n\n").collect();
    let shown: Vec<&str> = blocks
        .iter()
        .copied()
        .filter(|b| path.is_empty() || !(b.starts_with("Global options:") || b.starts_with("Compiling strategies (global options):")))
        .collect();
    let depth = "#".repeat(2 + path.len().saturating_sub(1));
    out.push_str(&format!("{depth} `nasbox{}`\n\n```text\n{}\n```\n\n", path.iter().map(|p| format!(" {p}")).collect::<String>(), shown.join("\n\n")));
    let commands = blocks
        .iter()
        .find(|b| b.starts_with("Commands:"))
        .map_or(vec![], |b| b.lines().skip(1).filter_map(|l| l.split_whitespace().next()).filter(|c| *c != "help").map(String::from).collect::<Vec<_>>());
    for c in commands {
        path.push(c);
        reference(path, out);
        path.pop();
    }
}

#[test]
fn the_command_line_reference_is_the_help_of_every_command() {
    let file = workspace().join("docs/src/reference/cli.md");
    let page = std::fs::read_to_string(&file).unwrap();
    let (head, rest) = page.split_once(BEGIN).expect("cli.md has the generated part's first marker");
    let (_, tail) = rest.split_once(END).expect("cli.md has the generated part's end marker");
    let mut generated = String::new();
    reference(&mut vec![], &mut generated);
    let want = format!("{head}{BEGIN}\n\n{generated}{END}{tail}");
    if page == want {
        return;
    }
    if std::env::var_os("NASBOX_BLESS").is_some() {
        std::fs::write(&file, want).unwrap();
        return;
    }
    let differs = page.lines().zip(want.lines()).position(|(a, b)| a != b).unwrap_or(page.lines().count().min(want.lines().count()));
    panic!(
        "docs/src/reference/cli.md is not what the CLI's help says (first difference at line {}: {:?}, the help gives {:?}); regenerate it with NASBOX_BLESS=1 cargo test --release --test docs",
        differs + 1,
        page.lines().nth(differs).unwrap_or(""),
        want.lines().nth(differs).unwrap_or("")
    );
}

/// A relative link's target, or `None` for a URL or a page anchor alone.
fn link_target(page: &Path, link: &str) -> Option<(PathBuf, Option<String>)> {
    if link.contains("://") || link.starts_with("mailto:") || link.starts_with('#') {
        return None;
    }
    let (file, anchor) = match link.split_once('#') {
        Some((f, a)) => (f, Some(a.to_string())),
        None => (link, None),
    };
    Some((page.parent().unwrap().join(file), anchor))
}

/// The anchors mdBook and GitHub make of a page's headings.
fn anchors(markdown: &str) -> Vec<String> {
    let mut in_code = false;
    let mut out = vec![];
    for line in markdown.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        }
        if in_code || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim();
        let slug: String = title
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                ' ' => Some('-'),
                _ => None,
            })
            .collect();
        out.push(slug);
    }
    out
}

/// The `[text](target)` links of a page, outside code.
fn links(markdown: &str) -> Vec<String> {
    let mut in_code = false;
    let mut out = vec![];
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        // Inline code spans are not links.
        let line: String = line.split('`').step_by(2).collect::<Vec<_>>().join("");
        let mut rest = line.as_str();
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            match after.find(')') {
                Some(j) => {
                    out.push(after[..j].split_whitespace().next().unwrap_or("").to_string());
                    rest = &after[j..];
                }
                None => break,
            }
        }
    }
    out
}

#[test]
fn every_relative_link_of_the_readme_and_the_book_resolves() {
    let mut pages = pages();
    for extra in ["CONTRIBUTING.md", "CHANGELOG.md", "examples/pytorch-mlp/README.md"] {
        let p = workspace().join(extra);
        if p.is_file() {
            pages.push(p);
        }
    }
    let mut broken = vec![];
    for page in &pages {
        let markdown = std::fs::read_to_string(page).unwrap();
        for link in links(&markdown) {
            let Some((target, anchor)) = link_target(page, &link) else { continue };
            let shown = page.strip_prefix(workspace()).unwrap_or(page).display().to_string();
            if !target.exists() {
                broken.push(format!("{shown}: {link} (no such file)"));
            } else if let Some(anchor) = anchor.filter(|_| target.extension().is_some_and(|e| e == "md")) {
                if !anchors(&std::fs::read_to_string(&target).unwrap()).contains(&anchor) {
                    broken.push(format!("{shown}: {link} (no heading #{anchor})"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn links_and_anchors_are_read_as_mdbook_makes_them() {
    assert_eq!(anchors("# Mixed spaces: test functions (`function-bench`)\n"), vec!["mixed-spaces-test-functions-function-bench"]);
    assert_eq!(links("see [a](x.md#y) and `[b](no.md)` and [c](https://e.org)\n```\n[d](z.md)\n```\n"), vec!["x.md#y", "https://e.org"]);
}
