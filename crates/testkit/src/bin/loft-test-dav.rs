//! `loft-test-dav --root DIR`: a WebDAV server for the end-to-end tests, user `loft`, password
//! `secret`. Prints `listening PORT` once it accepts connections, then serves until killed.

use std::io::Write;
use std::path::PathBuf;

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let root = match (args.next().as_deref(), args.next(), args.next()) {
        (Some("--root"), Some(root), None) => PathBuf::from(root),
        _ => {
            eprintln!("usage: loft-test-dav --root DIR");
            return std::process::ExitCode::from(2);
        }
    };
    let server = match loft_testkit::DavServer::start(&root, 0) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("loft-test-dav: cannot start: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("listening {}", server.port());
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
