//! `-u USER[:GROUP]` and `--group-add` against the image's `/etc/passwd` and
//! `/etc/group`, with docker's (runc's libcontainer/user) semantics:
//!
//! - a number is always a uid/gid, whether or not the files list it;
//! - a name must be listed, else `unable to find user x: no matching entries
//!   in passwd file` (a missing file lists nothing);
//! - with no explicit group, the gid is the user's passwd gid (0 when the uid
//!   is not listed) and the supplementary groups are the `/etc/group` entries
//!   naming the user as a member; with an explicit group there are none;
//! - docker puts the primary gid first in the additional gids
//!   (`daemon/oci_linux.go` getUser), then the supplementary ones, then
//!   `--group-add`;
//! - HOME is the passwd home of the matched entry, `/` when there is none
//!   (runc sets it when the environment lacks HOME).
//!
//! Deviation, on purpose: runc parses a malformed passwd line (`#comment`,
//! a non-numeric uid) as uid 0; berth skips such lines.

use super::spec::SpecError;

/// Ids must fit in this range (runc's `minID`..`maxID`).
pub const MAX_ID: u32 = i32::MAX as u32;

/// `-u` split into its parts. `user` may be empty (take the image's or root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    pub user: String,
    pub group: Option<String>,
}

/// `USER[:GROUP]` | `UID[:GID]`. Like runc, anything after a second `:` is
/// ignored.
pub fn parse_user(s: &str) -> Result<UserSpec, SpecError> {
    let mut parts = s.split(':');
    let user = parts.next().unwrap_or("").to_string();
    let group = parts.next().map(str::to_string);
    Ok(UserSpec { user, group })
}

/// The ids and home a process runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    pub uid: u32,
    pub gid: u32,
    /// Primary gid first, then supplementary groups from `/etc/group`.
    pub additional_gids: Vec<u32>,
    pub home: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct GroupEntry<'a> {
    name: &'a str,
    gid: u32,
    members: Vec<&'a str>,
}

fn content_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

fn passwd_entries(text: &str) -> impl Iterator<Item = PasswdEntry<'_>> {
    content_lines(text).filter_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        Some(PasswdEntry {
            name: f.first().copied()?,
            uid: f.get(2)?.parse().ok()?,
            gid: f.get(3)?.parse().ok()?,
            home: f.get(5).copied().unwrap_or(""),
        })
    })
}

fn group_entries(text: &str) -> impl Iterator<Item = GroupEntry<'_>> {
    content_lines(text).filter_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        Some(GroupEntry {
            name: f.first().copied()?,
            gid: f.get(2)?.parse().ok()?,
            members: f
                .get(3)
                .map(|m| {
                    m.split(',')
                        .map(str::trim)
                        .filter(|m| !m.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        })
    })
}

fn parse_id(s: &str) -> Option<Result<u32, SpecError>> {
    // Go's strconv.Atoi: optional sign, decimal digits.
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match s.parse::<i64>() {
        Ok(n) if (0..=MAX_ID as i64).contains(&n) => Some(Ok(n as u32)),
        _ => Some(Err(SpecError::IdRange)),
    }
}

