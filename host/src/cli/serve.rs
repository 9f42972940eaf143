//! `nasbox serve`: the dashboard (see `nasbox::serve`), on 127.0.0.1
//! unless told otherwise.

use std::net::{IpAddr, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use nasbox::serve::Server;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Directories holding run and bench folders [default: runs].
    dirs: Vec<PathBuf>,
    /// Port to listen on (0: any free one, printed).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on; anything but a loopback address lets other machines read your runs.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
}

pub fn run(a: ServeArgs) -> anyhow::Result<ExitCode> {
    let dirs = if a.dirs.is_empty() { vec![PathBuf::from("runs")] } else { a.dirs };
    let roots = dirs.iter().map(|d| d.canonicalize().with_context(|| format!("{}: cannot serve it", d.display()))).collect::<anyhow::Result<Vec<_>>>()?;
    for (d, r) in dirs.iter().zip(&roots) {
        anyhow::ensure!(r.is_dir(), "{}: not a directory", d.display());
    }
    let listener = TcpListener::bind((a.host, a.port)).with_context(|| format!("listening on {}:{}", a.host, a.port))?;
    let addr = listener.local_addr()?;
    let server = Server::new(roots, a.host.is_loopback().then_some(addr.port()));
    let shown = if addr.ip().is_ipv6() { format!("[{}]:{}", addr.ip(), addr.port()) } else { addr.to_string() };
    println!("serving {} at http://{shown}/ (read-only; Ctrl-C stops)", dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "));
    std::io::Write::flush(&mut std::io::stdout())?;
    server.run(listener).context("serving")?;
    Ok(ExitCode::SUCCESS)
}
