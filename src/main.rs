//! The `etcd-forensics` binary: parse flags, call the library, print, map
//! the outcome to an exit code. No logic lives here.

use std::ffi::{OsStr, OsString};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use etcd_forensics::jobs::inspect::{self, GetOptions, Store};
use etcd_forensics::jobs::wal::{DumpEvent, DumpOptions, EntryTypeName};
use etcd_forensics::jobs::{self, Outcome};
use etcd_forensics::mvcc::index::KeyRange;
use etcd_forensics::mvcc::version::Release;
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

const DEFRAG_EXIT_CODES: &str = "\
EXIT CODES:
  0  written: OUTPUT holds every bucket, key and value of SRC
  1  refused: a page of SRC cannot be read (nothing written; run `etcd-forensics salvage`),
     or written with damaged key-bucket entries copied as they are (listed; run `salvage`)
  2  could not run: OUTPUT exists, SRC unreadable or not a bbolt file, write failure";

const SALVAGE_EXIT_CODES: &str = "\
EXIT CODES:
  0  written, and nothing was lost: every page of the db read (and the WAL, for a data dir)
  1  written, but something is lost or uncertain: the report says which pages, revisions, buckets
  2  could not run: OUTPUT exists, no meta page names a tree, unreadable input, write failure";

const INSPECT_EXIT_CODES: &str = "\
EXIT CODES:
  0  answered from a file that reads cleanly
  1  etcd would refuse the request (a compacted or future revision: the message is etcd's),
     or entries could not be read (the answer leaves them out; each is named on stderr)
  2  could not run: bad usage, unreadable file, not a bbolt file";

/// Inputs every inspection command accepts.
const INPUT_HELP: &str = "A data dir (the --data-dir etcd ran with; its member/snap/db is read), a db file \
(member/snap/db) or a file from `etcdctl snapshot save`";

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

/// `cluster --uncommitted`.
#[derive(Clone, Copy, ValueEnum)]
enum UncommittedArg {
    Drop,
    Keep,
}

/// `-w` of the inspection commands with tables.
#[derive(Clone, Copy, ValueEnum)]
enum ListFormat {
    Simple,
    Table,
    Json,
}

impl From<ListFormat> for WriteOut {
    fn from(f: ListFormat) -> WriteOut {
        match f {
            ListFormat::Simple => WriteOut::Simple,
            ListFormat::Table => WriteOut::Table,
            ListFormat::Json => WriteOut::Json,
        }
    }
}

/// `-w` of `space`.
#[derive(Clone, Copy, ValueEnum)]
enum SpaceFormat {
    Table,
    Json,
}

impl From<SpaceFormat> for WriteOut {
    fn from(f: SpaceFormat) -> WriteOut {
        match f {
            SpaceFormat::Table => WriteOut::Table,
            SpaceFormat::Json => WriteOut::Json,
        }
    }
}

const SPACE_EXIT_CODES: &str = "\
EXIT CODES:
  0  the report covers the whole file: every page read
  1  the file is damaged: the report covers what could be read, the findings say what could not
  2  could not run: bad usage, unreadable file, not a bbolt file";

/// `--etcd-version`: whose rules to follow (`3.6`: the newest 3.6.x).
fn release_parser(s: &str) -> Result<Release, String> {
    Release::parse(s).ok_or_else(|| format!("{s:?} is not an etcd version like 3.6 or 3.5.1"))
}

/// A command-line argument as bytes (etcd keys are bytes).
fn arg_bytes(s: &OsStr) -> Vec<u8> {
    s.as_encoded_bytes().to_vec()
}

/// `--entry-type`: exactly etcd-dump-logs' names; clap lists them on error.
fn entry_type_parser() -> impl clap::builder::TypedValueParser<Value = EntryTypeName> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(EntryTypeName::NAMES)
        .try_map(|s| EntryTypeName::from_name(&s).ok_or_else(|| format!("unknown entry type {s}")))
}

/// `--table-style` of status.
#[derive(Clone, Copy, ValueEnum)]
enum TableStyle {
    Ascii,
    Unicode,
}

