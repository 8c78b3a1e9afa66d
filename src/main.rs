fn main() -> std::process::ExitCode {
    directus_sync::cli::main()
}
