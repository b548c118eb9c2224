//! The `etcd-forensics` binary: parse flags, call the library, print, map
//! the outcome to an exit code. No logic lives here.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use etcd_forensics::jobs::{self, Outcome};
use etcd_forensics::output::{self, WriteOut};

const EXIT_CODES: &str = "\
EXIT CODES:
  0  verified: no damage found
  1  damage found (or, for status, the file was refused as etcdutl refuses it)
  2  could not run: bad usage, unreadable file";

#[derive(Parser)]
#[command(
    name = "etcd-forensics",
    version,
    about = "Read etcd's files (bbolt db, snapshots, WAL, .snap) with no etcd running, and tell the truth about them",
    long_about = "Read etcd's files with no etcd running, and tell the truth about them.\n\n\
        Inputs are opened read-only and never modified. Run it on a stopped member's data dir, \
        a copy of one, or a file written by `etcdctl snapshot save`.",
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Simple,
    Table,
    Json,
    Fields,
}

impl From<Format> for WriteOut {
    fn from(f: Format) -> WriteOut {
        match f {
            Format::Simple => WriteOut::Simple,
            Format::Table => WriteOut::Table,
            Format::Json => WriteOut::Json,
            Format::Fields => WriteOut::Fields,
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Hash, revision, key count and size of a db or snapshot file, computed exactly as
    /// `etcdutl snapshot status` does.
    #[command(
        long_about = "Print hash, revision, total keys and total size of a db or snapshot file, \
computed exactly as `etcdutl snapshot status` computes them (CRC-32C over every bucket; \
totalKey counts entries of all buckets, as 3.4/3.5 do; totalSize is high-water mark x page size).\n\n\
Extra details follow etcdutl's output: live keys (3.6's totalKey), compact revisions, \
consistent index, term, page and file size, the state of both meta pages and of the SHA-256 \
trailer. With --compat only etcdutl's output is printed.\n\n\
Like etcdutl, status first runs bbolt's integrity check and refuses a structurally damaged \
file (exit 1); run `etcd-forensics check FILE` for the full story.",
        after_help = EXIT_CODES
    )]
    Status {
        /// A db file (member/snap/db) or a file from `etcdctl snapshot save`.
        file: PathBuf,
        /// Output format, as etcdutl's -w.
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: Format,
        /// Print only what etcdutl prints, nothing more.
        #[arg(long)]
        compat: bool,
        /// Do not verify the SHA-256 trailer of a snapshot file (faster on huge files).
        #[arg(long)]
        skip_hash_check: bool,
    },
    /// Verify every checksum and structural invariant of a db or snapshot file and report all damage.
    #[command(
        long_about = "Verify a db or snapshot file: both meta pages, every page reachable from the \
root (type, id, bounds, overflow, cycles, key order: everything bbolt's tx.Check verifies), the \
freelist, file size against the high-water mark, the SHA-256 trailer of snapshot files, and every \
value of the `key` bucket. Unlike `bbolt check`, it keeps going and reports all damage, each \
finding with file, offset, page, bucket, the revisions stored there, what it means and what to do.\n\n\
Given a data dir, check also reads the WAL and the .snap files and walks through etcd's boot: \
which snapshot it will use, whether the WAL reads (a torn tail etcd repairs vs. mid-log corruption \
it refuses), whether the db and the WAL fit together (a db ahead of its WAL starts but never \
applies a write), raft's commit range, member ids and active alarms. The verdict is clean, \
repairable (etcd repairs it by itself: exit 0 unless --strict) or damaged, with whether etcd will \
start and the revision it will reach.\n\n\
Examples:\n  etcd-forensics check /var/lib/etcd\n  etcd-forensics check -w json --wal-dir /wal /var/lib/etcd\n  etcd-forensics check snapshot.db",
        after_help = EXIT_CODES
    )]
    Check {
        /// A data dir (the --data-dir etcd ran with), a db file (member/snap/db) or a file
        /// from `etcdctl snapshot save`.
        path: PathBuf,
        /// Output format: simple (for people) or json (for machines).
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: Format,
        /// The WAL directory, if etcd ran with --wal-dir.
        #[arg(long)]
        wal_dir: Option<PathBuf>,
        /// Exit 1 also for damage etcd repairs by itself (a torn WAL tail).
        #[arg(long)]
        strict: bool,
    },
    /// Print shell completions to stdout (e.g. `etcd-forensics completions bash > /etc/bash_completion.d/etcd-forensics`).
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff) to stdout (e.g. `etcd-forensics man | man -l -`).
    Man,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match run(cli, &mut out) {
        Ok(code) => {
            let _ = out.flush();
            code
        }
        Err(Failure::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Io(e)) => {
            eprintln!("etcd-forensics: writing output: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Run(e)) => {
            eprintln!("etcd-forensics: {e}");
            ExitCode::from(2)
        }
    }
}

