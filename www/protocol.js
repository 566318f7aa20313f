// @ts-check
// The messages between the page and its engine worker (worker/engine-worker.js, whose header says what
// each one does), and between the engine worker and its helper workers (worker/helper-worker.js):
// their shapes, defined here once. Types only: nothing here runs.
//
// Every request may carry an `id` (EngineClient.request gives it one); the replies about it
// carry the same `id`. Replies about no request carry none, which their types say
// (`id?: undefined`), so that any reply's `id` can be read before its type is known.

/** @typedef {import('./types/kindling-playground.js').BackendSetting} BackendSetting the element's: 'auto' measures */
/** @typedef {import('../pkg/kindling.js').BudgetPlan} BudgetPlan */
/** @typedef {import('../pkg/kindling.js').Config} Config */
/** @typedef {import('../pkg/kindling.js').CreateOptions} CreateOptions */
/** @typedef {import('../pkg/kindling.js').FieldError} FieldError */
/** @typedef {import('../pkg/kindling.js').FieldRule} FieldRule */
/** @typedef {import('../pkg/kindling.js').FineTuneOptions} FineTuneOptions */
/** @typedef {import('../pkg/kindling.js').GenerateOptions} GenerateOptions */
/** @typedef {import('../pkg/kindling.js').HistoryPoint} HistoryPoint */
/** @typedef {import('../pkg/kindling.js').InspectOptions} InspectOptions */
/** @typedef {import('../pkg/kindling.js').Inspection} Inspection */
/** @typedef {import('../pkg/kindling.js').ParameterSplit} ParameterSplit */
/** @typedef {import('../pkg/kindling.js').PresetName} PresetName */
/** @typedef {import('../pkg/kindling.js').Report} Report */
/** @typedef {import('../pkg/kindling.js').Segment} Segment */
/** @typedef {import('../pkg/kindling.js').ShardReply} ShardReply */
/** @typedef {import('../pkg/kindling.js').Token} Token */
/** @typedef {import('../pkg/kindling.js').Trained} Trained */
/** @typedef {import('./worker/runs.js').RunState} RunState */
/** @typedef {import('./runs-store.js').RunSummary} RunSummary */

/** @typedef {number} RequestId EngineClient's, one per request (and per generation) */
/** @typedef {{ id?: undefined }} NoId a reply about no request */

/** @typedef {'cpu' | 'webgpu' | 'remote'} Backend where a model computes */
/** @typedef {{ address: string, secret: string }} Peer a compute peer, from `kindling peer` */

// ---- page → engine worker ----------------------------------------------------------------

/**
 * First: the compiled CPU engine, or nothing to fetch it in the worker.
 * @typedef {{ type: 'load', id?: RequestId, module?: WebAssembly.Module }} LoadRequest
 */
/**
 * The build a `need-engine` asked for: its compiled module (none: fetched in the worker), or
 * why the page could not compile it.
 * @typedef {{
 *   type: 'engine', id?: RequestId, build: 'webgpu' | 'remote', module?: WebAssembly.Module,
 *   error?: string,
 * }} EngineRequest
 */
/**
 * The worker's settings (worker/state.js's); each left out keeps its value. With an `id`,
 * answered by `configured` once the model is where `backend` puts it.
 * @typedef {object} ConfigureRequest
 * @property {'configure'} type
 * @property {RequestId} [id]
 * @property {string} [name] the autosave's IndexedDB key
 * @property {number} [autosaveEvery] steps between autosaves
 * @property {boolean} [persist] false: never autosave, nor save runs
 * @property {BackendSetting} [backend]
 * @property {Peer | null} [peer] backend 'remote''s
 * @property {'auto' | number} [helpers] helper workers beside the engine worker ('auto': measured)
 * @property {number | null} [debugWebgpuMs] tests: WebGPU's ms/step for 'auto'
 * @property {number[] | null} [debugWorkerMs] tests: [i]: the ms/step of i + 1 workers
 * @property {string | null} [debugBudgetMs] tests: "1000" or "20,50,120" (budget.js's parseDebugMs)
 * @property {number | null} [runsCapBytes] tests: the run list's cap
 */
