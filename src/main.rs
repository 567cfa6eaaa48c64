use clap::error::ErrorKind;
use clap::Parser;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// One line for the terminal: drivers (libpq) and clap spread their messages over several.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The server allocates and frees many small blocks per request (rows, answers, JSON): with
/// glibc's allocator that was about 15 % of the writer thread's CPU in the flow benchmark
/// (`perf`, benches/README.md, "the batch's callers and answers").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc returns freed memory to the OS at once. By default it waits a second, so that
/// sign-ins close together (Argon2 takes 19 MiB for each password check) each kept their
/// block: the peak in the flow benchmark was 76-95 MB (now 61-67 MB), and with a delay of
/// 10 ms the server still held 96 MB after a burst of sign-ins in one CI run
/// (`cli::a_burst_of_sign_ins_does_not_hold_on_to_argon2_memory`).
fn allocator_options() {
    use libmimalloc_sys as mi;
    // The number of `mi_option_purge_delay` in the mimalloc that libmimalloc-sys builds
    // (c_src/mimalloc/v3/include/mimalloc.h); its Rust constants do not name it.
    const PURGE_DELAY: mi::mi_option_t = 15;
    // SAFETY: setting an option is always allowed; it is read when memory is next purged.
    unsafe { mi::mi_option_set(PURGE_DELAY, 0) }
}

/// Large allocations (Argon2's 19 MiB per password check, XML imports, label sheets) go
/// straight to the OS and back when freed. By default glibc raises its mmap threshold after
/// the first such block is freed, so later ones come from the heap of whichever thread asked
/// and stay there: a few sign-ins on different threads kept 100-150 MB resident for good
/// (peak in the flow benchmark 114-151 MB; with this, 35 MB). Since the server's own
/// allocations go through mimalloc, this holds for what the C libraries (SQLite, libpq)
/// allocate.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks_to_the_os() {
    // SAFETY: mallopt only sets an allocator parameter; called first thing, before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks_to_the_os() {}

fn main() {
    allocator_options();
    return_large_blocks_to_the_os();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info"))
                // Whatever the level asked for: actix's request logger says at debug level
                // what an error answer said, which can quote what a client sent.
                .add_directive(
                    "actix_web::middleware::logger=info"
                        .parse()
                        .expect("a fixed directive"),
                ),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, not escape codes in a log file.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = match bonded_returns::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
            _ => {
                // clap's first paragraph names the mistake; tips and usage follow it.
                let rendered = e.to_string();
                let first = rendered
                    .split("\n\n")
                    .next()
                    .unwrap_or("error: bad arguments");
                eprintln!("{} (see --help)", one_line(first));
                std::process::exit(2);
            }
        },
    };
    match bonded_returns::cli::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {}", one_line(&e.to_string()));
            std::process::exit(2);
        }
    }
}
