//! Parsers for docker's run flags, pure: `-v`, `--mount`, `--tmpfs`,
//! `--ulimit`, `--env-file`, `--security-opt`, `--cap-add/--cap-drop`.
//!
//! Error texts follow docker's (`invalid volume specification: '…'`,
//! `invalid mode: …`, `invalid ulimit type: …`, …) so scripts grepping them
//! keep working.

use std::path::PathBuf;

use super::spec::{BindMount, SpecError, TmpfsMount};
use crate::format::units;

/// What one `-v` or `--mount` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindOrVolume {
    /// A host path. `create_source`: docker creates a missing source for
    /// `-v` but refuses it for `--mount type=bind` (`bind source path does
    /// not exist`); the caller checks the file system.
    Bind {
        mount: BindMount,
        create_source: bool,
    },
    /// A named (`name:/ctr`) or anonymous (`/ctr`, `name` = `None`) volume.
    Volume(VolumeMount),
    /// `--mount type=tmpfs`.
    Tmpfs(TmpfsMount),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeMount {
    pub name: Option<String>,
    pub destination: String,
    pub read_only: bool,
    /// `nocopy` / `volume-nocopy`: don't copy the image's files into a new
    /// volume.
    pub no_copy: bool,
    pub subpath: Option<String>,
    /// `--mount volume-driver=`, `volume-label=k=v`, `volume-opt=k=v`: how
    /// the volume is made when it does not exist yet (docker's rule: an
    /// existing volume keeps its own).
    pub driver: Option<String>,
    pub labels: Vec<(String, String)>,
    pub options: Vec<(String, String)>,
}

const PROPAGATIONS: [&str; 6] = [
    "private", "rprivate", "shared", "rshared", "slave", "rslave",
];

/// docker's default bind propagation.
pub const DEFAULT_PROPAGATION: &str = "rprivate";

fn invalid_spec(raw: &str) -> SpecError {
    SpecError::Invalid(format!("invalid volume specification: '{raw}'"))
}

/// Go's `path.Clean` for absolute paths.
pub fn clean_path(p: &str) -> String {
    let abs = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !abs {
                    out.push("..");
                }
            }
            _ => out.push(part),
        }
    }
    let joined = out.join("/");
    match (abs, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// The mode part of `-v`: docker's `ValidMountMode` (each kind at most once)
/// and what it means.
#[derive(Debug, Default)]
struct VolumeMode {
    read_only: bool,
    propagation: Option<String>,
    no_copy: bool,
}

fn parse_volume_mode(mode: &str) -> Result<VolumeMode, SpecError> {
    let bad = || SpecError::Invalid(format!("invalid mode: {mode}"));
    let mut m = VolumeMode::default();
    if mode.is_empty() {
        return Ok(m);
    }
    let (mut rw, mut label, mut prop, mut copy, mut consistency) = (0, 0, 0, 0, 0);
    for o in mode.split(',') {
        match o {
            "ro" => {
                rw += 1;
                m.read_only = true;
            }
            "rw" => rw += 1,
            // SELinux relabelling: accepted, a no-op without SELinux.
            "z" | "Z" => label += 1,
            p if PROPAGATIONS.contains(&p) => {
                prop += 1;
                m.propagation = Some(p.to_string());
            }
            "nocopy" => {
                copy += 1;
                m.no_copy = true;
            }
            "consistent" | "cached" | "delegated" => consistency += 1,
            _ => return Err(bad()),
        }
    }
    if rw > 1 || label > 1 || prop > 1 || copy > 1 || consistency > 1 {
        return Err(bad());
    }
    Ok(m)
}

fn check_destination(kind: &str, dst: &str) -> Result<String, SpecError> {
    if !dst.starts_with('/') {
        return Err(SpecError::Invalid(format!(
            "invalid mount config for type \"{kind}\": invalid mount path: '{dst}' mount path must be absolute"
        )));
    }
    let clean = clean_path(dst);
    if clean == "/" {
        return Err(SpecError::Invalid(
            "invalid specification: destination can't be '/'".to_string(),
        ));
    }
    Ok(clean)
}

fn check_volume_name(name: &str) -> Result<(), SpecError> {
    let mut chars = name.chars();
    let ok = name.len() >= 2
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(SpecError::Invalid(format!(
            "\"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
        )))
    }
}

/// `-v`: `/host:/ctr[:mode]`, `name:/ctr[:mode]`, `/ctr` (docker's linux
/// parser: split on `:`, 1–3 parts).
pub fn parse_volume(raw: &str) -> Result<BindOrVolume, SpecError> {
    if raw.is_empty() {
        return Err(invalid_spec(raw));
    }
    let arr: Vec<&str> = raw.split(':').collect();
    let (source, target, mode) = match arr.as_slice() {
        [dst] => ("", *dst, ""),
        [src, dst] => {
            // `/foo:rw` would be a destination and a mode: not valid.
            if parse_volume_mode(dst).is_ok() {
                return Err(invalid_spec(raw));
            }
            (*src, *dst, "")
        }
        [src, dst, mode] => (*src, *dst, *mode),
        _ => return Err(invalid_spec(raw)),
    };
    let mode = parse_volume_mode(mode)?;
    if target.is_empty() {
        return Err(invalid_spec(raw));
    }
    if source.starts_with('/') {
        let destination = check_destination("bind", target)?;
        if mode.no_copy {
            return Err(SpecError::Invalid(format!(
                "invalid mount config for type \"bind\": field VolumeOptions must not be specified in '{raw}'"
            )));
        }
        return Ok(BindOrVolume::Bind {
            mount: BindMount {
                source: PathBuf::from(clean_path(source)),
                destination,
                read_only: mode.read_only,
                propagation: mode.propagation,
            },
            create_source: true,
        });
    }
    let destination = check_destination("volume", target)?;
    if mode.propagation.is_some() {
        return Err(SpecError::Invalid(format!(
            "invalid mount config for type \"volume\": field BindOptions must not be specified in '{raw}'"
        )));
    }
    let name = if source.is_empty() {
        None
    } else {
        check_volume_name(source)?;
        Some(source.to_string())
    };
    Ok(BindOrVolume::Volume(VolumeMount {
        name,
        destination,
        read_only: mode.read_only,
        no_copy: mode.no_copy,
        subpath: None,
        driver: None,
        labels: Vec::new(),
        options: Vec::new(),
    }))
}

