//! User namespaces for rootless work.
//!
//! An unprivileged user owns one uid (its own) plus the ranges `/etc/subuid`
//! and `/etc/subgid` grant it. Inside a user namespace whose map is
//! `0 → caller` and `1.. → subuids`, "root" can give files any owner an image
//! asks for, and the kernel stores the real (sub)uids on disk. Only the setuid
//! helpers `newuidmap`/`newgidmap` (Debian package `uidmap`) may write such a
//! map, and only from outside the namespace, so entering one is a handshake:
//!
//! 1. the parent starts `berth internal --userns …` (a fresh, single-threaded
//!    process: `unshare(CLONE_NEWUSER)` fails in a threaded one);
//! 2. the child unshares its user namespace and writes [`READY`] on stdout;
//! 3. the parent runs newuidmap/newgidmap on the child's pid and writes [`GO`]
//!    on the child's stdin;
//! 4. the child is now root in the namespace and does its work.
//!
//! As root none of this happens: helpers run without a user namespace.
//!
//! Two variants of the standard map:
//! - without a range in /etc/subuid or /etc/subgid, only the caller's own
//!   ids are mapped (to root), which a process may write itself without
//!   newuidmap ([`IdMapping::for_caller_or_single`] says so in a warning;
//!   unpacking then gives every file owner 0);
//! - a container may keep the caller's ids ([`IdMapping::keep_id`], podman's
//!   `--userns=keep-id`): `container/spec` builds that map per container and
//!   the runtime writes whatever `linux.uidMappings` says.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::paths::Paths;

/// Written by the child once it is in its new user namespace.
pub const READY: u8 = b'R';
/// Written by the parent once the id maps are in place.
pub const GO: u8 = b'G';

#[derive(Debug, thiserror::Error)]
pub enum UsernsError {
    #[error(
        "no subordinate {kind} range for user {user} in {file}: rootless berth needs one to give image files their owners.\n\
         Fix: as root, run `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user}`"
    )]
    NoRange {
        kind: &'static str,
        user: String,
        file: &'static str,
    },
    #[error(
        "{0} not found: install the Debian package `uidmap` (it provides newuidmap and newgidmap)"
    )]
    HelperMissing(&'static str),
    #[error("{helper} failed for pid {pid}: {stderr}")]
    HelperFailed {
        helper: &'static str,
        pid: u32,
        stderr: String,
    },
    #[error("starting berth helper process: {0}")]
    Spawn(io::Error),
    #[error("berth helper process did not enter its user namespace: {0}")]
    Handshake(String),
    #[error(
        "creating a user namespace: {0} (is kernel.unprivileged_userns_clone or user.max_user_namespaces 0?)"
    )]
    Unshare(nix::Error),
}

/// One line of an id map: `size` ids from `container` up map to `host` up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    pub container: u32,
    pub host: u32,
    pub size: u32,
}

/// The uid and gid maps berth uses for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdMapping {
    pub uids: Vec<IdRange>,
    pub gids: Vec<IdRange>,
}

impl IdMapping {
    /// `0 → caller` plus `1.. → ` the caller's subordinate ranges.
    pub fn for_caller(paths: &Paths) -> Result<IdMapping, UsernsError> {
        let user = user_name(paths.uid);
        let uids = subordinate_ranges(Path::new("/etc/subuid"), &user, paths.uid);
        let gids = subordinate_ranges(Path::new("/etc/subgid"), &user, paths.uid);
        if uids.is_empty() {
            return Err(UsernsError::NoRange {
                kind: "uid",
                user,
                file: "/etc/subuid",
            });
        }
        if gids.is_empty() {
            return Err(UsernsError::NoRange {
                kind: "gid",
                user,
                file: "/etc/subgid",
            });
        }
        Ok(IdMapping {
            uids: stack(paths.uid, &uids),
            gids: stack(paths.gid, &gids),
        })
    }

    /// [`IdMapping::for_caller`]; when the caller has no subordinate range,
    /// [`IdMapping::single`] and a warning naming the file and the fix.
    pub fn for_caller_or_single(paths: &Paths) -> (IdMapping, Option<String>) {
        match IdMapping::for_caller(paths) {
            Ok(m) => (m, None),
            Err(UsernsError::NoRange { kind, user, file }) => (
                IdMapping::single(paths),
                Some(format!(
                    "no subordinate {kind} range for user {user} in {file}: running with a single-id \
                     user namespace (only container root is mapped, to you; image files owned by \
                     other users become root's, and containers cannot switch to other users).\n\
                     Fix: as root, run `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user}`"
                )),
            ),
            Err(e) => unreachable!("for_caller only fails for a missing range: {e}"),
        }
    }

