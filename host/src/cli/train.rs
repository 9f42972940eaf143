//! `nasbox train`: train one architecture and report what a search would see.

use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;
use nasbox::data;
use nasbox::space::nb201;
use nasbox::train::nb201::{Nb201Net, Skeleton};
use nasbox::train::{self, TrainConfig};

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Search space (only nb201 has networks so far).
    #[arg(long, default_value = "nb201")]
    space: String,
    /// The architecture, in the space's notation (for nb201, NAS-Bench-201's
    /// string, e.g. '|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|').
    #[arg(long)]
    arch: String,
    /// Dataset: synthetic, cifar10:DIR, cifar100:DIR, mnist:DIR, fashion-mnist:DIR, folder:DIR.
    #[arg(long, default_value = "synthetic")]
    dataset: String,
    #[arg(long, default_value_t = 12)]
    epochs: usize,
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    #[arg(long, default_value_t = 0.1)]
    lr: f64,
    #[arg(long, default_value_t = 5e-4)]
    weight_decay: f64,
    #[arg(long, default_value_t = 0.0)]
    label_smoothing: f64,
    /// Zero padding of the training crops (0: no random crops).
    #[arg(long, default_value_t = 4)]
    crop_pad: usize,
    /// Fraction of the training set to train on.
    #[arg(long, default_value_t = 1.0)]
    data_fraction: f64,
    /// Fraction of the training set held out for validation.
    #[arg(long, default_value_t = 0.1)]
    valid_fraction: f64,
    /// Channels of the first stage (C).
    #[arg(long, default_value_t = 16)]
    channels: i64,
    /// Cells per stage (N).
    #[arg(long, default_value_t = 5)]
    cells: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// CPU threads for libtorch (default: all cores).
    #[arg(long)]
    threads: Option<i32>,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Write the trained network for PyTorch to this directory: weights as
    /// model.safetensors and the architecture in arch.json (load with
    /// examples/pytorch/nasbox_nb201.py).
    #[arg(long, value_name = "DIR")]
    export: Option<std::path::PathBuf>,
}

pub fn run(a: TrainArgs) -> anyhow::Result<ExitCode> {
    if a.space != "nb201" {
        bail!("space `{}` has no network yet (available: nb201)", a.space);
    }
    let genotype = nb201::parse(&a.arch).map_err(anyhow::Error::msg).context("--arch")?;
    if !(0.0..1.0).contains(&a.valid_fraction) || a.valid_fraction == 0.0 {
        bail!("--valid-fraction {} is not in (0, 1)", a.valid_fraction);
    }
    let device = train::device(&a.device)?;
    tch::manual_seed(a.seed as i64);
    if let Some(t) = a.threads {
        tch::set_num_threads(t);
    }
    let dataset = data::load(&a.dataset, a.seed)?;
    let splits = dataset.split(a.valid_fraction, a.seed);
    let skeleton = Skeleton {
        channels: a.channels,
        cells: a.cells,
        in_channels: splits.train.channels as i64,
        classes: dataset.classes.len() as i64,
        image_size: splits.train.height as i64,
    };
    let vs = tch::nn::VarStore::new(device);
    let net = Nb201Net::new(&vs.root(), &genotype, &skeleton);
    let cfg = TrainConfig {
        epochs: a.epochs,
        batch_size: a.batch_size,
        lr: a.lr,
        weight_decay: a.weight_decay,
        label_smoothing: a.label_smoothing,
        data_fraction: a.data_fraction,
        seed: a.seed,
        device,
        crop_pad: a.crop_pad,
        ..TrainConfig::default()
    };
    if !a.json {
        println!(
            "training {} on {} ({} train / {} valid images), C={} N={}, {} epochs on {:?}",
            nb201::to_string(&genotype),
            dataset.name,
            splits.train.len(),
            splits.valid.len(),
            a.channels,
            a.cells,
            a.epochs,
            device
        );
    }
    let r = train::train(&vs, &net, &splits, &cfg, dataset.flip_ok)?;
    if let Some(dir) = &a.export {
        let (mean, std) = splits.train.channel_stats();
        let meta = serde_json::json!({
            "format": 1,
            "space": "nb201",
            "arch": nb201::to_string(&genotype),
            "channels": skeleton.channels,
            "cells": skeleton.cells,
            "in_channels": skeleton.in_channels,
            "classes": skeleton.classes,
            "image_size": skeleton.image_size,
            "class_names": dataset.classes,
            "mean": mean,
            "std": std,
            "valid_accuracy": r.valid_accuracy,
            "dataset": a.dataset,
            "seed": a.seed,
        });
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        vs.save(dir.join("model.safetensors")).with_context(|| format!("writing {}/model.safetensors", dir.display()))?;
        std::fs::write(dir.join("arch.json"), serde_json::to_string_pretty(&meta)?)
            .with_context(|| format!("writing {}/arch.json", dir.display()))?;
        if !a.json {
            println!("exported to {} (model.safetensors, arch.json)", dir.display());
        }
    }
    if a.json {
        let v = serde_json::json!({
            "arch": nb201::to_string(&genotype),
            "valid_accuracy": r.valid_accuracy, "valid_loss": r.valid_loss, "train_loss": r.train_loss,
            "params": r.params, "flops": r.flops, "latency_ms": r.latency_ms,
            "epochs": r.epochs, "diverged": r.diverged, "seconds": r.seconds, "images_per_second": r.images_per_second,
            "curve": r.curve,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        for (e, (loss, acc)) in r.curve.iter().enumerate() {
            println!("  epoch {:>3}  train loss {loss:.4}  valid accuracy {:.2}%", e + 1, acc * 100.0);
        }
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
    }
    Ok(if r.diverged { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
