//! `nasbox train --out`: the generated PyTorch module (model.py), run by
//! Python's torch on the trained weights, computes the same logits as the
//! Rust network, for an architecture of every space, and with each
//! activation a `+hp` search can choose.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use nasbox::space::SearchSpace;
use nasbox::train::{self, Skeleton};
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

fn python() -> Option<PathBuf> {
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    if python.exists() {
        Some(python)
    } else {
        eprintln!("SKIPPED: {} not found (scripts/setup installs PyTorch there)", python.display());
        None
    }
}

/// Trains one epoch with `--out`, then compares nasbox's logits on the
/// probe input with those of `python model.py --probe`.
fn same_logits_in_pytorch(space_spec: &str, arch: &str, extra: &[&str], dataset: &str) {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    // A +hp architecture's recipe sets the batch size itself.
    let batch: &[&str] = if space_spec.ends_with("+hp") { &[] } else { &["--batch-size", "128"] };
    let o = Command::new(env!("CARGO_BIN_EXE_nasbox"))
        .args(["train", "--space", space_spec, "--arch", arch, "--epochs", "1"])
        .args(batch)
        .args(["--data-fraction", "0.2", "--threads", "1", "--dataset", dataset, "--out"])
        .arg(&out)
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for file in ["metrics.jsonl", "metrics.json", "model.safetensors", "model.py"] {
        assert!(out.join(file).exists(), "{file} missing");
    }
    let metrics: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    let lines = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 1);
    let epoch: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(epoch["valid_accuracy"], metrics["valid_accuracy"]);

    // nasbox's own logits, from the saved weights.
    let space = SearchSpace::resolve(space_spec).unwrap();
    let genotype = space.parse(metrics["arch"].as_str().unwrap()).unwrap();
    let config = probe_config(&out);
    let activation = space.recipe(&genotype).map_or("relu", |r| r.activation.name());
    assert_eq!(config["activation"], activation);
    assert_eq!(config["recipe"], metrics["recipe"]);
    let skeleton = Skeleton {
        channels: metrics["channels"].as_i64().unwrap(),
        cells: metrics["cells"].as_u64().unwrap() as usize,
        in_channels: config["in_channels"].as_i64().unwrap(),
        classes: config["classes"].as_i64().unwrap(),
        image_size: config["image_size"].as_i64().unwrap(),
    };
    let mut vs = VarStore::new(Device::Cpu);
    let net = train::build(&vs.root(), &space, &genotype, &skeleton).unwrap();
    vs.load(out.join("model.safetensors")).unwrap();
    let (c, s) = (skeleton.in_channels, skeleton.image_size);
    let probe = Tensor::linspace(-1.0, 1.0, c * s * s, (Kind::Float, Device::Cpu)).view([1, c, s, s]);
    let ours: Vec<f32> = tch::no_grad(|| Vec::<f32>::try_from(net.forward_t(&probe, false).view([-1])).unwrap());

    let o = Command::new(&python).arg(out.join("model.py")).arg("--probe").output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let theirs: Vec<f32> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(ours.len() as i64, skeleton.classes);
    assert_eq!(ours.len(), theirs.len());
    for (a, b) in ours.iter().zip(&theirs) {
        assert!((a - b).abs() < 1e-4 * (1.0 + a.abs()), "{space_spec}\nnasbox  {ours:?}\npytorch {theirs:?}");
    }
}

/// The CONFIG the generated module embeds.
fn probe_config(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("model.py")).unwrap();
    let start = text.find("CONFIG = json.loads(r'''").unwrap() + "CONFIG = json.loads(r'''".len();
    let end = start + text[start..].find("''')").unwrap();
    serde_json::from_str(&text[start..end]).unwrap()
}

#[test]
fn nb201_module_gives_the_same_logits_in_pytorch() {
    // Every kind of edge, two cells per stage.
    let arch = "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|none~2|";
    same_logits_in_pytorch("nb201", arch, &["--channels", "4", "--cells", "2"], "synthetic");
}

