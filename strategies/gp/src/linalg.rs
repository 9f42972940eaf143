//! Dense linear algebra for the GP, in plain Rust: a Cholesky factor kept
//! as packed rows (row `i` holds its `i + 1` entries at `i(i+1)/2`), so the
//! posterior can grow by one point (a pending proposal) in O(n²), the
//! triangular solves, and the inverse the marginal likelihood's gradient
//! needs.

/// Dot product of the common prefix of `a` and `b`, with four accumulators
/// (about twice as fast as a single chain natively, and no more
/// instructions in the sandbox). In WebAssembly the four accumulators are
/// two 128-bit vectors (`dot_simd`) that add in the same order, so the
/// sandbox and a native build compute the same bits.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        dot_simd(a, b)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        dot_scalar(a, b)
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[inline]
fn dot_scalar(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut s = [0.0f64; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        s[0] += x[0] * y[0];
        s[1] += x[1] * y[1];
        s[2] += x[2] * y[2];
        s[3] += x[3] * y[3];
    }
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += x * y;
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// `dot_scalar` on WebAssembly's 128-bit SIMD: accumulators (s0, s1) and
/// (s2, s3) as two f64x2, each lane adding the same products in the same
/// order (no fused multiply-add), then the same final sums. Half the
/// arithmetic instructions, and so half the fuel and about half the time of
/// the factorisations and triangular solves that dominate the GP's cost in
/// the sandbox. Every engine that runs the contract's components has SIMD
/// (it is part of WebAssembly 2.0).
#[cfg(target_arch = "wasm32")]
#[inline]
#[target_feature(enable = "simd128")]
fn dot_simd(a: &[f64], b: &[f64]) -> f64 {
    use core::arch::wasm32::{f64x2, f64x2_add, f64x2_extract_lane, f64x2_mul, v128, v128_load};
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut lo = f64x2(0.0, 0.0);
    let mut hi = f64x2(0.0, 0.0);
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        // SAFETY: each chunk holds four f64s (32 bytes); v128_load reads 16
        // unaligned bytes at its start and at its middle.
        let (x0, x1, y0, y1) = unsafe {
            (
                v128_load(x.as_ptr() as *const v128),
                v128_load(x.as_ptr().add(2) as *const v128),
                v128_load(y.as_ptr() as *const v128),
                v128_load(y.as_ptr().add(2) as *const v128),
            )
        };
        lo = f64x2_add(lo, f64x2_mul(x0, y0));
        hi = f64x2_add(hi, f64x2_mul(x1, y1));
    }
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += x * y;
    }
    (f64x2_extract_lane::<0>(lo) + f64x2_extract_lane::<1>(lo)) + (f64x2_extract_lane::<0>(hi) + f64x2_extract_lane::<1>(hi)) + tail
}

/// Offset of row `i` in packed lower-triangular storage.
#[inline]
pub fn row(i: usize) -> usize {
    i * (i + 1) / 2
}

/// The lower Cholesky factor L of a symmetric positive-definite matrix
/// (A = L Lᵀ), in packed rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Cholesky {
    n: usize,
    l: Vec<f64>,
}

impl Cholesky {
    /// Factorises `a`, the lower triangle of an `n`×`n` symmetric matrix in
    /// packed rows, in place. `None` when `a` is not (numerically) positive
    /// definite.
    #[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
    pub fn new(mut a: Vec<f64>, n: usize) -> Option<Cholesky> {
        assert_eq!(a.len(), row(n), "packed lower triangle of {n}×{n}");
        for i in 0..n {
            let ri = row(i);
            for j in 0..=i {
                let rj = row(j);
                let s = a[ri + j] - dot(&a[ri..ri + j], &a[rj..rj + j]);
                if j == i {
                    if s.is_nan() || s <= 0.0 || s.is_infinite() {
                        return None;
                    }
                    a[ri + i] = s.sqrt();
                } else {
                    a[ri + j] = s / a[rj + j];
                }
            }
        }
        Some(Cholesky { n, l: a })
    }

