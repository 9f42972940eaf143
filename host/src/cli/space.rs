//! `nasbox space`: the built-in search spaces.

use std::process::ExitCode;

use clap::Subcommand;
use nasbox::space;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the built-in spaces with their decisions and sizes.
    List,
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::List => {
            for name in space::builtin_names() {
                let s = space::builtin(name).expect("listed spaces exist");
                let size = s.size().map_or_else(|| "more than 2^128".to_string(), |n| n.to_string());
                println!("{name}: {} decisions, {size} architectures", s.decisions.len());
                for d in s.decisions.iter().take(6) {
                    println!("  {:<10} {}", d.name, d.choices.join(" | "));
                }
                if s.decisions.len() > 6 {
                    println!("  … {} more", s.decisions.len() - 6);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
