//! `nasbox data`: check that a dataset loads, and what it holds.

use std::process::ExitCode;

use clap::Subcommand;
use nasbox::data;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Load a dataset and summarise it: classes, split sizes, image shape,
    /// channel statistics. DATASET is `synthetic` (default), `cifar10:DIR`,
    /// `cifar100:DIR`, `mnist:DIR`, `fashion-mnist:DIR` or `folder:DIR`.
    Show {
        /// synthetic, cifar10:DIR, cifar100:DIR, mnist:DIR, fashion-mnist:DIR or folder:DIR.
        #[arg(default_value = "synthetic")]
        dataset: String,
        /// Fraction of the training set held out for validation.
        #[arg(long, default_value_t = 0.1)]
        valid_fraction: f64,
        /// Seed of the synthetic data and of the validation split.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Write a dataset (e.g. the synthetic one) in CIFAR-10's binary format,
    /// to use the same images in other tools.
    Export {
        /// The dataset to write, as for `data show`.
        dataset: String,
        /// Output directory.
        dir: std::path::PathBuf,
        /// Seed of the synthetic data and of the validation split.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Show { dataset, valid_fraction, seed } => {
            if !(0.0..1.0).contains(&valid_fraction) {
                anyhow::bail!("--valid-fraction {valid_fraction} is not in [0, 1)");
            }
            let d = data::load(&dataset, seed)?;
            let s = d.split(valid_fraction, seed);
            let (mean, std) = s.train.channel_stats();
            println!("{}: {} classes, images {}x{}x{}", d.name, d.classes.len(), s.train.channels, s.train.height, s.train.width);
            println!("  train {}  valid {}  test {}", s.train.len(), s.valid.len(), s.test.len());
            println!("  classes: {}", d.classes.join(", "));
            println!("  channel mean {mean:.3?}  std {std:.3?}");
            println!("  horizontal flips: {}", if d.flip_ok { "yes" } else { "no (they would change the class)" });
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { dataset, dir, seed } => {
            let d = data::load(&dataset, seed)?;
            data::cifar::write_cifar10(&d, &dir)?;
            println!("wrote {} train and {} test images of {} to {}", d.train.len(), d.test.len(), d.name, dir.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}
