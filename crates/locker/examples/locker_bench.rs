//! The locker's benchmarks (docs/PERFORMANCE.md, "Locker"):
//!
//! 1. Upload 1 GB to an S3 server on loopback through a proxy shaped to 100 Mbit/s and 20 ms
//!    RTT; the target is at least 80% of the link rate.
//! 2. A new device syncs a catalog of 100,000 tracks over loopback, from a snapshot and then by
//!    replaying logs only; the target is under 10 s.
//!
//! Run: `cargo run --release -p loft-locker --example locker_bench` (add `-- --upload-mib 256` or
//! `-- --tracks 20000` for a quicker run; `-- --encrypted` uploads to an encrypted locker).
//! Everything runs on 127.0.0.1 and stops by itself.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use loft_locker::{Credentials, Locker, OpenOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const KEY: &str = "bench-key";
const SECRET: &str = "bench-secret-0123456789";
const LINK_BITS_PER_SECOND: f64 = 100e6;
const ONE_WAY_DELAY: Duration = Duration::from_millis(10);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let number_after = |flag: &str, default: u64| {
        args.iter()
            .position(|arg| arg == flag)
            .and_then(|at| args.get(at + 1)?.parse().ok())
            .unwrap_or(default)
    };
    let upload_mib = number_after("--upload-mib", 1000 * 1000 * 1000 / (1024 * 1024) + 1);
    let tracks = number_after("--tracks", 100_000) as usize;
    let dir = tempfile::tempdir().expect("a temp dir");
    let s3_root = dir.path().join("s3");
    std::fs::create_dir_all(s3_root.join("bench")).expect("the bucket folder");
    let s3_port = serve_s3(&s3_root).await;

    if upload_mib > 0 {
        let encrypted = args.iter().any(|arg| arg == "--encrypted");
        shaped_upload(dir.path(), s3_port, upload_mib, encrypted).await;
    }
    if tracks > 0 {
        new_device_sync(dir.path(), s3_port, tracks).await;
    }
}

/// `encrypted`: the locker is created encrypted, so every part is sealed on its way out.
async fn shaped_upload(dir: &Path, s3_port: u16, mib: u64, encrypted: bool) {
    let proxy_port = serve_shaping_proxy(s3_port).await;
    let url = format!("s3://bench/upload?endpoint=http://127.0.0.1:{proxy_port}&region=us-east-1");
    let options = OpenOptions {
        new_locker_passphrase: encrypted.then(|| zeroize::Zeroizing::new("benchmark passphrase".to_owned())),
        use_keychain: false,
        ..OpenOptions::default()
    };
    let source = dir.join("big.bin");
    write_pseudo_random_wav(&source, mib * 1024 * 1024);
    let size = std::fs::metadata(&source).expect("the file").len();
    let state = dir.join("state-upload");
    let locker = Locker::open_with(&url, credentials(), "bench-upload", &state, options)
        .await
        .expect("the locker opens through the proxy");
    locker.set_quota(u64::MAX / 2).await.expect("a quota");
    let first_byte: Arc<std::sync::Mutex<Option<Instant>>> = Arc::default();
    let marker = first_byte.clone();
    let started = Instant::now();
    let report = locker
        .upload(
            std::slice::from_ref(&source),
            Some(Arc::new(move |progress: &loft_locker::UploadProgress| {
                if progress.bytes_sent > 0 {
                    marker.lock().expect("not poisoned").get_or_insert_with(Instant::now);
                }
            })),
        )
        .await;
    let total = started.elapsed();
    assert!(report.failed.is_empty(), "the upload failed: {:?}", report.failed);
    // Sealed parts carry a tag per 64 KiB chunk and padding, so more goes over the wire.
    assert!(report.bytes_sent >= size, "sent {} of {size}", report.bytes_sent);
    let link_bytes_per_second = LINK_BITS_PER_SECOND / 8.0;
    let rate = size as f64 / total.as_secs_f64();
    println!(
        "upload{}: {:.0} MB in {:.1} s through 100 Mbit/s + 20 ms RTT = {:.1} Mbit/s, {:.0}% of the link \
         (hashing and verifying included; the link alone needs {:.1} s)",
        if encrypted { " (encrypted)" } else { "" },
        size as f64 / 1e6,
        total.as_secs_f64(),
        rate * 8.0 / 1e6,
        100.0 * rate / link_bytes_per_second,
        size as f64 / link_bytes_per_second
    );
    let _ = std::fs::remove_file(&source);
}

