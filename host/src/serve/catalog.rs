//! What is served: the run folders (holding a journal) and bench folders
//! (holding a `summary.json`) found under the served directories. Requests
//! name a folder by its path relative to its served directory and are
//! looked up here; no path is ever built from what a client sent, so
//! nothing outside the served directories can be reached.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::run::search::JOURNAL;

/// How deep below a served directory folders are looked for (a bench's
/// runs are two levels below it).
const MAX_DEPTH: usize = 5;
/// Most directory entries looked at per scan.
const MAX_ENTRIES: usize = 50_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Run,
    Bench,
}

/// The folders found, by name.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    pub entries: BTreeMap<String, (Kind, PathBuf)>,
}

impl Catalog {
    /// Scans the served directories. With several, each name starts with
    /// its directory's own name. Symbolic links are not followed.
    pub fn scan(roots: &[PathBuf]) -> Catalog {
        let mut c = Catalog::default();
        let mut budget = MAX_ENTRIES;
        for root in roots {
            let prefix = if roots.len() > 1 { root.file_name().map(|n| n.to_string_lossy().into_owned()) } else { None };
            walk(root, prefix.as_deref().unwrap_or(""), 0, &mut c, &mut budget);
        }
        c
    }

    /// The folder of this kind with this name.
    pub fn get(&self, name: &str, kind: Kind) -> Option<&Path> {
        self.entries.get(name).filter(|(k, _)| *k == kind).map(|(_, p)| p.as_path())
    }

    pub fn names(&self, kind: Kind) -> impl Iterator<Item = &str> {
        self.entries.iter().filter(move |(_, (k, _))| *k == kind).map(|(n, _)| n.as_str())
    }
}

fn walk(dir: &Path, name: &str, depth: usize, c: &mut Catalog, budget: &mut usize) {
    if dir.join(JOURNAL).is_file() {
        c.entries.entry(name_or_dot(name, dir)).or_insert((Kind::Run, dir.to_path_buf()));
        return;
    }
    if dir.join("summary.json").is_file() {
        c.entries.entry(name_or_dot(name, dir)).or_insert((Kind::Bench, dir.to_path_buf()));
    }
    if depth >= MAX_DEPTH {
        return;
    }
    let Ok(read) = std::fs::read_dir(dir) else { return };
    let mut children: Vec<(String, PathBuf)> = vec![];
    for entry in read.flatten() {
        if *budget == 0 {
            break;
        }
        *budget -= 1;
        // Not following links keeps every folder inside its served directory.
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let Ok(child) = entry.file_name().into_string() else { continue };
        if is_dir && !child.starts_with('.') && valid_segment(&child) {
            children.push((child, entry.path()));
        }
    }
    children.sort();
    for (child, path) in children {
        let child_name = if name.is_empty() { child } else { format!("{name}/{child}") };
        walk(&path, &child_name, depth + 1, c, budget);
    }
}

/// A served directory that is itself a run is named after its folder.
fn name_or_dot(name: &str, dir: &Path) -> String {
    if name.is_empty() {
        dir.file_name().map_or_else(|| ".".to_string(), |n| n.to_string_lossy().into_owned())
    } else {
        name.to_string()
    }
}

/// Whether a path segment may be part of a name: not empty, not `.` or
/// `..`, no separators, no control characters.
pub fn valid_segment(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\']) && !s.chars().any(char::is_control)
}

/// A name from request path segments, if every segment is valid.
pub fn name_of(segments: &[String]) -> Option<String> {
    (!segments.is_empty() && segments.iter().all(|s| valid_segment(s))).then(|| segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_and_benches_are_found_and_links_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("runs");
        for run in ["a", "group/b", "cmp/runs/random-0"] {
            std::fs::create_dir_all(root.join(run)).unwrap();
            std::fs::write(root.join(run).join(JOURNAL), b"").unwrap();
        }
        std::fs::write(root.join("cmp/summary.json"), b"{}").unwrap();
        std::fs::create_dir_all(dir.path().join("outside")).unwrap();
        std::fs::write(dir.path().join("outside").join(JOURNAL), b"").unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside"), root.join("link")).unwrap();
        let c = Catalog::scan(std::slice::from_ref(&root));
        let names: Vec<&str> = c.entries.keys().map(String::as_str).collect();
        assert_eq!(names, ["a", "cmp", "cmp/runs/random-0", "group/b"]);
        assert_eq!(c.get("cmp", Kind::Bench), Some(root.join("cmp").as_path()));
        assert_eq!(c.get("cmp", Kind::Run), None);
        let two = Catalog::scan(&[root.clone(), dir.path().join("outside")]);
        assert!(two.get("runs/a", Kind::Run).is_some() && two.get("outside", Kind::Run).is_some(), "{:?}", two.entries.keys());
    }

    #[test]
    fn names_are_made_of_plain_segments() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(name_of(&s(&["a", "b"])), Some("a/b".into()));
        for bad in [&["..", "x"][..], &["a", ""], &["."], &["a/b"], &["a\\b"], &[]] {
            assert_eq!(name_of(&s(bad)), None, "{bad:?}");
        }
    }
}
