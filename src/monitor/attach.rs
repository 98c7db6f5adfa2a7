//! `attach`: a detached container's monitor serves its streams on a unix
//! socket in the container's directory, `attach.sock`; `berth attach`
//! connects to it.
//!
//! Frames both ways are `[kind: u8][length: u32 big-endian][payload]`:
//! monitor → client [`STDOUT`], [`STDERR`] (output as it is logged) and
//! [`EXIT`] (an `i32` status, then the monitor closes); client → monitor
//! [`STDIN`] (bytes for the container's stdin or terminal) and [`RESIZE`]
//! (rows, cols as two `u16`). A client that falls more than [`MAX_BACKLOG`]
//! behind is dropped rather than allowed to stall the container's output.
//!
//! The socket path goes through `/proc/self/fd/N/` of the container
//! directory: a data dir deep enough would otherwise pass the 108-byte limit
//! of `sockaddr_un`.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;

use crate::runtime::io::pollfd;

use crate::container::logfile::Stream;

pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
pub const EXIT: u8 = 3;
pub const RESIZE: u8 = 4;

/// How much unsent output a client may have before it is dropped.
pub const MAX_BACKLOG: usize = 4 << 20;

pub const SOCKET: &str = "attach.sock";

/// The path of `dir/attach.sock` that fits in a `sockaddr_un`, and the fd it
/// goes through (keep it open while the path is used).
fn short_path(dir: &Path) -> io::Result<(OwnedFd, String)> {
    let fd = rustix::fs::open(
        dir,
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )?;
    let path = format!("/proc/self/fd/{}/{SOCKET}", fd.as_raw_fd());
    Ok((fd, path))
}

/// Connects to the monitor of the container whose directory is `dir`.
pub fn connect(dir: &Path) -> io::Result<UnixStream> {
    let (_fd, path) = short_path(dir)?;
    UnixStream::connect(path)
}

pub fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(5 + payload.len());
    f.push(kind);
    f.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Splits complete frames off the front of `buf`.
pub fn take_frames(buf: &mut Vec<u8>) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    let mut at = 0;
    while buf.len() - at >= 5 {
        let len = u32::from_be_bytes(buf[at + 1..at + 5].try_into().expect("4 bytes")) as usize;
        if buf.len() - at - 5 < len {
            break;
        }
        frames.push((buf[at], buf[at + 5..at + 5 + len].to_vec()));
        at += 5 + len;
    }
    buf.drain(..at);
    frames
}

struct Client {
    stream: UnixStream,
    unsent: Vec<u8>,
    received: Vec<u8>,
    gone: bool,
}

/// The monitor's side: the listening socket and its clients.
pub struct Server {
    listener: UnixListener,
    clients: Vec<Client>,
    /// Where clients' stdin goes (the container's stdin pipe or pty master),
    /// and what of it is not written yet.
    input: Option<RawFd>,
    pending_input: Vec<u8>,
    /// The pty master, for resizes.
    terminal: Option<RawFd>,
}

