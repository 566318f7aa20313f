//! The TypeScript names of the JS surface that are not Rust types. The engine's own types
//! (`Config`, `SamplingOptions`, `Trained`, `Token`, `Report`, `FieldError`, `ErrorKind`, ...)
//! get their interfaces from their Rust definitions (`tsify`), so the two cannot drift; these
//! compose them.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A preset: a named config to start from (see `Kindling.presets()`). */
export type PresetName = "tiny" | "baby-gpt" | "seed-lstm" | "gru";
/** Where a model runs. "auto": WebGPU when the browser has it, else the CPU. */
export type BackendChoice = "auto" | "cpu" | "webgpu";
/** `Kindling.create`'s options: the text, a preset, the backend, and any config field. */
export type CreateOptions = Partial<Config> & {
    text?: string;
    preset?: PresetName;
    backend?: BackendChoice;
};
/** `Kindling.fromBytes`'s options. */
export interface OpenOptions {
    backend?: BackendChoice;
}
/** `generate`'s options; each defaults as `SamplingOptions` says. */
export type GenerateOptions = Partial<SamplingOptions>;
/** A helper worker's part of a step (see `shardGradients`). */
export interface ShardReply {
    loss: number;
    grads: Float32Array;
    model: number;
}
/** Workers holding replicas that compute the other shards of each CPU step. */
export interface HelperPool {
    count: number;
    gradients(step: number, shards: number, weights: Float32Array): Promise<ShardReply[]> | ShardReply[];
}
/** One `GenerationStream.next()`, like an iterator's. */
export type TokenStep = { done: false; value: Token } | { done: true; value?: undefined };
/** What every engine call rejects or throws with: test `kind`, show `message`. */
export interface KindlingError extends Error {
    name: "KindlingError";
    kind: ErrorKind;
    /** For `kind: "config"`: each problem with its field. */
    errors?: FieldError[];
}
"#;
