//! Sending a label to a printer's raw TCP port (9100): connect, write, and make sure the
//! printer's side took every byte. Raw 9100 answers nothing, so success is "the printer's
//! TCP stack acknowledged the whole label and did not drop the connection"; a refused
//! connection, a reset, or a timeout (to connect, to take the label) is a failure.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::domain::printing::Failure;

/// How long each part of a try may take.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To connect.
    pub connect: Duration,
    /// To write the label and have it acknowledged.
    pub write: Duration,
}

/// How long the printer has, once it has the label, to drop the connection on us (a printer
/// that takes a connection and closes it unread, busy or in an error state). A printer that
/// keeps the connection open after that has taken the label.
const SETTLE: Duration = Duration::from_millis(400);

/// Sends `bytes` to `address` (`host:port`); `Err` says why they did not get there.
pub fn send(address: &str, bytes: &[u8], t: Timeouts) -> Result<(), (Failure, String)> {
    let targets: Vec<_> = address
        .to_socket_addrs()
        .map_err(|e| {
            (
                Failure::Unreachable,
                format!("cannot find the printer {address}: {e}"),
            )
        })?
        .collect();
    let mut last = (
        Failure::Unreachable,
        format!("no address found for the printer {address}"),
    );
    let mut stream = None;
    for target in targets {
        match TcpStream::connect_timeout(&target, t.connect) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => {
                last = (
                    connect_failure(&e),
                    format!("cannot connect to {target}: {e}"),
                )
            }
        }
    }
    let mut stream = stream.ok_or(last)?;
    let broken = |what: &str, e: std::io::Error| (io_failure(&e), format!("{what}: {e}"));
    stream
        .set_write_timeout(Some(t.write))
        .map_err(|e| broken("cannot set a write timeout", e))?;
    let _ = stream.set_nodelay(true);
    let started = Instant::now();
    stream
        .write_all(bytes)
        .and_then(|()| stream.flush())
        .map_err(|e| broken("the label could not be written", e))?;
    acknowledged(&stream, t.write.saturating_sub(started.elapsed()))?;
    stream
        .shutdown(Shutdown::Write)
        .map_err(|e| broken("the printer dropped the connection", e))?;
    settle(&mut stream)
}

/// Why a connection could not be made.
fn connect_failure(e: &std::io::Error) -> Failure {
    match e.kind() {
        ErrorKind::ConnectionRefused => Failure::Refused,
        ErrorKind::TimedOut | ErrorKind::WouldBlock => Failure::Timeout,
        _ => Failure::Unreachable,
    }
}

/// Why an open connection failed.
fn io_failure(e: &std::io::Error) -> Failure {
    match e.kind() {
        ErrorKind::TimedOut | ErrorKind::WouldBlock => Failure::Timeout,
        ErrorKind::ConnectionRefused => Failure::Refused,
        ErrorKind::ConnectionReset
        | ErrorKind::ConnectionAborted
        | ErrorKind::BrokenPipe
        | ErrorKind::NotConnected
        | ErrorKind::UnexpectedEof => Failure::Reset,
        _ => Failure::Unreachable,
    }
}

/// Waits until the printer's side has acknowledged every byte written (Linux: nothing left
/// unacknowledged in the send queue), or the connection broke, or `within` has passed.
#[cfg(target_os = "linux")]
fn acknowledged(stream: &TcpStream, within: Duration) -> Result<(), (Failure, String)> {
    use std::os::fd::AsRawFd;
    let deadline = Instant::now() + within;
    loop {
        if let Ok(Some(e)) = stream.take_error() {
            return Err((
                io_failure(&e),
                format!("the printer dropped the connection: {e}"),
            ));
        }
        let mut unacknowledged: libc::c_int = 0;
        // SAFETY: TIOCOUTQ (SIOCOUTQ) on a TCP socket writes the bytes not yet acknowledged
        // into the int it is given; the descriptor is the stream's own, open for this call.
        let rc = unsafe {
            libc::ioctl(
                stream.as_raw_fd(),
                libc::TIOCOUTQ,
                &mut unacknowledged as *mut libc::c_int,
            )
        };
        if rc != 0 {
            // Not known here: the settle read below still sees a dropped connection.
            return Ok(());
        }
        if unacknowledged == 0 {
            // A reset also empties the queue: look at the socket's error once more.
            return match stream.take_error() {
                Ok(Some(e)) => Err((
                    io_failure(&e),
                    format!("the printer dropped the connection: {e}"),
                )),
                _ => Ok(()),
            };
        }
        if Instant::now() >= deadline {
            return Err((
                Failure::Timeout,
                format!("the printer did not take the whole label ({unacknowledged} bytes left) in time"),
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(not(target_os = "linux"))]
fn acknowledged(_stream: &TcpStream, _within: Duration) -> Result<(), (Failure, String)> {
    Ok(())
}

/// After the label: the printer closes (fine), says something (fine, read and dropped), keeps
/// the connection open (fine), or resets it, having dropped the label (a failure).
fn settle(stream: &mut TcpStream) -> Result<(), (Failure, String)> {
    let _ = stream.set_read_timeout(Some(SETTLE));
    let deadline = Instant::now() + SETTLE;
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) if Instant::now() < deadline => continue,
            Ok(_) => return Ok(()),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(())
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err((
                    io_failure(&e),
                    format!("the printer dropped the connection without taking the label: {e}"),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn timeouts() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(5),
            write: Duration::from_secs(5),
        }
    }

    #[test]
    fn a_label_reaches_a_printer_that_reads_it() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let printer = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).unwrap();
            got
        });
        let label = b"^XA^FO50,50^FDRT20261208000001^FS^XZ".repeat(2000);
        send(&addr, &label, timeouts()).unwrap();
        assert_eq!(printer.join().unwrap(), label);
    }

    #[test]
    fn nothing_listening_is_refused() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        drop(listener);
        let (why, _) = send(&addr, b"^XA^XZ", timeouts()).unwrap_err();
        assert_eq!(why, Failure::Refused);
    }

    #[test]
    fn a_printer_that_drops_the_connection_unread_is_a_failure() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let printer = std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            drop(s);
        });
        let err = send(&addr, &b"^XA^FDx^FS^XZ".repeat(100), timeouts()).unwrap_err();
        printer.join().unwrap();
        assert_eq!(err.0, Failure::Reset, "{err:?}");
    }
}
