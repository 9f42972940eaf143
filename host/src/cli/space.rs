//! `nasbox space`: the search spaces, and an architecture as PyTorch code.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use nasbox::export;
use nasbox::space::{self, SearchSpace, Space};
use nasbox::train::Skeleton;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the built-in spaces with their decisions and sizes.
    List,
    /// Show one space (built-in or a chain space's .toml file): all its decisions.
    Show {
        /// nb201, darts, chain, toy, wide, or FILE.toml; the network spaces with +hp (nb201+hp).
        space: String,
    },
    /// Write an architecture as a standalone PyTorch module (fresh weights:
    /// use `nasbox train --out` for trained ones).
    Pytorch {
        /// nb201, darts, chain or FILE.toml, each optionally with +hp.
        #[arg(long, default_value = "nb201")]
        space: String,
        /// The architecture in the space's notation.
        #[arg(long)]
        arch: String,
        /// Initial channels C (nb201, darts).
        #[arg(long)]
        channels: Option<i64>,
        /// Cells: per stage for nb201, in all for darts.
        #[arg(long)]
        cells: Option<usize>,
        /// Input channels and side, e.g. 3x32 (CIFAR) or 1x28 (MNIST).
        #[arg(long, default_value = "3x32")]
        input: String,
        /// Classes the classifier head outputs.
        #[arg(long, default_value_t = 10)]
        classes: i64,
        /// Where to write the module (default: standard output).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::List => {
            for name in space::builtin_names() {
                print_space(name, &space::builtin(name).expect("listed spaces exist"), 6);
            }
        }
        Command::Show { space: spec } => {
            let s = match space::builtin(&spec) {
                Some(s) => s,
                None => SearchSpace::resolve(&spec).context("space")?.space(),
            };
            print_space(&s.name.clone(), &s, usize::MAX);
        }
        Command::Pytorch { space: spec, arch, channels, cells, input, classes, out } => {
            let space = SearchSpace::resolve(&spec).context("--space")?;
            let genotype = space.parse(&arch).context("--arch")?;
            let (in_channels, image_size) = input
                .split_once('x')
                .and_then(|(c, s)| Some((c.parse::<i64>().ok()?, s.parse::<i64>().ok()?)))
                .filter(|&(c, s)| c > 0 && s > 0)
                .with_context(|| format!("--input `{input}`: expected CHANNELSxSIDE, e.g. 3x32"))?;
            let (c, n) = Skeleton::defaults(&space);
            let skeleton = Skeleton { channels: channels.unwrap_or(c), cells: cells.unwrap_or(n), in_channels, classes, image_size };
            let inputs = export::Inputs {
                mean: vec![0.5; in_channels as usize],
                std: vec![0.25; in_channels as usize],
                class_names: (0..classes).map(|i| i.to_string()).collect(),
            };
            let text = export::pytorch_module(&space, &genotype, &skeleton, &inputs)?;
            match out {
                Some(path) => std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?,
                None => print!("{text}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_space(name: &str, s: &Space, shown: usize) {
    let size = s.size().map_or_else(|| "more than 2^128".to_string(), |n| n.to_string());
    // With conditions, genotypes that differ only in inactive decisions are
    // one architecture, so the product of the choices is a bound.
    let bound = if s.is_conditional() { "at most " } else { "" };
    println!("{name}: {} decisions, {bound}{size} architectures", s.decisions.len());
    for d in s.decisions.iter().take(shown) {
        println!("  {:<16} {:<20} {}{}", d.name, d.kind.describe(), choices_text(d), when_text(s, d));
    }
    if s.decisions.len() > shown {
        println!("  … {} more", s.decisions.len() - shown);
    }
}

/// The choices, or for a continuous range its ends and resolution.
fn choices_text(d: &space::Decision) -> String {
    match &d.kind {
        space::shape::Kind::Ordered(n) if n.continuous && d.choices.len() > 12 => {
            format!("{} to {} ({} points)", d.choices[0], d.choices[d.choices.len() - 1], d.choices.len())
        }
        _ => d.choices.join(" | "),
    }
}

/// `  when optimizer = sgd, layers in 2 | 3` for a conditional decision.
fn when_text(s: &Space, d: &space::Decision) -> String {
    if d.conditions.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = d
        .conditions
        .iter()
        .map(|c| {
            let parent = &s.decisions[c.decision];
            let values: Vec<&str> = c.choices.iter().map(|&i| parent.choices[i as usize].as_str()).collect();
            if values.len() == 1 {
                format!("{} = {}", parent.name, values[0])
            } else if values.len() > 6 {
                // A bound on a range: its ends, not hundreds of points.
                format!("{} in {} … {} ({} values)", parent.name, values[0], values[values.len() - 1], values.len())
            } else {
                format!("{} in {}", parent.name, values.join(" | "))
            }
        })
        .collect();
    format!("   (when {})", parts.join(", "))
}
