//! Extraction of one untrusted OCI/Docker layer into an empty directory.
//!
//! [`unpack_layer`] reads a (possibly gzip- or zstd-compressed) tar stream and
//! writes its files into `dest`, converting the OCI whiteout conventions to
//! overlayfs ones (`.wh.x` → a 0/0 character device `x`; `.wh..wh..opq` →
//! the `user.overlay.opaque=y` xattr, for overlay mounted with `userxattr`).
//! While it extracts it writes the layer's tar-split ([`super::tarsplit`]),
//! from which the exact tar stream can be rebuilt later.
//!
//! # Security
//!
//! The input is hostile. Every filesystem operation is relative to a directory
//! fd inside `dest`; directories are opened with `openat2(RESOLVE_BENEATH |
//! RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)`, one path
//! component at a time, and the final component is created with `*at` calls
//! that never follow it (`O_CREAT|O_EXCL|O_NOFOLLOW`, `mkdirat`, `symlinkat`,
//! `linkat` without `AT_SYMLINK_FOLLOW`, `mknodat`). Names with `..`
//! components, absolute names and NULs are rejected. A symlink written by one
//! entry can therefore never be traversed by a later one: that is an error.
//!
//! # Metadata
//!
//! Owners are the tar's numeric uid/gid (user and group names are ignored),
//! set without following links; then the mode (after chown, so setuid/setgid
//! survive; never on symlinks); then xattrs (after chown, which clears
//! `security.capability`); then times. Directory modes and times are applied
//! once all entries are written, deepest first. A hard link's header metadata
//! is applied to the shared inode, as docker does. An entry whose name already
//! exists replaces it; a directory over a directory is merged.
//!
//! # Tar dialect
//!
//! The parser is our own and follows Go's `archive/tar` (what docker and
//! containers/storage read layers with) so that a layer means the same files
//! here as there: V7, USTAR, PAX (local records; global records are ignored)
//! and GNU long names; checksums signed or unsigned; base-256 numbers;
//! link/symlink/device/dir/fifo entries carry no data whatever their size
//! field says; a stream may end after one zero block or at a header boundary.
//! GNU sparse files (old and PAX forms) and other rare entry types are
//! rejected with an error rather than skipped.

use std::cmp::Reverse;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{
    AtFlags, FileType, Gid, Mode, OFlags, ResolveFlags, Timespec, Timestamps, Uid, XattrFlags,
};
use rustix::io::Errno;
use sha2::{Digest, Sha256};

use super::tarsplit::Recorder;

const BLOCK: usize = 512;
/// Largest PAX or GNU long-name record accepted (Go's limit too).
const MAX_SPECIAL: i64 = 1 << 20;
/// Longest entry name accepted (PATH_MAX; docker cannot extract longer ones).
const MAX_NAME: usize = 4096;
/// Buffer for the uncompressed stream; file data is copied from it directly.
const BUF_SIZE: usize = 256 * 1024;
/// Directory fds kept open for the current entry's ancestors.
const STACK_DEPTH: usize = 64;

const RESOLVE: ResolveFlags = ResolveFlags::BENEATH
    .union(ResolveFlags::NO_SYMLINKS)
    .union(ResolveFlags::NO_MAGICLINKS)
    .union(ResolveFlags::NO_XDEV);

/// Compression of a layer blob, recognised by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Recognises gzip (`1f 8b`) and zstd (`28 b5 2f fd`); anything else is
    /// taken as an uncompressed tar.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// How to unpack.
#[derive(Debug, Clone, Default)]
pub struct UnpackOptions {
    /// Rootless: the process runs inside a user namespace (mapped root). Device
    /// nodes other than overlay whiteouts cannot be created: they are skipped
    /// and counted. chown to an id that is not mapped (EINVAL) is an error
    /// naming the file and the uid.
    pub rootless: bool,
    /// The user namespace maps only root (rootless without /etc/subuid
    /// ranges, [`crate::userns::IdMapping::single`]): every file is given
    /// owner 0 (the caller on the host) whatever the archive says, instead
    /// of failing on the first other owner.
    pub only_root_mapped: bool,
}

/// What [`unpack_layer`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackSummary {
    /// `sha256:<hex>` of the uncompressed tar stream, every byte up to EOF.
    pub diff_id: String,
    /// Sum of regular-file content sizes (what docker reports as layer size).
    pub size: u64,
    /// Tar entries (extension headers not counted, PAX global headers not counted).
    pub entries: u64,
    /// Device nodes not created because `rootless` was set.
    pub skipped_devices: u64,
    /// Extended attributes not applied: `*.overlay.*` ones (never applied),
    /// namespaces other than `user.`/`security.`, and `user.`/`security.` ones
    /// the file system or the namespace refused (EPERM/ENOTSUP).
    pub skipped_xattrs: u64,
    /// False when a later entry replaced or removed a regular file with content
    /// written by an earlier entry of the same layer: the tar-split then cannot
    /// rebuild the stream (reassembly reports a digest mismatch). Keep the
    /// compressed blob for such a layer if it must be pushed again.
    pub tar_split_exact: bool,
}

/// Why a layer could not be unpacked. Every variant names the entry (as
/// written in the archive) or the place in the stream where it went wrong.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// `dest` is unusable.
    #[error("cannot unpack into {}: {problem}", path.display())]
    Destination { path: PathBuf, problem: String },
    /// The layer stream cannot be read (I/O or decompression error).
    #[error("cannot read the layer stream ({place}): {source}")]
    Read {
        place: String,
        #[source]
        source: io::Error,
    },
    /// The stream ends in the middle of an entry.
    #[error("layer is truncated (unexpected end of file) in {place}: {problem}")]
    Truncated { place: String, problem: String },
    /// The stream is not a valid tar archive.
    #[error("layer is not a valid tar archive ({place}): {problem}")]
    Corrupt { place: String, problem: String },
    /// The entry's name is not acceptable.
    #[error("entry {entry:?} has an invalid name: {problem}")]
    InvalidName { entry: String, problem: String },
    /// The entry's parent path goes through a symlink written by an earlier entry.
    #[error(
        "entry {entry:?} goes through symlink {symlink:?}: refusing to follow links while extracting"
    )]
    ThroughSymlink { entry: String, symlink: String },
    /// The entry's parent path goes through something that is not a directory.
    #[error("entry {entry:?}: {component:?} is not a directory")]
    NotADirectory { entry: String, component: String },
    /// A hard link's target is unusable.
    #[error("hard link {entry:?} to {target:?}: {problem}")]
    HardLink {
        entry: String,
        target: String,
        problem: String,
    },
    /// The entry is of a kind berth does not extract.
    #[error("entry {entry:?}: {problem} is not supported")]
    Unsupported { entry: String, problem: String },
    /// chown failed because the id is not mapped in this user namespace.
    #[error(
        "entry {entry:?}: cannot give it owner uid {uid} gid {gid}: the id is not mapped in this user namespace (check /etc/subuid and /etc/subgid)"
    )]
    Unmapped { entry: String, uid: u32, gid: u32 },
    /// A file system operation failed.
    #[error("entry {entry:?}: cannot {op}: {source}")]
    Io {
        entry: String,
        op: String,
        #[source]
        source: io::Error,
    },
    /// Writing the tar-split metadata failed.
    #[error("cannot write tar-split metadata (at entry {entry:?}): {source}")]
    TarSplit {
        entry: String,
        #[source]
        source: io::Error,
    },
}

/// Unpacks one layer into `dest` (an existing, empty directory), writing its
/// tar-split metadata to `tar_split`.
///
/// `compressed` is read to its end: the returned `diff_id` covers every byte
/// of the uncompressed stream, including anything after the end-of-archive
/// blocks. Data is streamed through bounded buffers; nothing is preallocated
/// from sizes the archive declares. On error `dest` holds a partial layer
/// and must be removed by the caller; nothing outside `dest` has been touched.
///
/// Runs on the calling thread only. [`unpack_layer_pipelined`] does the same
/// with decompression and hashing on a helper thread.
pub fn unpack_layer<R: Read, W: Write>(
    compressed: R,
    dest: &Path,
    tar_split: W,
    opts: &UnpackOptions,
) -> Result<UnpackSummary, UnpackError> {
    let root = open_dest(dest)?;
    let (head, compressed) = read_head(compressed)?;
    let decoded = decoder(head, compressed).map_err(|source| UnpackError::Read {
        place: "at the start of the layer".into(),
        source,
    })?;
    let source = HashedStream {
        r: BufReader::with_capacity(
            BUF_SIZE,
            Hashing {
                inner: decoded,
                hasher: Sha256::new(),
                total: 0,
            },
        ),
    };
    extract_all(root, Box::new(source), tar_split, opts, read_umask())
}

/// [`unpack_layer`] with decompression on one helper thread, so it overlaps
/// with hashing and the file system work of extraction (the extracting
/// thread spends most of its time in the kernel). Same results, same errors.
/// It only pays when a second core is free: with several layers unpacking at
/// once, plain [`unpack_layer`] per layer uses the cores as well.
///
/// The helper thread is started (and joined) inside this call: call it after
/// any `unshare`/`setns`, which need a single-threaded process.
pub fn unpack_layer_pipelined<R: Read + Send, W: Write>(
    compressed: R,
    dest: &Path,
    tar_split: W,
    opts: &UnpackOptions,
) -> Result<UnpackSummary, UnpackError> {
    let root = open_dest(dest)?;
    let (head, compressed) = read_head(compressed)?;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(PIPE_DEPTH);
        let (back_tx, back_rx) = std::sync::mpsc::channel();
        scope.spawn(move || decode_worker(head, compressed, tx, back_rx));
        let source = ChannelStream {
            rx,
            back: back_tx,
            cur: None,
            pos: 0,
            len: 0,
            ended: false,
            failed: false,
            hasher: Sha256::new(),
            total: 0,
        };
        extract_all(root, Box::new(source), tar_split, opts, read_umask())
    })
}

/// Reads the first bytes (fully: a network stream may hand them over one at
/// a time) and refuses compressions we do not handle.
fn read_head<R: Read>(mut compressed: R) -> Result<(Vec<u8>, R), UnpackError> {
    let mut head = [0u8; 6];
    let mut got = 0;
    while got < head.len() {
        match compressed.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(UnpackError::Read {
                    place: "at the start of the layer".into(),
                    source,
                });
            }
        }
    }
    let head = &head[..got];
    if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) || head.starts_with(b"BZh") {
        return Err(UnpackError::Unsupported {
            entry: "<layer>".into(),
            problem: "xz or bzip2 compression (only gzip and zstd)".into(),
        });
    }
    Ok((head.to_vec(), compressed))
}

/// The uncompressed stream, by sniffing `head` (the bytes already read).
fn decoder<'a, R: Read + 'a>(head: Vec<u8>, compressed: R) -> io::Result<Box<dyn Read + 'a>> {
    let kind = Compression::sniff(&head);
    let joined = io::Cursor::new(head).chain(compressed);
    Ok(match kind {
        Compression::None => Box::new(joined),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(joined)),
        Compression::Zstd => Box::new(zstd::Decoder::new(joined)?),
    })
}

fn extract_all<W: Write>(
    root: OwnedFd,
    source: Box<dyn Source + '_>,
    tar_split: W,
    opts: &UnpackOptions,
    umask: Option<u32>,
) -> Result<UnpackSummary, UnpackError> {
    let split = Recorder::new(tar_split).map_err(|source| UnpackError::TarSplit {
        entry: "<start>".into(),
        source,
    })?;
    let mut input = Input { r: source, split };

    let mut x = Extractor {
        tree: Tree {
            root,
            stack: Vec::new(),
            deep: None,
        },
        rootless: opts.rootless,
        only_root_mapped: opts.only_root_mapped,
        euid_root: rustix::process::geteuid().is_root(),
        umask,
        dirs: Vec::new(),
        summary: UnpackSummary {
            diff_id: String::new(),
            size: 0,
            entries: 0,
            skipped_devices: 0,
            skipped_xattrs: 0,
            tar_split_exact: true,
        },
    };

    let mut parser = Parser { prev: None };
    while let Some(entry) = parser.next(&mut input)? {
        let consumed = x.extract(&entry, &mut input)?;
        // Skip what the entry did not consume (recorded verbatim), then padding.
        let left = entry.data - consumed;
        if left > 0 {
            let got = input
                .skip_meta(left)
                .map_err(|e| e.into_error(&entry.name))?;
            if got < left {
                return Err(UnpackError::Truncated {
                    place: format!("entry {:?}", show(&entry.name)),
                    problem: format!(
                        "{} bytes of data declared, {} present",
                        entry.data,
                        consumed + got
                    ),
                });
            }
        }
        let pad = padding(entry.data);
        if pad > 0 {
            let got = input
                .skip_meta(pad)
                .map_err(|e| e.into_error(&entry.name))?;
            if got == 0 {
                break; // Go's reader also takes EOF here as the end of the archive
            }
            if got < pad {
                return Err(UnpackError::Truncated {
                    place: format!("the padding after entry {:?}", show(&entry.name)),
                    problem: format!("{got} of {pad} bytes present"),
                });
            }
        }
        parser.prev = Some(entry.name);
    }

    // Everything after the end-of-archive marker is part of the diff_id too.
    let last = parser.prev.clone().unwrap_or_default();
    input.drain().map_err(|e| e.into_error(&last))?;

    x.finish_dirs()?;

    let Input { mut r, split } = input;
    let (digest, total) = r.finish().map_err(|source| UnpackError::Read {
        place: "at the end of the layer".into(),
        source,
    })?;
    split
        .finish(total, &digest)
        .map_err(|source| UnpackError::TarSplit {
            entry: "<end>".into(),
            source,
        })?;
    x.summary.diff_id = format!("sha256:{}", hex::encode(digest));
    Ok(x.summary)
}

fn open_dest(dest: &Path) -> Result<OwnedFd, UnpackError> {
    let bad = |problem: String| UnpackError::Destination {
        path: dest.to_owned(),
        problem,
    };
    let root = rustix::fs::open(
        dest,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| bad(io::Error::from(e).to_string()))?;
    let mut dir =
        rustix::fs::Dir::read_from(&root).map_err(|e| bad(io::Error::from(e).to_string()))?;
    while let Some(ent) = dir.read() {
        let ent = ent.map_err(|e| bad(io::Error::from(e).to_string()))?;
        let n = ent.file_name().to_bytes();
        if n != b"." && n != b".." {
            return Err(bad("the directory is not empty".into()));
        }
    }
    Ok(root)
}

/// The process umask, from /proc (reading it with umask(2) would change it).
fn read_umask() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Umask:"))?;
    u32::from_str_radix(line["Umask:".len()..].trim(), 8).ok()
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

fn errno_io(e: Errno) -> io::Error {
    io::Error::from(e)
}

