//! `nasbox train`: train one architecture, report what a search would see,
//! and (with `--out`) leave everything needed to use it in PyTorch.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use nasbox::data;
use nasbox::export;
use nasbox::space::SearchSpace;
use nasbox::train::{self, Progress, Skeleton, TrainConfig};

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Search space: nb201, darts, chain, or a chain space's .toml file, each
    /// optionally with +hp (the architecture then ends with its training
    /// recipe, which sets lr, batch size, weight decay, label smoothing,
    /// augmentation, activation and optimiser) [default: nb201].
    #[arg(long)]
    space: Option<String>,
    /// The architecture in the space's notation: NAS-Bench-201's string
    /// ('|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|'),
    /// DARTS' Genotype(...), or a chain's 'conv_3x3 | sep_conv_5x5 +0 | ...'.
    #[arg(long, required_unless_present = "from", conflicts_with = "from")]
    arch: Option<String>,
    /// Retrain the best architecture of a search run, or the architecture a
    /// one-shot (supernet) search derived (its space and dataset;
    /// the full-size skeleton and these training flags), writing to DIR/final
    /// unless --out says otherwise.
    #[arg(long, value_name = "RUN_DIR")]
    from: Option<PathBuf>,
    /// Dataset: synthetic, cifar10:DIR, cifar100:DIR, mnist:DIR, fashion-mnist:DIR, folder:DIR [default: synthetic].
    #[arg(long)]
    dataset: Option<String>,
    /// Training epochs.
    #[arg(long, default_value_t = 12)]
    epochs: usize,
    /// [default: 256]
    #[arg(long)]
    batch_size: Option<usize>,
    /// Initial learning rate [default: the space's recipe: nb201 0.1, darts 0.025, chain 0.05].
    #[arg(long)]
    lr: Option<f64>,
    /// [default: 5e-4]
    #[arg(long)]
    weight_decay: Option<f64>,
    /// [default: 0]
    #[arg(long)]
    label_smoothing: Option<f64>,
    /// Zero padding of the training crops (0: no random crops) [default: 4].
    #[arg(long)]
    crop_pad: Option<usize>,
    /// Fraction of the training set to train on.
    #[arg(long, default_value_t = 1.0)]
    data_fraction: f64,
    /// Fraction of the training set held out for validation.
    #[arg(long, default_value_t = 0.1)]
    valid_fraction: f64,
    /// Initial channels C (nb201: 16, darts: 16; chain spaces fix their widths).
    #[arg(long)]
    channels: Option<i64>,
    /// Cells: per stage for nb201 (N, default 5), in all for darts (default 8).
    #[arg(long)]
    cells: Option<usize>,
    /// Seed of the weights, the data order and the synthetic data: one seed, one training on CPU.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// CPU threads for libtorch (default: all cores).
    #[arg(long)]
    threads: Option<i32>,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// auto (bf16 autocast on CUDA, fp32 on CPU), fp32 or bf16.
    #[arg(long, default_value = "auto")]
    precision: String,
    /// auto (channels-last; measured faster on CPU too), channels-last or contiguous.
    #[arg(long, default_value = "auto")]
    memory_format: String,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Write metrics.jsonl (per epoch), metrics.json (final), model.safetensors
    /// and model.py (a standalone PyTorch module that loads those weights) here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(mut a: TrainArgs) -> anyhow::Result<ExitCode> {
    if let Some(run) = &a.from {
        nasbox::run::folder::check(run)?;
    }
    // Retraining into the run folder writes to it: no search may be running there.
    let _lock = match &a.from {
        Some(run) if a.out.is_none() => Some(nasbox::run::lock::RunLock::acquire(run)?),
        _ => None,
    };
    if let Some(run) = &a.from {
        let (config, _, _) = nasbox::run::search::Search::config_of(run)?;
        let journal = nasbox::run::journal::Journal::open(&run.join(nasbox::run::search::JOURNAL))?;
        let trials = journal.trials()?;
        if config.estimator == "supernet" {
            // Supernet scores rank architectures only roughly; what a
            // one-shot search found is the architecture its strategy derives.
            let derived = journal.manifest("recommendation")?.and_then(|v| v.as_str().map(String::from)).with_context(|| {
                format!("{}: the one-shot search has not derived an architecture yet (it is recorded when the search ends; `nasbox resume` it)", run.display())
            })?;
            println!("retraining the architecture derived by the one-shot search {}: {derived}", run.display());
            a.arch = Some(derived);
        } else {
            let best = crate::cli::results::leaderboard(&trials)
                .first()
                .map(|t| (*t).clone())
                .with_context(|| format!("{}: no trial finished successfully, there is nothing to retrain", run.display()))?;
            println!("retraining trial {} of {} (objective {:.4}): {}", best.id, run.display(), best.objective, best.arch);
            a.arch = Some(best.arch);
        }
        a.space.get_or_insert(config.space);
        a.dataset.get_or_insert(config.dataset);
        a.out.get_or_insert(run.join("final"));
    }
    let space_spec = a.space.clone().unwrap_or_else(|| "nb201".into());
    let dataset_spec = a.dataset.clone().unwrap_or_else(|| "synthetic".into());
    let arch_text = a.arch.clone().expect("clap requires --arch or --from");
    let space = SearchSpace::resolve(&space_spec).context("--space")?;
    if matches!(space.network(), SearchSpace::Chain(_)) && (a.channels.is_some() || a.cells.is_some()) {
        bail!("--channels and --cells do not apply to chain spaces: their widths and layers are part of the space");
    }
    let genotype = space.parse(&arch_text).context("--arch")?;
    let arch = space.to_string(&genotype)?;
    // A +hp architecture carries its recipe: flags that would contradict it are refused.
    let recipe = space.recipe(&genotype);
    if recipe.is_some() {
        let given = [
            ("--lr", a.lr.is_some()),
            ("--batch-size", a.batch_size.is_some()),
            ("--weight-decay", a.weight_decay.is_some()),
            ("--label-smoothing", a.label_smoothing.is_some()),
            ("--crop-pad", a.crop_pad.is_some()),
        ];
        if let Some((flag, _)) = given.iter().find(|(_, set)| *set) {
            bail!("{flag}: the {} architecture's recipe sets it; change the recipe after ` ; ` in --arch instead", space.name());
        }
    }
    if !(0.0..1.0).contains(&a.valid_fraction) || a.valid_fraction == 0.0 {
        bail!("--valid-fraction {} is not in (0, 1)", a.valid_fraction);
    }
    let device = train::device(&a.device)?;
    let mut cfg = TrainConfig {
        epochs: a.epochs,
        batch_size: a.batch_size.unwrap_or(256),
        lr: a.lr.unwrap_or_else(|| train::default_lr(&space)),
        weight_decay: a.weight_decay.unwrap_or(5e-4),
        label_smoothing: a.label_smoothing.unwrap_or(0.0),
        data_fraction: a.data_fraction,
        seed: a.seed,
        device,
        crop_pad: a.crop_pad.unwrap_or(4),
        ..TrainConfig::default()
    }
    .with_device_defaults();
    match a.precision.as_str() {
        "auto" => {}
        "fp32" => cfg.bf16 = false,
        "bf16" if device.is_cuda() => cfg.bf16 = true,
        "bf16" => bail!("--precision bf16 needs a CUDA device (autocast runs on CUDA only)"),
        other => bail!("--precision `{other}`: use auto, fp32 or bf16"),
    }
    let mut cfg = cfg.with_memory_format(&a.memory_format).map_err(|e| anyhow::anyhow!("--memory-format: {e}"))?;
    if let Some(dir) = &a.out {
        prepare_out(dir)?;
    }
    tch::manual_seed(a.seed as i64);
    if let Some(t) = a.threads {
        tch::set_num_threads(t);
    }
    let dataset = data::load(&dataset_spec, a.seed)?;
    let splits = dataset.split(a.valid_fraction, a.seed);
    let skeleton = Skeleton::for_data(&space, a.channels, a.cells, &splits.train, dataset.classes.len());
    if splits.train.height != splits.train.width {
        bail!("{}: images are {}×{}; the networks take square images", dataset.name, splits.train.height, splits.train.width);
    }
    if let Some(r) = &recipe {
        cfg = cfg.with_recipe(r, skeleton.image_size as usize);
    }
    let vs = tch::nn::VarStore::new(device);
    let net = train::build(&vs.root(), &space, &genotype, &skeleton)?;
    let shape = match space.network() {
        SearchSpace::Chain(_) => String::new(),
        _ => format!(", C={} cells={}", skeleton.channels, skeleton.cells),
    };
    if !a.json {
        println!(
            "training {} {arch} on {} ({} train / {} valid images){shape}, {} epochs on {:?}{}",
            space.name(),
            dataset.name,
            splits.train.len(),
            splits.valid.len(),
            a.epochs,
            device,
            if cfg.bf16 { " (bf16 autocast)" } else { "" },
        );
    }

    let mut journal = match &a.out {
        Some(dir) => Some(std::fs::File::create(dir.join("metrics.jsonl")).with_context(|| format!("creating {}/metrics.jsonl", dir.display()))?),
        None => None,
    };
    let bar = (!a.json && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} steps  {msg}  {elapsed_precise} eta {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar
    });
    let mut journal_error = None;
    let r = train::train_with_progress(&vs, net.as_ref(), &splits, &cfg, dataset.flip_ok, &mut |p| match p {
        Progress::Step { epoch, step, steps, loss } => {
            if let Some(bar) = &bar {
                bar.set_length(steps as u64);
                bar.set_position(step as u64);
                bar.set_prefix(format!("epoch {epoch}/{}", cfg.epochs));
                bar.set_message(format!("loss {loss:.4}"));
            }
        }
        Progress::Epoch(e) => {
            let line = format!(
                "  epoch {:>3}  train loss {:.4}  valid loss {:.4}  valid accuracy {:.2}%  {:.0} images/s",
                e.epoch,
                e.train_loss,
                e.valid_loss,
                e.valid_accuracy * 100.0,
                e.images_per_second
            );
            match &bar {
                Some(bar) => bar.println(line),
                None if !a.json => println!("{line}"),
                None => {}
            }
            if let Some(file) = &mut journal {
                let written = serde_json::to_string(e).map_err(std::io::Error::other).and_then(|l| writeln!(file, "{l}"));
                if let Err(err) = written {
                    journal_error.get_or_insert(err);
                }
            }
        }
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if let (Some(err), Some(dir)) = (journal_error, &a.out) {
        return Err(err).with_context(|| format!("writing {}/metrics.jsonl", dir.display()));
    }

    let summary = serde_json::json!({
        "space": space.name(), "arch": arch, "dataset": dataset_spec, "seed": a.seed,
        "channels": skeleton.channels, "cells": skeleton.cells,
        "valid_accuracy": r.valid_accuracy, "valid_loss": r.valid_loss, "train_loss": r.train_loss,
        "params": r.params, "flops": r.flops, "latency_ms": r.latency_ms,
        "epochs": r.epochs, "diverged": r.diverged, "seconds": r.seconds, "images_per_second": r.images_per_second,
        "device": format!("{device:?}"), "bf16": cfg.bf16, "channels_last": cfg.channels_last,
        "curve": r.curve,
        "recipe": recipe.map(|r| r.to_json()),
    });
    if let Some(dir) = &a.out {
        let (mean, std) = splits.train.channel_stats();
        let inputs = export::Inputs { mean, std, class_names: dataset.classes.clone() };
        write(dir, "metrics.json", serde_json::to_string_pretty(&summary)?.as_bytes())?;
        train::mixed::save_weights(&vs, &dir.join("model.safetensors")).with_context(|| format!("writing {}/model.safetensors", dir.display()))?;
        write(dir, "model.py", export::pytorch_module(&space, &genotype, &skeleton, &inputs)?.as_bytes())?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        if r.diverged {
            println!("  diverged: the loss became NaN or infinite after {} epochs", r.epochs);
        }
        println!(
            "valid accuracy {:.2}%  loss {:.4}  params {:.3} M  FLOPs {:.2} M  latency {:.2} ms  {:.0} images/s  time {:.1} s",
            r.valid_accuracy * 100.0,
            r.valid_loss,
            r.params as f64 / 1e6,
            r.flops as f64 / 1e6,
            r.latency_ms,
            r.images_per_second,
            r.seconds
        );
        if let Some(dir) = &a.out {
            println!("wrote {0}/metrics.jsonl, {0}/metrics.json, {0}/model.safetensors and {0}/model.py", dir.display());
        }
    }
    Ok(if r.diverged { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Creates the output folder, refusing one that holds another run's
/// results (nothing completed is ever overwritten).
fn prepare_out(dir: &Path) -> anyhow::Result<()> {
    if dir.join("metrics.json").exists() || dir.join("model.safetensors").exists() {
        bail!("{}: already holds a trained model (metrics.json / model.safetensors); choose another --out", dir.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(dir.join(name), bytes).with_context(|| format!("writing {}/{name}", dir.display()))
}
