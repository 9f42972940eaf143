//! `nasbox train --export` and `examples/pytorch/nasbox_nb201.py`: the
//! exported network computes the same logits in PyTorch as in nasbox.

use std::path::PathBuf;
use std::process::Command;

use nasbox::space::nb201;
use nasbox::train::nb201::{Nb201Net, Skeleton};
use tch::nn::{ModuleT, VarStore};
use tch::{Device, Kind, Tensor};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_exported_network_gives_the_same_logits_in_pytorch() {
    let python = workspace().join(".venv/bin/python");
    if !python.exists() {
        eprintln!("SKIPPED: {} not found (scripts/setup installs PyTorch there)", python.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Every kind of edge, two cells per stage.
    let arch = "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|none~2|";
    let o = Command::new(env!("CARGO_BIN_EXE_nasbox"))
        .args(["train", "--arch", arch, "--epochs", "1", "--channels", "4", "--cells", "2", "--batch-size", "128"])
        .args(["--data-fraction", "0.2", "--threads", "1", "--export"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // nasbox's own logits on the probe input, from the exported weights.
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("arch.json")).unwrap()).unwrap();
    assert_eq!(meta["arch"], arch);
    let skeleton = Skeleton {
        channels: meta["channels"].as_i64().unwrap(),
        cells: meta["cells"].as_u64().unwrap() as usize,
        in_channels: meta["in_channels"].as_i64().unwrap(),
        classes: meta["classes"].as_i64().unwrap(),
        image_size: meta["image_size"].as_i64().unwrap(),
    };
    let mut vs = VarStore::new(Device::Cpu);
    let net = Nb201Net::new(&vs.root(), &nb201::parse(arch).unwrap(), &skeleton);
    vs.load(dir.path().join("model.safetensors")).unwrap();
    let (c, s) = (skeleton.in_channels, skeleton.image_size);
    let probe = Tensor::linspace(-1.0, 1.0, c * s * s, (Kind::Float, Device::Cpu)).view([1, c, s, s]);
    let ours: Vec<f32> = tch::no_grad(|| Vec::<f32>::try_from(net.forward_t(&probe, false).view([-1])).unwrap());

    let o = Command::new(&python)
        .arg(workspace().join("examples/pytorch/nasbox_nb201.py"))
        .arg(dir.path())
        .arg("--probe")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let theirs: Vec<f32> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(ours.len(), 10);
    assert_eq!(ours.len(), theirs.len());
    for (a, b) in ours.iter().zip(&theirs) {
        assert!((a - b).abs() < 1e-4 * (1.0 + a.abs()), "nasbox {ours:?}\npytorch {theirs:?}");
    }
}