// ---------------------------------------------------------------------------
// The stream: uncompressed bytes, hashed as they are read, and recorded into
// the tar-split unless they are regular-file content.

/// The uncompressed tar stream, hashed as it is read.
trait Source: BufRead {
    /// sha256 and length of the whole stream; only once it was read to EOF.
    fn finish(&mut self) -> io::Result<([u8; 32], u64)>;
}

struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    total: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => break r?,
            }
        };
        self.hasher.update(&buf[..n]);
        self.total += n as u64;
        Ok(n)
    }
}

/// Single-threaded source: decoder → hash → buffer.
struct HashedStream<'a> {
    r: BufReader<Hashing<Box<dyn Read + 'a>>>,
}

impl Read for HashedStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.r.read(buf)
    }
}

impl BufRead for HashedStream<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.r.fill_buf()
    }
    fn consume(&mut self, n: usize) {
        self.r.consume(n)
    }
}

impl Source for HashedStream<'_> {
    fn finish(&mut self) -> io::Result<([u8; 32], u64)> {
        let h = self.r.get_ref();
        Ok((h.hasher.clone().finalize().into(), h.total))
    }
}

/// Chunks in flight between the decoding thread and the extracting one.
const PIPE_DEPTH: usize = 4;

enum Chunk {
    Data(Vec<u8>, usize),
    End,
    Failed(io::Error),
}

/// The helper thread of [`unpack_layer_pipelined`]: decompresses. (Hashing
/// stays on the extracting thread: that balances the two best.)
fn decode_worker<R: Read>(
    head: Vec<u8>,
    compressed: R,
    tx: std::sync::mpsc::SyncSender<Chunk>,
    back: std::sync::mpsc::Receiver<Vec<u8>>,
) {
    let mut decoded = match decoder(head, compressed) {
        Ok(d) => d,
        Err(e) => {
            let _ = tx.send(Chunk::Failed(e));
            return;
        }
    };
    loop {
        let mut buf = back.try_recv().unwrap_or_else(|_| vec![0u8; BUF_SIZE]);
        let n = match decoded.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = tx.send(Chunk::Failed(e));
                return;
            }
        };
        let msg = if n == 0 {
            Chunk::End
        } else {
            Chunk::Data(buf, n)
        };
        // A send fails when the extracting side gave up: just stop.
        if tx.send(msg).is_err() || n == 0 {
            return;
        }
    }
}

/// The extracting side of [`unpack_layer_pipelined`].
struct ChannelStream {
    rx: std::sync::mpsc::Receiver<Chunk>,
    back: std::sync::mpsc::Sender<Vec<u8>>,
    cur: Option<Vec<u8>>,
    pos: usize,
    len: usize,
    ended: bool,
    failed: bool,
    hasher: Sha256,
    total: u64,
}

impl Read for ChannelStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ChannelStream {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.len && !self.ended {
            if self.failed {
                return Err(io::Error::other("the layer stream failed earlier"));
            }
            if let Some(buf) = self.cur.take() {
                let _ = self.back.send(buf);
            }
            match self.rx.recv() {
                Ok(Chunk::Data(buf, n)) => {
                    self.hasher.update(&buf[..n]);
                    self.total += n as u64;
                    self.cur = Some(buf);
                    self.pos = 0;
                    self.len = n;
                }
                Ok(Chunk::End) => self.ended = true,
                Ok(Chunk::Failed(e)) => {
                    self.failed = true;
                    return Err(e);
                }
                Err(_) => {
                    self.failed = true;
                    return Err(io::Error::other("the decompression thread stopped"));
                }
            }
        }
        match &self.cur {
            Some(buf) if self.pos < self.len => Ok(&buf[self.pos..self.len]),
            _ => Ok(&[]),
        }
    }
    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.len);
    }
}

impl Source for ChannelStream {
    fn finish(&mut self) -> io::Result<([u8; 32], u64)> {
        if !self.ended {
            return Err(io::Error::other("the layer stream was not read to its end"));
        }
        Ok((self.hasher.clone().finalize().into(), self.total))
    }
}

struct Input<'a, W: Write> {
    r: Box<dyn Source + 'a>,
    split: Recorder<W>,
}

enum StreamError {
    Read(io::Error),
    Split(io::Error),
    Write(io::Error),
}

impl StreamError {
    fn into_error(self, entry: &[u8]) -> UnpackError {
        match self {
            StreamError::Read(source) => UnpackError::Read {
                place: if entry.is_empty() {
                    "at the start of the layer".into()
                } else {
                    format!("in or after entry {:?}", show(entry))
                },
                source,
            },
            StreamError::Split(source) => UnpackError::TarSplit {
                entry: show(entry),
                source,
            },
            StreamError::Write(source) => UnpackError::Io {
                entry: show(entry),
                op: "write file content".into(),
                source,
            },
        }
    }
}

impl<W: Write> Input<'_, W> {
    /// Reads up to `buf.len()` bytes, recording them. Fewer only at EOF.
    fn read_meta(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        let mut got = 0;
        while got < buf.len() {
            let avail = self.r.fill_buf().map_err(StreamError::Read)?;
            if avail.is_empty() {
                break;
            }
            let k = avail.len().min(buf.len() - got);
            buf[got..got + k].copy_from_slice(&avail[..k]);
            self.split
                .segment(&avail[..k])
                .map_err(StreamError::Split)?;
            self.r.consume(k);
            got += k;
        }
        Ok(got)
    }

    /// Skips up to `n` bytes, recording them. Returns how many (fewer only at EOF).
    fn skip_meta(&mut self, n: u64) -> Result<u64, StreamError> {
        let mut got = 0;
        while got < n {
            let avail = self.r.fill_buf().map_err(StreamError::Read)?;
            if avail.is_empty() {
                break;
            }
            let k = avail
                .len()
                .min(usize::try_from(n - got).unwrap_or(usize::MAX));
            self.split
                .segment(&avail[..k])
                .map_err(StreamError::Split)?;
            self.r.consume(k);
            got += k as u64;
        }
        Ok(got)
    }

    /// Copies up to `n` bytes of file content to `file` (not recorded).
    /// Returns how many (fewer only at EOF).
    fn content(&mut self, file: &mut File, n: u64) -> Result<u64, StreamError> {
        let mut got = 0;
        while got < n {
            let avail = self.r.fill_buf().map_err(StreamError::Read)?;
            if avail.is_empty() {
                break;
            }
            let k = avail
                .len()
                .min(usize::try_from(n - got).unwrap_or(usize::MAX));
            file.write_all(&avail[..k]).map_err(StreamError::Write)?;
            self.r.consume(k);
            got += k as u64;
        }
        Ok(got)
    }

    /// Reads (and records) everything up to EOF.
    fn drain(&mut self) -> Result<(), StreamError> {
        while self.skip_meta(u64::MAX)? == u64::MAX {}
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The tar parser (Go archive/tar semantics).

/// One archive member, extension headers folded in.
struct Entry {
    typeflag: u8,
    name: Vec<u8>,
    link: Vec<u8>,
    mode: i64,
    uid: i64,
    gid: i64,
    /// Bytes of data that follow the header (0 for header-only types).
    data: u64,
    mtime: Timespec,
    atime: Option<Timespec>,
    major: i64,
    minor: i64,
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    /// The PAX records describe a GNU sparse file.
    pax_sparse: bool,
}

struct Parser {
    /// Name of the previous entry, for error messages.
    prev: Option<Vec<u8>>,
}

/// Fields of one 512-byte header, parsed the way Go does.
struct RawHeader {
    typeflag: u8,
    name: Vec<u8>,
    link: Vec<u8>,
    size: i64,
    mode: i64,
    uid: i64,
    gid: i64,
    mtime: i64,
    atime: Option<i64>,
    major: i64,
    minor: i64,
}

fn cstr(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

fn parse_octal(b: &[u8]) -> Option<i64> {
    let start = b.iter().position(|&c| c != b' ' && c != 0);
    let Some(start) = start else {
        return Some(0);
    };
    let end = b
        .iter()
        .rposition(|&c| c != b' ' && c != 0)
        .unwrap_or(start)
        + 1;
    let s = cstr(&b[start..end]);
    if s.is_empty() {
        return None;
    }
    let mut x: u64 = 0;
    for &c in s {
        if !(b'0'..=b'7').contains(&c) {
            return None;
        }
        x = x.checked_mul(8)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(x as i64)
}

fn parse_numeric(b: &[u8]) -> Option<i64> {
    if let Some(&first) = b.first()
        && first & 0x80 != 0
    {
        // Base-256 (GNU): big-endian two's complement, the top bit a marker.
        let inv: u8 = if first & 0x40 != 0 { 0xff } else { 0 };
        let mut x: u64 = 0;
        for (i, &c) in b.iter().enumerate() {
            let mut c = c ^ inv;
            if i == 0 {
                c &= 0x7f;
            }
            if x >> 56 > 0 {
                return None;
            }
            x = (x << 8) | u64::from(c);
        }
        if x >> 63 > 0 {
            return None;
        }
        return Some(if inv == 0xff { !(x as i64) } else { x as i64 });
    }
    parse_octal(b)
}

fn parse_header(b: &[u8; BLOCK]) -> Result<RawHeader, &'static str> {
    let chksum = parse_octal(&b[148..156]).ok_or("bad header checksum field")?;
    let (mut unsigned, mut signed) = (0i64, 0i64);
    for (i, &c) in b.iter().enumerate() {
        let c = if (148..156).contains(&i) { b' ' } else { c };
        unsigned += i64::from(c);
        signed += i64::from(c as i8);
    }
    if chksum != unsigned && chksum != signed {
        return Err("header checksum mismatch");
    }
    let magic = &b[257..263];
    let version = &b[263..265];
    enum Fmt {
        V7,
        Ustar,
        Star,
        Gnu,
    }
    let fmt = if magic == b"ustar\0" && &b[508..512] == b"tar\0" {
        Fmt::Star
    } else if magic == b"ustar\0" {
        Fmt::Ustar
    } else if magic == b"ustar " && version == b" \0" {
        Fmt::Gnu
    } else {
        Fmt::V7
    };
    let num = |r: std::ops::Range<usize>| parse_numeric(&b[r]).ok_or("bad number in header");
    let mut h = RawHeader {
        typeflag: b[156],
        name: cstr(&b[0..100]).to_vec(),
        link: cstr(&b[157..257]).to_vec(),
        size: num(124..136)?,
        mode: num(100..108)?,
        uid: num(108..116)?,
        gid: num(116..124)?,
        mtime: num(136..148)?,
        atime: None,
        major: 0,
        minor: 0,
    };
    let prefix: &[u8] = match fmt {
        Fmt::V7 => &[],
        Fmt::Ustar | Fmt::Star | Fmt::Gnu => {
            h.major = num(329..337)?;
            h.minor = num(337..345)?;
            match fmt {
                Fmt::Ustar => cstr(&b[345..500]),
                Fmt::Star => {
                    h.atime = Some(num(476..488)?);
                    cstr(&b[345..476])
                }
                _ => {
                    // GNU: atime/ctime live where USTAR has its prefix. Files
                    // from old buggy Go writers put a prefix there instead.
                    let atime = if b[345] != 0 {
                        parse_numeric(&b[345..357])
                    } else {
                        Some(0)
                    };
                    let ctime = if b[357] != 0 {
                        parse_numeric(&b[357..369])
                    } else {
                        Some(0)
                    };
                    match (atime, ctime) {
                        (Some(a), Some(_)) => {
                            if b[345] != 0 {
                                h.atime = Some(a);
                            }
                            &[]
                        }
                        _ => {
                            let p = cstr(&b[345..500]);
                            if p.is_ascii() { p } else { &[] }
                        }
                    }
                }
            }
        }
    };
    if !prefix.is_empty() {
        let mut name = prefix.to_vec();
        name.push(b'/');
        name.extend_from_slice(&h.name);
        h.name = name;
    }
    Ok(h)
}

/// One `"%d %s=%s\n"` PAX record: (key, value, rest).
fn parse_pax_record(s: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let sp = s.iter().position(|&c| c == b' ')?;
    let digits = s[..sp].strip_prefix(b"+").unwrap_or(&s[..sp]);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) || digits.len() > 18 {
        return None;
    }
    let n: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
    if n < 5 || n > s.len() || n <= sp + 1 {
        return None;
    }
    let rest = &s[sp + 1..];
    let n = n - (sp + 1);
    let (rec, nl, rem) = (&rest[..n - 1], rest[n - 1], &rest[n..]);
    if nl != b'\n' {
        return None;
    }
    let eq = rec.iter().position(|&c| c == b'=')?;
    let (k, v) = (&rec[..eq], &rec[eq + 1..]);
    if k.is_empty() {
        return None;
    }
    let ok = match k {
        b"path" | b"linkpath" | b"uname" | b"gname" => !v.contains(&0),
        _ => !k.contains(&0),
    };
    ok.then_some((k, v, rem))
}

fn parse_pax(data: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut s = data;
    while !s.is_empty() {
        let (k, v, rest) = parse_pax_record(s)?;
        out.push((k.to_vec(), v.to_vec()));
        s = rest;
    }
    Some(out)
}

fn parse_decimal(v: &[u8]) -> Option<i64> {
    std::str::from_utf8(v).ok()?.parse::<i64>().ok()
}

/// PAX time: `[-]secs[.fraction]`.
fn parse_pax_time(v: &[u8]) -> Option<Timespec> {
    let (ss, sn) = match v.iter().position(|&c| c == b'.') {
        Some(i) => (&v[..i], &v[i + 1..]),
        None => (v, &b""[..]),
    };
    let secs = parse_decimal(ss)?;
    if sn.is_empty() {
        return Some(Timespec {
            tv_sec: secs,
            tv_nsec: 0,
        });
    }
    if !sn.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut nsecs: i64 = 0;
    for i in 0..9 {
        nsecs = nsecs * 10 + sn.get(i).map_or(0, |d| i64::from(d - b'0'));
    }
    let total = if ss.first() == Some(&b'-') {
        i128::from(secs) * 1_000_000_000 - i128::from(nsecs)
    } else {
        i128::from(secs) * 1_000_000_000 + i128::from(nsecs)
    };
    Some(Timespec {
        tv_sec: total.div_euclid(1_000_000_000) as i64,
        tv_nsec: total.rem_euclid(1_000_000_000) as _,
    })
}

impl Parser {
    fn place(&self) -> String {
        match &self.prev {
            None => "the first header".into(),
            Some(p) => format!("the header after entry {:?}", show(p)),
        }
    }

    fn corrupt(&self, problem: impl Into<String>) -> UnpackError {
        UnpackError::Corrupt {
            place: self.place(),
            problem: problem.into(),
        }
    }

    fn stream_err(&self, e: StreamError) -> UnpackError {
        e.into_error(self.prev.as_deref().unwrap_or_default())
    }

    /// Reads one header block. `None` at a clean end of file.
    fn block<W: Write>(
        &self,
        input: &mut Input<'_, W>,
    ) -> Result<Option<[u8; BLOCK]>, UnpackError> {
        let mut blk = [0u8; BLOCK];
        let got = input.read_meta(&mut blk).map_err(|e| self.stream_err(e))?;
        match got {
            0 => Ok(None),
            BLOCK => Ok(Some(blk)),
            n => Err(UnpackError::Truncated {
                place: self.place(),
                problem: format!("only {n} of 512 header bytes present"),
            }),
        }
    }

    /// Reads the data of an extension header (PAX, GNU long name) and its padding.
    fn special<W: Write>(
        &self,
        input: &mut Input<'_, W>,
        size: i64,
    ) -> Result<Vec<u8>, UnpackError> {
        if !(0..=MAX_SPECIAL).contains(&size) {
            return Err(self.corrupt(format!(
                "extension header of {size} bytes (at most 1 MiB is accepted)"
            )));
        }
        let len = size as usize + padding(size as u64) as usize;
        let mut data = vec![0u8; len];
        let got = input.read_meta(&mut data).map_err(|e| self.stream_err(e))?;
        if got < len {
            return Err(UnpackError::Truncated {
                place: self.place(),
                problem: format!("extension header data: {got} of {len} bytes present"),
            });
        }
        data.truncate(size as usize);
        Ok(data)
    }

    /// The next entry, or `None` at the end of the archive.
    fn next<W: Write>(&mut self, input: &mut Input<'_, W>) -> Result<Option<Entry>, UnpackError> {
        let mut pax: Option<Vec<(Vec<u8>, Vec<u8>)>> = None;
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        loop {
            let Some(blk) = self.block(input)? else {
                return Ok(None);
            };
            if blk.iter().all(|&c| c == 0) {
                // End of archive: two zero blocks, or one and then EOF.
                return match self.block(input)? {
                    None => Ok(None),
                    Some(b) if b.iter().all(|&c| c == 0) => Ok(None),
                    Some(_) => Err(self.corrupt("a zero block followed by a header")),
                };
            }
            let h = parse_header(&blk).map_err(|p| self.corrupt(p))?;
            match h.typeflag {
                b'x' | b'g' => {
                    let data = self.special(input, h.size)?;
                    let recs =
                        parse_pax(&data).ok_or_else(|| self.corrupt("malformed PAX record"))?;
                    if h.typeflag == b'g' {
                        // Global records are ignored (as docker does); the
                        // member itself is reported so it can be skipped.
                        return Ok(Some(Entry {
                            typeflag: b'g',
                            name: h.name,
                            link: Vec::new(),
                            mode: 0,
                            uid: 0,
                            gid: 0,
                            data: 0,
                            mtime: Timespec {
                                tv_sec: 0,
                                tv_nsec: 0,
                            },
                            atime: None,
                            major: 0,
                            minor: 0,
                            xattrs: Vec::new(),
                            pax_sparse: false,
                        }));
                    }
                    pax = Some(recs);
                }
                b'L' | b'K' => {
                    let data = self.special(input, h.size)?;
                    let v = cstr(&data).to_vec();
                    if h.typeflag == b'L' {
                        long_name = Some(v);
                    } else {
                        long_link = Some(v);
                    }
                }
                _ => return self.finish_entry(h, pax, long_name, long_link).map(Some),
            }
        }
    }

    fn finish_entry(
        &self,
        h: RawHeader,
        pax: Option<Vec<(Vec<u8>, Vec<u8>)>>,
        long_name: Option<Vec<u8>>,
        long_link: Option<Vec<u8>>,
    ) -> Result<Entry, UnpackError> {
        let mut e = Entry {
            typeflag: h.typeflag,
            name: h.name,
            link: h.link,
            mode: h.mode,
            uid: h.uid,
            gid: h.gid,
            data: 0,
            mtime: Timespec {
                tv_sec: h.mtime,
                tv_nsec: 0,
            },
            atime: h.atime.map(|a| Timespec {
                tv_sec: a,
                tv_nsec: 0,
            }),
            major: h.major,
            minor: h.minor,
            xattrs: Vec::new(),
            pax_sparse: false,
        };
        let mut size = h.size;
        for (k, v) in pax.into_iter().flatten() {
            if v.is_empty() {
                continue; // keeps the header's value, as Go does
            }
            let bad = || self.corrupt(format!("bad PAX value for {:?}", show(&k)));
            match k.as_slice() {
                b"path" => e.name = v,
                b"linkpath" => e.link = v,
                b"uid" => e.uid = parse_decimal(&v).ok_or_else(bad)?,
                b"gid" => e.gid = parse_decimal(&v).ok_or_else(bad)?,
                b"size" => size = parse_decimal(&v).ok_or_else(bad)?,
                b"mtime" => e.mtime = parse_pax_time(&v).ok_or_else(bad)?,
                b"atime" => e.atime = Some(parse_pax_time(&v).ok_or_else(bad)?),
                b"ctime" => {
                    parse_pax_time(&v).ok_or_else(bad)?;
                }
                _ => {
                    if let Some(name) = k.strip_prefix(b"SCHILY.xattr.") {
                        e.xattrs.retain(|(n, _)| n != name);
                        e.xattrs.push((name.to_vec(), v));
                    } else if k.starts_with(b"GNU.sparse.") {
                        e.pax_sparse = true;
                    }
                }
            }
        }
        if let Some(n) = long_name
            && !n.is_empty()
        {
            e.name = n;
        }
        if let Some(l) = long_link
            && !l.is_empty()
        {
            e.link = l;
        }
        if e.typeflag == 0 {
            e.typeflag = if e.name.ends_with(b"/") { b'5' } else { b'0' };
        }
        if size < 0 {
            return Err(self.corrupt(format!("negative size for entry {:?}", show(&e.name))));
        }
        e.data = match e.typeflag {
            b'1' | b'2' | b'3' | b'4' | b'5' | b'6' => 0,
            _ => size as u64,
        };
        Ok(e)
    }
}

// ---------------------------------------------------------------------------
// Names.

/// Checks an archive name and returns it normalised: no leading `./`, no
/// empty or `.` components, no trailing `/`. Empty result: the layer root.
fn normalize(name: &[u8]) -> Result<Vec<u8>, &'static str> {
    if name.is_empty() {
        return Err("the name is empty");
    }
    if name.contains(&0) {
        return Err("the name contains a NUL byte");
    }
    if name[0] == b'/' {
        return Err("absolute paths are not allowed in a layer");
    }
    if name.len() > MAX_NAME {
        return Err("the name is longer than 4096 bytes");
    }
    let mut out = Vec::with_capacity(name.len());
    for comp in name.split(|&c| c == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => return Err("the name contains a \"..\" component"),
            c => {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(c);
            }
        }
    }
    Ok(out)
}

