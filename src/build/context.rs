//! The build context: a directory filtered by the ignore rules.
//!
//! * [`BuildContext::walk`]: every entry docker would send, in sorted
//!   order, never following symlinks (a symlink is an entry, not a way out).
//!   Excluded directories are walked only when an exception may re-include
//!   something inside ([`IgnoreMatcher::must_walk_excluded_dir`]); such a
//!   directory becomes an entry (just before its first included
//!   descendant) only if something inside it is included, as fsutil sends
//!   the parents of what it sends.
//! * [`extract_tar`]: a context given as a tar stream (`docker build - <
//!   ctx.tar`; plain, gzip or zstd) extracted into a private temporary
//!   directory. `image::unpack` is not used: it gives files the owners
//!   written in the archive and turns `.wh.` files into whiteouts, which is
//!   right for layers but not for a context (whose files belong to the
//!   caller, and whose owners never matter: COPY writes 0:0 or `--chown`),
//!   and it needs a user namespace when rootless. The `tar` crate's
//!   `unpack_in` refuses `..` names and paths through symlinks that leave
//!   the directory; only files, directories, symlinks and hard links are
//!   extracted.
//! * [`BuildContext::resolve_sources`]: COPY/ADD sources: `filepath.Match`
//!   wildcards per path component, symlinks in the source path resolved
//!   inside the context (as if it were `/`), ignored files invisible.
//! * [`BuildContext::hash_sources`]: a content-based cache key (names,
//!   types, modes, owners as they will be written, link targets, file
//!   sha256), independent of mtimes and of the host's owners.
//!
//! The Dockerfile and the ignore file are read directly by the builder, so
//! they are always readable even when the ignore file excludes them; as
//! with BuildKit, an excluded Dockerfile is not copied by `COPY . .`.

use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::ignore::{IgnoreMatcher, clean_path, go_match, has_wildcards};
use crate::image::unpack::Compression;

/// A context problem.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// A COPY/ADD source that is not in the (filtered) context; BuildKit's
    /// wording: `"/path": not found`.
    #[error("\"/{0}\": not found")]
    NotFound(String),
    /// A COPY/ADD with no sources left.
    #[error("no source files were specified")]
    NoSources,
    /// A bad wildcard in a source.
    #[error("{0}")]
    Pattern(#[from] super::ignore::IgnoreError),
    #[error("too many levels of symbolic links resolving {0:?}")]
    SymlinkLoop(String),
    /// The context stream is not a usable tar archive.
    #[error("cannot read the build context archive: {0}")]
    Archive(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ContextError + '_ {
    move |source| ContextError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    /// A symlink and its target as written.
    Symlink(PathBuf),
    /// A fifo, socket or device: sent by docker as an entry without content.
    Other,
}

/// One context entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path relative to the context root, `/`-separated.
    pub rel: String,
    pub kind: EntryKind,
    /// Permission bits (`mode & 0o7777`).
    pub mode: u32,
    pub size: u64,
}

/// One match of a COPY/ADD source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceMatch {
    /// The matched path relative to the root, symlinks resolved.
    pub rel: String,
    /// Where it is on disk.
    pub path: PathBuf,
    pub is_dir: bool,
}

/// Owner and mode overrides for hashing (what COPY will write).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HashOptions {
    /// Owner the copied files get: 0:0 unless `--chown`.
    pub uid: u32,
    pub gid: u32,
    /// `--chmod`: replaces the permission bits of files and directories.
    pub chmod: Option<u32>,
}

