//! File operations of the folders: a file written whole or not at all, a name that overwrites
//! nothing, the files of a folder that a reader may take.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Is this a name a program is still writing, or a hidden file? Such names are never taken
/// from the inbox, and the outbox's own temporary names are of this kind too.
pub fn is_temporary(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.')
        || name.ends_with('~')
        || [".tmp", ".temp", ".part", ".partial", ".crdownload", ".swp"]
            .iter()
            .any(|s| lower.ends_with(s))
}

/// The temporary name `name` is written under before it is renamed: a dot-file ending in
/// `.tmp`, in the same folder (a rename within one folder is atomic).
pub fn temporary_name(name: &str) -> String {
    format!(".{name}.tmp")
}

/// Writes `bytes` as `dir/name` so that no reader ever sees part of it: written under a
/// temporary name, flushed to disk, renamed, and the folder flushed so the rename lasts.
/// An existing `dir/name` is replaced whole.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let temp = dir.join(temporary_name(name));
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&temp, dir.join(name))?;
    sync_dir(dir)
}

/// Flushes a folder's entries (a rename or a new name) to disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// A name in `dir` that nothing has yet: `name` itself, else `stem.2.ext`, `stem.3.ext` … so
/// that a file never overwrites an earlier one. `also` is a suffix whose file counts as taking
/// the name too (a reason file beside a failed message).
pub fn free_name(dir: &Path, name: &str, also: Option<&str>) -> String {
    let taken = |n: &str| {
        dir.join(n).symlink_metadata().is_ok()
            || also.is_some_and(|s| dir.join(format!("{n}{s}")).symlink_metadata().is_ok())
    };
    if !taken(name) {
        return name.to_string();
    }
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    (2..)
        .map(|n| format!("{stem}.{n}{ext}"))
        .find(|n| !taken(n))
        .unwrap_or_else(|| name.to_string())
}

/// A file in a folder, as a reader finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
    pub modified: Option<SystemTime>,
}

/// The regular files of `dir` whose names are not temporary, by name. Folders, links and
/// temporary or hidden names are left out.
pub fn list(dir: &Path) -> io::Result<Vec<Found>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if !kind.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_temporary(&name) {
            continue;
        }
        // A file that went away between the listing and this look is simply not there.
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        found.push(Found {
            name,
            path: entry.path(),
            size: meta.len(),
            modified: meta.modified().ok(),
        });
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_and_hidden_names_are_told_apart_from_messages() {
        for name in [
            ".CEB625_X.xml.tmp",
            ".hidden.xml",
            "a.xml.part",
            "a.xml~",
            "A.XML.TMP",
        ] {
            assert!(is_temporary(name), "{name}");
        }
        for name in ["CEB622_1.xml", "receipt.XML", "tmp.xml"] {
            assert!(!is_temporary(name), "{name}");
        }
        assert!(is_temporary(&temporary_name("CEB625_X.xml")));
    }

    #[test]
    fn a_free_name_never_overwrites_an_earlier_file_or_its_reason() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(free_name(dir.path(), "a.xml", None), "a.xml");
        fs::write(dir.path().join("a.xml"), "1").unwrap();
        assert_eq!(free_name(dir.path(), "a.xml", None), "a.2.xml");
        fs::write(dir.path().join("a.2.xml.reason.txt"), "why").unwrap();
        assert_eq!(
            free_name(dir.path(), "a.xml", Some(".reason.txt")),
            "a.3.xml"
        );
        assert_eq!(free_name(dir.path(), "noext", None), "noext");
    }

    #[test]
    fn a_file_written_atomically_replaces_the_old_one_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        write_atomically(dir.path(), "m.xml", b"first").unwrap();
        write_atomically(dir.path(), "m.xml", b"second").unwrap();
        assert_eq!(fs::read(dir.path().join("m.xml")).unwrap(), b"second");
        let names: Vec<String> = list(dir.path())
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(names, ["m.xml"]);
        assert!(!dir.path().join(temporary_name("m.xml")).exists());
    }
}
