//! The TypeScript names of the JS surface that are not Rust types. The engine's own types
//! (`Config`, `SamplingOptions`, `Trained`, `Token`, `Report`, `FieldError`, `ErrorKind`, ...)
//! get their interfaces from their Rust definitions (`tsify`), so the two cannot drift; these
//! compose them.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A preset: a named config to start from (see `Kindling.presets()`). */
export type PresetName = "tiny" | "baby-gpt" | "seed-lstm" | "gru";
/** Where a model runs. "prefer-webgpu" (the default): WebGPU when the browser has it, else the
 * CPU ("auto" is the playground element's alone: it measures both). "remote": a
 * compute peer's device (the remote engine, pkg-remote/, with `peer` and `secret`). */
export type BackendChoice = "prefer-webgpu" | "cpu" | "webgpu" | "remote";
/** Where a model runs: the backend, and for "remote" the peer's address and secret as
 * `kindling peer --transport iroh` printed them. */
export interface BackendOptions {
    backend?: BackendChoice;
    peer?: string;
    secret?: string;
}
/** `Kindling.create`'s options: the text, a preset, the backend, and any config field. */
export type CreateOptions = Partial<Config> & BackendOptions & {
    text?: string;
    preset?: PresetName;
};
/** `Kindling.fineTune`'s options: the new text, the backend, and training settings. */
export type FineTuneOptions = Partial<Config> & BackendOptions & {
    text: string;
};
/** `Kindling.fromBytes`'s options. */
export type OpenOptions = BackendOptions;
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
/** `toSafetensors()`'s result: the weights file and the JSON manifest to save beside it. */
export interface SafetensorsExport {
    weights: Uint8Array;
    manifest: string;
}
/** One `GenerationStream.next()`, like an iterator's. */
export type TokenStep = { done: false; value: Token } | { done: true; value?: undefined };
/** Numbers with their shape, row-major. */
export interface Floats {
    dims: number[];
    values: Float32Array;
}
/** One position of an inspected text. */
export interface Piece {
    id: number;
    text: string;
}
/** `Kindling.inspect`'s result: what the model does at each of the `tokens` it read. */
export interface Inspection {
    model: ModelKind;
    /** What a position is: a character, or a byte-level BPE token. */
    tokenizer: TokenizerKind;
    tokens: Piece[];
    /** Leading tokens not read: a GPT reads at most its context. */
    skipped: number;
    /** Characters the model never saw were left out. */
    warning?: string;
    /** [time][topK]: the guesses for the token after each position. */
    predictions: Alternative[][];
    /** [vocab]: the logits after the last position (see `samplingDistribution`); -Infinity for
     * the tokens that cannot come next in valid UTF-8 (byte-level BPE), which are never drawn. */
    nextLogits: Floats;
    /** GPT: [layers, heads, time, time], each row a distribution over earlier positions. */
    attention?: Floats;
    /** GPT: [layers][time][topK], the logit lens: guesses read after each block. */
    lens?: Alternative[][][];
    /** LSTM/GRU: hidden state [layers, time, units]. */
    hidden?: Floats;
    /** LSTM: cell state [layers, time, units]. */
    cell?: Floats;
    /** LSTM/GRU: [layers, names.length, time, units]; LSTM: input, forget, output, candidate;
     * GRU: reset, update, candidate. */
    gates?: Floats & { names: string[] };
    /** The token embedding on its two principal components: [vocab, 2]. */
    embedding: Floats & { tokens: string[]; explained: [number, number] };
}
/** What every engine call rejects or throws with: test `kind`, show `message`. */
export interface KindlingError extends Error {
    name: "KindlingError";
    kind: ErrorKind;
    /** For `kind: "config"`: each problem with its field. */
    errors?: FieldError[];
}
"#;