    /// Only the caller's own ids, mapped to root: what an unprivileged process
    /// may set up without newuidmap. Files keep one owner.
    pub fn single(paths: &Paths) -> IdMapping {
        IdMapping {
            uids: vec![IdRange {
                container: 0,
                host: paths.uid,
                size: 1,
            }],
            gids: vec![IdRange {
                container: 0,
                host: paths.gid,
                size: 1,
            }],
        }
    }

    /// Whether only one uid (and one gid) is mapped: what an unprivileged
    /// process may write itself (the fallback without /etc/subuid ranges).
    pub fn is_single(&self) -> bool {
        self.uids.len() == 1 && self.uids[0].size == 1 && self.gids.len() == 1
    }

    /// The caller's own host uid and gid: container root in the mappings
    /// [`IdMapping::for_caller`] and [`IdMapping::single`] build.
    pub fn owner(&self) -> (u32, u32) {
        let own = |ranges: &[IdRange]| {
            ranges
                .iter()
                .find(|r| r.container == 0 && r.size == 1)
                .or(ranges.first())
                .map_or(0, |r| r.host)
        };
        (own(&self.uids), own(&self.gids))
    }

    /// podman's `--userns=keep-id`: the caller's uid appears as container
    /// uid `uid` and its gid as container gid `gid`; the subordinate ids fill
    /// container ids from 0 up, skipping those two (so container root is the
    /// first subordinate id). Starts from a mapping built by
    /// [`IdMapping::for_caller`] or [`IdMapping::single`]; with the latter
    /// only `uid`/`gid` are mapped.
    pub fn keep_id(&self, uid: u32, gid: u32) -> IdMapping {
        let (own_uid, own_gid) = self.owner();
        IdMapping {
            uids: keep(&self.uids, own_uid, uid),
            gids: keep(&self.gids, own_gid, gid),
        }
    }
}

impl IdMapping {
    /// The maps of the user namespace process `pid` is in, as this process
    /// sees them (`/proc/PID/uid_map`: host ids when read from the host).
    pub fn of_process(pid: i32) -> io::Result<IdMapping> {
        let read = |file: &str| -> io::Result<Vec<IdRange>> {
            let text = fs::read_to_string(format!("/proc/{pid}/{file}"))?;
            text.lines()
                .map(|line| {
                    let n: Vec<u32> = line
                        .split_whitespace()
                        .filter_map(|w| w.parse().ok())
                        .collect();
                    match n[..] {
                        [container, host, size] => Ok(IdRange {
                            container,
                            host,
                            size,
                        }),
                        _ => Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("/proc/{pid}/{file}: bad line {line:?}"),
                        )),
                    }
                })
                .collect()
        };
        Ok(IdMapping {
            uids: read("uid_map")?,
            gids: read("gid_map")?,
        })
    }

    /// Whether both map the same container ids to the same host ids,
    /// however the ranges are cut.
    pub fn same_ids(&self, other: &IdMapping) -> bool {
        normalized(&self.uids) == normalized(&other.uids)
            && normalized(&self.gids) == normalized(&other.gids)
    }

    /// This mapping (container → host ids) for a user namespace nested in
    /// one whose mapping is `parent`: the same container ids, mapped to the
    /// parent's container ids of the same host ids. An error names an id
    /// the parent does not map.
    pub fn nested_in(&self, parent: &IdMapping) -> Result<IdMapping, String> {
        Ok(IdMapping {
            uids: relative(&self.uids, &parent.uids, "uid")?,
            gids: relative(&self.gids, &parent.gids, "gid")?,
        })
    }
}

/// Ranges sorted by container id, adjacent ones merged.
fn normalized(ranges: &[IdRange]) -> Vec<IdRange> {
    let mut sorted = ranges.to_vec();
    sorted.sort_by_key(|r| r.container);
    let mut out: Vec<IdRange> = Vec::new();
    for r in sorted.into_iter().filter(|r| r.size > 0) {
        match out.last_mut() {
            Some(last)
                if last.container.checked_add(last.size) == Some(r.container)
                    && last.host.checked_add(last.size) == Some(r.host) =>
            {
                last.size += r.size
            }
            _ => out.push(r),
        }
    }
    out
}

