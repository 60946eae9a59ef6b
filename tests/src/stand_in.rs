//! Small HTTP servers on 127.0.0.1 that speak an outside service's real API
//! shape, for plugins to talk to in tests.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// A running stand-in; stops when dropped. `requests` records each request path.
pub struct StandIn {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<String>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl StandIn {
    /// Serves `router` on a free port of 127.0.0.1 on its own runtime thread.
    pub fn serve(make: impl FnOnce(Arc<Mutex<Vec<String>>>) -> axum::Router) -> StandIn {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let router = make(requests.clone());
        let recorder = requests.clone();
        let router = router.layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let recorder = recorder.clone();
                async move {
                    let path = request
                        .uri()
                        .path_and_query()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_default();
                    recorder.lock().unwrap().push(path);
                    next.run(request).await
                }
            },
        ));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("stand-in runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind stand-in");
        let addr = listener.local_addr().expect("stand-in address");
        runtime.spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        StandIn {
            addr,
            requests,
            runtime: Some(runtime),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn request_count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