/// Go's `strconv.ParseBool`.
fn go_bool(key: &str, v: &str) -> Result<bool, SpecError> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(SpecError::Invalid(format!("invalid value for {key}: {v}"))),
    }
}

/// One CSV record (Go's encoding/csv as docker's `--mount` reads it:
/// fields may be double-quoted, `""` is a quote inside quotes).
fn csv_fields(s: &str) -> Result<Vec<String>, SpecError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    let mut at_start = true;
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    quoted = false;
                    match chars.peek() {
                        None | Some(',') => {}
                        Some(_) => {
                            return Err(SpecError::Invalid(format!(
                                "invalid mount: extraneous \" in field: {s}"
                            )));
                        }
                    }
                }
            } else {
                cur.push(c);
            }
            continue;
        }
        match c {
            ',' => {
                out.push(std::mem::take(&mut cur));
                at_start = true;
                continue;
            }
            '"' if at_start => quoted = true,
            '"' => {
                return Err(SpecError::Invalid(format!(
                    "invalid mount: bare \" in non-quoted field: {s}"
                )));
            }
            _ => cur.push(c),
        }
        at_start = false;
    }
    if quoted {
        return Err(SpecError::Invalid(format!(
            "invalid mount: extraneous or missing \" in quoted field: {s}"
        )));
    }
    out.push(cur);
    Ok(out)
}

/// `--mount type=bind|volume|tmpfs,src=…,dst=…,readonly,…` (docker CLI's
/// `MountOpt`; type defaults to volume).
pub fn parse_mount(raw: &str) -> Result<BindOrVolume, SpecError> {
    let mut typ = "volume".to_string();
    let mut source = String::new();
    let mut target = String::new();
    let mut read_only = false;
    let mut propagation: Option<String> = None;
    let mut no_copy = false;
    let mut subpath: Option<String> = None;
    let mut volume_driver: Option<String> = None;
    let mut volume_labels: Vec<(String, String)> = Vec::new();
    let mut volume_options: Vec<(String, String)> = Vec::new();
    let mut tmpfs_size: Option<i64> = None;
    let mut tmpfs_mode: Option<u32> = None;
    let (mut bind_opts, mut vol_opts, mut tmpfs_opts) = (false, false, false);

    for field in csv_fields(raw)? {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.to_lowercase(), Some(v.to_string())),
            None => (field.to_lowercase(), None),
        };
        let value = match (key.as_str(), value) {
            ("readonly" | "ro" | "volume-nocopy", None) => "true".to_string(),
            (_, None) => {
                return Err(SpecError::Invalid(format!(
                    "invalid field '{field}' must be a key=value pair"
                )));
            }
            (_, Some(v)) => v,
        };
        match key.as_str() {
            "type" => typ = value.to_lowercase(),
            "source" | "src" => source = value,
            "target" | "dst" | "destination" => target = value,
            "readonly" | "ro" => read_only = go_bool(&key, &value)?,
            "consistency" => {}
            "bind-propagation" => {
                bind_opts = true;
                if !PROPAGATIONS.contains(&value.as_str()) {
                    return Err(SpecError::Invalid(format!(
                        "invalid propagation mode: {value}"
                    )));
                }
                propagation = Some(value);
            }
            "bind-nonrecursive" | "bind-recursive" | "bind-create-src" => {
                return Err(SpecError::Unsupported(format!("--mount {key}")));
            }
            "volume-nocopy" => {
                vol_opts = true;
                no_copy = go_bool(&key, &value)?;
            }
            "volume-subpath" => {
                vol_opts = true;
                subpath = Some(value);
            }
            "volume-driver" => {
                vol_opts = true;
                volume_driver = Some(value);
            }
            "volume-label" | "volume-opt" => {
                vol_opts = true;
                let (k, v) = value.split_once('=').ok_or_else(|| {
                    SpecError::Invalid(format!("invalid value for {key}: {value}"))
                })?;
                let pair = (k.to_string(), v.to_string());
                if key == "volume-label" {
                    volume_labels.push(pair);
                } else {
                    volume_options.push(pair);
                }
            }
            "tmpfs-size" => {
                tmpfs_opts = true;
                let n = units::parse_size(&value)
                    .map_err(|e| SpecError::Invalid(format!("invalid value for {key}: {e}")))?;
                tmpfs_size = Some(n);
            }
            "tmpfs-mode" => {
                tmpfs_opts = true;
                let n = u32::from_str_radix(&value, 8)
                    .map_err(|_| SpecError::Invalid(format!("invalid value for {key}: {value}")))?;
                tmpfs_mode = Some(n);
            }
            _ => {
                return Err(SpecError::Invalid(format!(
                    "unexpected key '{key}' in '{field}'"
                )));
            }
        }
    }

    if target.is_empty() {
        return Err(SpecError::Invalid("target is required".to_string()));
    }
    let mix = |what: &str| {
        Err(SpecError::Invalid(format!(
            "cannot mix '{what}-*' options with mount type '{typ}'"
        )))
    };
    if bind_opts && typ != "bind" {
        return mix("bind");
    }
    if vol_opts && typ != "volume" {
        return mix("volume");
    }
    if tmpfs_opts && typ != "tmpfs" {
        return mix("tmpfs");
    }
    match typ.as_str() {
        "bind" => {
            if source.is_empty() {
                return Err(SpecError::Invalid(
                    "invalid mount config for type \"bind\": field Source must not be empty"
                        .to_string(),
                ));
            }
            if !source.starts_with('/') {
                return Err(SpecError::Invalid(format!(
                    "invalid mount config for type \"bind\": invalid mount path: '{source}' mount path must be absolute"
                )));
            }
            Ok(BindOrVolume::Bind {
                mount: BindMount {
                    source: PathBuf::from(clean_path(&source)),
                    destination: check_destination("bind", &target)?,
                    read_only,
                    propagation,
                },
                create_source: false,
            })
        }
        "volume" => {
            let destination = check_destination("volume", &target)?;
            let name = if source.is_empty() {
                None
            } else {
                check_volume_name(&source)?;
                Some(source)
            };
            Ok(BindOrVolume::Volume(VolumeMount {
                name,
                destination,
                read_only,
                no_copy,
                subpath,
                driver: volume_driver,
                labels: volume_labels,
                options: volume_options,
            }))
        }
        "tmpfs" => {
            if !source.is_empty() {
                return Err(SpecError::Invalid(
                    "invalid mount config for type \"tmpfs\": field Source must be empty"
                        .to_string(),
                ));
            }
            let destination = check_destination("tmpfs", &target)?;
            // docker's ConvertTmpfsOptions: largest unit dividing the size.
            let mut options = Vec::new();
            if let Some(size) = tmpfs_size.filter(|s| *s != 0) {
                let (n, sfx) = [("g", 1i64 << 30), ("m", 1 << 20), ("k", 1 << 10)]
                    .iter()
                    .find(|(_, d)| size % d == 0)
                    .map(|(s, d)| (size / d, *s))
                    .unwrap_or((size, ""));
                options.push(format!("size={n}{sfx}"));
            }
            if let Some(mode) = tmpfs_mode.filter(|m| *m != 0) {
                options.push(format!("mode={mode:o}"));
            }
            if read_only {
                options.push("ro".to_string());
            }
            Ok(BindOrVolume::Tmpfs(TmpfsMount {
                destination,
                options,
            }))
        }
        other => Err(SpecError::Unsupported(format!("--mount type={other}"))),
    }
}

