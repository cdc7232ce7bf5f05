//! The Lambda Runtime API on 127.0.0.1: `GET /2018-06-01/runtime/invocation/next` (held until there is an
//! event), `POST …/invocation/{id}/response`, `POST …/invocation/{id}/error`, `POST …/init/error`. One
//! thread serves it; what the function posts goes to the invoker over a channel.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tiny_http::{Header, Method, Request, Response};

use crate::MAX_PAYLOAD_BYTES;

const BASE: &str = "/2018-06-01/runtime";

/// An invocation waiting for the function to ask for it.
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
    parked: Option<Request>,
    /// An event waiting for a `next` request.
    queued: Option<Job>,
    /// The request id handed out and not answered yet.
    in_flight: Option<String>,
}

struct Shared {
    state: Mutex<State>,
    posted: Sender<Posted>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Answers a `next` request with `job`.
    fn hand_out(&self, state: &mut State, req: Request, job: Job) {
        let deadline = SystemTime::now()
            .checked_add(job.timeout)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis());
        let headers = [
            ("Content-Type", "application/json".to_string()),
            ("Lambda-Runtime-Aws-Request-Id", job.id.clone()),
            ("Lambda-Runtime-Deadline-Ms", deadline.to_string()),
            ("Lambda-Runtime-Invoked-Function-Arn", job.function_arn),
            ("Lambda-Runtime-Trace-Id", job.trace),
        ];
        let mut resp = Response::from_data(job.payload);
        for (k, v) in headers {
            if let Ok(h) = Header::from_bytes(k.as_bytes(), v.as_bytes()) {
                resp.add_header(h);
            }
        }
        state.in_flight = Some(job.id.clone());
        // A function that went away between asking and being answered shows as its exit.
        if req.respond(resp).is_ok() {
            let _ = self.posted.send(Posted::HandedOut { id: job.id });
        }
    }
}

/// The running Runtime API.
pub(crate) struct Server {
    http: Arc<tiny_http::Server>,
    shared: Arc<Shared>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds 127.0.0.1 on a free port and serves.
    pub(crate) fn start() -> std::io::Result<(Server, Receiver<Posted>)> {
        let http = tiny_http::Server::http("127.0.0.1:0").map_err(std::io::Error::other)?;
        let addr = http
            .server_addr()
            .to_ip()
            .ok_or_else(|| std::io::Error::other("not an IP listener"))?;
        let http = Arc::new(http);
        let (tx, rx) = channel();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            posted: tx,
        });
        let thread = {
            let http = http.clone();
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("lambda-runtime-api".into())
                .spawn(move || {
                    for req in http.incoming_requests() {
                        route(&shared, req);
                    }
                })?
        };
        Ok((
            Server {
                http,
                shared,
                addr,
                thread: Some(thread),
            },
            rx,
        ))
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Gives `job` to the function: at once if it is waiting in `next`, else at its next `next`.
    pub(crate) fn submit(&self, job: Job) {
        let mut state = self.shared.lock();
        match state.parked.take() {
            Some(req) => self.shared.hand_out(&mut state, req, job),
            None => state.queued = Some(job),
        }
    }

    /// Forgets every request and event (a new process starts with a clean slate).
    pub(crate) fn reset(&self) {
        let mut state = self.shared.lock();
        *state = State::default();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.http.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn json(status: u16, error_type: &str, message: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    let body = serde_json::json!({"errorType": error_type, "errorMessage": message}).to_string();
    let mut r = Response::from_string(body).with_status_code(status);
    if let Ok(h) = Header::from_bytes("Content-Type", "application/json") {
        r.add_header(h);
    }
    r
}

/// `202 {"status":"OK"}`: an answer taken.
fn accepted() -> Response<std::io::Cursor<Vec<u8>>> {
    Response::from_string(r#"{"status":"OK"}"#).with_status_code(202)
}

/// Reads at most `MAX_PAYLOAD_BYTES + 1` bytes of a body.
fn body(req: &mut Request) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = req
        .as_reader()
        .take(MAX_PAYLOAD_BYTES as u64 + 1)
        .read_to_end(&mut out);
    out
}

fn route(shared: &Shared, mut req: Request) {
    let url = req.url().to_string();
    let Some(rest) = url.strip_prefix(BASE) else {
        let _ = req.respond(json(404, "NotFound", "not a Runtime API path"));
        return;
    };
    match (req.method(), rest) {
        (Method::Get, "/invocation/next") => {
            let mut state = shared.lock();
            match state.queued.take() {
                Some(job) => shared.hand_out(&mut state, req, job),
                None => state.parked = Some(req),
            }
        }
        (Method::Post, "/init/error") => {
            let b = body(&mut req);
            let _ = req.respond(accepted());
            let _ = shared.posted.send(Posted::InitError { body: b });
        }
        (Method::Post, r) => {
            let Some((id, kind)) = r
                .strip_prefix("/invocation/")
                .and_then(|x| x.split_once('/'))
                .filter(|(_, k)| *k == "response" || *k == "error")
            else {
                let _ = req.respond(json(404, "NotFound", "not a Runtime API path"));
                return;
            };
            let (id, kind) = (id.to_string(), kind.to_string());
            let b = body(&mut req);
            let mut state = shared.lock();
            if state.in_flight.as_deref() != Some(id.as_str()) {
                // Unknown, or already answered: the Runtime API refuses a second answer.
                drop(state);
                let _ = req.respond(json(
                    400,
                    "InvalidStateTransition",
                    "State transition from Ready to InvocationResponse failed for runtime. Error: State transition is not allowed",
                ));
                return;
            }
            state.in_flight = None;
            drop(state);
            let posted = if b.len() > MAX_PAYLOAD_BYTES {
                let _ = req.respond(json(
                    413,
                    "RequestEntityTooLarge",
                    &format!("Exceeded maximum allowed payload size ({MAX_PAYLOAD_BYTES} bytes)."),
                ));
                Posted::TooLarge { id, bytes: b.len() }
            } else {
                let _ = req.respond(accepted());
                if kind == "response" {
                    Posted::Response { id, body: b }
                } else {
                    Posted::Error { id, body: b }
                }
            };
            let _ = shared.posted.send(posted);
        }
        _ => {
            let _ = req.respond(json(405, "MethodNotAllowed", "method not allowed"));
        }
    }
}