enum Failure {
    Io(io::Error),
    Run(etcd_forensics::Error),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}
impl From<etcd_forensics::Error> for Failure {
    fn from(e: etcd_forensics::Error) -> Self {
        Failure::Run(e)
    }
}

fn code(o: Outcome) -> ExitCode {
    match o {
        Outcome::Verified => ExitCode::SUCCESS,
        Outcome::Damaged => ExitCode::from(1),
    }
}

fn run(cli: Cli, out: &mut dyn Write) -> Result<ExitCode, Failure> {
    match cli.cmd {
        Cmd::Status { file, write_out, compat, skip_hash_check } => {
            let r = with_progress(&file, |progress| {
                jobs::status::status(&file, jobs::status::StatusOptions { skip_hash_check, progress })
            })?;
            let how = WriteOut::from(write_out);
            if r.refused() {
                eprintln!("Error: {}", r.refusal_message());
                eprintln!("run `etcd-forensics check {}` for what each finding means and what to do", file.display());
                if how == WriteOut::Json {
                    output::status::print_refusal_json(out, &r)?;
                }
                return Ok(ExitCode::from(1));
            }
            output::status::print(out, &r, how, compat)?;
            if r.outcome() == Outcome::Damaged {
                for f in r.anomalies() {
                    eprintln!("warning: {}: {}", f.location.clone().with_file(&file), f.what);
                }
            }
            Ok(code(r.outcome()))
        }
        Cmd::Check { path, write_out, wal_dir, strict } => {
            if path.is_dir() {
                let d = jobs::check::check_dir(&path, wal_dir.as_deref())?;
                output::check::print_dir(out, &d, write_out.into())?;
                return Ok(code(jobs::check::dir_outcome(&d, strict)));
            }
            let r = with_progress(&path, |progress| {
                jobs::check::check_file(&path, jobs::check::CheckOptions { sequential: false, progress })
            })?;
            output::check::print(out, &r, write_out.into())?;
            Ok(code(r.outcome()))
        }
        Cmd::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "etcd-forensics", out);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Man => {
            clap_mangen::Man::new(Cli::command()).render(out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Files smaller than this finish before a bar would be worth drawing.
const PROGRESS_MIN_BYTES: u64 = 256 << 20;

/// Run `job` with a progress bar on stderr when stderr is a terminal and the
/// input is large; the library only counts bytes, this thread draws.
fn with_progress<T>(path: &Path, job: impl FnOnce(Option<Arc<AtomicU64>>) -> T) -> T {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if !io::stderr().is_terminal() || size < PROGRESS_MIN_BYTES {
        return job(None);
    }
    let counter = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(path.display().to_string());
    let drawer = {
        let (counter, done, bar) = (counter.clone(), done.clone(), bar.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                bar.set_position(counter.load(Ordering::Relaxed).min(size));
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let out = job(Some(counter));
    done.store(true, Ordering::Relaxed);
    let _ = drawer.join();
    bar.finish_and_clear();
    out
}