/// Mount flags the kernel (and docker's `ParseOptions`) knows; everything
/// else in a tmpfs option list must be `key=value` data.
const MOUNT_FLAGS: &[&str] = &[
    "defaults",
    "ro",
    "rw",
    "suid",
    "nosuid",
    "dev",
    "nodev",
    "exec",
    "noexec",
    "sync",
    "async",
    "dirsync",
    "remount",
    "mand",
    "nomand",
    "atime",
    "noatime",
    "diratime",
    "nodiratime",
    "bind",
    "rbind",
    "unbindable",
    "runbindable",
    "private",
    "rprivate",
    "shared",
    "rshared",
    "slave",
    "rslave",
    "relatime",
    "norelatime",
    "strictatime",
    "nostrictatime",
    "iversion",
    "noiversion",
    "lazytime",
    "nolazytime",
];
const TMPFS_DATA: &[&str] = &[
    "size",
    "mode",
    "uid",
    "gid",
    "nr_inodes",
    "nr_blocks",
    "mpol",
];

fn check_tmpfs_option(o: &str) -> Result<(), SpecError> {
    if MOUNT_FLAGS.contains(&o) {
        return Ok(());
    }
    match o.split_once('=') {
        Some((k, _)) if TMPFS_DATA.contains(&k) => Ok(()),
        _ => Err(SpecError::Invalid(format!("invalid tmpfs option \"{o}\""))),
    }
}

/// `--tmpfs /path[:opts]`: the CLI splits at the first `:`; the daemon checks
/// the destination and every option.
pub fn parse_tmpfs(raw: &str) -> Result<TmpfsMount, SpecError> {
    let (dst, opts) = raw.split_once(':').unwrap_or((raw, ""));
    let destination = check_destination("tmpfs", dst)?;
    let options: Vec<String> = opts
        .split(',')
        .filter(|o| !o.is_empty())
        .map(str::to_string)
        .collect();
    for o in &options {
        check_tmpfs_option(o)?;
    }
    Ok(TmpfsMount {
        destination,
        options,
    })
}

/// A flag of the kernel's mount flag set, for docker's `MergeTmpfsOptions`:
/// options that set or clear the same flag collide (the later one wins).
fn flag_key(o: &str) -> Option<&'static str> {
    Some(match o {
        "ro" | "rw" => "rdonly",
        "suid" | "nosuid" => "nosuid",
        "dev" | "nodev" => "nodev",
        "exec" | "noexec" => "noexec",
        "sync" | "async" => "sync",
        "dirsync" => "dirsync",
        "remount" => "remount",
        "mand" | "nomand" => "mand",
        "atime" | "noatime" => "noatime",
        "diratime" | "nodiratime" => "nodiratime",
        "bind" => "bind",
        "rbind" => "rbind",
        "relatime" | "norelatime" => "relatime",
        "strictatime" | "nostrictatime" => "strictatime",
        "iversion" | "noiversion" => "iversion",
        "lazytime" | "nolazytime" => "lazytime",
        "unbindable" | "runbindable" | "private" | "rprivate" | "shared" | "rshared" | "slave"
        | "rslave" => "propagation",
        _ => return None,
    })
}

