//! Datasets: images and labels in memory, loaded from the formats people
//! have on disk, or generated.
//!
//! Every loader returns a [`Dataset`] with a training and a test set of
//! 8-bit images (channels × height × width). NAS never selects on test data,
//! so [`Dataset::split`] carves the validation set out of the training set;
//! the test set is for the final evaluation of the found architecture only.
//!
//! A missing, truncated or malformed file is a [`DataError`] that names the
//! file and the problem.

pub mod augment;
pub mod cifar;
pub mod folder;
pub mod idx;
pub mod synthetic;

use std::path::{Path, PathBuf};

use thiserror::Error;

/// What went wrong reading a dataset.
#[derive(Debug, Error)]
pub enum DataError {
    #[error("{path}: not found{hint}")]
    Missing { path: PathBuf, hint: String },
    #[error("{path}: truncated: {detail}")]
    Truncated { path: PathBuf, detail: String },
    #[error("{path}: malformed: {detail}")]
    Malformed { path: PathBuf, detail: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl DataError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> DataError {
        if source.kind() == std::io::ErrorKind::NotFound {
            DataError::Missing { path: path.to_path_buf(), hint: String::new() }
        } else {
            DataError::Io { path: path.to_path_buf(), source }
        }
    }

    pub(crate) fn malformed(path: &Path, detail: impl Into<String>) -> DataError {
        DataError::Malformed { path: path.to_path_buf(), detail: detail.into() }
    }

    pub(crate) fn truncated(path: &Path, detail: impl Into<String>) -> DataError {
        DataError::Truncated { path: path.to_path_buf(), detail: detail.into() }
    }
}

/// A set of same-sized 8-bit images with class labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Images {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    /// `len × channels × height × width` bytes, image after image, each
    /// channel a plane (the layout of CIFAR's files and of NCHW tensors).
    pub pixels: Vec<u8>,
    pub labels: Vec<u32>,
}

impl Images {
    pub fn empty(channels: usize, height: usize, width: usize) -> Images {
        Images { channels, height, width, pixels: vec![], labels: vec![] }
    }

    /// Bytes per image.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.image_len();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// The images at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Images {
        let mut out = Images::empty(self.channels, self.height, self.width);
        out.pixels.reserve(indices.len() * self.image_len());
        for &i in indices {
            out.pixels.extend_from_slice(self.image(i));
            out.labels.push(self.labels[i]);
        }
        out
    }

    /// Appends the images of `other`, which must have the same shape.
    pub fn extend(&mut self, other: Images) {
        assert_eq!((self.channels, self.height, self.width), (other.channels, other.height, other.width));
        self.pixels.extend(other.pixels);
        self.labels.extend(other.labels);
    }

    /// Per-channel mean and standard deviation of the pixels scaled to
    /// [0, 1], for normalisation. Computed on training data only.
    pub fn channel_stats(&self) -> (Vec<f32>, Vec<f32>) {
        let plane = self.height * self.width;
        let mut sum = vec![0f64; self.channels];
        let mut sq = vec![0f64; self.channels];
        for img in self.pixels.chunks_exact(self.image_len()) {
            for (c, p) in img.chunks_exact(plane).enumerate() {
                for &v in p {
                    let x = v as f64 / 255.0;
                    sum[c] += x;
                    sq[c] += x * x;
                }
            }
        }
        let n = (self.len() * plane).max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let std = sq.iter().zip(&mean).map(|(s, m)| ((s / n - m * m).max(0.0).sqrt().max(1e-6)) as f32).collect();
        (mean.into_iter().map(|m| m as f32).collect(), std)
    }
}

/// A dataset: its classes, a training set and a test set.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub name: String,
    pub classes: Vec<String>,
    pub train: Images,
    pub test: Images,
    /// Whether mirroring an image keeps its class (photos: yes; digits: no).
    pub flip_ok: bool,
}

/// Training, validation and test sets of one dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Splits {
    pub train: Images,
    /// Carved from the training set; what a search selects on.
    pub valid: Images,
    /// Only for the final evaluation.
    pub test: Images,
}

impl Dataset {
    /// Splits off `valid_fraction` of the training set as validation data,
    /// stratified by class and shuffled by `seed`, so every class is
    /// represented and the split is the same for the same seed.
    pub fn split(&self, valid_fraction: f64, seed: u64) -> Splits {
        assert!((0.0..1.0).contains(&valid_fraction), "valid_fraction must be in [0, 1)");
        let mut by_class: Vec<Vec<usize>> = vec![vec![]; self.classes.len().max(1)];
        for (i, &l) in self.train.labels.iter().enumerate() {
            by_class[l as usize].push(i);
        }
        let mut rng = SplitMix(seed ^ 0x5eed_da7a);
        let (mut train, mut valid) = (vec![], vec![]);
        for mut members in by_class {
            rng.shuffle(&mut members);
            let k = (members.len() as f64 * valid_fraction).round() as usize;
            valid.extend_from_slice(&members[..k]);
            train.extend_from_slice(&members[k..]);
        }
        train.sort_unstable();
        valid.sort_unstable();
        Splits { train: self.train.select(&train), valid: self.train.select(&valid), test: self.test.clone() }
    }
}