/** @typedef {{ type: 'validate', id?: RequestId, options: CreateOptions }} ValidateRequest */
/** @typedef {{ seconds: number }} Budget seconds of training; 0: until stopped */
/**
 * A new model; with a budget, sized for this device first (worker/budget-probe.js).
 * @typedef {{
 *   type: 'create', id?: RequestId, options: CreateOptions, train?: boolean, budget?: Budget,
 * }} CreateRequest
 */
/**
 * A new model from a saved one (`bytes`, named `name`), trained on options.text.
 * @typedef {{
 *   type: 'fine-tune', id?: RequestId, bytes: Uint8Array, options: FineTuneOptions, name: string,
 *   startFrom: 'base' | 'file', train?: boolean,
 * }} FineTuneRequest
 */
/**
 * `more`: a finished run trains on, as many steps again.
 * @typedef {{ type: 'train', id?: RequestId, more?: boolean }} TrainRequest
 */
/**
 * `reason` comes back with `paused`: 'user' (the default) or why the page paused (visibility.js).
 * @typedef {{ type: 'pause', id?: RequestId, reason?: string }} PauseRequest
 */
/** @typedef {{ type: 'reset', id?: RequestId }} ResetRequest */
/**
 * Streams `token`s under its id, then `generated`.
 * @typedef {{
 *   type: 'generate', id: RequestId, prompt: string, options?: GenerateOptions,
 * }} GenerateRequest
 */
/** @typedef {{ type: 'stop', id: RequestId }} StopRequest the generation of that id */
/**
 * `merged` folds a LoRA model's adapters into its weights; 'safetensors' is always merged.
 * @typedef {{
 *   type: 'export', id?: RequestId, merged?: boolean, format?: 'kindling' | 'safetensors',
 * }} ExportRequest
 */
/**
 * A saved model; `options`: what the page's form holds, `origin` the `model` reply's
 * ('open' when left out), `name` the file's.
 * @typedef {{
 *   type: 'open', id?: RequestId, bytes: Uint8Array, options?: CreateOptions,
 *   origin?: 'model-src', name?: string,
 * }} OpenRequest
 */
/** @typedef {{ type: 'restore', id?: RequestId }} RestoreRequest the autosave */
/**
 * @typedef {{ type: 'inspect', id?: RequestId, text: string, options?: InspectOptions }}
 *   InspectRequest
 */
/**
 * @typedef {{ type: 'tokenize', id?: RequestId, text: string, maxChars?: number }}
 *   TokenizeRequest
 */
/**
 * @typedef {{
 *   type: 'distribution', id?: RequestId, logits: Float32Array, options?: GenerateOptions,
 * }} DistributionRequest
 */
/**
 * A run from the list (runs-store.js) as the live model: its bytes and its summary.
 * @typedef {{ type: 'open-run', id?: RequestId, bytes: Uint8Array, run: RunSummary }}
 *   OpenRunRequest
 */
/** @typedef {{ type: 'save-run', id?: RequestId }} SaveRunRequest */
/**
 * Two saved models write from one prompt (worker/compare.js).
 * @typedef {{
 *   type: 'compare', id?: RequestId, models: [Uint8Array, Uint8Array], prompt: string,
 *   options?: GenerateOptions,
 * }} CompareRequest
 */

/**
 * What the page sends its engine worker.
 * @typedef {LoadRequest | EngineRequest | ConfigureRequest | ValidateRequest | CreateRequest
 *   | FineTuneRequest | TrainRequest | PauseRequest | ResetRequest | GenerateRequest | StopRequest
 *   | ExportRequest | OpenRequest | RestoreRequest | InspectRequest | TokenizeRequest
 *   | DistributionRequest | OpenRunRequest | SaveRunRequest | CompareRequest} Request
 */
/** @typedef {Request['type']} RequestType */

// ---- engine worker → page ------------------------------------------------------------------

/**
 * What the page is told of the live model (worker/placement.js's modelInfo).
 * @typedef {object} ModelInfo
 * @property {Backend} backend
 * @property {string} [adapter] the GPU adapter's name, on WebGPU
 * @property {string} [notice] why it computes there, or what happened to its device
 * @property {number} step
 * @property {number} vocabSize
 * @property {number} parameterCount
 * @property {ParameterSplit} parameters
 * @property {Config} config
 * @property {HistoryPoint[]} history
 */