async fn new_device_sync(dir: &Path, s3_port: u16, tracks: usize) {
    let url = format!("s3://bench/catalog?endpoint=http://127.0.0.1:{s3_port}&region=us-east-1");
    let writer_state = dir.join("state-writer");
    let options = OpenOptions { snapshot_after_log_files: usize::MAX, ..OpenOptions::default() };
    let writer = Locker::open_with(&url, credentials(), "writer", &writer_state, options.clone())
        .await
        .expect("the locker opens");
    // The catalog is written the way any client of docs/locker-format.md would: log files of
    // 1,000 track ops each, through the S3 API.
    let started = Instant::now();
    let operator = opendal::Operator::new(
        opendal::services::S3::default()
            .bucket("bench")
            .root("/catalog")
            .endpoint(&format!("http://127.0.0.1:{s3_port}"))
            .region("us-east-1")
            .access_key_id(KEY)
            .secret_access_key(SECRET),
    )
    .expect("an operator")
    .finish();
    for (seq, chunk) in (0..tracks).collect::<Vec<_>>().chunks(1000).enumerate() {
        let ops: Vec<serde_json::Value> = chunk
            .iter()
            .map(|index| {
                serde_json::json!({
                    "hlc": {"wall_ms": 1_700_000_000_000u64 + *index as u64, "counter": 0},
                    "op": "track_put",
                    "track": format!("{:064x}", *index as u128 * 0x9E37_79B9_7F4A_7C15),
                    "size": 4_000_000 + *index as u64,
                    "fields": {
                        "title": format!("Track {index}"),
                        "artist": format!("Artist {}", index / 100),
                        "album": format!("Album {}", index / 10),
                        "track_number": index % 10 + 1,
                        "duration_ms": 200_000 + index,
                        "file_name": format!("{index:06}.flac"),
                    },
                })
            })
            .collect();
        let file = serde_json::json!({"format": 1, "device": "writer", "seq": seq, "ops": ops});
        operator
            .write(&format!("catalog/log/writer/{seq:020}.json"), serde_json::to_vec(&file).expect("json"))
            .await
            .expect("a log file");
    }
    println!("catalog: wrote {tracks} track ops in {:.1} s", started.elapsed().as_secs_f64());

    let replay_state = dir.join("state-replay");
    let replayer = Locker::open_with(&url, credentials(), "replayer", &replay_state, options.clone())
        .await
        .expect("the locker opens");
    let started = Instant::now();
    let report = replayer.pull().await.expect("a sync");
    println!(
        "catalog: a new device synced {} tracks by replaying {} ops (no snapshot) in {:.2} s",
        replayer.tracks().await.len(),
        report.ops_applied,
        started.elapsed().as_secs_f64()
    );

    writer.pull().await.expect("the writer syncs");
    let started = Instant::now();
    writer.snapshot_and_compact().await.expect("a snapshot");
    println!("catalog: snapshot and compaction took {:.2} s", started.elapsed().as_secs_f64());

    let fresh_state = dir.join("state-fresh");
    let fresh = Locker::open_with(&url, credentials(), "newcomer", &fresh_state, options)
        .await
        .expect("the locker opens");
    let started = Instant::now();
    let report = fresh.sync().await.expect("a sync");
    let elapsed = started.elapsed();
    assert!(report.rebuilt_from_snapshot);
    assert_eq!(fresh.tracks().await.len(), tracks);
    println!(
        "catalog: a new device synced {tracks} tracks from the snapshot in {:.2} s ({} changes reported)",
        elapsed.as_secs_f64(),
        report.tracks_changed.len()
    );
}

