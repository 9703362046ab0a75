//! An HTTP proxy for fault tests that must hit one request exactly: it forwards everything to
//! an upstream server, except requests matching a rule (by method, and by a piece of the path
//! or of the WebDAV `Destination` header), which it can
//!
//! - **hold**: keep waiting, unanswered, until the rule is lifted — so a test knows a client is
//!   stopped right at that request (and can kill it there);
//! - **forward and drop the answer**: the request reaches the server and takes effect, but the
//!   client's connection is closed instead of answered — the "did it land?" case;
//! - **refuse**: answer 503 without forwarding.
//!
//! Runs on a thread and runtime of its own, so synchronous tests (and other processes) can use
//! it; it stops when dropped.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// What a rule does to the requests it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Hold,
    DropAnswer,
    Refuse,
}

#[derive(Debug, Clone)]
struct Rule {
    method: Option<String>,
    needle: String,
    fault: Fault,
    /// How many more requests it applies to (`None`: until lifted).
    left: Option<usize>,
}

#[derive(Default)]
struct Shared {
    rules: Mutex<Vec<Rule>>,
    /// Requests matched by a rule so far (counting held ones as soon as they are held).
    matched: AtomicUsize,
    /// Requests being held right now.
    holding: AtomicUsize,
    /// Every request a rule matched, as `METHOD path`, oldest first.
    seen: Mutex<Vec<String>>,
    changed: tokio::sync::Notify,
}

/// A running proxy.
pub struct HttpProxy {
    address: SocketAddr,
    shared: Arc<Shared>,
    running: Option<(tokio::sync::oneshot::Sender<()>, JoinHandle<()>)>,
}

impl HttpProxy {
    /// Starts a proxy on a free port in front of `127.0.0.1:upstream_port`.
    pub fn start(upstream_port: u16) -> io::Result<HttpProxy> {
        HttpProxy::start_on(upstream_port, 0)
    }

    /// Starts a proxy on `port` (0 for a free one): a proxy stopped (dropped) and started again
    /// on its port is the network going away and coming back.
    pub fn start_on(upstream_port: u16, port: u16) -> io::Result<HttpProxy> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = shared.clone();
        let thread = std::thread::Builder::new().name("loft-test-proxy".into()).spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                let accept = async {
                    while let Ok((stream, _)) = listener.accept().await {
                        let state = state.clone();
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(move |request| {
                                handle(request, upstream_port, state.clone())
                            });
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
        Ok(HttpProxy { address, shared, running: Some((stop, thread)) })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Applies `fault` to requests of `method` (any method when `None`) whose path or WebDAV
    /// destination contains `needle`, for the next `times` of them (`None`: until lifted).
    pub fn add_rule(&self, method: Option<&str>, needle: &str, fault: Fault, times: Option<usize>) {
        self.shared.rules.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(Rule {
            method: method.map(str::to_owned),
            needle: needle.to_owned(),
            fault,
            left: times,
        });
    }

    /// Lifts every rule; held requests go on to the server.
    pub fn clear_rules(&self) {
        self.shared.rules.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clear();
        self.shared.changed.notify_waiters();
    }

    /// Requests matched by a rule so far.
    pub fn matched(&self) -> usize {
        self.shared.matched.load(Ordering::SeqCst)
    }

    /// Every request a rule matched so far, as `METHOD path destination`.
    pub fn matched_requests(&self) -> Vec<String> {
        self.shared.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Waits (polling, up to `timeout`) until at least one request is being held.
    pub fn wait_until_holding(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if self.shared.holding.load(Ordering::SeqCst) > 0 {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for HttpProxy {
    fn drop(&mut self) {
        self.clear_rules();
        if let Some((stop, thread)) = self.running.take() {
            let _ = stop.send(());
            let _ = thread.join();
        }
    }
}

/// The fault the first matching rule gives this request, using up one of its times.
fn fault_for(shared: &Shared, method: &str, path: &str, destination: &str) -> Option<Fault> {
    let mut rules = shared.rules.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let index = rules.iter().position(|rule| {
        rule.method.as_deref().is_none_or(|wanted| wanted.eq_ignore_ascii_case(method))
            && (path.contains(&rule.needle) || destination.contains(&rule.needle))
    })?;
    let fault = rules[index].fault;
    if let Some(left) = rules[index].left.as_mut() {
        *left -= 1;
        if *left == 0 {
            rules.remove(index);
        }
    }
    shared.matched.fetch_add(1, Ordering::SeqCst);
    shared
        .seen
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push(format!("{method} {path} {destination}"));
    Some(fault)
}

fn still_held(shared: &Shared, method: &str, path: &str, destination: &str) -> bool {
    let rules = shared.rules.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    rules.iter().any(|rule| {
        rule.fault == Fault::Hold
            && rule.method.as_deref().is_none_or(|wanted| wanted.eq_ignore_ascii_case(method))
            && (path.contains(&rule.needle) || destination.contains(&rule.needle))
    })
}

/// One request being held, for as long as it is.
struct Holding<'a>(&'a Shared);

impl<'a> Holding<'a> {
    fn new(shared: &'a Shared) -> Holding<'a> {
        shared.holding.fetch_add(1, Ordering::SeqCst);
        Holding(shared)
    }
}

impl Drop for Holding<'_> {
    fn drop(&mut self) {
        self.0.holding.fetch_sub(1, Ordering::SeqCst);
    }
}

type ProxyBody = http_body_util::Full<hyper::body::Bytes>;

async fn handle(
    request: Request<Incoming>,
    upstream_port: u16,
    shared: Arc<Shared>,
) -> Result<Response<ProxyBody>, io::Error> {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path_and_query().map(|pq| pq.as_str().to_owned()).unwrap_or_default();
    let destination = request
        .headers()
        .get("destination")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let fault = fault_for(&shared, &method, &path, &destination);
    match fault {
        Some(Fault::Refuse) => {
            let mut answer = Response::new(ProxyBody::from("refused by the test proxy"));
            *answer.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            return Ok(answer);
        }
        Some(Fault::Hold) => {
            // Counted down however the wait ends: a client killed while held drops this future.
            let _held = Holding::new(&shared);
            while still_held(&shared, &method, &path, &destination) {
                let changed = shared.changed.notified();
                tokio::select! {
                    _ = changed => {}
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
        }
        _ => {}
    }
    let answer = forward(request, upstream_port).await?;
    if fault == Some(Fault::DropAnswer) {
        // The server has done it; the client never hears so.
        return Err(io::Error::other("the test proxy drops this answer"));
    }
    Ok(answer)
}

async fn forward(request: Request<Incoming>, upstream_port: u16) -> Result<Response<ProxyBody>, io::Error> {
    use http_body_util::BodyExt;
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(io::Error::other)?.to_bytes();
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", upstream_port)).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(io::Error::other)?;
    tokio::spawn(connection);
    let upstream = Request::from_parts(parts, ProxyBody::from(body));
    let response = sender.send_request(upstream).await.map_err(io::Error::other)?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(io::Error::other)?.to_bytes();
    Ok(Response::from_parts(parts, ProxyBody::from(body)))
}
