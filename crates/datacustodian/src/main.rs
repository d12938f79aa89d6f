//! `datacustodian`: see `datacustodian --help` and the crate README.

fn main() -> std::process::ExitCode {
    datacustodian::cli::main()
}
