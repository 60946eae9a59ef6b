//! API errors in Backstage's shape, so existing clients understand them:
//! `{"error":{"name","message"},"request":{"method","url"},"response":{"statusCode"}}`,
//! with Backstage's status for each error name.

use axum::Json;
use axum::extract::Request;
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error an API handler returns.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub name: &'static str,
    pub message: String,
    pub status: StatusCode,
}

impl ApiError {
    pub fn new(name: &'static str, status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            name,
            message: message.into(),
            status,
        }
    }

    pub fn input(message: impl Into<String>) -> ApiError {
        Self::new("InputError", StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        Self::new("NotFoundError", StatusCode::NOT_FOUND, message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        Self::new("ConflictError", StatusCode::CONFLICT, message)
    }

    pub fn not_allowed(message: impl Into<String>) -> ApiError {
        Self::new("NotAllowedError", StatusCode::FORBIDDEN, message)
    }

    pub fn unavailable(message: impl Into<String>) -> ApiError {
        Self::new(
            "ServiceUnavailableError",
            StatusCode::SERVICE_UNAVAILABLE,
            message,
        )
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        Self::new("Error", StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

/// Marks a response as an API error so `describe_request` can add the request.
#[derive(Clone)]
struct ErrorBody {
    name: &'static str,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "error": { "name": self.name, "message": self.message },
            "response": { "statusCode": self.status.as_u16() },
        });
        let mut response = (self.status, Json(body)).into_response();
        response.extensions_mut().insert(ErrorBody {
            name: self.name,
            message: self.message,
        });
        response
    }
}

/// Completes error bodies with the request's method and URL, as Backstage does.
pub async fn describe_request(request: Request, next: Next) -> Response {
    let method: Method = request.method().clone();
    let uri: Uri = request.uri().clone();
    let response = next.run(request).await;
    let Some(error) = response.extensions().get::<ErrorBody>().cloned() else {
        return response;
    };
    let status = response.status();
    let body = json!({
        "error": { "name": error.name, "message": error.message },
        "request": { "method": method.as_str(), "url": uri.to_string() },
        "response": { "statusCode": status.as_u16() },
    });
    (status, Json(body)).into_response()
}

pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("No route for {uri}"))
}
