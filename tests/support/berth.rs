//! Running berth (or any program) the way the integration tests must: as
//! root with berth's directories redirected into a temp dir, or rootless as
//! the unprivileged test user (`BERTH_TEST_USER`, default `berthtest`) with
//! its own HOME and XDG_RUNTIME_DIR. The environment is cleared in both.
//!
//! Root mode sets `BERTH_ROOT=<envdir>/root`, `BERTH_RUNROOT=<envdir>/run`,
//! `BERTH_CONFIG_DIR=<envdir>/config`. Both modes set
//! `PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`, `HOME=<envdir>/home`,
//! `XDG_RUNTIME_DIR=<envdir>/run`, `USER`, `LOGNAME`, `LANG=C.UTF-8`.

use std::ffi::{OsStr, OsString};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use super::IdMap;

pub const DEFAULT_TEST_USER: &str = "berthtest";
pub const TEST_PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
/// Default timeout of the commands [`TestEnv`] builds (a hung berth must not
/// hang CI); override per command with `.timeout(…)`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(180);
const SETPRIV: &str = "/usr/bin/setpriv";

/// How berth runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// As root, data under `<envdir>/root`.
    Root,
    /// As an unprivileged user (the test user when the tests run as root,
    /// else the current user), data under `<home>/.local/share/berth`.
    Rootless,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Root => "root",
            Mode::Rootless => "rootless",
        })
    }
}

/// The user commands run as.
#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
    /// First subordinate uid/gid and their count (from /etc/subuid, /etc/subgid).
    pub subuid: Option<(u32, u32)>,
    pub subgid: Option<(u32, u32)>,
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The modes available to this test process: root and rootless when it runs
/// as root, rootless only otherwise. As root, panics if the test user is not
/// set up (never skips rootless silently).
pub fn modes() -> Vec<Mode> {
    if is_root() {
        let _ = test_user(); // panics with instructions if missing
        vec![Mode::Root, Mode::Rootless]
    } else {
        vec![Mode::Rootless]
    }
}

/// Name of the test user (`$BERTH_TEST_USER` or `berthtest`).
pub fn test_user_name() -> String {
    std::env::var("BERTH_TEST_USER")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_TEST_USER.into())
}

fn sub_range(file: &str, name: &str, id: u32) -> Option<(u32, u32)> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.trim().split(':');
        let (who, start, count) = (f.next()?, f.next()?, f.next()?);
        if who != name && who != id.to_string() {
            return None;
        }
        Some((start.parse().ok()?, count.parse().ok()?))
    })
}

fn lookup_user(name: &str) -> Option<User> {
    let u = nix::unistd::User::from_name(name).ok()??;
    Some(User {
        name: u.name.clone(),
        uid: u.uid.as_raw(),
        gid: u.gid.as_raw(),
        home: u.dir.clone(),
        subuid: sub_range("/etc/subuid", &u.name, u.uid.as_raw()),
        subgid: sub_range("/etc/subgid", &u.name, u.gid.as_raw()),
    })
}

/// The rootless user: the test user when running as root (checked: exists,
/// 65536 subordinate ids, can reach the berth binary), else the current user.
pub fn test_user() -> &'static User {
    static USER: OnceLock<User> = OnceLock::new();
    USER.get_or_init(|| {
        if !is_root() {
            let uid = nix::unistd::getuid();
            let u = nix::unistd::User::from_uid(uid)
                .ok()
                .flatten()
                .unwrap_or_else(|| panic!("current uid {uid} has no passwd entry"));
            return lookup_user(&u.name).unwrap();
        }
        let name = test_user_name();
        let fix = "run `sudo tests/setup-test-user.sh` (creates the user, its /etc/subuid and \
                   /etc/subgid ranges, and makes target/ traversable)";
        let u = lookup_user(&name).unwrap_or_else(|| {
            panic!("rootless tests need the user `{name}`, which does not exist: {fix}")
        });
        for (file, range) in [("/etc/subuid", u.subuid), ("/etc/subgid", u.subgid)] {
            match range {
                Some((_, n)) if n >= 65536 => {}
                Some((_, n)) => {
                    panic!("`{name}` has only {n} ids in {file}, rootless tests need 65536: {fix}")
                }
                None => panic!("`{name}` has no entry in {file}: {fix}"),
            }
        }
        assert_ne!(u.uid, 0, "BERTH_TEST_USER must not be root");
        check_user_can_exec(&u, berth_bin());
        u
    })
}