impl Server {
    /// Listens on `dir/attach.sock` (a stale one from a killed monitor is replaced).
    pub fn bind(dir: &Path) -> io::Result<Server> {
        let (_fd, path) = short_path(dir)?;
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path)?;
        listener.set_nonblocking(true)?;
        Ok(Server {
            listener,
            clients: Vec::new(),
            input: None,
            pending_input: Vec::new(),
            terminal: None,
        })
    }

    /// Where the next run's stdin and terminal are (the fds stay owned by the caller).
    pub fn connect_container(&mut self, input: Option<RawFd>, terminal: Option<RawFd>) {
        self.input = input;
        self.terminal = terminal;
        self.pending_input.clear();
    }

    pub fn output(&mut self, stream: Stream, bytes: &[u8]) {
        if self.clients.is_empty() {
            return;
        }
        let kind = match stream {
            Stream::Stdout => STDOUT,
            Stream::Stderr => STDERR,
        };
        let f = frame(kind, bytes);
        for c in &mut self.clients {
            c.unsent.extend_from_slice(&f);
            c.flush();
        }
        self.clients.retain(|c| !c.gone);
    }

    /// The container exited with `code`: every client is told and let go.
    pub fn exited(&mut self, code: i32) {
        let f = frame(EXIT, &code.to_be_bytes());
        for mut c in self.clients.drain(..) {
            c.unsent.extend_from_slice(&f);
            let _ = c.stream.set_nonblocking(false);
            let _ = c
                .stream
                .set_write_timeout(Some(std::time::Duration::from_secs(1)));
            let _ = c.stream.write_all(&c.unsent);
        }
        self.input = None;
        self.terminal = None;
    }

    pub fn fds(&self, fds: &mut Vec<libc::pollfd>) {
        fds.push(pollfd(self.listener.as_raw_fd(), libc::POLLIN));
        for c in &self.clients {
            let mut events = libc::POLLIN;
            if !c.unsent.is_empty() {
                events |= libc::POLLOUT;
            }
            fds.push(pollfd(c.stream.as_raw_fd(), events));
        }
        if let Some(input) = self.input
            && !self.pending_input.is_empty()
        {
            fds.push(pollfd(input, libc::POLLOUT));
        }
    }

    /// Handles what poll reported for the fds [`Server::fds`] added.
    pub fn ready(&mut self, fds: &[libc::pollfd]) {
        let mut fds = fds.iter();
        if fds.next().is_some_and(|p| p.revents != 0) {
            while let Ok((stream, _)) = self.listener.accept() {
                if stream.set_nonblocking(true).is_ok() {
                    self.clients.push(Client {
                        stream,
                        unsent: Vec::new(),
                        received: Vec::new(),
                        gone: false,
                    });
                }
            }
        }
        let mut input = Vec::new();
        let mut resize = None;
        for c in &mut self.clients {
            let Some(p) = fds.next() else { break };
            if p.revents == 0 || p.fd != c.stream.as_raw_fd() {
                continue;
            }
            if p.revents & libc::POLLOUT != 0 {
                c.flush();
            }
            if p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
                c.receive();
                for (kind, payload) in take_frames(&mut c.received) {
                    match kind {
                        STDIN => input.extend_from_slice(&payload),
                        RESIZE if payload.len() == 4 => {
                            let rows = u16::from_be_bytes([payload[0], payload[1]]);
                            let cols = u16::from_be_bytes([payload[2], payload[3]]);
                            resize = Some((rows, cols));
                        }
                        _ => {}
                    }
                }
            }
        }
        self.clients.retain(|c| !c.gone);
        if let (Some((rows, cols)), Some(master)) = (resize, self.terminal) {
            let ws = libc::winsize {
                ws_row: rows,
                ws_col: cols,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            // SAFETY: TIOCSWINSZ reads a winsize.
            unsafe { libc::ioctl(master, libc::TIOCSWINSZ, &ws) };
        }
        if self.input.is_some() {
            self.pending_input.extend_from_slice(&input);
            self.write_input();
        }
    }

    fn write_input(&mut self) {
        let Some(fd) = self.input else { return };
        // SAFETY: the caller keeps the container's stdin open while connected.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        while !self.pending_input.is_empty() {
            match nix::unistd::write(fd, &self.pending_input) {
                Ok(n) => {
                    self.pending_input.drain(..n);
                }
                Err(nix::errno::Errno::EINTR) => {}
                Err(nix::errno::Errno::EAGAIN) => return,
                Err(_) => {
                    self.pending_input.clear();
                    self.input = None;
                    return;
                }
            }
        }
    }
}

impl Client {
    fn flush(&mut self) {
        while !self.unsent.is_empty() {
            match self.stream.write(&self.unsent) {
                Ok(0) => {
                    self.gone = true;
                    return;
                }
                Ok(n) => {
                    self.unsent.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.gone = true;
                    return;
                }
            }
        }
        if self.unsent.len() > MAX_BACKLOG {
            self.gone = true;
        }
    }

    fn receive(&mut self) {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    self.gone = true;
                    return;
                }
                Ok(n) => self.received.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.gone = true;
                    return;
                }
            }
        }
    }
}

/// The key sequence that detaches a client (docker's default ctrl-p,ctrl-q).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetachKeys {
    keys: Vec<u8>,
    matched: usize,
}