/// docker's tmpfs options for the Spec: `noexec,nosuid,nodev,rprivate`, then
/// the user's, merged so that a later option overrides an earlier one of the
/// same kind (`exec` beats the default `noexec`; the last `size=` wins).
pub fn merge_tmpfs_options(user: &[String]) -> Vec<String> {
    let mut all: Vec<&str> = vec!["noexec", "nosuid", "nodev", DEFAULT_PROPAGATION];
    all.extend(user.iter().map(String::as_str));
    let mut seen: Vec<&str> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    for o in all.iter().rev() {
        if *o == "defaults" {
            continue;
        }
        let key = flag_key(o).unwrap_or_else(|| o.split_once('=').map_or(*o, |(k, _)| k));
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        out.push(o.to_string());
    }
    out.reverse();
    out
}

/// A resource `--ulimit` can name (go-units' list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    Core,
    Cpu,
    Data,
    Fsize,
    Locks,
    Memlock,
    Msgqueue,
    Nice,
    Nofile,
    Nproc,
    Rss,
    Rtprio,
    Rttime,
    Sigpending,
    Stack,
}

impl Resource {
    pub const ALL: [Resource; 15] = [
        Resource::Core,
        Resource::Cpu,
        Resource::Data,
        Resource::Fsize,
        Resource::Locks,
        Resource::Memlock,
        Resource::Msgqueue,
        Resource::Nice,
        Resource::Nofile,
        Resource::Nproc,
        Resource::Rss,
        Resource::Rtprio,
        Resource::Rttime,
        Resource::Sigpending,
        Resource::Stack,
    ];

    /// docker's name (`nofile`).
    pub fn name(self) -> &'static str {
        match self {
            Resource::Core => "core",
            Resource::Cpu => "cpu",
            Resource::Data => "data",
            Resource::Fsize => "fsize",
            Resource::Locks => "locks",
            Resource::Memlock => "memlock",
            Resource::Msgqueue => "msgqueue",
            Resource::Nice => "nice",
            Resource::Nofile => "nofile",
            Resource::Nproc => "nproc",
            Resource::Rss => "rss",
            Resource::Rtprio => "rtprio",
            Resource::Rttime => "rttime",
            Resource::Sigpending => "sigpending",
            Resource::Stack => "stack",
        }
    }

    pub fn from_name(s: &str) -> Option<Resource> {
        Resource::ALL.into_iter().find(|r| r.name() == s)
    }

    pub fn oci(self) -> oci_spec::runtime::PosixRlimitType {
        use oci_spec::runtime::PosixRlimitType as T;
        match self {
            Resource::Core => T::RlimitCore,
            Resource::Cpu => T::RlimitCpu,
            Resource::Data => T::RlimitData,
            Resource::Fsize => T::RlimitFsize,
            Resource::Locks => T::RlimitLocks,
            Resource::Memlock => T::RlimitMemlock,
            Resource::Msgqueue => T::RlimitMsgqueue,
            Resource::Nice => T::RlimitNice,
            Resource::Nofile => T::RlimitNofile,
            Resource::Nproc => T::RlimitNproc,
            Resource::Rss => T::RlimitRss,
            Resource::Rtprio => T::RlimitRtprio,
            Resource::Rttime => T::RlimitRttime,
            Resource::Sigpending => T::RlimitSigpending,
            Resource::Stack => T::RlimitStack,
        }
    }

    /// The kernel's resource number, for getrlimit.
    pub fn libc(self) -> libc::__rlimit_resource_t {
        match self {
            Resource::Core => libc::RLIMIT_CORE,
            Resource::Cpu => libc::RLIMIT_CPU,
            Resource::Data => libc::RLIMIT_DATA,
            Resource::Fsize => libc::RLIMIT_FSIZE,
            Resource::Locks => libc::RLIMIT_LOCKS,
            Resource::Memlock => libc::RLIMIT_MEMLOCK,
            Resource::Msgqueue => libc::RLIMIT_MSGQUEUE,
            Resource::Nice => libc::RLIMIT_NICE,
            Resource::Nofile => libc::RLIMIT_NOFILE,
            Resource::Nproc => libc::RLIMIT_NPROC,
            Resource::Rss => libc::RLIMIT_RSS,
            Resource::Rtprio => libc::RLIMIT_RTPRIO,
            Resource::Rttime => libc::RLIMIT_RTTIME,
            Resource::Sigpending => libc::RLIMIT_SIGPENDING,
            Resource::Stack => libc::RLIMIT_STACK,
        }
    }
}

/// `RLIM_INFINITY` as the Spec carries it.
pub const UNLIMITED: u64 = u64::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ulimit {
    pub resource: Resource,
    pub soft: u64,
    pub hard: u64,
}

