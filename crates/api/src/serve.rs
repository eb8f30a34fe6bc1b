//! Connections: each accepted one is served over HTTP/1.1 or HTTP/2 (whichever the client
//! speaks; TLS advertises both in ALPN), within limits that keep a slow or hostile client from
//! holding the server: a cap on open connections overall and per client address, and a
//! deadline for a request's headers. Handlers find the client's address in the request's
//! extensions ([`ClientAddr`]), for the limits on unauthenticated requests.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// Connections open at once; beyond it new ones are closed as they arrive.
pub(crate) const MAX_CONNECTIONS: usize = 8192;
/// Connections open at once from one client address.
pub(crate) const MAX_CONNECTIONS_PER_CLIENT: usize = 1024;
/// How long a client may take to send a request's headers (and how long an idle
/// HTTP/1.1 connection is kept).
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(20);
/// Streams one HTTP/2 connection may have open at once.
const MAX_STREAMS: u32 = 128;
/// How long shutdown waits for requests under way.
const DRAIN: Duration = Duration::from_secs(10);

/// The address of the client that sent a request.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// Open connections per client address; a slot is given back when its guard drops.
#[derive(Default, Clone)]
struct PerClient(Arc<Mutex<HashMap<IpAddr, usize>>>);

struct Slot {
    clients: PerClient,
    ip: IpAddr,
}

impl PerClient {
    fn enter(&self, ip: IpAddr) -> Option<Slot> {
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(ip).or_default();
        if *count >= MAX_CONNECTIONS_PER_CLIENT {
            return None;
        }
        *count += 1;
        Some(Slot {
            clients: self.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.clients.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// The protocol settings every connection is served with.
fn builder() -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS)
        .keep_alive_interval(Some(HEADER_TIMEOUT))
        .keep_alive_timeout(HEADER_TIMEOUT);
    builder
}

/// Serves `routes` on `listener` until `stop` flips to true, then lets the requests under way
/// finish (for at most a few seconds).
pub async fn serve<L>(
    mut listener: L,
    routes: Router,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    let open = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let clients = PerClient::default();
    let (closing, closed) = watch::channel(false);
    loop {
        let (io, addr) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => break,
        };
        let (Ok(permit), Some(slot)) = (open.clone().try_acquire_owned(), clients.enter(addr.ip()))
        else {
            tracing::warn!(client = %addr, "too many connections: closing a new one");
            continue;
        };
        let routes = routes.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ClientAddr(addr));
            routes.clone().oneshot(request.map(Body::new))
        });
        let mut closing = closed.clone();
        tokio::spawn(async move {
            let builder = builder();
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
            tokio::pin!(connection);
            let closed = async move {
                // The guard `wait_for` returns must not live across an await.
                let _ = closing.wait_for(|c| *c).await.map(|_| ());
            };
            tokio::select! {
                _ = connection.as_mut() => {}
                () = closed => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop((permit, slot));
        });
    }
    let _ = closing.send(true);
    // Every connection holds a permit until it is done.
    let all = u32::try_from(MAX_CONNECTIONS).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(DRAIN, open.acquire_many(all)).await;
    Ok(())
}
