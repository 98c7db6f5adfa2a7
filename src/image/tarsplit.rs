//! Tar-split: the metadata that rebuilds a layer's exact tar stream from its
//! unpacked directory.
//!
//! The store keeps only the unpacked layer directory. To push or save the layer
//! again with the same diff_id, [`super::unpack`] records, while it extracts,
//! every byte of the uncompressed tar stream that is *not* the content of a
//! regular file it wrote (headers, PAX and GNU extension records, padding, the
//! content of entries it did not write out such as whiteout markers, the
//! end-of-archive blocks and any trailing bytes), verbatim, plus a reference
//! `(path, size)` for each regular file's content. The recording is done at
//! the byte level by the unpacker's own reader, so reproduction is exact by
//! construction whatever the headers contain.
//!
//! # Format (version 1)
//!
//! One zstd stream (level 3) holding:
//!
//! ```text
//! magic    "berth-tarsplit\0\x01"           16 bytes
//! record*  0x01 varint(n) n bytes           segment: bytes copied verbatim
//!          0x02 varint(n) n bytes varint(s) file: s bytes of content read from
//!                                           layer_dir/<path> (path as extracted,
//!                                           relative, no leading "/", "./", "..")
//!          0x03 varint(total) 32 bytes      end: total length and sha256 of the
//!                                           whole uncompressed tar stream
//! ```
//!
//! Varints are unsigned LEB128. [`reassemble`] checks the size of every file
//! it reads and, at the end, the length and sha256 of everything it wrote, so
//! a layer directory that changed after extraction gives an error, never a
//! silently different tar.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags, ResolveFlags};
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 16] = b"berth-tarsplit\0\x01";
const TAG_SEGMENT: u8 = 1;
const TAG_FILE: u8 = 2;
const TAG_END: u8 = 3;
/// Paths longer than this cannot come from the unpacker (it rejects longer
/// entry names); a longer one means the tar-split is corrupt.
const MAX_PATH: u64 = 64 * 1024;
/// Segment bytes are buffered up to this size before a record is written.
const SEGMENT_FLUSH: usize = 1 << 20;
const COPY_BUF: usize = 256 * 1024;
const ZSTD_LEVEL: i32 = 3;

/// Errors from reading a tar-split or rebuilding a layer's tar stream.
#[derive(Debug, thiserror::Error)]
pub enum TarSplitError {
    /// The tar-split stream is not one this version wrote, or is damaged.
    #[error("tar-split metadata is corrupt: {0}")]
    Corrupt(String),
    /// Reading (decompressing) the tar-split stream failed.
    #[error("reading tar-split metadata: {0}")]
    Read(#[source] io::Error),
    /// The layer directory itself cannot be opened.
    #[error("cannot open layer directory {}: {source}", path.display())]
    LayerDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A file the tar stream needs cannot be opened or read.
    #[error("layer file {path:?}: {problem}")]
    File { path: String, problem: String },
    /// A file the tar stream needs has a different size than when it was unpacked.
    #[error(
        "layer file {path:?} changed since it was unpacked: size is {actual} bytes, expected {expected}"
    )]
    SizeMismatch {
        path: String,
        expected: u64,
        actual: u64,
    },
    /// The rebuilt stream does not match the original (a file's content changed).
    #[error(
        "rebuilt tar stream does not match the original layer: got {actual_size} bytes with sha256:{actual}, expected {expected_size} bytes with sha256:{expected}"
    )]
    DigestMismatch {
        expected: String,
        actual: String,
        expected_size: u64,
        actual_size: u64,
    },
    /// Writing the rebuilt stream failed.
    #[error("writing the rebuilt tar stream: {0}")]
    Write(#[source] io::Error),
}

/// What a tar-split says about its layer, read without touching the layer dir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarSplitInfo {
    /// Length of the uncompressed tar stream.
    pub tar_size: u64,
    /// `sha256:<hex>` of the uncompressed tar stream (the layer's diff_id).
    pub diff_id: String,
    /// Number of file-content references.
    pub files: u64,
    /// Bytes of file content referenced (read from the layer dir on reassembly).
    pub content_bytes: u64,
    /// Bytes stored verbatim in the tar-split (headers, padding, ...).
    pub segment_bytes: u64,
}

