//! `loft-test-s3 --root DIR [--port PORT]`: an S3 server for the end-to-end tests, which start
//! it, stop it (to take the locker offline) and start it again on the same port. Prints
//! `listening PORT` once it accepts connections, then serves until killed.

use std::io::Write;
use std::path::PathBuf;

fn main() -> std::process::ExitCode {
    let mut root: Option<PathBuf> = None;
    let mut port: u16 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--root", Some(value)) => root = Some(PathBuf::from(value)),
            ("--port", Some(value)) => match value.parse() {
                Ok(value) => port = value,
                Err(_) => return usage(&format!("not a port: {value}")),
            },
            _ => return usage(&format!("unexpected argument {arg}")),
        }
    }
    let Some(root) = root else { return usage("--root is required") };
    let server = match loft_testkit::S3Server::start_on(&root, port) {
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
    eprintln!("loft-test-s3: {problem}\nusage: loft-test-s3 --root DIR [--port PORT]");
    std::process::ExitCode::from(2)
}
