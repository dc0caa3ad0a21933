//! The accept loop: hyper's connection builders with a header read timeout (axum's
//! `serve` sets none), so a client that trickles its request head, or opens a connection
//! and says nothing, is cut off. Request bodies are bounded by the router's timeout; a
//! live stream's response is not (it is the server that writes, by design).

use std::{fmt::Display, future::Future, net::SocketAddr, pin::pin, sync::Arc, time::Duration};

use axum::{Router, body::Body, extract::ConnectInfo};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulConnection},
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::watch};
use tower::ServiceExt;

/// How HTTP/2 with prior knowledge begins (its preface is `PRI * HTTP/2.0...`); no
/// HTTP/1 request does.
const HTTP2_START: &[u8] = b"PRI";

/// Serves `router` on `listener` until `shutdown` resolves, then lets the open
/// connections finish their requests and waits for them.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    // HTTP/1 goes straight to hyper's own builder. hyper-util's `auto` builder reads the
    // first bytes itself to tell the versions apart and hands them back in front of the
    // socket, so hyper's first read of the request gets those few bytes alone and its
    // second doubles the read buffer to 16 KiB, which a live stream keeps for hours
    // (heaptrack: 16 KiB from `Buffered::poll_read_from_io` on every HTTP/1 connection
    // served through `auto`). A peek tells the versions apart without reading.
    let mut h1 = http1::Builder::new();
    h1.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    // `auto` serves what starts like HTTP/2's preface (and, should a client send its
    // request a byte or two at a time, an HTTP/1 request that starts with `P`).
    let mut either = auto::Builder::new(TokioExecutor::new());
    either
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    either
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_secs(20));
    let builders = Arc::new((h1, either));
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
            // nothing at all gets the same time, and none when the server is stopping
            // (a silent connection must not hold up the drain).
            let mut probe = [0u8; HTTP2_START.len()];
            let first = tokio::select! {
                first = tokio::time::timeout(header_timeout, stream.peek(&mut probe)) => first,
                _ = stop_signal.wait_for(|stop| *stop) => return,
            };
            let Ok(Ok(peeked @ 1..)) = first else {
                return;
            };
            let (h1, either) = &*builders;
            let io = TokioIo::new(stream);
            let service = TowerToHyperService::new(service);
            // Boxed, and built from shared builders: a live stream's connection lasts for
            // hours, and a connection future kept inline in the task (with a builder's
            // copy) made the task 4,008 bytes.
            if HTTP2_START.starts_with(&probe[..peeked]) {
                drive(Box::pin(either.serve_connection(io, service)), stop_signal).await;
            } else {
                drive(Box::pin(h1.serve_connection(io, service)), stop_signal).await;
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
