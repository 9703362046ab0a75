//! A connection whose incoming bytes are read no faster than a set rate: what a client sees
//! uploading through a slow link, so a test can watch an upload while it is under way.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Bytes read at once: small enough that the pace is smooth.
const STEP: usize = 16 * 1024;

pub(crate) struct PacedReads<S> {
    inner: S,
    bytes_per_second: u64,
    /// When the next read may happen.
    next_read: Instant,
    wait: Option<Pin<Box<Sleep>>>,
}

impl<S> PacedReads<S> {
    pub(crate) fn new(inner: S, bytes_per_second: u64) -> PacedReads<S> {
        PacedReads { inner, bytes_per_second: bytes_per_second.max(1), next_read: Instant::now(), wait: None }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for PacedReads<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if Instant::now() < this.next_read {
            let next_read = this.next_read;
            let wait = this.wait.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(next_read)));
            wait.as_mut().reset(next_read);
            if wait.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
        let room = buf.remaining().min(STEP);
        let mut step = ReadBuf::new(&mut buf.initialize_unfilled()[..room]);
        let read = Pin::new(&mut this.inner).poll_read(cx, &mut step);
        let filled = step.filled().len();
        if let Poll::Ready(Ok(())) = read {
            buf.advance(filled);
            let cost = Duration::from_secs_f64(filled as f64 / this.bytes_per_second as f64);
            this.next_read = Instant::now().max(this.next_read) + cost;
        }
        read
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for PacedReads<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn reads_keep_to_the_rate() {
        let (mut client, server) = tokio::io::duplex(1 << 20);
        client.write_all(&vec![7u8; 100_000]).await.unwrap();
        drop(client);
        let mut paced = PacedReads::new(server, 200_000);
        let started = Instant::now();
        let mut received = Vec::new();
        paced.read_to_end(&mut received).await.unwrap();
        assert_eq!(received, vec![7u8; 100_000]);
        // 100 kB at 200 kB/s: half a second, give or take one step, however busy the machine.
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(400), "read too fast: {took:?}");
    }
}
