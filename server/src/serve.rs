//! The accept loop: hyper's connection builders with a header read timeout (axum's
//! `serve` sets none), so a client that trickles its request head, or opens a connection
//! and says nothing, is cut off; HTTP/2, whose builder has no such timeout, closes a
//! connection that has no request under way for as long. Request bodies are bounded by
//! the router's timeout; a live stream's response is not (it is the server that writes,
//! by design). Connections in all are capped below the open-file limit: one more is
//! answered 503 at once rather than left waiting in the kernel's queue.

use std::{
    fmt::Display,
    future::Future,
    net::SocketAddr,
    pin::{Pin, pin},
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{Router, body::Body, extract::ConnectInfo};
use hyper::{
    body::{Frame, Incoming, SizeHint},
    server::conn::{http1, http2},
};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::graceful::GracefulConnection,
    service::TowerToHyperService,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::{Semaphore, watch},
};
use tower::ServiceExt;

/// What the accept loop bounds.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Time to send a request's head (HTTP/1), or to begin a request (HTTP/2).
    pub header_timeout: Duration,
    /// TCP connections served at once.
    pub max_connections: usize,
    /// Whether answers carry `Strict-Transport-Security` (the site is public over https).
    pub hsts: bool,
}

/// Refusals being written at once, at most: past this a connection over the cap is
/// closed without a word, so a flood cannot hold files through its refusals.
const MAX_REFUSING: usize = 64;

/// How HTTP/2 with prior knowledge begins: its connection preface. No HTTP/1 request
/// begins with `PRI`.
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The protocol a connection speaks, as its first bytes tell.
#[derive(Debug, PartialEq, Eq)]
enum Speaks {
    Http1,
    Http2,
}

/// What `first`, the bytes a connection has sent so far, say it speaks: HTTP/1 from the
/// first byte that leaves the preface, HTTP/2 once the whole preface is in, `None` while
/// the bytes are still a part of it (or there are none yet).
fn speaks(first: &[u8]) -> Option<Speaks> {
    let seen = first.len().min(HTTP2_PREFACE.len());
    if first[..seen] != HTTP2_PREFACE[..seen] {
        Some(Speaks::Http1)
    } else if seen == HTTP2_PREFACE.len() {
        Some(Speaks::Http2)
    } else {
        None
    }
}