/// A temporary directory removed on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `parent/<prefix><random>` with mode 0700.
    pub fn new(parent: &Path, prefix: &str) -> io::Result<TempDir> {
        use std::os::unix::fs::DirBuilderExt;
        for _ in 0..16 {
            let name = format!("{prefix}{:016x}", rand::random::<u64>());
            let path = parent.join(name);
            match fs::DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return Ok(TempDir { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("cannot create a temporary directory"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = make_writable(&self.path);
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Gives the owner write/exec permission on every directory so a tree with
/// read-only directories can be removed.
fn make_writable(dir: &Path) -> io::Result<()> {
    let md = fs::symlink_metadata(dir)?;
    if md.is_dir() {
        let mode = md.permissions().mode();
        if mode & 0o700 != 0o700 {
            fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o700))?;
        }
        for e in fs::read_dir(dir)? {
            let e = e?;
            if e.file_type()?.is_dir() {
                make_writable(&e.path())?;
            }
        }
    }
    Ok(())
}

/// Extracts a context tar stream (plain, gzip or zstd, recognised by its
/// first bytes) into a new private directory under `parent`.
pub fn extract_tar<R: Read>(reader: R, parent: &Path) -> Result<TempDir, ContextError> {
    let tmp = TempDir::new(parent, "berth-build-context-").map_err(io_err(parent))?;
    let mut br = BufReader::new(reader);
    let head = br
        .fill_buf()
        .map_err(|e| ContextError::Archive(e.to_string()))?
        .to_vec();
    let decoded: Box<dyn Read> = match Compression::sniff(&head) {
        Compression::None => Box::new(br),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(br)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(br)
                .map_err(|e| ContextError::Archive(e.to_string()))?,
        ),
    };
    let mut ar = tar::Archive::new(decoded);
    ar.set_preserve_permissions(true);
    ar.set_preserve_mtime(true);
    ar.set_unpack_xattrs(false);
    ar.set_overwrite(true);
    let entries = ar
        .entries()
        .map_err(|e| ContextError::Archive(e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| ContextError::Archive(e.to_string()))?;
        use tar::EntryType as T;
        match entry.header().entry_type() {
            T::Regular | T::Continuous | T::Directory | T::Symlink | T::Link => {}
            T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink => continue,
            _ => continue,
        }
        let name = entry
            .path()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let ok = entry
            .unpack_in(tmp.path())
            .map_err(|e| ContextError::Archive(format!("{name}: {e}")))?;
        if !ok {
            return Err(ContextError::Archive(format!(
                "{name}: the entry's name leaves the context"
            )));
        }
    }
    Ok(tmp)
}

/// A build context: a root directory and its ignore rules.
#[derive(Debug)]
pub struct BuildContext {
    root: PathBuf,
    ignore: IgnoreMatcher,
    _temp: Option<TempDir>,
}

const MAX_LINKS: usize = 255;

impl BuildContext {
    /// A context directory (`docker build DIR`).
    pub fn from_dir(root: &Path, ignore: IgnoreMatcher) -> Result<BuildContext, ContextError> {
        let md = fs::metadata(root).map_err(io_err(root))?;
        if !md.is_dir() {
            return Err(ContextError::Io {
                path: root.to_path_buf(),
                source: io::Error::from(io::ErrorKind::NotADirectory),
            });
        }
        Ok(BuildContext {
            root: root.to_path_buf(),
            ignore,
            _temp: None,
        })
    }

    /// A context extracted by [`extract_tar`]; the directory lives as long
    /// as the context.
    pub fn from_temp(dir: TempDir, ignore: IgnoreMatcher) -> BuildContext {
        BuildContext {
            root: dir.path().to_path_buf(),
            ignore,
            _temp: Some(dir),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn ignore(&self) -> &IgnoreMatcher {
        &self.ignore
    }

    /// Whether `rel` is visible in the filtered context (not excluded, or
    /// an excluded directory that an exception may reach into).
    pub fn is_visible(&self, rel: &str, is_dir: bool) -> bool {
        if rel.is_empty() || rel == "." {
            return true;
        }
        !self.ignore.matches(rel) || (is_dir && self.ignore.must_walk_excluded_dir(rel))
    }

    /// Every entry under `rel` ("" for the whole context), sorted by path,
    /// `rel` itself excluded. Symlinks are entries, never followed.
    pub fn walk(&self, rel: &str) -> Result<Vec<Entry>, ContextError> {
        let mut out = Vec::new();
        let start = if rel.is_empty() || rel == "." {
            self.root.clone()
        } else {
            self.root.join(rel)
        };
        self.walk_dir(&start, rel.trim_matches('/'), &mut out, &mut Vec::new())?;
        Ok(out)
    }

    /// `pending`: excluded directories being walked for their exceptions;
    /// they become entries (before their first included descendant) only
    /// if something inside them is included, as fsutil sends them.
    fn walk_dir(
        &self,
        dir: &Path,
        rel: &str,
        out: &mut Vec<Entry>,
        pending: &mut Vec<Entry>,
    ) -> Result<(), ContextError> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .map_err(io_err(dir))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .map_err(io_err(dir))?;
        names.sort();
        for name in names {
            let Some(name) = name.to_str().map(str::to_string) else {
                // Docker sends any bytes; berth's paths are UTF-8 strings.
                continue;
            };
            let path = dir.join(&name);
            let child = if rel.is_empty() || rel == "." {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let md = fs::symlink_metadata(&path).map_err(io_err(&path))?;
            let ft = md.file_type();
            let mode = md.mode() & 0o7777;
            if self.ignore.matches(&child) {
                if ft.is_dir() && self.ignore.must_walk_excluded_dir(&child) {
                    pending.push(Entry {
                        rel: child.clone(),
                        kind: EntryKind::Dir,
                        mode,
                        size: 0,
                    });
                    let depth = pending.len();
                    self.walk_dir(&path, &child, out, pending)?;
                    // Nothing inside was included: not an entry.
                    pending.truncate(depth - 1);
                }
                continue;
            }
            out.append(pending);
            let kind = if ft.is_dir() {
                EntryKind::Dir
            } else if ft.is_file() {
                EntryKind::File
            } else if ft.is_symlink() {
                EntryKind::Symlink(fs::read_link(&path).map_err(io_err(&path))?)
            } else {
                EntryKind::Other
            };
            out.push(Entry {
                rel: child.clone(),
                kind: kind.clone(),
                mode,
                size: if ft.is_file() { md.len() } else { 0 },
            });
            if kind == EntryKind::Dir {
                self.walk_dir(&path, &child, out, pending)?;
            }
        }
        Ok(())
    }

    /// Resolves `rel` inside the context as if the root were `/`: `..`
    /// stops at the root, absolute symlink targets start again from it.
    /// The last component is followed when `follow_last`. Returns the
    /// resolved relative path ("" for the root); it need not exist.
    pub fn resolve_scoped(&self, rel: &str, follow_last: bool) -> Result<String, ContextError> {
        let mut todo: Vec<String> = rel
            .split('/')
            .filter(|c| !c.is_empty())
            .rev()
            .map(str::to_string)
            .collect();
        let mut done: Vec<String> = Vec::new();
        let mut links = 0;
        while let Some(c) = todo.pop() {
            match c.as_str() {
                "." => continue,
                ".." => {
                    done.pop();
                    continue;
                }
                _ => {}
            }
            let mut cand = done.clone();
            cand.push(c.clone());
            let path = self.root.join(cand.join("/"));
            let last = todo.is_empty();
            match fs::symlink_metadata(&path) {
                Ok(md) if md.file_type().is_symlink() && (!last || follow_last) => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(ContextError::SymlinkLoop(rel.to_string()));
                    }
                    let target = fs::read_link(&path).map_err(io_err(&path))?;
                    let t = target.to_string_lossy().to_string();
                    if t.starts_with('/') {
                        done.clear();
                    }
                    todo.extend(
                        t.split('/')
                            .filter(|c| !c.is_empty())
                            .rev()
                            .map(str::to_string),
                    );
                }
                _ => done.push(c),
            }
        }
        Ok(done.join("/"))
    }

    /// The context paths one COPY/ADD source names: the source is cleaned
    /// and taken relative to the root; without wildcards it must exist
    /// (symlinks followed inside the context); with wildcards every
    /// component is matched with `filepath.Match` and the matches are
    /// returned sorted. Ignored paths do not exist. Errors: `"/src": not
    /// found` when nothing matches.
    pub fn resolve_sources(&self, src: &str) -> Result<Vec<SourceMatch>, ContextError> {
        let cleaned = clean_path(&format!("/{src}"));
        let rel = cleaned.trim_start_matches('/').to_string();
        let not_found = || ContextError::NotFound(rel.clone());
        if !has_wildcards(&rel) {
            let r = self.resolve_scoped(&rel, true)?;
            return match self.lookup(&r) {
                Some(m) => Ok(vec![m]),
                None => Err(not_found()),
            };
        }
        let mut cur: Vec<String> = vec![String::new()];
        let comps: Vec<&str> = rel.split('/').collect();
        for (i, comp) in comps.iter().enumerate() {
            let last = i + 1 == comps.len();
            let mut next = Vec::new();
            for base in &cur {
                if has_wildcards(comp) {
                    let dir = self.root.join(base);
                    let Ok(rd) = fs::read_dir(&dir) else { continue };
                    let mut names: Vec<String> = rd
                        .filter_map(|e| e.ok())
                        .filter_map(|e| e.file_name().to_str().map(str::to_string))
                        .collect();
                    names.sort();
                    for n in names {
                        if go_match(comp, &n)? {
                            next.push(join_rel(base, &n));
                        }
                    }
                } else {
                    next.push(join_rel(base, comp));
                }
            }
            // Resolve symlinks of intermediate components, keep visible ones.
            cur = next
                .into_iter()
                .filter_map(|p| {
                    let r = self.resolve_scoped(&p, !last).ok()?;
                    let md = fs::symlink_metadata(self.root.join(&r)).ok()?;
                    (last || md.is_dir()).then_some(r)
                })
                .collect();
        }
        let mut out = Vec::new();
        for r in cur {
            let r = self.resolve_scoped(&r, true)?;
            if let Some(m) = self.lookup(&r)
                && !out.contains(&m)
            {
                out.push(m);
            }
        }
        if out.is_empty() {
            return Err(not_found());
        }
        Ok(out)
    }

    fn lookup(&self, r: &str) -> Option<SourceMatch> {
        let path = if r.is_empty() {
            self.root.clone()
        } else {
            self.root.join(r)
        };
        let md = fs::symlink_metadata(&path).ok()?;
        // Every ancestor must be visible too.
        let mut acc = String::new();
        let comps: Vec<&str> = r.split('/').filter(|c| !c.is_empty()).collect();
        for (i, c) in comps.iter().enumerate() {
            acc = join_rel(&acc, c);
            let is_dir = i + 1 < comps.len() || md.is_dir();
            if !self.is_visible(&acc, is_dir) {
                return None;
            }
        }
        Some(SourceMatch {
            rel: r.to_string(),
            path,
            is_dir: md.is_dir(),
        })
    }

    /// A content-based cache key over the sources of one COPY/ADD, in the
    /// order given: `sha256:<hex>`. For a file: its base name, mode, owner
    /// and content; for a directory: every visible entry below it (path
    /// relative to it, type, mode, owner, link target, content digest), the
    /// directory's own mode included. Modes and owners are those COPY will
    /// write (`opts`). mtimes never count.
    pub fn hash_sources(
        &self,
        sources: &[SourceMatch],
        opts: &HashOptions,
    ) -> Result<String, ContextError> {
        let mut h = Sha256::new();
        for s in sources {
            let md = fs::symlink_metadata(&s.path).map_err(io_err(&s.path))?;
            if s.is_dir {
                h.update(b"dir\0");
                self.hash_entry(&mut h, "", &s.path, &md, opts)?;
                for e in self.walk(&s.rel)? {
                    let rel = e
                        .rel
                        .strip_prefix(&s.rel)
                        .unwrap_or(&e.rel)
                        .trim_start_matches('/');
                    let p = self.root.join(&e.rel);
                    let md = fs::symlink_metadata(&p).map_err(io_err(&p))?;
                    self.hash_entry(&mut h, rel, &p, &md, opts)?;
                }
            } else {
                h.update(b"file\0");
                let base = s.rel.rsplit('/').next().unwrap_or("");
                self.hash_entry(&mut h, base, &s.path, &md, opts)?;
            }
            h.update(b"\0end\0");
        }
        Ok(format!("sha256:{}", hex::encode(h.finalize())))
    }

    fn hash_entry(
        &self,
        h: &mut Sha256,
        name: &str,
        path: &Path,
        md: &fs::Metadata,
        opts: &HashOptions,
    ) -> Result<(), ContextError> {
        let ft = md.file_type();
        let mut mode = md.mode() & 0o7777;
        if let Some(m) = opts.chmod
            && (ft.is_file() || ft.is_dir())
        {
            mode = m & 0o7777;
        }
        let (kind, extra) = if ft.is_dir() {
            ("d", String::new())
        } else if ft.is_file() {
            ("f", file_sha256(path)?)
        } else if ft.is_symlink() {
            (
                "l",
                fs::read_link(path)
                    .map_err(io_err(path))?
                    .to_string_lossy()
                    .to_string(),
            )
        } else {
            ("o", String::new())
        };
        let rec = format!(
            "{kind}\0{name}\0{mode:o}\0{}\0{}\0{extra}\n",
            opts.uid, opts.gid
        );
        h.update(rec.as_bytes());
        Ok(())
    }
}

fn join_rel(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_string()
    } else {
        format!("{base}/{name}")
    }
}

/// sha256 (hex) of a file's content.
pub fn file_sha256(path: &Path) -> Result<String, ContextError> {
    let mut f = fs::File::open(path).map_err(io_err(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (p, content) in files {
            let path = d.path().join(p);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            if p.ends_with('/') {
                fs::create_dir_all(&path).unwrap();
            } else {
                fs::write(&path, content).unwrap();
            }
        }
        d
    }

    fn ctx(d: &Path, ignore: &[&str]) -> BuildContext {
        BuildContext::from_dir(d, IgnoreMatcher::new(ignore).unwrap()).unwrap()
    }

    fn rels(c: &BuildContext) -> Vec<String> {
        c.walk("").unwrap().into_iter().map(|e| e.rel).collect()
    }

    #[test]
    fn walk_applies_ignore_and_exceptions() {
        let d = tree(&[
            ("Dockerfile", "FROM x"),
            ("a.txt", "a"),
            ("b.log", "b"),
            ("docs/keep.md", "k"),
            ("docs/drop.md", "d"),
            ("node_modules/x/y.js", "y"),
        ]);
        let c = ctx(
            d.path(),
            &[
                "*.log",
                "docs",
                "!docs/keep.md",
                "node_modules",
                "!node_modules/none",
            ],
        );
        assert_eq!(
            rels(&c),
            vec!["Dockerfile", "a.txt", "docs", "docs/keep.md"],
            "an excluded dir is walked for its exception and sent as the parent of what it re-includes"
        );
    }

    #[test]
    fn symlinks_are_entries_and_resolve_inside_the_context() {
        let outside = tree(&[("secret", "s")]);
        let d = tree(&[("dir/f.txt", "f")]);
        symlink(outside.path().join("secret"), d.path().join("abs")).unwrap();
        symlink("../../..", d.path().join("dir/up")).unwrap();
        symlink("dir", d.path().join("linkdir")).unwrap();
        let c = ctx(d.path(), &[]);
        let entries = c.walk("").unwrap();
        let kinds: Vec<(String, bool)> = entries
            .iter()
            .map(|e| (e.rel.clone(), matches!(e.kind, EntryKind::Symlink(_))))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("abs".into(), true),
                ("dir".into(), false),
                ("dir/f.txt".into(), false),
                ("dir/up".into(), true),
                ("linkdir".into(), true),
            ]
        );
        // An absolute link is resolved from the context root: not found.
        assert!(matches!(
            c.resolve_sources("abs"),
            Err(ContextError::NotFound(_))
        ));
        // `..` stops at the root.
        assert_eq!(
            c.resolve_scoped("dir/up/dir/f.txt", true).unwrap(),
            "dir/f.txt"
        );
        let m = c.resolve_sources("linkdir/f.txt").unwrap();
        assert_eq!(m[0].rel, "dir/f.txt");
        let m = c.resolve_sources("linkdir").unwrap();
        assert!(m[0].is_dir);
        assert_eq!(
            c.resolve_sources("../../dir/f.txt").unwrap()[0].rel,
            "dir/f.txt"
        );
        symlink("loop", d.path().join("loop")).unwrap();
        assert!(matches!(
            c.resolve_sources("loop"),
            Err(ContextError::SymlinkLoop(_))
        ));
    }

    #[test]
    fn wildcard_sources() {
        let d = tree(&[
            ("a.txt", ""),
            ("b.txt", ""),
            ("c.md", ""),
            ("sub/d.txt", ""),
            ("sub/e.txt", ""),
            ("other/f.txt", ""),
            ("ign.txt", ""),
        ]);
        let c = ctx(d.path(), &["ign.txt", "other"]);
        let got = |s: &str| -> Vec<String> {
            c.resolve_sources(s)
                .unwrap()
                .into_iter()
                .map(|m| m.rel)
                .collect()
        };
        assert_eq!(got("*.txt"), vec!["a.txt", "b.txt"]);
        assert_eq!(got("/*.txt"), vec!["a.txt", "b.txt"]);
        assert_eq!(got("*/?.txt"), vec!["sub/d.txt", "sub/e.txt"]);
        assert_eq!(got("[ac].*"), vec!["a.txt", "c.md"]);
        assert_eq!(got("su*"), vec!["sub"]);
        assert_eq!(got("."), vec![""]);
        let e = c.resolve_sources("*.nomatch").unwrap_err();
        assert_eq!(e.to_string(), "\"/*.nomatch\": not found");
        assert_eq!(
            c.resolve_sources("ign.txt").unwrap_err().to_string(),
            "\"/ign.txt\": not found"
        );
        assert!(c.resolve_sources("other/f.txt").is_err());
        assert!(c.resolve_sources("missing").is_err());
        assert!(matches!(
            c.resolve_sources("[").unwrap_err(),
            ContextError::Pattern(_)
        ));
    }

    #[test]
    fn hash_is_content_based() {
        let d1 = tree(&[("src/a", "one"), ("src/b/c", "two"), ("f", "x")]);
        let d2 = tree(&[("src/a", "one"), ("src/b/c", "two"), ("f", "x")]);
        let h = |d: &Path, s: &str, o: HashOptions| {
            let c = ctx(d, &[]);
            let m = c.resolve_sources(s).unwrap();
            c.hash_sources(&m, &o).unwrap()
        };
        let o = HashOptions::default();
        let base = h(d1.path(), "src", o);
        // Same content elsewhere, other mtimes: same key.
        std::thread::sleep(std::time::Duration::from_millis(10));
        fs::write(d2.path().join("src/a"), "one").unwrap();
        assert_eq!(h(d2.path(), "src", o), base);
        // Content, mode, owner, chmod and names all count.
        fs::write(d2.path().join("src/a"), "ONE").unwrap();
        assert_ne!(h(d2.path(), "src", o), base);
        fs::write(d2.path().join("src/a"), "one").unwrap();
        fs::set_permissions(d2.path().join("src/a"), fs::Permissions::from_mode(0o600)).unwrap();
        assert_ne!(h(d2.path(), "src", o), base);
        let chowned = HashOptions {
            uid: 1000,
            gid: 1000,
            chmod: None,
        };
        assert_ne!(h(d1.path(), "src", chowned), base);
        let chmod = HashOptions {
            chmod: Some(0o644),
            ..o
        };
        assert_eq!(h(d1.path(), "src", chmod), h(d2.path(), "src", chmod));
        fs::rename(d2.path().join("src/b"), d2.path().join("src/B")).unwrap();
        assert_ne!(h(d2.path(), "src", chmod), h(d1.path(), "src", chmod));
        // Ignored files do not count.
        let c = ctx(d1.path(), &["src/a"]);
        let m = c.resolve_sources("src").unwrap();
        let without = c.hash_sources(&m, &o).unwrap();
        assert_ne!(without, base);
        fs::write(d1.path().join("src/a"), "changed").unwrap();
        assert_eq!(c.hash_sources(&m, &o).unwrap(), without);
        // A file's key includes its name.
        let d3 = tree(&[("g", "x")]);
        assert_ne!(h(d1.path(), "f", o), h(d3.path(), "g", o));
    }

    fn tar_bytes(entries: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, data, link) in entries {
            let mut hd = tar::Header::new_gnu();
            hd.set_entry_type(*kind);
            hd.set_size(data.len() as u64);
            hd.set_mode(0o644);
            hd.set_uid(12345);
            {
                let raw = hd.as_old_mut();
                raw.name[..name.len()].copy_from_slice(name.as_bytes());
                if let Some(l) = link {
                    raw.linkname[..l.len()].copy_from_slice(l.as_bytes());
                }
            }
            hd.set_cksum();
            b.append(&hd, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn tar_contexts_plain_gzip_zstd() {
        use tar::EntryType as T;
        let raw = tar_bytes(&[
            ("Dockerfile", T::Regular, b"FROM x\n", None),
            ("dir/", T::Directory, b"", None),
            ("dir/f", T::Regular, b"data", None),
            ("l", T::Symlink, b"", Some("dir/f")),
        ]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, &raw).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&raw[..], 1).unwrap();
        let parent = tempfile::tempdir().unwrap();
        for data in [raw.clone(), gz, zst] {
            let t = extract_tar(&data[..], parent.path()).unwrap();
            let path = t.path().to_path_buf();
            assert_eq!(fs::read(path.join("dir/f")).unwrap(), b"data");
            assert_eq!(fs::read_link(path.join("l")).unwrap(), Path::new("dir/f"));
            let c = BuildContext::from_temp(t, IgnoreMatcher::default());
            assert_eq!(rels(&c), vec!["Dockerfile", "dir", "dir/f", "l"]);
            drop(c);
            assert!(!path.exists(), "temporary context removed on drop");
        }
    }

    #[test]
    fn tar_context_cannot_escape() {
        use tar::EntryType as T;
        let parent = tempfile::tempdir().unwrap();
        let evil = tar_bytes(&[("../evil", T::Regular, b"x", None)]);
        assert!(extract_tar(&evil[..], parent.path()).is_err());
        assert!(!parent.path().join("evil").exists());
        let through = tar_bytes(&[
            ("out", T::Symlink, b"", Some("/tmp")),
            ("out/berth-ctx-escape-test", T::Regular, b"x", None),
        ]);
        assert!(extract_tar(&through[..], parent.path()).is_err());
        assert!(!Path::new("/tmp/berth-ctx-escape-test").exists());
        let garbage = vec![7u8; 1024];
        assert!(extract_tar(&garbage[..], parent.path()).is_err());
        // Nothing left behind by failed extractions.
        assert_eq!(fs::read_dir(parent.path()).unwrap().count(), 0);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Whatever the archive says, nothing lands outside the extraction
        /// directory (its parent holds only it) and nothing panics.
        #[test]
        fn tar_extraction_stays_inside(
            entries in proptest::collection::vec(
                (
                    proptest::sample::select(vec!["a", "a/b", "../x", "a/../../y", "l", "l/berth-ctx-probe", "l/../w", "./c", "/abs", "b/"]),
                    0u8..3,
                    proptest::sample::select(vec!["..", "../..", "a", "/tmp", "../../.."]),
                ),
                0..8,
            ),
        ) {
            use tar::EntryType as T;
            let list: Vec<(&str, T, &[u8], Option<&str>)> = entries
                .iter()
                .map(|(name, kind, target)| match kind {
                    0 => (*name, T::Regular, &b"data"[..], None),
                    1 => (*name, T::Directory, &b""[..], None),
                    _ => (*name, T::Symlink, &b""[..], Some(*target)),
                })
                .collect();
            let data = tar_bytes(&list);
            let parent = tempfile::tempdir().unwrap();
            let res = extract_tar(&data[..], parent.path());
            let names: Vec<_> = fs::read_dir(parent.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
            match &res {
                Ok(t) => proptest::prop_assert_eq!(names, vec![t.path().file_name().unwrap().to_os_string()]),
                Err(_) => proptest::prop_assert!(names.is_empty(), "{:?}", names),
            }
            // Through a symlink to .., ../.. or /tmp: never written.
            let mut outside = vec![PathBuf::from("/tmp"), PathBuf::from("/")];
            outside.extend(parent.path().ancestors().skip(1).take(2).map(Path::to_path_buf));
            for o in outside {
                let probe = o.join("berth-ctx-probe");
                proptest::prop_assert!(fs::symlink_metadata(&probe).is_err(), "{}", probe.display());
            }
        }
    }
}
