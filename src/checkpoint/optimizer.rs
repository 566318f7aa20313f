//! The optimizer section of a checkpoint: AdamW's moments in the model's parameter order.
//!
//! Layout (little-endian): parameter count u32, then per parameter: updates u32 (0: no moments
//! yet, nothing follows), length u64, first moment, second moment (f32 each).

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};

use super::bytes::{Reader, Writer};
use crate::config::Config;
use crate::device::read_floats;
use crate::error::Error;
use crate::optim::{AdamW, Moments};
use crate::params::parameters;

/// The moments of `model`'s parameters, read back asynchronously (they may be on a GPU).
pub async fn write<M: Module>(optimizer: &AdamW, model: &M) -> Result<Vec<u8>, Error> {
    let params = parameters(model);
    let mut out = Writer::default();
    out.u32(params.len() as u32);
    for (id, _) in params {
        let Some(moments) = optimizer.moments(&id) else {
            out.u32(0);
            continue;
        };
        let first = read_floats(moments.first.clone())
            .await
            .map_err(Error::device)?;
        let second = read_floats(moments.second.clone())
            .await
            .map_err(Error::device)?;
        out.u32(moments.time);
        out.u64(first.len() as u64);
        out.floats(&first);
        out.floats(&second);
    }
    Ok(out.0)
}

fn unfit() -> Error {
    Error::checkpoint("the optimizer state in this model file does not fit its model")
}

/// The optimizer `write` wrote for a model of this shape, its moments on `device`.
pub fn read<M: Module>(
    config: &Config,
    bytes: &[u8],
    model: &M,
    device: &Device,
) -> Result<AdamW, Error> {
    let mut reader = Reader::new(bytes, unfit);
    let params = parameters(model);
    if reader.u32()? as usize != params.len() {
        return Err(unfit());
    }
    let device = device.clone().inner();
    let mut optimizer = AdamW::new(config);
    for (id, len) in params {
        let time = reader.u32()?;
        if time == 0 {
            continue;
        }
        if reader.u64()? != len as u64 {
            return Err(unfit());
        }
        let mut moment = || -> Result<Tensor<1>, Error> {
            let values = reader.floats(len)?;
            Ok(Tensor::from_data(TensorData::new(values, [len]), &device))
        };
        let (first, second) = (moment()?, moment()?);
        let moments = Moments {
            time,
            first,
            second,
        };
        optimizer.set_moments(id, moments);
    }
    if !reader.is_empty() {
        return Err(unfit());
    }
    Ok(optimizer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::GradientsParams;

    use crate::device::cpu;

    fn grads(layer: &Linear, step: usize) -> GradientsParams {
        let input = Tensor::<2>::from_data(
            TensorData::new(
                (0..12).map(|i| ((i * 7 + step) % 5) as f32 - 2.0).collect(),
                [3, 4],
            ),
            &cpu(),
        );
        let loss = layer.forward(input).powi_scalar(2).mean();
        GradientsParams::from_grads(loss.backward(), layer)
    }

    fn weights(layer: &Linear) -> Vec<f32> {
        pollster::block_on(crate::params::flat_weights(layer)).unwrap()
    }

    #[test]
    fn moments_survive_bytes_and_refuse_another_shape() {
        let config = Config::tiny();
        let layer = LinearConfig::new(4, 3).init(&cpu());
        let mut adamw = AdamW::new(&config);
        let layer = adamw.step(0.01, layer.clone(), grads(&layer, 0));
        let bytes = pollster::block_on(write(&adamw, &layer)).unwrap();
        let restored = read(&config, &bytes, &layer, &cpu()).unwrap();
        assert_eq!(pollster::block_on(write(&restored, &layer)).unwrap(), bytes);

        let (mut a, mut b) = (adamw, restored);
        assert_eq!(
            weights(&a.step(0.01, layer.clone(), grads(&layer, 1))),
            weights(&b.step(0.01, layer.clone(), grads(&layer, 1)))
        );

        let other = LinearConfig::new(4, 5).init(&cpu());
        for (bytes, model) in [(&bytes[..], &other), (&bytes[..bytes.len() - 1], &layer)] {
            let error = read(&config, bytes, model, &cpu()).err().unwrap();
            assert_eq!(error.kind, crate::error::ErrorKind::Checkpoint);
        }
    }
}
