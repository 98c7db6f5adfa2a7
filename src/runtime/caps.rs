//! Capability sets: spec names → bit numbers, and the syscalls that set them.

use nix::errno::Errno;
use oci_spec::runtime::{Capabilities, LinuxCapabilities};

/// Kernel capability numbers by name (include/uapi/linux/capability.h).
pub const NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The five sets as bit masks (bit N = capability N).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapSets {
    pub bounding: u64,
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub ambient: u64,
}

fn mask(set: Option<&Capabilities>) -> Result<u64, String> {
    let mut m = 0u64;
    for cap in set.into_iter().flatten() {
        let name = serde_json::to_value(cap).map_err(|e| e.to_string())?;
        let name = name.as_str().unwrap_or_default().to_string();
        let bit = NAMES
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| format!("unknown capability {name}"))?;
        m |= 1 << bit;
    }
    Ok(m)
}

impl CapSets {
    /// Keeps only capabilities in `available` (this process's bounding set): like
    /// docker, which offers only what it has itself, so `--privileged` works where
    /// berth runs without some capability (root here lacks CAP_SYS_RESOURCE).
    pub fn clamp(self, available: u64) -> CapSets {
        CapSets {
            bounding: self.bounding & available,
            effective: self.effective & available,
            permitted: self.permitted & available,
            inheritable: self.inheritable & available,
            ambient: self.ambient & available,
        }
    }

    /// Missing sets are empty: a spec without capabilities gets none.
    pub fn from_spec(caps: Option<&LinuxCapabilities>) -> Result<CapSets, String> {
        let Some(c) = caps else {
            return Ok(CapSets::default());
        };
        Ok(CapSets {
            bounding: mask(c.bounding().as_ref())?,
            effective: mask(c.effective().as_ref())?,
            permitted: mask(c.permitted().as_ref())?,
            inheritable: mask(c.inheritable().as_ref())?,
            ambient: mask(c.ambient().as_ref())?,
        })
    }
}

/// Highest capability the kernel knows.
pub fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

/// This process's bounding set as a mask.
pub fn current_bounding(last: u32) -> u64 {
    (0..=last)
        .filter(|&cap| {
            // SAFETY: plain prctl with integer arguments.
            unsafe { libc::prctl(libc::PR_CAPBSET_READ, cap as libc::c_ulong, 0, 0, 0) == 1 }
        })
        .fold(0u64, |m, cap| m | (1 << cap))
}

/// Drops every capability not in `keep` from the bounding set (needs CAP_SETPCAP).
pub fn drop_bounding(keep: u64, last: u32) -> Result<(), Errno> {
    for cap in 0..=last {
        if keep & (1 << cap) != 0 {
            continue;
        }
        // SAFETY: plain prctl with integer arguments.
        let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
        if r < 0 {
            let e = Errno::last();
            if e != Errno::EINVAL {
                return Err(e);
            }
        }
    }
    Ok(())
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// capset(2) of this thread's effective, permitted and inheritable sets.
pub fn set_process_caps(s: &CapSets) -> Result<(), Errno> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    for (i, d) in data.iter_mut().enumerate() {
        let shift = 32 * i;
        d.effective = (s.effective >> shift) as u32;
        d.permitted = (s.permitted >> shift) as u32;
        d.inheritable = (s.inheritable >> shift) as u32;
    }
    // SAFETY: header and two data structs as capset(2) documents for version 3.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_mut_ptr()) };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// Clears the ambient set, then raises the requested capabilities.
pub fn set_ambient(ambient: u64, last: u32) -> Result<(), Errno> {
    // SAFETY: plain prctls with integer arguments.
    unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        );
    }
    for cap in 0..=last {
        if ambient & (1 << cap) == 0 {
            continue;
        }
        // SAFETY: as above.
        let r = unsafe {
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
                cap as libc::c_ulong,
                0,
                0,
            )
        };
        if r < 0 {
            return Err(Errno::last());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::{Capability, LinuxCapabilitiesBuilder};

    #[test]
    fn docker_default_set_has_dockers_mask() {
        let set: Capabilities = [
            Capability::Chown,
            Capability::DacOverride,
            Capability::Fsetid,
            Capability::Fowner,
            Capability::Mknod,
            Capability::NetRaw,
            Capability::Setgid,
            Capability::Setuid,
            Capability::Setfcap,
            Capability::Setpcap,
            Capability::NetBindService,
            Capability::SysChroot,
            Capability::Kill,
            Capability::AuditWrite,
        ]
        .into_iter()
        .collect();
        let caps = LinuxCapabilitiesBuilder::default()
            .bounding(set.clone())
            .effective(set.clone())
            .permitted(set)
            .inheritable(Capabilities::new())
            .ambient(Capabilities::new())
            .build()
            .unwrap();
        let s = CapSets::from_spec(Some(&caps)).unwrap();
        assert_eq!(s.bounding, 0xa80425fb);
        assert_eq!(s.effective, 0xa80425fb);
        assert_eq!(s.ambient, 0);
    }
}
