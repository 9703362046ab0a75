//! `loft-test-s3 --root DIR [--port PORT] [--receive-rate BYTES_PER_SECOND]`: an S3 server for
//! the end-to-end tests, which start it, stop it (to take the locker offline) and start it
//! again on the same port. A receive rate makes uploads take their time, so a test can watch
//! one under way. Prints `listening PORT` once it accepts connections, then serves until killed.

use std::io::Write;
use std::path::PathBuf;

fn main() -> std::process::ExitCode {
    let mut root: Option<PathBuf> = None;
    let mut port: u16 = 0;
    let mut receive_rate: Option<u64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--root", Some(value)) => root = Some(PathBuf::from(value)),
            ("--port", Some(value)) => match value.parse() {
                Ok(value) => port = value,
                Err(_) => return usage(&format!("not a port: {value}")),
            },
            ("--receive-rate", Some(value)) => match value.parse() {
                Ok(value) => receive_rate = Some(value),
                Err(_) => return usage(&format!("not a number of bytes per second: {value}")),
            },
            _ => return usage(&format!("unexpected argument {arg}")),
        }
    }
    let Some(root) = root else { return usage("--root is required") };
    let server = match loft_testkit::S3Server::start_with(&root, port, receive_rate) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("loft-test-s3: cannot start: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("listening {}", server.port());
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}

fn usage(problem: &str) -> std::process::ExitCode {
    eprintln!(
        "loft-test-s3: {problem}\nusage: loft-test-s3 --root DIR [--port PORT] [--receive-rate BYTES_PER_SECOND]"
    );
    std::process::ExitCode::from(2)
}
