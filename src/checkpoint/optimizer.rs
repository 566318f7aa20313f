//! The optimizer section of a checkpoint: each parameter's optimizer state in the model's
//! parameter order.
//!
//! Layout (little-endian): parameter count u32, then per parameter: updates u32 (0: no state
//! yet, nothing follows), length u64, then the state's tensors of that length (f32 each):
//! AdamW's first and second moments, or for a hidden matrix under Muon its momentum alone.
//! Which one a parameter has follows from the header's config.

use burn::tensor::{Device, Tensor, TensorData};

use super::bytes::{Reader, Writer};
use crate::config::Config;
use crate::device::read_floats;
use crate::error::Error;
use crate::model::LanguageModel;
use crate::optim::{Optimizer, State};
use crate::params::parameters;

/// The state of `model`'s parameters, read back asynchronously (it may be on a GPU).
pub async fn write(optimizer: &Optimizer, model: &LanguageModel) -> Result<Vec<u8>, Error> {
    let params = parameters(model);
    let mut out = Writer::default();
    out.u32(params.len() as u32);
    for (id, len) in params {
        let Some(state) = optimizer.state(&id) else {
            out.u32(0);
            continue;
        };
        out.u32(state.time);
        out.u64(len as u64);
        for tensor in state.tensors {
            let values = read_floats(tensor).await?;
            out.floats(&values);
        }
    }
    Ok(out.0)
}

fn unfit() -> Error {
    Error::checkpoint("the optimizer state in this model file does not fit its model")
}

/// The optimizer `write` wrote for a model of this shape and config, its state on `device`.
pub fn read(
    config: &Config,
    bytes: &[u8],
    model: &LanguageModel,
    device: &Device,
) -> Result<Optimizer, Error> {
    let mut reader = Reader::new(bytes, unfit);
    let params = parameters(model);
    if reader.u32()? as usize != params.len() {
        return Err(unfit());
    }
    let device = device.clone().inner();
    let mut optimizer = Optimizer::new(config, model);
    for (id, len) in params {
        let time = reader.u32()?;
        if time == 0 {
            continue;
        }
        if reader.u64()? != len as u64 {
            return Err(unfit());
        }
        let tensors = (0..optimizer.state_len(&id))
            .map(|_| {
                let values = reader.floats(len)?;
                Ok(Tensor::from_data(TensorData::new(values, [len]), &device))
            })
            .collect::<Result<_, Error>>()?;
        optimizer.set_state(id, State { time, tensors });
    }
    if !reader.is_empty() {
        return Err(unfit());
    }
    Ok(optimizer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::optim::GradientsParams;

    use crate::config::OptimizerKind;
    use crate::device::cpu;
    use crate::model::tokens;

    fn grads(model: &LanguageModel, step: usize) -> GradientsParams {
        let ids: Vec<u32> = (0..8).map(|i| ((i * 3 + step) % 5) as u32).collect();
        let loss = model.forward(tokens(&ids, &cpu())).square().mean();
        GradientsParams::from_grads(loss.backward(), model)
    }

    fn weights(model: &LanguageModel) -> Vec<f32> {
        pollster::block_on(crate::params::flat_weights(model)).unwrap()
    }

    #[test]
    fn state_survives_bytes_and_refuses_another_shape() {
        let mut sizes = Vec::new();
        for optimizer in [OptimizerKind::Adamw, OptimizerKind::Muon] {
            let config = Config {
                optimizer,
                ..Config::tiny()
            };
            let model = LanguageModel::new(&config, 5, &cpu());
            let mut trained = Optimizer::new(&config, &model);
            let model = trained.step(0.01, model.clone(), grads(&model, 0));
            let bytes = pollster::block_on(write(&trained, &model)).unwrap();
            let restored = read(&config, &bytes, &model, &cpu()).unwrap();
            assert_eq!(pollster::block_on(write(&restored, &model)).unwrap(), bytes);

            let (mut a, mut b) = (trained, restored);
            assert_eq!(
                weights(&a.step(0.01, model.clone(), grads(&model, 1))),
                weights(&b.step(0.01, model.clone(), grads(&model, 1)))
            );

            let wider = Config {
                n_embd: 64,
                ..config.clone()
            };
            let other = LanguageModel::new(&wider, 5, &cpu());
            for (bytes, model) in [(&bytes[..], &other), (&bytes[..bytes.len() - 1], &model)] {
                let error = read(&config, bytes, model, &cpu()).err().unwrap();
                assert_eq!(error.kind, crate::error::ErrorKind::Checkpoint);
            }
            sizes.push(bytes.len());
        }
        // Muon keeps one tensor, not two, for each hidden matrix.
        assert!(sizes[1] < sizes[0], "{sizes:?}");
    }
}