/// Writes tar-split records while a layer is unpacked. Used by
/// [`super::unpack`]; every byte of the tar stream goes either to
/// [`Recorder::segment`] or is covered by a [`Recorder::file`] reference.
pub(crate) struct Recorder<W: Write> {
    enc: zstd::stream::write::Encoder<'static, W>,
    seg: Vec<u8>,
}

impl<W: Write> Recorder<W> {
    pub(crate) fn new(out: W) -> io::Result<Self> {
        let mut enc = zstd::stream::write::Encoder::new(out, ZSTD_LEVEL)?;
        enc.write_all(MAGIC)?;
        Ok(Recorder {
            enc,
            seg: Vec::with_capacity(64 * 1024),
        })
    }

    /// Records bytes of the tar stream verbatim.
    pub(crate) fn segment(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.seg.extend_from_slice(bytes);
        if self.seg.len() >= SEGMENT_FLUSH {
            self.flush_segment()?;
        }
        Ok(())
    }

    /// Records that the next `size` bytes of the stream are the content of the
    /// regular file at `path` (relative to the layer dir). Size 0 needs no record.
    pub(crate) fn file(&mut self, path: &[u8], size: u64) -> io::Result<()> {
        self.flush_segment()?;
        let mut rec = Vec::with_capacity(path.len() + 24);
        rec.push(TAG_FILE);
        put_varint(&mut rec, path.len() as u64);
        rec.extend_from_slice(path);
        put_varint(&mut rec, size);
        self.enc.write_all(&rec)
    }

    /// Ends the tar-split with the stream's total length and sha256 and
    /// returns the underlying writer (flushed).
    pub(crate) fn finish(mut self, total: u64, sha256: &[u8; 32]) -> io::Result<W> {
        self.flush_segment()?;
        let mut rec = Vec::with_capacity(48);
        rec.push(TAG_END);
        put_varint(&mut rec, total);
        rec.extend_from_slice(sha256);
        self.enc.write_all(&rec)?;
        let mut out = self.enc.finish()?;
        out.flush()?;
        Ok(out)
    }

