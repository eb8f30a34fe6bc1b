//! A listener inside a container's network namespace, on 169.254.170.2:80.
//!
//! A thread of its own enters the namespace (`setns` changes the calling thread only), puts
//! 169.254.170.2/32 on the namespace's loopback with `ip` (a child inherits the thread's
//! namespace) and binds there; the socket stays in that namespace after the thread is gone,
//! and the agent's runtime accepts on it like on any other. Entering a namespace takes root
//! (CAP_SYS_ADMIN), which the agent has, as the ECS agent does.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};

/// The address the SDKs call.
pub(super) const ADDRESS: Ipv4Addr = Ipv4Addr::new(169, 254, 170, 2);
/// The port they call.
pub(super) const PORT: u16 = 80;

/// A non-blocking listener on [`ADDRESS`]:[`PORT`] in the network namespace of process `pid`.
pub(super) fn listen(pid: u32) -> Result<TcpListener, String> {
    std::thread::Builder::new()
        .name("netns-listen".into())
        .spawn(move || listen_here(pid))
        .map_err(|e| format!("cannot start a thread: {e}"))?
        .join()
        .map_err(|_| "the namespace thread panicked".to_string())?
}

/// On a thread that may be moved into another namespace: never a runtime thread.
fn listen_here(pid: u32) -> Result<TcpListener, String> {
    let path = format!("/proc/{pid}/ns/net");
    let ns = std::fs::File::open(&path).map_err(|e| format!("cannot open {path}: {e}"))?;
    nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("cannot enter the network namespace of process {pid}: {e}"))?;
    let address = format!("{ADDRESS}/32");
    let added = std::process::Command::new("ip")
        .args(["addr", "add", &address, "dev", "lo"])
        .output()
        .map_err(|e| format!("cannot run `ip` (install iproute2): {e}"))?;
    // Already there: an agent restarted and serves an adopted container again.
    let stderr = String::from_utf8_lossy(&added.stderr);
    if !added.status.success() && !stderr.contains("File exists") {
        return Err(format!(
            "`ip addr add {address} dev lo` failed: {}",
            stderr.trim()
        ));
    }
    let listener = TcpListener::bind(SocketAddrV4::new(ADDRESS, PORT))
        .map_err(|e| format!("cannot listen on {ADDRESS}:{PORT}: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("cannot make the listener non-blocking: {e}"))?;
    Ok(listener)
}