/// Splits a normalised, non-empty name into (parent, base).
fn split_name(norm: &[u8]) -> (&[u8], &[u8]) {
    match norm.iter().rposition(|&c| c == b'/') {
        Some(i) => (&norm[..i], &norm[i + 1..]),
        None => (&[], norm),
    }
}

fn components(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|&c| c == b'/').filter(|c| !c.is_empty())
}

// ---------------------------------------------------------------------------
// Directory resolution.

/// Open directory fds for the ancestors of the current entry, so consecutive
/// entries in one directory cost no lookups. Only directories reached through
/// `openat2(RESOLVE_NO_SYMLINKS …)` are ever held.
struct Tree {
    root: OwnedFd,
    /// (component, fd) from the root down.
    stack: Vec<(Vec<u8>, OwnedFd)>,
    /// The fd of a directory deeper than `STACK_DEPTH`, if the last lookup went there.
    deep: Option<OwnedFd>,
}

impl Tree {
    fn top(&self) -> BorrowedFd<'_> {
        if let Some(d) = &self.deep {
            d.as_fd()
        } else if let Some((_, fd)) = self.stack.last() {
            fd.as_fd()
        } else {
            self.root.as_fd()
        }
    }

    /// Opens (creating missing ones, mode 0755 owned by root) the directory
    /// `parent` and returns its fd. `entry` is for error messages.
    fn dir(
        &mut self,
        parent: &[u8],
        entry: &[u8],
        euid_root: bool,
    ) -> Result<BorrowedFd<'_>, UnpackError> {
        let mut common = 0;
        for c in components(parent) {
            match self.stack.get(common) {
                Some((s, _)) if s.as_slice() == c => common += 1,
                _ => break,
            }
        }
        self.stack.truncate(common);
        self.deep = None;
        for (i, c) in components(parent).enumerate().skip(common) {
            let fd = open_or_make_dir(self.top(), c, euid_root).map_err(|err| {
                let here = components(parent)
                    .take(i + 1)
                    .collect::<Vec<_>>()
                    .join(&b'/');
                match err {
                    Errno::LOOP => UnpackError::ThroughSymlink {
                        entry: show(entry),
                        symlink: show(&here),
                    },
                    Errno::NOTDIR => UnpackError::NotADirectory {
                        entry: show(entry),
                        component: show(&here),
                    },
                    err => UnpackError::Io {
                        entry: show(entry),
                        op: format!("open or create directory {:?}", show(&here)),
                        source: errno_io(err),
                    },
                }
            })?;
            if self.deep.is_none() && self.stack.len() < STACK_DEPTH {
                self.stack.push((c.to_vec(), fd));
            } else {
                self.deep = Some(fd);
            }
        }
        Ok(self.top())
    }

    /// Records `fd` as the directory `name` inside the directory the last
    /// [`Tree::dir`] call returned.
    fn push_child(&mut self, name: &[u8], fd: OwnedFd) {
        if self.deep.is_none() && self.stack.len() < STACK_DEPTH {
            self.stack.push((name.to_vec(), fd));
        }
    }
}

/// Opens the directory `name` in `parent`. A symlink, anywhere, is ELOOP
/// (`RESOLVE_NO_SYMLINKS` covers the final component too; `O_NOFOLLOW` is left
/// out because with `O_DIRECTORY` it would turn that into ENOTDIR).
fn open_dir_at(parent: BorrowedFd<'_>, name: &[u8]) -> rustix::io::Result<OwnedFd> {
    rustix::fs::openat2(
        parent,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
        RESOLVE,
    )
}

fn open_or_make_dir(
    parent: BorrowedFd<'_>,
    name: &[u8],
    euid_root: bool,
) -> rustix::io::Result<OwnedFd> {
    match open_dir_at(parent, name) {
        Err(Errno::NOENT) => {}
        r => return r,
    }
    match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o755)) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(e),
    }
    let fd = open_dir_at(parent, name)?;
    rustix::fs::fchmod(&fd, Mode::from_raw_mode(0o755))?;
    if euid_root {
        rustix::fs::fchown(&fd, Some(Uid::ROOT), Some(Gid::ROOT))?;
    }
    Ok(fd)
}

/// Removes `name` in `parent` (a file, or a whole tree without recursion or
/// following links). Sets `lost` if a regular file with content goes.
fn remove_existing(parent: BorrowedFd<'_>, name: &[u8], lost: &mut bool) -> rustix::io::Result<()> {
    let st = rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW)?;
    match FileType::from_raw_mode(st.st_mode) {
        FileType::Directory => remove_tree(parent, name, lost),
        t => {
            if t == FileType::RegularFile && st.st_size > 0 {
                *lost = true;
            }
            rustix::fs::unlinkat(parent, name, AtFlags::empty())
        }
    }
}

fn remove_tree(parent: BorrowedFd<'_>, name: &[u8], lost: &mut bool) -> rustix::io::Result<()> {
    let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mut cur = rustix::fs::openat(parent, name, dir_flags, Mode::empty())?;
    // Names from the top of the tree down to `cur`; we climb back with "..",
    // which never follows links, so depth costs no fds and no recursion.
    let mut path: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut descend = None;
        let mut removed = false;
        let mut dir = rustix::fs::Dir::read_from(&cur)?;
        while let Some(ent) = dir.read() {
            let ent = ent?;
            let n = ent.file_name().to_bytes();
            if n == b"." || n == b".." {
                continue;
            }
            let ft = match ent.file_type() {
                FileType::Unknown => FileType::from_raw_mode(
                    rustix::fs::statat(&cur, n, AtFlags::SYMLINK_NOFOLLOW)?.st_mode,
                ),
                t => t,
            };
            if ft == FileType::Directory {
                descend = Some(n.to_vec());
                break;
            }
            if ft == FileType::RegularFile
                && rustix::fs::statat(&cur, n, AtFlags::SYMLINK_NOFOLLOW)?.st_size > 0
            {
                *lost = true;
            }
            rustix::fs::unlinkat(&cur, n, AtFlags::empty())?;
            removed = true;
        }
        drop(dir);
        if let Some(child) = descend {
            cur = rustix::fs::openat(&cur, child.as_slice(), dir_flags, Mode::empty())?;
            path.push(child);
            continue;
        }
        if removed {
            continue; // read again: removing while reading may skip entries
        }
        let Some(child) = path.pop() else {
            break;
        };
        let up = rustix::fs::openat(&cur, "..", dir_flags, Mode::empty())?;
        rustix::fs::unlinkat(&up, child.as_slice(), AtFlags::REMOVEDIR)?;
        cur = up;
    }
    drop(cur);
    rustix::fs::unlinkat(parent, name, AtFlags::REMOVEDIR)
}

/// Runs `create`; if the name exists, removes it (a whole tree if it is a
/// directory) and runs `create` once more.
fn create_replacing<T>(
    parent: BorrowedFd<'_>,
    name: &[u8],
    lost: &mut bool,
    mut create: impl FnMut() -> rustix::io::Result<T>,
) -> rustix::io::Result<T> {
    match create() {
        Err(Errno::EXIST) => {
            remove_existing(parent, name, lost)?;
            create()
        }
        r => r,
    }
}

// ---------------------------------------------------------------------------
// Extraction.

struct DirMeta {
    path: Vec<u8>,
    mode: u32,
    times: (Timespec, Timespec),
}

struct Extractor {
    tree: Tree,
    rootless: bool,
    only_root_mapped: bool,
    euid_root: bool,
    umask: Option<u32>,
    dirs: Vec<DirMeta>,
    summary: UnpackSummary,
}

enum XattrPolicy {
    Never,
    BestEffort,
    Required,
}

fn xattr_policy(name: &[u8]) -> XattrPolicy {
    if name.starts_with(b"trusted.overlay.") || name.starts_with(b"user.overlay.") {
        XattrPolicy::Never
    } else if name == b"security.capability" {
        XattrPolicy::Required
    } else if name.starts_with(b"user.") || name.starts_with(b"security.") {
        XattrPolicy::BestEffort
    } else {
        XattrPolicy::Never
    }
}

/// Where to set xattrs: an open fd, or a name in a directory (not followed).
enum Target<'a> {
    Fd(BorrowedFd<'a>),
    At(BorrowedFd<'a>, &'a [u8]),
}

