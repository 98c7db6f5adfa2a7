//! Moving a running container's output (pipes or a pty master) to whoever
//! wants it (the log, the caller's terminal) until it exits, in one poll
//! loop of the single-threaded process that is its parent.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use super::{Container, FORWARDED_SIGNALS, RuntimeError};
use crate::container::logfile::Stream;

/// What the loop watches besides the container's exit.
pub struct Pump {
    /// The container's output ends, and which stream each carries.
    pub outputs: Vec<(OwnedFd, Stream)>,
    /// Bytes from `from` are written to `to` (the caller's stdin to a pty master).
    pub input: Option<Input>,
    /// Forward [`FORWARDED_SIGNALS`] received by this process to the container
    /// (they must be blocked: see [`super::block_signals`]).
    pub forward_signals: bool,
    /// On SIGWINCH, copy this process's terminal size to this pty master.
    pub resize: Option<RawFd>,
}

pub struct Input {
    pub from: RawFd,
    pub to: RawFd,
}

/// Whoever takes the container's output, and may watch fds of its own in
/// the same loop (the monitor's attach socket and health-check timers).
pub trait Watch {
    /// A chunk of output; false to stop reading that stream: our end is
    /// closed, so the container's next write gets EPIPE as if it wrote to
    /// the caller's closed pipe itself.
    fn output(&mut self, stream: Stream, bytes: &[u8]) -> bool;
    /// Adds fds to poll; returns how long the loop may sleep (ms, -1: forever).
    fn fds(&mut self, _fds: &mut Vec<libc::pollfd>) -> i32 {
        -1
    }
    /// After each wake-up: the fds it added, with their `revents`.
    fn ready(&mut self, _fds: &[libc::pollfd]) {}
}

/// A [`Watch`] that is just a sink for output.
pub struct Sink<'a>(pub &'a mut dyn FnMut(Stream, &[u8]) -> bool);

impl Watch for Sink<'_> {
    fn output(&mut self, stream: Stream, bytes: &[u8]) -> bool {
        (self.0)(stream, bytes)
    }
}

/// Runs until the container has exited and its output is drained; every
/// chunk of output goes to `sink` (see [`Watch::output`]). Returns docker's
/// exit status.
pub fn pump(
    container: &mut Container,
    pump: Pump,
    sink: &mut dyn FnMut(Stream, &[u8]) -> bool,
) -> Result<i32, RuntimeError> {
    pump_with(container, pump, &mut Sink(sink))
}

