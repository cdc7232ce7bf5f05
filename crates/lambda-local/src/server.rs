//! The Lambda Runtime API on 127.0.0.1: `GET /2018-06-01/runtime/invocation/next` (held until there is an
//! event), `POST …/invocation/{id}/response`, `POST …/invocation/{id}/error`, `POST …/init/error`. One
//! thread serves it (hyper on a single-threaded tokio runtime), so the function is answered at once even
//! between invocations; `TCP_NODELAY` on every connection, so an event's headers and body are never held
//! back by Nagle's algorithm. What the function posts goes to the invoker over a channel.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::oneshot;

use crate::MAX_PAYLOAD_BYTES;

const BASE: &str = "/2018-06-01/runtime";

/// An invocation waiting for the function to ask for it.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) id: String,
    pub(crate) payload: Vec<u8>,
    pub(crate) timeout: Duration,
    pub(crate) function_arn: String,
    pub(crate) trace: String,
}

/// What happened on the Runtime API, for the invoker.
#[derive(Debug)]
pub(crate) enum Posted {
    /// The function took the event (its timeout starts now).
    HandedOut { id: String },
    /// `/response`.
    Response { id: String, body: Vec<u8> },
    /// `/error`.
    Error { id: String, body: Vec<u8> },
    /// A response over 6 MB.
    TooLarge { id: String, bytes: usize },
    /// `/init/error`.
    InitError { body: Vec<u8> },
}

#[derive(Default)]
struct State {
    /// A `next` request waiting for an event.
    parked: Option<oneshot::Sender<Job>>,
    /// An event waiting for a `next` request.
    queued: Option<Job>,
    /// The request id handed out and not answered yet.
    in_flight: Option<String>,
}

struct Shared {
    state: Mutex<State>,
    posted: Mutex<Sender<Posted>>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn post(&self, p: Posted) {
        let _ = self
            .posted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(p);
    }
}

type Body = Full<Bytes>;