/// Resolve `-u` (or the image's `User`) against the image's passwd and group
/// files (`None`: the file does not exist).
pub fn resolve_user(
    spec: &str,
    passwd: Option<&str>,
    group: Option<&str>,
) -> Result<ResolvedUser, SpecError> {
    let UserSpec {
        user: user_arg,
        group: group_arg,
    } = parse_user(spec)?;
    let uid_num = parse_id(&user_arg).transpose()?;

    let matched = passwd.and_then(|text| {
        passwd_entries(text).find(|e| {
            if user_arg.is_empty() {
                e.uid == 0
            } else if let Some(uid) = uid_num {
                e.uid == uid
            } else {
                e.name == user_arg
            }
        })
    });

    let (uid, mut gid, home, matched_name) = match &matched {
        Some(e) => (e.uid, e.gid, e.home.to_string(), Some(e.name)),
        None if user_arg.is_empty() => (0, 0, "/".to_string(), None),
        None => match uid_num {
            Some(uid) => (uid, 0, "/".to_string(), None),
            None => return Err(SpecError::UserNotFound(user_arg)),
        },
    };
    let home = if home.is_empty() {
        "/".to_string()
    } else {
        home
    };

    let mut supplementary = Vec::new();
    match group_arg.as_deref() {
        Some(g) if !g.is_empty() => {
            let gid_num = parse_id(g).transpose()?;
            let found = group.and_then(|text| {
                group_entries(text).find(|e| match gid_num {
                    Some(n) => e.gid == n,
                    None => e.name == g,
                })
            });
            gid = match (found, gid_num) {
                (Some(e), _) => e.gid,
                (None, Some(n)) => n,
                (None, None) => return Err(SpecError::GroupNotFound(g.to_string())),
            };
        }
        _ => {
            if let (Some(text), Some(name)) = (group, matched_name) {
                supplementary = group_entries(text)
                    .filter(|e| e.members.contains(&name))
                    .map(|e| e.gid)
                    .collect();
            }
        }
    }

    let mut additional_gids = vec![gid];
    additional_gids.extend(supplementary);
    Ok(ResolvedUser {
        uid,
        gid,
        additional_gids,
        home,
    })
}

