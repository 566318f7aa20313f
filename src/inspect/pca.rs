//! The first two principal components of a small matrix's rows, by power iteration. Written
//! here rather than taken from a linear-algebra crate: two components of a matrix of at most a
//! few thousand rows take a page of code, and such a crate would grow the wasm for this alone.

/// Rows projected on the two directions along which they vary most.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// `[rows, 2]`, row-major.
    pub points: Vec<f32>,
    /// The share of the rows' variance along each direction, 0 to 1.
    pub explained: [f32; 2],
}

/// Power iteration stops when a direction moves less than this between two rounds...
const TOLERANCE: f64 = 1e-10;
/// ...or after this many rounds (close eigenvalues converge slowly; the picture is then
/// already right to the eye).
const MAX_ROUNDS: usize = 300;

/// Projects the rows of `values` `[rows, cols]` (row-major) on their first two principal
/// components.
pub fn project(values: &[f32], rows: usize, cols: usize) -> Projection {
    assert_eq!(values.len(), rows * cols, "a [rows, cols] matrix");
    let mut mean = vec![0.0; cols];
    for row in values.chunks_exact(cols) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v as f64 / rows as f64;
        }
    }
    let centred: Vec<f64> = values
        .chunks_exact(cols)
        .flat_map(|row| row.iter().zip(&mean).map(|(&v, m)| v as f64 - m))
        .collect();
    let total: f64 = centred.iter().map(|v| v * v).sum();

    let mut directions: Vec<Vec<f64>> = Vec::with_capacity(2);
    let mut explained = [0.0f32; 2];
    let mut points = vec![0.0f32; rows * 2];
    for (k, share) in explained.iter_mut().enumerate() {
        let direction = principal(&centred, rows, cols, &directions);
        let scores = times(&centred, rows, cols, &direction);
        let variance: f64 = scores.iter().map(|s| s * s).sum();
        *share = if total > 0.0 {
            (variance / total) as f32
        } else {
            0.0
        };
        for (row, score) in scores.iter().enumerate() {
            points[row * 2 + k] = *score as f32;
        }
        directions.push(direction);
    }
    Projection { points, explained }
}

/// The unit direction of greatest variance of `x` `[rows, cols]` orthogonal to `found`.
fn principal(x: &[f64], rows: usize, cols: usize, found: &[Vec<f64>]) -> Vec<f64> {
    // A fixed, uneven start: deterministic, and unlikely to be orthogonal to the answer.
    let mut v: Vec<f64> = (0..cols).map(|j| ((j * 7919) % 97) as f64 - 48.5).collect();
    orthonormalise(&mut v, found);
    for _ in 0..MAX_ROUNDS {
        // v ← Xᵀ(X v): the covariance times v, without forming the covariance.
        let xv = times(x, rows, cols, &v);
        let mut next = vec![0.0; cols];
        for (row, s) in x.chunks_exact(cols).zip(&xv) {
            for (n, r) in next.iter_mut().zip(row) {
                *n += r * s;
            }
        }
        if !orthonormalise(&mut next, found) {
            return v; // no variance left in the remaining directions
        }
        let moved: f64 = next.iter().zip(&v).map(|(a, b)| (a - b).powi(2)).sum();
        v = next;
        if moved < TOLERANCE {
            break;
        }
    }
    v
}

/// `x` `[rows, cols]` times `v` `[cols]`.
fn times(x: &[f64], rows: usize, cols: usize, v: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(rows);
    for row in x.chunks_exact(cols) {
        out.push(row.iter().zip(v).map(|(a, b)| a * b).sum());
    }
    out
}

/// Removes from `v` its parts along `found` (unit, orthogonal) and scales it to unit length;
/// false if nothing is left.
fn orthonormalise(v: &mut [f64], found: &[Vec<f64>]) -> bool {
    for u in found {
        let along: f64 = v.iter().zip(u).map(|(a, b)| a * b).sum();
        for (a, b) in v.iter_mut().zip(u) {
            *a -= along * b;
        }
    }
    let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
    if norm < 1e-12 {
        return false;
    }
    v.iter_mut().for_each(|a| *a /= norm);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_directions_the_rows_spread_along() {
        // Rows spread widely along (1, 1, 0), a little along (0, 0, 1), not at all along
        // (1, -1, 0); the mean (5, 5, 5) is taken off first.
        let mut values = Vec::new();
        for i in 0..40 {
            let wide = i as f32 - 19.5;
            // + - - + in each run of four: uncorrelated with `wide`, so the axes stay apart.
            let narrow = if i % 4 == 0 || i % 4 == 3 { 1.0 } else { -1.0 };
            values.extend([5.0 + wide, 5.0 + wide, 5.0 + narrow]);
        }
        let projection = project(&values, 40, 3);
        let [first, second] = projection.explained;
        assert!(
            first > 0.99 && second > 0.0 && first + second > 0.999,
            "{first} {second}"
        );
        // Row i's first coordinate is its offset along (1, 1, 0) / sqrt(2), up to sign.
        for i in 0..40 {
            let expected = (i as f32 - 19.5) * 2f32.sqrt();
            let got = projection.points[i * 2];
            assert!(
                (got.abs() - expected.abs()).abs() < 1e-3,
                "row {i}: {got} vs {expected}"
            );
            assert!((projection.points[i * 2 + 1].abs() - 1.0).abs() < 1e-3);
        }
    }

    #[test]
    fn identical_rows_have_nothing_to_explain() {
        let projection = project(&[1.0, 2.0, 1.0, 2.0, 1.0, 2.0], 3, 2);
        assert_eq!(projection.explained, [0.0, 0.0]);
        assert!(projection.points.iter().all(|p| p.abs() < 1e-6));
    }
}