fn times_of(e: &Entry) -> (Timespec, Timespec) {
    let m = e.mtime;
    // Docker: the access time is never before the modification time.
    let a = match e.atime {
        Some(a) if (a.tv_sec, a.tv_nsec) > (m.tv_sec, m.tv_nsec) => a,
        _ => m,
    };
    (a, m)
}

fn stamps(t: (Timespec, Timespec)) -> Timestamps {
    Timestamps {
        last_access: t.0,
        last_modification: t.1,
    }
}

impl Extractor {
    /// Extracts one entry; returns how many of its data bytes it consumed.
    fn extract<W: Write>(
        &mut self,
        e: &Entry,
        input: &mut Input<'_, W>,
    ) -> Result<u64, UnpackError> {
        if e.typeflag == b'g' {
            return Ok(0);
        }
        self.summary.entries += 1;
        let io_err = |op: &str, err: Errno| UnpackError::Io {
            entry: show(&e.name),
            op: op.to_string(),
            source: errno_io(err),
        };
        match e.typeflag {
            b'0' | b'1' | b'2' | b'3' | b'4' | b'5' | b'6' => {}
            b'S' => return Err(unsupported(e, "a GNU sparse file")),
            b'7' => return Err(unsupported(e, "a contiguous file (type '7')")),
            t => {
                return Err(unsupported(
                    e,
                    &format!(
                        "entry type {:?}",
                        char::from(t).escape_default().to_string()
                    ),
                ));
            }
        }
        if e.pax_sparse {
            return Err(unsupported(e, "a GNU sparse file (PAX format)"));
        }
        let norm = normalize(&e.name).map_err(|p| UnpackError::InvalidName {
            entry: show(&e.name),
            problem: p.into(),
        })?;
        let mode = (e.mode as u64 & 0o7777) as u32;
        let (uid, gid) = self.ids(e)?;

        if norm.is_empty() {
            if e.typeflag != b'5' {
                return Err(UnpackError::InvalidName {
                    entry: show(&e.name),
                    problem: "only a directory entry may name the layer root".into(),
                });
            }
            let root = self.tree.root.as_fd();
            chown_fd(root, uid, gid).map_err(|err| chown_error(e, uid, gid, err))?;
            Self::xattrs(&mut self.summary, e, Target::Fd(root))?;
            self.dirs.push(DirMeta {
                path: norm,
                mode,
                times: times_of(e),
            });
            return Ok(0);
        }

        let (parent, base) = split_name(&norm);

        // AUFS metadata (`.wh..wh.plnk/…`, `.wh..wh.aufs`) means nothing to
        // overlay: skipped, with whatever is beneath it.
        if norm.starts_with(b".wh..wh.") && norm != b".wh..wh..opq" {
            return Ok(0);
        }

        // Overlay conventions.
        if let Some(rest) = base.strip_prefix(b".wh.") {
            if base == b".wh..wh..opq" {
                let dfd = self.tree.dir(parent, &e.name, self.euid_root)?;
                rustix::fs::fsetxattr(dfd, "user.overlay.opaque", b"y", XattrFlags::empty())
                    .map_err(|err| {
                        io_err("mark the directory opaque (xattr user.overlay.opaque)", err)
                    })?;
                return Ok(0);
            }
            if rest.is_empty() || rest == b"." || rest == b".." {
                return Err(UnpackError::InvalidName {
                    entry: show(&e.name),
                    problem: "a whiteout must name a file".into(),
                });
            }
            let pfd = self.tree.dir(parent, &e.name, self.euid_root)?;
            let mut l = false;
            create_replacing(pfd, rest, &mut l, || {
                rustix::fs::mknodat(pfd, rest, FileType::CharacterDevice, Mode::empty(), 0)
            })
            .map_err(|err| io_err("create the whiteout (character device 0/0)", err))?;
            self.summary.tar_split_exact &= !l;
            rustix::fs::chownat(
                pfd,
                rest,
                Some(Uid::from_raw(uid)),
                Some(Gid::from_raw(gid)),
                AtFlags::SYMLINK_NOFOLLOW,
            )
            .map_err(|err| chown_error(e, uid, gid, err))?;
            return Ok(0);
        }

        match e.typeflag {
            b'0' => self.regular(e, &norm, parent, base, mode, uid, gid, input),
            b'5' => {
                self.directory(e, &norm, parent, base, mode, uid, gid)?;
                Ok(0)
            }
            b'2' => {
                if e.link.is_empty() {
                    return Err(UnpackError::InvalidName {
                        entry: show(&e.name),
                        problem: "the symlink has an empty target".into(),
                    });
                }
                if e.link.contains(&0) {
                    return Err(UnpackError::InvalidName {
                        entry: show(&e.name),
                        problem: "the symlink target contains a NUL byte".into(),
                    });
                }
                let pfd = self.tree.dir(parent, &e.name, self.euid_root)?;
                let mut l = false;
                create_replacing(pfd, base, &mut l, || {
                    rustix::fs::symlinkat(e.link.as_slice(), pfd, base)
                })
                .map_err(|err| io_err("create symlink", err))?;
                self.summary.tar_split_exact &= !l;
                rustix::fs::chownat(
                    pfd,
                    base,
                    Some(Uid::from_raw(uid)),
                    Some(Gid::from_raw(gid)),
                    AtFlags::SYMLINK_NOFOLLOW,
                )
                .map_err(|err| chown_error(e, uid, gid, err))?;
                Self::xattrs(&mut self.summary, e, Target::At(pfd, base))?;
                rustix::fs::utimensat(pfd, base, &stamps(times_of(e)), AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|err| io_err("set times", err))?;
                Ok(0)
            }
            b'1' => {
                self.hardlink(e, parent, base, mode, uid, gid)?;
                Ok(0)
            }
            _ => {
                // '3' char, '4' block, '6' fifo
                let (ft, dev) = match e.typeflag {
                    b'6' => (FileType::Fifo, 0),
                    t => {
                        let (Ok(major), Ok(minor)) =
                            (u32::try_from(e.major), u32::try_from(e.minor))
                        else {
                            return Err(UnpackError::Corrupt {
                                place: format!("entry {:?}", show(&e.name)),
                                problem: "device number out of range".into(),
                            });
                        };
                        let whiteout = t == b'3' && major == 0 && minor == 0;
                        if self.rootless && !whiteout {
                            self.summary.skipped_devices += 1;
                            return Ok(0);
                        }
                        let ft = if t == b'3' {
                            FileType::CharacterDevice
                        } else {
                            FileType::BlockDevice
                        };
                        (ft, rustix::fs::makedev(major, minor))
                    }
                };
                let pfd = self.tree.dir(parent, &e.name, self.euid_root)?;
                let mut l = false;
                create_replacing(pfd, base, &mut l, || {
                    rustix::fs::mknodat(pfd, base, ft, Mode::from_raw_mode(0o600), dev)
                })
                .map_err(|err| io_err("create the device node or fifo", err))?;
                self.summary.tar_split_exact &= !l;
                rustix::fs::chownat(
                    pfd,
                    base,
                    Some(Uid::from_raw(uid)),
                    Some(Gid::from_raw(gid)),
                    AtFlags::SYMLINK_NOFOLLOW,
                )
                .map_err(|err| chown_error(e, uid, gid, err))?;
                // The node was just created by us and is not a symlink, so
                // following the final component cannot lead anywhere else.
                rustix::fs::chmodat(pfd, base, Mode::from_raw_mode(mode), AtFlags::empty())
                    .map_err(|err| io_err("set mode", err))?;
                Self::xattrs(&mut self.summary, e, Target::At(pfd, base))?;
                rustix::fs::utimensat(pfd, base, &stamps(times_of(e)), AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|err| io_err("set times", err))?;
                Ok(0)
            }
        }
    }

    fn ids(&self, e: &Entry) -> Result<(u32, u32), UnpackError> {
        let ok = |v: i64| u32::try_from(v).ok().filter(|&v| v != u32::MAX);
        match (ok(e.uid), ok(e.gid)) {
            (Some(_), Some(_)) if self.only_root_mapped => Ok((0, 0)),
            (Some(u), Some(g)) => Ok((u, g)),
            _ => Err(UnpackError::Corrupt {
                place: format!("entry {:?}", show(&e.name)),
                problem: format!("owner uid {} gid {} is not a valid id", e.uid, e.gid),
            }),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn regular<W: Write>(
        &mut self,
        e: &Entry,
        norm: &[u8],
        parent: &[u8],
        base: &[u8],
        mode: u32,
        uid: u32,
        gid: u32,
        input: &mut Input<'_, W>,
    ) -> Result<u64, UnpackError> {
        let io_err = |op: &str, err: Errno| UnpackError::Io {
            entry: show(&e.name),
            op: op.to_string(),
            source: errno_io(err),
        };
        // With a zero umask the mode can be given at creation; chmod is then
        // only needed for the bits chown clears (setuid/setgid).
        let (create_mode, need_chmod) = match self.umask {
            Some(0) => (mode & 0o777, mode & 0o7000 != 0),
            _ => (0o600, true),
        };
        let euid_root = self.euid_root;
        let pfd = self.tree.dir(parent, &e.name, euid_root)?;
        let mut l = false;
        let fd = create_replacing(pfd, base, &mut l, || {
            rustix::fs::openat(
                pfd,
                base,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(create_mode),
            )
        })
        .map_err(|err| io_err("create file", err))?;
        self.summary.tar_split_exact &= !l;
        let mut file = File::from(fd);
        if e.data > 0 {
            input
                .split
                .file(norm, e.data)
                .map_err(|source| UnpackError::TarSplit {
                    entry: show(&e.name),
                    source,
                })?;
            let got = input
                .content(&mut file, e.data)
                .map_err(|err| err.into_error(&e.name))?;
            if got < e.data {
                return Err(UnpackError::Truncated {
                    place: format!("entry {:?}", show(&e.name)),
                    problem: format!("{} bytes of content declared, only {got} present", e.data),
                });
            }
        }
        self.summary.size += e.data;
        chown_fd(file.as_fd(), uid, gid).map_err(|err| chown_error(e, uid, gid, err))?;
        if need_chmod {
            rustix::fs::fchmod(&file, Mode::from_raw_mode(mode))
                .map_err(|err| io_err("set mode", err))?;
        }
        Self::xattrs(&mut self.summary, e, Target::Fd(file.as_fd()))?;
        rustix::fs::futimens(&file, &stamps(times_of(e)))
            .map_err(|err| io_err("set times", err))?;
        Ok(e.data)
    }

    #[allow(clippy::too_many_arguments)]
    fn directory(
        &mut self,
        e: &Entry,
        norm: &[u8],
        parent: &[u8],
        base: &[u8],
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<(), UnpackError> {
        let io_err = |op: &str, err: Errno| UnpackError::Io {
            entry: show(&e.name),
            op: op.to_string(),
            source: errno_io(err),
        };
        let euid_root = self.euid_root;
        let pfd = self.tree.dir(parent, &e.name, euid_root)?;
        let mut l = false;
        match rustix::fs::mkdirat(pfd, base, Mode::from_raw_mode(0o700)) {
            Ok(()) => {}
            Err(Errno::EXIST) => {
                let st = rustix::fs::statat(pfd, base, AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|err| io_err("inspect the existing entry", err))?;
                if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
                    // Not a directory: replace it. (A directory is merged.)
                    remove_existing(pfd, base, &mut l)
                        .map_err(|err| io_err("replace the existing entry", err))?;
                    rustix::fs::mkdirat(pfd, base, Mode::from_raw_mode(0o700))
                        .map_err(|err| io_err("create directory", err))?;
                }
            }
            Err(err) => return Err(io_err("create directory", err)),
        }
        let dfd = open_dir_at(pfd, base).map_err(|err| io_err("open the new directory", err))?;
        self.summary.tar_split_exact &= !l;
        rustix::fs::fchown(&dfd, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)))
            .map_err(|err| chown_error(e, uid, gid, err))?;
        Self::xattrs(&mut self.summary, e, Target::Fd(dfd.as_fd()))?;
        self.dirs.push(DirMeta {
            path: norm.to_vec(),
            mode,
            times: times_of(e),
        });
        self.tree.push_child(base, dfd);
        Ok(())
    }

    fn hardlink(
        &mut self,
        e: &Entry,
        parent: &[u8],
        base: &[u8],
        mode: u32,
        uid: u32,
        gid: u32,
    ) -> Result<(), UnpackError> {
        let link_err = |problem: String| UnpackError::HardLink {
            entry: show(&e.name),
            target: show(&e.link),
            problem,
        };
        let io_err = |op: &str, err: Errno| UnpackError::Io {
            entry: show(&e.name),
            op: op.to_string(),
            source: errno_io(err),
        };
        let target =
            normalize(&e.link).map_err(|p| link_err(format!("invalid target name: {p}")))?;
        if target.is_empty() {
            return Err(link_err("the target is the layer root".into()));
        }
        let (tparent, tbase) = split_name(&target);
        let tdir = rustix::fs::openat2(
            self.tree.root.as_fd(),
            if tparent.is_empty() {
                &b"."[..]
            } else {
                tparent
            },
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
            RESOLVE,
        )
        .map_err(|err| match err {
            Errno::LOOP => link_err("the target's path goes through a symlink".into()),
            Errno::NOENT | Errno::NOTDIR => {
                link_err("the target does not exist in the layer".into())
            }
            err => link_err(format!(
                "cannot open the target's directory: {}",
                errno_io(err)
            )),
        })?;
        let pfd = self.tree.dir(parent, &e.name, self.euid_root)?;
        let mut l = false;
        create_replacing(pfd, base, &mut l, || {
            rustix::fs::linkat(&tdir, tbase, pfd, base, AtFlags::empty())
        })
        .map_err(|err| match err {
            Errno::NOENT => link_err("the target does not exist in the layer".into()),
            Errno::PERM => match rustix::fs::statat(&tdir, tbase, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {
                    link_err("the target is a directory".into())
                }
                _ => link_err(format!("cannot link: {}", errno_io(err))),
            },
            err => link_err(format!("cannot link: {}", errno_io(err))),
        })?;
        self.summary.tar_split_exact &= !l;
        // Like docker, the link's header metadata is applied to the inode.
        rustix::fs::chownat(
            pfd,
            base,
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|err| chown_error(e, uid, gid, err))?;
        let st = rustix::fs::statat(pfd, base, AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|err| io_err("inspect the new link", err))?;
        if FileType::from_raw_mode(st.st_mode) != FileType::Symlink {
            rustix::fs::chmodat(pfd, base, Mode::from_raw_mode(mode), AtFlags::empty())
                .map_err(|err| io_err("set mode", err))?;
        }
        Self::xattrs(&mut self.summary, e, Target::At(pfd, base))?;
        rustix::fs::utimensat(pfd, base, &stamps(times_of(e)), AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|err| io_err("set times", err))?;
        Ok(())
    }