    /// Size of the factorised matrix.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether the factorised matrix is 0×0.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Entry (i, j) of L, j ≤ i.
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.l[row(i) + j]
    }

    /// Sum of log L_ii: half the log determinant of A.
    pub fn half_log_det(&self) -> f64 {
        (0..self.n).map(|i| self.l[row(i) + i].ln()).sum()
    }

    /// Solves L x = b in place (forward substitution).
    #[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
    pub fn forward(&self, b: &mut [f64]) {
        for i in 0..self.n {
            let ri = row(i);
            b[i] = (b[i] - dot(&self.l[ri..ri + i], &b[..i])) / self.l[ri + i];
        }
    }

    /// Solves Lᵀ x = b in place (back substitution, row by row of L).
    #[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
    pub fn backward(&self, b: &mut [f64]) {
        for i in (0..self.n).rev() {
            let ri = row(i);
            b[i] /= self.l[ri + i];
            let xi = b[i];
            for (bj, lij) in b[..i].iter_mut().zip(&self.l[ri..ri + i]) {
                *bj -= lij * xi;
            }
        }
    }

    /// Solves A x = b.
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        let mut x = b.to_vec();
        self.forward(&mut x);
        self.backward(&mut x);
        x
    }

    /// Grows A by one row and column: `cross` (its entries against the
    /// current rows) and `diagonal`. The new pivot is floored at
    /// `floor` (a point that duplicates one already in A makes it zero up to
    /// rounding). Returns L's new row, its diagonal last. O(n²).
    pub fn push(&mut self, cross: &[f64], diagonal: f64, floor: f64) -> &[f64] {
        let mut l = cross.to_vec();
        self.forward(&mut l);
        let pivot = (diagonal - dot(&l, &l)).max(floor);
        let start = self.l.len();
        self.l.extend_from_slice(&l);
        self.l.push(pivot.sqrt());
        self.n += 1;
        &self.l[start..]
    }

    /// The columns of L⁻¹, column j stored as row j of an n×n matrix (zero
    /// before its diagonal), by forward substitution. About n³/6
    /// multiply-adds.
    #[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
    fn inverse_columns(&self) -> Vec<f64> {
        let n = self.n;
        let mut u = vec![0.0; n * n];
        for j in 0..n {
            let col = &mut u[j * n..(j + 1) * n];
            col[j] = 1.0 / self.l[row(j) + j];
            for k in j + 1..n {
                let rk = row(k);
                col[k] = -dot(&self.l[rk + j..rk + k], &col[j..k]) / self.l[rk + k];
            }
        }
        u
    }

    /// A⁻¹, dense and row-major (n×n): column j of L⁻¹ by forward
    /// substitution, then (A⁻¹)_ij = Σ_k (L⁻¹)_ki (L⁻¹)_kj. About n³/3
    /// multiply-adds.
    #[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
    pub fn inverse(&self) -> Vec<f64> {
        let n = self.n;
        // u[j*n + k] = (L⁻¹)_kj for k ≥ j: column j of L⁻¹ stored as row j.
        let u = self.inverse_columns();
        let mut inv = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                // Rows i and j of u are zero before i and j; i ≥ j.
                let v = dot(&u[i * n + i..(i + 1) * n], &u[j * n + i..(j + 1) * n]);
                inv[i * n + j] = v;
                inv[j * n + i] = v;
            }
        }
        inv
    }
}

/// L⁻¹ of a [`Cholesky`] factor, in packed rows, for the many variances of
/// one acquisition: ‖L⁻¹k‖² as n independent dot products (row i of L⁻¹
/// with k), where forward substitution chains each row's dot product on the
/// one before. The same multiply-adds, but they overlap. (Summing L⁻¹k
/// column by column instead, an axpy per column, measured half again
/// slower in the sandbox: a load and a store per multiply-add.)
#[derive(Debug, Clone, PartialEq)]
pub struct InverseFactor {
    n: usize,
    m: Vec<f64>,
}

impl InverseFactor {
    /// L⁻¹ of `chol`. About n³/6 multiply-adds.
    pub fn of(chol: &Cholesky) -> InverseFactor {
        let n = chol.n;
        let u = chol.inverse_columns();
        let mut m = Vec::with_capacity(row(n));
        for i in 0..n {
            m.extend((0..=i).map(|j| u[j * n + i]));
        }
        InverseFactor { n, m }
    }

    /// ‖L⁻¹ b‖² = bᵀA⁻¹b.
    #[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
    pub fn norm2(&self, b: &[f64]) -> f64 {
        let mut s = 0.0;
        for i in 0..self.n {
            let v = dot(&self.m[row(i)..row(i) + i + 1], &b[..=i]);
            s += v * v;
        }
        s
    }

