//! The HTTP client the S3 and WebDAV backends send through: reqwest, with request bodies handed
//! to the connection in slices, so that an upload can show what is on the wire while a part is
//! being sent instead of jumping a whole part (8 MiB by default) at a time.
//!
//! OpenDAL builds and signs the requests; this only carries them. A write that wants to see its
//! body go out runs inside [`with_body_progress`]: the request is built in that task, so the
//! callback is picked up there and travels with the body to whichever task hyper polls it from.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{TryStreamExt, future};
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH};
use http::{Method, Request, Response};
use http_body::{Frame, SizeHint};
use opendal::raw::{HttpBody, HttpFetch};
use opendal::{Buffer, Error, ErrorKind};

use crate::error::HttpRefusal;

/// The largest slice of a request body handed to the connection at once: small enough that
/// progress moves smoothly on a slow link, large enough to cost nothing on a fast one.
const SLICE: usize = 64 * 1024;

/// Told how many bytes of the current request body the connection has taken so far. A retried
/// request starts again from 0.
pub(crate) type BodyProgress = Arc<dyn Fn(u64) + Send + Sync>;

tokio::task_local! {
    static BODY_PROGRESS: BodyProgress;
    static READ_CAP: u64;
}

/// Runs `read` with answers to its GET requests limited to `cap` bytes: a larger one is refused
/// unread (by its declared length) or cut off (as its body arrives), with an error that
/// [`too_large`] recognises.
pub(crate) async fn with_read_cap<T>(cap: u64, read: impl Future<Output = T>) -> T {
    READ_CAP.scope(cap, read).await
}

/// The size of an answer refused for being larger than the cap, if that is what `error` is.
pub(crate) fn too_large(error: &Error) -> Option<u64> {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<TooLarge>() {
            return Some(refused.size);
        }
        source = cause.source();
    }
    None
}

/// An answer larger than the reader allows.
#[derive(Debug)]
struct TooLarge {
    size: u64,
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the answer is {} bytes, more than the reader takes", self.size)
    }
}

impl std::error::Error for TooLarge {}

/// Runs `write` with `progress` told about the request bodies it sends.
pub(crate) async fn with_body_progress<T>(progress: BodyProgress, write: impl Future<Output = T>) -> T {
    BODY_PROGRESS.scope(progress, write).await
}

/// reqwest, reporting request body progress where a caller asked for it.
pub(crate) struct ProgressClient {
    client: reqwest::Client,
}

impl ProgressClient {
    pub(crate) fn new() -> ProgressClient {
        ProgressClient { client: reqwest::Client::new() }
    }
}

impl HttpFetch for ProgressClient {
    async fn fetch(&self, request: Request<Buffer>) -> opendal::Result<Response<HttpBody>> {
        // Only the upload itself: a write also sends small bodies of its own (WebDAV asks
        // PROPFIND with one), which are not the data.
        let progress =
            if request.method() == Method::PUT { BODY_PROGRESS.try_with(Arc::clone).ok() } else { None };
        let uri = request.uri().clone();
        let is_head = request.method() == Method::HEAD;
        let read_cap =
            if request.method() == Method::GET { READ_CAP.try_with(|cap| *cap).ok() } else { None };
        let (parts, body) = request.into_parts();
        let url = reqwest::Url::parse(&uri.to_string()).map_err(|error| {
            Error::new(ErrorKind::Unexpected, "the request URL is invalid")
                .with_context("url", uri.to_string())
                .set_source(error)
        })?;
        let mut builder =
            self.client.request(parts.method, url).headers(parts.headers).version(parts.version);
        if !body.is_empty() {
            builder = builder.body(reqwest::Body::wrap(SlicedBody::new(body, progress)));
        }
        let mut response =
            builder.send().await.map_err(|error| transport_error("sending the request", &uri, error))?;

        // The declared length lets OpenDAL notice a body cut short; a HEAD answer and an
        // encoded body declare a length that is not the one read.
        let declared_length = if is_head || response.headers().contains_key(CONTENT_ENCODING) {
            None
        } else {
            response
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse::<u64>().ok())
        };
        let status = response.status().as_u16();
        if matches!(status, 401 | 403 | 404 | 507) && !is_head {
            return refusal_or_answer(response, uri, status).await;
        }
        if matches!(status, 401 | 403 | 507) {
            return Err(refused(&uri, HttpRefusal { status, code: None }));
        }
        let mut answer =
            Response::builder().status(response.status()).version(response.version()).extension(uri.clone());
        if let Some(headers) = answer.headers_mut() {
            std::mem::swap(headers, response.headers_mut());
        }
        if let (Some(cap), Some(length)) = (read_cap, declared_length)
            && length > cap
        {
            return Err(Error::new(ErrorKind::Unexpected, "the answer is larger than the reader takes")
                .with_context("url", uri.to_string())
                .set_source(TooLarge { size: length }));
        }
        let mut received = 0u64;
        let stream = response
            .bytes_stream()
            .try_filter(|chunk| future::ready(!chunk.is_empty()))
            .map_err(move |error| transport_error("reading the answer", &uri, error))
            .and_then(move |chunk| {
                received += chunk.len() as u64;
                let within = read_cap.is_none_or(|cap| received <= cap);
                future::ready(if within {
                    Ok(Buffer::from(chunk))
                } else {
                    Err(Error::new(ErrorKind::Unexpected, "the answer is larger than the reader takes")
                        .set_source(TooLarge { size: received }))
                })
            });
        answer.body(HttpBody::new(stream, declared_length)).map_err(|error| {
            Error::new(ErrorKind::Unexpected, "building the HTTP response").set_source(error)
        })
    }
}

