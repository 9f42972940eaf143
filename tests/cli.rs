//! The `nasbox` binary as a strategy author uses it, in separate processes.

mod support;

use std::process::Command;

use support::{guest, nasbox, path, text};

#[test]
fn inspect_prints_info_and_contract() {
    let cache = tempfile::tempdir().unwrap();
    let o = nasbox(cache.path(), &["strategy", "inspect", path(&guest("mutator"))]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("mutator 0.1.0"), "{t}");
    assert!(t.contains("contract:  nasbox:strategy@0.1.2"), "{t}");
    // The example does not read the shape; the built-in strategies do.
    assert!(t.contains("shape:     sees every decision as categorical (no shape import)"), "{t}");
    assert!(t.contains("explore = 0.2  probability of a uniform sample"), "{t}");
    let o = nasbox(cache.path(), &["strategy", "inspect", path(&guest("tpe"))]);
    let t = text(&o);
    assert!(t.contains("shape:     reads what each decision is") && t.contains("nasbox:strategy/shape@0.1.2"), "{t}");
}

#[test]
fn random_and_the_sdk_example_pass_the_check_on_every_space() {
    let cache = tempfile::tempdir().unwrap();
    for name in ["random", "mutator"] {
        for space in ["toy", "wide", "nb201"] {
            let o = nasbox(cache.path(), &["strategy", "check", path(&guest(name)), "--space", space]);
            let t = text(&o);
            assert!(o.status.success(), "{name} on {space}:\n{t}");
            assert!(t.contains("passed: 7 checks, 0 violations"), "{t}");
        }
    }
}

