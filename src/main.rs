//! The `etcd-forensics` binary: parse flags, call the library, print, map
//! the outcome to an exit code. No logic lives here.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use etcd_forensics::jobs::wal::{DumpEvent, DumpOptions, EntryTypeName};
use etcd_forensics::jobs::{self, Outcome};
use etcd_forensics::output::{self, WriteOut};

const EXIT_CODES: &str = "\
EXIT CODES:
  0  verified: no damage found
  1  damage found (or, for status, the file was refused as etcdutl refuses it)
  2  could not run: bad usage, unreadable file";

const WAL_EXIT_CODES: &str = "\
EXAMPLES:
  etcd-forensics wal /var/lib/etcd                  all entries, etcd-dump-logs style
  etcd-forensics wal /var/lib/etcd -w json | jq .   JSON lines: metadata, then one per entry
  etcd-forensics wal /var/lib/etcd --summary        ids, hard state, index range, first error
  etcd-forensics wal member/wal --entry-type IRRPut,IRRDeleteRange --start-index 1000
  etcd-forensics wal /var/lib/etcd --raw            read on past damage, report every error

EXIT CODES:
  0  the WAL reads cleanly, or its only fault is a torn tail that etcd repairs at boot
     (a warning on stderr says what etcd will cut)
  1  damage etcd does not repair: it refuses to boot, panics, or silently ignores records
  2  could not run: bad usage, no such directory, no WAL segment (*.wal)";

const RESTORE_EXIT_CODES: &str = "\
EXIT CODES:
  0  restored (or, with --dry-run, everything checked and nothing written)
  1  the snapshot is damaged: refused, nothing written (the findings say where)
  2  could not run: bad flags (as etcdutl refuses them), the data dir exists and is not empty,
     the --wal-dir exists, a raw db without --skip-hash-check, unreadable input, write failure";

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

/// `-w` of the wal command.
#[derive(Clone, Copy, ValueEnum)]
enum WalFormat {
    Simple,
    Json,
}

impl From<WalFormat> for WriteOut {
    fn from(f: WalFormat) -> WriteOut {
        match f {
            WalFormat::Simple => WriteOut::Simple,
            WalFormat::Json => WriteOut::Json,
        }
    }
}

/// `--entry-type`: exactly etcd-dump-logs' names; clap lists them on error.
fn entry_type_parser() -> impl clap::builder::TypedValueParser<Value = EntryTypeName> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(EntryTypeName::NAMES)
        .try_map(|s| EntryTypeName::from_name(&s).ok_or_else(|| format!("unknown entry type {s}")))
}