/**
 * What a model was made from: a `model` reply's, kept with the autosave.
 * @typedef {object} Setup
 * @property {string | null} [text] its training text (null: the checkpoint's own, yet unread)
 * @property {CreateOptions} [options] what it was created, fine-tuned or opened with
 * @property {'base' | 'file'} [startFrom] a fine-tuned model's start point
 * @property {string} [fineTunedFrom] the name of the model it was fine-tuned from
 * @property {string} [openedFrom] the name of the file it was opened from
 * @property {{ seconds: number, shape: string, why: string }} [budget] a budget's model's
 * @property {RunState} [run] the run it belongs to (worker/runs.js)
 */
/**
 * 'model-src': opened for the element's model-src; 'run': reopened from the run list;
 * 'recovered': the same model, back at its last good weights after a failed step.
 * @typedef {'create' | 'fine-tune' | 'open' | 'model-src' | 'run' | 'restore' | 'reset'
 *   | 'recovered'} ModelOrigin
 */

/**
 * The engine is loaded: its presets, and its rules for each config number (the form's limits).
 * @typedef {NoId & { type: 'ready', presets: Record<PresetName, Config>, fields: FieldRule[] }} ReadyMessage
 */
/** @typedef {NoId & { type: 'need-engine', build: 'webgpu' | 'remote' }} NeedEngineMessage */
/** @typedef {{ type: 'configured', id: RequestId }} ConfiguredMessage */
/** @typedef {{ type: 'validated', id?: RequestId, result: Report }} ValidatedMessage */
/**
 * A new live model, or none (`info` null: reset). `origin` is left out only by the page's
 * own, when its worker has gone (kindling-playground.js). `setup`: what the model was made from,
 * for the page to show (a model created from scratch has one only with a budget);
 * `valLossBefore`: a fine-tuned model's start point's loss on the new text.
 * @typedef {NoId & {
 *   type: 'model', origin?: ModelOrigin, info: ModelInfo | null, setup?: Setup,
 *   valLossBefore?: number,
 * }} ModelMessage
 */
/**
 * Where the model computes now; `measured`: 'auto' has just compared the backends.
 * @typedef {NoId & {
 *   type: 'backend', backend: Backend, adapter?: string, notice?: string, measured?: boolean,
 * }} BackendMessage
 */
/**
 * A chunk of training: the engine's metrics, the step it trains to (`total`), and how it went.
 * @typedef {NoId & Trained & {
 *   type: 'metrics', total: number, stepsPerSecond: number, backend: Backend, workers: number,
 *   workersNote?: string,
 * }} MetricsMessage
 */
/** @typedef {NoId & { type: 'paused', step: number, reason: string }} PausedMessage */
/**
 * With keepBest, `keptBestFrom`: the step whose weights were kept.
 * @typedef {NoId & { type: 'finished', step: number, keptBestFrom?: number }} FinishedMessage
 */
/** @typedef {NoId & { type: 'saved', step: number, savedAt: number }} SavedMessage the autosave */
/**
 * A Kindling file's `bytes`, or safetensors' `weights` and `manifest`.
 * @typedef {{ type: 'exported', id?: RequestId, step: number, config: Config }
 *   & ({ bytes: Uint8Array, weights?: undefined, manifest?: undefined }
 *     | { bytes?: undefined, weights: Uint8Array, manifest: string })} ExportedMessage
 */
/** @typedef {{ type: 'token', id: RequestId, token: Token }} TokenMessage */
/** @typedef {{ type: 'warning', id: RequestId, message: string }} WarningMessage the prompt's */
/** @typedef {{ type: 'generated', id: RequestId, reason: 'stopped' | 'done' }} GeneratedMessage */
/** @typedef {{ type: 'inspected', id?: RequestId, inspection: Inspection }} InspectedMessage */
/** @typedef {{ type: 'tokenized', id?: RequestId, segments: Segment[] }} TokenizedMessage */
/** @typedef {{ type: 'distribution', id?: RequestId, probs: Float32Array }} DistributionMessage */
/**
 * The run list changed; `id` is the run's (a string), not a request's.
 * @typedef {{ type: 'run-saved', id: string, name: string, step: number }} RunSavedMessage
 */
/**
 * `partial`: one of a request's replies on the way to its answer (`compared`); `index`: which
 * model wrote (0 or 1).
 * @typedef {{
 *   type: 'compare-token', id?: RequestId, partial: true, index: number, token: Token,
 * }} CompareTokenMessage
 */
