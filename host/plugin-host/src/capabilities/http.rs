//! Outbound HTTP (`wasi:http`), allowed only to hosts that the plugin requested
//! and the operator granted. The check runs before any connection is made.
//! Requests and body bytes (sent and received) are counted per call against
//! the plugin's quotas (`http_requests_per_call`, `http_bytes_per_call`).

use super::PluginContext;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use wasmtime_wasi_http::{Error as HttpError, WasiHttpHooks};

pub(crate) struct HttpGate {
    plugin: Arc<PluginContext>,
    pub(crate) denials: Vec<String>,
    requests: u64,
    /// Body bytes sent and received in this call, shared with the bodies in flight.
    bytes: Arc<AtomicU64>,
}

impl HttpGate {
    pub(crate) fn new(plugin: Arc<PluginContext>) -> HttpGate {
        HttpGate {
            plugin,
            denials: Vec::new(),
            requests: 0,
            bytes: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Counts one request against the per-call quota.
    fn count_request(&mut self) -> Result<(), String> {
        let quota = self.plugin.quotas.http_requests_per_call;
        if self.requests >= quota {
            let name = &self.plugin.name;
            return Err(format!(
                "HTTP request quota of {quota} per call reached (plugins.grants.{name}.quotas.http_requests_per_call)"
            ));
        }
        self.requests += 1;
        Ok(())
    }

    fn meter<B>(&self, body: B) -> Metered<B> {
        Metered {
            inner: body,
            used: self.bytes.clone(),
            quota: self.plugin.quotas.http_bytes_per_call,
            plugin: self.plugin.name.clone(),
        }
    }

    fn check(&mut self, uri: &http::Uri) -> Result<(), String> {
        let scheme = uri.scheme_str().unwrap_or("https");
        let Some(host) = uri.host() else {
            return Err(format!("request to `{uri}` has no host"));
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if self.plugin.grants.allows_http(scheme, host, uri.port_u16()) {
            return Ok(());
        }
        let name = &self.plugin.name;
        let target = match uri.port_u16() {
            Some(port) => format!("{scheme}://{host}:{port}"),
            None => format!("{scheme}://{host}"),
        };
        let allowed = if self.plugin.grants.http_hosts.is_empty() {
            "no hosts".to_owned()
        } else {
            self.plugin.grants.http_hosts.join(", ")
        };
        Err(format!(
            "HTTP request to {target} denied: plugin `{name}` may reach {allowed} (grant hosts under plugins.grants.{name}.allowed_hosts)"
        ))
    }
}

type ResponseFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<wasmtime_wasi_http::WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for HttpGate {
    fn send_request(
        &mut self,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> ResponseFuture {
        if let Err(message) = self
            .check(request.uri())
            .and_then(|()| self.count_request())
        {
            tracing::warn!(plugin = %self.plugin.name, "{message}");
            self.denials.push(message);
            // Let the guest finish sending its (discarded) body before refusing, so
            // it sees "request denied" rather than a broken body stream.
            return Box::new(async move {
                let mut body = request.into_body();
                while let Some(Ok(_)) = body.frame().await {}
                Err(HttpError::HttpRequestDenied)
            });
        }
        tracing::debug!(plugin = %self.plugin.name, uri = %request.uri(), "outbound HTTP");
        let request = request.map(|body| BodyExt::boxed_unsync(self.meter(body)));
        let response_meter = self.meter(());
        Box::new(async move {
            let request = with_known_length(request).await?;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(|body| BodyExt::boxed_unsync(response_meter.wrap(body))),
                Box::new(io) as Box<dyn Future<Output = Result<(), HttpError>> + Send>,
            ))
        })
    }
}

/// The most of a body-less request's body (GET, HEAD, DELETE, OPTIONS) read
/// before it is sent.
const SMALL_BODY_BYTES: usize = 64 * 1024;

type OutgoingBody = http_body_util::combinators::UnsyncBoxBody<Bytes, HttpError>;

/// A request whose method carries no body (GET, HEAD, DELETE, OPTIONS) is sent
/// with its body read first and a `Content-Length`. The guest finishes its
/// (empty) body stream only after the request has started, so otherwise the
/// request goes out chunked, the server answers without reading the final
/// chunk and closes the connection, and the chunk arriving after that close
/// makes the server's system reset the connection: the guest intermittently
/// saw "connection reset" instead of the answer. Other requests stream as
/// they are.
async fn with_known_length(
    request: http::Request<OutgoingBody>,
) -> Result<http::Request<OutgoingBody>, HttpError> {
    use http::Method;
    let bodyless = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS
    );
    if !bodyless || request.headers().contains_key(http::header::CONTENT_LENGTH) {
        return Ok(request);
    }
    let (mut parts, body) = request.into_parts();
    let bytes = http_body_util::Limited::new(body, SMALL_BODY_BYTES)
        .collect()
        .await
        .map_err(|_| HttpError::HttpRequestBodySize(Some(SMALL_BODY_BYTES as u64)))?
        .to_bytes();
    parts.headers.insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from(bytes.len()),
    );
    let body = http_body_util::Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync();
    Ok(http::Request::from_parts(parts, body))
}

/// A body whose data frames count against the call's HTTP byte quota; the frame
/// that crosses it ends the body with an error.
struct Metered<B> {
    inner: B,
    used: Arc<AtomicU64>,
    quota: u64,
    plugin: String,
}

impl Metered<()> {
    fn wrap<B>(self, body: B) -> Metered<B> {
        Metered {
            inner: body,
            used: self.used,
            quota: self.quota,
            plugin: self.plugin,
        }
    }
}

impl<B> Body for Metered<B>
where
    B: Body<Data = Bytes, Error = HttpError> + Unpin,
{
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            let len = data.len() as u64;
            let total = this.used.fetch_add(len, Ordering::Relaxed) + len;
            if total > this.quota {
                let message = format!(
                    "HTTP byte quota of {} per call reached (plugins.grants.{}.quotas.http_bytes_per_call)",
                    this.quota, this.plugin
                );
                tracing::warn!(plugin = %this.plugin, "limit exceeded: {message}");
                return Poll::Ready(Some(Err(HttpError::InternalError(Some(message)))));
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
