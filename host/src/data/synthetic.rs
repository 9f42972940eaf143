//! An image classification task generated in code: no download, the same
//! images for the same seed, and hard enough that architectures differ.
//!
//! Each class is a texture: a grating of one of ten orientations, 18° apart.
//! Every image shows its class's texture through a soft window at a random
//! place and size, with random phase, an orientation jittered by up to ±8.6°
//! (so neighbouring classes, 18° apart, never overlap, but only just), a jittered
//! frequency, a random colour, a distracting grating of a random other
//! orientation, a colour gradient and pixel noise. Neither the mean colour
//! nor a fixed template gives the class away (a nearest-centroid classifier
//! on pixels is near chance); local oriented filters — what convolutions
//! learn — do.
//!
//! Why this task (measured, docs/src/performance.md): telling orientations
//! 18° apart takes many finely tuned filters, so a small network's accuracy
//! after long training still depends on its cell (convolutions beat pooling
//! and skips, as on real images) instead of every cell reaching 100%; and
//! the texture is strong enough that almost every cell with convolutions
//! leaves the initial plateau within the main job's 2 epochs, so a short
//! training ranks cells much as a long one does. (The first version, five
//! orientations × two frequencies at half the contrast, did neither: 13 of
//! 29 convolution cells sat at chance for three epochs, most of them to
//! reach 94–98% at twelve.)

use std::f64::consts::PI;

use super::{Dataset, Images, SplitMix};

/// The generator's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub seed: u64,
    pub train: usize,
    pub test: usize,
    /// Side of the square RGB images.
    pub size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { seed: 0, train: 5000, test: 1000, size: 32 }
    }
}

/// Number of classes: 10 orientations.
pub const CLASSES: usize = 10;

/// Orientation (radians) and frequency (cycles per pixel) of class `c`.
pub fn class_texture(c: usize) -> (f64, f64) {
    (c as f64 * PI / CLASSES as f64, 0.16)
}

pub fn generate(opts: &Options) -> Dataset {
    let make = |count: usize, stream: u64| {
        let mut images = Images::empty(3, opts.size, opts.size);
        images.pixels.reserve(count * 3 * opts.size * opts.size);
        for i in 0..count {
            let label = i % CLASSES;
            // Each image from its own stream: the same image whatever the
            // counts, and train and test never share one.
            let mut rng = SplitMix(opts.seed.wrapping_mul(0x9e37_79b9).wrapping_add(stream << 40).wrapping_add(i as u64));
            images.pixels.extend(draw(label, opts.size, &mut rng));
            images.labels.push(label as u32);
        }
        images
    };
    Dataset {
        name: "synthetic".into(),
        classes: (0..CLASSES)
            .map(|c| {
                let (theta, _) = class_texture(c);
                format!("{}deg", theta.to_degrees().round())
            })
            .collect(),
        train: make(opts.train, 1),
        test: make(opts.test, 2),
        flip_ok: false, // mirroring turns 18° into 162°: another class
    }
}