#[test]
fn a_broken_strategy_fails_the_check_with_the_right_violation() {
    let cache = tempfile::tempdir().unwrap();
    let hostile = guest("hostile");

    let o = nasbox(cache.path(), &["strategy", "check", path(&hostile), "--set", "attack=forget-restore"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("FAIL  snapshot and restore resume exactly — after restore, proposal"), "{t}");
    assert!(t.contains("failed: 7 checks, 1 violation"), "{t}");

    let o = nasbox(cache.path(), &["strategy", "check", path(&hostile), "--set", "attack=out-of-range"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("out of range for decision `stem`"), "{t}");

    let o = nasbox(cache.path(), &["strategy", "check", path(&hostile), "--set", "attack=loop", "--fuel", "1000000"]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("ran out of fuel (budget 1000000 units per call)"), "{t}");
}

#[test]
fn same_seed_same_search_across_processes() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let transcript = |seed: &str, name: &str| {
        let file = dir.path().join(name);
        let o = nasbox(cache.path(), &["strategy", "check", path(&guest("random")), "--space", "wide", "--seed", seed, "--transcript", path(&file)]);
        assert!(o.status.success(), "{}", text(&o));
        std::fs::read_to_string(file).unwrap()
    };
    let a = transcript("11", "a.jsonl");
    let b = transcript("11", "b.jsonl");
    let c = transcript("12", "c.jsonl");
    assert!(a.lines().count() > 10, "{a}");
    assert!(a.contains("\"call\":\"ask\""), "{a}");
    assert_eq!(a, b, "same seed, different searches");
    assert_ne!(a, c, "different seeds, same search");
}

#[test]
fn the_second_load_comes_from_the_cache_and_foreign_entries_are_not_loaded() {
    let cache = tempfile::tempdir().unwrap();
    let random = guest("random");
    let load = || -> serde_json::Value {
        let o = nasbox(cache.path(), &["strategy", "inspect", "--json", path(&random)]);
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    assert_eq!(load()["from_cache"], false);
    assert_eq!(load()["from_cache"], true);

    // Replace every cache entry with bytes the cache did not sign: the next
    // load must compile again rather than deserialize them.
    let entries: Vec<_> = std::fs::read_dir(cache.path()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "cwasm")).collect();
    assert_eq!(entries.len(), 1);
    let mut planted = std::fs::read(&entries[0]).unwrap();
    planted[40] ^= 0xff;
    std::fs::write(&entries[0], planted).unwrap();
    let v = load();
    assert_eq!(v["from_cache"], false);
    assert_eq!(v["info"]["name"], "random");
    assert_eq!(load()["from_cache"], true, "the entry is rewritten after recompiling");
}

#[test]
fn user_mistakes_get_clear_errors() {
    let cache = tempfile::tempdir().unwrap();
    let o = nasbox(cache.path(), &["strategy", "check", path(&guest("random")), "--set", "populaton=5"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("strategy `random` has no config key `populaton` (its keys: none)"), "{}", text(&o));

    let o = nasbox(cache.path(), &["strategy", "check", path(&guest("random")), "--space", "nb999"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("unknown space `nb999` (available: toy, wide, nb201, darts, chain, or a chain space's FILE.toml)"), "{}", text(&o));

    let o = nasbox(cache.path(), &["strategy", "inspect", "/no/such/strategy.wasm"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("cannot read /no/such/strategy.wasm"), "{}", text(&o));

    let o = nasbox(cache.path(), &["strategy", "inspect", env!("CARGO_MANIFEST_PATH")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("not a WebAssembly file"), "{}", text(&o));

    let o = nasbox(cache.path(), &["strategy", "check", path(&guest("random")), "--timeout", "soon"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("`soon` is not a duration"), "{}", text(&o));
}

#[test]
fn commands_given_a_folder_that_is_not_a_run_name_the_runs_below_it_and_write_nothing() {
    let cache = tempfile::tempdir().unwrap();
    let bench = tempfile::tempdir().unwrap();
    let run = bench.path().join("runs/random-0");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("journal.sqlite"), b"").unwrap();
    let dir = path(bench.path());
    for args in [&["results", dir][..], &["report", dir], &["resume", dir], &["train", "--from", dir]] {
        let o = nasbox(cache.path(), args);
        assert!(!o.status.success(), "{args:?}");
        assert!(text(&o).contains(&format!("{dir}: not a run folder itself; the runs below it: {}", run.display())), "{args:?}: {}", text(&o));
        // `train --from` took the run's lock before it looked, leaving a lock file behind.
        let left: Vec<_> = std::fs::read_dir(bench.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["runs"], "{args:?} wrote into the folder");
    }
    let o = nasbox(cache.path(), &["results", &format!("{dir}/absent")]);
    assert!(text(&o).contains("absent: no such folder (give a run folder: the --out of a `nasbox search`)"), "{}", text(&o));
}

#[test]
fn space_list_shows_the_builtin_spaces() {
    let cache = tempfile::tempdir().unwrap();
    let o = nasbox(cache.path(), &["space", "list"]);
    let t = text(&o);
    assert!(o.status.success());
    assert!(t.contains("toy: 5 decisions, 600 architectures"), "{t}");
    assert!(t.contains("wide: 30 decisions"), "{t}");
}

#[test]
fn a_closed_pipe_ends_the_process_quietly() {
    // Regression: `nasbox strategy inspect --json ... | head -1` panicked with
    // "failed printing to stdout".
    let cache = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nasbox"))
        .args(["strategy", "inspect", "--json", path(&guest("random"))])
        .env("NASBOX_CACHE_DIR", cache.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before anything is written
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn data_show_summarises_a_dataset_and_names_broken_files() {
    let cache = tempfile::tempdir().unwrap();
    let o = nasbox(cache.path(), &["data", "show", "synthetic", "--seed", "1"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("synthetic: 10 classes, images 3x32x32"), "{t}");
    assert!(t.contains("train 4500  valid 500  test 1000"), "{t}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("train-images-idx3-ubyte"), [0u8, 0, 8, 3, 0, 0]).unwrap();
    let spec = format!("mnist:{}", dir.path().display());
    let o = nasbox(cache.path(), &["data", "show", &spec]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("train-images-idx3-ubyte: truncated: the header ends early"), "{}", text(&o));
}

#[test]
fn train_reports_accuracy_cost_and_clear_errors() {
    let cache = tempfile::tempdir().unwrap();
    let arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";
    let args = ["train", "--arch", arch, "--epochs", "1", "--channels", "4", "--cells", "1", "--batch-size", "128"];
    let o = nasbox(cache.path(), &[&args[..], &["--data-fraction", "0.3", "--threads", "1", "--json"]].concat());
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["arch"], arch);
    assert_eq!(v["epochs"], 1);
    assert!(v["valid_accuracy"].as_f64().unwrap() >= 0.0 && v["params"].as_u64().unwrap() > 1000, "{v}");
    assert!(v["flops"].as_u64().unwrap() > 0 && v["latency_ms"].as_f64().unwrap() > 0.0, "{v}");

    let o = nasbox(cache.path(), &["train", "--arch", "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--arch") && text(&o).contains("unknown operation `conv`"), "{}", text(&o));

    let o = nasbox(cache.path(), &["train", "--arch", arch, "--device", "tpu"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("unknown device `tpu`"), "{}", text(&o));

    let o = nasbox(cache.path(), &["train", "--space", "darts", "--arch", "Genotype(normal=[])"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("--arch") && text(&o).contains("needs 8 (op, input) pairs"), "{}", text(&o));

    let o = nasbox(cache.path(), &["train", "--space", "nasnet", "--arch", arch]);
    assert!(text(&o).contains("unknown space `nasnet`"), "{}", text(&o));

    let o = nasbox(cache.path(), &["train", "--space", "chain", "--arch", "conv_3x3", "--cells", "3"]);
    assert!(text(&o).contains("do not apply to chain spaces"), "{}", text(&o));
}

#[test]
fn train_out_writes_metrics_weights_and_module_and_never_overwrites_them() {
    let cache = tempfile::tempdir().unwrap();
    let out = cache.path().join("run");
    let arch = "conv_3x3 | sep_conv_3x3 | max_pool_3x3 +0 | conv_5x5 | avg_pool_3x3 +1,2 | identity";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("c.toml"), "layers = 6\nops = [\"conv_3x3\", \"conv_5x5\", \"sep_conv_3x3\", \"max_pool_3x3\", \"avg_pool_3x3\", \"identity\"]\nwidths = [8]\nreduce_at = [2, 4]\n").unwrap();
    let toml = dir.path().join("c.toml");
    let args = ["train", "--space", toml.to_str().unwrap(), "--arch", arch, "--epochs", "2", "--batch-size", "128"];
    let o = nasbox(cache.path(), &[&args[..], &["--data-fraction", "0.2", "--threads", "1", "--out", out.to_str().unwrap()]].concat());
    assert!(o.status.success(), "{}", text(&o));
    // Not a terminal: plain lines, one per epoch.
    assert_eq!(text(&o).matches("  epoch ").count(), 2, "{}", text(&o));
    let lines = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    let epochs: Vec<serde_json::Value> = lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(epochs.iter().map(|e| e["epoch"].as_u64().unwrap()).collect::<Vec<_>>(), vec![1, 2]);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(v["arch"], arch);
    assert_eq!(v["space"], "c");
    assert_eq!(v["curve"].as_array().unwrap().len(), 2);
    let module = std::fs::read_to_string(out.join("model.py")).unwrap();
    assert!(module.contains(arch) && module.contains("def load("), "{module}");

    let before = std::fs::read(out.join("model.safetensors")).unwrap();
    let o = nasbox(cache.path(), &[&args[..], &["--out", out.to_str().unwrap()]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("already holds a trained model"), "{}", text(&o));
    assert_eq!(std::fs::read(out.join("model.safetensors")).unwrap(), before);
}

#[test]
fn space_show_and_pytorch_cover_every_space() {
    let cache = tempfile::tempdir().unwrap();
    let o = nasbox(cache.path(), &["space", "list"]);
    for name in ["nb201: 6 decisions, 15625", "darts: 32 decisions", "chain: 16 decisions"] {
        assert!(text(&o).contains(name), "{}", text(&o));
    }
    let o = nasbox(cache.path(), &["space", "show", "darts"]);
    assert!(text(&o).contains("reduce.5b.op") && !text(&o).contains("more"), "{}", text(&o));
    let o = nasbox(
        cache.path(),
        &["space", "pytorch", "--space", "chain", "--arch", "conv_3x3 | conv_3x3 | conv_3x3 | conv_3x3 | conv_3x3 | conv_3x3", "--input", "1x28"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("class Network(nn.Module)") && text(&o).contains("\"in_channels\": 1"), "{}", text(&o));
    let o = nasbox(cache.path(), &["space", "pytorch", "--arch", "x", "--input", "3by32"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_binary_copied_to_an_empty_folder_lists_and_runs_its_built_in_strategies() {
    // As `cargo install` or a package puts it: no build folder beside it,
    // no environment; the strategies travel inside the binary.
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin/nasbox");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_nasbox"), &bin).unwrap();
    let home = dir.path().join("home");
    let run = |args: &[&str]| {
        Command::new(&bin).args(args).current_dir(dir.path()).env_clear().env("HOME", &home).env("PATH", "/usr/bin:/bin").output().expect("nasbox runs")
    };
    let o = run(&["strategy", "list"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    for (name, line) in nasbox::strategy::builtin::BUILTINS {
        assert!(t.contains(&format!("  {name:<12}  {line}\n")), "`strategy list` lacks {name} (or finds it nowhere):\n{t}");
    }
    assert!(!t.contains("not built"), "{t}");
    let table = dir.path().join("table.jsonl");
    support::write_table(&table);
    for (name, _) in nasbox::strategy::builtin::BUILTINS {
        // (The component names itself: `local_search.wasm` is `local-search`.)
        let o = run(&["strategy", "inspect", name]);
        assert!(o.status.success() && text(&o).starts_with(&format!("{} ", name.replace('_', "-"))), "{}", text(&o));
    }
    // A home that cannot be written: the component is unpacked into the
    // temporary folder instead.
    let o = Command::new(&bin)
        .args(["strategy", "inspect", "random", "--no-cache"])
        .env_clear()
        .env("HOME", "/proc/nasbox-no-home")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(o.status.success() && text(&o).contains("nasbox-builtin-"), "{}", text(&o));
    let out = dir.path().join("run");
    let o = run(&["search", "--strategy", "tpe", "--estimator", "table:table.jsonl", "--budget", "trials=12", "--out", path(&out)]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(support::trials(&out).len(), 12);
    // The unpacked copy gone (a cleared cache), resume unpacks it again.
    std::fs::remove_dir_all(home.join(".cache/nasbox/builtin")).unwrap();
    let o = run(&["resume", path(&out), "--budget", "trials=16"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(support::trials(&out).len(), 16);
    // A name that is no built-in says which are.
    let o = run(&["search", "--strategy", "tpee", "--estimator", "table:table.jsonl", "--budget", "trials=2", "--out", "r2"]);
    let t = text(&o);
    assert!(!o.status.success() && t.contains("strategy `tpee`: no such file") && t.contains("the built-in strategies are random, grid, evolution"), "{t}");
    assert!(!dir.path().join("r2").exists(), "{t}");
}

#[test]
fn a_tilde_in_a_dataset_or_table_path_is_the_home_folder() {
    // `cifar10:~/data` is one word to the shell, which leaves its `~` alone.
    let home = tempfile::tempdir().unwrap();
    support::write_table(&home.path().join("t.jsonl"));
    let out = home.path().join("run");
    let o = support::command(&["search", "--strategy", path(&guest("random")), "--estimator", "table:~/t.jsonl", "--budget", "trials=3", "--out", path(&out)])
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(support::trials(&out).len(), 3);
    let o = support::command(&["data", "show", "cifar10:~/nowhere"]).env("HOME", home.path()).output().unwrap();
    let t = text(&o);
    assert!(!o.status.success() && t.contains(&home.path().join("nowhere").display().to_string()), "{t}");
}