/// The largest error document read to find an S3 error code in it.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// A refusal (401, 403, 507, or S3's 404 for a missing bucket) becomes an error carrying the
/// status and the S3 error code as a value, so the classification reads them instead of the
/// text; any other 404 (an object that is not there) goes back to OpenDAL as the answer it was.
async fn refusal_or_answer(
    mut response: reqwest::Response,
    uri: http::Uri,
    status: u16,
) -> opendal::Result<Response<HttpBody>> {
    let mut body = Vec::new();
    while body.len() < ERROR_BODY_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(error) => return Err(transport_error("reading the answer", &uri, error)),
        }
    }
    let code = s3_error_code(&body);
    if status != 404 || code.as_deref() == Some("NoSuchBucket") {
        tracing::debug!(%uri, status, ?code, body = %String::from_utf8_lossy(&body), "the storage refused a request");
        return Err(refused(&uri, HttpRefusal { status, code }));
    }
    let mut answer =
        Response::builder().status(response.status()).version(response.version()).extension(uri.clone());
    if let Some(headers) = answer.headers_mut() {
        std::mem::swap(headers, response.headers_mut());
        headers.remove(CONTENT_ENCODING);
    }
    let length = body.len() as u64;
    let stream = futures::stream::once(future::ready(Ok(Buffer::from(Bytes::from(body)))));
    answer
        .body(HttpBody::new(stream, Some(length)))
        .map_err(|error| Error::new(ErrorKind::Unexpected, "building the HTTP response").set_source(error))
}

fn refused(uri: &http::Uri, refusal: HttpRefusal) -> Error {
    Error::new(ErrorKind::Unexpected, format!("the storage answered {refusal}"))
        .with_context("url", uri.to_string())
        .set_source(refusal)
}

/// The `<Code>` element of an S3 error document.
fn s3_error_code(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let length = text[start..].find("</Code>")?;
    let code = text[start..start + length].trim();
    (!code.is_empty() && code.len() <= 64 && code.bytes().all(|byte| byte.is_ascii_alphanumeric()))
        .then(|| code.to_owned())
}

/// An error and its causes in one line: reqwest's own message leaves out the one that says
/// what happened ("Connection refused", "dns error").
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A failure of the connection while `doing`, worded so the error classification knows it for
/// the network, and marked for a retry when it is one worth retrying.
pub(crate) fn transport_error(doing: &str, uri: &http::Uri, error: reqwest::Error) -> Error {
    let temporary = is_temporary(&error);
    Error::new(
        ErrorKind::Unexpected,
        format!("the HTTP connection failed ({doing}): {}", error_chain(&error)),
    )
    .with_context("url", uri.to_string())
    .with_temporary(temporary)
    .set_source(error)
}

/// Failures worth a retry: the request or the body broke off (a reset, a timeout), not an
/// answer the server gave.
fn is_temporary(error: &reqwest::Error) -> bool {
    error.is_request() || error.is_body() || error.is_decode() || error.is_timeout() || error.is_connect()
}

/// A request body given to the connection a slice at a time, counting what it has taken.
struct SlicedBody {
    slices: std::collections::VecDeque<Bytes>,
    remaining: u64,
    taken: u64,
    progress: Option<BodyProgress>,
}

impl SlicedBody {
    fn new(body: Buffer, progress: Option<BodyProgress>) -> SlicedBody {
        let mut slices = std::collections::VecDeque::new();
        for mut chunk in body {
            while chunk.len() > SLICE {
                slices.push_back(chunk.split_to(SLICE));
            }
            if !chunk.is_empty() {
                slices.push_back(chunk);
            }
        }
        let remaining = slices.iter().map(|slice| slice.len() as u64).sum();
        SlicedBody { slices, remaining, taken: 0, progress }
    }
}

impl http_body::Body for SlicedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        // Asked for the next slice, the connection has taken the ones before it.
        if let Some(progress) = &self.progress {
            progress(self.taken);
        }
        let Some(slice) = self.slices.pop_front() else { return Poll::Ready(None) };
        let length = slice.len() as u64;
        self.taken += length;
        self.remaining -= length;
        Poll::Ready(Some(Ok(Frame::data(slice))))
    }

    fn is_end_stream(&self) -> bool {
        self.slices.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;
    use std::sync::Mutex;

    #[test]
    fn a_body_goes_out_in_slices_and_counts_what_was_taken() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let progress: BodyProgress = {
            let seen = Arc::clone(&seen);
            Arc::new(move |taken| seen.lock().unwrap().push(taken))
        };
        let data: Vec<u8> = (0..150_000u32).map(|i| i as u8).collect();
        // Two chunks, as a non-contiguous Buffer may be.
        let buffer = Buffer::from(vec![
            Bytes::copy_from_slice(&data[..100_000]),
            Bytes::copy_from_slice(&data[100_000..]),
        ]);
        let mut body = SlicedBody::new(buffer, Some(progress));
        assert_eq!(body.size_hint().exact(), Some(150_000));

        let waker = futures::task::noop_waker();
        let mut context = Context::from_waker(&waker);
        let mut received = Vec::new();
        let mut frames = 0;
        while let Poll::Ready(Some(frame)) = Pin::new(&mut body).poll_frame(&mut context) {
            let slice = frame.unwrap().into_data().unwrap();
            assert!(slice.len() <= SLICE);
            received.extend_from_slice(&slice);
            frames += 1;
        }
        assert_eq!(received, data);
        // The first chunk is split at 64 KiB; the second fits in one slice.
        assert_eq!(frames, 3);
        assert!(body.is_end_stream());
        assert_eq!(*seen.lock().unwrap(), vec![0, 65_536, 100_000, 150_000]);
    }
}
