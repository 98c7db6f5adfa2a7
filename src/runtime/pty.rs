//! `process.terminal`: the container's pseudo-terminal and the parent's proxy.
//!
//! # Where the pty comes from
//!
//! As runc/crun with a console socket, the pty is allocated by the container
//! init **inside** the container, from the container's own devpts instance
//! (`/dev/ptmx` → `pts/ptmx`, mounted `newinstance` by the spec): the slave is
//! then `/dev/pts/0` in the container, `tty` names it, and rootless it is
//! owned by the container's user namespace (no host devpts permissions
//! involved). The init ([`setup_slave`]), after pivot_root and before
//! dropping privileges:
//! 1. opens `/dev/ptmx`, unlocks it, opens the slave with `TIOCGPTPEER`;
//! 2. chowns the slave to the process's uid (runc's `fixStdioPermissions`);
//! 3. sends the master to the parent over a socketpair (`SCM_RIGHTS`);
//! 4. `setsid`, `TIOCSCTTY`, and makes the slave its stdin/stdout/stderr
//!    (docker: with `-t` stderr is merged into the terminal).
//!
//! # The parent ([`super::attach_terminal`], over [`super::io::pump`])
//!
//! A single-threaded poll loop over the master, the caller's stdin (only with
//! `-i`: docker does not forward stdin otherwise) and a signalfd of the
//! signals [`super::run_foreground`] blocked: SIGCHLD reaps, SIGWINCH copies
//! the caller's window size to the master, the others are forwarded. With
//! `-i` on a terminal the caller's terminal is put in raw mode (so Ctrl-C is a
//! byte the container's line discipline turns into SIGINT) and restored by a
//! guard on every exit path. The loop ends when the container is reaped and
//! the master is drained (EIO once every slave fd is closed).

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags};
use nix::sys::termios::{SetArg, Termios};

use super::RuntimeError;
use super::init::InitError;

/// A connected pair of CLOEXEC unix stream sockets: (parent, child).
pub(super) fn console_socket() -> Result<(OwnedFd, OwnedFd), RuntimeError> {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
    socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| RuntimeError::sys("creating the console socket", e))
}

fn init_err(what: &str) -> impl FnOnce(Errno) -> InitError + '_ {
    move |errno| InitError::Sys {
        what: what.to_string(),
        errno,
    }
}

/// Container init side (after pivot_root, still root in the namespace).
pub(super) fn setup_slave(socket: &OwnedFd, uid: u32) -> Result<(), InitError> {
    let (master, slave) = open_pty(uid)?;
    send_fd(socket, &master).map_err(init_err("sending the pty master to berth"))?;
    drop(master);
    become_stdio(slave)
}

/// A new pty from the devpts instance of the mount namespace we are in
/// (`/dev/ptmx` must be its `pts/ptmx`), the slave given to `uid`.
/// Returns (master, slave); only the master is CLOEXEC.
pub(super) fn open_pty(uid: u32) -> Result<(OwnedFd, OwnedFd), InitError> {
    // SAFETY: plain syscalls on fds we own; each result is checked.
    unsafe {
        let m = libc::open(
            c"/dev/ptmx".as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        );
        if m < 0 {
            return Err(init_err("opening /dev/ptmx in the container")(Errno::last()));
        }
        let master = OwnedFd::from_raw_fd(m);
        let unlock: libc::c_int = 0;
        if libc::ioctl(m, libc::TIOCSPTLCK, &unlock) < 0 {
            return Err(init_err("unlocking the pty (TIOCSPTLCK)")(Errno::last()));
        }
        let s = libc::ioctl(m, libc::TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY);
        if s < 0 {
            return Err(init_err("opening the pty slave (TIOCGPTPEER)")(
                Errno::last(),
            ));
        }
        let slave = OwnedFd::from_raw_fd(s);
        if uid != 0 && libc::fchown(s, uid, u32::MAX) < 0 {
            return Err(init_err("giving the pty to the container's user")(
                Errno::last(),
            ));
        }
        Ok((master, slave))
    }
}

