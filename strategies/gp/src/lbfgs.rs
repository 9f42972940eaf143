//! A small box-constrained L-BFGS (Liu & Nocedal 1989) for the GP's
//! hyperparameters: two-loop recursion on the free coordinates, steps
//! projected onto the box, backtracking (Armijo) line search. Every
//! evaluation counts against a cap, so the work per `ask` is bounded.

use std::collections::VecDeque;

const MEMORY: usize = 8;
/// Largest change of any coordinate in one step (θ is in log units: a
/// factor e² at most).
const MAX_STEP: f64 = 2.0;

/// Minimises `f` from `x0` within [`lo`, `hi`]: `f` gives the value (`None`
/// where undefined) and what `grad` turns into the gradient, which is asked
/// for only at the points the search moves to (a backtracking step that is
/// refused costs only its value: a quarter of the GP fit's evaluations, and
/// its gradient is two thirds of an evaluation's work). Stops after
/// `max_evals` evaluations, when every free coordinate's gradient is below
/// `gtol`, or when a step no longer improves. Returns the best point seen
/// and its value (infinite when `f` was nowhere defined).
pub fn minimize<F, G, S>(mut f: F, mut grad: G, x0: &[f64], lo: &[f64], hi: &[f64], max_evals: usize, gtol: f64) -> (Vec<f64>, f64)
where
    F: FnMut(&[f64]) -> Option<(f64, S)>,
    G: FnMut(S) -> Vec<f64>,
{
    let dim = x0.len();
    let clamp = |x: &mut [f64]| {
        for i in 0..dim {
            x[i] = x[i].clamp(lo[i], hi[i]);
        }
    };
    let mut x = x0.to_vec();
    clamp(&mut x);
    let Some((mut fx, at)) = f(&x) else { return (x, f64::INFINITY) };
    let mut g = grad(at);
    let mut evals = 1;
    let mut memory: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::new();
    while evals < max_evals {
        // Coordinates at a bound whose gradient pushes outwards stay put.
        let free: Vec<bool> = (0..dim).map(|i| !((x[i] <= lo[i] && g[i] > 0.0) || (x[i] >= hi[i] && g[i] < 0.0))).collect();
        let pg: Vec<f64> = (0..dim).map(|i| if free[i] { g[i] } else { 0.0 }).collect();
        if pg.iter().all(|v| v.abs() < gtol) {
            break;
        }
        let mut q = pg.clone();
        let mut a = vec![0.0; memory.len()];
        for (m, (s, y, rho)) in memory.iter().enumerate().rev() {
            a[m] = rho * dot(s, &q);
            axpy(-a[m], y, &mut q);
        }
        if let Some((s, y, _)) = memory.back() {
            let scale = dot(s, y) / dot(y, y);
            q.iter_mut().for_each(|v| *v *= scale);
        }
        for (m, (s, y, rho)) in memory.iter().enumerate() {
            let b = rho * dot(y, &q);
            axpy(a[m] - b, s, &mut q);
        }
        let mut d: Vec<f64> = (0..dim).map(|i| if free[i] { -q[i] } else { 0.0 }).collect();
        if dot(&d, &pg) >= 0.0 {
            memory.clear();
            d = pg.iter().map(|v| -v).collect();
        }
        let longest = d.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut t = if longest > MAX_STEP { MAX_STEP / longest } else { 1.0 };
        // Backtracking along the projected path.
        let mut accepted = None;
        while evals < max_evals {
            let mut xn: Vec<f64> = (0..dim).map(|i| x[i] + t * d[i]).collect();
            clamp(&mut xn);
            evals += 1;
            if let Some((fnew, at)) = f(&xn) {
                let decrease: f64 = (0..dim).map(|i| g[i] * (xn[i] - x[i])).sum();
                if fnew <= fx + 1e-4 * decrease.min(0.0) {
                    let gnew = grad(at);
                    accepted = Some((xn, fnew, gnew));
                    break;
                }
            }
            t *= 0.5;
            if t < 1e-10 {
                break;
            }
        }
        let Some((xn, fnew, gnew)) = accepted else { break };
        let s: Vec<f64> = (0..dim).map(|i| xn[i] - x[i]).collect();
        let y: Vec<f64> = (0..dim).map(|i| gnew[i] - g[i]).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            if memory.len() == MEMORY {
                memory.pop_front();
            }
            memory.push_back((s, y, 1.0 / sy));
        }
        let gain = fx - fnew;
        x = xn;
        fx = fnew;
        g = gnew;
        if gain <= 1e-9 * (1.0 + fx.abs()) {
            break;
        }
    }
    (x, fx)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_rosenbrock() {
        let f = |x: &[f64]| {
            let (a, b) = (1.0 - x[0], x[1] - x[0] * x[0]);
            Some((a * a + 100.0 * b * b, vec![-2.0 * a - 400.0 * x[0] * b, 200.0 * b]))
        };
        let (x, v) = minimize(f, |g| g, &[-1.2, 1.0], &[-5.0, -5.0], &[5.0, 5.0], 500, 1e-8);
        assert!(v < 1e-10 && (x[0] - 1.0).abs() < 1e-4, "{x:?} {v}");
    }

    #[test]
    fn stays_in_the_box_and_stops_at_its_edge() {
        // Minimum at (3, −3); box [−1, 1]².
        let f = |x: &[f64]| Some(((x[0] - 3.0).powi(2) + (x[1] + 3.0).powi(2), vec![2.0 * (x[0] - 3.0), 2.0 * (x[1] + 3.0)]));
        let (x, _) = minimize(f, |g| g, &[0.0, 0.0], &[-1.0, -1.0], &[1.0, 1.0], 50, 1e-8);
        assert_eq!(x, vec![1.0, -1.0]);
    }

    #[test]
    fn gradients_are_asked_for_only_where_the_search_moves() {
        // A quadratic bowl from far out: the first steps overshoot and are
        // refused, which costs values but no gradients.
        let (mut values, mut grads) = (0, 0);
        let (x, _) = minimize(
            |x: &[f64]| {
                values += 1;
                Some((100.0 * x[0] * x[0], x[0]))
            },
            |x0: f64| {
                grads += 1;
                vec![200.0 * x0]
            },
            &[1.0],
            &[-10.0],
            &[10.0],
            50,
            1e-6,
        );
        assert!(x[0].abs() < 1e-3, "{x:?}");
        assert!(grads < values, "{grads} gradients for {values} values");
    }

    #[test]
    fn respects_the_evaluation_cap_and_undefined_regions() {
        let mut calls = 0;
        let f = |x: &[f64]| {
            calls += 1;
            if x[0] > 0.5 {
                None
            } else {
                Some(((x[0] - 2.0).powi(2), vec![2.0 * (x[0] - 2.0)]))
            }
        };
        let (x, v) = minimize(f, |g| g, &[0.0], &[-10.0], &[10.0], 7, 1e-8);
        assert!(calls <= 7 && x[0] <= 0.5 && v.is_finite());
    }
}
