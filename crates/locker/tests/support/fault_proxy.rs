//! A TCP proxy that makes loopback behave like a real network: added latency each way, a
//! bandwidth limit, connections reset in the middle of a response body, and an "offline"
//! switch that refuses every connection. Shared by the streaming tests and the benchmark.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What the link does; every field can change while the proxy runs.
#[derive(Default)]
pub struct LinkConditions {
    /// One-way delay, so a round trip costs twice this.
    pub one_way_delay_ms: AtomicU64,
    /// Bytes per second in each direction; 0 means unlimited.
    pub bytes_per_sec: AtomicU64,
    /// Every n-th connection (0: none) is reset after `reset_after_bytes` of response.
    pub reset_every_nth_connection: AtomicU64,
    pub reset_after_bytes: AtomicU64,
    /// When false, connections are accepted and dropped at once, as an unreachable server.
    pub offline: AtomicBool,
}

pub struct FaultProxy {
    pub port: u16,
    pub link: Arc<LinkConditions>,
    /// Response bytes delivered to clients, in total.
    pub served: Arc<AtomicU64>,
    pub resets: Arc<AtomicU64>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl FaultProxy {
    pub async fn start(upstream_port: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let link = Arc::new(LinkConditions::default());
        let served = Arc::new(AtomicU64::new(0));
        let resets = Arc::new(AtomicU64::new(0));
        let (task_link, task_served, task_resets) = (link.clone(), served.clone(), resets.clone());
        let accept = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            let mut count = 0u64;
            while let Ok((client, _)) = listener.accept().await {
                count += 1;
                if task_link.offline.load(Ordering::SeqCst) {
                    let _ = client.set_zero_linger();
                    drop(client);
                    continue;
                }
                let every = task_link.reset_every_nth_connection.load(Ordering::SeqCst);
                let reset_after = (every > 0 && count.is_multiple_of(every))
                    .then(|| task_link.reset_after_bytes.load(Ordering::SeqCst));
                let (link, served, resets) = (task_link.clone(), task_served.clone(), task_resets.clone());
                connections.spawn(async move {
                    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)).await else { return };
                    relay(client, server, link, served, resets, reset_after).await;
                });
                // Reap finished connections so the set does not grow without bound.
                while connections.try_join_next().is_some() {}
            }
        });
        FaultProxy { port, link, served, resets, accept }
    }

    pub fn set_delay(&self, one_way: Duration) {
        self.link.one_way_delay_ms.store(one_way.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn set_bandwidth_bits(&self, bits_per_sec: u64) {
        self.link.bytes_per_sec.store(bits_per_sec / 8, Ordering::SeqCst);
    }

    pub fn reset_connections(&self, every_nth: u64, after_bytes: u64) {
        self.link.reset_after_bytes.store(after_bytes, Ordering::SeqCst);
        self.link.reset_every_nth_connection.store(every_nth, Ordering::SeqCst);
    }

    pub fn set_offline(&self, offline: bool) {
        self.link.offline.store(offline, Ordering::SeqCst);
    }

    pub fn served(&self) -> u64 {
        self.served.load(Ordering::SeqCst)
    }
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    link: Arc<LinkConditions>,
    served: Arc<AtomicU64>,
    resets: Arc<AtomicU64>,
    reset_after: Option<u64>,
) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    // Dropping the socket then sends RST, as a broken middlebox or a Wi-Fi handover does.
    let _ = client.set_zero_linger();
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let upstream = pipe(client_read, server_write, link.clone(), None, None);
    let cut_off = {
        let link = link.clone();
        async move {
            while !link.offline.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    let downstream = pipe(server_read, client_write, link, Some(served), reset_after);
    tokio::select! {
        _ = upstream => {}
        // Going offline breaks the connections already open too, not only new ones.
        _ = cut_off => {}
        reset = downstream => if reset { resets.fetch_add(1, Ordering::SeqCst); },
    }
}

/// Copies one direction: a reader stamps each chunk with its arrival, a writer delivers it
/// after the delay and paced to the bandwidth, so delay and throughput add up as on a real
/// link. Returns whether the connection was cut on purpose.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    link: Arc<LinkConditions>,
    served: Option<Arc<AtomicU64>>,
    reset_after: Option<u64>,
) -> bool {
    let (sender, mut receiver) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = async move {
        let mut buffer = vec![0u8; 8 * 1024];
        loop {
            match from.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => {
                    if sender.send((Instant::now(), buffer[..read].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
    };
    let writer = async move {
        let mut next_free = Instant::now();
        let mut delivered = 0u64;
        while let Some((arrived, chunk)) = receiver.recv().await {
            let delay = Duration::from_millis(link.one_way_delay_ms.load(Ordering::SeqCst));
            tokio::time::sleep_until(arrived + delay).await;
            let rate = link.bytes_per_sec.load(Ordering::SeqCst);
            let mut chunk = &chunk[..];
            if let Some(limit) = reset_after {
                let room = limit.saturating_sub(delivered) as usize;
                if room < chunk.len() {
                    chunk = &chunk[..room];
                    let _ = to.write_all(chunk).await;
                    return true;
                }
            }
            if rate > 0 {
                let now = Instant::now();
                next_free = next_free.max(now) + Duration::from_secs_f64(chunk.len() as f64 / rate as f64);
                tokio::time::sleep_until(next_free).await;
            }
            if to.write_all(chunk).await.is_err() {
                break;
            }
            delivered += chunk.len() as u64;
            if let Some(served) = &served {
                served.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            }
        }
        false
    };
    // The reader runs on its own so the writer still delivers what is in flight after the
    // sending side has closed.
    let reading = tokio::spawn(reader);
    let reset = writer.await;
    reading.abort();
    reset
}
