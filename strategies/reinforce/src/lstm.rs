//! One LSTM cell (Hochreiter & Schmidhuber 1997, with a forget gate), forward
//! and backward, on plain slices.
//!
//! The weights of the cell are one row-major matrix of `4·hidden` rows — the
//! input, forget, cell and output gates, in that order — by `2·hidden`
//! columns: the step's input followed by the previous hidden state. The
//! controller's inputs are embeddings of the hidden size, so one matrix
//! covers both products.

/// Everything one forward step computed that its backward step needs. The
/// controller recomputes these for each told architecture rather than
/// keeping them from `ask`, because results come back late and in any order,
/// after the weights have moved.
#[derive(Debug, Clone)]
pub struct Step {
    /// The step's input followed by the previous hidden state.
    pub input: Vec<f64>,
    /// The previous cell state.
    pub c_prev: Vec<f64>,
    /// Gate activations, `[i, f, g, o]`, each `hidden` long.
    pub gates: Vec<f64>,
    /// `tanh` of the new cell state.
    pub tanh_c: Vec<f64>,
    /// The new cell state.
    pub c: Vec<f64>,
    /// The new hidden state.
    pub h: Vec<f64>,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// One step: `x`, `h_prev` and `c_prev` are `hidden` long, `w` is
/// `4·hidden × 2·hidden` and `b` is `4·hidden`.
pub fn forward(w: &[f64], b: &[f64], x: &[f64], h_prev: &[f64], c_prev: &[f64]) -> Step {
    let hidden = x.len();
    debug_assert_eq!(w.len(), 8 * hidden * hidden);
    debug_assert_eq!(b.len(), 4 * hidden);
    let input: Vec<f64> = x.iter().chain(h_prev).copied().collect();
    let mut gates: Vec<f64> = w.chunks_exact(2 * hidden).zip(b).map(|(row, bias)| bias + row.iter().zip(&input).map(|(a, b)| a * b).sum::<f64>()).collect();
    for (k, a) in gates.iter_mut().enumerate() {
        // The cell candidate (third block) is a tanh; the three gates are sigmoids.
        *a = if k / hidden == 2 { a.tanh() } else { sigmoid(*a) };
    }
    let (i, rest) = gates.split_at(hidden);
    let (f, rest) = rest.split_at(hidden);
    let (g, o) = rest.split_at(hidden);
    let c: Vec<f64> = (0..hidden).map(|j| f[j] * c_prev[j] + i[j] * g[j]).collect();
    let tanh_c: Vec<f64> = c.iter().map(|v| v.tanh()).collect();
    let h: Vec<f64> = (0..hidden).map(|j| o[j] * tanh_c[j]).collect();
    Step { input, c_prev: c_prev.to_vec(), gates, tanh_c, c, h }
}

/// Gradients flowing out of one step backwards in time.
pub struct Backward {
    /// With respect to the step's input.
    pub dx: Vec<f64>,
    /// With respect to the previous hidden state.
    pub dh_prev: Vec<f64>,
    /// With respect to the previous cell state.
    pub dc_prev: Vec<f64>,
}

/// Back-propagates the gradients `dh` and `dc` of the loss with respect to
/// the step's new hidden and cell states through `step`, adding the weight
/// gradients into `dw` and `db`.
pub fn backward(w: &[f64], step: &Step, dh: &[f64], dc: &[f64], dw: &mut [f64], db: &mut [f64]) -> Backward {
    let hidden = dh.len();
    let (i, rest) = step.gates.split_at(hidden);
    let (f, rest) = rest.split_at(hidden);
    let (g, o) = rest.split_at(hidden);
    // Gradients with respect to the gates' pre-activations, same layout.
    let mut da = vec![0.0; 4 * hidden];
    let mut dc_prev = vec![0.0; hidden];
    for j in 0..hidden {
        let dc_total = dc[j] + dh[j] * o[j] * (1.0 - step.tanh_c[j] * step.tanh_c[j]);
        da[j] = dc_total * g[j] * i[j] * (1.0 - i[j]);
        da[hidden + j] = dc_total * step.c_prev[j] * f[j] * (1.0 - f[j]);
        da[2 * hidden + j] = dc_total * i[j] * (1.0 - g[j] * g[j]);
        da[3 * hidden + j] = dh[j] * step.tanh_c[j] * o[j] * (1.0 - o[j]);
        dc_prev[j] = dc_total * f[j];
    }
    let mut dinput = vec![0.0; 2 * hidden];
    for ((row, drow), (&d, dbias)) in w.chunks_exact(2 * hidden).zip(dw.chunks_exact_mut(2 * hidden)).zip(da.iter().zip(db)) {
        *dbias += d;
        // Zipped rather than indexed so that no fuel goes to bounds checks:
        // this is the hottest loop of a `tell`.
        for (((dw, di), &w), &x) in drow.iter_mut().zip(dinput.iter_mut()).zip(row).zip(&step.input) {
            *dw += d * x;
            *di += d * w;
        }
    }
    let dh_prev = dinput.split_off(hidden);
    Backward { dx: dinput, dh_prev, dc_prev }
}
