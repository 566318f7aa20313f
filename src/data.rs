//! The text as training data: token ids split by position into train and validation, and the
//! random windows a step trains on.

use std::ops::Range;

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::rng::Rng;

/// Train and validation token counts: validation is the last `val_fraction` of the text.
pub fn split_sizes(tokens: usize, val_fraction: f64) -> (usize, usize) {
    let train = ((tokens as f64) * (1.0 - val_fraction)).round() as usize;
    (train, tokens - train)
}

/// The text as token ids, split by position: validation is the end of the text, so no window
/// of one split overlaps the other.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub train: Vec<u32>,
    pub val: Vec<u32>,
}

impl Dataset {
    pub fn new(ids: Vec<u32>, val_fraction: f64) -> Self {
        let (train_len, _) = split_sizes(ids.len(), val_fraction);
        let mut train = ids;
        let val = train.split_off(train_len);
        Dataset { train, val }
    }
}

/// Rows `rows` of a batch of `batch` random windows of `block` tokens from `ids`, with their
/// next-token targets, both `[rows.len(), block]`. Every window is drawn, so the shards of one
/// step share one batch.
pub fn batch(
    ids: &[u32],
    batch: usize,
    block: usize,
    rows: Range<usize>,
    rng: &mut Rng,
    device: &Device,
) -> (Tensor<2, Int>, Tensor<2, Int>) {
    let starts: Vec<usize> = (0..batch).map(|_| rng.below(ids.len() - block)).collect();
    let mut inputs = Vec::with_capacity(rows.len() * block);
    let mut targets = Vec::with_capacity(rows.len() * block);
    for &start in &starts[rows.clone()] {
        inputs.extend(ids[start..start + block].iter().map(|&id| id as i64));
        targets.extend(
            ids[start + 1..start + block + 1]
                .iter()
                .map(|&id| id as i64),
        );
    }
    let tensor =
        |data: Vec<i64>| Tensor::from_data(TensorData::new(data, [rows.len(), block]), device);
    (tensor(inputs), tensor(targets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_sizes_add_up() {
        assert_eq!(split_sizes(1000, 0.1), (900, 100));
        assert_eq!(split_sizes(1_115_394, 0.1), (1_003_855, 111_539));
    }
}