/// A second unprivileged user with no /etc/subuid nor /etc/subgid entry
/// (`$BERTH_TEST_NOSUB_USER`, default `berthnosub`; created by
/// tests/setup.sh), for berth's single-id fallback. None when the tests do
/// not run as root; panics with the fix when the user is missing or has ranges.
pub fn nosub_user() -> Option<&'static User> {
    static USER: OnceLock<Option<User>> = OnceLock::new();
    USER.get_or_init(|| {
        if !is_root() {
            return None;
        }
        let name = std::env::var("BERTH_TEST_NOSUB_USER")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "berthnosub".into());
        let fix = "run `sudo tests/setup.sh` (creates it with \
                   `BERTH_TEST_USER=berthnosub BERTH_TEST_NO_SUBIDS=1 tests/setup-test-user.sh`)";
        let u = lookup_user(&name).unwrap_or_else(|| {
            panic!("this test needs the user `{name}`, which does not exist: {fix}")
        });
        assert!(
            u.subuid.is_none() && u.subgid.is_none(),
            "`{name}` must have no /etc/subuid or /etc/subgid entry: {fix}"
        );
        assert_ne!(u.uid, 0, "`{name}` must not be root");
        check_user_can_exec(&u, berth_bin());
        Some(u)
    })
    .as_ref()
}

/// The berth binary under test.
pub fn berth_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_berth"))
}

/// Panics with a clear message if `user` cannot execute `bin` (a parent
/// directory without search permission for it, typically).
fn check_user_can_exec(user: &User, bin: &Path) {
    let out = std::process::Command::new(SETPRIV)
        .args(setpriv_args(user))
        .arg("/usr/bin/test")
        .arg("-x")
        .arg(bin)
        .env_clear()
        .output()
        .unwrap_or_else(|e| panic!("cannot run {SETPRIV} (Debian package util-linux): {e}"));
    if out.status.success() {
        return;
    }
    let mut blocked = Vec::new();
    for dir in bin.ancestors().skip(1) {
        if let Ok(m) = std::fs::metadata(dir)
            && m.permissions().mode() & 0o001 == 0
        {
            blocked.push(format!(
                "{} ({:o})",
                dir.display(),
                m.permissions().mode() & 0o7777
            ));
        }
    }
    panic!(
        "the test user `{}` cannot execute {}: directories without search permission for others: [{}]. \
         Fix with `chmod o+x` on them, or run tests/setup-test-user.sh, or use a CARGO_TARGET_DIR \
         the user can reach",
        user.name,
        bin.display(),
        blocked.join(", ")
    );
}

fn setpriv_args(u: &User) -> Vec<String> {
    vec![
        format!("--reuid={}", u.uid),
        format!("--regid={}", u.gid),
        "--init-groups".into(),
        "--".into(),
    ]
}

/// A private berth world: its own data, run and config dirs, removed on drop.
pub struct TestEnv {
    mode: Mode,
    dir: PathBuf,
    /// Some when commands run through setpriv as another user.
    switch_to: Option<User>,
    uid: u32,
    gid: u32,
    user_name: String,
    envs: Vec<(OsString, OsString)>,
}

impl TestEnv {
    /// Creates the env dir (`/tmp/berth-test-<mode>-XXXX`) and its layout.
    /// Panics if `mode` is not available (see [`modes`]).
    pub fn new(mode: Mode) -> TestEnv {
        TestEnv::new_inner(mode, None)
    }

    /// A rootless env for `user` instead of the test user (the tests must
    /// run as root), e.g. [`nosub_user`].
    pub fn rootless_as(user: &User) -> TestEnv {
        assert!(
            is_root(),
            "TestEnv::rootless_as needs the tests to run as root"
        );
        TestEnv::new_inner(Mode::Rootless, Some(user.clone()))
    }