/// `name=soft[:hard]` (go-units `ParseUlimit`); `-1` means unlimited.
pub fn parse_ulimit(raw: &str) -> Result<Ulimit, SpecError> {
    let Some((name, vals)) = raw.split_once('=') else {
        return Err(SpecError::Invalid(format!(
            "invalid ulimit argument: {raw}"
        )));
    };
    let Some(resource) = Resource::from_name(name) else {
        return Err(SpecError::Invalid(format!("invalid ulimit type: {name}")));
    };
    let num = |s: &str| -> Result<u64, SpecError> {
        match s.parse::<i64>() {
            Ok(-1) => Ok(UNLIMITED),
            Ok(n) if n >= 0 => Ok(n as u64),
            Ok(_) => Err(SpecError::Invalid(format!(
                "invalid ulimit argument: {raw}: negative values other than -1 are not allowed"
            ))),
            Err(_) => Err(SpecError::Invalid(format!(
                "invalid ulimit argument: {raw}: strconv.ParseInt: parsing \"{s}\": invalid syntax"
            ))),
        }
    };
    let mut parts = vals.split(':');
    let soft = num(parts.next().unwrap_or(""))?;
    let hard = match parts.next() {
        Some(h) => num(h)?,
        None => soft,
    };
    if parts.next().is_some() {
        return Err(SpecError::Invalid(format!(
            "too many limit value arguments - {vals}, can only have up to two, `soft[:hard]`"
        )));
    }
    if soft > hard {
        return Err(SpecError::Invalid(format!(
            "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
        )));
    }
    Ok(Ulimit {
        resource,
        soft,
        hard,
    })
}

/// `--env-file` contents (docker's `parseKeyValueFile`): leading whitespace
/// trimmed, blank lines and `#` lines skipped, a leading UTF-8 BOM dropped,
/// `NAME=value` kept verbatim (the value is not trimmed or unquoted), `NAME`
/// alone taken from `lookup` (the caller's environment) and dropped when
/// unset. A name with whitespace is an error.
pub fn parse_env_file(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>, SpecError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for raw_line in text.split('\n') {
        let raw_line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let line = raw_line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (line, None),
        };
        if name.is_empty() {
            return Err(SpecError::Invalid(format!(
                "no variable name on line '{line}'"
            )));
        }
        let name = name.trim_start_matches([' ', '\t']);
        if name.contains([' ', '\t']) {
            return Err(SpecError::Invalid(format!(
                "variable '{name}' contains whitespaces"
            )));
        }
        match value {
            Some(v) => out.push(format!("{name}={v}")),
            None => {
                if let Some(v) = lookup(name) {
                    out.push(format!("{name}={v}"));
                }
            }
        }
    }
    Ok(out)
}

