//! A WebDAV server (dav-server over a folder) that asks for one user name and password, for
//! tests that drive a program from outside, as the end-to-end tests drive the app.

use std::io;
use std::path::Path;
use std::thread::JoinHandle;

use hyper_util::rt::TokioIo;

pub const DAV_USER: &str = "loft";
pub const DAV_PASSWORD: &str = "secret";
/// `Basic` and base64 of `loft:secret`: the only credentials the server takes.
const AUTHORIZATION: &str = "Basic bG9mdDpzZWNyZXQ=";

/// A running WebDAV server; dropping it stops it and closes every connection.
pub struct DavServer {
    port: u16,
    running: Option<(tokio::sync::oneshot::Sender<()>, JoinHandle<()>)>,
}

impl DavServer {
    /// Serves `root` on `port` (0: a free one).
    pub fn start(root: &Path, port: u16) -> io::Result<DavServer> {
        std::fs::create_dir_all(root)?;
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let handler = dav_server::DavHandler::builder()
            .filesystem(dav_server::localfs::LocalFs::new(root, false, false, false))
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
