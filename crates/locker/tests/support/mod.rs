//! Real servers on loopback for the locker tests: S3 (loft-testkit's s3s + s3s-fs, SigV4
//! checked), WebDAV (dav-server over hyper, Basic auth checked) and a plain folder. The S3
//! server runs on a thread of its own and stops when the storage is dropped; the others, and
//! the S3 variants that fail or count on purpose, run on the test's runtime and stop with it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use loft_locker::{Credentials, Locker, OpenOptions, RetryPolicy};
use tempfile::TempDir;

#[allow(
    unused_imports,
    reason = "the locker's behaviour tests check the quota; the CLI's share this file"
)]
pub use loft_testkit::DAV_QUOTA_TOTAL;
pub use loft_testkit::{DAV_PASSWORD, DAV_USER};
pub use loft_testkit::{S3_BUCKET, S3_KEY, S3_SECRET};
/// `Basic base64("loft:secret")`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    S3,
    WebDav,
    Folder,
}

/// A locker location backed by a fresh temp dir, with its server (if any) running.
pub struct TestStorage {
    pub backend: Backend,
    pub url: String,
    pub credentials: Credentials,
    /// Where the server keeps the locker's objects; writing here is "another tool".
    pub objects_root: PathBuf,
    pub port: Option<u16>,
    _s3: Option<loft_testkit::S3Server>,
    _dav: Option<loft_testkit::DavServer>,
    _dir: TempDir,
}

impl TestStorage {
    pub async fn start(backend: Backend) -> TestStorage {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::S3 => {
                let root = dir.path().join("s3");
                let server = loft_testkit::S3Server::start(&root).unwrap();
                TestStorage {
                    backend,
                    url: server.locker_url("music"),
                    credentials: Credentials::S3 {
                        access_key_id: S3_KEY.into(),
                        secret_access_key: S3_SECRET.into(),
                    },
                    objects_root: root.join(S3_BUCKET).join("music"),
                    port: Some(server.port()),
                    _s3: Some(server),
                    _dav: None,
                    _dir: dir,
                }
            }
            Backend::WebDav => {
                let root = dir.path().join("dav");
                std::fs::create_dir_all(root.join("locker")).unwrap();
                let server = loft_testkit::DavServer::start(&root, 0).unwrap();
                TestStorage {
                    backend,
                    url: format!("webdav+http://127.0.0.1:{}/locker", server.port()),
                    credentials: Credentials::WebDav { user: DAV_USER.into(), password: DAV_PASSWORD.into() },
                    objects_root: root.join("locker"),
                    port: Some(server.port()),
                    _s3: None,
                    _dav: Some(server),
                    _dir: dir,
                }
            }
            Backend::Folder => {
                let root = dir.path().join("folder");
                TestStorage {
                    backend,
                    url: format!("file://{}", root.display()),
                    credentials: Credentials::None,
                    objects_root: root,
                    port: None,
                    _s3: None,
                    _dav: None,
                    _dir: dir,
                }
            }
        }
    }

    /// A device: its own state dir, opened with small parts and no settle time.
    pub async fn device(&self, name: &str) -> (Locker, TempDir) {
        let state = tempfile::tempdir().unwrap();
        let locker = self.open(name, state.path(), test_options()).await;
        (locker, state)
    }

    pub async fn open(&self, name: &str, state: &Path, options: OpenOptions) -> Locker {
        Locker::open_with(&self.url, self.credentials.clone(), name, state, options).await.unwrap()
    }

    /// Drops a file into the locker's folder behind the client's back, as rclone or a web
    /// console would.
    pub fn put_behind_the_back(&self, relative: &str, data: &[u8]) {
        let path = self.objects_root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }

    pub fn files_under(&self, relative: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        collect(&self.objects_root.join(relative), &mut found);
        found.sort();
        found
    }
}

fn collect(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, found);
        } else {
            found.push(path);
        }
    }
}

pub fn test_options() -> OpenOptions {
    OpenOptions {
        retry: RetryPolicy {
            retries: 2,
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
            request_timeout: Duration::from_secs(30),
        },
        new_locker_part_size: 64 * 1024,
        inbox_settle: Duration::ZERO,
        // Tests never touch the keychain of the machine they run on.
        use_keychain: false,
        ..OpenOptions::default()
    }
}

