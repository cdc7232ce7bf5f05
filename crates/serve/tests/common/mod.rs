//! What the tests that drive the server with real clients share: the repository root, virtual
//! environments installed from PyPI on first use, and a server on 127.0.0.1.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use policy_serve::Server;

mod venv;
pub use venv::venv;

/// The AWS CLI version the tests pin.
pub const AWSCLI: &str = "awscli==1.46.3";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The AWS CLI, installed on first use into `target/tmp/awscli-venv`.
pub fn aws_cli() -> PathBuf {
    venv("awscli-venv", &[AWSCLI], "aws")
}

/// Starts the server on 127.0.0.1 (its own runtime on a thread); returns the endpoint URL.
pub fn start(server: Arc<Server>) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            // The server's own connection loop, with a short header-read timeout for the slow-client
            // test.
            policy_serve::serve_on(
                listener,
                server,
                std::time::Duration::from_secs(1),
                std::future::pending(),
            )
            .await
            .unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}
