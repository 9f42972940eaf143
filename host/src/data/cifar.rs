//! CIFAR-10 and CIFAR-100 in their binary distributions
//! (<https://www.cs.toronto.edu/~kriz/cifar.html>, "binary version"):
//! fixed-size records of label byte(s) followed by 3072 pixel bytes, the
//! red, green and blue 32×32 planes in turn.

use std::path::{Path, PathBuf};

use super::{DataError, Dataset, Images};

const PIXELS: usize = 3 * 32 * 32;

/// CIFAR-10 from `dir`: `cifar-10-batches-bin/` itself or its parent.
pub fn load_cifar10(dir: &Path) -> Result<Dataset, DataError> {
    let dir = resolve(dir, "cifar-10-batches-bin", "data_batch_1.bin")?;
    let classes = names(&dir.join("batches.meta.txt"), 10)?;
    let mut train = Images::empty(3, 32, 32);
    for i in 1..=5 {
        train.extend(read(&dir.join(format!("data_batch_{i}.bin")), 1, 0, 10)?);
    }
    let test = read(&dir.join("test_batch.bin"), 1, 0, 10)?;
    Ok(Dataset { name: "cifar10".into(), classes, train, test, flip_ok: true })
}

/// CIFAR-100 from `dir`: `cifar-100-binary/` itself or its parent. Uses the
/// 100 fine labels.
pub fn load_cifar100(dir: &Path) -> Result<Dataset, DataError> {
    let dir = resolve(dir, "cifar-100-binary", "train.bin")?;
    let classes = names(&dir.join("fine_label_names.txt"), 100)?;
    let train = read(&dir.join("train.bin"), 2, 1, 100)?;
    let test = read(&dir.join("test.bin"), 2, 1, 100)?;
    Ok(Dataset { name: "cifar100".into(), classes, train, test, flip_ok: true })
}

/// Writes `dataset` in CIFAR-10's binary layout (all training images in
/// `data_batch_1.bin`, the test set in `test_batch.bin`, class names in
/// `batches.meta.txt`), so other tools can read the same images.
pub fn write_cifar10(dataset: &Dataset, dir: &Path) -> Result<(), DataError> {
    let im = &dataset.train;
    if (im.channels, im.height, im.width) != (3, 32, 32) || dataset.classes.len() > 256 {
        return Err(DataError::malformed(
            dir,
            format!("CIFAR's format holds 3x32x32 images of up to 256 classes, not {}x{}x{}", im.channels, im.height, im.width),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let encode = |images: &Images| -> Vec<u8> {
        (0..images.len()).flat_map(|i| std::iter::once(images.labels[i] as u8).chain(images.image(i).iter().copied())).collect()
    };
    let write = |name: &str, bytes: Vec<u8>| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).map_err(|e| DataError::io(&p, e))
    };
    write("data_batch_1.bin", encode(&dataset.train))?;
    write("test_batch.bin", encode(&dataset.test))?;
    write("batches.meta.txt", dataset.classes.join("\n").into_bytes())
}

fn resolve(dir: &Path, inner: &str, probe: &str) -> Result<PathBuf, DataError> {
    if dir.join(probe).exists() {
        return Ok(dir.to_path_buf());
    }
    if dir.join(inner).join(probe).exists() {
        return Ok(dir.join(inner));
    }
    Err(DataError::Missing { path: dir.join(probe), hint: format!(" (expected the binary distribution: {probe} in DIR or in DIR/{inner})") })
}

/// Reads records of `label_bytes` label bytes (the label at `label_at`)
/// plus the pixels.
fn read(path: &Path, label_bytes: usize, label_at: usize, classes: u32) -> Result<Images, DataError> {
    let data = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let record = label_bytes + PIXELS;
    if data.is_empty() || data.len() % record != 0 {
        return Err(DataError::truncated(path, format!("{} bytes is not a whole number of {record}-byte records", data.len())));
    }
    let mut images = Images::empty(3, 32, 32);
    images.pixels.reserve(data.len() / record * PIXELS);
    for (i, r) in data.chunks_exact(record).enumerate() {
        let label = r[label_at] as u32;
        if label >= classes {
            return Err(DataError::malformed(path, format!("record {i} has label {label}, but there are {classes} classes")));
        }
        images.labels.push(label);
        images.pixels.extend_from_slice(&r[label_bytes..]);
    }
    Ok(images)
}

/// Class names, one per line; numbered names when the file is absent.
fn names(path: &Path, expected: usize) -> Result<Vec<String>, DataError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let names: Vec<String> = text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
            if names.len() != expected {
                return Err(DataError::malformed(path, format!("{} class names, expected {expected}", names.len())));
            }
            Ok(names)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((0..expected).map(|i| format!("class-{i}")).collect()),
        Err(e) => Err(DataError::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a CIFAR-10 directory with `per_batch` records per file.
    fn write_fixture(dir: &Path, per_batch: usize) {
        let batch = |seed: u8| -> Vec<u8> {
            (0..per_batch)
                .flat_map(|i| {
                    let mut r = vec![(i % 10) as u8];
                    r.extend((0..PIXELS).map(|p| (p as u8).wrapping_add(seed).wrapping_add(i as u8)));
                    r
                })
                .collect()
        };
        for i in 1..=5 {
            std::fs::write(dir.join(format!("data_batch_{i}.bin")), batch(i)).unwrap();
        }
        std::fs::write(dir.join("test_batch.bin"), batch(9)).unwrap();
        let names = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";
        std::fs::write(dir.join("batches.meta.txt"), names).unwrap();
    }

    #[test]
    fn reads_the_binary_distribution() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("cifar-10-batches-bin");
        std::fs::create_dir(&dir).unwrap();
        write_fixture(&dir, 7);
        // Either the folder or its parent.
        for d in [root.path(), dir.as_path()] {
            let ds = load_cifar10(d).unwrap();
            assert_eq!(ds.train.len(), 35);
            assert_eq!(ds.test.len(), 7);
            assert_eq!(ds.classes[3], "cat");
            assert_eq!(ds.train.labels[..3], [0, 1, 2]);
            // Record 1 of batch 1: pixel p is p + 1 + 1 (mod 256), red plane first.
            assert_eq!(ds.train.image(1)[..3], [2, 3, 4]);
            assert_eq!(ds.train.image(1)[1024], (1024usize + 2) as u8);
        }
    }

    #[test]
    fn truncated_and_malformed_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(dir.path(), 3);
        let p = dir.path().join("data_batch_3.bin");
        let mut bytes = std::fs::read(&p).unwrap();
        bytes.truncate(bytes.len() - 100);
        std::fs::write(&p, &bytes).unwrap();
        let e = load_cifar10(dir.path()).unwrap_err().to_string();
        assert!(e.contains("data_batch_3.bin") && e.contains("truncated"), "{e}");

        write_fixture(dir.path(), 3);
        let p = dir.path().join("test_batch.bin");
        let mut bytes = std::fs::read(&p).unwrap();
        bytes[0] = 42;
        std::fs::write(&p, &bytes).unwrap();
        let e = load_cifar10(dir.path()).unwrap_err().to_string();
        assert!(e.contains("test_batch.bin") && e.contains("label 42"), "{e}");

        let e = load_cifar10(&dir.path().join("nope")).unwrap_err().to_string();
        assert!(e.contains("not found") && e.contains("data_batch_1.bin"), "{e}");
    }

    #[test]
    fn written_batches_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let d = crate::data::synthetic::generate(&crate::data::synthetic::Options { seed: 2, train: 30, test: 10, size: 32 });
        super::write_cifar10(&d, dir.path()).unwrap();
        let train = read(&dir.path().join("data_batch_1.bin"), 1, 0, 10).unwrap();
        assert_eq!(train, d.train);
        assert_eq!(names(&dir.path().join("batches.meta.txt"), 10).unwrap(), d.classes);
    }

    #[test]
    fn cifar100_uses_fine_labels() {
        let dir = tempfile::tempdir().unwrap();
        let rec = |coarse: u8, fine: u8| -> Vec<u8> {
            let mut r = vec![coarse, fine];
            r.extend(std::iter::repeat_n(7u8, PIXELS));
            r
        };
        std::fs::write(dir.path().join("train.bin"), [rec(1, 55), rec(2, 99)].concat()).unwrap();
        std::fs::write(dir.path().join("test.bin"), rec(0, 3)).unwrap();
        let ds = load_cifar100(dir.path()).unwrap();
        assert_eq!(ds.train.labels, vec![55, 99]);
        assert_eq!(ds.classes.len(), 100);
        std::fs::write(dir.path().join("test.bin"), rec(0, 100)).unwrap();
        assert!(load_cifar100(dir.path()).unwrap_err().to_string().contains("label 100"));
    }
}