/// An S3 server that answers every `fail_every`-th request with 503 Slow Down, as a throttled
/// or briefly overloaded service does. Returns the port and a count of the refusals.
pub async fn serve_flaky_s3(root: &Path, fail_every: usize) -> (u16, Arc<AtomicUsize>) {
    let service = loft_testkit::s3_service(root).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let refusals = refused.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (service, requests, refused) = (service.clone(), requests.clone(), refused.clone());
            tokio::spawn(async move {
                let flaky = hyper::service::service_fn(
                    move |request: hyper::Request<hyper::body::Incoming>| {
                        let (service, requests, refused) =
                            (service.clone(), requests.clone(), refused.clone());
                        async move {
                            if requests.fetch_add(1, Ordering::SeqCst) % fail_every == fail_every - 1 {
                                refused.fetch_add(1, Ordering::SeqCst);
                                let body = "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>Slow down</Message></Error>";
                                let mut response = s3s::HttpResponse::new(s3s::Body::from(body.to_owned()));
                                *response.status_mut() = hyper::StatusCode::SERVICE_UNAVAILABLE;
                                return Ok::<_, s3s::HttpError>(response);
                            }
                            service.call(request.map(s3s::Body::from)).await
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), flaky)
                    .await;
            });
        }
    });
    (port, refusals)
}

/// An S3 server that takes in the bodies of part uploads (`…/parts/…`) at `bytes_per_sec`, as
/// over a slow uplink, and counts every part byte it received, complete upload or not. Returns
/// the port and that count.
pub async fn serve_paced_s3(root: &Path, bytes_per_sec: u64) -> (u16, Arc<AtomicU64>) {
    let service = loft_testkit::s3_service(root).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (service, received) = (service.clone(), received.clone());
            tokio::spawn(async move {
                let paced =
                    hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                        let (service, received) = (service.clone(), received.clone());
                        async move {
                            let is_part = request.uri().path().contains("/parts/");
                            let request = request.map(|body| {
                                let body = s3s::Body::from(body);
                                if !is_part {
                                    return body;
                                }
                                let paced = PacedBody { inner: body, received, bytes_per_sec, pause: None };
                                s3s::Body::from(Box::pin(paced) as s3s::stream::DynByteStream)
                            });
                            service.call(request).await
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), paced)
                    .await;
            });
        }
    });
    (port, counter)
}

struct PacedBody {
    inner: s3s::Body,
    received: Arc<AtomicU64>,
    bytes_per_sec: u64,
    pause: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl futures::Stream for PacedBody {
    type Item = Result<bytes::Bytes, s3s::StdError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        if let Some(pause) = self.pause.as_mut() {
            std::task::ready!(pause.as_mut().poll(cx));
            self.pause = None;
        }
        let item = std::task::ready!(futures::Stream::poll_next(std::pin::Pin::new(&mut self.inner), cx));
        if let Some(Ok(bytes)) = &item {
            self.received.fetch_add(bytes.len() as u64, Ordering::SeqCst);
            let pause = Duration::from_secs_f64(bytes.len() as f64 / self.bytes_per_sec as f64);
            self.pause = Some(Box::pin(tokio::time::sleep(pause)));
        }
        std::task::Poll::Ready(item)
    }
}

impl s3s::stream::ByteStream for PacedBody {
    fn remaining_length(&self) -> s3s::stream::RemainingLength {
        s3s::stream::ByteStream::remaining_length(&self.inner)
    }
}

/// A small PCM WAV file with RIFF INFO tags and content unique to `seed`.
pub fn wav(seed: u64, samples: usize, title: &str, artist: &str, album: &str) -> Vec<u8> {
    let mut info = Vec::new();
    for (id, text) in [(b"INAM", title), (b"IART", artist), (b"IPRD", album)] {
        let mut value = text.as_bytes().to_vec();
        value.push(0);
        info.extend_from_slice(id);
        info.extend_from_slice(&(value.len() as u32).to_le_bytes());
        if value.len() % 2 == 1 {
            value.push(0);
        }
        info.extend_from_slice(&value);
    }
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut pcm = Vec::with_capacity(samples * 2);
    for _ in 0..samples {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        pcm.extend_from_slice(&((state >> 48) as i16 / 8).to_le_bytes());
    }
    let mut out = Vec::new();
    let riff_size = 4 + (8 + 16) + (8 + 4 + info.len()) + (8 + pcm.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(riff_size as u32).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&16000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"LIST");
    out.extend_from_slice(&((4 + info.len()) as u32).to_le_bytes());
    out.extend_from_slice(b"INFO");
    out.extend_from_slice(&info);
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(pcm.len() as u32).to_le_bytes());
    out.extend_from_slice(&pcm);
    out
}