    fn flush_segment(&mut self) -> io::Result<()> {
        if self.seg.is_empty() {
            return Ok(());
        }
        let mut head = Vec::with_capacity(11);
        head.push(TAG_SEGMENT);
        put_varint(&mut head, self.seg.len() as u64);
        self.enc.write_all(&head)?;
        self.enc.write_all(&self.seg)?;
        self.seg.clear();
        Ok(())
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

enum Record {
    Segment(u64),
    File { path: Vec<u8>, size: u64 },
    End { total: u64, sha256: [u8; 32] },
}

/// Reads records from a decompressed tar-split stream.
struct Records<R: BufRead> {
    r: R,
    ended: bool,
}

impl<R: BufRead> Records<R> {
    fn open<S: Read>(
        tar_split: S,
    ) -> Result<Records<BufReader<zstd::Decoder<'static, BufReader<S>>>>, TarSplitError> {
        let dec = zstd::Decoder::new(tar_split).map_err(TarSplitError::Read)?;
        let mut r = BufReader::with_capacity(COPY_BUF, dec);
        let mut magic = [0u8; 16];
        read_exact_or(&mut r, &mut magic, "missing header")?;
        if &magic != MAGIC {
            return Err(TarSplitError::Corrupt(
                "not a berth tar-split (unknown header or version)".into(),
            ));
        }
        Ok(Records { r, ended: false })
    }

    fn byte(&mut self) -> Result<Option<u8>, TarSplitError> {
        let buf = self.r.fill_buf().map_err(TarSplitError::Read)?;
        let Some(&b) = buf.first() else {
            return Ok(None);
        };
        self.r.consume(1);
        Ok(Some(b))
    }

    fn varint(&mut self) -> Result<u64, TarSplitError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self
                .byte()?
                .ok_or_else(|| TarSplitError::Corrupt("truncated record".into()))?;
            if shift == 63 && b > 1 {
                break;
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(TarSplitError::Corrupt("number out of range".into()))
    }

    /// The next record. A segment's bytes are left in the reader: the caller
    /// must consume exactly that many with [`Records::copy_segment`].
    fn next(&mut self) -> Result<Option<Record>, TarSplitError> {
        let Some(tag) = self.byte()? else {
            if self.ended {
                return Ok(None);
            }
            return Err(TarSplitError::Corrupt("ends without an end record".into()));
        };
        if self.ended {
            return Err(TarSplitError::Corrupt("data after the end record".into()));
        }
        match tag {
            TAG_SEGMENT => Ok(Some(Record::Segment(self.varint()?))),
            TAG_FILE => {
                let n = self.varint()?;
                if n == 0 || n > MAX_PATH {
                    return Err(TarSplitError::Corrupt(format!("bad path length {n}")));
                }
                let mut path = vec![0u8; n as usize];
                read_exact_or(&mut self.r, &mut path, "truncated record")?;
                let size = self.varint()?;
                Ok(Some(Record::File { path, size }))
            }
            TAG_END => {
                let total = self.varint()?;
                let mut sha256 = [0u8; 32];
                read_exact_or(&mut self.r, &mut sha256, "truncated end record")?;
                self.ended = true;
                Ok(Some(Record::End { total, sha256 }))
            }
            t => Err(TarSplitError::Corrupt(format!("unknown record type {t}"))),
        }
    }

    /// Passes `n` segment bytes to `f` in chunks.
    fn copy_segment(
        &mut self,
        mut n: u64,
        mut f: impl FnMut(&[u8]) -> Result<(), TarSplitError>,
    ) -> Result<(), TarSplitError> {
        while n > 0 {
            let buf = self.r.fill_buf().map_err(TarSplitError::Read)?;
            if buf.is_empty() {
                return Err(TarSplitError::Corrupt("truncated segment".into()));
            }
            let k = buf.len().min(usize::try_from(n).unwrap_or(usize::MAX));
            f(&buf[..k])?;
            self.r.consume(k);
            n -= k as u64;
        }
        Ok(())
    }
}

fn read_exact_or<R: Read>(r: &mut R, buf: &mut [u8], what: &str) -> Result<(), TarSplitError> {
    r.read_exact(buf).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            TarSplitError::Corrupt(what.into())
        } else {
            TarSplitError::Read(e)
        }
    })
}