fn relative(ranges: &[IdRange], parent: &[IdRange], kind: &str) -> Result<Vec<IdRange>, String> {
    let mut out = Vec::new();
    for r in ranges {
        let (mut container, mut host, mut left) =
            (r.container, u64::from(r.host), u64::from(r.size));
        while left > 0 {
            let piece = parent.iter().find(|p| {
                u64::from(p.host) <= host && host < u64::from(p.host) + u64::from(p.size)
            });
            let Some(p) = piece else {
                return Err(format!(
                    "host {kind} {host} is not mapped in the shared user namespace"
                ));
            };
            let offset = host - u64::from(p.host);
            let len = left.min(u64::from(p.size) - offset);
            out.push(IdRange {
                container,
                host: p.container + offset as u32,
                size: len as u32,
            });
            container = container.saturating_add(len as u32);
            host += len;
            left -= len;
        }
    }
    Ok(out)
}

/// Writes `ranges` as `/proc/PID/{file}` (`uid_map` or `gid_map`) in one
/// write: what a process with CAP_SETUID/CAP_SETGID in the parent user
/// namespace may do for a child namespace without newuidmap.
pub fn write_map_direct(pid: i32, file: &str, ranges: &[IdRange]) -> io::Result<()> {
    let text: String = ranges
        .iter()
        .map(|r| format!("{} {} {}\n", r.container, r.host, r.size))
        .collect();
    fs::OpenOptions::new()
        .write(true)
        .open(format!("/proc/{pid}/{file}"))?
        .write_all(text.as_bytes())
}

/// `target → own`, every other host id of `ranges` (the caller's own one
/// excepted) laid out from container 0 up, around `target`.
fn keep(ranges: &[IdRange], own: u32, target: u32) -> Vec<IdRange> {
    let mut out = Vec::new();
    let mut next = 0u32;
    for r in ranges
        .iter()
        .filter(|r| !(r.container == 0 && r.size == 1 && r.host == own))
    {
        let (mut host, mut left) = (r.host, r.size);
        while left > 0 {
            if next == target {
                next = next.saturating_add(1);
                continue;
            }
            let len = if next < target {
                left.min(target - next)
            } else {
                left
            };
            out.push(IdRange {
                container: next,
                host,
                size: len,
            });
            next = next.saturating_add(len);
            host = host.saturating_add(len);
            left -= len;
        }
    }
    out.push(IdRange {
        container: target,
        host: own,
        size: 1,
    });
    out.sort_by_key(|r| r.container);
    out
}

fn stack(own: u32, ranges: &[(u32, u32)]) -> Vec<IdRange> {
    let mut out = vec![IdRange {
        container: 0,
        host: own,
        size: 1,
    }];
    let mut next = 1u32;
    for &(start, count) in ranges {
        out.push(IdRange {
            container: next,
            host: start,
            size: count,
        });
        next = next.saturating_add(count);
    }
    out
}

/// The caller's ranges from a subuid/subgid file (lines `name-or-uid:start:count`).
pub fn subordinate_ranges(file: &Path, user: &str, uid: u32) -> Vec<(u32, u32)> {
    let Ok(text) = fs::read_to_string(file) else {
        return Vec::new();
    };
    parse_subordinate(&text, user, uid)
}

fn parse_subordinate(text: &str, user: &str, uid: u32) -> Vec<(u32, u32)> {
    let uid_text = uid.to_string();
    text.lines()
        .filter_map(|line| {
            let mut parts = line.trim().split(':');
            let (who, start, count) = (parts.next()?, parts.next()?, parts.next()?);
            if who != user && who != uid_text {
                return None;
            }
            let (start, count) = (start.parse().ok()?, count.parse::<u32>().ok()?);
            (count > 0).then_some((start, count))
        })
        .collect()
}

fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| uid.to_string())
}