impl Default for DetachKeys {
    fn default() -> Self {
        DetachKeys {
            keys: vec![0x10, 0x11],
            matched: 0,
        }
    }
}

impl DetachKeys {
    /// docker's `--detach-keys` format: comma-separated keys, each a single
    /// character or `ctrl-X` (X a letter or one of `@[\]^_`).
    pub fn parse(spec: &str) -> Result<DetachKeys, String> {
        let invalid = || format!("Invalid detach keys ({spec}) provided");
        let mut keys = Vec::new();
        for key in spec.split(',') {
            let code = match key.strip_prefix("ctrl-") {
                Some(x) if x.len() == 1 => {
                    let c = x.as_bytes()[0].to_ascii_lowercase();
                    match c {
                        b'a'..=b'z' => c - b'a' + 1,
                        b'@' => 0,
                        b'[' => 27,
                        b'\\' => 28,
                        b']' => 29,
                        b'^' => 30,
                        b'_' => 31,
                        _ => return Err(invalid()),
                    }
                }
                None if key.len() == 1 => key.as_bytes()[0],
                _ => return Err(invalid()),
            };
            keys.push(code);
        }
        if keys.is_empty() {
            return Err(invalid());
        }
        Ok(DetachKeys { keys, matched: 0 })
    }

    /// Feeds typed bytes; the index just past the completed sequence, if it
    /// completes in `data` (it may have started in an earlier read).
    pub fn feed(&mut self, data: &[u8]) -> Option<usize> {
        for (i, &b) in data.iter().enumerate() {
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    self.matched = 0;
                    return Some(i + 1);
                }
            } else {
                self.matched = usize::from(b == self.keys[0]);
            }
        }
        None
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Writes a whole frame to a (blocking) stream.
pub fn send(stream: &mut impl Write, kind: u8, payload: &[u8]) -> io::Result<()> {
    stream.write_all(&frame(kind, payload))
}

/// The fd a client polls.
pub fn raw(stream: &UnixStream) -> BorrowedFd<'_> {
    stream.as_fd()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_wait_for_their_end() {
        let mut buf = frame(STDOUT, b"hello");
        buf.extend_from_slice(&frame(EXIT, &3i32.to_be_bytes()));
        let partial = frame(STDERR, b"later");
        buf.extend_from_slice(&partial[..4]);
        let got = take_frames(&mut buf);
        assert_eq!(
            got,
            vec![(STDOUT, b"hello".to_vec()), (EXIT, vec![0, 0, 0, 3])]
        );
        assert_eq!(buf, partial[..4]);
        buf.extend_from_slice(&partial[4..]);
        assert_eq!(take_frames(&mut buf), vec![(STDERR, b"later".to_vec())]);
        assert!(buf.is_empty());
    }

    #[test]
    fn the_detach_sequence_is_found_across_reads() {
        let mut keys = DetachKeys::default();
        assert_eq!(keys.feed(b"ab\x10\x11cd"), Some(4));
        assert_eq!(keys.feed(b"\x10"), None);
        assert_eq!(keys.feed(b"\x11"), Some(1));
        assert_eq!(keys.feed(b"\x10x\x11"), None);
        let mut custom = DetachKeys::parse("ctrl-a,x").unwrap();
        assert_eq!(custom.feed(b"\x01\x01x"), Some(3));
        assert_eq!(DetachKeys::parse("ctrl-\\").unwrap().keys, vec![28]);
        assert!(DetachKeys::parse("ctrl-ab").is_err());
        assert!(DetachKeys::parse("").is_err());
    }
}

/// How `berth attach` connects the caller's terminal to a container.
pub struct ClientOptions {
    /// Send the caller's stdin (`--no-stdin` clears it; only when the
    /// container keeps stdin open).
    pub stdin: bool,
    /// The container has a terminal: raw mode, resizes, detach keys.
    pub tty: bool,
    /// Forward SIGINT/SIGTERM/… to this pid (`--sig-proxy`, no terminal).
    pub proxy_to: Option<i32>,
    /// `--detach-keys` (terminal only).
    pub detach_keys: DetachKeys,
}

/// What ended an attach session.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// The container exited with this status.
    Exited(i32),
    /// The user typed the detach keys; the container runs on.
    Detached,
    /// The monitor went away without a status.
    Lost,
}

