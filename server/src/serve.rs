//! The accept loop: hyper's connection builders with a header read timeout (axum's
//! `serve` sets none), so a client that trickles its request head, or opens a connection
//! and says nothing, is cut off. Request bodies are bounded by the router's timeout; a
//! live stream's response is not (it is the server that writes, by design).

use std::{fmt::Display, future::Future, net::SocketAddr, pin::pin, sync::Arc, time::Duration};

use axum::{Router, body::Body, extract::ConnectInfo};
use hyper::{
    body::Incoming,
    server::conn::{http1, http2},
};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::graceful::GracefulConnection,
    service::TowerToHyperService,
};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
};
use tower::ServiceExt;

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
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
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
            let service = TowerToHyperService::new(service);
            // Boxed, and built from shared builders: a live stream's connection lasts for
            // hours, and a connection future kept inline in the task (with a builder's
            // copy) made the task 4,008 bytes.
            match speaks {
                Speaks::Http1 => {
                    drive(Box::pin(h1.serve_connection(io, service)), stop_signal).await
                }
                Speaks::Http2 => {
                    drive(Box::pin(h2.serve_connection(io, service)), stop_signal).await
                }
            }
            drop(held);
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    open.closed().await;
}

/// Serves one connection to its end or, once the server is stopping, until it has
/// finished the requests it had begun.
async fn drive<C>(mut connection: std::pin::Pin<Box<C>>, mut stop_signal: watch::Receiver<bool>)
where
    C: GracefulConnection,
    C::Error: Display,
{
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(err) = result {
                tracing::debug!(error = %err, "connection ended with an error");
            }
            return;
        }
        _ = stop_signal.wait_for(|stop| *stop) => connection.as_mut().graceful_shutdown(),
    }
    let _ = connection.await;
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
