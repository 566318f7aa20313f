//! Checkpoints resume training bit-identically (needs its own process: see main.rs).

use crate::common::{last_logits, repeated_text};
use kindling::config::{Activation, Config, Decay, ModelKind, OptimizerKind, Positions};
use kindling::device::cpu;
use kindling::{checkpoint, Trainer};

#[test]
fn a_checkpoint_continues_training_bit_identically() {
    let config = Config {
        dropout: 0.1,
        eval_interval: 10,
        ..Config::tiny()
    };
    // The budgets' recipe (ReLU², rotary positions, QK-norm, Muon, linear decay) resumes as
    // exactly as nanoGPT's: its options live in the config, Muon's momentum in the file.
    let recipe = Config {
        activation: Activation::Relu2,
        positions: Positions::Rotary,
        qk_norm: true,
        optimizer: OptimizerKind::Muon,
        decay: Decay::Linear,
        ..config.clone()
    };
    let lstm = Config {
        model: ModelKind::Lstm,
        optimizer: OptimizerKind::Muon,
        ..config.clone()
    };
    for config in [config, recipe, lstm] {
        let model = config.model;
        let mut original = Trainer::new(repeated_text(), config, cpu()).unwrap();
        pollster::block_on(original.train_steps(15)).unwrap();
        let bytes = pollster::block_on(checkpoint::save(&original)).unwrap();
        let mut restored = checkpoint::load(&bytes, cpu()).unwrap();
        assert_eq!(restored.step(), 15);
        assert_eq!(restored.config, original.config);
        assert_eq!(restored.history(), original.history());

        let a = pollster::block_on(original.train_steps(12)).unwrap();
        let b = pollster::block_on(restored.train_steps(12)).unwrap();
        assert_eq!(a.train_loss.to_bits(), b.train_loss.to_bits(), "{model:?}");
        assert_eq!(a.val_loss.map(f32::to_bits), b.val_loss.map(f32::to_bits));
        let ids = original.tokenizer.encode("the lazy").ids;
        assert_eq!(
            last_logits(&original.inference_model(), &ids),
            last_logits(&restored.inference_model(), &ids)
        );
    }
}