/// One image of class `label`, CHW bytes.
fn draw(label: usize, size: usize, rng: &mut SplitMix) -> Vec<u8> {
    let (theta, freq) = class_texture(label);
    let theta = theta + (rng.unit() - 0.5) * 0.3;
    let freq = freq * (0.9 + 0.2 * rng.unit());
    let phase = rng.unit() * 2.0 * PI;
    let s = size as f64;
    let (cx, cy) = (s * (0.25 + 0.5 * rng.unit()), s * (0.25 + 0.5 * rng.unit()));
    let radius = s * (0.18 + 0.15 * rng.unit());
    let amp = 0.4 + 0.3 * rng.unit();
    let colour: [f64; 3] = [rng.unit() * 2.0 - 1.0, rng.unit() * 2.0 - 1.0, rng.unit() * 2.0 - 1.0];
    let norm = (colour.iter().map(|c| c * c).sum::<f64>()).sqrt().max(0.3);

    // A distractor: another orientation and frequency, weaker, elsewhere.
    let d_theta = rng.unit() * PI;
    let d_freq = 0.08 + 0.2 * rng.unit();
    let d_phase = rng.unit() * 2.0 * PI;
    let (dx, dy) = (s * rng.unit(), s * rng.unit());
    let d_amp = 0.15 * rng.unit();

    let background: [f64; 3] = [0.3 + 0.4 * rng.unit(), 0.3 + 0.4 * rng.unit(), 0.3 + 0.4 * rng.unit()];
    let gradient = (rng.unit() - 0.5) * 0.3;
    let mut out = vec![0u8; 3 * size * size];
    for y in 0..size {
        for x in 0..size {
            let (xf, yf) = (x as f64, y as f64);
            let window = (-((xf - cx).powi(2) + (yf - cy).powi(2)) / (2.0 * radius * radius)).exp();
            let wave = (2.0 * PI * freq * (xf * theta.cos() + yf * theta.sin()) + phase).cos();
            let d_window = (-((xf - dx).powi(2) + (yf - dy).powi(2)) / (2.0 * (s * 0.25).powi(2))).exp();
            let d_wave = (2.0 * PI * d_freq * (xf * d_theta.cos() + yf * d_theta.sin()) + d_phase).cos();
            for c in 0..3 {
                let v = background[c] + gradient * (xf / s - 0.5) + amp * colour[c] / norm * window * wave + d_amp * d_window * d_wave + 0.08 * rng.normal();
                out[c * size * size + y * size + x] = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(seed: u64) -> Dataset {
        generate(&Options { seed, train: 400, test: 200, size: 32 })
    }

    #[test]
    fn same_seed_same_images_other_seed_other_images() {
        let a = small(1);
        assert_eq!(a, small(1));
        assert_ne!(a.train.pixels, small(2).train.pixels);
        assert_ne!(a.train.image(0), a.test.image(0), "train and test are different draws");
        assert_eq!(a.train.len(), 400);
        assert!((0..CLASSES as u32).all(|c| a.train.labels.iter().filter(|&&l| l == c).count() == 40));
    }

    /// Gray value of image `i` at (x, y).
    fn gray(im: &Images, i: usize, x: usize, y: usize) -> f64 {
        let plane = im.height * im.width;
        let img = im.image(i);
        (0..3).map(|c| img[c * plane + y * im.width + x] as f64).sum::<f64>() / 765.0
    }

    #[test]
    fn pixels_alone_do_not_give_the_class_away() {
        // Nearest class centroid on raw pixels: near chance (10%).
        let d = small(3);
        let n = d.train.image_len();
        let mut centroids = vec![vec![0f64; n]; CLASSES];
        for i in 0..d.train.len() {
            for (c, &p) in centroids[d.train.labels[i] as usize].iter_mut().zip(d.train.image(i)) {
                *c += p as f64;
            }
        }
        let correct = (0..d.test.len())
            .filter(|&i| {
                let img = d.test.image(i);
                let dist = |c: &Vec<f64>| c.iter().zip(img).map(|(m, &p)| (m / 40.0 - p as f64).powi(2)).sum::<f64>();
                let best = (0..CLASSES).min_by(|&a, &b| dist(&centroids[a]).total_cmp(&dist(&centroids[b]))).unwrap();
                best as u32 == d.test.labels[i]
            })
            .count();
        assert!((correct as f64) / (d.test.len() as f64) < 0.3, "{correct}/{}", d.test.len());
    }

    #[test]
    fn oriented_filters_find_the_class() {
        // Energy of each class's grating, summed over the image (a
        // quadrature pair, so phase and position do not matter): argmax is
        // mostly right, so the task is learnable by oriented filters.
        let d = small(4);
        let correct = (0..d.test.len())
            .filter(|&i| {
                let energy = |c: usize| {
                    let (theta, f) = class_texture(c);
                    let (mut re, mut im) = (0.0, 0.0);
                    for y in 0..32 {
                        for x in 0..32 {
                            let g = gray(&d.test, i, x, y) - 0.5;
                            let arg = 2.0 * PI * f * (x as f64 * theta.cos() + y as f64 * theta.sin());
                            re += g * arg.cos();
                            im += g * arg.sin();
                        }
                    }
                    re * re + im * im
                };
                let best = (0..CLASSES).max_by(|&a, &b| energy(a).total_cmp(&energy(b))).unwrap();
                best as u32 == d.test.labels[i]
            })
            .count();
        assert!((correct as f64) / (d.test.len() as f64) > 0.6, "{correct}/{}", d.test.len());
    }
}