    fn xattrs(
        summary: &mut UnpackSummary,
        e: &Entry,
        target: Target<'_>,
    ) -> Result<(), UnpackError> {
        if e.xattrs.is_empty() {
            return Ok(());
        }
        // For targets without an fd of their own, an O_PATH fd reached
        // through /proc/self/fd sets the xattr on exactly that inode.
        let mut path_fd: Option<OwnedFd> = None;
        for (name, value) in &e.xattrs {
            let policy = xattr_policy(name);
            if matches!(policy, XattrPolicy::Never) {
                summary.skipped_xattrs += 1;
                continue;
            }
            let res = match target {
                Target::Fd(fd) => {
                    rustix::fs::fsetxattr(fd, name.as_slice(), value, XattrFlags::empty())
                }
                Target::At(dir, base) => {
                    let fd = match &path_fd {
                        Some(fd) => fd,
                        None => path_fd.insert(
                            rustix::fs::openat(
                                dir,
                                base,
                                OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                                Mode::empty(),
                            )
                            .map_err(|err| UnpackError::Io {
                                entry: show(&e.name),
                                op: "open it to set xattrs".into(),
                                source: errno_io(err),
                            })?,
                        ),
                    };
                    let proc_path = format!("/proc/self/fd/{}", fd.as_raw_fd());
                    rustix::fs::setxattr(
                        proc_path.as_str(),
                        name.as_slice(),
                        value,
                        XattrFlags::empty(),
                    )
                }
            };
            match (res, policy) {
                (Ok(()), _) => {}
                (Err(Errno::PERM | Errno::NOTSUP), XattrPolicy::BestEffort) => {
                    summary.skipped_xattrs += 1;
                }
                (Err(err), _) => {
                    return Err(UnpackError::Io {
                        entry: show(&e.name),
                        op: format!("set xattr {}", show(name)),
                        source: errno_io(err),
                    });
                }
            }
        }
        Ok(())
    }

    /// Applies directory modes and times once every entry is written, deepest
    /// first. A directory that a later entry replaced is left alone.
    fn finish_dirs(&mut self) -> Result<(), UnpackError> {
        let mut dirs = std::mem::take(&mut self.dirs);
        dirs.sort_by_key(|d| {
            Reverse(if d.path.is_empty() {
                0
            } else {
                1 + d.path.iter().filter(|&&c| c == b'/').count()
            })
        });
        self.tree.stack.clear();
        self.tree.deep = None;
        for d in &dirs {
            let io_err = |op: &str, err: Errno| UnpackError::Io {
                entry: show(&d.path),
                op: op.to_string(),
                source: errno_io(err),
            };
            let owned;
            let fd = if d.path.is_empty() {
                self.tree.root.as_fd()
            } else {
                match rustix::fs::openat2(
                    self.tree.root.as_fd(),
                    d.path.as_slice(),
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    Mode::empty(),
                    RESOLVE,
                ) {
                    Ok(fd) => {
                        owned = fd;
                        owned.as_fd()
                    }
                    Err(Errno::NOENT | Errno::NOTDIR | Errno::LOOP) => continue,
                    Err(err) => {
                        return Err(io_err("open directory to set its mode and times", err));
                    }
                }
            };
            rustix::fs::fchmod(fd, Mode::from_raw_mode(d.mode))
                .map_err(|err| io_err("set mode", err))?;
            rustix::fs::futimens(fd, &stamps(d.times)).map_err(|err| io_err("set times", err))?;
        }
        Ok(())
    }
}

fn unsupported(e: &Entry, what: &str) -> UnpackError {
    UnpackError::Unsupported {
        entry: show(&e.name),
        problem: what.to_string(),
    }
}

fn chown_error(e: &Entry, uid: u32, gid: u32, err: Errno) -> UnpackError {
    if err == Errno::INVAL {
        UnpackError::Unmapped {
            entry: show(&e.name),
            uid,
            gid,
        }
    } else {
        UnpackError::Io {
            entry: show(&e.name),
            op: format!("set owner to uid {uid} gid {gid}"),
            source: errno_io(err),
        }
    }
}

