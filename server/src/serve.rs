//! The accept loop: hyper's connection builder with a header read timeout (axum's
//! `serve` sets none), so a client that trickles its request head, or opens a connection
//! and says nothing, is cut off. Request bodies are bounded by the router's timeout; a
//! live stream's response is not (it is the server that writes, by design).

use std::{future::Future, net::SocketAddr, pin::pin, sync::Arc, time::Duration};

use axum::{Router, body::Body, extract::ConnectInfo};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto::Builder,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::watch};
use tower::ServiceExt;

/// Serves `router` on `listener` until `shutdown` resolves, then lets the open
/// connections finish their requests and waits for them.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_secs(20));
    let builder = Arc::new(builder);
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
        let builder = Arc::clone(&builder);
        let mut stop_signal = stop_signal.clone();
        let held = open.subscribe();
        tokio::spawn(async move {
            // hyper's header timeout starts at the first byte: a connection that says
            // nothing at all gets the same time, and none when the server is stopping
            // (a silent connection must not hold up the drain).
            let mut probe = [0u8; 1];
            let first = tokio::select! {
                first = tokio::time::timeout(header_timeout, stream.peek(&mut probe)) => first,
                _ = stop_signal.wait_for(|stop| *stop) => return,
            };
            if !matches!(first, Ok(Ok(1..))) {
                return;
            }
            // Boxed, and built from a shared builder: a live stream's connection lasts
            // for hours, and a connection future kept inline in the task (with the
            // builder's copy) made the task 4,008 bytes; now it is 672, and the boxed
            // connection its own 1,552.
            let mut connection = Box::pin(builder.serve_connection_with_upgrades(
                TokioIo::new(stream),
                TowerToHyperService::new(service),
            ));
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
            drop(held);
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    open.closed().await;
}
