//! A WebDAV server (dav-server over a folder) that asks for one user name and password and
//! reports a quota as Nextcloud does, for the locker's tests and for tests that drive a
//! program from outside, as the end-to-end tests drive the app.

use std::io;
use std::path::Path;
use std::thread::JoinHandle;

use hyper_util::rt::TokioIo;

pub const DAV_USER: &str = "loft";
pub const DAV_PASSWORD: &str = "secret";
/// `Basic` and base64 of `loft:secret`: the only credentials the server takes.
const AUTHORIZATION: &str = "Basic bG9mdDpzZWNyZXQ=";
/// Requests that change something: a read-only server answers them 403.
const WRITES: [&str; 6] = ["PUT", "MKCOL", "MOVE", "COPY", "DELETE", "PROPPATCH"];

/// The WebDAV server's total space: reported through RFC 4331 like Nextcloud's user quotas.
pub const DAV_QUOTA_TOTAL: u64 = 10 * 1024 * 1024 * 1024;

/// dav-server's local file system with a quota, which its own LocalFs does not report.
#[derive(Clone)]
struct QuotaFs {
    inner: Box<dav_server::localfs::LocalFs>,
}

impl dav_server::fs::DavFileSystem for QuotaFs {
    fn open<'a>(
        &'a self,
        path: &'a dav_server::davpath::DavPath,
        options: dav_server::fs::OpenOptions,
    ) -> dav_server::fs::FsFuture<'a, Box<dyn dav_server::fs::DavFile>> {
        self.inner.open(path, options)
    }

    fn read_dir<'a>(
        &'a self,
        path: &'a dav_server::davpath::DavPath,
        meta: dav_server::fs::ReadDirMeta,
    ) -> dav_server::fs::FsFuture<'a, dav_server::fs::FsStream<Box<dyn dav_server::fs::DavDirEntry>>> {
        self.inner.read_dir(path, meta)
    }

    fn metadata<'a>(
        &'a self,
        path: &'a dav_server::davpath::DavPath,
    ) -> dav_server::fs::FsFuture<'a, Box<dyn dav_server::fs::DavMetaData>> {
        self.inner.metadata(path)
    }

    fn create_dir<'a>(&'a self, path: &'a dav_server::davpath::DavPath) -> dav_server::fs::FsFuture<'a, ()> {
        self.inner.create_dir(path)
    }

    fn remove_dir<'a>(&'a self, path: &'a dav_server::davpath::DavPath) -> dav_server::fs::FsFuture<'a, ()> {
        self.inner.remove_dir(path)
    }

    fn remove_file<'a>(&'a self, path: &'a dav_server::davpath::DavPath) -> dav_server::fs::FsFuture<'a, ()> {
        self.inner.remove_file(path)
    }

    fn rename<'a>(
        &'a self,
        from: &'a dav_server::davpath::DavPath,
        to: &'a dav_server::davpath::DavPath,
    ) -> dav_server::fs::FsFuture<'a, ()> {
        self.inner.rename(from, to)
    }

    fn copy<'a>(
        &'a self,
        from: &'a dav_server::davpath::DavPath,
        to: &'a dav_server::davpath::DavPath,
    ) -> dav_server::fs::FsFuture<'a, ()> {
        self.inner.copy(from, to)
    }

    fn get_quota(&self) -> dav_server::fs::FsFuture<'_, (u64, Option<u64>)> {
        Box::pin(std::future::ready(Ok((0, Some(DAV_QUOTA_TOTAL)))))
    }
}

/// A running WebDAV server; dropping it stops it and closes every connection.
pub struct DavServer {
    port: u16,
    running: Option<(tokio::sync::oneshot::Sender<()>, JoinHandle<()>)>,
}

impl DavServer {
    /// Serves `root` on `port` (0: a free one).
    pub fn start(root: &Path, port: u16) -> io::Result<DavServer> {
        DavServer::start_with(root, port, false)
    }

    /// A server whose user may read but not write (every write answered 403), as a share
    /// given read-only access is.
    pub fn start_read_only(root: &Path) -> io::Result<DavServer> {
        DavServer::start_with(root, 0, true)
    }

    fn start_with(root: &Path, port: u16, read_only: bool) -> io::Result<DavServer> {
        std::fs::create_dir_all(root)?;
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let handler = dav_server::DavHandler::builder()
            .filesystem(Box::new(QuotaFs {
                inner: dav_server::localfs::LocalFs::new(root, false, false, false),
            }))
            .locksystem(dav_server::fakels::FakeLs::new())
            .build_handler();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("loft-test-dav".into()).spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                let accept = async {
                    while let Ok((stream, _)) = listener.accept().await {
                        let handler = handler.clone();
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(
                                move |request: hyper::Request<hyper::body::Incoming>| {
                                    let handler = handler.clone();
                                    async move {
                                        let authorized =
                                            request.headers().get(hyper::header::AUTHORIZATION).is_some_and(
                                                |value| value.as_bytes() == AUTHORIZATION.as_bytes(),
                                            );
                                        if authorized
                                            && read_only
                                            && WRITES.contains(&request.method().as_str())
                                        {
                                            let mut refusal = hyper::Response::new(
                                                dav_server::body::Body::from("read only"),
                                            );
                                            *refusal.status_mut() = hyper::StatusCode::FORBIDDEN;
                                            return Ok(refusal);
                                        }
                                        if authorized {
                                            return Ok::<_, std::convert::Infallible>(
                                                handler.handle(request).await,
                                            );
                                        }
                                        let mut refusal = hyper::Response::new(dav_server::body::Body::from(
                                            "login required",
                                        ));
                                        *refusal.status_mut() = hyper::StatusCode::UNAUTHORIZED;
                                        refusal.headers_mut().insert(
                                            hyper::header::WWW_AUTHENTICATE,
                                            hyper::header::HeaderValue::from_static("Basic realm=\"loft\""),
                                        );
                                        Ok(refusal)
                                    }
                                },
                            );
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = stopped => {}
                }
            });
        })?;
        Ok(DavServer { port, running: Some((stop, thread)) })
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for DavServer {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.running.take() {
            let _ = stop.send(());
            let _ = thread.join();
        }
    }
}
