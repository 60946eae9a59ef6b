//! ${{ values.name }}: ${{ values.description }}

#[tokio::main]
async fn main() {
    let app = axum::Router::new().route("/healthcheck", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:${{ values.port }}").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