/// Proxies the caller's stdio to a connected monitor until the container
/// exits or the user detaches. Single-threaded: a poll loop over stdin, the
/// socket and a signalfd.
pub fn run_client(mut stream: UnixStream, opts: &ClientOptions) -> io::Result<Ended> {
    use nix::sys::signal::{SigSet, SigmaskHow, Signal};
    use nix::sys::signalfd::{SfdFlags, SignalFd};

    let mut mask = SigSet::empty();
    mask.add(Signal::SIGWINCH);
    for s in crate::runtime::FORWARDED_SIGNALS {
        mask.add(s);
    }
    let mut old = SigSet::empty();
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&mask), Some(&mut old))?;
    let sfd = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
    let _sigpipe = crate::runtime::pty::IgnoreSigpipe::new();
    let stdin_tty = crate::runtime::pty::is_tty(libc::STDIN_FILENO);
    let _raw = if opts.tty && opts.stdin && stdin_tty {
        crate::runtime::pty::RawMode::enter().ok()
    } else {
        None
    };
    if opts.tty {
        send_size(&mut stream);
    }
    let result = client_loop(&mut stream, opts, &sfd);
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    result
}

fn send_size(stream: &mut UnixStream) {
    for fd in [libc::STDOUT_FILENO, libc::STDIN_FILENO] {
        // SAFETY: winsize is plain data; TIOCGWINSZ only writes it.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0 {
            let mut p = ws.ws_row.to_be_bytes().to_vec();
            p.extend_from_slice(&ws.ws_col.to_be_bytes());
            let _ = send(stream, RESIZE, &p);
            return;
        }
    }
}

fn client_loop(
    stream: &mut UnixStream,
    opts: &ClientOptions,
    sfd: &nix::sys::signalfd::SignalFd,
) -> io::Result<Ended> {
    use nix::sys::signal::Signal;

    let mut stdin_open = opts.stdin;
    let mut detach = opts.detach_keys.clone();
    let mut received = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let mut fds = vec![
            pollfd(stream.as_raw_fd(), libc::POLLIN),
            pollfd(sfd.as_raw_fd(), libc::POLLIN),
        ];
        if stdin_open {
            fds.push(pollfd(libc::STDIN_FILENO, libc::POLLIN));
        }
        // SAFETY: a valid array of pollfds.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if fds[1].revents != 0 {
            while let Ok(Some(info)) = sfd.read_signal() {
                match Signal::try_from(info.ssi_signo as i32) {
                    Ok(Signal::SIGWINCH) if opts.tty => send_size(stream),
                    Ok(sig) => {
                        if let Some(pid) = opts.proxy_to {
                            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
                        }
                    }
                    Err(_) => {}
                }
            }
        }
        if stdin_open && fds[2].revents != 0 {
            match nix::unistd::read(std::io::stdin().as_fd(), &mut buf) {
                Ok(0) | Err(_) => stdin_open = false,
                Ok(n) => {
                    let data = &buf[..n];
                    if opts.tty
                        && let Some(end) = detach.feed(data)
                    {
                        // What came before the keys still goes.
                        let before = end.saturating_sub(detach.len());
                        if before > 0 {
                            let _ = send(stream, STDIN, &data[..before]);
                        }
                        return Ok(Ended::Detached);
                    }
                    if send(stream, STDIN, data).is_err() {
                        stdin_open = false;
                    }
                }
            }
        }
        if fds[0].revents != 0 {
            let n = match stream.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => 0,
            };
            if n == 0 {
                return Ok(Ended::Lost);
            }
            received.extend_from_slice(&buf[..n]);
            for (kind, payload) in take_frames(&mut received) {
                match kind {
                    STDOUT => {
                        let _ = crate::runtime::io::write_all(libc::STDOUT_FILENO, &payload);
                    }
                    STDERR => {
                        let _ = crate::runtime::io::write_all(libc::STDERR_FILENO, &payload);
                    }
                    EXIT if payload.len() == 4 => {
                        let code = i32::from_be_bytes(payload[..4].try_into().expect("4 bytes"));
                        return Ok(Ended::Exited(code));
                    }
                    _ => {}
                }
            }
        }
    }
}
