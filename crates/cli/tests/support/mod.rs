//! What the tests that run `leash serve` as a process share.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    sync::mpsc,
    thread,
    time::Duration,
};

/// `leash serve` on a free loopback port, its stdout piped for [`listening`], with none of the
/// environment's node, database or log settings: each test passes its own.
pub(crate) fn leash_serve() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_leash"));
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("LEASH_RPC_URL")
        .env_remove("LEASH_DATABASE_URL")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped());
    command
}

/// The `host:port` that `child`, a `leash serve` with piped stdout, says it listens on (its
/// first stdout line), waited for at most 60 s.
pub(crate) fn listening(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("stdout is piped");
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(line);
    });
    let line = receiver
        .recv_timeout(Duration::from_secs(60))
        .expect("leash serve said where it listens within 60 s");
    let address = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    address.to_owned()
}

/// A plain HTTP/1.1 request to `address`; the whole response.
#[allow(
    dead_code,
    reason = "every test binary compiles this module; only some make plain HTTP requests"
)]
pub(crate) fn http(address: &str, request_line: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(address).expect("the server accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read timeout");
    write!(
        stream,
        "{request_line} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("the request is sent");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("the response is read");
    response
}