/// `setsid`, the pty `slave` as controlling terminal and stdin/stdout/stderr.
pub(super) fn become_stdio(slave: OwnedFd) -> Result<(), InitError> {
    let s = slave.as_raw_fd();
    // SAFETY: plain syscalls on fds we own; each result is checked.
    unsafe {
        if libc::setsid() < 0 {
            return Err(init_err("setsid")(Errno::last()));
        }
        if libc::ioctl(s, libc::TIOCSCTTY, 0) < 0 {
            return Err(init_err("making the pty the controlling terminal")(
                Errno::last(),
            ));
        }
        for target in 0..3 {
            if libc::dup2(s, target) < 0 {
                return Err(init_err("making the pty stdin/stdout/stderr")(Errno::last()));
            }
        }
        if s <= 2 {
            // It is one of the stdio fds now: keep it open.
            std::mem::forget(slave);
        }
    }
    Ok(())
}

fn send_fd(socket: &OwnedFd, fd: &OwnedFd) -> Result<(), Errno> {
    let fds = [fd.as_raw_fd()];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    let iov = [IoSlice::new(b"M")];
    loop {
        match nix::sys::socket::sendmsg::<()>(
            socket.as_raw_fd(),
            &iov,
            &cmsg,
            MsgFlags::empty(),
            None,
        ) {
            Err(Errno::EINTR) => continue,
            r => return r.map(|_| ()),
        }
    }
}

/// Parent side: the master sent by [`setup_slave`].
pub(super) fn recv_master(socket: &OwnedFd) -> Result<OwnedFd, RuntimeError> {
    let mut byte = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = loop {
        match nix::sys::socket::recvmsg::<()>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Err(Errno::EINTR) => continue,
            r => break r.map_err(|e| RuntimeError::sys("receiving the pty master", e))?,
        }
    };
    for c in msg
        .cmsgs()
        .map_err(|e| RuntimeError::sys("receiving the pty master", e))?
    {
        if let ControlMessageOwned::ScmRights(fds) = c
            && let Some(&fd) = fds.first()
        {
            // SAFETY: the kernel just installed this fd for us.
            return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
        }
    }
    Err(RuntimeError::Protocol("no pty master received".into()))
}

pub fn is_tty(fd: RawFd) -> bool {
    // SAFETY: isatty on any fd number is harmless.
    unsafe { libc::isatty(fd) == 1 }
}

/// Copies the caller's window size (stdout's terminal, else stdin's) to the
/// master. Nothing when neither is a terminal (docker does the same).
pub fn copy_window_size(master: &impl AsRawFd) {
    for fd in [libc::STDOUT_FILENO, libc::STDIN_FILENO] {
        // SAFETY: winsize is plain data; the ioctls only read/write it.
        unsafe {
            let mut ws: libc::winsize = std::mem::zeroed();
            if libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) == 0 {
                libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws);
                return;
            }
        }
    }
}

/// The caller's terminal in raw mode until dropped.
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    pub fn enter() -> Result<RawMode, RuntimeError> {
        let stdin = std::io::stdin();
        let saved = nix::sys::termios::tcgetattr(stdin.as_fd())
            .map_err(|e| RuntimeError::sys("reading the terminal's settings", e))?;
        let mut raw = saved.clone();
        nix::sys::termios::cfmakeraw(&mut raw);
        nix::sys::termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw)
            .map_err(|e| RuntimeError::sys("putting the terminal in raw mode", e))?;
        Ok(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let stdin = std::io::stdin();
        let _ = nix::sys::termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &self.saved);
    }
}

/// SIGPIPE ignored until dropped: a closed stdout is an EPIPE to handle (the
/// terminal must still be restored), not a sudden death.
pub struct IgnoreSigpipe(libc::sighandler_t);

impl Default for IgnoreSigpipe {
    fn default() -> Self {
        Self::new()
    }
}

impl IgnoreSigpipe {
    pub fn new() -> IgnoreSigpipe {
        // SAFETY: swapping a signal disposition.
        IgnoreSigpipe(unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) })
    }
}

impl Drop for IgnoreSigpipe {
    fn drop(&mut self) {
        // SAFETY: restoring the previous disposition.
        unsafe { libc::signal(libc::SIGPIPE, self.0) };
    }
}
