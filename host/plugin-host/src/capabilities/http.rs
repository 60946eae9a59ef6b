//! Outbound HTTP (`wasi:http`), allowed only to hosts that the plugin requested
//! and the operator granted. The check runs before any connection is made.

use super::PluginContext;
use std::sync::Arc;
use wasmtime_wasi_http::{Error as HttpError, WasiHttpHooks};

pub(crate) struct HttpGate {
    plugin: Arc<PluginContext>,
    pub(crate) denials: Vec<String>,
}

impl HttpGate {
    pub(crate) fn new(plugin: Arc<PluginContext>) -> HttpGate {
        HttpGate {
            plugin,
            denials: Vec::new(),
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
        if let Err(message) = self.check(request.uri()) {
            tracing::warn!(plugin = %self.plugin.name, "{message}");
            self.denials.push(message);
            // Let the guest finish sending its (discarded) body before refusing, so
            // it sees "request denied" rather than a broken body stream.
            return Box::new(async move {
                use http_body_util::BodyExt;
                let mut body = request.into_body();
                while let Some(Ok(_)) = body.frame().await {}
                Err(HttpError::HttpRequestDenied)
            });
        }
        tracing::debug!(plugin = %self.plugin.name, uri = %request.uri(), "outbound HTTP");
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = Result<(), HttpError>> + Send>,
            ))
        })
    }
}