/// `--etcd-version` of the restore command.
#[derive(Clone, Copy, ValueEnum)]
enum EtcdVersion {
    #[value(name = "3.5")]
    V35,
    #[value(name = "3.4")]
    V34,
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
        /// Also verify the SHA-256 trailer of a snapshot file. etcdutl does not; it costs
        /// about one core-second per 1.5 GB. `check` always verifies it.
        #[arg(long)]
        verify_trailer: bool,
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
    /// Dump the entries of a WAL, decoded (the successor of etcd-dump-logs), or summarize it.
    #[command(
        long_about = "Dump the raft entries of a WAL (member/wal/*.wal), decoded, with no etcd running: \
the successor of etcd's tools/etcd-dump-logs, which printed `term index type data` for every entry \
of a data dir. Each entry shows its term, index, raft entry type and decoded data: puts (key, value, \
lease), delete ranges, transactions (compares and success/failure operations, nested), compactions, \
lease grants/revokes/checkpoints, alarms, auth operations (passwords, hashed passwords and tokens \
are printed as <redacted>), cluster version and member attribute updates, downgrades, conf changes \
(with etcd's member JSON), v2 requests, and the leader's empty no-op entries, with the request id.\n\n\
DIR may be a data dir (DIR/member/wal is read), a member dir (DIR/wal) or the WAL dir itself; \
--wal-dir names the WAL dir directly (as etcd's --wal-dir). The WAL is read twice and never held in \
memory: first as etcd reads it at boot (the header: node and cluster id, hard state, snapshot \
records, index range, first fault), then entry by entry as they are printed. Entries are listed in \
file order; raft log entries a later leader overwrote are listed too.\n\n\
Filters: --start-index and --end-index keep entries whose raft index is within the inclusive bounds \
(etcd-dump-logs' --start-index instead started reading after that index); --entry-type keeps entries \
matching any of etcd-dump-logs' type names: ConfigChange, Normal, Request (v2), InternalRaftRequest \
(v3, including empty no-op entries, as etcd-dump-logs counts them), IRRRange, IRRPut, IRRDeleteRange, \
IRRTxn, IRRCompaction, IRRLeaseGrant, IRRLeaseRevoke, IRRLeaseCheckpoint.\n\n\
Reading stops at the first fault, as etcd's does; the fault is printed on stderr with what etcd does \
about it (a torn last record is repaired at boot; a CRC mismatch is not). --raw reads on: past a \
record with a bad CRC, and past garbage to the next 8-byte-aligned offset where a plausible record \
starts, reporting each error where it is met (on stderr, or as {\"error\":...} lines with -w json). \
--summary prints only what the first pass found.",
        after_help = WAL_EXIT_CODES
    )]
    Wal {
        /// A data dir (DIR/member/wal is read), a member dir (DIR/wal) or a WAL dir.
        #[arg(required_unless_present = "wal_dir")]
        dir: Option<PathBuf>,
        /// The WAL dir itself (as etcd's --wal-dir); overrides DIR.
        #[arg(long, value_name = "DIR")]
        wal_dir: Option<PathBuf>,
        /// Output format: simple (etcd-dump-logs' table) or json (JSON lines; see the README).
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: WalFormat,
        /// Only entries with raft index >= N.
        #[arg(long, value_name = "N")]
        start_index: Option<u64>,
        /// Only entries with raft index <= N.
        #[arg(long, value_name = "N")]
        end_index: Option<u64>,
        /// Only entries of these etcd-dump-logs types (comma-separated).
        #[arg(
            long,
            value_name = "T[,T...]",
            value_delimiter = ',',
            value_parser = entry_type_parser(),
            hide_possible_values = false
        )]
        entry_type: Vec<EntryTypeName>,
        /// Print only the summary: ids, hard state, snapshot records, index range, counts, first error.
        #[arg(long, conflicts_with_all = ["start_index", "end_index", "entry_type", "raw"])]
        summary: bool,
        /// Read on past damage and report every error where it is met.
        #[arg(long)]
        raw: bool,
    },
    /// Make a new data dir from a snapshot, as `etcdutl snapshot restore` does (no etcd needed).
    #[command(
        long_about = "Make a new etcd data dir from a snapshot (`etcdctl snapshot save` output, or a raw \
member/snap/db with --skip-hash-check), exactly as `etcdutl snapshot restore` 3.5 does (or etcdctl 3.4's \
restore with --etcd-version 3.4): same member and cluster ids, a byte-identical WAL and .snap, and a db \
holding the same buckets, keys and values (written fresh and compact, like a defragmented db). \
Flags and defaults are etcdutl's.\n\n\
The snapshot is verified first, completely (SHA-256 trailer unless --skip-hash-check, every page, every \
revision's value); a damaged snapshot is refused with the findings and nothing is created (exit 1). \
Everything is written under <data-dir>.tmp-XXXXXX beside the target, fsynced, and renamed into place \
last: an interrupted restore never leaves something that looks like a data dir.\n\n\
--bump-revision N --mark-compacted (etcdutl 3.5.10+) raise the revision by N and mark it compacted, so \
that clients' watches and caches from before the restore cannot silently resume.\n\n\
Examples:\n  etcd-forensics restore snapshot.db --data-dir /var/lib/etcd-new --name m1 \\\n      \
--initial-cluster m1=https://10.0.0.1:2380 --initial-advertise-peer-urls https://10.0.0.1:2380\n  \
etcd-forensics restore snapshot.db --data-dir new --dry-run -w json",
        after_help = RESTORE_EXIT_CODES
    )]
    Restore {
        /// A `snapshot save` file (or a raw db with --skip-hash-check).
        snapshot: PathBuf,
        /// Where to create the data dir; must not exist or be empty [default: <name>.etcd].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// A separate WAL dir; must not exist [default: <data-dir>/member/wal].
        #[arg(long)]
        wal_dir: Option<PathBuf>,
        /// Human-readable name of this member.
        #[arg(long, default_value = "default")]
        name: String,
        /// Initial cluster configuration for restore bootstrap (name=peer-url,...).
        #[arg(long, default_value = "default=http://localhost:2380")]
        initial_cluster: String,
        /// Initial cluster token for the etcd cluster during restore bootstrap.
        #[arg(long, default_value = "etcd-cluster")]
        initial_cluster_token: String,
        /// List of this member's peer URLs to advertise to the rest of the cluster (comma-separated).
        #[arg(long, default_value = "http://localhost:2380", value_delimiter = ',')]
        initial_advertise_peer_urls: Vec<String>,
        /// Ignore the snapshot integrity hash (required for a raw member/snap/db copy).
        #[arg(long)]
        skip_hash_check: bool,
        /// Mark the latest revision after restore as the point of scheduled compaction
        /// (required if --bump-revision > 0, disallowed otherwise).
        #[arg(long)]
        mark_compacted: bool,
        /// How much to increase the latest revision after restore.
        #[arg(long, value_name = "N", default_value_t = 0)]
        bump_revision: u64,
        /// Whose layout to write: 3.5 (etcdutl 3.5, also what 3.6 writes) or 3.4 (etcdctl 3.4).
        #[arg(long, value_enum, default_value = "3.5")]
        etcd_version: EtcdVersion,
        /// Run every check and print what would be written; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Output format: simple (for people) or json (for machines).
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: WalFormat,
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
        Cmd::Status { file, write_out, compat, verify_trailer } => {
            let r = with_progress(&file, |progress| {
                jobs::status::status(&file, jobs::status::StatusOptions { skip_hash_check: !verify_trailer, progress })
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
        Cmd::Wal { dir, wal_dir, write_out, start_index, end_index, entry_type, summary, raw } => {
            let how = WriteOut::from(write_out);
            if let (Some(s), Some(e)) = (start_index, end_index) {
                if s > e {
                    return Err(
                        etcd_forensics::Error::usage(format!("--start-index {s} is above --end-index {e}")).into()
                    );
                }
            }
            // Entries come by the million: one write per line would dominate.
            let mut out = io::BufWriter::with_capacity(1 << 16, out);
            let out: &mut dyn Write = &mut out;
            let path = jobs::wal::resolve_wal_dir(dir.as_deref(), wal_dir.as_deref())?;
            let wal = jobs::wal::open(&path)?;
            let report = jobs::wal::summarize(&wal)?;
            if summary {
                output::wal::print_summary(out, &report, how)?;
            } else {
                output::wal::print_header(out, &report, how)?;
                let opts = DumpOptions { start_index, end_index, entry_types: entry_type, raw };
                let mut failed: Option<io::Error> = None;
                let stats = jobs::wal::dump(&wal, &report, &opts, &mut |ev| {
                    let r = match ev {
                        DumpEvent::Entry(e) => output::wal::print_entry(out, e, how),
                        DumpEvent::Error(e) if how == WriteOut::Json => output::wal::print_error(out, e, how),
                        // In simple mode the first fault is the verdict below.
                        DumpEvent::Error(e) if raw => {
                            let _ = out.flush();
                            output::wal::print_error(&mut io::stderr().lock(), e, how)
                        }
                        DumpEvent::Error(_) => Ok(()),
                    };
                    match r {
                        Ok(()) => std::ops::ControlFlow::Continue(()),
                        Err(e) => {
                            failed = Some(e);
                            std::ops::ControlFlow::Break(())
                        }
                    }
                })?;
                if let Some(e) = failed {
                    return Err(e.into());
                }
                output::wal::print_footer(out, &stats, how)?;
            }
            out.flush()?;
            output::wal::print_verdict(&mut io::stderr().lock(), &report)?;
            Ok(code(report.outcome()))
        }
        Cmd::Restore {
            snapshot,
            data_dir,
            wal_dir,
            name,
            initial_cluster,
            initial_cluster_token,
            initial_advertise_peer_urls,
            skip_hash_check,
            mark_compacted,
            bump_revision,
            etcd_version,
            dry_run,
            write_out,
        } => {
            let data_dir = data_dir.unwrap_or_else(|| PathBuf::from(format!("{name}.etcd")));
            let opts = jobs::restore::RestoreOptions {
                snapshot,
                data_dir,
                wal_dir,
                name,
                initial_cluster,
                initial_cluster_token,
                initial_advertise_peer_urls,
                skip_hash_check,
                mark_compacted,
                bump_revision,
                layout: match etcd_version {
                    EtcdVersion::V35 => jobs::restore::EtcdLayout::V35,
                    EtcdVersion::V34 => jobs::restore::EtcdLayout::V34,
                },
                dry_run,
            };
            let r = jobs::restore::restore(&opts)?;
            let how = WriteOut::from(write_out);
            if r.plan.is_none() && how != WriteOut::Json {
                output::restore::print(&mut io::stderr().lock(), &r, how)?;
            } else {
                output::restore::print(out, &r, how)?;
            }
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
