//! Training-time augmentation and normalisation of mini-batches: random
//! crops from a zero-padded image (shifts of up to `pad` pixels) and, where
//! the dataset allows it, horizontal flips — the CIFAR recipe of
//! NAS-Bench-201 and DARTS.

use super::{Images, SplitMix};

/// What to apply to training images.
#[derive(Debug, Clone, PartialEq)]
pub struct Augment {
    /// Zero padding before the random crop; 0 disables cropping.
    pub pad: usize,
    /// Mirror half the images left–right.
    pub flip: bool,
}

/// The pixels of `images[indices]`, augmented: a batch in CHW layout.
pub fn batch(images: &Images, indices: &[usize], aug: &Augment, rng: &mut SplitMix) -> Vec<u8> {
    let (c, h, w) = (images.channels, images.height, images.width);
    let mut out = Vec::with_capacity(indices.len() * images.image_len());
    for &i in indices {
        let src = images.image(i);
        let (dy, dx) =
            if aug.pad > 0 { (rng.below(2 * aug.pad + 1) as isize - aug.pad as isize, rng.below(2 * aug.pad + 1) as isize - aug.pad as isize) } else { (0, 0) };
        let flip = aug.flip && rng.below(2) == 1;
        for ch in 0..c {
            for y in 0..h {
                for x in 0..w {
                    let sx = if flip { w - 1 - x } else { x } as isize + dx;
                    let sy = y as isize + dy;
                    let v = if sx < 0 || sy < 0 || sx >= w as isize || sy >= h as isize { 0 } else { src[ch * h * w + sy as usize * w + sx as usize] };
                    out.push(v);
                }
            }
        }
    }
    out
}

/// Cutout (DeVries & Taylor 2017) on a batch from [`batch`]: in each
/// image, a `size`×`size` square around a random pixel (clipped at the
/// edges, so sometimes smaller) is set to 0, like the crop's padding.
pub fn cutout(pixels: &mut [u8], images: &Images, size: usize, rng: &mut SplitMix) {
    let (c, h, w) = (images.channels, images.height, images.width);
    if size == 0 || h == 0 || w == 0 {
        return;
    }
    for image in pixels.chunks_mut(c * h * w) {
        let (cy, cx) = (rng.below(h), rng.below(w));
        let (y0, y1) = (cy.saturating_sub(size / 2), (cy + size - size / 2).min(h));
        let (x0, x1) = (cx.saturating_sub(size / 2), (cx + size - size / 2).min(w));
        for ch in 0..c {
            for y in y0..y1 {
                image[ch * h * w + y * w + x0..ch * h * w + y * w + x1].fill(0);
            }
        }
    }
}

/// Bytes to floats: scaled to [0, 1], then standardised per channel.
/// `plane` is height × width.
pub fn normalise(pixels: &[u8], channels: usize, plane: usize, mean: &[f32], std: &[f32]) -> Vec<f32> {
    pixels
        .iter()
        .enumerate()
        .map(|(k, &p)| {
            let c = (k / plane) % channels;
            (p as f32 / 255.0 - mean[c]) / std[c]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(pixels: Vec<u8>, c: usize, h: usize, w: usize) -> Images {
        Images { channels: c, height: h, width: w, pixels, labels: vec![0] }
    }

    #[test]
    fn without_augmentation_the_batch_is_the_images() {
        let im = one((0..8).collect(), 2, 2, 2);
        let mut rng = SplitMix(1);
        assert_eq!(batch(&im, &[0, 0], &Augment { pad: 0, flip: false }, &mut rng), [(0..8).collect::<Vec<u8>>(), (0..8).collect()].concat());
    }

    #[test]
    fn crops_shift_within_the_padding_and_flips_mirror() {
        let im = one((1..=9).collect(), 1, 3, 3);
        let mut rng = SplitMix(5);
        let mut seen_shift = false;
        let mut seen_flip = false;
        for _ in 0..200 {
            let b = batch(&im, &[0], &Augment { pad: 1, flip: true }, &mut rng);
            // Every output pixel is 0 (padding) or an input pixel, and the
            // centre always comes from the 3x3 neighbourhood of the centre.
            assert!(b.iter().all(|&v| v <= 9));
            assert_ne!(b[4], 0);
            seen_shift |= b[4] != 5;
            seen_flip |= b == vec![3, 2, 1, 6, 5, 4, 9, 8, 7];
        }
        assert!(seen_shift && seen_flip);
    }

    #[test]
    fn cutout_zeroes_one_square_per_image() {
        let im = one(vec![7; 2 * 8 * 8], 2, 8, 8);
        let mut rng = SplitMix(3);
        for _ in 0..50 {
            let mut b = batch(&im, &[0, 0], &Augment { pad: 0, flip: false }, &mut rng);
            cutout(&mut b, &im, 4, &mut rng);
            for image in b.chunks(2 * 64) {
                let zeros: Vec<usize> = (0..64).filter(|&k| image[k] == 0).collect();
                // Both channels lose the same pixels: a square of at most
                // 4×4, at least 2×2 (a centre at a corner keeps half a side).
                assert!((4..=16).contains(&zeros.len()), "{zeros:?}");
                assert!(zeros.iter().all(|&k| image[64 + k] == 0));
                assert_eq!(image.iter().filter(|&&v| v == 0).count(), 2 * zeros.len());
                let (ys, xs): (Vec<usize>, Vec<usize>) = zeros.iter().map(|&k| (k / 8, k % 8)).unzip();
                let span = |v: &[usize]| v.iter().max().unwrap() - v.iter().min().unwrap() + 1;
                assert_eq!(span(&ys) * span(&xs), zeros.len(), "a rectangle");
            }
        }
    }

    #[test]
    fn normalise_standardises_each_channel() {
        let out = normalise(&[0, 255, 51, 51], 2, 2, &[0.5, 0.2], &[0.5, 0.1]);
        assert_eq!(out, vec![-1.0, 1.0, 0.0, 0.0]);
    }
}