/// Peeks, without reading, until the first bytes tell the protocols apart; `None` if the
/// connection closes first. Clients send their first line or the whole preface at once:
/// only one that sends a part of the preface alone waits here for more, in short sleeps
/// (the caller bounds the wait).
async fn first_bytes(stream: &TcpStream) -> Option<Speaks> {
    let mut probe = [0u8; HTTP2_PREFACE.len()];
    loop {
        let peeked = stream.peek(&mut probe).await.ok()?;
        if peeked == 0 {
            return None;
        }
        if let Some(speaks) = speaks(&probe[..peeked]) {
            return Some(speaks);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets the open
/// connections finish their requests and waits for them.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    bounds: Bounds,
    shutdown: impl Future<Output = ()>,
) {
    let header_timeout = bounds.header_timeout;
    let slots = Arc::new(Semaphore::new(
        bounds.max_connections.min(Semaphore::MAX_PERMITS),
    ));
    let refusing = Arc::new(AtomicUsize::new(0));
    let refusal: Arc<[u8]> = refusal_bytes(bounds.hsts).into();
    // The protocol is told apart by a peek, and each goes to hyper's own builder.
    // hyper-util's `auto` builder, used before, read the first bytes itself and handed
    // them back in front of the socket, so hyper's first read of an HTTP/1 request got
    // those few bytes alone and its second doubled the read buffer to 16 KiB, which a
    // live stream keeps for hours (heaptrack: 16 KiB from `Buffered::poll_read_from_io`
    // on every HTTP/1 connection); it also had no time limit on that first read.
    let mut h1 = http1::Builder::new();
    h1.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let mut h2 = http2::Builder::new(TokioExecutor::new());
    h2.timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_secs(20));
    let builders = Arc::new((h1, h2));
    // `stopping` tells connections to finish; `open` is held by each, so the loop can
    // wait until the last one has gone.
    let (stopping, stop_signal) = watch::channel(false);
    let (open, _) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Held by the connection's task for as long as the connection lasts.
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            refuse(stream, &refusing, &refusal, peer);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |request: hyper::Request<Incoming>| {
                let mut request = request.map(Body::new);
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                request
            });
        let builders = Arc::clone(&builders);
        let mut stop_signal = stop_signal.clone();
        let held = open.subscribe();
        tokio::spawn(async move {
            // hyper's header timeout starts at the first byte: a connection that says
            // nothing, or only a part of HTTP/2's preface, gets the same time to say
            // which protocol it speaks, and none when the server is stopping (a silent
            // connection must not hold up the drain).
            let first = tokio::select! {
                first = tokio::time::timeout(header_timeout, first_bytes(&stream)) => first,
                _ = stop_signal.wait_for(|stop| *stop) => return,
            };
            let Ok(Some(speaks)) = first else {
                return;
            };
            let (h1, h2) = &*builders;
            let io = TokioIo::new(stream);
            // Boxed, and built from shared builders: a live stream's connection lasts for
            // hours, and a connection future kept inline in the task (with a builder's
            // copy) made the task 4,008 bytes.
            match speaks {
                Speaks::Http1 => {
                    let service = TowerToHyperService::new(service);
                    let connection = Box::pin(h1.serve_connection(io, service));
                    drive(connection, stop_signal, std::future::pending()).await
                }
                Speaks::Http2 => {
                    let activity = Arc::new(Activity::default());
                    let counting = Arc::clone(&activity);
                    let service = tower::service_fn(move |request: hyper::Request<Incoming>| {
                        let under_way = UnderWay::begin(&counting);
                        let answer = service.clone().oneshot(request);
                        async move {
                            let response = answer.await?;
                            Ok::<_, std::convert::Infallible>(response.map(|inner| {
                                Body::new(Counted {
                                    inner,
                                    _under_way: under_way,
                                })
                            }))
                        }
                    });
                    let service = TowerToHyperService::new(service);
                    let connection = Box::pin(h2.serve_connection(io, service));
                    let idle = Box::pin(idle(activity, header_timeout));
                    drive(connection, stop_signal, idle).await
                }
            }
            drop(held);
            drop(slot);
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    open.closed().await;
}

/// Serves one connection to its end or, once the server is stopping, until it has
/// finished the requests it had begun; once `idle` resolves, it is told to close and
/// given the idle time's length again at most.
async fn drive<C>(
    mut connection: Pin<Box<C>>,
    mut stop_signal: watch::Receiver<bool>,
    idle: impl Future<Output = Duration>,
) where
    C: GracefulConnection,
    C::Error: Display,
{
    let grace = tokio::select! {
        result = connection.as_mut() => {
            if let Err(err) = result {
                tracing::debug!(error = %err, "connection ended with an error");
            }
            return;
        }
        _ = stop_signal.wait_for(|stop| *stop) => None,
        grace = idle => Some(grace),
    };
    connection.as_mut().graceful_shutdown();
    match grace {
        None => {
            let _ = connection.await;
        }
        Some(grace) => {
            let _ = tokio::time::timeout(grace, connection).await;
        }
    }
}

/// An HTTP/2 connection's requests: how many began, and how many are under way (until
/// their answer's body is dropped).
#[derive(Default)]
struct Activity {
    begun: AtomicU64,
    under_way: AtomicUsize,
}

/// Resolves (with `timeout`) once a connection has had no request under way and none
/// begun for `timeout`: a client that opens HTTP/2 and never finishes a request's head
/// holds nothing for longer than an HTTP/1 client may.
async fn idle(activity: Arc<Activity>, timeout: Duration) -> Duration {
    let mut seen = activity.begun.load(Ordering::Relaxed);
    loop {
        tokio::time::sleep(timeout).await;
        let begun = activity.begun.load(Ordering::Relaxed);
        if begun == seen && activity.under_way.load(Ordering::Relaxed) == 0 {
            return timeout;
        }
        seen = begun;
    }
}

/// Counts a request as under way until dropped (with its answer's body).
struct UnderWay(Arc<Activity>);

impl UnderWay {
    fn begin(activity: &Arc<Activity>) -> Self {
        activity.begun.fetch_add(1, Ordering::Relaxed);
        activity.under_way.fetch_add(1, Ordering::Relaxed);
        UnderWay(Arc::clone(activity))
    }
}

impl Drop for UnderWay {
    fn drop(&mut self) {
        self.0.under_way.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An answer's body that keeps its request counted as under way until it is dropped.
struct Counted {
    inner: Body,
    _under_way: UnderWay,
}

impl hyper::body::Body for Counted {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        hyper::body::Body::poll_frame(Pin::new(&mut self.inner), cx)
    }

    fn is_end_stream(&self) -> bool {
        hyper::body::Body::is_end_stream(&self.inner)
    }

    fn size_hint(&self) -> SizeHint {
        hyper::body::Body::size_hint(&self.inner)
    }
}

/// Answers a connection over the cap with 503 and `Retry-After`, then closes it, on a
/// task of its own (bounded by [`MAX_REFUSING`] and a second), so the loop goes on.
fn refuse(
    mut stream: TcpStream,
    refusing: &Arc<AtomicUsize>,
    refusal: &Arc<[u8]>,
    peer: SocketAddr,
) {
    tracing::warn!(%peer, "connection refused: the server holds as many as it may");
    if refusing.fetch_add(1, Ordering::Relaxed) >= MAX_REFUSING {
        refusing.fetch_sub(1, Ordering::Relaxed);
        return;
    }
    let (refusing, refusal) = (Arc::clone(refusing), Arc::clone(refusal));
    tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            stream.write_all(&refusal).await?;
            stream.shutdown().await?;
            // Read what the client sent until it closes: closing with its request
            // unread would reset the connection and could lose the answer.
            let mut sink = [0u8; 1024];
            while stream.read(&mut sink).await? > 0 {}
            Ok::<_, std::io::Error>(())
        })
        .await;
        refusing.fetch_sub(1, Ordering::Relaxed);
    });
}

/// The 503 a connection over the cap gets, as HTTP/1.
fn refusal_bytes(hsts: bool) -> Vec<u8> {
    let body = "The server is busy. Please try again in a moment.\n";
    let hsts = if hsts {
        "Strict-Transport-Security: max-age=31536000\r\n"
    } else {
        ""
    };
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n{hsts}\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::{Speaks, speaks};

    #[test]
    fn the_first_bytes_tell_http2s_preface_from_any_http1_request() {
        assert_eq!(speaks(b""), None);
        assert_eq!(speaks(b"P"), None);
        assert_eq!(speaks(b"PR"), None);
        assert_eq!(speaks(b"PRI * HTTP/2.0\r\n"), None);
        assert_eq!(
            speaks(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
            Some(Speaks::Http2)
        );
        assert_eq!(
            speaks(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0"),
            Some(Speaks::Http2)
        );
        for http1 in [
            &b"G"[..],
            b"GET / HTTP/1.1",
            b"PO",
            b"POST",
            b"PUT",
            b"PATCH",
            b"PRX",
            b"PRI / HTTP/1.1",
        ] {
            assert_eq!(
                speaks(http1),
                Some(Speaks::Http1),
                "{}",
                String::from_utf8_lossy(http1)
            );
        }
    }
}