/**
 * @typedef {{
 *   type: 'compare-warning', id?: RequestId, partial: true, index: number, message: string,
 * }} CompareWarningMessage
 */
/** @typedef {{ type: 'compared', id?: RequestId, texts: [string, string] }} ComparedMessage */
/**
 * A budget's probe times shape `index` of `count` (1-based).
 * @typedef {NoId & { type: 'measuring', index: number, count: number, shape: string }}
 *   MeasuringMessage
 */
/**
 * A budget's plan; `measured`: ms per step by shape; `seconds`: the budget.
 * @typedef {{
 *   type: 'planned', id?: RequestId, plan: BudgetPlan, measured: Record<string, number>,
 *   seconds: number, probeSeconds: number,
 * }} PlannedMessage
 */

/**
 * The engine's own kinds (a KindlingError's) and the worker's: 'state' (no model yet, the
 * engine not loaded, the autosave gone), 'storage' (IndexedDB: full, unavailable or failing),
 * 'locked' (another tab owns this autosave name), 'load' (the engine could not load),
 * 'crashed' (the wasm instance trapped or ran out of memory: fatal).
 * @typedef {import('../pkg/kindling.js').ErrorKind | 'state' | 'storage' | 'locked' | 'load'
 *   | 'crashed'} ErrorKind
 */
/**
 * What failed: the request's type, or the worker's own doings.
 * @typedef {RequestType | 'train' | 'storage' | 'load' | 'runs'} ErrorSource
 */
/**
 * `kind` is left out for an error that names none (not a KindlingError); `errors`: kind
 * 'config''s, per field; `fatal`: the worker is unusable, the page starts a fresh one.
 * @typedef {object} ErrorMessage
 * @property {'error'} type
 * @property {RequestId} [id]
 * @property {ErrorSource} source
 * @property {ErrorKind} [kind]
 * @property {string} message
 * @property {boolean} fatal
 * @property {FieldError[]} [errors]
 */

/**
 * What the engine worker posts to the page.
 * @typedef {ReadyMessage | NeedEngineMessage | ConfiguredMessage | ValidatedMessage
 *   | ModelMessage | BackendMessage | MetricsMessage | PausedMessage | FinishedMessage
 *   | SavedMessage | ExportedMessage | TokenMessage | WarningMessage | GeneratedMessage
 *   | InspectedMessage | TokenizedMessage | DistributionMessage | ErrorMessage | RunSavedMessage
 *   | CompareTokenMessage | CompareWarningMessage | ComparedMessage | MeasuringMessage
 *   | PlannedMessage} WorkerMessage
 */
/** @typedef {WorkerMessage} Reply the same: a reply, from the worker's side */
/** @typedef {CompareTokenMessage | CompareWarningMessage} PartialMessage */

/**
 * The reply that answers each request EngineClient.request is used for (the others: any reply
 * that carries their id).
 * @typedef {{
 *   configure: ConfiguredMessage, validate: ValidatedMessage, inspect: InspectedMessage,
 *   tokenize: TokenizedMessage, distribution: DistributionMessage, export: ExportedMessage,
 *   compare: ComparedMessage,
 * }} Answers
 */
/**
 * @template {RequestType} T
 * @typedef {T extends keyof Answers ? Answers[T] : WorkerMessage} Answer
 */

// ---- engine worker ⇄ helper workers --------------------------------------------------------

/**
 * Answered one at a time, in order: `load` and `model` with {}, `gradients` with a ShardReply,
 * a failure with { error }.
 * @typedef {{ type: 'load', module?: WebAssembly.Module | null }
 *   | { type: 'model', bytes: Uint8Array }
 *   | { type: 'gradients', step: number, rank: number, count: number, weights: Float32Array }
 * } HelperRequest
 */
/**
 * @typedef {({} | ShardReply) & { error?: undefined } | { error: string }} HelperReply
 */

/**
 * A dedicated worker's global scope, as far as these workers use it. tsconfig's lib is dom (the
 * page's), where `self` is a Window; lib webworker would conflict with it.
 * @template In, Out
 * @typedef {{
 *   postMessage(message: Out, transfer?: Transferable[]): void,
 *   onmessage: ((event: MessageEvent<In>) => void) | null,
 * }} WorkerScope
 */

export {};