    fn new_inner(mode: Mode, user: Option<User>) -> TestEnv {
        let root = is_root();
        if mode == Mode::Root && !root {
            panic!("Mode::Root needs the tests to run as root (see support::berth::modes())");
        }
        let dir = tempfile::Builder::new()
            .prefix(&format!("berth-test-{mode}-"))
            .tempdir()
            .expect("create env temp dir")
            .keep();
        let (switch_to, uid, gid, user_name) = match mode {
            Mode::Root => (None, 0, 0, "root".to_string()),
            Mode::Rootless => {
                let u = user.unwrap_or_else(|| test_user().clone());
                let (uid, gid, name) = (u.uid, u.gid, u.name.clone());
                (if root { Some(u) } else { None }, uid, gid, name)
            }
        };
        let mut env = TestEnv {
            mode,
            dir,
            switch_to,
            uid,
            gid,
            user_name,
            envs: Vec::new(),
        };
        std::fs::set_permissions(&env.dir, std::fs::Permissions::from_mode(0o711)).unwrap();
        env.chown(&env.dir.clone());
        for sub in ["home", "run", "scratch"] {
            env.mkdir_owned(&env.dir.join(sub));
        }
        let mut envs: Vec<(&str, OsString)> = vec![
            ("PATH", TEST_PATH.into()),
            ("HOME", env.home().into()),
            ("XDG_RUNTIME_DIR", env.dir.join("run").into()),
            ("USER", env.user_name.clone().into()),
            ("LOGNAME", env.user_name.clone().into()),
            ("LANG", "C.UTF-8".into()),
        ];
        if mode == Mode::Root {
            for sub in ["root", "config"] {
                env.mkdir_owned(&env.dir.join(sub));
            }
            envs.push(("BERTH_ROOT", env.dir.join("root").into()));
            envs.push(("BERTH_RUNROOT", env.dir.join("run").into()));
            envs.push(("BERTH_CONFIG_DIR", env.dir.join("config").into()));
        }
        env.envs = envs.into_iter().map(|(k, v)| (k.into(), v)).collect();
        env
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The env dir (everything of this env lives under it).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `HOME` of commands: `<envdir>/home`.
    pub fn home(&self) -> PathBuf {
        self.dir.join("home")
    }

    /// `XDG_RUNTIME_DIR` (both modes) and `BERTH_RUNROOT` (root): `<envdir>/run`.
    pub fn run_dir(&self) -> PathBuf {
        self.dir.join("run")
    }

    /// Where berth keeps its data: `<home>/.local/share/berth` (rootless),
    /// `<envdir>/root` (root).
    pub fn data_dir(&self) -> PathBuf {
        match self.mode {
            Mode::Root => self.dir.join("root"),
            Mode::Rootless => self.home().join(".local/share/berth"),
        }
    }

    /// berth's config file: `<home>/.config/berth/config.toml` (rootless),
    /// `<envdir>/config/config.toml` (root).
    pub fn config_path(&self) -> PathBuf {
        match self.mode {
            Mode::Root => self.dir.join("config/config.toml"),
            Mode::Rootless => self.home().join(".config/berth/config.toml"),
        }
    }

    /// uid/gid/name commands run as.
    pub fn uid(&self) -> u32 {
        self.uid
    }
    pub fn gid(&self) -> u32 {
        self.gid
    }
    pub fn user_name(&self) -> &str {
        &self.user_name
    }

    /// How image ids show on the host in this mode (rootless: the
    /// conventional 0 → user, n → subuid+n-1 mapping).
    pub fn id_map(&self) -> IdMap {
        match self.mode {
            Mode::Root => IdMap::Identity,
            Mode::Rootless => {
                let u = test_user();
                let (subuid, ucount) = u.subuid.expect("no /etc/subuid range");
                let (subgid, gcount) = u.subgid.expect("no /etc/subgid range");
                IdMap::Rootless {
                    uid: u.uid,
                    gid: u.gid,
                    subuid,
                    subgid,
                    count: ucount.min(gcount),
                }
            }
        }
    }

    /// The environment every command gets (on top of a cleared one).
    pub fn envs(&self) -> &[(OsString, OsString)] {
        &self.envs
    }

    /// Adds or replaces a variable for commands built afterwards.
    pub fn set_env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) {
        let key = key.as_ref().to_os_string();
        self.envs.retain(|(k, _)| *k != key);
        self.envs.push((key, value.as_ref().to_os_string()));
    }

