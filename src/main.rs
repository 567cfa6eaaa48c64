use clap::error::ErrorKind;
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// One line for the terminal: drivers (libpq) and clap spread their messages over several.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
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