fn credentials() -> Credentials {
    Credentials::S3 { access_key_id: KEY.into(), secret_access_key: SECRET.into() }
}

/// A WAV header over pseudo-random PCM, so the file is audio to the tag reader and does not
/// compress.
fn write_pseudo_random_wav(path: &Path, size: u64) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("the file"));
    let data_len = (size - 44) as u32;
    let mut header = Vec::new();
    header.extend_from_slice(b"RIFF");
    header.extend_from_slice(&(data_len + 36).to_le_bytes());
    header.extend_from_slice(b"WAVEfmt ");
    header.extend_from_slice(&16u32.to_le_bytes());
    header.extend_from_slice(&1u16.to_le_bytes());
    header.extend_from_slice(&2u16.to_le_bytes());
    header.extend_from_slice(&44_100u32.to_le_bytes());
    header.extend_from_slice(&(44_100u32 * 4).to_le_bytes());
    header.extend_from_slice(&4u16.to_le_bytes());
    header.extend_from_slice(&16u16.to_le_bytes());
    header.extend_from_slice(b"data");
    header.extend_from_slice(&data_len.to_le_bytes());
    out.write_all(&header).expect("write");
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut block = vec![0u8; 1 << 20];
    let mut left = data_len as u64;
    while left > 0 {
        for chunk in block.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
        }
        let take = left.min(block.len() as u64) as usize;
        out.write_all(&block[..take]).expect("write");
        left -= take as u64;
    }
    out.flush().expect("flush");
}

async fn serve_s3(root: &Path) -> u16 {
    let fs = s3s_fs::FileSystem::new(root).expect("s3s-fs");
    let mut builder = s3s::service::S3ServiceBuilder::new(fs);
    builder.set_auth(s3s::auth::SimpleAuth::from_single(KEY, SECRET));
    let service = builder.build();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("an address").port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = service.clone();
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    port
}

/// One direction of the shaped link, shared by every connection: a serialisation queue at the
/// link rate, after which each chunk is delivered one propagation delay later.
struct Link {
    next_free: tokio::sync::Mutex<Instant>,
}

impl Link {
    /// When a chunk of `bytes` handed over now has finished crossing the link.
    async fn schedule(&self, bytes: usize) -> Instant {
        let mut next_free = self.next_free.lock().await;
        let start = (*next_free).max(Instant::now());
        let done = start + Duration::from_secs_f64(bytes as f64 * 8.0 / LINK_BITS_PER_SECOND);
        *next_free = done;
        done + ONE_WAY_DELAY
    }
}

async fn serve_shaping_proxy(upstream_port: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("an address").port();
    let up = Arc::new(Link { next_free: tokio::sync::Mutex::new(Instant::now()) });
    let down = Arc::new(Link { next_free: tokio::sync::Mutex::new(Instant::now()) });
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream_port)).await else { continue };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            tokio::spawn(pump(client_read, server_write, up.clone()));
            tokio::spawn(pump(server_read, client_write, down.clone()));
        }
    });
    port
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    link: Arc<Link>,
) {
    // The queue between reading and delivering is the link's buffer: about 2 bandwidth-delay
    // products, so a sender feels back-pressure as it would from a real bottleneck.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<(Vec<u8>, Instant)>(32);
    let deliver = tokio::spawn(async move {
        while let Some((chunk, at)) = receiver.recv().await {
            tokio::time::sleep_until(at.into()).await;
            if to.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => {
                let at = link.schedule(read).await;
                if sender.send((buffer[..read].to_vec(), at)).await.is_err() {
                    break;
                }
            }
        }
    }
    drop(sender);
    let _ = deliver.await;
}