    /// A `std::process::Command` running `program` as this env's user with
    /// this env's environment, in `<envdir>/scratch`, stdin from /dev/null
    /// (override with `.stdin(…)`).
    pub fn std_command(&self, program: impl AsRef<OsStr>) -> std::process::Command {
        let mut c = match &self.switch_to {
            Some(u) => {
                let mut c = std::process::Command::new(SETPRIV);
                c.args(setpriv_args(u)).arg(program);
                c
            }
            None => std::process::Command::new(program),
        };
        c.env_clear().envs(self.envs.iter().map(|(k, v)| (k, v)));
        c.current_dir(self.dir.join("scratch"));
        c.stdin(std::process::Stdio::null());
        c
    }

    /// Like [`Self::std_command`], as an `assert_cmd::Command` with [`DEFAULT_TIMEOUT`].
    pub fn command(&self, program: impl AsRef<OsStr>) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::from_std(self.std_command(program));
        c.timeout(DEFAULT_TIMEOUT);
        c
    }

    /// berth, ready for `.args(…)`.
    pub fn berth(&self) -> assert_cmd::Command {
        self.command(berth_bin())
    }

    /// berth with `args`.
    pub fn berth_cmd<I, S>(&self, args: I) -> assert_cmd::Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut c = self.berth();
        c.args(args);
        c
    }

    /// berth as a `std::process::Command` (for `spawn`: `run -it`, `logs -f`…).
    pub fn berth_std(&self) -> std::process::Command {
        self.std_command(berth_bin())
    }

    /// Writes berth's `config.toml`.
    pub fn write_config(&self, toml: &str) {
        self.write_file_owned(&self.config_path(), toml.as_bytes(), 0o644);
    }

    /// Writes `<home>/.docker/config.json` (0600).
    pub fn write_docker_config(&self, json: &str) {
        self.write_file_owned(
            &self.home().join(".docker/config.json"),
            json.as_bytes(),
            0o600,
        );
    }

    /// A fresh directory `<envdir>/scratch/NAME` owned by the env's user
    /// (bind-mount sources, build contexts, `cp` destinations…).
    pub fn scratch_dir(&self, name: &str) -> PathBuf {
        let p = self.dir.join("scratch").join(name);
        self.mkdir_owned(&p);
        p
    }

    /// Writes `path` (creating missing parents inside the env dir), owned by
    /// the env's user.
    pub fn write_file_owned(&self, path: &Path, data: &[u8], mode: u32) {
        if let Some(parent) = path.parent() {
            self.mkdir_owned(parent);
        }
        std::fs::write(path, data).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        self.chown(path);
    }

    /// `mkdir -p`, chowning what it creates to the env's user.
    pub fn mkdir_owned(&self, path: &Path) {
        if path.exists() {
            return;
        }
        if let Some(parent) = path.parent() {
            self.mkdir_owned(parent);
        }
        std::fs::create_dir(path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).unwrap();
        self.chown(path);
    }

    fn chown(&self, path: &Path) {
        if self.switch_to.is_some() {
            std::os::unix::fs::lchown(path, Some(self.uid), Some(self.gid))
                .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
        }
    }
}

impl std::fmt::Debug for TestEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestEnv")
            .field("mode", &self.mode)
            .field("dir", &self.dir)
            .field("user", &self.user_name)
            .finish()
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        if std::env::var_os("BERTH_TEST_KEEP").is_some() {
            eprintln!("BERTH_TEST_KEEP: leaving {}", self.dir.display());
            return;
        }
        kill_processes_using(&self.dir);
        remove_tree(&self.dir);
    }
}

