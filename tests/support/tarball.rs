//! A small deterministic tar writer (ustar headers, PAX extended headers,
//! GNU base-256 sizes) that, unlike `tar::Builder`, writes whatever it is
//! told: `..` components, absolute names, lying size fields. Fixture layers
//! and hostile layers are both built with it.

/// Modification time written into every entry (fixed, so tars are byte-stable).
pub const MTIME: u64 = 1_700_000_000;

/// Entry types this writer knows (ustar typeflag values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryType {
    File,
    Hardlink,
    Symlink,
    Char,
    Block,
    Dir,
    Fifo,
}

impl EntryType {
    fn flag(self) -> u8 {
        match self {
            EntryType::File => b'0',
            EntryType::Hardlink => b'1',
            EntryType::Symlink => b'2',
            EntryType::Char => b'3',
            EntryType::Block => b'4',
            EntryType::Dir => b'5',
            EntryType::Fifo => b'6',
        }
    }
}

/// One header, field by field. `size` is what the header declares; the body
/// written after it may differ (see [`TarWriter::raw`]).
#[derive(Clone, Debug)]
pub struct Header {
    pub name: Vec<u8>,
    pub kind: EntryType,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub link: Vec<u8>,
    pub devmajor: u32,
    pub devminor: u32,
    /// PAX records written in an `x` header before this entry
    /// (e.g. `SCHILY.xattr.user.foo`). Values may be binary.
    pub pax: Vec<(String, Vec<u8>)>,
}

impl Header {
    pub fn new(name: impl AsRef<[u8]>, kind: EntryType, mode: u32) -> Header {
        Header {
            name: name.as_ref().to_vec(),
            kind,
            mode,
            uid: 0,
            gid: 0,
            size: 0,
            link: Vec::new(),
            devmajor: 0,
            devminor: 0,
            pax: Vec::new(),
        }
    }
}

/// Accumulates a tar stream in memory.
#[derive(Default)]
pub struct TarWriter {
    buf: Vec<u8>,
}

impl TarWriter {
    pub fn new() -> TarWriter {
        TarWriter::default()
    }

    /// A directory (a trailing `/` is added to the name, as docker does).
    pub fn dir(&mut self, path: &str, mode: u32, uid: u32, gid: u32) -> &mut Self {
        let name = if path.ends_with('/') {
            path.to_string()
        } else {
            format!("{path}/")
        };
        let mut h = Header::new(name, EntryType::Dir, mode);
        h.uid = uid;
        h.gid = gid;
        self.entry(&h, &[])
    }

    /// A regular file.
    pub fn file(&mut self, path: &str, mode: u32, uid: u32, gid: u32, data: &[u8]) -> &mut Self {
        self.file_xattrs(path, mode, uid, gid, data, &[])
    }

    /// A regular file with extended attributes (PAX `SCHILY.xattr.NAME` records).
    pub fn file_xattrs(
        &mut self,
        path: &str,
        mode: u32,
        uid: u32,
        gid: u32,
        data: &[u8],
        xattrs: &[(&str, &[u8])],
    ) -> &mut Self {
        let mut h = Header::new(path, EntryType::File, mode);
        h.uid = uid;
        h.gid = gid;
        h.size = data.len() as u64;
        h.pax = xattrs
            .iter()
            .map(|(k, v)| (format!("SCHILY.xattr.{k}"), v.to_vec()))
            .collect();
        self.entry(&h, data)
    }

