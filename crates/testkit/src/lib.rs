//! Real servers on loopback for tests that need a locker behind a network: an S3 service
//! (s3s over s3s-fs, with SigV4 signatures checked against one key pair) and a WebDAV one
//! (dav-server over a folder, one user). Each server runs on a thread and runtime of its own,
//! so synchronous tests can use it, and stopping it closes every connection at once, the way a
//! server that went away does.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use hyper_util::rt::TokioIo;

mod dav;
mod http_proxy;
mod paced;

pub use dav::{DAV_PASSWORD, DAV_USER, DavServer};
pub use http_proxy::{Fault, HttpProxy};

pub const S3_KEY: &str = "loft-test-key";
pub const S3_SECRET: &str = "loft-test-secret-0123456789";
pub const S3_BUCKET: &str = "loft";

/// The S3 service itself, objects in `root` (`<root>/<bucket>/<key>`), SigV4 checked against
/// [`S3_KEY`] and [`S3_SECRET`]: for tests that serve it their own way (a server that fails on
/// purpose, one that counts what it receives).
pub fn s3_service(root: &Path) -> io::Result<s3s::service::S3Service> {
    let fs = s3s_fs::FileSystem::new(root).map_err(|error| io::Error::other(format!("{error:?}")))?;
    let mut builder = s3s::service::S3ServiceBuilder::new(fs);
    builder.set_auth(s3s::auth::SimpleAuth::from_single(S3_KEY, S3_SECRET));
    Ok(builder.build())
}

/// An S3 server keeping its objects in a folder (`<root>/<bucket>/<key>`).
pub struct S3Server {
    root: PathBuf,
    address: SocketAddr,
    /// Bytes per second the server takes from each connection, if limited.
    receive_rate: Option<u64>,
    running: Option<(tokio::sync::oneshot::Sender<()>, JoinHandle<()>)>,
}

impl S3Server {
    /// Starts a server on a free port, with the bucket [`S3_BUCKET`] made.
    pub fn start(root: &Path) -> io::Result<S3Server> {
        S3Server::start_on(root, 0)
    }

    /// Starts a server on `port` (0 for a free one).
    pub fn start_on(root: &Path, port: u16) -> io::Result<S3Server> {
        S3Server::start_with(root, port, None)
    }

    /// Starts a server on `port` (0 for a free one) that reads what each connection sends at
    /// `receive_rate` bytes per second at most, as through a slow uplink (uploads take their
    /// time; downloads are not slowed).
    pub fn start_with(root: &Path, port: u16, receive_rate: Option<u64>) -> io::Result<S3Server> {
        std::fs::create_dir_all(root.join(S3_BUCKET))?;
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let service = s3_service(root)?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("loft-test-s3".into()).spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                let accept = async {
                    while let Ok((stream, _)) = listener.accept().await {
                        let service = service.clone();
                        tokio::spawn(async move {
                            let http = hyper::server::conn::http1::Builder::new();
                            let _ = match receive_rate {
                                Some(rate) => {
                                    let stream = TokioIo::new(paced::PacedReads::new(stream, rate));
                                    http.serve_connection(stream, service).await
                                }
                                None => http.serve_connection(TokioIo::new(stream), service).await,
                            };
                        });
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = stopped => {}
                }
            });
            // Dropping the runtime here drops every connection task with it.
        })?;
        Ok(S3Server { root: root.to_owned(), address, receive_rate, running: Some((stop, thread)) })
    }

    /// Starts a server on a free port and puts its key pair where a headless Loft looks for
    /// credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`).
    ///
    /// # Safety
    /// Changes the process environment, which other threads may be reading: call it first in a
    /// test binary's only test, before anything starts a thread.
    #[allow(unsafe_code)]
    pub unsafe fn start_with_env_credentials(root: &Path) -> io::Result<S3Server> {
        // SAFETY: the caller guarantees no other thread runs yet.
        unsafe {
            std::env::set_var("AWS_ACCESS_KEY_ID", S3_KEY);
            std::env::set_var("AWS_SECRET_ACCESS_KEY", S3_SECRET);
        }
        S3Server::start(root)
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The locker URL of `prefix` in the bucket, as `loft locker connect` takes it.
    pub fn locker_url(&self, prefix: &str) -> String {
        format!("s3://{S3_BUCKET}/{prefix}?endpoint=http://{}&region=us-east-1", self.address)
    }

    /// Stops answering: the port closes and open connections drop.
    pub fn stop(&mut self) {
        if let Some((stop, thread)) = self.running.take() {
            let _ = stop.send(());
            let _ = thread.join();
        }
    }

    /// Starts again on the same port, with the same objects.
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop();
        let again = S3Server::start_with(&self.root, self.address.port(), self.receive_rate)?;
        *self = again;
        Ok(())
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn get(port: u16, path: &str) -> io::Result<String> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
        write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    }

    #[test]
    fn unsigned_requests_are_refused_and_a_stopped_server_is_gone_until_restarted() {
        let dir = std::env::temp_dir().join(format!("loft-testkit-{}", std::process::id()));
        let mut server = S3Server::start(&dir).unwrap();
        let answer = get(server.port(), "/loft/").unwrap();
        assert!(answer.starts_with("HTTP/1.1 403"), "no signature, no access: {answer}");
        server.stop();
        assert!(get(server.port(), "/loft/").is_err(), "the port is closed");
        server.restart().unwrap();
        assert!(get(server.port(), "/loft/").unwrap().starts_with("HTTP/1.1 403"));
        drop(server);
        let _ = std::fs::remove_dir_all(dir);
    }
}