/// Starts `berth internal ARGS…` with piped stdin/stdout. Rootless, the child
/// is placed in a user namespace with `mapping` before this returns; its stdin
/// and stdout are then free for the caller's own protocol.
pub fn spawn_helper<I, S>(
    paths: &Paths,
    mapping: Option<&IdMapping>,
    args: I,
) -> Result<Child, UsernsError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let exe = std::env::current_exe().map_err(UsernsError::Spawn)?;
    let mut cmd = Command::new(exe);
    cmd.arg("internal");
    let mapping = if paths.rootless { mapping } else { None };
    if mapping.is_some() {
        cmd.arg("--userns");
    }
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(UsernsError::Spawn)?;
    if let Some(mapping) = mapping
        && let Err(e) = map_child(&mut child, mapping)
    {
        let _ = child.kill();
        let mut stderr = String::new();
        if let Some(mut err) = child.stderr.take() {
            let _ = err.read_to_string(&mut stderr);
        }
        let _ = child.wait();
        if !stderr.trim().is_empty() {
            return Err(UsernsError::Handshake(stderr.trim().to_string()));
        }
        return Err(e);
    }
    Ok(child)
}

fn map_child(child: &mut Child, mapping: &IdMapping) -> Result<(), UsernsError> {
    let mut byte = [0u8];
    let stdout = child.stdout.as_mut().expect("piped stdout");
    match stdout.read_exact(&mut byte) {
        Ok(()) if byte[0] == READY => {}
        Ok(()) => return Err(UsernsError::Handshake("unexpected handshake byte".into())),
        Err(e) => return Err(UsernsError::Handshake(e.to_string())),
    }
    write_maps(child.id(), mapping)?;
    let stdin = child.stdin.as_mut().expect("piped stdin");
    stdin
        .write_all(&[GO])
        .and_then(|()| stdin.flush())
        .map_err(|e| UsernsError::Handshake(e.to_string()))
}

/// Writes the id maps of process `pid`, which must have just unshared its user namespace.
pub fn write_maps(pid: u32, mapping: &IdMapping) -> Result<(), UsernsError> {
    if mapping.is_single() {
        // An unprivileged process may map its own ids once setgroups is denied.
        let proc = format!("/proc/{pid}");
        let write = |file: &str, text: String| {
            fs::write(format!("{proc}/{file}"), text).map_err(|e| UsernsError::HelperFailed {
                helper: "id map writer",
                pid,
                stderr: format!("{file}: {e}"),
            })
        };
        let (u, g) = (mapping.uids[0], mapping.gids[0]);
        write("uid_map", format!("{} {} 1\n", u.container, u.host))?;
        write("setgroups", "deny".into())?;
        write("gid_map", format!("{} {} 1\n", g.container, g.host))?;
        return Ok(());
    }
    run_id_helper("newuidmap", pid, &mapping.uids)?;
    run_id_helper("newgidmap", pid, &mapping.gids)
}