/// [`pump`] with a [`Watch`] that may add fds and timers to the loop.
pub fn pump_with(
    container: &mut Container,
    mut pump: Pump,
    watch: &mut dyn Watch,
) -> Result<i32, RuntimeError> {
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    // Read (and, unless forwarding, dropped) here even so: the caller blocked
    // them, and one left pending would kill it when it unblocks them.
    for s in FORWARDED_SIGNALS {
        mask.add(s);
    }
    let sfd = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(|e| RuntimeError::sys("creating a signalfd", e))?;
    for (fd, _) in &pump.outputs {
        set_nonblocking(fd.as_raw_fd())?;
    }
    // None once a stream has ended (or its reader is gone).
    let mut outputs: Vec<Option<(OwnedFd, Stream)>> = std::mem::take(&mut pump.outputs)
        .into_iter()
        .map(Some)
        .collect();
    let mut pending: Vec<u8> = Vec::new();
    let mut input_open = pump.input.is_some();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if let Some(status) = container.try_reap()? {
            // PID 1 is gone, and with it every process of its pid namespace:
            // no writer is left, what the pipes hold is the last output.
            for (fd, stream) in outputs.iter().flatten() {
                drain(fd, *stream, &mut buf, watch);
            }
            return Ok(status);
        }
        let mut fds = vec![libc::pollfd {
            fd: sfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        let mut slots = Vec::new();
        for (i, out) in outputs.iter().enumerate() {
            if let Some((fd, _)) = out {
                fds.push(pollfd(fd.as_raw_fd(), libc::POLLIN));
                slots.push(i);
            }
        }
        let input = pump.input.as_ref();
        let out_idx = input.filter(|_| !pending.is_empty()).map(|i| {
            fds.push(pollfd(i.to, libc::POLLOUT));
            fds.len() - 1
        });
        let in_idx = input.filter(|_| input_open && pending.is_empty()).map(|i| {
            fds.push(pollfd(i.from, libc::POLLIN));
            fds.len() - 1
        });
        let extra_from = fds.len();
        let timeout = watch.fds(&mut fds);
        // SAFETY: a valid array of pollfds.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
        if r < 0 {
            match Errno::last() {
                Errno::EINTR => continue,
                e => return Err(RuntimeError::sys("poll", e)),
            }
        }
        if fds[0].revents != 0 {
            while let Ok(Some(info)) = sfd.read_signal() {
                match Signal::try_from(info.ssi_signo as i32) {
                    Ok(Signal::SIGCHLD) => {}
                    Ok(Signal::SIGWINCH) if pump.resize.is_some() => {
                        if let Some(master) = pump.resize {
                            // SAFETY: the master outlives the loop (owned by the caller).
                            super::pty::copy_window_size(&unsafe {
                                BorrowedFd::borrow_raw(master)
                            });
                        }
                    }
                    // ESRCH: it is exiting; the SIGCHLD follows.
                    Ok(sig) if pump.forward_signals => {
                        let _ = nix::sys::signal::kill(container.pid, sig);
                    }
                    Ok(_) | Err(_) => {}
                }
            }
        }
        for (k, &i) in slots.iter().enumerate() {
            if fds[k + 1].revents != 0 {
                let ended = match &outputs[i] {
                    Some((fd, stream)) => read_some(fd, *stream, &mut buf, watch),
                    None => false,
                };
                if ended {
                    outputs[i] = None;
                }
            }
        }
        if let (Some(i), Some(input)) = (out_idx, pump.input.as_ref())
            && fds[i].revents != 0
        {
            // SAFETY: the caller keeps `to` open for the loop's life.
            let to = unsafe { BorrowedFd::borrow_raw(input.to) };
            match nix::unistd::write(to, &pending) {
                Ok(n) => {
                    pending.drain(..n);
                }
                Err(Errno::EINTR) | Err(Errno::EAGAIN) => {}
                Err(_) => {
                    pending.clear();
                    input_open = false;
                }
            }
        }
        if let (Some(i), Some(input)) = (in_idx, pump.input.as_ref())
            && fds[i].revents != 0
        {
            // SAFETY: the caller keeps `from` open for the loop's life.
            let from = unsafe { BorrowedFd::borrow_raw(input.from) };
            match nix::unistd::read(from, &mut buf) {
                Ok(0) => input_open = false,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
                Err(Errno::EINTR) | Err(Errno::EAGAIN) => {}
                Err(_) => input_open = false,
            }
        }
        if !input_open && pending.is_empty() {
            pump.input = None;
        }
        watch.ready(&fds[extra_from..]);
    }
}

/// A `pollfd` asking for `events` on `fd`.
pub fn pollfd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// Reads what is available; true at end of stream (EOF, or EIO from a pty
/// master whose slave side is closed).
fn read_some(fd: &OwnedFd, stream: Stream, buf: &mut [u8], watch: &mut dyn Watch) -> bool {
    loop {
        match nix::unistd::read(fd, buf) {
            Ok(0) => return true,
            Ok(n) => {
                if !watch.output(stream, &buf[..n]) {
                    return true;
                }
                if n < buf.len() {
                    return false;
                }
            }
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => return false,
            Err(_) => return true,
        }
    }
}

fn drain(fd: &OwnedFd, stream: Stream, buf: &mut [u8], watch: &mut dyn Watch) {
    while !read_some(fd, stream, buf, watch) {
        // EAGAIN with the namespace gone: nothing more will come.
        if !readable(fd) {
            return;
        }
    }
}

fn readable(fd: &OwnedFd) -> bool {
    let mut p = pollfd(fd.as_raw_fd(), libc::POLLIN);
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut p, 1, 0) > 0 }
}

pub fn set_nonblocking(fd: RawFd) -> Result<(), RuntimeError> {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    // SAFETY: the caller owns fd for this call.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    let flags = fcntl(fd, FcntlArg::F_GETFL).map_err(|e| RuntimeError::sys("F_GETFL", e))?;
    fcntl(
        fd,
        FcntlArg::F_SETFL(OFlag::from_bits_retain(flags) | OFlag::O_NONBLOCK),
    )
    .map(|_| ())
    .map_err(|e| RuntimeError::sys("F_SETFL", e))
}

/// Writes all of `buf` to `fd`, waiting while it is non-blocking and full.
pub fn write_all(fd: RawFd, mut buf: &[u8]) -> Result<(), Errno> {
    // SAFETY: the caller keeps fd open for this call.
    let out = unsafe { BorrowedFd::borrow_raw(fd) };
    while !buf.is_empty() {
        match nix::unistd::write(out, buf) {
            Ok(n) => buf = &buf[n..],
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => {
                let mut p = pollfd(fd, libc::POLLOUT);
                // SAFETY: one valid pollfd.
                unsafe { libc::poll(&mut p, 1, -1) };
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
