//! `dingtalk-codegen [--spec DIR] [--out CRATE_DIR] [--check]`
//!
//! Regenerates the `dingtalk` crate's API modules from the YAML spec. With `--check` it writes
//! nothing and exits non-zero when the checked-in files differ from a fresh run.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: dingtalk-codegen [--spec DIR] [--out CRATE_DIR] [--check]
  --spec DIR        the spec folder (default: spec)
  --out CRATE_DIR   the crate to write src/api/ into (default: generated)
  --check           write nothing; list drifted files and fail if any";

fn main() -> ExitCode {
    let mut spec = PathBuf::from("spec");
    let mut out = PathBuf::from("generated");
    let mut check = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--spec" | "--out" => {
                let Some(value) = args.next() else {
                    eprintln!("{arg} needs a value\n{USAGE}");
                    return ExitCode::from(2);
                };
                if arg == "--spec" {
                    spec = value.into();
                } else {
                    out = value.into();
                }
            }
            "--check" => check = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument `{other}`\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    if !spec.is_dir() {
        eprintln!(
            "error: spec folder `{}` not found (run from the repository root, or pass --spec)",
            spec.display()
        );
        return ExitCode::from(2);
    }
    if !out.join("Cargo.toml").is_file() {
        eprintln!(
            "error: `{}` is not a crate folder (no Cargo.toml); pass --out",
            out.display()
        );
        return ExitCode::from(2);
    }
    let files = match dingtalk_codegen::generate(&spec) {
        Ok(files) => files,
        Err(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            eprintln!(
                "error: {} problem(s) in the spec; nothing was written",
                diags.len()
            );
            return ExitCode::FAILURE;
        }
    };
    if check {
        match dingtalk_codegen::output::drift(&out, &files) {
            Ok(d) if d.is_empty() => {
                println!("{} generated files are up to date", files.len());
                ExitCode::SUCCESS
            }
            Ok(d) => {
                eprint!("{}", d.report());
                eprintln!("error: generated files are stale; run the same command without --check to regenerate them");
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("error: reading {}: {e}", out.display());
                ExitCode::FAILURE
            }
        }
    } else {
        match dingtalk_codegen::output::write(&out, &files) {
            Ok(touched) => {
                for p in &touched {
                    println!("wrote {}", p.display());
                }
                println!("{} generated files, {} changed", files.len(), touched.len());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: writing {}: {e}", out.display());
                ExitCode::FAILURE
            }
        }
    }
}