/// `--group-add` entries: names looked up in `/etc/group`, numbers taken as
/// they are (runc's `GetAdditionalGroups`). Duplicates are dropped.
pub fn resolve_group_add(groups: &[String], group: Option<&str>) -> Result<Vec<u32>, SpecError> {
    let mut out: Vec<u32> = Vec::new();
    for g in groups {
        let found = group.and_then(|text| {
            group_entries(text)
                .find(|e| e.name == g.as_str() || g.parse::<u32>().ok() == Some(e.gid))
                .map(|e| e.gid)
        });
        let gid = match found {
            Some(gid) => gid,
            None => match parse_id(g) {
                Some(r) => r?,
                None => return Err(SpecError::GroupAddNotFound(g.clone())),
            },
        };
        if !out.contains(&gid) {
            out.push(gid);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // busybox's files (trimmed).
    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n\
        daemon:x:1:1:daemon:/usr/sbin:/bin/false\n\
        bin:x:2:2:bin:/bin:/bin/false\n\
        nobody:x:65534:65534:nobody:/home:/bin/false\n\
        www-data:x:33:33:www-data:/var/www:/bin/false\n\
        app:x:1000:1000::/home/app:/bin/sh\n\
        nohome:x:1001:1001:::/bin/sh\n";
    const GROUP: &str = "root:x:0:\n\
        daemon:x:1:\n\
        tty:x:5:\n\
        wheel:x:10:root\n\
        audio:x:29:app,daemon\n\
        video:x:44: app \n\
        www-data:x:33:\n\
        nogroup:x:65534:\n\
        app:x:1000:\n";

    fn r(spec: &str) -> Result<ResolvedUser, SpecError> {
        resolve_user(spec, Some(PASSWD), Some(GROUP))
    }

    fn ok(uid: u32, gid: u32, gids: &[u32], home: &str) -> ResolvedUser {
        ResolvedUser {
            uid,
            gid,
            additional_gids: gids.to_vec(),
            home: home.to_string(),
        }
    }

    #[test]
    fn docker_user_table() {
        let table: &[(&str, ResolvedUser)] = &[
            // docker run busybox id: uid=0(root) gid=0(root) groups=0(root),10(wheel)
            ("", ok(0, 0, &[0, 10], "/root")),
            ("root", ok(0, 0, &[0, 10], "/root")),
            ("0", ok(0, 0, &[0, 10], "/root")),
            ("app", ok(1000, 1000, &[1000, 29, 44], "/home/app")),
            ("1000", ok(1000, 1000, &[1000, 29, 44], "/home/app")),
            ("daemon", ok(1, 1, &[1, 29], "/usr/sbin")),
            // numeric, not in passwd: allowed, gid 0, HOME /
            ("4242", ok(4242, 0, &[0], "/")),
            ("4242:4343", ok(4242, 4343, &[4343], "/")),
            // explicit group: no supplementary groups
            ("app:www-data", ok(1000, 33, &[33], "/home/app")),
            ("app:33", ok(1000, 33, &[33], "/home/app")),
            ("root:tty", ok(0, 5, &[5], "/root")),
            ("1000:1000", ok(1000, 1000, &[1000], "/home/app")),
            ("www-data", ok(33, 33, &[33], "/var/www")),
            // empty home field → /
            ("nohome", ok(1001, 1001, &[1001], "/")),
            // runc ignores anything after a second colon
            ("app:audio:junk", ok(1000, 29, &[29], "/home/app")),
            // empty group part = no explicit group
            ("app:", ok(1000, 1000, &[1000, 29, 44], "/home/app")),
        ];
        for (spec, want) in table {
            assert_eq!(&r(spec).unwrap(), want, "spec {spec:?}");
        }
    }

    #[test]
    fn errors_as_docker() {
        let e = r("nosuchuser").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unable to find user nosuchuser: no matching entries in passwd file"
        );
        let e = r("app:nosuchgroup").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unable to find group nosuchgroup: no matching entries in group file"
        );
        assert!(matches!(r("-1"), Err(SpecError::IdRange)));
        assert!(matches!(r("2147483648"), Err(SpecError::IdRange)));
        assert!(matches!(r("0:99999999999"), Err(SpecError::IdRange)));
        assert_eq!(r("2147483647").unwrap().uid, 2147483647);
    }

    #[test]
    fn missing_files() {
        // No /etc/passwd: numbers work, names do not; root's home is /.
        assert_eq!(resolve_user("", None, None).unwrap(), ok(0, 0, &[0], "/"));
        assert_eq!(
            resolve_user("1000:1000", None, None).unwrap(),
            ok(1000, 1000, &[1000], "/")
        );
        assert!(matches!(
            resolve_user("app", None, None),
            Err(SpecError::UserNotFound(_))
        ));
        assert!(matches!(
            resolve_user("0:wheel", Some(PASSWD), None),
            Err(SpecError::GroupNotFound(_))
        ));
    }

    #[test]
    fn comments_and_garbage_are_skipped() {
        let passwd = "# comment\n\nbroken\nx:x:notanumber:0::/x:\nroot:x:0:0:root:/root:/bin/sh\n";
        assert_eq!(
            resolve_user("", Some(passwd), None).unwrap(),
            ok(0, 0, &[0], "/root")
        );
    }

    #[test]
    fn group_add() {
        let g = |v: &[&str]| {
            resolve_group_add(
                &v.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                Some(GROUP),
            )
        };
        assert_eq!(
            g(&["audio", "44", "777", "audio"]).unwrap(),
            vec![29, 44, 777]
        );
        assert_eq!(
            g(&["nosuch"]).unwrap_err().to_string(),
            "Unable to find group nosuch: no matching entries in group file"
        );
        assert!(resolve_group_add(&["12".into()], None).unwrap() == vec![12]);
    }

    #[test]
    fn parse_user_forms() {
        assert_eq!(
            parse_user("a:b").unwrap(),
            UserSpec {
                user: "a".into(),
                group: Some("b".into())
            }
        );
        assert_eq!(
            parse_user("1000").unwrap(),
            UserSpec {
                user: "1000".into(),
                group: None
            }
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(spec in ".*", passwd in ".*", group in ".*") {
            let _ = resolve_user(&spec, Some(&passwd), Some(&group));
            let _ = resolve_group_add(std::slice::from_ref(&spec), Some(&group));
        }
    }
}