/// SIGKILLs every process (that we may inspect) whose environment, working
/// directory or root is inside `dir`, or (in another mount namespace) whose
/// mounts are: monitors, containers and helpers a test left running. Waits up to 5 s for them to go.
pub fn kill_processes_using(dir: &Path) {
    let me = std::process::id();
    let needle = dir.as_os_str().as_encoded_bytes();
    let mut victims = Vec::new();
    let own_mnt = std::fs::read_link("/proc/self/ns/mnt").ok();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return;
    };
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let base = e.path();
        let in_dir =
            |link: &str| std::fs::read_link(base.join(link)).is_ok_and(|p| p.starts_with(dir));
        let env_hit = std::fs::read(base.join("environ")).is_ok_and(|env| {
            env.split(|&b| b == 0).any(|kv| {
                kv.ends_with(needle)
                    || kv
                        .windows(needle.len() + 1)
                        .any(|w| w[..needle.len()] == *needle && w[needle.len()] == b'/')
            })
        });
        // A container's processes carry none of that (their root is the
        // pivoted overlay), but their mount table names its upper dir,
        // which is in `dir`: once their monitor is killed they would run
        // on, holding addresses on root's berth0.
        // Only in other mount namespaces: a mount of ours under `dir`
        // must not make every process a victim.
        let in_mounts = || {
            std::fs::read_link(base.join("ns/mnt")).is_ok_and(|ns| Some(ns) != own_mnt)
                && std::fs::read(base.join("mountinfo")).is_ok_and(|m| {
                    m.windows(needle.len() + 1)
                        .any(|w| w[..needle.len()] == *needle && w[needle.len()] == b'/')
                })
        };
        if env_hit || in_dir("cwd") || in_dir("root") || in_mounts() {
            victims.push(pid);
        }
    }
    for &pid in &victims {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while victims
        .iter()
        .any(|p| Path::new(&format!("/proc/{p}")).exists())
        && std::time::Instant::now() < deadline
    {
        // Zombies of our own children stay until reaped: don't wait on them.
        let all_zombies = victims.iter().all(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .map(|s| {
                    s.rsplit_once(") ")
                        .is_none_or(|(_, rest)| rest.starts_with('Z'))
                })
                .unwrap_or(true)
        });
        if all_zombies {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Removes a tree berth may have left mounts and subuid-owned files in.
pub fn remove_tree(dir: &Path) {
    if !dir.exists() {
        return;
    }
    if is_root() {
        detach_mounts_under(dir);
        if let Err(e) = std::fs::remove_dir_all(dir) {
            eprintln!("warning: cannot remove {}: {e}", dir.display());
        }
        return;
    }
    if std::fs::remove_dir_all(dir).is_ok() {
        return;
    }
    // Files owned by our subordinate ids: remove them from a user namespace
    // where we are root and the subordinate range is mapped.
    let u = test_user();
    if let (Some((su, n)), Some((sg, m))) = (u.subuid, u.subgid) {
        let status = std::process::Command::new("unshare")
            .arg("--map-root-user")
            .arg(format!("--map-users={su},1,{n}"))
            .arg(format!("--map-groups={sg},1,{m}"))
            .args(["rm", "-rf", "--one-file-system", "--"])
            .arg(dir)
            .status();
        if matches!(status, Ok(s) if s.success()) {
            return;
        }
    }
    eprintln!("warning: cannot remove {}", dir.display());
}

/// Lazily unmounts every mount point at or below `dir`, deepest first.
fn detach_mounts_under(dir: &Path) {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let mut points: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape_mountinfo(p)))
        .filter(|p| p.starts_with(dir))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for p in points {
        let _ = nix::mount::umount2(&p, nix::mount::MntFlags::MNT_DETACH);
    }
}

fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() {
            let digits = std::str::from_utf8(&b[i + 1..i + 4]).unwrap_or("x");
            if let Ok(v) = u8::from_str_radix(digits, 8) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs `f` once per available mode with a fresh [`TestEnv`], then panics
/// listing every mode that failed (each failure's message prefixed with the
/// mode). All modes run even when one fails.
pub fn for_each_mode(mut f: impl FnMut(&mut TestEnv)) {
    let mut failures = Vec::new();
    for mode in modes() {
        let mut env = TestEnv::new(mode);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut env)));
        if let Err(e) = r {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(non-string panic)".into());
            failures.push(format!("[mode {mode}] {msg}"));
        }
    }
    if !failures.is_empty() {
        panic!(
            "failed in {} mode(s):\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