fn show(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

/// Reads a tar-split to its end record without touching the layer directory.
pub fn inspect<R: Read>(tar_split: R) -> Result<TarSplitInfo, TarSplitError> {
    let mut recs = Records::<BufReader<zstd::Decoder<'static, BufReader<R>>>>::open(tar_split)?;
    let mut info = TarSplitInfo {
        tar_size: 0,
        diff_id: String::new(),
        files: 0,
        content_bytes: 0,
        segment_bytes: 0,
    };
    while let Some(rec) = recs.next()? {
        match rec {
            Record::Segment(n) => {
                recs.copy_segment(n, |_| Ok(()))?;
                info.segment_bytes += n;
            }
            Record::File { size, .. } => {
                info.files += 1;
                info.content_bytes += size;
            }
            Record::End { total, sha256 } => {
                info.tar_size = total;
                info.diff_id = format!("sha256:{}", hex::encode(sha256));
            }
        }
    }
    Ok(info)
}

/// Rebuilds the original uncompressed tar stream of a layer, byte for byte,
/// from its tar-split and its unpacked directory, and writes it to `out`.
/// Returns the number of bytes written.
///
/// Files are opened relative to `layer_dir` with `openat2(RESOLVE_BENEATH |
/// RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)`: nothing
/// outside the layer dir is ever read. The caller must be able to read every
/// file of the layer (rootless: run this inside the layer's user namespace).
///
/// A file whose size changed is an error; any other change is caught at the
/// end by comparing the sha256 of what was written with the one recorded at
/// unpack time ([`TarSplitError::DigestMismatch`]). `out` may then have
/// received a complete but wrong stream: treat the error as fatal.
pub fn reassemble<R: Read, W: Write>(
    tar_split: R,
    layer_dir: &Path,
    mut out: W,
) -> Result<u64, TarSplitError> {
    let root: OwnedFd = File::open(layer_dir)
        .map_err(|source| TarSplitError::LayerDir {
            path: layer_dir.to_owned(),
            source,
        })?
        .into();
    let mut recs = Records::<BufReader<zstd::Decoder<'static, BufReader<R>>>>::open(tar_split)?;
    let mut hasher = Sha256::new();
    let mut written: u64 = 0;
    let mut buf = vec![0u8; COPY_BUF];
    while let Some(rec) = recs.next()? {
        match rec {
            Record::Segment(n) => {
                recs.copy_segment(n, |chunk| {
                    out.write_all(chunk).map_err(TarSplitError::Write)?;
                    hasher.update(chunk);
                    Ok(())
                })?;
                written += n;
            }
            Record::File { path, size } => {
                copy_file(&root, &path, size, &mut buf, &mut |chunk| {
                    out.write_all(chunk).map_err(TarSplitError::Write)?;
                    hasher.update(chunk);
                    Ok(())
                })?;
                written += size;
            }
            Record::End { total, sha256 } => {
                let actual: [u8; 32] = hasher.clone().finalize().into();
                if total != written || actual != sha256 {
                    return Err(TarSplitError::DigestMismatch {
                        expected: hex::encode(sha256),
                        actual: hex::encode(actual),
                        expected_size: total,
                        actual_size: written,
                    });
                }
            }
        }
    }
    out.flush().map_err(TarSplitError::Write)?;
    Ok(written)
}

fn copy_file(
    root: &OwnedFd,
    path: &[u8],
    size: u64,
    buf: &mut [u8],
    sink: &mut dyn FnMut(&[u8]) -> Result<(), TarSplitError>,
) -> Result<(), TarSplitError> {
    let fail = |problem: String| TarSplitError::File {
        path: show(path),
        problem,
    };
    if path.first() == Some(&b'/') || path.contains(&0) {
        return Err(TarSplitError::Corrupt(format!("bad path {:?}", show(path))));
    }
    let open = |flags: OFlags| {
        rustix::fs::openat2(
            root.as_fd(),
            path,
            flags | OFlags::CLOEXEC | OFlags::NOFOLLOW,
            Mode::empty(),
            ResolveFlags::BENEATH
                | ResolveFlags::NO_SYMLINKS
                | ResolveFlags::NO_MAGICLINKS
                | ResolveFlags::NO_XDEV,
        )
        .map_err(|e| match e {
            rustix::io::Errno::LOOP => fail("the path goes through a symlink or is one".into()),
            rustix::io::Errno::XDEV => fail("the path leaves the layer directory".into()),
            e => fail(format!("cannot open: {}", io::Error::from(e))),
        })
    };
    // Look before opening for reading: opening a device node or fifo that
    // took the file's place could have side effects or block.
    let probe = open(OFlags::PATH)?;
    let st = rustix::fs::fstat(&probe).map_err(|e| fail(format!("cannot stat: {e}")))?;
    match rustix::fs::FileType::from_raw_mode(st.st_mode) {
        rustix::fs::FileType::RegularFile => {}
        rustix::fs::FileType::Symlink => return Err(fail("is a symlink now".into())),
        _ => return Err(fail("is not a regular file any more".into())),
    }
    let fd = open(OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY)?;
    let st2 = rustix::fs::fstat(&fd).map_err(|e| fail(format!("cannot stat: {e}")))?;
    if (st2.st_dev, st2.st_ino) != (st.st_dev, st.st_ino) {
        return Err(fail("changed while it was being opened".into()));
    }
    let actual = st.st_size as u64;
    if actual != size {
        return Err(TarSplitError::SizeMismatch {
            path: show(path),
            expected: size,
            actual,
        });
    }
    let mut file = File::from(fd);
    let mut left = size;
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = match file.read(&mut buf[..want]) {
            Ok(0) => {
                return Err(TarSplitError::SizeMismatch {
                    path: show(path),
                    expected: size,
                    actual: size - left,
                });
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(fail(format!("cannot read: {e}"))),
        };
        sink(&buf[..n])?;
        left -= n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(f: impl FnOnce(&mut Recorder<Vec<u8>>), total: u64, sha: [u8; 32]) -> Vec<u8> {
        let mut r = Recorder::new(Vec::new()).unwrap();
        f(&mut r);
        r.finish(total, &sha).unwrap()
    }

    fn layer() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("layer");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(tmp.path().join("outside"), b"secret").unwrap();
        std::fs::create_dir(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/file"), b"content").unwrap();
        std::os::unix::fs::symlink("sub", dir.join("link")).unwrap();
        std::os::unix::fs::symlink("../outside", dir.join("out")).unwrap();
        (tmp, dir)
    }

    #[test]
    fn varints() {
        for v in [0u64, 1, 127, 128, 300, 1 << 35, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            let mut recs = Records {
                r: b.as_slice(),
                ended: false,
            };
            assert_eq!(recs.varint().unwrap(), v);
        }
        let mut recs = Records {
            r: &[0xffu8; 11][..],
            ended: false,
        };
        assert!(recs.varint().is_err());
    }

    #[test]
    fn rebuilds_and_checks_the_digest() {
        let (_tmp, dir) = layer();
        let want = b"head-content-tail".to_vec();
        let sha: [u8; 32] = Sha256::digest(&want).into();
        let split = record(
            |r| {
                r.segment(b"head-").unwrap();
                r.file(b"sub/file", 7).unwrap();
                r.segment(b"-tail").unwrap();
            },
            want.len() as u64,
            sha,
        );
        let mut out = Vec::new();
        assert_eq!(reassemble(split.as_slice(), &dir, &mut out).unwrap(), 17);
        assert_eq!(out, want);
        let info = inspect(split.as_slice()).unwrap();
        assert_eq!(info.tar_size, 17);
        assert_eq!(info.files, 1);
        assert_eq!(info.content_bytes, 7);
        assert_eq!(info.segment_bytes, 10);
        assert_eq!(info.diff_id, format!("sha256:{}", hex::encode(sha)));

        // Same records, wrong digest: an error after the stream was written.
        let split = record(
            |r| {
                r.segment(b"head-").unwrap();
                r.file(b"sub/file", 7).unwrap();
                r.segment(b"-tail").unwrap();
            },
            want.len() as u64,
            [0; 32],
        );
        let err = reassemble(split.as_slice(), &dir, io::sink()).unwrap_err();
        assert!(matches!(err, TarSplitError::DigestMismatch { .. }), "{err}");
    }

    #[test]
    fn never_reads_outside_the_layer() {
        let (_tmp, dir) = layer();
        for (path, needle) in [
            (&b"../outside"[..], "leaves the layer"),
            (b"out", "symlink"),
            (b"link/file", "symlink"),
            (b"/etc/passwd", "corrupt"),
            (b"missing", "cannot open"),
            (b"sub", "not"),
        ] {
            let split = record(|r| r.file(path, 6).unwrap(), 6, [0; 32]);
            let err = reassemble(split.as_slice(), &dir, io::sink()).unwrap_err();
            assert!(err.to_string().contains(needle), "{path:?}: {err}");
        }
    }

    #[test]
    fn corrupt_tar_splits() {
        let (_tmp, dir) = layer();
        let good = record(
            |r| r.segment(b"abc").unwrap(),
            3,
            Sha256::digest(b"abc").into(),
        );
        assert!(reassemble(good.as_slice(), &dir, io::sink()).is_ok());
        let raw = zstd::decode_all(good.as_slice()).unwrap();
        let bad = |raw: &[u8]| zstd::encode_all(raw, 1).unwrap();
        // Truncated before the end record; data after it; bad magic; bad tag.
        for broken in [
            bad(&raw[..raw.len() - 5]),
            bad(&[raw.as_slice(), &[1, 1, b'x']].concat()),
            bad(&[b"x".as_slice(), &raw[1..]].concat()),
            bad(&[&raw[..16], &[9u8][..]].concat()),
            b"not zstd".to_vec(),
        ] {
            let err = reassemble(broken.as_slice(), &dir, io::sink()).unwrap_err();
            assert!(
                matches!(err, TarSplitError::Corrupt(_) | TarSplitError::Read(_)),
                "{err}"
            );
        }
    }
}