/// Either layout exports: channels-last training (the default) leaves
/// strided weights behind, which must still be written and load as usual.
#[test]
fn both_memory_layouts_write_weights_that_give_the_same_logits() {
    let arch = "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|none~2|";
    for format in ["channels-last", "contiguous"] {
        same_logits_in_pytorch("nb201", arch, &["--channels", "4", "--cells", "1", "--memory-format", format], "synthetic");
    }
}

#[test]
fn darts_module_gives_the_same_logits_in_pytorch() {
    // Every operation, in the normal and in the reduction cell (where the
    // edges from the inputs are strided), and a node with one `none`.
    let arch = "Genotype(normal=[('sep_conv_3x3', 0), ('dil_conv_5x5', 1), ('max_pool_3x3', 0), ('none', 2), ('avg_pool_3x3', 1), ('skip_connect', 3), ('sep_conv_5x5', 4), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('skip_connect', 0), ('sep_conv_5x5', 1), ('dil_conv_3x3', 0), ('max_pool_3x3', 2), ('avg_pool_3x3', 1), ('skip_connect', 3), ('none', 4), ('sep_conv_3x3', 0)], reduce_concat=[2, 3, 4, 5])";
    same_logits_in_pytorch("darts", arch, &["--channels", "4", "--cells", "5"], "synthetic");
}

#[test]
fn chain_module_gives_the_same_logits_in_pytorch() {
    let arch = "conv_3x3 | sep_conv_5x5 | max_pool_3x3 +0 | conv_5x5 +0,1 | avg_pool_3x3 | sep_conv_3x3 +2,3";
    same_logits_in_pytorch("chain", arch, &[], "synthetic");
}

#[test]
fn custom_toml_space_on_one_channel_images_gives_the_same_logits_in_pytorch() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("mnist");
    support::write_mnist(&data, 600, 100);
    let toml = dir.path().join("gray.toml");
    std::fs::write(&toml, "layers = 4\nops = [\"conv_3x3\", \"sep_conv_3x3\", \"max_pool_3x3\", \"identity\"]\nwidths = [8, 12]\nreduce_at = [1, 3]\n")
        .unwrap();
    let arch = "conv_3x3@8 | identity@12 | max_pool_3x3@8 +0 | sep_conv_3x3@12 +0,1";
    same_logits_in_pytorch(toml.to_str().unwrap(), arch, &[], &format!("mnist:{}", data.display()));
}

/// The recipe's activation replaces ReLU everywhere in the network (cells,
/// reductions, DARTS' pre-processing, the head), in nasbox and in model.py.
#[test]
fn hp_spaces_export_their_activation_with_the_same_logits_in_pytorch() {
    let nb201 = "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|none~2|";
    let recipe = |act: &str| format!(" ; lr=0.01 wd=5e-4 batch=128 smooth=0.1 aug=strong act={act} opt=sgd-nesterov");
    same_logits_in_pytorch("nb201+hp", &format!("{nb201}{}", recipe("gelu")), &["--channels", "4", "--cells", "2"], "synthetic");
    let chain = "conv_3x3 | sep_conv_5x5 | max_pool_3x3 +0 | conv_5x5 +0,1 | avg_pool_3x3 | sep_conv_3x3 +2,3";
    same_logits_in_pytorch("chain+hp", &format!("{chain}{}", recipe("mish")), &[], "synthetic");
    let darts = "Genotype(normal=[('sep_conv_3x3', 0), ('dil_conv_5x5', 1), ('max_pool_3x3', 0), ('none', 2), ('avg_pool_3x3', 1), ('skip_connect', 3), ('sep_conv_5x5', 4), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('skip_connect', 0), ('sep_conv_5x5', 1), ('dil_conv_3x3', 0), ('max_pool_3x3', 2), ('avg_pool_3x3', 1), ('skip_connect', 3), ('none', 4), ('sep_conv_3x3', 0)], reduce_concat=[2, 3, 4, 5])";
    same_logits_in_pytorch("darts+hp", &format!("{darts}{}", recipe("hardswish")), &["--channels", "4", "--cells", "5"], "synthetic");
}