fn run_id_helper(helper: &'static str, pid: u32, ranges: &[IdRange]) -> Result<(), UsernsError> {
    let mut cmd = Command::new(helper);
    cmd.arg(pid.to_string());
    for r in ranges {
        cmd.arg(r.container.to_string())
            .arg(r.host.to_string())
            .arg(r.size.to_string());
    }
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            UsernsError::HelperMissing(helper)
        } else {
            UsernsError::Spawn(e)
        }
    })?;
    if !out.status.success() {
        return Err(UsernsError::HelperFailed {
            helper,
            pid,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

/// Whether this process's user namespace maps nothing but uid 0 (the
/// single-id fallback): read from `/proc/self/uid_map`.
pub fn only_root_mapped() -> bool {
    let Ok(text) = fs::read_to_string("/proc/self/uid_map") else {
        return false;
    };
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .filter(|f: &Vec<&str>| !f.is_empty())
        .collect();
    matches!(lines.as_slice(), [f] if f.len() == 3 && f[0] == "0" && f[2] == "1")
}

/// The child's half of the handshake; call first thing in `berth internal --userns`,
/// while the process is still single-threaded.
pub fn enter_as_child() -> Result<(), UsernsError> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER).map_err(UsernsError::Unshare)?;
    let mut out = io::stdout().lock();
    out.write_all(&[READY])
        .and_then(|()| out.flush())
        .map_err(|e| UsernsError::Handshake(e.to_string()))?;
    let mut byte = [0u8];
    io::stdin()
        .lock()
        .read_exact(&mut byte)
        .map_err(|e| UsernsError::Handshake(e.to_string()))?;
    if byte[0] != GO {
        return Err(UsernsError::Handshake("unexpected handshake byte".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subordinate_ranges_match_name_or_uid() {
        let text =
            "alice:100000:65536\nbob:200000:65536\n1001:300000:1000\nalice:400000:0\nbroken\n";
        assert_eq!(
            parse_subordinate(text, "alice", 1000),
            vec![(100000, 65536)]
        );
        assert_eq!(parse_subordinate(text, "carol", 1001), vec![(300000, 1000)]);
        assert!(parse_subordinate(text, "dave", 5).is_empty());
    }

    #[test]
    fn a_keep_id_map_nests_in_the_standard_one() {
        let standard = IdMapping {
            uids: stack(1000, &[(100000, 65536)]),
            gids: stack(1000, &[(100000, 65536)]),
        };
        // The standard map nested in itself is the identity.
        let same = standard.nested_in(&standard).unwrap();
        assert_eq!(same.uids, vec![r(0, 0, 1), r(1, 1, 65536)]);
        assert!(standard.same_ids(&standard));
        // keep-id 1000: container 1000 is the caller (parent's 0), the
        // subordinate ids fill 0..999 and 1001.. (parent's 1..).
        let kept = standard.keep_id(1000, 1000);
        assert!(!kept.same_ids(&standard));
        let nested = kept.nested_in(&standard).unwrap();
        assert_eq!(
            nested.uids,
            vec![r(0, 1, 1000), r(1000, 0, 1), r(1001, 1001, 64536)]
        );
        // Cut differently, the same ids.
        let cut = IdMapping {
            uids: vec![r(1, 100000, 10), r(0, 1000, 1), r(11, 100010, 65526)],
            gids: standard.gids.clone(),
        };
        assert!(cut.same_ids(&standard));
        // A range crossing two of the parent's is split.
        let parent = IdMapping {
            uids: vec![r(0, 500, 10), r(10, 900, 10)],
            gids: vec![r(0, 500, 10)],
        };
        let wide = IdMapping {
            uids: vec![r(0, 505, 5)],
            gids: vec![r(0, 500, 1)],
        };
        assert_eq!(wide.nested_in(&parent).unwrap().uids, vec![r(0, 5, 5)]);
        let unmapped = IdMapping {
            uids: vec![r(0, 508, 4)],
            gids: vec![r(0, 500, 1)],
        };
        let err = unmapped.nested_in(&parent).unwrap_err();
        assert!(err.contains("host uid 510"), "{err}");
    }

    #[test]
    fn ranges_stack_after_the_callers_own_id() {
        let m = stack(1000, &[(100000, 65536), (300000, 10)]);
        assert_eq!(
            m,
            vec![
                IdRange {
                    container: 0,
                    host: 1000,
                    size: 1
                },
                IdRange {
                    container: 1,
                    host: 100000,
                    size: 65536
                },
                IdRange {
                    container: 65537,
                    host: 300000,
                    size: 10
                },
            ]
        );
    }

    fn r(container: u32, host: u32, size: u32) -> IdRange {
        IdRange {
            container,
            host,
            size,
        }
    }

    #[test]
    fn keep_id_moves_the_caller_and_fills_around_it() {
        let standard = IdMapping {
            uids: stack(1000, &[(100000, 65536)]),
            gids: stack(1001, &[(200000, 10), (300000, 5)]),
        };
        assert_eq!(standard.owner(), (1000, 1001));
        let k = standard.keep_id(1000, 1001);
        assert_eq!(
            k.uids,
            vec![r(0, 100000, 1000), r(1000, 1000, 1), r(1001, 101000, 64536)]
        );
        // Two subordinate ranges, the kept id beyond both.
        assert_eq!(
            k.gids,
            vec![r(0, 200000, 10), r(10, 300000, 5), r(1001, 1001, 1)]
        );
        // Kept at 0: the subordinate ids follow it.
        assert_eq!(
            standard.keep_id(0, 0).uids,
            vec![r(0, 1000, 1), r(1, 100000, 65536)]
        );
        // Single-id fallback: only the kept id.
        let one = IdMapping {
            uids: vec![r(0, 1000, 1)],
            gids: vec![r(0, 1001, 1)],
        };
        let k = one.keep_id(1000, 1001);
        assert_eq!(
            (k.uids, k.gids),
            (vec![r(1000, 1000, 1)], vec![r(1001, 1001, 1)])
        );
        assert!(one.keep_id(1000, 1001).is_single());
    }
}
