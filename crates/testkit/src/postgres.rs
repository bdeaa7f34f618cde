//! A PostgreSQL server of its own for a test: `initdb` in a temporary directory, `pg_ctl` on a
//! free loopback port, stopped and deleted when dropped. The binaries are Debian's
//! (`postgresql-15`, installed by scripts/test when missing); as root, they run as the
//! `postgres` user, since PostgreSQL refuses to run as root.

use std::{
    net::{Ipv4Addr, TcpListener},
    path::{Path, PathBuf},
    process::Command,
};
use tempfile::TempDir;

/// A running PostgreSQL cluster; stopped (immediately) and deleted when dropped.
#[derive(Debug)]
pub struct Postgres {
    dir: TempDir,
    port: u16,
    bin: PathBuf,
    as_postgres: bool,
}

impl Postgres {
    /// Creates and starts a cluster: trust authentication on 127.0.0.1 only, user `postgres`.
    ///
    /// # Panics
    /// When PostgreSQL's binaries are missing or the cluster cannot start.
    pub fn start() -> Self {
        let bin = binaries();
        let as_postgres = is_root();
        let dir = tempfile::tempdir().expect("a temporary directory");
        if as_postgres {
            run(Command::new("chown").arg("postgres").arg(dir.path()));
        }
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .expect("free port")
            .port();
        let postgres = Self {
            dir,
            port,
            bin,
            as_postgres,
        };
        let data = postgres.data();
        run(postgres.command("initdb").arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]));
        postgres.resume();
        postgres
    }

    /// The URL of a new, empty database in the cluster.
    pub fn database(&self, name: &str) -> String {
        run(self.command("createdb").args(self.connection()).arg(name));
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// `sql`'s result in `database`, unaligned and without headers (`psql -tAc`).
    pub fn query(&self, database: &str, sql: &str) -> String {
        let output = self
            .command("psql")
            .args(self.connection())
            .args(["-d", database, "-tAc", sql])
            .output()
            .expect("psql starts");
        assert!(
            output.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Stops the server at once, as a crash would (`pg_ctl stop -m immediate`): connections
    /// break, the data stays.
    pub fn halt(&self) {
        run(self.command("pg_ctl").arg("-D").arg(self.data()).args([
            "-m",
            "immediate",
            "-w",
            "stop",
        ]));
    }

    /// Starts the server again on the same port and data (after [`Postgres::halt`]).
    pub fn resume(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        run(self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("log"))
            .args(["-o", &options, "-w", "start"]));
    }

    /// The client options that reach the cluster as `postgres`.
    fn connection(&self) -> [String; 6] {
        [
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "postgres",
        ]
        .map(str::to_owned)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `program` from PostgreSQL's binaries, run as `postgres` when this process is root.
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// PostgreSQL's binary directory: `$LEASH_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`.
fn binaries() -> PathBuf {
    if let Some(bin) = std::env::var_os("LEASH_PG_BIN") {
        return bin.into();
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| Path::new(bin).join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .expect("PostgreSQL is missing: scripts/test installs it (apt-get install postgresql)")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

/// Runs `command`, panicking with its output when it fails.
fn run(command: &mut Command) {
    let output = command.output().expect("the command starts");
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