/// Bad CIFAR binaries, fuzzed (issue 13).
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::data::usable;
    use crate::fuzz::{apply, config, edits};
    use proptest::prelude::*;

    /// Cases per run (docs/src/reference/bad-input.md).
    pub const MUTATED: u32 = 128;

    /// The files of a valid CIFAR-10 (2 records per batch) or CIFAR-100
    /// (3 records per file) folder, with class names.
    fn valid(hundred: bool) -> Vec<(String, Vec<u8>)> {
        let record = |labels: &[u8], seed: u8| -> Vec<u8> { labels.iter().copied().chain((0..PIXELS).map(|p| (p as u8).wrapping_mul(seed))).collect() };
        if hundred {
            let batch = (0..3u8).flat_map(|i| record(&[i, 90 + i], i + 1)).collect::<Vec<u8>>();
            let names = (0..100).map(|i| format!("fine-{i}\n")).collect::<String>();
            vec![("train.bin".into(), batch.clone()), ("test.bin".into(), batch), ("fine_label_names.txt".into(), names.into_bytes())]
        } else {
            let mut files: Vec<(String, Vec<u8>)> = (1..=5).map(|b| (format!("data_batch_{b}.bin"), [record(&[b], b), record(&[9], 3)].concat())).collect();
            files.push(("test_batch.bin".into(), record(&[4], 5)));
            files.push(("batches.meta.txt".into(), b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n".to_vec()));
            files
        }
    }

    proptest! {
        #![proptest_config(config(MUTATED))]
        #[test]
        fn mutated_files_load_or_are_named(hundred in any::<bool>(), which in any::<prop::sample::Index>(), edits in edits()) {
            let dir = tempfile::tempdir().unwrap();
            let mut files = valid(hundred);
            let bad = which.index(files.len());
            files[bad].1 = apply(std::mem::take(&mut files[bad].1), &edits);
            for (name, body) in &files {
                std::fs::write(dir.path().join(name), body).unwrap();
            }
            match if hundred { load_cifar100(dir.path()) } else { load_cifar10(dir.path()) } {
                Ok(d) => usable(&d, false)?,
                Err(e) => prop_assert!(e.to_string().contains(&files[bad].0), "{} is not named: {}", files[bad].0, e),
            }
        }
    }
}