/// `--etcd-version` of the restore command: a release of 3.4 to 3.7, a line
/// ("3.6") or an exact one ("3.6.16"); the layout is that of its line.
fn layout_parser(s: &str) -> Result<jobs::restore::EtcdLayout, String> {
    match Release::parse(s) {
        Some(r) if matches!(r.line(), (3, 4..=7)) => Ok(jobs::restore::EtcdLayout::for_release(r)),
        Some(_) => Err(format!("{s:?}: restore writes the layouts of etcd 3.4 to 3.7")),
        None => Err(format!("{s:?} is not an etcd version like 3.6 or 3.5.30")),
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Hash, revision, key count and size of a db or snapshot file, computed exactly as
    /// `etcdutl snapshot status` does.
    #[command(
        long_about = "Print hash, revision, total keys and total size of a db or snapshot file, \
computed exactly as `etcdutl snapshot status` computes them (CRC-32C over every bucket; \
totalSize is high-water mark x page size).\n\n\
The answer is that of the etcdutl of the release that wrote the file, detected from the db \
(meta/storageVersion, cluster/clusterVersion, meta/term): for a 3.4/3.5 file totalKey counts the \
entries of all buckets; for a 3.6/3.7 file it counts distinct live keys and a `version` column \
(meta/storageVersion) follows, in 3.7's table style for 3.7 files. --etcd-version 3.5 (or 3.6, 3.7) \
answers as that release's etcdutl instead; the `rules` line says which rules were applied.\n\n\
Extra details follow etcdutl's output: live keys, entries of all buckets, compact revisions, \
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
        /// Answer as this release's etcdutl (3.4, 3.5, 3.6, 3.7 or an exact 3.5.1);
        /// default: the release that wrote the file.
        #[arg(long, value_name = "VERSION", value_parser = release_parser)]
        etcd_version: Option<Release>,
        /// Table borders (-w table): ascii (+-|, upstream etcdutl up to 3.6) or unicode (box
        /// characters: upstream 3.7, and etcdutl binaries built with tablewriter 1.x, such as
        /// Debian's 3.5.30); default: that of the release whose rules apply.
        #[arg(long, value_enum)]
        table_style: Option<TableStyle>,
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
Given a raft snapshot (member/snap/<term>-<index>.snap, by its name), check verifies it as etcd \
loads it: the envelope CRC, the raft metadata, the v2 store JSON membership is recovered from, and \
says which term, index and members it holds. WAL segments are read as a chain: use `wal \
--summary` or check the data dir.\n\n\
Examples:\n  etcd-forensics check /var/lib/etcd\n  etcd-forensics check -w json --wal-dir /wal /var/lib/etcd\n  etcd-forensics check snapshot.db\n  etcd-forensics check /var/lib/etcd/member/snap/0000000000000002-000000000000003f.snap",
        after_help = EXIT_CODES
    )]
    Check {
        /// A data dir (the --data-dir etcd ran with), a db file (member/snap/db), a file
        /// from `etcdctl snapshot save`, or a raft snapshot (member/snap/*.snap).
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
        /// Data dirs: predict whether THIS etcd release starts the dir (e.g. 3.5 on a dir 3.6
        /// wrote: refused as a downgrade); default: a release of the writer's own line.
        #[arg(long, value_name = "VERSION", value_parser = release_parser)]
        etcd_version: Option<Release>,
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
        /// Whose layout to write: 3.4 (etcdctl 3.4), 3.5, 3.6 or 3.7 (that etcdutl's), or an
        /// exact release of those lines (3.6.16: its line's layout); default: the line that wrote
        /// the snapshot (meta/storageVersion, cluster/clusterVersion).
        #[arg(long, value_name = "VERSION", value_parser = layout_parser)]
        etcd_version: Option<jobs::restore::EtcdLayout>,
        /// Run every check and print what would be written; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Output format: simple (for people) or json (for machines).
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: WalFormat,
    },
    /// Defragment a db or snapshot file offline into a NEW file (etcd's defrag, input untouched).
    #[command(
        long_about = "Defragment a db file, a `snapshot save` file or a data dir's member/snap/db into a new \
file, as etcd's defrag does (every top-level bucket in order, FillPercent 0.9, no free pages, \
bucket sequences 0, freelist not persisted), with no etcd running. The input is never modified: \
the output is written under a temporary name beside OUTPUT, fsynced and moved into place only if \
OUTPUT still does not exist.\n\n\
The input is read completely first; a page that cannot be read makes defrag refuse (exit 1, nothing \
written), because a defrag must not drop data silently: use `etcd-forensics salvage` for damaged \
files. One invalid meta page is only a warning (bbolt uses the other one). Entries of the key \
bucket etcd cannot use (a key that is not a revision, a value that is not a mvccpb.KeyValue) are \
copied as bytes, as `etcdutl defrag` copies them, and reported as damage (exit 1): the new file \
fails etcd's boot the same way; `salvage` leaves them out. A snapshot file's SHA-256 \
trailer is verified unless --skip-hash-check.\n\n\
--snapshot appends the SHA-256 trailer of `etcdctl snapshot save` files, so that `restore` accepts \
the output without --skip-hash-check.\n\n\
Examples:\n  etcd-forensics defrag /var/lib/etcd --output /backup/compact.db\n  \
etcd-forensics defrag snapshot.db --output compact-snapshot.db --snapshot -w json",
        after_help = DEFRAG_EXIT_CODES
    )]
    Defrag {
        /// A db file, a `snapshot save` file, or a data dir (its member/snap/db is read).
        src: PathBuf,
        /// The new file; must not exist.
        #[arg(long, short = 'o')]
        output: PathBuf,
        /// Append the SHA-256 trailer of `snapshot save` files (`restore` then needs no --skip-hash-check).
        #[arg(long)]
        snapshot: bool,
        /// Do not verify the SHA-256 trailer of a snapshot file given as SRC.
        #[arg(long)]
        skip_hash_check: bool,
        /// Output format: simple (for people) or json (for machines).
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: WalFormat,
    },
    /// Recover what can still be read from a damaged db or data dir into a new, verified snapshot file.
    #[command(
        long_about = "Get everything that can still be read out of a damaged db (a data dir's member/snap/db, \
a db file or a snapshot file) into a new snapshot file that `restore` accepts.\n\n\
1. Meta page: each meta page that still names a tree is tried; the valid one whose tree loses the \
fewest pages is used (then the newest), and the report says what reverting to the other would lose.\n\
2. Every page reachable from it is read; a page that cannot be read is skipped, and the key range above \
it (from the branch keys) is lost. Values of the key bucket that are not what etcd writes are dropped.\n\
3. Every page of the file is scanned for leaves of the key bucket (revision keys whose values decode as \
the KeyValue of that revision) and of the lease bucket: entries in the lost ranges are put back. Older \
copies of data a compaction deleted are not, by the compaction rules of the release that wrote the db \
(3.4.34+, 3.5.16+ and 3.6+ keep a tombstone at exactly the compact revision; --etcd-version overrides).\n\
4. For a data dir, the WAL is read up to its first fault (as etcd's repair cuts a torn tail; mid-log \
damage ends it at the last good record), and the entries past the db's consistent index are replayed \
into the salvaged key state: each write transaction gets the next revision, puts and deletes are written \
as etcd writes them, leases granted and revoked, meta/consistent_index and term set to the last entry. \
By default every readable entry is replayed, as the member would apply its own log if restarted alone; \
--committed-only stops at the last recorded commit. Auth, alarm and membership entries are not replayed \
(they are listed).\n\
5. Every bucket is written compact, with the SHA-256 trailer of `snapshot save`, checked, and moved into \
place only if OUTPUT still does not exist.\n\n\
The report names the pages skipped, the revisions recovered from unreachable pages, the revisions lost \
(main revisions above the compact revision are consecutive, so a missing one is a lost write), the \
other buckets that lost data, lease ids live keys need but the lease bucket lacks, the WAL entries \
applied and those lost after the cut. The input is \
opened read-only and never written.\n\n\
Examples:\n  etcd-forensics salvage /var/lib/etcd --output salvaged.db\n  \
etcd-forensics restore salvaged.db --data-dir /var/lib/etcd-new --name m1 ...",
        after_help = SALVAGE_EXIT_CODES
    )]
    Salvage {
        /// A data dir, a db file (member/snap/db) or a `snapshot save` file.
        source: PathBuf,
        /// The snapshot file to write; must not exist.
        #[arg(long, short = 'o')]
        output: PathBuf,
        /// The WAL directory, if etcd ran with --wal-dir (or to replay a WAL onto a db file).
        #[arg(long, value_name = "DIR")]
        wal_dir: Option<PathBuf>,
        /// Do not replay the WAL: the snapshot holds only what the db held.
        #[arg(long, conflicts_with_all = ["wal_dir", "committed_only"])]
        no_wal: bool,
        /// Replay only entries up to the WAL's last recorded commit (default: every readable
        /// entry, as the member would apply them if restarted alone).
        #[arg(long)]
        committed_only: bool,
        /// Compaction rules for revisions found at or below the compact revision (3.4, 3.5,
        /// 3.6, 3.7 or an exact release such as 3.5.15; default: the release that wrote the
        /// db). 3.4.34+, 3.5.16+ and 3.6+ keep a tombstone at exactly the compact revision.
        #[arg(long, value_name = "VERSION", value_parser = release_parser)]
        etcd_version: Option<Release>,
        /// Output format: simple (for people) or json (for machines).
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: WalFormat,
    },
    /// Keys and values at any revision (etcdctl get, read from the files; time travel with --rev).
    #[command(
        long_about = "Print keys and values as `etcdctl get` would, read straight from the db: \
KEY alone is one key; KEY RANGE_END is the range [KEY, RANGE_END); --prefix is every key starting \
with KEY (`get PATH \"\" --prefix` is every key); --from-key is every key >= KEY.\n\n\
Time travel: with --rev R the answer is the store as it was at revision R. For each key etcd \
keeps every revision (put or delete) until a compaction removes the old ones; the value at R is the \
key's newest revision <= R, and a delete (tombstone) <= R means the key did not exist at R. \
Revisions below the compact revision are gone: like etcd, --rev below it fails with \
\"mvcc: required revision has been compacted\", and --rev above the current revision with \
\"mvcc: required revision is a future revision\" (exit 1).\n\n\
Output: -w simple prints each key and value on their own lines (raw bytes, as etcdctl); \
-w json prints exactly `etcdctl get -w json` (keys and values in base64, the response header with \
the store's current revision, and member/cluster ids and raft term from the WAL when PATH is a data \
dir, else 0 or the db's term). Large ranges are written one key at a time.\n\n\
Kubernetes: keys under /registry/ are read as kube-apiserver lays them out (resource, namespace, \
name) and their values decoded: protobuf objects (the k8s\\0 envelope, built-in types) and JSON \
objects (custom resources) are shown as Kubernetes JSON, values encrypted at rest (k8s:enc:...) are \
named with their provider and not decoded. -w simple prints the key, a `# k8s: RESOURCE NS/NAME: \
APIVERSION KIND` line, then the object as indented JSON; -w json adds a \"k8s\" field to each kv \
({\"resource\",\"group\",\"namespace\",\"name\",\"apiVersion\",\"kind\",\"encoding\",\"object\",\
\"encryption\",\"error\"}) next to etcdctl's fields, which are unchanged. --raw turns this off: \
exactly etcdctl's output, stored bytes as they are.\n\n\
Examples:\n  etcd-forensics get /var/lib/etcd /registry/pods/default/web-0\n  \
etcd-forensics get snapshot.db /registry/ --prefix --keys-only\n  \
etcd-forensics get snapshot.db /registry/secrets/ --prefix -w json | jq '.kvs[].k8s.object'\n  \
etcd-forensics get snapshot.db /registry/configmaps/default/cfg --raw\n  \
etcd-forensics get snapshot.db \"\" --prefix --rev 1200 -w json",
        after_help = INSPECT_EXIT_CODES
    )]
    Get {
        #[arg(help = INPUT_HELP)]
        path: PathBuf,
        /// The key, or the start of the range.
        key: OsString,
        /// End of the range (exclusive); "\0" (a NUL byte) means every key >= KEY.
        #[arg(conflicts_with_all = ["prefix", "from_key"])]
        range_end: Option<OsString>,
        /// Every key starting with KEY.
        #[arg(long, conflicts_with = "from_key")]
        prefix: bool,
        /// Every key >= KEY.
        #[arg(long)]
        from_key: bool,
        /// Read at this revision (0: the current one).
        #[arg(long, value_name = "R", default_value_t = 0)]
        rev: i64,
        /// Print keys only.
        #[arg(long)]
        keys_only: bool,
        /// Print values only (simple output).
        #[arg(long, conflicts_with = "keys_only")]
        print_value_only: bool,
        /// At most N keys (0: all); "more" is true in JSON when some were left out.
        #[arg(long, value_name = "N", default_value_t = 0)]
        limit: u64,
        /// Output format: simple or json (etcdctl's shapes).
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: WalFormat,
        /// Follow this etcd release's rules for the current and compacted revision (see
        /// `hashkv --help`); default: the newest release of the minor version that wrote the db.
        #[arg(long, value_name = "VERSION", value_parser = release_parser)]
        etcd_version: Option<Release>,
        /// No Kubernetes decoding of /registry/ keys: values as stored, exactly etcdctl's output.
        #[arg(long)]
        raw: bool,
    },
    /// Every stored revision of one key, puts and deletes, oldest first.
    #[command(
        long_about = "List every revision of KEY still stored in the db, oldest first: puts (with \
create_revision, version, lease and value) and deletes (tombstones), with each revision's main and \
sub revision (main: the store revision of the write; sub: its position inside a transaction). \
A compaction deletes, for each key, every revision older than the newest one at the compact \
revision, so a compacted key's history starts there.\n\n\
-w json prints {\"key\",\"revision\",\"compactRevision\",\"events\":[{\"type\":\"PUT\"|\"DELETE\",\
\"revision\",\"sub\",\"kv\"}]} with kv as in `etcdctl get -w json`.\n\n\
Kubernetes: for a /registry/ key, -w simple first names the object (`# k8s: RESOURCE NS/NAME`) and \
shows each put as its apiVersion, kind and object on one JSON line, so an object's changes can be \
compared revision by revision; -w json adds a \"k8s\" field to each event's kv (see `get --help`). \
--raw shows the stored bytes instead.\n\n\
Example:\n  etcd-forensics history snapshot.db /registry/leases/kube-system/kube-scheduler",
        after_help = INSPECT_EXIT_CODES
    )]
    History {
        #[arg(help = INPUT_HELP)]
        path: PathBuf,
        /// The key.
        key: OsString,
        /// Output format: simple (one line per revision) or json.
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: WalFormat,
        /// No Kubernetes decoding of a /registry/ key's values: show them as stored.
        #[arg(long)]
        raw: bool,
    },
    /// The KV hash etcd's HashKV (`etcdctl endpoint hashkv`) returns, computed from the files.
    #[command(
        long_about = "Compute the hash of the KV history that `etcdctl endpoint hashkv --rev R` returns \
and that etcd's corruption checks compare between members, from the files alone: CRC-32C over the \
bucket name \"key\" and every key/value of the key bucket up to revision R, leaving out revisions at \
or below the compact revision that a compaction at R would delete. Members with the same history \
have the same hash at the same revision; compare with `etcdctl endpoint hashkv` on live members \
or with this command on their copies.\n\n\
R defaults to the current revision. R below the compact revision fails with \"mvcc: required \
revision has been compacted\", and so does R equal to it under etcd 3.4.23-3.4.26 and 3.5.0-3.5.9; R \
above the current revision fails with \"mvcc: required revision is a future revision\" (exit 1). \
The rules are those of the newest release of the line that wrote the db (3.4, 3.5, 3.6, 3.7); \
--etcd-version picks a given release's, e.g. 3.5.1 (3.4.34+/3.5.16+/3.6 also leave out a tombstone \
at the compact revision). A compaction that was scheduled but not finished is finished first, as \
etcd does at boot.\n\n\
Given a data dir, the hash is that of the store etcd serves once it has booted: after a kill or a \
crash the db lags the WAL, and etcd applies the WAL's committed entries past the db's consistent \
index before it answers; so does this command (a note on stderr says how many revisions that \
added). --db-only hashes the db as it is. Given a db or snapshot file, there is no WAL: the file \
is what is hashed.\n\n\
Output as `etcdutl hashkv` (3.6): simple `hash, hash revision, compact revision`; table; json \
{\"hash\",\"hashRevision\",\"compactRevision\"}. The hash is decimal, as etcd prints it.\n\n\
Examples:\n  etcd-forensics hashkv /var/lib/etcd\n  etcd-forensics hashkv snapshot.db --rev 1200 -w json",
        after_help = INSPECT_EXIT_CODES
    )]
    Hashkv {
        #[arg(help = INPUT_HELP)]
        path: PathBuf,
        /// Hash the history up to this revision (0: the current one).
        #[arg(long, value_name = "R", default_value_t = 0)]
        rev: i64,
        /// Follow this etcd release's HashKV rules (3.4.x, 3.5.x, 3.6, 3.7); default: the
        /// newest release of the minor version that wrote the db.
        #[arg(long, value_name = "VERSION", value_parser = release_parser)]
        etcd_version: Option<Release>,
        /// For a data dir: hash the db as it is, without the committed WAL entries etcd
        /// applies at boot.
        #[arg(long)]
        db_only: bool,
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: ListFormat,
    },
    /// Where the bytes of a db go: pages by type, bbolt stats per bucket, keys by prefix, defrag estimate.
    #[command(
        long_about = "Answer \"where do the bytes go, what is eating the quota\" for a db, a snapshot file \
or a data dir, read-only, in one walk of the file.\n\n\
PAGES: every page of the file counted once by what it holds: the 2 meta pages; the freelist page \
(only when persisted; etcd on Linux never persists it); branch and leaf pages of every bucket's \
B+tree (the root bucket's included) and their overflow pages (a node larger than a page, e.g. a \
large value, continues over contiguous pages); free pages: with a persisted freelist those it \
lists, and \"unreachable, unfreed\" pages that leak; without one, every page the tree does not \
reach is free (bbolt rebuilds the freelist that way); damaged pages (reachable but unreadable); \
pages past the high-water mark (HWM: one past the last page bbolt uses; newer bbolt grows the file \
ahead of it). They add up to the file size / page size.\n\n\
BUCKETS: per top-level bucket the numbers of bbolt's Bucket.Stats() (the total row is what \
`bbolt stats` prints): keys (leaf elements), depth (B+tree levels), branch/leaf pages and their \
overflow pages, alloc (bytes of those pages) and in use (bytes holding headers, element headers, \
keys and values); fill = in use / alloc. Inline buckets live inside their parent's leaf and \
allocate no page. A histogram of leaf pages by fill follows: etcd's defrag fills pages to 90%, \
random writes leave them about half full.\n\n\
KEYS: the key bucket grouped by user-key prefix (the first --prefix-depth '/'-separated segments: \
/registry/pods/ns/name is /registry/pods at depth 2, bytes by Kubernetes resource type). Per \
group: distinct keys, live keys (newest revision is a put), revisions stored (and the key with the \
most), and bytes (16-byte leaf element + revision key + value): current = the newest put of each \
live key; superseded = older puts; tombstones = deletions; compactable = superseded + tombstones, \
what `etcdctl compact <current revision>` deletes (then a defrag gives the pages back).\n\n\
DEFRAG ESTIMATE: the size etcd's defrag would produce (fill 90%, no free pages), computed with the \
plan of `etcd-forensics defrag` plus the 2 pages a fresh bbolt file starts with; exact when the db \
has at most 10000 entries (etcd's defrag then commits once). With more, etcd commits every 10000 puts \
and the estimate adds the pages the last commit frees (a model: exact on small values in our tests, \
a few pages short when leaves span several pages). It is HWM x page size, the size etcd's quota \
counts; bbolt >= 1.3.7 may leave the file itself longer. reclaimable = file size - estimate.\n\n\
Examples:\n  etcd-forensics space /var/lib/etcd\n  etcd-forensics space snapshot.db --prefix-depth 3 --top 50\n  \
etcd-forensics space member/snap/db -w json | jq .defrag",
        after_help = SPACE_EXIT_CODES
    )]
    Space {
        #[arg(help = INPUT_HELP)]
        path: PathBuf,
        /// Group keys by their first N '/'-separated segments (/registry/pods/ns/name: 2 = /registry/pods).
        #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
        prefix_depth: u16,
        /// List the N largest key groups; the rest is summed as "(other)".
        #[arg(long, value_name = "N", default_value_t = 20)]
        top: usize,
        /// Output format: table (for people) or json (for machines).
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "table")]
        write_out: SpaceFormat,
    },
    /// The db's buckets with their entry and byte counts.
    #[command(
        long_about = "List every top-level bucket of the db (etcd's: alarm, auth, authRoles, \
authUsers, cluster, key, lease, members, members_removed, meta) with its number of entries, \
the bytes of its keys and values, and its root page (inline: stored inside its parent's page).",
        after_help = INSPECT_EXIT_CODES
    )]
    Buckets {
        #[arg(help = INPUT_HELP)]
        path: PathBuf,
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: ListFormat,
    },
    /// Leases with their TTL and the keys attached to them.
    #[command(
        long_about = "List the leases of the lease bucket: id, granted TTL, remaining TTL (only \
stored when etcd checkpointed it; a restarted etcd grants every lease its full TTL, or that \
remaining TTL) and the live keys attached to each at the current revision. Lease ids that live \
keys carry but the lease bucket lacks are listed as missing: etcd logs \"failed to attach a \
lease\" for them at boot and those keys never expire.",
        after_help = INSPECT_EXIT_CODES
    )]
    Leases {
        #[arg(help = INPUT_HELP)]
        path: PathBuf,
        /// List the attached keys, not just their number.
        #[arg(long)]
        keys: bool,
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: ListFormat,
    },
    /// Cluster members as the db records them (members, members_removed).
    #[command(
        long_about = "List the members of the members bucket (id, name, peer and client URLs, \
learner) in `etcdctl member list`'s columns, and the ids in members_removed. etcd 3.4 and 3.5 \
take membership from the WAL and .snap files and only mirror it here; 3.6 reads it from here.",
        after_help = INSPECT_EXIT_CODES
    )]
    Members {
        #[arg(help = INPUT_HELP)]
        path: PathBuf,
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: ListFormat,
    },
    /// Auth state: enabled flag, revision, users and their roles, roles and their permissions.
    #[command(
        long_about = "Print whether auth is enabled, the auth revision, every user with its roles \
and every role with its key permissions. Password hashes are never printed: a user only says \
whether it has a password.",
        after_help = INSPECT_EXIT_CODES
    )]
    Auth {
        #[arg(help = INPUT_HELP)]
        path: PathBuf,
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: ListFormat,
    },
    /// Active alarms (NOSPACE, CORRUPT), as `etcdctl alarm list` prints them.
    #[command(after_help = INSPECT_EXIT_CODES)]
    Alarms {
        #[arg(help = INPUT_HELP)]
        path: PathBuf,
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: ListFormat,
    },
    /// The meta bucket: consistent index, term, compactions, versions, conf state.
    #[command(
        long_about = "Print the meta bucket: the raft index and term of the last entry applied to \
this db (consistent_index, term), the scheduled and finished compaction revisions, the storage \
version (3.6+) and raft's conf state (3.5+), plus the cluster version and the revisions etcd \
derives at boot: the current revision and the compact revision.",
        after_help = INSPECT_EXIT_CODES
    )]
    Meta {
        #[arg(help = INPUT_HELP)]
        path: PathBuf,
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: ListFormat,
    },
    /// Do two stores hold the same history? First divergent revision, differing keys, HashKV of both.
    #[command(
        long_about = "Compare the KV history of two stores: two members' snapshots or data dirs, or one \
member at two times. Revisions are compared where both still have them (above the larger compact \
revision, up to the smaller current revision): every revision's entries (puts and deletes, keys and \
values) on both sides. Prints the first revision where they differ, the keys whose value differs at \
the last common revision, and HashKV of both sides (what etcd's corruption check compares) at that \
revision and around the divergence when the compact revisions agree. A store that is only ahead of \
the other is not divergent.\n\n\
-w json: {\"identical\",\"a\",\"b\",\"comparedFrom\",\"comparedTo\",\"firstDivergentRevision\",\
\"hashes\",\"keysDiffering\",\"keys\"} (see the README).\n\n\
Example:\n  etcd-forensics diff member1-snap.db member2-snap.db",
        after_help = "EXIT CODES:\n  0  the same history where both have it\n  1  the histories diverge (or entries could not be read)\n  2  could not run: bad usage, unreadable file"
    )]
    Diff {
        /// The first store: a data dir, a db file or a snapshot file.
        a: PathBuf,
        /// The second store.
        b: PathBuf,
        /// Follow this etcd release's rules for revisions and HashKV (see `hashkv --help`);
        /// default: each store's writer's.
        #[arg(long, value_name = "VERSION", value_parser = release_parser)]
        etcd_version: Option<Release>,
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: WalFormat,
    },
    /// Every member of a cluster at once: who is ahead, one history?, the best source; --restore writes a new cluster.
    #[command(
        long_about = "Compare every member of one etcd cluster offline. Each PATH is a member's data dir (or a \
copy of one) or a snapshot file. For each member: the `check DATA_DIR` verdict and willStart, member \
and cluster id, its member list, applied index, raft term and commit, last index, revision and compact \
revision, what a restart alone replays, whether it stopped cleanly, and HashKV at a revision all members \
have. Across members: one cluster?, one history? (the first divergent revision, as `diff` finds it), who \
is ahead by how many entries and revisions, whether a quorum can still start, and the best source: the \
most up-to-date log (raft's rule: last term, then last index) among the members that start and agree. \
With a quorum of the voters present it provably holds every committed write; with fewer, the output \
says from which index and revision on writes may be missing.\n\n\
--restore --out DIR writes a new cluster from the best source (or --from PATH, a member or a snapshot \
file): one data dir per member under DIR (members from --member, else the kubeadm manifests, else the \
source's member list), one new --initial-cluster-token, the revision bumped by 1000000000 and marked \
compacted (--bump-revision N, --no-bump), the etcd flags for each member, and with --kubeadm the edited \
static pod manifests (only the data hostPath, --initial-cluster, --initial-cluster-state and \
--initial-cluster-token change) and STEPS.txt. From a data dir the db is taken with its committed WAL \
entries past the consistent index, as `etcd --force-new-cluster` keeps them; `--uncommitted keep` also \
applies the entries past its commit. Everything is checked first and written under a temporary name, \
then renamed to DIR. --dry-run writes nothing.\n\n\
-w json: {\"members\":[...],\"sameCluster\",\"consistent\",\"firstDivergentRevision\",\"best\",\"reasons\",\
\"quorum\",\"startup\",\"intact\", ...}; with --restore {\"analysis\":..., \"restore\":...} (see the README).\n\n\
Examples:\n  etcd-forensics cluster /backup/node1/etcd /backup/node2/etcd /backup/node3/etcd -w table\n  \
etcd-forensics cluster node1 node2 node3 --restore --out /restore \\\n      --kubeadm node1-etcd.yaml --kubeadm node2-etcd.yaml --kubeadm node3-etcd.yaml\n  \
etcd-forensics cluster survivor --restore --from survivor --out /restore --member m1=https://10.0.0.1:2380",
        after_help = "EXIT CODES:\n  0  intact and consistent (with --restore: the new cluster was written, or planned)\n  1  members missing, damaged, behind a lost quorum, or diverged (--restore: refused)\n  2  could not run: bad usage, unreadable path"
    )]
    Cluster {
        /// Members' data dirs (or copies), or snapshot files.
        #[arg(required = true, num_args = 1..)]
        paths: Vec<PathBuf>,
        /// Write a new cluster under --out.
        #[arg(long, requires = "out")]
        restore: bool,
        /// Where to write the new cluster (must not exist, or be empty).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The source to restore from instead of the best member (a member's data dir or a snapshot file).
        #[arg(long, value_name = "PATH")]
        from: Option<PathBuf>,
        /// A new member, NAME=PEER-URL; repeat for each (default: the kubeadm manifests, else the source's member list).
        #[arg(long = "member", value_name = "NAME=PEER-URL")]
        members: Vec<String>,
        /// The new cluster's --initial-cluster-token (default: a new random one).
        #[arg(long, value_name = "TOKEN")]
        initial_cluster_token: Option<String>,
        /// Raise the restored revision by N and mark it compacted.
        #[arg(long, value_name = "N", default_value_t = jobs::cluster::restore::DEFAULT_BUMP)]
        bump_revision: u64,
        /// Keep the source's revision (no bump, no compaction mark).
        #[arg(long)]
        no_bump: bool,
        /// The source's log entries past its commit: drop them (as etcd --force-new-cluster) or keep them.
        #[arg(long, value_enum, default_value = "drop")]
        uncommitted: UncommittedArg,
        /// A kubeadm etcd static pod manifest (/etc/kubernetes/manifests/etcd.yaml) of a member; repeat per node.
        #[arg(long, value_name = "MANIFEST")]
        kubeadm: Vec<PathBuf>,
        /// The data dir's path on each node (default: the manifest's data hostPath + "-restored").
        #[arg(long, value_name = "PATH")]
        host_data_dir: Option<String>,
        /// Follow this etcd release's rules (revisions, HashKV, restore layout); default: each member's writer's.
        #[arg(long, value_name = "VERSION", value_parser = release_parser)]
        etcd_version: Option<Release>,
        /// Check and print the plan; write nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(short = 'w', long = "write-out", value_enum, default_value = "simple")]
        write_out: ListFormat,
    },
    /// One self-contained HTML page of a data dir, a db file or several members, to look at and attach to an incident.
    #[command(
        long_about = "Write one self-contained HTML file about a data dir, a db or snapshot file, or several \
members' data dirs: the verdict first (clean, repairable or damaged; whether etcd will start; what to do), \
then every finding grouped by file (the same findings `check -w json` gives, with severity, offset, page, \
meaning and action), a timeline in SVG (raft index: WAL segments with their damage, .snap files, WAL \
snapshot records, the db's consistent index, the commit and the last index; revisions: compact, current \
and after start; one lane per member), where the space goes (a treemap of the key bucket by prefix with \
current, superseded and tombstone bytes, pages by type, the defrag estimate: `space`'s numbers), a \
Kubernetes summary when /registry/ keys exist (objects per resource and namespace, the largest objects, \
what is encrypted at rest; values are never shown), and a header with the tool version, the time, and \
every input file with its size and SHA-256.\n\n\
The page loads nothing (inline CSS and SVG, no script, a Content-Security-Policy that forbids scripts \
and requests), reads the same with JavaScript off, and prints. Everything taken from the files is \
escaped: a key `<script>` renders as text. The output file must not exist; it is written under a \
temporary name, fsynced, then renamed. SOURCE_DATE_EPOCH, when set, is the time the report shows.\n\n\
Examples:\n  etcd-forensics report /var/lib/etcd --output incident.html\n  etcd-forensics report snapshot.db -o snapshot.html\n  \
etcd-forensics report node1/etcd node2/etcd node3/etcd -o cluster.html",
        after_help = "EXIT CODES:\n  0  report written; everything verified\n  1  report written; damage found (or, with several members, the cluster is not intact)\n  2  could not run: bad usage, unreadable path, output file exists"
    )]
    Report {
        /// A data dir, a db or snapshot file, or several members' data dirs.
        #[arg(required = true, num_args = 1..)]
        paths: Vec<PathBuf>,
        /// The HTML file to write (must not exist).
        #[arg(short = 'o', long, value_name = "FILE.html")]
        output: PathBuf,
        /// Follow this etcd release's rules (default: the writer's).
        #[arg(long, value_name = "VERSION", value_parser = release_parser)]
        etcd_version: Option<Release>,
        /// Leave out the SHA-256 of the input files (most of the cost on a GiB-scale db).
        #[arg(long)]
        no_hash: bool,
    },
    /// The speed floor benches/compare.sh measures jobs against: map each FILE and CRC-32C it once.
    #[command(hide = true)]
    Floor {
        #[arg(required = true)]
        files: Vec<PathBuf>,
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
        Cmd::Status { file, write_out, compat, verify_trailer, etcd_version, table_style } => {
            let r = with_progress(&file, |progress| {
                jobs::status::status(
                    &file,
                    jobs::status::StatusOptions { skip_hash_check: !verify_trailer, etcd_version, progress },
                )
            })?;
            let how = WriteOut::from(write_out);
            if r.refused() {
                eprintln!("Error: {}", r.refusal_message());
                if file.extension().is_some_and(|e| e == "snap") {
                    eprintln!(
                        "note: {} is a raft snapshot, not a db: `snapshot status` reads member/snap/db or a file from \
                         `etcdctl snapshot save`; `etcd-forensics check` reads .snap files",
                        file.display()
                    );
                }
                eprintln!("run `etcd-forensics check {}` for what each finding means and what to do", file.display());
                if how == WriteOut::Json {
                    output::status::print_refusal_json(out, &r)?;
                }
                return Ok(ExitCode::from(1));
            }
            let style = table_style.map(|t| match t {
                TableStyle::Ascii => output::table::Style::Ascii,
                TableStyle::Unicode => output::table::Style::Unicode,
            });
            output::status::print(out, &r, how, compat, style)?;
            if r.outcome() == Outcome::Damaged {
                for f in r.anomalies() {
                    eprintln!("warning: {}: {}", f.location.clone().with_file(&file), f.what);
                }
            }
            Ok(code(r.outcome()))
        }
        Cmd::Check { path, write_out, wal_dir, strict, etcd_version } => {
            if path.is_dir() {
                let d = jobs::check::check_dir(&path, wal_dir.as_deref(), etcd_version)?;
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
                layout: etcd_version,
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
        Cmd::Defrag { src, output, snapshot, skip_hash_check, write_out } => {
            let opts = jobs::defrag::DefragOptions { source: src, output, snapshot, skip_hash_check };
            let r = jobs::defrag::defrag(&opts)?;
            let how = WriteOut::from(write_out);
            if !r.written && how != WriteOut::Json {
                output::defrag::print(&mut io::stderr().lock(), &r, how)?;
            } else {
                output::defrag::print(out, &r, how)?;
            }
            Ok(code(r.outcome()))
        }
        Cmd::Salvage { source, output, wal_dir, no_wal, committed_only, etcd_version, write_out } => {
            let opts = jobs::salvage::SalvageOptions { source, output, wal_dir, no_wal, committed_only, etcd_version };
            let r = jobs::salvage::salvage(&opts)?;
            output::salvage::print(out, &r, WriteOut::from(write_out))?;
            Ok(code(r.outcome()))
        }
        Cmd::Get {
            path,
            key,
            range_end,
            prefix,
            from_key,
            rev,
            keys_only,
            print_value_only,
            limit,
            write_out,
            etcd_version,
            raw,
        } => {
            let key = arg_bytes(&key);
            let range = if prefix {
                KeyRange::prefix(&key)
            } else if from_key {
                KeyRange::from_key(&key)
            } else {
                KeyRange::new(&key, &range_end.as_deref().map(arg_bytes).unwrap_or_default())
            };
            let input = inspect::open(&path)?;
            let mut store = open_store(&input, etcd_version)?;
            // Only JSON prints the header; reading a data dir's WAL for its ids costs a scan.
            let json = matches!(write_out, WalFormat::Json);
            let header = if json { input.header(&store) } else { Default::default() };
            let a = match walking(&input, &mut store, |s| s.get(header, &GetOptions { range, rev, limit })) {
                Ok(a) => a,
                Err(e) => return Ok(refused_by(&e, &store)),
            };
            let mut out = io::BufWriter::with_capacity(1 << 16, out);
            let style = output::inspect::GetStyle { keys_only, print_value_only, raw };
            output::inspect::print_get(&mut out, &a, write_out.into(), style)?;
            out.flush()?;
            Ok(problems_code(&a.problems))
        }
        Cmd::History { path, key, write_out, raw } => {
            let input = inspect::open(&path)?;
            let mut store = open_store(&input, None)?;
            let a = walking(&input, &mut store, |s| s.history(&arg_bytes(&key)));
            let mut out = io::BufWriter::with_capacity(1 << 16, out);
            output::inspect::print_history(&mut out, &a, write_out.into(), raw)?;
            out.flush()?;
            Ok(problems_code(&a.problems))
        }
        Cmd::Hashkv { path, rev, etcd_version, db_only, write_out } => {
            let input = inspect::open(&path)?;
            let mut store = open_store(&input, etcd_version)?;
            let boot = if db_only { inspect::Boot::NoWal } else { inspect::at_boot(&input, &store, etcd_version) };
            let answer = walking(&input, &mut store, |s| match &boot {
                inspect::Boot::Replay(b) => s.hashkv_at_boot(rev, b),
                _ => s.hashkv(rev),
            });
            let a = match answer {
                Ok(a) => a,
                Err(e) => return Ok(refused_by(&e, &store)),
            };
            output::inspect::print_hashkv(out, &a, write_out.into())?;
            match &boot {
                inspect::Boot::Replay(b) => {
                    eprintln!(
                        "note: includes the {} committed WAL entr{} past the db's consistent index, which etcd applies at boot (db revision {}, revision after boot {}); --db-only hashes the db alone",
                        b.entries,
                        if b.entries == 1 { "y" } else { "ies" },
                        b.db_revision,
                        b.current
                    );
                    if b.after_commit > b.current {
                        eprintln!(
                            "note: the WAL's entries not yet known to be committed would take it to revision {} (a single-member cluster commits them at once; a new leader may drop them)",
                            b.after_commit
                        );
                    }
                }
                inspect::Boot::NotReplayed(why) => {
                    eprintln!("note: this hash is of the db alone, without the WAL entries etcd applies at boot: {why}")
                }
                inspect::Boot::NoWal | inspect::Boot::InStep => {}
            }
            if a.pending_compaction {
                eprintln!(
                    "note: the compaction at revision {} was scheduled but not finished; etcd finishes it at boot, and this hash is the one it then reports",
                    a.hash.compact_revision
                );
            }
            Ok(problems_code(&a.problems))
        }
        Cmd::Space { path, prefix_depth, top, write_out } => {
            let input = inspect::open(&path)?;
            let r = with_progress(&input.db_path, |progress| {
                let opts = jobs::space::SpaceOptions {
                    prefix_depth: usize::from(prefix_depth),
                    top,
                    progress,
                    kubernetes: false,
                };
                jobs::space::space(&input, &opts)
            })?;
            let mut out = io::BufWriter::new(out);
            output::space::print(&mut out, &r, write_out.into())?;
            out.flush()?;
            Ok(code(r.outcome()))
        }
        Cmd::Buckets { path, write_out } => {
            let input = inspect::open(&path)?;
            let mut store = open_store(&input, None)?;
            let a = walking(&input, &mut store, |s| s.buckets());
            output::inspect::print_buckets(out, &a, write_out.into())?;
            Ok(problems_code(&a.problems))
        }
        Cmd::Leases { path, keys, write_out } => {
            let input = inspect::open(&path)?;
            let mut store = open_store(&input, None)?;
            let a = walking(&input, &mut store, |s| s.leases())?;
            output::inspect::print_leases(out, &a, write_out.into(), keys)?;
            Ok(problems_code(&a.problems))
        }
        Cmd::Members { path, write_out } => {
            let input = inspect::open(&path)?;
            let m = open_store(&input, None)?.members()?;
            output::inspect::print_members(out, &m, write_out.into())?;
            Ok(problems_code(&m.problems))
        }
        Cmd::Auth { path, write_out } => {
            let input = inspect::open(&path)?;
            let a = open_store(&input, None)?.auth()?;
            output::inspect::print_auth(out, &a, write_out.into())?;
            Ok(problems_code(&a.problems))
        }
        Cmd::Alarms { path, write_out } => {
            let input = inspect::open(&path)?;
            let (alarms, problems) = open_store(&input, None)?.alarms()?;
            output::inspect::print_alarms(out, &alarms, write_out.into())?;
            Ok(problems_code(&problems))
        }
        Cmd::Meta { path, write_out } => {
            let input = inspect::open(&path)?;
            let store = open_store(&input, None)?;
            let m = store.meta()?;
            output::inspect::print_meta(out, &m, write_out.into())?;
            Ok(problems_code(&store.problems))
        }
        Cmd::Diff { a, b, etcd_version, write_out } => {
            let (ia, ib) = (inspect::open(&a)?, inspect::open(&b)?);
            let (sa, sb) = (open_store(&ia, etcd_version)?, open_store(&ib, etcd_version)?);
            let r = jobs::diff::diff(&sa, &sb);
            output::diff::print(out, &r, write_out.into())?;
            for p in &r.problems {
                eprintln!("warning: {p}");
            }
            Ok(if r.identical() && r.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Cmd::Report { paths, output, etcd_version, no_hash } => {
            if output.exists() {
                return Err(Failure::Run(etcd_forensics::Error::usage(format!(
                    "{}: already exists; give a new file name (reports are never written over)",
                    output.display()
                ))));
            }
            let generated_at = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|v| v.trim().parse::<i64>().ok());
            let db = paths
                .first()
                .map(|p| if p.is_dir() { p.join("member/snap/db") } else { p.clone() })
                .unwrap_or_default();
            let r = with_progress(&db, |progress| {
                jobs::report::build(
                    &paths,
                    &jobs::report::ReportOptions { etcd_version, generated_at, progress, no_hash },
                )
            })?;
            let html = output::html::render(&r);
            jobs::report::write_new_file(&output, html.as_bytes())?;
            let verdict = r.subjects.iter().map(|s| s.check.verdict()).collect::<Vec<_>>().join(", ");
            writeln!(out, "wrote {} ({} bytes): {verdict}", output.display(), html.len())?;
            Ok(code(r.outcome()))
        }
        Cmd::Cluster {
            paths,
            restore,
            out: out_dir,
            from,
            members,
            initial_cluster_token,
            bump_revision,
            no_bump,
            uncommitted,
            kubeadm,
            host_data_dir,
            etcd_version,
            dry_run,
            write_out,
        } => {
            if !restore {
                if from.is_some() || !members.is_empty() || !kubeadm.is_empty() || dry_run {
                    return Err(Failure::Run(etcd_forensics::Error::usage(
                        "--from, --member, --kubeadm and --dry-run go with --restore --out DIR",
                    )));
                }
                let r = jobs::cluster::analyze(&paths, &jobs::cluster::ClusterOptions { etcd_version })?;
                output::cluster::print(out, &r, write_out.into())?;
                return Ok(if r.outcome() == jobs::Outcome::Verified { ExitCode::SUCCESS } else { ExitCode::from(1) });
            }
            let mut parsed = Vec::new();
            for m in &members {
                let Some((n, u)) = m.split_once('=') else {
                    return Err(Failure::Run(etcd_forensics::Error::usage(format!(
                        "--member {m:?}: expected NAME=PEER-URL"
                    ))));
                };
                parsed.push((n.to_string(), etcd_forensics::membership::parse_url(u)?));
            }
            let mut o = jobs::cluster::restore::ClusterRestoreOptions::new(paths, out_dir.unwrap_or_default());
            o.from = from;
            o.members = parsed;
            o.token = initial_cluster_token;
            o.bump_revision = if no_bump { 0 } else { bump_revision };
            o.uncommitted = match uncommitted {
                UncommittedArg::Drop => jobs::cluster::restore::Uncommitted::Drop,
                UncommittedArg::Keep => jobs::cluster::restore::Uncommitted::Keep,
            };
            o.kubeadm = kubeadm;
            o.host_data_dir = host_data_dir;
            o.etcd_version = etcd_version;
            o.layout = etcd_version.map(jobs::restore::EtcdLayout::for_release);
            o.dry_run = dry_run;
            let plan = jobs::cluster::restore::restore_cluster(&o)?;
            output::cluster::print_restore(out, &plan, write_out.into())?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "etcd-forensics", out);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Floor { files } => {
            for file in files {
                let f = etcd_forensics::jobs::floor::run(&file)?;
                writeln!(out, "{:08x} {} {}", f.crc32c, f.bytes, file.display())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Man => {
            clap_mangen::Man::new(Cli::command()).render(out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Open the db of `input`.
fn open_store(input: &inspect::Input, requested: Option<Release>) -> Result<Store<'_>, Failure> {
    Ok(input.store_for(requested)?)
}

/// Run a walk of `store` with a progress bar for large files.
fn walking<'a, T>(input: &inspect::Input, store: &mut Store<'a>, job: impl FnOnce(&Store<'a>) -> T) -> T {
    with_progress(&input.db_path, |p| {
        store.progress = p;
        job(store)
    })
}

/// etcd refuses the revision: its message and whose rules refused, exit 1.
fn refused_by(e: &etcd_forensics::mvcc::hashkv::RevError, store: &Store<'_>) -> ExitCode {
    eprintln!("etcd-forensics: {e}");
    if let Some(r) = store.rules_text() {
        eprintln!("  (following {r}; --etcd-version picks another release's rules)");
    }
    ExitCode::from(1)
}

/// Entries we could not read: name them on stderr, exit 1.
fn problems_code(problems: &[String]) -> ExitCode {
    if problems.is_empty() {
        return ExitCode::SUCCESS;
    }
    for p in problems {
        eprintln!("warning: {p}");
    }
    eprintln!("warning: the answer leaves out what could not be read; run `etcd-forensics check` for the full story");
    ExitCode::from(1)
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
