//! What the command-line tests share.

use std::ffi::OsStr;
use std::process::Command;

/// Runs `tcm` with `args`: its exit status, stdout and stderr.
pub fn tcm<S: AsRef<OsStr>>(args: &[S]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tcm"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
