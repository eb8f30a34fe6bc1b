//! The flood's clients: anonymous (unsigned) RunTasks from many loopback addresses, over
//! keep-alive connections or announcing bodies they never send, counting what is answered.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The request every anonymous client sends: RunTask, a call that changes state, so that an
/// anonymous request the per-address limit lets through costs the server an audit event.
fn anonymous_request(addr: SocketAddr, content_length: usize) -> String {
    format!(
        "POST / HTTP/1.1\r\nhost: {addr}\r\nx-amz-target: {}.RunTask\r\ncontent-type: {}\r\ncontent-length: {content_length}\r\n\r\n",
        berth_types::ecs::TARGET_PREFIX,
        berth_api::wire::CONTENT_TYPE,
    )
}

/// A small RunTask body.
const ANONYMOUS_BODY: &str = r#"{"cluster":"bench-auth","taskDefinition":"web:1","count":10}"#;

/// What one anonymous client saw.
#[derive(Default)]
pub(super) struct Anonymous {
    /// Requests answered (with any status).
    pub(super) answered: u64,
    /// Of those, the ones answered ThrottlingException.
    pub(super) throttled: u64,
    /// Requests that got no answer (refused or dropped connections, timeouts).
    pub(super) failed: u64,
}

impl Anonymous {
    fn count(&mut self, answer: Option<&[u8]>) {
        match answer {
            Some(a) if a.starts_with(b"HTTP/1.1 ") => {
                self.answered += 1;
                let throttled = a.windows(19).any(|w| w == b"ThrottlingException");
                self.throttled += u64::from(throttled);
            }
            _ => self.failed += 1,
        }
    }

    fn add(&mut self, other: Anonymous) {
        self.answered += other.answered;
        self.throttled += other.throttled;
        self.failed += other.failed;
    }
}

/// How long an anonymous client waits for an answer before it counts the request as failed.
const ANONYMOUS_TIMEOUT: Duration = Duration::from_secs(5);

/// Sends `request` on `stream` and reads the whole answer into `buf`; None when the
/// connection fails or closes first, or the answer is late.
async fn exchange(
    stream: &mut tokio::net::TcpStream,
    request: &[u8],
    buf: &mut Vec<u8>,
) -> Option<()> {
    buf.clear();
    let exchanged = async {
        stream.write_all(request).await.ok()?;
        let mut chunk = [0u8; 4096];
        while !whole_response(buf) {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        Some(())
    };
    tokio::time::timeout(ANONYMOUS_TIMEOUT, exchanged)
        .await
        .ok()?
}

/// Whether `response` holds its headers and the body they announce.
fn whole_response(response: &[u8]) -> bool {
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    response.len() >= end + 4 + length
}

/// A TCP connection to `server` from the loopback address `local`.
async fn connect(local: IpAddr, server: SocketAddr) -> std::io::Result<tokio::net::TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(local, 0))?;
    socket.connect(server).await
}

/// One keep-alive connection sending unsigned RunTasks with small bodies back to back until
/// `until`; it reconnects when the server closes it.
async fn small_bodies(local: IpAddr, server: SocketAddr, until: Instant) -> Anonymous {
    let request = anonymous_request(server, ANONYMOUS_BODY.len()) + ANONYMOUS_BODY;
    let mut seen = Anonymous::default();
    let mut buf = Vec::new();
    let mut connection = None;
    while Instant::now() < until {
        if connection.is_none() {
            connection = connect(local, server).await.ok();
        }
        let answered = match connection.as_mut() {
            Some(stream) => exchange(stream, request.as_bytes(), &mut buf).await,
            None => None,
        };
        seen.count(answered.map(|()| buf.as_slice()));
        if answered.is_none() {
            connection = None;
        }
    }
    seen
}

/// New connections, each declaring a body of a GiB and sending none, until `until`: the server
/// must answer from the headers alone, without waiting for (or buffering) the body.
async fn declared_bodies(local: IpAddr, server: SocketAddr, until: Instant) -> Anonymous {
    let request = anonymous_request(server, 1 << 30);
    let mut seen = Anonymous::default();
    let mut buf = Vec::new();
    while Instant::now() < until {
        let answered = match connect(local, server).await {
            Ok(mut stream) => exchange(&mut stream, request.as_bytes(), &mut buf).await,
            Err(_) => None,
        };
        seen.count(answered.map(|()| buf.as_slice()));
    }
    seen
}

/// `clients` anonymous clients hammering `server` for `lasting`, each from a loopback address
/// of its own (127.1.0.1, 127.1.0.2, ...), so that the limit per address does not simply cut
/// them all at once; every fourth declares a large body and sends none. They run on a thread
/// and a runtime of their own, so the server's workers do not also run the clients.
pub(super) async fn flood(
    server: SocketAddr,
    clients: usize,
    lasting: Duration,
) -> anyhow::Result<Anonymous> {
    let flooding = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let until = Instant::now() + lasting;
            let tasks: Vec<_> = (0..clients)
                .map(|i| {
                    let first = u32::from(Ipv4Addr::new(127, 1, 0, 1));
                    let local = IpAddr::V4(Ipv4Addr::from(first + i as u32));
                    if i % 4 == 3 {
                        tokio::spawn(declared_bodies(local, server, until))
                    } else {
                        tokio::spawn(small_bodies(local, server, until))
                    }
                })
                .collect();
            let mut seen = Anonymous::default();
            for task in tasks {
                seen.add(task.await?);
            }
            anyhow::Ok(seen)
        })
    });
    flooding.await?
}