/// Writes `count` distinct tagged WAV files into `dir`, returning their paths.
pub fn write_tracks(dir: &Path, first_seed: u64, count: usize, samples: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (0..count)
        .map(|index| {
            let seed = first_seed + index as u64;
            let path = dir.join(format!("track-{seed:04}.wav"));
            std::fs::write(&path, wav(seed, samples, &format!("Song {seed}"), "The Testers", "Loopback"))
                .unwrap();
            path
        })
        .collect()
}

/// One file of [`tagged_corpus`], with the tags written into it.
pub struct CorpusFile {
    pub path: PathBuf,
    pub title: String,
    pub artist: String,
    pub album: String,
}

/// A small library in every container Loft plays, each tagged by the real tool users use to
/// make such files: FLAC (flac), MP3 with ID3v2 (lame), Ogg Vorbis and Ogg Opus and AAC in
/// MP4 (ffmpeg), and WAV with RIFF INFO tags. Titles, artists and albums are distinctive, so a
/// test can look for them anywhere.
pub fn tagged_corpus(dir: &Path) -> Vec<CorpusFile> {
    std::fs::create_dir_all(dir).unwrap();
    let run = |program: &str, args: &[&str]| {
        let output = std::process::Command::new(program).args(args).output().unwrap_or_else(|error| {
            panic!("{program} is needed for this test (scripts/install-deps.sh installs it): {error}")
        });
        assert!(output.status.success(), "{program} failed: {}", String::from_utf8_lossy(&output.stderr));
    };
    let formats = ["flac", "mp3", "ogg", "opus", "m4a", "wav"];
    formats
        .iter()
        .enumerate()
        .map(|(index, extension)| {
            let title = format!("Nocturne in Teal Number {index}");
            let artist = format!("Marguerite Okonkwo Ensemble {index}");
            let album = format!("Harbour Lights Sessions {index}");
            let source = dir.join(format!("source-{index}.wav"));
            std::fs::write(&source, wav(9_000 + index as u64, 120_000, &title, &artist, &album)).unwrap();
            let path = dir.join(format!("track-{index}.{extension}"));
            let (source_text, path_text) = (source.to_str().unwrap(), path.to_str().unwrap());
            let metadata = [format!("title={title}"), format!("artist={artist}"), format!("album={album}")];
            let ffmpeg = |codec: &[&str]| {
                let mut args = vec!["-hide_banner", "-loglevel", "error", "-y", "-i", source_text];
                args.extend_from_slice(codec);
                for tag in &metadata {
                    args.extend_from_slice(&["-metadata", tag]);
                }
                args.push(path_text);
                run("ffmpeg", &args);
            };
            match *extension {
                "flac" => run(
                    "flac",
                    &[
                        "--silent",
                        "-f",
                        &format!("--tag=TITLE={title}"),
                        &format!("--tag=ARTIST={artist}"),
                        &format!("--tag=ALBUM={album}"),
                        source_text,
                        "-o",
                        path_text,
                    ],
                ),
                "mp3" => run(
                    "lame",
                    &[
                        "--quiet",
                        "--id3v2-only",
                        "--tt",
                        &title,
                        "--ta",
                        &artist,
                        "--tl",
                        &album,
                        source_text,
                        path_text,
                    ],
                ),
                "ogg" => ffmpeg(&["-c:a", "libvorbis"]),
                "opus" => ffmpeg(&["-c:a", "libopus", "-ar", "48000"]),
                "m4a" => ffmpeg(&["-c:a", "aac"]),
                _ => std::fs::copy(&source, &path).map(|_| ()).unwrap(),
            }
            std::fs::remove_file(&source).unwrap();
            CorpusFile { path, title, artist, album }
        })
        .collect()
}