fn chown_fd(fd: BorrowedFd<'_>, uid: u32, gid: u32) -> rustix::io::Result<()> {
    rustix::fs::fchown(fd, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::tarsplit;
    use std::collections::BTreeSet;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    use tar::{Builder, EntryType, Header};

    /// Real root (not mapped root in a user namespace with a partial map).
    pub(super) fn is_root() -> bool {
        rustix::process::geteuid().is_root()
            && std::fs::read_to_string("/proc/self/uid_map")
                .is_ok_and(|m| m.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"])
    }

    /// Owner the tests give entries by default: root when we are root, else us
    /// (so most tests also run unprivileged).
    fn me() -> (u64, u64) {
        (
            u64::from(rustix::process::geteuid().as_raw()),
            u64::from(rustix::process::getegid().as_raw()),
        )
    }

    fn sha(b: &[u8]) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(b)))
    }

    /// A temp dir holding `dest` (where layers go) and `sentinel` (which
    /// must never change).
    pub(super) struct Case {
        _tmp: tempfile::TempDir,
        pub base: PathBuf,
        pub dest: PathBuf,
    }

    const ESCAPE_NAMES: &[&str] = &["zqa", "zqb", "zq", "evil", "x", "outside"];

    impl Case {
        pub fn new() -> Case {
            let tmp = tempfile::tempdir().unwrap();
            let base = tmp.path().to_owned();
            let dest = base.join("dest");
            std::fs::create_dir(&dest).unwrap();
            std::fs::create_dir(base.join("sentinel")).unwrap();
            std::fs::write(base.join("sentinel/keep"), b"keep").unwrap();
            Case {
                _tmp: tmp,
                base,
                dest,
            }
        }

        pub fn run_opts(
            &self,
            data: &[u8],
            opts: &UnpackOptions,
        ) -> (Result<UnpackSummary, UnpackError>, Vec<u8>) {
            let mut split = Vec::new();
            let r = unpack_layer(data, &self.dest, &mut split, opts);
            (r, split)
        }

        pub fn run(&self, data: &[u8]) -> (Result<UnpackSummary, UnpackError>, Vec<u8>) {
            self.run_opts(data, &UnpackOptions::default())
        }

        pub fn run_pipelined(&self, data: &[u8]) -> (Result<UnpackSummary, UnpackError>, Vec<u8>) {
            let mut split = Vec::new();
            let r = unpack_layer_pipelined(data, &self.dest, &mut split, &UnpackOptions::default());
            (r, split)
        }

        pub fn p(&self, rel: &str) -> PathBuf {
            self.dest.join(rel)
        }

        /// Nothing appeared or changed outside `dest`.
        pub fn assert_contained(&self) {
            let names: BTreeSet<String> = std::fs::read_dir(&self.base)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            assert_eq!(
                names,
                ["dest", "sentinel"].iter().map(|s| s.to_string()).collect(),
                "something was created next to dest"
            );
            let names: Vec<_> = std::fs::read_dir(self.base.join("sentinel"))
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(names, vec![std::ffi::OsString::from("keep")]);
            let keep = self.base.join("sentinel/keep");
            assert!(std::fs::symlink_metadata(&keep).unwrap().is_file());
            assert_eq!(std::fs::read(&keep).unwrap(), b"keep");
            for n in ESCAPE_NAMES {
                for dir in [Path::new("/"), self.base.parent().unwrap()] {
                    assert!(
                        std::fs::symlink_metadata(dir.join(n)).is_err(),
                        "{} exists",
                        dir.join(n).display()
                    );
                }
            }
        }
    }

    fn header(kind: EntryType, mode: u32) -> Header {
        let (uid, gid) = me();
        let mut h = Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(uid);
        h.set_gid(gid);
        h.set_mtime(1_600_000_000);
        h.set_size(0);
        h
    }

    pub(super) fn add_file(b: &mut Builder<Vec<u8>>, path: &str, data: &[u8], mode: u32) {
        let mut h = header(EntryType::Regular, mode);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, path, data).unwrap();
    }

    fn add_file_owned(b: &mut Builder<Vec<u8>>, path: &str, data: &[u8], uid: u64, gid: u64) {
        let mut h = header(EntryType::Regular, 0o640);
        h.set_uid(uid);
        h.set_gid(gid);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, path, data).unwrap();
    }

    pub(super) fn add_dir(b: &mut Builder<Vec<u8>>, path: &str, mode: u32) {
        let mut h = header(EntryType::Directory, mode);
        b.append_data(&mut h, path, io::empty()).unwrap();
    }

    pub(super) fn add_symlink(b: &mut Builder<Vec<u8>>, path: &str, target: &str) {
        let mut h = header(EntryType::Symlink, 0o777);
        b.append_link(&mut h, path, target).unwrap();
    }

    fn add_hardlink(b: &mut Builder<Vec<u8>>, path: &str, target: &str) {
        let mut h = header(EntryType::Link, 0o4755);
        b.append_link(&mut h, path, target).unwrap();
    }

    fn add_special(b: &mut Builder<Vec<u8>>, path: &str, kind: EntryType, major: u32, minor: u32) {
        let mut h = header(kind, 0o620);
        h.set_device_major(major).unwrap();
        h.set_device_minor(minor).unwrap();
        b.append_data(&mut h, path, io::empty()).unwrap();
    }

    /// A PAX record, length prefix included.
    fn pax_record(k: &str, v: &[u8]) -> Vec<u8> {
        let body = 3 + k.len() + v.len(); // ' ', '=', '\n'
        let mut n = body + 1;
        while n != body + n.to_string().len() {
            n = body + n.to_string().len();
        }
        let mut r = format!("{n} {k}=").into_bytes();
        r.extend_from_slice(v);
        r.push(b'\n');
        r
    }

    /// A raw USTAR header with a valid checksum; any name bytes allowed.
    pub(super) fn raw_header(name: &[u8], typeflag: u8, size: u64, link: &[u8]) -> [u8; 512] {
        let mut b = [0u8; 512];
        b[..name.len()].copy_from_slice(name);
        let mode: &[u8] = if typeflag == b'5' {
            b"0000755\0"
        } else {
            b"0000644\0"
        };
        b[100..108].copy_from_slice(mode);
        let (uid, gid) = me();
        b[108..116].copy_from_slice(format!("{uid:07o}\0").as_bytes());
        b[116..124].copy_from_slice(format!("{gid:07o}\0").as_bytes());
        if size < 0o77777777777 {
            b[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
        } else {
            b[124] = 0x80;
            b[128..136].copy_from_slice(&size.to_be_bytes());
        }
        b[136..148].copy_from_slice(b"13736051600\0");
        b[156] = typeflag;
        b[157..157 + link.len()].copy_from_slice(link);
        b[257..263].copy_from_slice(b"ustar\0");
        b[263..265].copy_from_slice(b"00");
        set_checksum(&mut b);
        b
    }

    pub(super) fn set_checksum(b: &mut [u8; 512]) {
        b[148..156].copy_from_slice(b"        ");
        let sum: u32 = b.iter().map(|&c| u32::from(c)).sum();
        b[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    }

    /// Appends a raw member (header, data, padding).
    pub(super) fn raw_member(
        out: &mut Vec<u8>,
        name: &[u8],
        typeflag: u8,
        data: &[u8],
        link: &[u8],
    ) {
        out.extend_from_slice(&raw_header(name, typeflag, data.len() as u64, link));
        out.extend_from_slice(data);
        out.resize(out.len() + padding(data.len() as u64) as usize, 0);
    }

    pub(super) fn end(out: &mut Vec<u8>) {
        out.resize(out.len() + 1024, 0);
    }

    fn gzip(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    fn zstd(b: &[u8]) -> Vec<u8> {
        zstd::encode_all(b, 3).unwrap()
    }

    fn reassembled(split: &[u8], dir: &Path) -> Vec<u8> {
        let mut out = Vec::new();
        let n = tarsplit::reassemble(split, dir, &mut out).unwrap();
        assert_eq!(n, out.len() as u64);
        out
    }

    fn getxattr(path: &Path, name: &str) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 256];
        match rustix::fs::lgetxattr(path, name, &mut buf[..]) {
            Ok(n) => {
                buf.truncate(n);
                Some(buf)
            }
            Err(_) => None,
        }
    }

    fn pseudo_random(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    const CAP_NET_BIND: [u8; 20] = [
        0x01, 0, 0, 0x02, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    /// A layer with one of everything.
    fn rich_layer() -> Vec<u8> {
        let mut b = Builder::new(Vec::new());
        add_dir(&mut b, "./", 0o755);
        add_dir(&mut b, "etc/", 0o755);
        add_file(&mut b, "etc/hosts", b"127.0.0.1 localhost\n", 0o644);
        add_dir(&mut b, "usr/", 0o755);
        add_dir(&mut b, "usr/bin/", 0o711);
        add_file(&mut b, "usr/bin/su", b"#!/bin/su\n", 0o4755);
        add_file(&mut b, "usr/bin/sg", b"#!/bin/sg\n", 0o2711);
        add_file(&mut b, "usr/bin/big", &pseudo_random(700_001, 7), 0o755);
        add_symlink(&mut b, "usr/bin/sh", "busybox");
        add_symlink(&mut b, "abs", "/etc/hosts");
        add_symlink(&mut b, "dotdot", "../../..");
        add_hardlink(&mut b, "usr/bin/su2", "usr/bin/su");
        add_dir(&mut b, "empty/", 0o700);
        add_dir(&mut b, "ro/", 0o555);
        add_file(&mut b, "ro/inside", b"x", 0o444);
        add_file(&mut b, "./implicit/parent/file", b"", 0o600);
        add_special(&mut b, "run/fifo", EntryType::Fifo, 0, 0);
        // GNU long name (> 100 bytes) for a file and for a hard link target.
        let long = format!("long/{}", "a".repeat(150));
        add_file(&mut b, &long, b"gnu long name", 0o644);
        add_hardlink(&mut b, &format!("long/{}", "l".repeat(120)), &long);
        // PAX long name plus xattrs (one value holds a newline and a NUL).
        let pax_name = format!("pax/{}", "b".repeat(200));
        let mut recs = pax_record("path", pax_name.as_bytes());
        recs.extend(pax_record("SCHILY.xattr.user.foo", b"bar"));
        recs.extend(pax_record("SCHILY.xattr.user.bin", b"a\nb\0c"));
        recs.extend(pax_record("SCHILY.xattr.trusted.overlay.opaque", b"y"));
        recs.extend(pax_record("mtime", b"1600000000.5"));
        let mut h = Header::new_ustar();
        h.set_entry_type(EntryType::XHeader);
        h.set_size(recs.len() as u64);
        h.set_cksum();
        b.append(&h, recs.as_slice()).unwrap();
        let mut h = header(EntryType::Regular, 0o600);
        h.as_mut_bytes()[..8].copy_from_slice(b"pax/bbbb");
        h.set_size(3);
        h.set_cksum();
        b.append(&h, &b"pax"[..]).unwrap();
        // Overlay conventions.
        add_file(&mut b, ".wh.gone", b"", 0o600);
        add_file(&mut b, "etc/.wh.old", b"", 0o600);
        add_dir(&mut b, "opq/", 0o755);
        add_file(&mut b, "opq/.wh..wh..opq", b"", 0o600);
        add_file(&mut b, "opq/kept", b"kept", 0o644);
        add_file(&mut b, "newdir/.wh..wh..opq", b"", 0o600);
        b.into_inner().unwrap()
    }

    fn check_rich(c: &Case, s: &UnpackSummary) {
        let (uid, gid) = me();
        let md = |p: &str| std::fs::symlink_metadata(c.p(p)).unwrap();
        assert_eq!(md("").mode() & 0o7777, 0o755);
        assert_eq!(md("etc/hosts").mode() & 0o7777, 0o644);
        assert_eq!(
            std::fs::read(c.p("etc/hosts")).unwrap(),
            b"127.0.0.1 localhost\n"
        );
        assert_eq!(md("usr/bin").mode() & 0o7777, 0o711);
        assert_eq!(md("usr/bin/su").mode() & 0o7777, 0o4755, "setuid bit kept");
        assert_eq!(md("usr/bin/sg").mode() & 0o7777, 0o2711, "setgid bit kept");
        assert_eq!(
            (md("usr/bin/su").uid() as u64, md("usr/bin/su").gid() as u64),
            (uid, gid)
        );
        assert_eq!(
            std::fs::read(c.p("usr/bin/big")).unwrap(),
            pseudo_random(700_001, 7)
        );
        assert_eq!(
            std::fs::read_link(c.p("usr/bin/sh")).unwrap(),
            Path::new("busybox")
        );
        assert_eq!(
            std::fs::read_link(c.p("abs")).unwrap(),
            Path::new("/etc/hosts")
        );
        assert_eq!(
            std::fs::read_link(c.p("dotdot")).unwrap(),
            Path::new("../../..")
        );
        assert_eq!(
            md("usr/bin/su2").ino(),
            md("usr/bin/su").ino(),
            "hard link shares the inode"
        );
        assert_eq!(md("empty").mode() & 0o7777, 0o700);
        assert!(std::fs::read_dir(c.p("empty")).unwrap().next().is_none());
        assert_eq!(md("ro").mode() & 0o7777, 0o555);
        assert_eq!(md("ro/inside").mode() & 0o7777, 0o444);
        assert_eq!(
            md("implicit").mode() & 0o7777,
            0o755,
            "implied parents are 0755"
        );
        assert_eq!(md("implicit/parent").mode() & 0o7777, 0o755);
        assert!(md("run/fifo").file_type().is_fifo());
        assert_eq!(md("run/fifo").mode() & 0o7777, 0o620);
        let long = format!("long/{}", "a".repeat(150));
        assert_eq!(std::fs::read(c.p(&long)).unwrap(), b"gnu long name");
        assert_eq!(
            md(&format!("long/{}", "l".repeat(120))).ino(),
            md(&long).ino()
        );
        let pax = format!("pax/{}", "b".repeat(200));
        assert_eq!(std::fs::read(c.p(&pax)).unwrap(), b"pax");
        assert_eq!(md(&pax).mtime(), 1_600_000_000);
        assert_eq!(md(&pax).mtime_nsec(), 500_000_000);
        assert_eq!(
            getxattr(&c.p(&pax), "user.foo").as_deref(),
            Some(&b"bar"[..])
        );
        assert_eq!(
            getxattr(&c.p(&pax), "user.bin").as_deref(),
            Some(&b"a\nb\0c"[..])
        );
        assert_eq!(getxattr(&c.p(&pax), "trusted.overlay.opaque"), None);
        assert!(s.skipped_xattrs >= 1);
        // Whiteouts: 0/0 character devices, no .wh. files.
        for w in ["gone", "etc/old"] {
            let m = md(w);
            assert!(m.file_type().is_char_device(), "{w} is a whiteout");
            assert_eq!(m.rdev(), 0);
        }
        assert!(std::fs::symlink_metadata(c.p(".wh.gone")).is_err());
        assert!(std::fs::symlink_metadata(c.p("opq/.wh..wh..opq")).is_err());
        assert_eq!(
            getxattr(&c.p("opq"), "user.overlay.opaque").as_deref(),
            Some(&b"y"[..])
        );
        assert_eq!(
            getxattr(&c.p("newdir"), "user.overlay.opaque").as_deref(),
            Some(&b"y"[..])
        );
        assert_eq!(std::fs::read(c.p("opq/kept")).unwrap(), b"kept");
        // Directory times are applied after their contents were written.
        assert_eq!(md("usr/bin").mtime(), 1_600_000_000);
        assert_eq!(md("etc").mtime(), 1_600_000_000);
        assert_eq!(md("").mtime(), 1_600_000_000);
        assert_eq!(md("usr/bin/sh").mtime(), 1_600_000_000, "symlink times");
        assert_eq!(s.skipped_devices, 0);
        assert!(s.tar_split_exact);
        assert_eq!(s.size, 20 + 10 + 10 + 700_001 + 1 + 13 + 3 + 4);
    }

    #[test]
    fn sniff() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(
            Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd]),
            Compression::Zstd
        );
        assert_eq!(Compression::sniff(b"etc/"), Compression::None);
        assert_eq!(Compression::sniff(&[]), Compression::None);
    }

    #[test]
    fn round_trip_all_compressions() {
        let tar = rich_layer();
        for (what, data) in [
            ("none", tar.clone()),
            ("gzip", gzip(&tar)),
            ("zstd", zstd(&tar)),
        ] {
            let c = Case::new();
            let (r, split) = c.run(&data);
            let s = r.unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(s.diff_id, sha(&tar), "{what}");
            check_rich(&c, &s);
            c.assert_contained();
            let rebuilt = reassembled(&split, &c.dest);
            assert!(rebuilt == tar, "{what}: rebuilt stream differs");
            assert_eq!(sha(&rebuilt), s.diff_id);
            let info = tarsplit::inspect(split.as_slice()).unwrap();
            assert_eq!(info.diff_id, s.diff_id);
            assert_eq!(info.tar_size, tar.len() as u64);
            assert_eq!(info.content_bytes, s.size);
        }
    }

    #[test]
    fn round_trip_with_zero_umask() {
        // With umask 0 modes are set at creation and chmod is skipped
        // unless setuid/setgid bits need restoring after chown.
        let tar = rich_layer();
        let c = Case::new();
        let mut split = Vec::new();
        let root = open_dest(&c.dest).unwrap();
        let (head, rest) = read_head(tar.as_slice()).unwrap();
        let source = HashedStream {
            r: BufReader::new(Hashing {
                inner: decoder(head, rest).unwrap(),
                hasher: Sha256::new(),
                total: 0,
            }),
        };
        let s = extract_all(
            root,
            Box::new(source),
            &mut split,
            &UnpackOptions::default(),
            Some(0),
        )
        .unwrap();
        check_rich(&c, &s);
        assert_eq!(reassembled(&split, &c.dest), tar);
    }

    #[test]
    fn aufs_metadata_is_skipped() {
        let c = Case::new();
        let mut t = Vec::new();
        raw_member(&mut t, b".wh..wh.plnk/", b'5', b"", b"");
        raw_member(&mut t, b".wh..wh.plnk/1.2", b'0', b"hidden", b"");
        raw_member(&mut t, b"./.wh..wh.aufs", b'0', b"", b"");
        raw_member(&mut t, b"d/.wh..wh.x", b'0', b"", b"");
        end(&mut t);
        let (r, split) = c.run(&t);
        r.unwrap();
        let names: Vec<_> = std::fs::read_dir(&c.dest)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("d")]);
        // Below the top level a `.wh..wh.x` name is a whiteout of `.wh.x`.
        assert!(
            std::fs::symlink_metadata(c.p("d/.wh.x"))
                .unwrap()
                .file_type()
                .is_char_device()
        );
        assert_eq!(reassembled(&split, &c.dest), t);
    }

    #[test]
    fn owners_and_capabilities_as_root() {
        if !is_root() {
            eprintln!("skipped: needs root (chown to other uids, security.capability)");
            return;
        }
        let mut b = Builder::new(Vec::new());
        add_file_owned(&mut b, "home/user/file", b"mine", 1000, 1001);
        let mut h = header(EntryType::Directory, 0o750);
        h.set_uid(1000);
        h.set_gid(1000);
        b.append_data(&mut h, "home/user/", io::empty()).unwrap();
        let mut h = header(EntryType::Symlink, 0o777);
        h.set_uid(1000);
        h.set_gid(1002);
        b.append_link(&mut h, "home/user/link", "file").unwrap();
        let recs = pax_record("SCHILY.xattr.security.capability", &CAP_NET_BIND);
        let mut h = Header::new_ustar();
        h.set_entry_type(EntryType::XHeader);
        h.set_size(recs.len() as u64);
        h.set_cksum();
        b.append(&h, recs.as_slice()).unwrap();
        add_file(&mut b, "usr/bin/ping", b"ping", 0o4755);
        let tar = b.into_inner().unwrap();
        let c = Case::new();
        let (r, split) = c.run(&tar);
        r.unwrap();
        let md = |p: &str| std::fs::symlink_metadata(c.p(p)).unwrap();
        assert_eq!(
            (md("home/user/file").uid(), md("home/user/file").gid()),
            (1000, 1001)
        );
        assert_eq!((md("home/user").uid(), md("home/user").gid()), (1000, 1000));
        assert_eq!(
            (md("home/user/link").uid(), md("home/user/link").gid()),
            (1000, 1002)
        );
        assert_eq!((md("home").uid(), md("home").gid()), (0, 0));
        assert_eq!(md("usr/bin/ping").mode() & 0o7777, 0o4755);
        assert!(getxattr(&c.p("usr/bin/ping"), "security.capability").is_some());
        assert_eq!(reassembled(&split, &c.dest), tar);
        c.assert_contained();
    }

    #[test]
    fn devices_as_root_and_rootless() {
        let mut b = Builder::new(Vec::new());
        add_special(&mut b, "dev/null", EntryType::Char, 1, 3);
        add_special(&mut b, "dev/loop0", EntryType::Block, 7, 0);
        add_special(&mut b, "dev/wh", EntryType::Char, 0, 0);
        let tar = b.into_inner().unwrap();

        let c = Case::new();
        let (r, split) = c.run_opts(
            &tar,
            &UnpackOptions {
                rootless: true,
                ..Default::default()
            },
        );
        let s = r.unwrap();
        assert_eq!(s.skipped_devices, 2);
        assert!(std::fs::symlink_metadata(c.p("dev/null")).is_err());
        assert!(
            std::fs::symlink_metadata(c.p("dev/wh"))
                .unwrap()
                .file_type()
                .is_char_device()
        );
        assert_eq!(reassembled(&split, &c.dest), tar);

        if !is_root() {
            eprintln!("skipped the rootful half: needs root (mknod)");
            return;
        }
        let c = Case::new();
        let (r, _) = c.run(&tar);
        assert_eq!(r.unwrap().skipped_devices, 0);
        let m = std::fs::symlink_metadata(c.p("dev/null")).unwrap();
        assert!(m.file_type().is_char_device());
        assert_eq!(m.rdev(), rustix::fs::makedev(1, 3));
        assert!(
            std::fs::symlink_metadata(c.p("dev/loop0"))
                .unwrap()
                .file_type()
                .is_block_device()
        );
        c.assert_contained();
    }

    /// Rootless for real: re-runs itself under `unshare --user --map-root-user`
    /// (one id mapped), as `berth internal unpack` will run.
    #[test]
    fn rootless_in_user_namespace() {
        if std::env::var_os("BERTH_TEST_IN_USERNS").is_none() {
            let exe = std::env::current_exe().unwrap();
            let out = std::process::Command::new("unshare")
                .args(["--user", "--map-root-user"])
                .arg(exe)
                .args([
                    "image::unpack::tests::rootless_in_user_namespace",
                    "--exact",
                    "--nocapture",
                ])
                .env("BERTH_TEST_IN_USERNS", "1")
                .output();
            match out {
                Ok(o) if o.status.success() => {
                    let text = String::from_utf8_lossy(&o.stdout);
                    assert!(text.contains("1 passed"), "{text}");
                }
                Ok(o) if String::from_utf8_lossy(&o.stderr).contains("unshare failed") => {
                    eprintln!("skipped: cannot create a user namespace here");
                }
                Ok(o) => panic!(
                    "in the user namespace: {}\n{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                ),
                Err(e) => eprintln!("skipped: cannot run unshare: {e}"),
            }
            return;
        }
        // Inside: we are uid 0, and only uid 0 is mapped.
        assert!(rustix::process::geteuid().is_root());
        let mut b = Builder::new(Vec::new());
        add_dir(&mut b, "etc/", 0o755);
        add_file(&mut b, "etc/.wh.passwd", b"", 0o600);
        add_dir(&mut b, "var/", 0o755);
        add_file(&mut b, "var/.wh..wh..opq", b"", 0o600);
        add_file(&mut b, "bin/su", b"su", 0o4755);
        add_special(&mut b, "dev/null", EntryType::Char, 1, 3);
        add_special(&mut b, "dev/sda", EntryType::Block, 8, 0);
        add_special(&mut b, "dev/fifo", EntryType::Fifo, 0, 0);
        let tar = b.into_inner().unwrap();
        let c = Case::new();
        let (r, split) = c.run_opts(
            &tar,
            &UnpackOptions {
                rootless: true,
                ..Default::default()
            },
        );
        let s = r.unwrap();
        assert_eq!(s.skipped_devices, 2);
        let m = std::fs::symlink_metadata(c.p("etc/passwd")).unwrap();
        assert!(m.file_type().is_char_device() && m.rdev() == 0);
        assert_eq!(
            getxattr(&c.p("var"), "user.overlay.opaque").as_deref(),
            Some(&b"y"[..])
        );
        assert_eq!(
            std::fs::metadata(c.p("bin/su")).unwrap().mode() & 0o7777,
            0o4755
        );
        assert!(
            std::fs::symlink_metadata(c.p("dev/fifo"))
                .unwrap()
                .file_type()
                .is_fifo()
        );
        assert!(std::fs::symlink_metadata(c.p("dev/null")).is_err());
        assert_eq!(reassembled(&split, &c.dest), tar);

        let mut b = Builder::new(Vec::new());
        add_file_owned(&mut b, "home/user/file", b"x", 1000, 0);
        let tar = b.into_inner().unwrap();
        // The single-id fallback: the file is the caller's (root here).
        let c = Case::new();
        let only_root = UnpackOptions {
            rootless: true,
            only_root_mapped: true,
        };
        let (r, split) = c.run_opts(&tar, &only_root);
        r.unwrap();
        let m = std::fs::metadata(c.p("home/user/file")).unwrap();
        assert_eq!((m.uid(), m.gid()), (0, 0));
        assert_eq!(reassembled(&split, &c.dest), tar);
        let c = Case::new();
        let (r, _) = c.run_opts(
            &tar,
            &UnpackOptions {
                rootless: true,
                ..Default::default()
            },
        );
        let err = r.unwrap_err();
        assert!(
            matches!(err, UnpackError::Unmapped { uid: 1000, .. }),
            "{err}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("home/user/file") && msg.contains("1000"),
            "{msg}"
        );
        c.assert_contained();
    }

    #[test]
    fn trailing_bytes_and_short_end_are_kept() {
        let mut tar = Vec::new();
        raw_member(&mut tar, b"a", b'0', b"hello", b"");
        // One zero block then EOF is a valid end (Go accepts it).
        let mut one = tar.clone();
        one.resize(one.len() + 512, 0);
        // Two zero blocks and garbage after.
        let mut garbage = tar.clone();
        end(&mut garbage);
        garbage.extend_from_slice(&pseudo_random(3000, 3));
        // No end marker at all: the stream ends at a header boundary.
        for data in [one, garbage, tar.clone()] {
            let c = Case::new();
            let (r, split) = c.run(&data);
            let s = r.unwrap();
            assert_eq!(s.diff_id, sha(&data));
            assert_eq!(s.entries, 1);
            assert_eq!(reassembled(&split, &c.dest), data);
        }
        // An empty stream is an empty layer.
        let c = Case::new();
        let (r, split) = c.run(&[]);
        assert_eq!(r.unwrap().diff_id, sha(&[]));
        assert!(reassembled(&split, &c.dest).is_empty());
    }

    #[test]
    fn replaced_entries() {
        let mut b = Builder::new(Vec::new());
        add_file(&mut b, "f", b"first", 0o644);
        add_dir(&mut b, "d/", 0o755);
        add_file(&mut b, "d/inner", b"", 0o644);
        add_dir(&mut b, "d/", 0o700); // merged, mode updated
        add_symlink(&mut b, "s", "/etc");
        add_file(&mut b, "s", b"now a file", 0o644); // replaces the symlink
        add_file(&mut b, "e", b"", 0o644);
        add_dir(&mut b, "e/", 0o755); // file replaced by dir
        add_dir(&mut b, "t/", 0o755);
        add_dir(&mut b, "t/u/", 0o755);
        add_file(&mut b, "t/u/empty", b"", 0o644);
        add_symlink(&mut b, "t", "elsewhere"); // dir tree replaced by a symlink
        let tar = b.into_inner().unwrap();
        let c = Case::new();
        let (r, split) = c.run(&tar);
        let s = r.unwrap();
        assert!(s.tar_split_exact, "no content was lost");
        assert_eq!(std::fs::read(c.p("f")).unwrap(), b"first");
        assert!(c.p("d/inner").exists());
        assert_eq!(std::fs::metadata(c.p("d")).unwrap().mode() & 0o7777, 0o700);
        assert_eq!(std::fs::read(c.p("s")).unwrap(), b"now a file");
        assert!(std::fs::symlink_metadata(c.p("e")).unwrap().is_dir());
        assert_eq!(
            std::fs::read_link(c.p("t")).unwrap(),
            Path::new("elsewhere")
        );
        assert_eq!(reassembled(&split, &c.dest), tar);
        c.assert_contained();

        // A file with content replaced by a later entry of the same name:
        // extraction follows the last one; the tar-split cannot rebuild the
        // first one's content and says so.
        let mut b = Builder::new(Vec::new());
        add_file(&mut b, "f", b"first", 0o644);
        add_file(&mut b, "f", b"secnd", 0o644);
        let tar = b.into_inner().unwrap();
        let c = Case::new();
        let (r, split) = c.run(&tar);
        let s = r.unwrap();
        assert!(!s.tar_split_exact);
        assert_eq!(std::fs::read(c.p("f")).unwrap(), b"secnd");
        let err = tarsplit::reassemble(split.as_slice(), &c.dest, io::sink()).unwrap_err();
        assert!(
            matches!(err, tarsplit::TarSplitError::DigestMismatch { .. }),
            "{err}"
        );
    }

    #[test]
    fn deep_trees() {
        // Deeper than the cached fd stack; then the whole tree is replaced.
        let deep = |n: usize| vec!["d"; n].join("/");
        let mut b = Builder::new(Vec::new());
        add_file(&mut b, &format!("{}/f", deep(80)), b"deep", 0o644);
        add_file(&mut b, &format!("{}/g", deep(80)), b"", 0o644);
        add_file(&mut b, &format!("{}/h", deep(70)), b"", 0o644);
        add_dir(&mut b, &format!("{}/", deep(75)), 0o750);
        add_file(&mut b, &format!("{}/i", deep(79)), b"", 0o644);
        let mut keep = b.get_ref().clone();
        end(&mut keep);
        add_symlink(&mut b, &format!("{}/s", deep(72)), "/");
        let mut t = b.into_inner().unwrap();
        let c = Case::new();
        let (r, split) = c.run(&keep);
        r.unwrap();
        assert_eq!(
            std::fs::read(c.p(&format!("{}/f", deep(80)))).unwrap(),
            b"deep"
        );
        assert_eq!(
            std::fs::metadata(c.p(&deep(75))).unwrap().mode() & 0o7777,
            0o750
        );
        assert_eq!(reassembled(&split, &c.dest), keep);

        t.truncate(t.len() - 1024);
        let mut evil = Builder::new(t);
        add_file(&mut evil, &format!("{}/s/zqa", deep(72)), b"evil", 0o644);
        let c = Case::new();
        let (r, _) = c.run(&evil.into_inner().unwrap());
        assert!(r.unwrap_err().to_string().contains("goes through symlink"));
        c.assert_contained();

        let mut t = keep.clone();
        t.truncate(t.len() - 1024);
        let mut b = Builder::new(t);
        add_file(&mut b, "d", b"", 0o644);
        let t = b.into_inner().unwrap();
        let c = Case::new();
        let (r, _) = c.run(&t);
        let s = r.unwrap();
        assert!(std::fs::symlink_metadata(c.p("d")).unwrap().is_file());
        assert!(!s.tar_split_exact, "d/.../f had content");
    }

    #[test]
    fn reassemble_detects_changes() {
        let mut b = Builder::new(Vec::new());
        add_file(&mut b, "a", b"hello", 0o644);
        add_file(&mut b, "b", b"world", 0o644);
        let tar = b.into_inner().unwrap();
        let c = Case::new();
        let (r, split) = c.run(&tar);
        r.unwrap();
        std::fs::write(c.p("a"), b"HELLO").unwrap();
        let err = tarsplit::reassemble(split.as_slice(), &c.dest, io::sink()).unwrap_err();
        assert!(
            matches!(err, tarsplit::TarSplitError::DigestMismatch { .. }),
            "{err}"
        );
        std::fs::write(c.p("a"), b"hello!").unwrap();
        let err = tarsplit::reassemble(split.as_slice(), &c.dest, io::sink()).unwrap_err();
        assert!(
            matches!(err, tarsplit::TarSplitError::SizeMismatch { .. }),
            "{err}"
        );
        std::fs::remove_file(c.p("a")).unwrap();
        std::os::unix::fs::symlink(c.base.join("sentinel/keep"), c.p("a")).unwrap();
        let err = tarsplit::reassemble(split.as_slice(), &c.dest, io::sink()).unwrap_err();
        assert!(err.to_string().contains("symlink"), "{err}");
        let err = tarsplit::reassemble(&b"garbage"[..], &c.dest, io::sink()).unwrap_err();
        assert!(
            matches!(
                err,
                tarsplit::TarSplitError::Read(_) | tarsplit::TarSplitError::Corrupt(_)
            ),
            "{err}"
        );
    }

    fn expect_err(c: &Case, data: &[u8], needle: &str) -> UnpackError {
        // The pipelined variant must fail the same way.
        let p = Case::new();
        let (r, _) = p.run_pipelined(data);
        let perr = r
            .expect_err("hostile layer must fail (pipelined)")
            .to_string();
        p.assert_contained();
        let (r, _) = c.run(data);
        let err = r.expect_err("hostile layer must fail");
        assert_eq!(err.to_string(), perr);
        let msg = err.to_string();
        eprintln!("expected error: {msg}");
        assert!(
            msg.contains(needle),
            "error {msg:?} should mention {needle:?}"
        );
        c.assert_contained();
        err
    }

    fn one(name: &[u8], typeflag: u8, data: &[u8], link: &[u8]) -> Vec<u8> {
        let mut t = Vec::new();
        raw_member(&mut t, name, typeflag, data, link);
        end(&mut t);
        t
    }

    #[test]
    fn hostile_names() {
        let c = Case::new();
        expect_err(&c, &one(b"../x", b'0', b"evil", b""), "\"..\"");
        expect_err(&c, &one(b"a/../../x", b'0', b"evil", b""), "\"..\"");
        expect_err(&c, &one(b"./../evil", b'5', b"", b""), "\"..\"");
        expect_err(&c, &one(b"/zqa", b'0', b"evil", b""), "absolute");
        expect_err(&c, &one(b"/etc/x", b'0', b"evil", b""), "absolute");
        expect_err(&c, &one(b"", b'0', b"evil", b""), "empty");
        expect_err(&c, &one(b".wh..", b'0', b"", b""), "whiteout");
        expect_err(&c, &one(b"sub/.wh.", b'0', b"", b""), "whiteout");
        expect_err(&c, &one(b"./", b'0', b"x", b""), "root");
        // NUL inside a PAX path.
        let mut t = Vec::new();
        raw_member(&mut t, b"paxhdr", b'x', &pax_record("path", b"a\0b"), b"");
        raw_member(&mut t, b"x", b'0', b"", b"");
        end(&mut t);
        expect_err(&c, &t, "PAX");
    }

    #[test]
    fn hostile_symlinks() {
        for target in [&b"/"[..], b"..", b"../..", b"../dest/../sentinel"] {
            let c = Case::new();
            let mut t = Vec::new();
            raw_member(&mut t, b"a", b'2', b"", target);
            raw_member(&mut t, b"a/evil", b'0', b"evil", b"");
            end(&mut t);
            expect_err(&c, &t, "goes through symlink");
        }
        // A chain: c -> b -> a -> ../sentinel
        let c = Case::new();
        let mut t = Vec::new();
        raw_member(&mut t, b"a", b'2', b"", b"../sentinel");
        raw_member(&mut t, b"b", b'2', b"", b"a");
        raw_member(&mut t, b"c", b'2', b"", b"b");
        raw_member(&mut t, b"c/keep", b'0', b"evil", b"");
        end(&mut t);
        expect_err(&c, &t, "goes through symlink");
        // A directory replaced by a symlink, then written through.
        let c = Case::new();
        let mut t = Vec::new();
        raw_member(&mut t, b"d/", b'5', b"", b"");
        raw_member(&mut t, b"d/e/", b'5', b"", b"");
        raw_member(&mut t, b"d", b'2', b"", b"../sentinel");
        raw_member(&mut t, b"d/keep", b'0', b"evil", b"");
        end(&mut t);
        expect_err(&c, &t, "goes through symlink");
        // Deeper in the path, with the parent fd cached.
        let c = Case::new();
        let mut t = Vec::new();
        raw_member(&mut t, b"d/e/f", b'0', b"", b"");
        raw_member(&mut t, b"d/e", b'2', b"", b"../../../sentinel");
        raw_member(&mut t, b"d/e/keep", b'0', b"evil", b"");
        end(&mut t);
        expect_err(&c, &t, "goes through symlink");
        // A directory entry through a symlink.
        let c = Case::new();
        let mut t = Vec::new();
        raw_member(&mut t, b"a", b'2', b"", b"..");
        raw_member(&mut t, b"a/zqa/", b'5', b"", b"");
        end(&mut t);
        expect_err(&c, &t, "goes through symlink");
        // Whiteout and opaque markers through a symlink.
        for name in [&b"a/.wh.keep"[..], b"a/.wh..wh..opq"] {
            let c = Case::new();
            let mut t = Vec::new();
            raw_member(&mut t, b"a", b'2', b"", b"../sentinel");
            raw_member(&mut t, name, b'0', b"", b"");
            end(&mut t);
            expect_err(&c, &t, "goes through symlink");
        }
    }

    #[test]
    fn replacing_a_symlink_does_not_write_through_it() {
        let c = Case::new();
        let keep = c.base.join("sentinel/keep");
        let mut t = Vec::new();
        raw_member(&mut t, b"x", b'2', b"", keep.to_str().unwrap().as_bytes());
        raw_member(&mut t, b"x", b'0', b"evil", b"");
        raw_member(&mut t, b"y", b'2', b"", b"../sentinel");
        raw_member(&mut t, b"y", b'5', b"", b"");
        raw_member(&mut t, b"z", b'2', b"", b"../sentinel/keep");
        raw_member(&mut t, b"z", b'6', b"", b"");
        end(&mut t);
        let (r, split) = c.run(&t);
        r.unwrap();
        assert_eq!(std::fs::read(c.p("x")).unwrap(), b"evil");
        assert!(std::fs::symlink_metadata(c.p("y")).unwrap().is_dir());
        assert!(
            std::fs::symlink_metadata(c.p("z"))
                .unwrap()
                .file_type()
                .is_fifo()
        );
        c.assert_contained();
        assert_eq!(reassembled(&split, &c.dest), t);
    }

    #[test]
    fn hostile_hardlinks() {
        let c = Case::new();
        expect_err(&c, &one(b"h", b'1', b"", b"../sentinel/keep"), "\"..\"");
        expect_err(&c, &one(b"h", b'1', b"", b"/etc/passwd"), "absolute");
        expect_err(&c, &one(b"h", b'1', b"", b"missing"), "does not exist");
        expect_err(&c, &one(b"h", b'1', b"", b"./"), "root");
        let c = Case::new();
        let mut t = Vec::new();
        raw_member(&mut t, b"s", b'2', b"", b"../sentinel");
        raw_member(&mut t, b"h", b'1', b"", b"s/keep");
        end(&mut t);
        expect_err(&c, &t, "symlink");
        let c = Case::new();
        let mut t = Vec::new();
        raw_member(&mut t, b"d/", b'5', b"", b"");
        raw_member(&mut t, b"h", b'1', b"", b"d");
        end(&mut t);
        expect_err(&c, &t, "directory");
        // A hard link to a symlink links the symlink itself.
        let c = Case::new();
        let mut t = Vec::new();
        raw_member(&mut t, b"s", b'2', b"", b"../sentinel/keep");
        raw_member(&mut t, b"h", b'1', b"", b"s");
        end(&mut t);
        let (r, _) = c.run(&t);
        r.unwrap();
        assert!(
            std::fs::symlink_metadata(c.p("h"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        c.assert_contained();
    }

    #[test]
    fn truncated_and_corrupt_streams() {
        // 1 TiB declared, a few bytes present.
        let c = Case::new();
        let mut t = Vec::new();
        t.extend_from_slice(&raw_header(b"huge", b'0', 1 << 40, b""));
        t.extend_from_slice(&[7u8; 1000]);
        let err = expect_err(&c, &t, "truncated");
        assert!(err.to_string().contains("huge"), "{err}");
        assert!(std::fs::metadata(c.p("huge")).unwrap().len() <= 1000);

        // Truncated header and truncated PAX data.
        let c = Case::new();
        let mut t = one(b"a", b'0', b"data", b"");
        t.truncate(1024 + 100);
        let mut two = one(b"a", b'0', b"data", b"");
        two.truncate(1024);
        two.extend_from_slice(&[1u8; 100]);
        expect_err(&c, &two, "truncated");
        let c = Case::new();
        let mut t = Vec::new();
        t.extend_from_slice(&raw_header(b"paxhdr", b'x', 300, b""));
        t.extend_from_slice(&[b'1'; 100]);
        expect_err(&c, &t, "truncated");

        // Bad checksum.
        let c = Case::new();
        let mut t = one(b"a", b'0', b"data", b"");
        t[0] = b'b';
        expect_err(&c, &t, "checksum");

        // Corrupt gzip: damage the deflate data; and a cut gzip stream.
        let mut b = Builder::new(Vec::new());
        add_file(&mut b, "f", &pseudo_random(100_000, 5), 0o644);
        let tar = b.into_inner().unwrap();
        let mut gz = gzip(&tar);
        let mid = gz.len() / 2;
        for x in &mut gz[mid..mid + 64] {
            *x ^= 0x55;
        }
        let c = Case::new();
        let (r, _) = c.run(&gz);
        assert!(r.is_err());
        c.assert_contained();
        let c = Case::new();
        let (r, _) = c.run_pipelined(&gz);
        assert!(r.is_err());
        c.assert_contained();
        let mut gz = gzip(&tar);
        gz.truncate(gz.len() - 100);
        let c = Case::new();
        let (r, _) = c.run(&gz);
        assert!(r.is_err());
        let mut zs = zstd(&tar);
        zs.truncate(zs.len() / 2);
        let c = Case::new();
        let (r, _) = c.run(&zs);
        assert!(r.is_err());
        let c = Case::new();
        expect_err(&c, &[0xfd, b'7', b'z', b'X', b'Z', 0, 1, 2], "xz");
    }

    #[test]
    fn unsupported_entries() {
        let c = Case::new();
        expect_err(&c, &one(b"sparse", b'S', b"", b""), "sparse");
        expect_err(&c, &one(b"cont", b'7', b"", b""), "contiguous");
        expect_err(&c, &one(b"vol", b'V', b"", b""), "not supported");
        let mut t = Vec::new();
        let mut recs = pax_record("GNU.sparse.major", b"1");
        recs.extend(pax_record("GNU.sparse.minor", b"0"));
        raw_member(&mut t, b"paxhdr", b'x', &recs, b"");
        raw_member(&mut t, b"f", b'0', b"", b"");
        end(&mut t);
        expect_err(&c, &t, "sparse");
    }

    #[test]
    fn pax_global_header_is_ignored() {
        let c = Case::new();
        let mut t = Vec::new();
        raw_member(
            &mut t,
            b"global",
            b'g',
            &pax_record("path", b"ignored"),
            b"",
        );
        raw_member(&mut t, b"f", b'0', b"x", b"");
        end(&mut t);
        let (r, split) = c.run(&t);
        let s = r.unwrap();
        assert_eq!(s.entries, 1);
        assert!(c.p("f").exists() && !c.p("ignored").exists() && !c.p("global").exists());
        assert_eq!(reassembled(&split, &c.dest), t);
    }

    #[test]
    fn header_only_types_carry_no_data() {
        // Go ignores the size of link/dir/fifo headers; so do we.
        let c = Case::new();
        let mut t = Vec::new();
        t.extend_from_slice(&raw_header(b"d/", b'5', 1024, b""));
        raw_member(&mut t, b"d/f", b'0', b"x", b"");
        end(&mut t);
        let (r, split) = c.run(&t);
        assert_eq!(r.unwrap().entries, 2);
        assert_eq!(reassembled(&split, &c.dest), t);
    }

    #[test]
    fn not_empty_destination() {
        let c = Case::new();
        std::fs::write(c.p("x"), b"").unwrap();
        let (r, _) = c.run(&one(b"a", b'0', b"", b""));
        assert!(matches!(r, Err(UnpackError::Destination { .. })));
    }

    #[test]
    fn numeric_fields() {
        assert_eq!(parse_numeric(b"0000644\0"), Some(0o644));
        assert_eq!(parse_numeric(b"  644 \0"), Some(0o644));
        assert_eq!(parse_numeric(b"\0\0\0"), Some(0));
        assert_eq!(parse_numeric(b"12x"), None);
        assert_eq!(
            parse_numeric(&[0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]),
            Some(1 << 32)
        );
        assert_eq!(parse_numeric(&[0xff; 8]), Some(-1));
        assert_eq!(
            parse_pax_time(b"-1.5"),
            Some(Timespec {
                tv_sec: -2,
                tv_nsec: 500_000_000
            })
        );
        assert_eq!(
            parse_pax_time(b"12.0000000019"),
            Some(Timespec {
                tv_sec: 12,
                tv_nsec: 1
            })
        );
        assert_eq!(parse_pax_time(b"1.x"), None);
        assert_eq!(
            parse_pax_record(b"11 a=bcdef\nrest"),
            Some((&b"a"[..], &b"bcdef"[..], &b"rest"[..]))
        );
        assert_eq!(parse_pax_record(b"12 a=bcdef\n"), None);
        assert_eq!(parse_pax_record(b"3 a=\n"), None);
        assert_eq!(normalize(b"./a//b/./c/"), Ok(b"a/b/c".to_vec()));
        assert_eq!(normalize(b"./"), Ok(Vec::new()));
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        /// A small valid layer and the offsets of its header blocks.
        fn base_layer() -> (Vec<u8>, Vec<usize>) {
            let mut t = Vec::new();
            let mut heads = Vec::new();
            type Member = (&'static [u8], u8, &'static [u8], &'static [u8]);
            let members: &[Member] = &[
                (b"./", b'5', b"", b""),
                (b"zqa/", b'5', b"", b""),
                (b"zqa/f", b'0', b"hello world", b""),
                (b"zqa/big", b'0', &[9u8; 1500], b""),
                (b"zqa/s", b'2', b"", b"../.."),
                (b"zqa/h", b'1', b"", b"zqa/f"),
                (b"zqb", b'2', b"", b"/"),
                (b"paxhdr", b'x', b"26 path=zqa/zqb/pax-named\n", b""),
                (b"x", b'0', b"pax", b""),
                (b".wh.zq", b'0', b"", b""),
                (b"zqa/.wh..wh..opq", b'0', b"", b""),
                (b"fifo", b'6', b"", b""),
            ];
            for (name, tf, data, link) in members {
                heads.push(t.len());
                raw_member(&mut t, name, *tf, data, link);
            }
            end(&mut t);
            (t, heads)
        }

        fn component() -> impl Strategy<Value = &'static str> {
            prop::sample::select(vec![
                "zqa",
                "zqb",
                "..",
                ".",
                "",
                ".wh.zqa",
                ".wh..wh..opq",
                "zq",
            ])
        }

        fn name() -> impl Strategy<Value = Vec<u8>> {
            (
                prop::bool::weighted(0.05),
                prop::collection::vec(component(), 1..4),
            )
                .prop_map(|(abs, comps)| {
                    let mut n = if abs { b"/".to_vec() } else { Vec::new() };
                    n.extend_from_slice(comps.join("/").as_bytes());
                    n
                })
        }

        fn target() -> impl Strategy<Value = &'static str> {
            prop::sample::select(vec![
                "/",
                "..",
                "../..",
                "zqa",
                "zqa/zqb",
                "/tmp",
                "../sentinel",
                "../sentinel/keep",
                "zqb/../..",
                "./zqa",
                "zqa/..",
                ".",
            ])
        }

        fn check(c: &Case, data: &[u8], pipelined: bool) {
            let (r, split) = if pipelined {
                c.run_pipelined(data)
            } else {
                c.run(data)
            };
            c.assert_contained();
            if let Ok(s) = r
                && s.tar_split_exact
            {
                let mut out = Vec::new();
                if let Err(e) = tarsplit::reassemble(split.as_slice(), &c.dest, &mut out) {
                    panic!("reassembly failed for an exact tar-split: {e}");
                }
                assert_eq!(sha(&out), s.diff_id, "reassembled stream differs");
                if Compression::sniff(data) == Compression::None {
                    assert!(out == data, "reassembled stream differs");
                }
                if std::env::var_os("BERTH_FUZZ_STATS").is_some() {
                    eprintln!("ok {} entries", s.entries);
                }
            }
        }

        #[test]
        fn base_layer_is_valid() {
            let (t, _) = base_layer();
            let c = Case::new();
            let (r, split) = c.run(&t);
            assert_eq!(r.unwrap().entries, 11);
            assert!(c.p("zqa/zqb/pax-named").exists());
            assert_eq!(reassembled(&split, &c.dest), t);
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: std::env::var("BERTH_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300), failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn mutated_layers_never_escape(
                flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..8),
                in_headers in any::<bool>(),
                fix_checksums in any::<bool>(),
                compress in any::<bool>(),
                pipelined in any::<bool>(),
            ) {
                let (mut t, heads) = base_layer();
                for (i, x) in &flips {
                    let pos = if in_headers {
                        let h = heads[i.index(heads.len())];
                        h + i.index(512)
                    } else {
                        i.index(t.len())
                    };
                    t[pos] ^= x;
                }
                if fix_checksums {
                    for &h in &heads {
                        let blk: &mut [u8; 512] = (&mut t[h..h + 512]).try_into().unwrap();
                        set_checksum(blk);
                    }
                }
                let data = if compress { gzip(&t) } else { t };
                check(&Case::new(), &data, pipelined);
            }

            #[test]
            fn random_names_never_escape(
                entries in prop::collection::vec((name(), 0u8..6, target()), 1..10),
            ) {
                let mut t = Vec::new();
                for (name, kind, target) in &entries {
                    let (tf, data): (u8, &[u8]) = match kind {
                        0 => (b'0', b"data"),
                        1 => (b'5', b""),
                        2 => (b'2', b""),
                        3 => (b'1', b""),
                        4 => (b'6', b""),
                        _ => (b'0', b""),
                    };
                    raw_member(&mut t, name, tf, data, target.as_bytes());
                }
                end(&mut t);
                check(&Case::new(), &t, false);
            }
        }
    }

    /// Throughput on ~100 MB of real files. Run with
    /// `cargo test --release --lib image::unpack::tests::bench -- --ignored --nocapture`
    /// (BERTH_BENCH_SRC picks the source tree, default /usr/share).
    #[test]
    #[ignore]
    fn bench() {
        let src = std::env::var("BERTH_BENCH_SRC").unwrap_or_else(|_| "/usr/share".into());
        let limit: u64 = std::env::var("BERTH_BENCH_MB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100)
            << 20;
        let mut b = Builder::new(Vec::new());
        b.follow_symlinks(false);
        let mut total = 0u64;
        let mut stack = vec![PathBuf::from(&src)];
        'walk: while let Some(dir) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut ents: Vec<_> = rd.filter_map(|e| e.ok()).collect();
            ents.sort_by_key(|e| e.file_name());
            for e in ents.into_iter().rev() {
                let p = e.path();
                let Ok(m) = std::fs::symlink_metadata(&p) else {
                    continue;
                };
                let rel = p.strip_prefix(&src).unwrap();
                if m.is_dir() {
                    if b.append_dir(rel, &p).is_ok() {
                        stack.push(p);
                    }
                } else if m.is_file() || m.file_type().is_symlink() {
                    if b.append_path_with_name(&p, rel).is_ok() {
                        total += m.len();
                    }
                    if total > limit {
                        break 'walk;
                    }
                }
            }
        }
        let tar = b.into_inner().unwrap();
        // Default levels, as `docker push` and registries' layers use.
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&tar).unwrap();
        let gz = e.finish().unwrap();
        let zs = zstd(&tar);
        if let Some(dir) = std::env::var_os("BERTH_BENCH_SAVE") {
            let dir = PathBuf::from(dir);
            std::fs::write(dir.join("layer.tar"), &tar).unwrap();
            std::fs::write(dir.join("layer.tar.gz"), &gz).unwrap();
            std::fs::write(dir.join("layer.tar.zst"), &zs).unwrap();
        }
        // Cases are kept until the end: deleting a tree right before the
        // next run slows file creation on some file systems.
        let mut cases = Vec::new();
        let only = std::env::var("BERTH_BENCH_ONLY").ok();
        for (what, data) in [("none", &tar), ("gzip", &gz), ("zstd", &zs)] {
            if only.as_deref().is_some_and(|o| o != what) {
                continue;
            }
            let c = Case::new();
            let mut split = Vec::new();
            let t0 = std::time::Instant::now();
            let s = if std::env::var_os("BERTH_BENCH_PIPELINED").is_some() {
                unpack_layer_pipelined(
                    data.as_slice(),
                    &c.dest,
                    &mut split,
                    &UnpackOptions::default(),
                )
            } else {
                unpack_layer(
                    data.as_slice(),
                    &c.dest,
                    &mut split,
                    &UnpackOptions::default(),
                )
            }
            .unwrap();
            let secs = t0.elapsed().as_secs_f64();
            let t1 = std::time::Instant::now();
            let n = tarsplit::reassemble(split.as_slice(), &c.dest, io::sink()).unwrap();
            let rsecs = t1.elapsed().as_secs_f64();
            assert_eq!(n, tar.len() as u64);
            eprintln!(
                "{what}: {} entries, {:.1} MB tar ({:.1} MB content, {:.1} MB input) in {:.3}s: {:.0} MB/s of tar, {:.0} entries/s; tar-split {} bytes ({:.3}% of tar); reassemble {:.3}s ({:.0} MB/s)",
                s.entries,
                tar.len() as f64 / 1e6,
                s.size as f64 / 1e6,
                data.len() as f64 / 1e6,
                secs,
                tar.len() as f64 / 1e6 / secs,
                s.entries as f64 / secs,
                split.len(),
                split.len() as f64 * 100.0 / tar.len() as f64,
                rsecs,
                tar.len() as f64 / 1e6 / rsecs,
            );
            cases.push(c);
        }
    }
}
