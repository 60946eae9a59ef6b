//! Outbound HTTP for plugins, over standard `wasi:http`. The portal lets a plugin
//! reach only the hosts its configuration grants; anything else fails with
//! `HttpRequestDenied` before a connection is made.

use wstd::http::{Body, Client, Request};

/// A response with its body read.
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// Sends a GET request with the given headers and reads the whole body.
pub fn get(url: &str, headers: &[(&str, &str)]) -> Result<Response, String> {
    send("GET", url, headers, "")
}

/// Sends a request with a method, headers and a text body (empty for none) and
/// reads the whole response body.
pub fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Response, String> {
    wstd::runtime::block_on(async {
        let mut request = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = if body.is_empty() {
            Body::empty()
        } else {
            Body::from(body.to_owned())
        };
        let request = request
            .body(body)
            .map_err(|e| format!("bad request for {url}: {e}"))?;
        let mut response = Client::new()
            .send(request)
            .await
            .map_err(|e| format!("{method} {url} failed: {e:?}"))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .str_contents()
            .await
            .map_err(|e| format!("reading the response of {url} failed: {e:?}"))?
            .to_owned();
        Ok(Response { status, body })
    })
}

/// A download's answer: redirects are not followed (the caller decides where
/// it may go next), the body is bytes.
pub struct Download {
    pub status: u16,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// GETs `url` with the given headers and reads the whole body as bytes (an
/// archive, an image). The portal counts the bytes against the plugin's
/// `http_bytes_per_call` quota, so a huge answer ends the call.
pub fn download(url: &str, headers: &[(&str, &str)]) -> Result<Download, String> {
    wstd::runtime::block_on(async {
        let mut request = Request::builder().method("GET").uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Body::empty())
            .map_err(|e| format!("bad request for {url}: {e}"))?;
        let mut response = Client::new()
            .send(request)
            .await
            .map_err(|e| format!("GET {url} failed: {e:?}"))?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .body_mut()
            .contents()
            .await
            .map_err(|e| format!("reading the response of {url} failed: {e:?}"))?
            .to_vec();
        Ok(Download {
            status,
            location,
            body,
        })
    })
}