    /// Follows [`Cholesky::push`], given L's new row (its diagonal last):
    /// with L' = [L 0; lᵀ d], L'⁻¹ = [L⁻¹ 0; −lᵀL⁻¹/d 1/d]. O(n²).
    pub fn push(&mut self, new_row: &[f64]) {
        let n = self.n;
        assert_eq!(new_row.len(), n + 1, "L's new row has n + 1 entries");
        let d = new_row[n];
        let mut r = vec![0.0; n + 1];
        for (i, &li) in new_row[..n].iter().enumerate() {
            for (rj, mij) in r[..=i].iter_mut().zip(&self.m[row(i)..row(i) + i + 1]) {
                *rj += li * mij;
            }
        }
        r[..n].iter_mut().for_each(|v| *v = -*v / d);
        r[n] = 1.0 / d;
        self.m.extend_from_slice(&r);
        self.n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(a: &[&[f64]]) -> Vec<f64> {
        a.iter().enumerate().flat_map(|(i, r)| r[..=i].to_vec()).collect()
    }

    #[test]
    fn factor_solve_and_inverse_match_hand_computed_values() {
        // A = [[4, 2, 2], [2, 5, 3], [2, 3, 6]] = L Lᵀ with
        // L = [[2, 0, 0], [1, 2, 0], [1, 1, 2]].
        let a = packed(&[&[4.0, 2.0, 2.0], &[2.0, 5.0, 3.0], &[2.0, 3.0, 6.0]]);
        let c = Cholesky::new(a, 3).unwrap();
        let want = [2.0, 1.0, 2.0, 1.0, 1.0, 2.0];
        assert!(c.l.iter().zip(want).all(|(x, y)| (x - y).abs() < 1e-12), "{:?}", c.l);
        assert!((c.half_log_det() - 8f64.ln()).abs() < 1e-12);
        // A x = (8, 10, 11) has x = (1, 1, 1).
        let x = c.solve(&[8.0, 10.0, 11.0]);
        assert!(x.iter().all(|v| (v - 1.0).abs() < 1e-12), "{x:?}");
        // det A = 64; A⁻¹ = adj(A) / 64.
        let adj = [21.0, -6.0, -4.0, -6.0, 20.0, -8.0, -4.0, -8.0, 16.0];
        let inv = c.inverse();
        assert!(inv.iter().zip(adj).all(|(x, y)| (x - y / 64.0).abs() < 1e-12), "{inv:?}");
    }

    #[test]
    fn growing_by_a_row_equals_factorising_the_larger_matrix() {
        let full = packed(&[&[4.0, 2.0, 2.0], &[2.0, 5.0, 3.0], &[2.0, 3.0, 6.0]]);
        let mut c = Cholesky::new(packed(&[&[4.0, 2.0], &[2.0, 5.0]]), 2).unwrap();
        c.push(&[2.0, 3.0], 6.0, 0.0);
        let d = Cholesky::new(full, 3).unwrap();
        assert!(c.l.iter().zip(&d.l).all(|(x, y)| (x - y).abs() < 1e-12));
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn the_inverse_factor_gives_quadratic_forms_and_grows_with_the_factor() {
        let a = packed(&[&[4.0, 2.0, 2.0], &[2.0, 5.0, 3.0], &[2.0, 3.0, 6.0]]);
        let b = [1.0, -2.0, 0.5];
        // bᵀA⁻¹b from the dense inverse.
        let want = |c: &Cholesky, b: &[f64]| {
            let inv = c.inverse();
            let n = c.len();
            (0..n).map(|i| (0..n).map(|j| b[i] * inv[i * n + j] * b[j]).sum::<f64>()).sum::<f64>()
        };
        let full = Cholesky::new(a, 3).unwrap();
        assert!((InverseFactor::of(&full).norm2(&b) - want(&full, &b)).abs() < 1e-12);
        // Grown from the 2×2 factor, row by row, as fantasies grow it.
        let mut c = Cholesky::new(packed(&[&[4.0, 2.0], &[2.0, 5.0]]), 2).unwrap();
        let mut f = InverseFactor::of(&c);
        let new_row = c.push(&[2.0, 3.0], 6.0, 0.0).to_vec();
        f.push(&new_row);
        let want = InverseFactor::of(&full);
        assert_eq!(f.n, 3);
        assert!(f.m.iter().zip(&want.m).all(|(x, y)| (x - y).abs() < 1e-12), "{:?}", f.m);
    }

    #[test]
    fn indefinite_matrices_are_refused() {
        assert!(Cholesky::new(packed(&[&[1.0, 2.0], &[2.0, 1.0]]), 2).is_none());
        assert!(Cholesky::new(vec![f64::NAN], 1).is_none());
    }

    #[test]
    fn dot_handles_tails() {
        let a: Vec<f64> = (0..7).map(f64::from).collect();
        assert_eq!(dot(&a, &a), 91.0);
        assert_eq!(dot(&a[..3], &a), 5.0);
    }
}