/// `--label k=v` / `--label k` (docker's `ValidateLabel` and
/// `ConvertKVStringsToMap`: a bare key has an empty value, a later label
/// replaces an earlier one, an empty name is an error).
pub fn parse_labels(
    labels: &[String],
) -> Result<std::collections::BTreeMap<String, String>, SpecError> {
    let mut out = std::collections::BTreeMap::new();
    for l in labels {
        let (k, v) = l.split_once('=').unwrap_or((l, ""));
        if k.trim().is_empty() {
            return Err(SpecError::Invalid(format!(
                "invalid label '{l}': empty name"
            )));
        }
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// Seccomp choice from `--security-opt`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Seccomp {
    #[default]
    Default,
    Unconfined,
    Profile(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecurityOptions {
    pub no_new_privileges: bool,
    pub seccomp: Seccomp,
}

/// `--security-opt`: `no-new-privileges[:|=true|false]`, `seccomp=…`
/// (`:` accepted, as docker's legacy form), `label=…` and `apparmor=…`
/// accepted and ignored (no SELinux/AppArmor here), anything else an error.
pub fn parse_security_opts(opts: &[String]) -> Result<SecurityOptions, SpecError> {
    let mut out = SecurityOptions::default();
    for opt in opts {
        if opt == "no-new-privileges" {
            out.no_new_privileges = true;
            continue;
        }
        let Some((k, v)) = opt.split_once(['=', ':']) else {
            return Err(SpecError::Invalid(format!(
                "Invalid --security-opt: {opt:?}"
            )));
        };
        match k {
            "no-new-privileges" => {
                out.no_new_privileges = go_bool("no-new-privileges", v)
                    .map_err(|_| SpecError::Invalid(format!("invalid --security-opt 2: {opt:?}")))?
            }
            "seccomp" => {
                out.seccomp = match v {
                    "unconfined" => Seccomp::Unconfined,
                    // docker ≥ 25: the default profile, named.
                    "builtin" => Seccomp::Default,
                    "" => {
                        return Err(SpecError::Invalid(format!(
                            "Invalid --security-opt: {opt:?}"
                        )));
                    }
                    path => Seccomp::Profile(PathBuf::from(path)),
                }
            }
            "label" | "apparmor" | "systempaths" | "mask" | "unmask" | "writable-cgroups" => {
                if k == "systempaths" && v == "unconfined" {
                    return Err(SpecError::Unsupported(
                        "--security-opt systempaths=unconfined".to_string(),
                    ));
                }
            }
            _ => {
                return Err(SpecError::Invalid(format!(
                    "Invalid --security-opt: {opt:?}"
                )));
            }
        }
    }
    Ok(out)
}

/// `--restart no|always|unless-stopped|on-failure[:N]`, docker's rules.
pub fn parse_restart(value: &str) -> Result<crate::container::record::RestartPolicy, SpecError> {
    use crate::container::record::RestartPolicy;
    let (name, count) = match value.split_once(':') {
        Some((n, c)) => (n, Some(c)),
        None => (value, None),
    };
    let invalid = || SpecError::Invalid(format!("invalid restart policy: {value}"));
    let maximum_retry_count = match (name, count) {
        ("" | "no" | "always" | "unless-stopped", None) => 0,
        ("always" | "unless-stopped" | "no", Some(_)) => {
            return Err(SpecError::Invalid(
                "invalid restart policy: maximum retry count can only be used with 'on-failure'"
                    .into(),
            ));
        }
        ("on-failure", None) => 0,
        ("on-failure", Some(c)) => c.parse().map_err(|_| {
            SpecError::Invalid(format!(
                "invalid restart policy: invalid maximum retry count: {c}"
            ))
        })?,
        _ => return Err(invalid()),
    };
    Ok(RestartPolicy {
        name: if name.is_empty() {
            "no".into()
        } else {
            name.into()
        },
        maximum_retry_count,
    })
}

/// `--userns` (docker: `host` or empty; podman's `keep-id[:uid=U,gid=G]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Userns {
    /// berth's default: rootless, container root is the caller and the other
    /// ids are subordinate ones, except that a `-u` naming the caller's own
    /// uid keeps it ([`Userns::KeepId`] for that uid). As root: the host's ids.
    #[default]
    Default,
    /// The caller's uid and gid appear as `uid`/`gid` (default: the same
    /// values) in the container, which runs as them unless `-u` says otherwise.
    KeepId { uid: Option<u32>, gid: Option<u32> },
}

/// Parses `--userns`: `""`, `host` (docker's values: berth's default),
/// `keep-id`, `keep-id:uid=U,gid=G` (podman's).
pub fn parse_userns(raw: &str) -> Result<Userns, SpecError> {
    let invalid = || {
        SpecError::Invalid(format!(
            "invalid --userns value {raw:?}: expected \"host\", \"keep-id\" or \"keep-id:uid=UID,gid=GID\""
        ))
    };
    match raw {
        "" | "host" => return Ok(Userns::Default),
        "keep-id" => {
            return Ok(Userns::KeepId {
                uid: None,
                gid: None,
            });
        }
        _ => {}
    }
    let Some(opts) = raw.strip_prefix("keep-id:") else {
        return Err(invalid());
    };
    let (mut uid, mut gid) = (None, None);
    for opt in opts.split(',') {
        let (k, v) = opt.split_once('=').ok_or_else(invalid)?;
        let id = v
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= i32::MAX as u32)
            .ok_or_else(invalid)?;
        match k {
            "uid" => uid = Some(id),
            "gid" => gid = Some(id),
            _ => return Err(invalid()),
        }
    }
    Ok(Userns::KeepId { uid, gid })
}

#[cfg(test)]
mod userns_tests {
    use super::*;

    #[test]
    fn userns_values() {
        assert_eq!(parse_userns("").unwrap(), Userns::Default);
        assert_eq!(parse_userns("host").unwrap(), Userns::Default);
        assert_eq!(
            parse_userns("keep-id").unwrap(),
            Userns::KeepId {
                uid: None,
                gid: None
            }
        );
        assert_eq!(
            parse_userns("keep-id:uid=200,gid=210").unwrap(),
            Userns::KeepId {
                uid: Some(200),
                gid: Some(210)
            }
        );
        assert_eq!(
            parse_userns("keep-id:gid=5").unwrap(),
            Userns::KeepId {
                uid: None,
                gid: Some(5)
            }
        );
        for bad in [
            "private",
            "keep-id:",
            "keep-id:uid=x",
            "keep-id:size=3",
            "auto",
        ] {
            let e = parse_userns(bad).unwrap_err().to_string();
            assert!(e.contains("--userns"), "{bad}: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(src: &str, dst: &str, ro: bool, prop: Option<&str>, create: bool) -> BindOrVolume {
        BindOrVolume::Bind {
            mount: BindMount {
                source: PathBuf::from(src),
                destination: dst.to_string(),
                read_only: ro,
                propagation: prop.map(str::to_string),
            },
            create_source: create,
        }
    }

    fn vol(name: Option<&str>, dst: &str, ro: bool) -> BindOrVolume {
        BindOrVolume::Volume(VolumeMount {
            name: name.map(str::to_string),
            destination: dst.to_string(),
            read_only: ro,
            no_copy: false,
            subpath: None,
            driver: None,
            labels: Vec::new(),
            options: Vec::new(),
        })
    }

    #[test]
    fn volume_forms() {
        let table = [
            ("/host:/ctr", bind("/host", "/ctr", false, None, true)),
            ("/host:/ctr:ro", bind("/host", "/ctr", true, None, true)),
            ("/host:/ctr:rw", bind("/host", "/ctr", false, None, true)),
            ("/host:/ctr:z", bind("/host", "/ctr", false, None, true)),
            ("/host:/ctr:Z", bind("/host", "/ctr", false, None, true)),
            ("/host:/ctr:ro,Z", bind("/host", "/ctr", true, None, true)),
            ("/host:/ctr:Z,ro", bind("/host", "/ctr", true, None, true)),
            (
                "/host:/ctr:rslave",
                bind("/host", "/ctr", false, Some("rslave"), true),
            ),
            (
                "/host:/ctr:ro,rshared",
                bind("/host", "/ctr", true, Some("rshared"), true),
            ),
            (
                "/host:/ctr:private,z,rw",
                bind("/host", "/ctr", false, Some("private"), true),
            ),
            ("/a/../b/:/c/./d/", bind("/b", "/c/d", false, None, true)),
            (
                "data:/var/lib/data",
                vol(Some("data"), "/var/lib/data", false),
            ),
            ("my_vol.1-x:/d:ro", vol(Some("my_vol.1-x"), "/d", true)),
            ("/anon", vol(None, "/anon", false)),
        ];
        for (raw, want) in table {
            assert_eq!(parse_volume(raw).unwrap(), want, "{raw}");
        }
    }

    #[test]
    fn volume_errors() {
        let table = [
            ("", "invalid volume specification: ''"),
            ("/ctr:rw", "invalid volume specification: '/ctr:rw'"),
            ("/a:/b:/c:/d", "invalid volume specification: '/a:/b:/c:/d'"),
            ("/a:/b:bogus", "invalid mode: bogus"),
            ("/a:/b:ro,rw", "invalid mode: ro,rw"),
            ("/a:/b:z,Z", "invalid mode: z,Z"),
            ("/a:/b:shared,slave", "invalid mode: shared,slave"),
            ("/a:/", "invalid specification: destination can't be '/'"),
            (
                "/a:rel",
                "invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute",
            ),
            (
                "./rel:/x",
                "\"./rel\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path",
            ),
        ];
        for (raw, msg) in table {
            assert_eq!(parse_volume(raw).unwrap_err().to_string(), msg, "{raw}");
        }
        assert!(
            parse_volume("x:/y").is_err(),
            "one-char volume names are invalid"
        );
        assert!(parse_volume("/a:/b:").is_ok(), "an empty mode is allowed");
        assert!(
            parse_volume("/a:/b:nocopy").is_err(),
            "nocopy is for volumes"
        );
        assert!(parse_volume("v1:/b:nocopy").is_ok());
    }

    #[test]
    fn mount_forms() {
        assert_eq!(
            parse_mount("type=bind,src=/h,dst=/c").unwrap(),
            bind("/h", "/c", false, None, false)
        );
        assert_eq!(
            parse_mount("type=bind,source=/h,target=/c,readonly").unwrap(),
            bind("/h", "/c", true, None, false)
        );
        assert_eq!(
            parse_mount("Type=bind,Source=/h,Destination=/c,ro=false,bind-propagation=rslave")
                .unwrap(),
            bind("/h", "/c", false, Some("rslave"), false)
        );
        assert_eq!(
            parse_mount("\"type=bind\",\"src=/a,b\",dst=/c").unwrap(),
            bind("/a,b", "/c", false, None, false)
        );
        assert_eq!(
            parse_mount("src=vol,dst=/data").unwrap(),
            vol(Some("vol"), "/data", false)
        );
        assert_eq!(
            parse_mount("type=volume,dst=/data,readonly=1").unwrap(),
            vol(None, "/data", true)
        );
        assert_eq!(
            parse_mount("type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770").unwrap(),
            BindOrVolume::Tmpfs(TmpfsMount {
                destination: "/t".into(),
                options: vec!["size=64m".into(), "mode=1770".into()]
            })
        );
        assert_eq!(
            parse_mount("type=tmpfs,dst=/t,tmpfs-size=1000,ro").unwrap(),
            BindOrVolume::Tmpfs(TmpfsMount {
                destination: "/t".into(),
                options: vec!["size=1000".into(), "ro".into()]
            })
        );
    }

    #[test]
    fn mount_errors() {
        let table = [
            ("type=bind,src=/h", "target is required"),
            (
                "type=bind,dst=/c",
                "invalid mount config for type \"bind\": field Source must not be empty",
            ),
            (
                "type=bind,src=/h,dst=/c,tmpfs-size=1m",
                "cannot mix 'tmpfs-*' options with mount type 'bind'",
            ),
            (
                "type=volume,dst=/c,bind-propagation=rslave",
                "cannot mix 'bind-*' options with mount type 'volume'",
            ),
            (
                "type=bind,src=/h,dst=/c,bogus=1",
                "unexpected key 'bogus' in 'bogus=1'",
            ),
            (
                "type=bind,src=/h,dst=/c,src",
                "invalid field 'src' must be a key=value pair",
            ),
            (
                "type=bind,src=/h,dst=/c,readonly=maybe",
                "invalid value for readonly: maybe",
            ),
            (
                "type=tmpfs,src=x,dst=/c",
                "invalid mount config for type \"tmpfs\": field Source must be empty",
            ),
        ];
        for (raw, msg) in table {
            assert_eq!(parse_mount(raw).unwrap_err().to_string(), msg, "{raw}");
        }
        assert!(matches!(
            parse_mount("type=npipe,src=/a,dst=/b"),
            Err(SpecError::Unsupported(_))
        ));
    }

    #[test]
    fn tmpfs() {
        assert_eq!(
            parse_tmpfs("/run").unwrap(),
            TmpfsMount {
                destination: "/run".into(),
                options: vec![]
            }
        );
        assert_eq!(
            parse_tmpfs("/run:size=64m,exec,mode=1777").unwrap().options,
            vec!["size=64m", "exec", "mode=1777"]
        );
        assert!(parse_tmpfs("run").is_err());
        assert!(parse_tmpfs("/").is_err());
        assert_eq!(
            parse_tmpfs("/x:bogus").unwrap_err().to_string(),
            "invalid tmpfs option \"bogus\""
        );
    }

    #[test]
    fn tmpfs_merge_as_docker() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            merge_tmpfs_options(&[]),
            s(&["noexec", "nosuid", "nodev", "rprivate"])
        );
        assert_eq!(
            merge_tmpfs_options(&s(&["size=64m", "exec", "mode=1777"])),
            s(&[
                "nosuid",
                "nodev",
                "rprivate",
                "size=64m",
                "exec",
                "mode=1777"
            ])
        );
        assert_eq!(
            merge_tmpfs_options(&s(&["size=1m", "ro", "size=2m", "shared"])),
            s(&["noexec", "nosuid", "nodev", "ro", "size=2m", "shared"])
        );
    }

    #[test]
    fn ulimits() {
        assert_eq!(
            parse_ulimit("nofile=1024:2048").unwrap(),
            Ulimit {
                resource: Resource::Nofile,
                soft: 1024,
                hard: 2048
            }
        );
        assert_eq!(
            parse_ulimit("nproc=100").unwrap(),
            Ulimit {
                resource: Resource::Nproc,
                soft: 100,
                hard: 100
            }
        );
        assert_eq!(
            parse_ulimit("core=-1").unwrap(),
            Ulimit {
                resource: Resource::Core,
                soft: UNLIMITED,
                hard: UNLIMITED
            }
        );
        let errs = [
            ("nofile", "invalid ulimit argument: nofile"),
            ("bogus=1", "invalid ulimit type: bogus"),
            (
                "nofile=2048:1024",
                "ulimit soft limit must be less than or equal to hard limit: 2048 > 1024",
            ),
            (
                "nofile=1:2:3",
                "too many limit value arguments - 1:2:3, can only have up to two, `soft[:hard]`",
            ),
        ];
        for (raw, msg) in errs {
            assert_eq!(parse_ulimit(raw).unwrap_err().to_string(), msg, "{raw}");
        }
        assert!(parse_ulimit("nofile=x").is_err());
        assert!(parse_ulimit("nofile=-2").is_err());
    }

    #[test]
    fn env_file_as_docker() {
        let lookup = |k: &str| (k == "FROM_HOST").then(|| "hostval".to_string());
        let text = "\u{feff}# comment\n\
            \n\
            A=1\n   B=two words \n\
            \tC=\n\
            FROM_HOST\n\
            NOT_SET\n\
            D=x=y\r\n\
            E=\"quoted\"\n  # indented comment\n";
        assert_eq!(
            parse_env_file(text, &lookup).unwrap(),
            vec![
                "A=1",
                "B=two words ",
                "C=",
                "FROM_HOST=hostval",
                "D=x=y",
                "E=\"quoted\""
            ]
        );
        assert_eq!(
            parse_env_file("=x\n", &lookup).unwrap_err().to_string(),
            "no variable name on line '=x'"
        );
        assert_eq!(
            parse_env_file("A B=1\n", &lookup).unwrap_err().to_string(),
            "variable 'A B' contains whitespaces"
        );
    }

    #[test]
    fn labels() {
        let l = parse_labels(&["a=1".into(), "b".into(), "c=x=y".into(), "a=2".into()]).unwrap();
        assert_eq!(
            l.into_iter().collect::<Vec<_>>(),
            vec![
                ("a".to_string(), "2".to_string()),
                ("b".to_string(), String::new()),
                ("c".to_string(), "x=y".to_string())
            ]
        );
        assert_eq!(
            parse_labels(&["=v".into()]).unwrap_err().to_string(),
            "invalid label '=v': empty name"
        );
    }

    #[test]
    fn security_opts() {
        let p =
            |v: &[&str]| parse_security_opts(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(p(&["no-new-privileges"]).unwrap().no_new_privileges);
        assert!(p(&["no-new-privileges:true"]).unwrap().no_new_privileges);
        assert!(p(&["no-new-privileges=true"]).unwrap().no_new_privileges);
        assert!(!p(&["no-new-privileges=false"]).unwrap().no_new_privileges);
        assert_eq!(
            p(&["seccomp=unconfined"]).unwrap().seccomp,
            Seccomp::Unconfined
        );
        assert_eq!(
            p(&["seccomp:unconfined"]).unwrap().seccomp,
            Seccomp::Unconfined
        );
        assert_eq!(
            p(&["seccomp=/p.json"]).unwrap().seccomp,
            Seccomp::Profile("/p.json".into())
        );
        assert_eq!(p(&["label=disable"]).unwrap(), SecurityOptions::default());
        assert!(p(&["bogus"]).is_err());
        assert!(p(&["no-new-privileges=maybe"]).is_err());
    }

    #[test]
    fn clean_paths() {
        for (a, b) in [
            ("/", "/"),
            ("/a/b/", "/a/b"),
            ("/a/../../b", "/b"),
            ("//a//./b", "/a/b"),
            ("a/../..", ".."),
            ("", "."),
        ] {
            assert_eq!(clean_path(a), b, "{a}");
        }
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic(s in ".*") {
            let _ = parse_volume(&s);
            let _ = parse_mount(&s);
            let _ = parse_tmpfs(&s);
            let _ = parse_ulimit(&s);
            let _ = parse_env_file(&s, &|_| Some("v".to_string()));
            let _ = parse_security_opts(std::slice::from_ref(&s));
            let _ = parse_labels(std::slice::from_ref(&s));
            let _ = merge_tmpfs_options(std::slice::from_ref(&s));
            let _ = clean_path(&s);
        }

        #[test]
        fn structured_inputs_never_panic(
            a in "[/a-z.:,=\"ZzroSw-]{0,30}",
        ) {
            let _ = parse_volume(&a);
            let _ = parse_mount(&a);
            let _ = parse_tmpfs(&a);
        }
    }
}