    /// A symbolic link `path -> target` (root-owned, mode 0777).
    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        let mut h = Header::new(path, EntryType::Symlink, 0o777);
        h.link = target.as_bytes().to_vec();
        self.entry(&h, &[])
    }

    /// A hard link `path` to the earlier entry `target` (a path inside the archive).
    pub fn hardlink(&mut self, path: &str, target: &str) -> &mut Self {
        let mut h = Header::new(path, EntryType::Hardlink, 0o644);
        h.link = target.as_bytes().to_vec();
        self.entry(&h, &[])
    }

    /// A character or block device node.
    pub fn device(
        &mut self,
        path: &str,
        kind: EntryType,
        mode: u32,
        major: u32,
        minor: u32,
    ) -> &mut Self {
        let mut h = Header::new(path, kind, mode);
        h.devmajor = major;
        h.devminor = minor;
        self.entry(&h, &[])
    }

    /// A FIFO.
    pub fn fifo(&mut self, path: &str, mode: u32) -> &mut Self {
        self.entry(&Header::new(path, EntryType::Fifo, mode), &[])
    }

    /// An entry whose header declares `h.size` bytes and whose body is `body`
    /// (padded to a 512-byte boundary). `h.size` is set from `body` if zero.
    pub fn entry(&mut self, h: &Header, body: &[u8]) -> &mut Self {
        let mut h = h.clone();
        if h.size == 0 {
            h.size = body.len() as u64;
        }
        self.raw(&h, body)
    }

    /// Writes `h` exactly as given (its size may lie about `body`).
    /// Names and link targets longer than ustar allows go into PAX records.
    pub fn raw(&mut self, h: &Header, body: &[u8]) -> &mut Self {
        let mut pax = h.pax.clone();
        let (name, prefix) = match split_name(&h.name) {
            Some(np) => np,
            None => {
                pax.push(("path".into(), h.name.clone()));
                (h.name[..h.name.len().min(100)].to_vec(), Vec::new())
            }
        };
        let mut link = h.link.clone();
        if link.len() > 100 {
            pax.push(("linkpath".into(), link.clone()));
            link.truncate(100);
        }
        if !pax.is_empty() {
            let mut data = Vec::new();
            for (k, v) in &pax {
                data.extend_from_slice(&pax_record(k, v));
            }
            let base = h
                .name
                .rsplit(|&b| b == b'/')
                .find(|s| !s.is_empty())
                .unwrap_or(b"x");
            let mut pname = b"PaxHeaders.0/".to_vec();
            pname.extend_from_slice(&base[..base.len().min(80)]);
            let block = ustar_block(&pname, &[], 0o644, 0, 0, data.len() as u64, b'x', &[], 0, 0);
            self.buf.extend_from_slice(&block);
            self.push_body(&data);
        }
        let block = ustar_block(
            &name,
            &prefix,
            h.mode,
            h.uid,
            h.gid,
            h.size,
            h.kind.flag(),
            &link,
            h.devmajor,
            h.devminor,
        );
        self.buf.extend_from_slice(&block);
        self.push_body(body);
        self
    }

    fn push_body(&mut self, body: &[u8]) {
        self.buf.extend_from_slice(body);
        let pad = (512 - body.len() % 512) % 512;
        self.buf.extend(std::iter::repeat_n(0u8, pad));
    }

    /// The archive with its two end-of-archive zero blocks.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend(std::iter::repeat_n(0u8, 1024));
        self.buf
    }

    /// The archive as written so far, without end-of-archive blocks
    /// (a truncated stream).
    pub fn finish_truncated(self) -> Vec<u8> {
        self.buf
    }
}

/// Splits a name into ustar (name, prefix), or None when it does not fit.
fn split_name(name: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    if name.len() <= 100 {
        return Some((name.to_vec(), Vec::new()));
    }
    // prefix + '/' + name: prefix <= 155, name <= 100, split at a '/'.
    for i in (0..name.len()).rev() {
        if name[i] == b'/' && i <= 155 && name.len() - i - 1 <= 100 && name.len() - i > 1 {
            return Some((name[i + 1..].to_vec(), name[..i].to_vec()));
        }
    }
    None
}

fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let payload = key.len() + value.len() + 3; // ' ' '=' '\n'
    let mut n = payload + 1;
    while n != payload + n.to_string().len() {
        n = payload + n.to_string().len();
    }
    let mut r = format!("{n} {key}=").into_bytes();
    r.extend_from_slice(value);
    r.push(b'\n');
    debug_assert_eq!(r.len(), n);
    r
}

fn put_octal(field: &mut [u8], value: u64) {
    let digits = field.len() - 1;
    let s = format!("{value:0digits$o}");
    assert!(
        s.len() <= digits,
        "value {value} does not fit a {digits}-digit octal field"
    );
    field[..digits].copy_from_slice(s.as_bytes());
    field[digits] = 0;
}

fn put_size(field: &mut [u8; 12], size: u64) {
    if size < 0o777_7777_7777 {
        put_octal(field, size);
    } else {
        // GNU base-256: high bit of the first byte set, big-endian value.
        field.fill(0);
        field[0] = 0x80;
        field[4..].copy_from_slice(&size.to_be_bytes());
    }
}

#[allow(clippy::too_many_arguments)]
fn ustar_block(
    name: &[u8],
    prefix: &[u8],
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    typeflag: u8,
    link: &[u8],
    devmajor: u32,
    devminor: u32,
) -> [u8; 512] {
    let mut b = [0u8; 512];
    b[..name.len()].copy_from_slice(name);
    put_octal(&mut b[100..108], u64::from(mode));
    put_octal(&mut b[108..116], u64::from(uid));
    put_octal(&mut b[116..124], u64::from(gid));
    let mut size_field = [0u8; 12];
    put_size(&mut size_field, size);
    b[124..136].copy_from_slice(&size_field);
    put_octal(&mut b[136..148], MTIME);
    b[156] = typeflag;
    b[157..157 + link.len()].copy_from_slice(link);
    b[257..263].copy_from_slice(b"ustar\0");
    b[263..265].copy_from_slice(b"00");
    put_octal(&mut b[329..337], u64::from(devmajor));
    put_octal(&mut b[337..345], u64::from(devminor));
    b[345..345 + prefix.len()].copy_from_slice(prefix);
    // Checksum: sum of all bytes with the checksum field taken as spaces.
    b[148..156].fill(b' ');
    let sum: u32 = b.iter().map(|&x| u32::from(x)).sum();
    let s = format!("{sum:06o}\0 ");
    b[148..156].copy_from_slice(s.as_bytes());
    b
}
