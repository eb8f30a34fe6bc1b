//! A listener inside a container's network namespace, that the SDKs reach at 169.254.170.2:80.
//!
//! A thread of its own enters the namespace (`setns` changes the calling thread only), puts
//! 169.254.170.2/32 on the namespace's loopback with `ip` (a child inherits the thread's
//! namespace) and binds there; the socket stays in that namespace after the thread is gone,
//! and the agent's runtime accepts on it like on any other. Entering a namespace takes root
//! (CAP_SYS_ADMIN), which the agent has, as the ECS agent does.
//!
//! It listens on port 51679 (the ECS agent's credentials port), not 80: a container of the task
//! that listens on every address at port 80, as most web servers do, would take 80 from it, or
//! be refused it. A DNAT rule in the namespace sends what the SDKs send to port 80 of that
//! address there, as the ECS agent's rule does.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};

/// The address the SDKs call.
pub(super) const ADDRESS: Ipv4Addr = Ipv4Addr::new(169, 254, 170, 2);
/// The port they call.
const PORT: u16 = 80;
/// The port the listener is on.
const LISTEN_PORT: u16 = 51679;

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
    let listener = TcpListener::bind(SocketAddrV4::new(ADDRESS, LISTEN_PORT))
        .map_err(|e| format!("cannot listen on {ADDRESS}:{LISTEN_PORT}: {e}"))?;
    redirect()?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("cannot make the listener non-blocking: {e}"))?;
    Ok(listener)
}

/// Sends the namespace's connections to [`ADDRESS`]:[`PORT`] to the listener, unless a rule
/// does already (an agent that restarted serves an adopted container again).
fn redirect() -> Result<(), String> {
    let to = format!("{ADDRESS}:{LISTEN_PORT}");
    let dport = PORT.to_string();
    let address = format!("{ADDRESS}/32");
    let rule = |action: &str| {
        let mut args = vec!["-w", "-t", "nat", action, "OUTPUT"];
        args.extend(["-d", &address, "-p", "tcp", "--dport", &dport]);
        args.extend(["-j", "DNAT", "--to-destination", &to]);
        std::process::Command::new("iptables")
            .args(&args)
            .output()
            .map_err(|e| format!("cannot run `iptables` (install iptables): {e}"))
    };
    if rule("-C")?.status.success() {
        return Ok(());
    }
    let added = rule("-A")?;
    if added.status.success() {
        Ok(())
    } else {
        Err(format!(
            "cannot redirect {ADDRESS}:{PORT} to the credentials listener: {}",
            String::from_utf8_lossy(&added.stderr).trim()
        ))
    }
}
