//! `--env-file`: the `export` lines `berth up` and `berth server` print, written to a file once
//! Berth is ready, for scripts. Their standard output stays open as long as Berth runs, so a
//! script reading it (`source <(berth up)`) would wait forever; a script starts Berth in the
//! background instead, waits for the file and sources it.

use anyhow::Context;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct EnvFile {
    /// Once ready, write the `export` lines to FILE (mode 0600: they hold the root key), whole
    /// or not at all, for a script to wait for and source. Remove FILE before starting, so
    /// that one of an earlier run is not taken for this one's.
    #[arg(long = "env-file", value_name = "FILE")]
    pub path: Option<PathBuf>,
}

impl EnvFile {
    /// Writes `exports` (lines without the last newline) to the file, when one was asked for.
    pub fn write(&self, exports: &str) -> anyhow::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        berth_files::write_private(path, format!("{exports}\n").as_bytes())
            .with_context(|| format!("cannot write the --env-file {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn writes_the_exports_private_and_newline_terminated() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("berth.env");
        let file = EnvFile {
            path: Some(path.clone()),
        };
        file.write("export A=1\nexport B=2").expect("write");
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, "export A=1\nexport B=2\n");
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn without_a_path_writes_nothing_and_a_missing_directory_is_an_error() {
        EnvFile::default()
            .write("export A=1")
            .expect("nothing to write");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("absent/berth.env");
        let error = EnvFile { path: Some(path) }
            .write("export A=1")
            .expect_err("no such directory");
        assert!(error.to_string().contains("absent/berth.env"), "{error}");
    }
}