/// Loads a dataset by name: `synthetic` (the default, generated), or
/// `cifar10:DIR`, `cifar100:DIR`, `mnist:DIR`, `fashion-mnist:DIR`,
/// `folder:DIR` (`~/` in DIR is the home folder).
pub fn load(spec: &str, seed: u64) -> Result<Dataset, DataError> {
    let (kind, path) = spec.split_once(':').unwrap_or((spec, ""));
    let dir = &crate::units::path(path);
    match kind {
        "synthetic" => Ok(synthetic::generate(&synthetic::Options { seed, ..synthetic::Options::default() })),
        "cifar10" => cifar::load_cifar10(dir),
        "cifar100" => cifar::load_cifar100(dir),
        "mnist" => idx::load(dir, "mnist", digits()),
        "fashion-mnist" => idx::load(dir, "fashion-mnist", fashion()),
        "folder" => folder::load(dir, &folder::Options::default()),
        _ => Err(DataError::Missing {
            path: PathBuf::from(spec),
            hint: " (datasets: synthetic, cifar10:DIR, cifar100:DIR, mnist:DIR, fashion-mnist:DIR, folder:DIR)".into(),
        }),
    }
}

fn digits() -> Vec<String> {
    (0..10).map(|d| d.to_string()).collect()
}

fn fashion() -> Vec<String> {
    ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"].iter().map(|s| s.to_string()).collect()
}

/// SplitMix64: the data module's own small generator, so data splits and
/// augmentation do not depend on any other random stream.
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, n), n > 0 (bias below 2^-32 for the sizes used here).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-300);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

#[cfg(test)]
/// A loaded dataset the trainer can use: images with pixels (a test set
/// unless `test_may_be_empty`), labels of its classes, and statistics and
/// a validation split that can be computed.
pub(crate) fn usable(d: &Dataset, test_may_be_empty: bool) -> Result<(), proptest::test_runner::TestCaseError> {
    use proptest::prelude::*;
    for (im, may_be_empty) in [(&d.train, false), (&d.test, test_may_be_empty)] {
        prop_assert!(im.image_len() > 0 && (may_be_empty || !im.is_empty()), "{}x{}x{} x {}", im.channels, im.height, im.width, im.len());
        prop_assert_eq!(im.pixels.len(), im.len() * im.image_len());
        prop_assert!(im.labels.iter().all(|&l| (l as usize) < d.classes.len()));
    }
    let s = d.split(0.2, 1);
    let (mean, std) = s.train.channel_stats();
    prop_assert!(mean.iter().chain(&std).all(|x| x.is_finite()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Dataset {
        let mut train = Images::empty(1, 2, 2);
        for i in 0..40u32 {
            train.pixels.extend([i as u8; 4]);
            train.labels.push(i % 4);
        }
        Dataset { name: "t".into(), classes: (0..4).map(|c| c.to_string()).collect(), test: train.select(&[0, 1]), train, flip_ok: true }
    }

    #[test]
    fn validation_is_carved_from_train_stratified_and_seeded() {
        let d = tiny();
        let s = d.split(0.25, 1);
        assert_eq!(s.valid.len(), 12);
        assert_eq!(s.train.len(), 28);
        for c in 0..4 {
            assert_eq!(s.valid.labels.iter().filter(|&&l| l == c).count(), 3);
        }
        // Disjoint, and together the whole training set.
        let mut all: Vec<u8> = s.train.pixels.chunks(4).chain(s.valid.pixels.chunks(4)).map(|p| p[0]).collect();
        all.sort();
        assert_eq!(all, (0..40).collect::<Vec<u8>>());
        assert_eq!(d.split(0.25, 1), s);
        assert_ne!(d.split(0.25, 2).valid, s.valid);
        assert_eq!(s.test, d.test, "the test set is never touched");
    }

    #[test]
    fn channel_stats_are_per_channel() {
        let mut im = Images::empty(2, 1, 2);
        im.pixels = vec![0, 255, 51, 51];
        im.labels = vec![0];
        let (mean, std) = im.channel_stats();
        assert!((mean[0] - 0.5).abs() < 1e-6 && (mean[1] - 0.2).abs() < 1e-6);
        assert!((std[0] - 0.5).abs() < 1e-6 && std[1] < 1e-3);
    }

    #[test]
    fn unknown_dataset_lists_the_known_ones() {
        let e = load("imagenet:/x", 0).unwrap_err().to_string();
        assert!(e.contains("cifar10:DIR") && e.contains("synthetic"), "{e}");
    }
}