/// The running Runtime API.
pub(crate) struct Server {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Why [`Server::next`] returned without a message.
pub(crate) enum Waited {
    /// Nothing within the wait.
    Timeout,
    /// The server is gone.
    Closed,
}

impl Server {
    /// Binds 127.0.0.1 on a free port and serves.
    pub(crate) fn start() -> std::io::Result<(Server, Receiver<Posted>)> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (tx, rx) = channel();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            posted: Mutex::new(tx),
        });
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("lambda-runtime-api".into())
                .spawn(move || runtime.block_on(serve(listener, shared, stop_rx)))?
        };
        Ok((
            Server {
                shared,
                addr,
                stop: Some(stop_tx),
                thread: Some(thread),
            },
            rx,
        ))
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The next message from the function, waiting at most `wait`. A warm function answers within a few
    /// hundred microseconds: yielding for the first 300 µs instead of sleeping at once saves the wake-up
    /// of a parked thread on every invocation.
    pub(crate) fn next(&self, rx: &mut Receiver<Posted>, wait: Duration) -> Result<Posted, Waited> {
        use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
        let start = Instant::now();
        let spin = Duration::from_micros(300).min(wait);
        while start.elapsed() < spin {
            match rx.try_recv() {
                Ok(p) => return Ok(p),
                Err(TryRecvError::Disconnected) => return Err(Waited::Closed),
                Err(TryRecvError::Empty) => std::thread::yield_now(),
            }
        }
        rx.recv_timeout(wait.saturating_sub(start.elapsed()))
            .map_err(|e| match e {
                RecvTimeoutError::Timeout => Waited::Timeout,
                RecvTimeoutError::Disconnected => Waited::Closed,
            })
    }

    /// Gives `job` to the function: at once if it is waiting in `next`, else at its next `next`.
    pub(crate) fn submit(&self, job: Job) {
        let mut state = self.shared.lock();
        let mut job = job;
        while let Some(waiting) = state.parked.take() {
            let id = job.id.clone();
            match waiting.send(job) {
                Ok(()) => {
                    state.in_flight = Some(id);
                    return;
                }
                // That `next` request went away (its connection closed): keep the event.
                Err(back) => job = back,
            }
        }
        state.queued = Some(job);
    }

    /// Forgets every request and event (a new process starts with a clean slate).
    pub(crate) fn reset(&self) {
        let mut state = self.shared.lock();
        *state = State::default();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => return,
            a = listener.accept() => a,
        };
        let Ok((stream, _)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(route(&shared, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

fn json(status: StatusCode, error_type: &str, message: &str) -> Response<Body> {
    let body = serde_json::json!({"errorType": error_type, "errorMessage": message}).to_string();
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

/// `202 {"status":"OK"}`: an answer taken.
fn accepted() -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from_static(br#"{"status":"OK"}"#)));
    *r.status_mut() = StatusCode::ACCEPTED;
    r
}

/// The event for a `next` request, with Lambda's headers.
fn event(job: Job) -> Response<Body> {
    let deadline = SystemTime::now()
        .checked_add(job.timeout)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis());
    let mut r = Response::new(Full::new(Bytes::from(job.payload)));
    let h = r.headers_mut();
    for (k, v) in [
        ("content-type", "application/json".to_string()),
        ("lambda-runtime-aws-request-id", job.id),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        ("lambda-runtime-invoked-function-arn", job.function_arn),
        ("lambda-runtime-trace-id", job.trace),
    ] {
        if let Ok(v) = hyper::header::HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    r
}

/// A body of at most 6 MB, or its size (at least) when it is larger.
async fn body(req: Request<Incoming>) -> Result<Vec<u8>, usize> {
    match Limited::new(req.into_body(), MAX_PAYLOAD_BYTES)
        .collect()
        .await
    {
        Ok(b) => Ok(b.to_bytes().to_vec()),
        Err(_) => Err(MAX_PAYLOAD_BYTES + 1),
    }
}

async fn route(shared: &Shared, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let Some(rest) = path.strip_prefix(BASE) else {
        return json(StatusCode::NOT_FOUND, "NotFound", "not a Runtime API path");
    };
    match (req.method().clone(), rest) {
        (Method::GET, "/invocation/next") => {
            let waiting = {
                let mut state = shared.lock();
                match state.queued.take() {
                    Some(job) => {
                        state.in_flight = Some(job.id.clone());
                        Ok(job)
                    }
                    None => {
                        let (tx, rx) = oneshot::channel();
                        state.parked = Some(tx);
                        Err(rx)
                    }
                }
            };
            let job = match waiting {
                Ok(job) => job,
                Err(rx) => match rx.await {
                    Ok(job) => job,
                    // The environment was reset under this request.
                    Err(_) => {
                        return json(StatusCode::GONE, "Reset", "the environment was reset");
                    }
                },
            };
            shared.post(Posted::HandedOut { id: job.id.clone() });
            event(job)
        }
        (Method::POST, "/init/error") => {
            let b = body(req).await.unwrap_or_default();
            shared.post(Posted::InitError { body: b });
            accepted()
        }
        (Method::POST, r) => {
            let Some((id, kind)) = r
                .strip_prefix("/invocation/")
                .and_then(|x| x.split_once('/'))
                .filter(|(_, k)| *k == "response" || *k == "error")
            else {
                return json(StatusCode::NOT_FOUND, "NotFound", "not a Runtime API path");
            };
            let (id, kind) = (id.to_string(), kind.to_string());
            let b = body(req).await;
            {
                let mut state = shared.lock();
                if state.in_flight.as_deref() != Some(id.as_str()) {
                    // Unknown, or already answered: the Runtime API refuses a second answer.
                    return json(
                        StatusCode::BAD_REQUEST,
                        "InvalidStateTransition",
                        "State transition from Ready to InvocationResponse failed for runtime. Error: State transition is not allowed",
                    );
                }
                state.in_flight = None;
            }
            match b {
                Err(bytes) => {
                    shared.post(Posted::TooLarge { id, bytes });
                    json(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "RequestEntityTooLarge",
                        &format!(
                            "Exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."
                        ),
                    )
                }
                Ok(body) => {
                    shared.post(if kind == "response" {
                        Posted::Response { id, body }
                    } else {
                        Posted::Error { id, body }
                    });
                    accepted()
                }
            }
        }
        _ => json(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "method not allowed",
        ),
    }
}
