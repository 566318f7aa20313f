// <kindling-playground>, for TypeScript: what a page reads, sets, calls and listens to
// (docs/embedding.md, "Events, methods and properties"). Hand-written for the element that
// www/kindling-playground.js defines, it types the package's 'kindling/element' export (and,
// through kindling-embed.d.ts, 'kindling/embed'). The engine's own types are pkg/kindling.d.ts.
import type { Alternative, ErrorKind, FieldError, PresetName } from '../../pkg/kindling.js';

/** What the element shows: `full`, the whole playground; `train`, the text, Train and Generate,
 * compact; `generate`, a model-src's model writing; `inspect`, the Inspect card alone. */
export type PlaygroundMode = 'full' | 'train' | 'generate' | 'inspect';
/** The Inspect card's views. */
export type InspectViewName = 'attention' | 'lens' | 'neurons' | 'embeddings' | 'sampling';
export type Theme = 'auto' | 'light' | 'dark';
/** How fast generated text is shown: about 40 tokens a second, one per Next token, or as it
 * comes. The engine computes at full speed whatever the pace. */
export type Pace = 'readable' | 'step' | 'instant';
/** Where training goes on; `remote` is the compute peer connectPeer() connected to. */
export type BackendSetting = 'auto' | 'cpu' | 'webgpu' | 'remote';
/** Where the model computes. */
export type Backend = 'cpu' | 'webgpu' | 'remote';
/** The model's state: none, training, asked to pause, paused, or trained to its end. */
export type Phase = 'empty' | 'training' | 'pausing' | 'paused' | 'finished';

/** The `kind` of an error the element reports: the engine's, or the element's own. */
export type PlaygroundErrorKind =
  | ErrorKind
  // Its worker died; a fresh one starts.
  | 'crashed'
  // The autosave or the run list could not be written or read (a full quota, no IndexedDB).
  | 'storage'
  // Another tab owns this autosave's name.
  | 'locked'
  // model-src, or the base model Start from chose, could not be read.
  | 'fetch'
  // The engine could not load.
  | 'load'
  // No model yet, or the element is not in a page.
  | 'state';

/** What train(), generate() and connectPeer() reject with. */
export interface PlaygroundError extends Error {
  name: 'KindlingError';
  kind: PlaygroundErrorKind;
  /** For `kind: 'config'`: each problem with its field. */
  errors?: FieldError[];
}

/** A compute peer, as `kindling peer --transport iroh` printed it. */
export interface Peer {
  address: string;
  secret: string;
}

/** A generation's end: why, and what was shown. */
export interface GenerationResult {
  reason: 'done' | 'stopped' | 'error';
  text: string;
  /** How many tokens were shown. */
  tokens: number;
}

/** `kindling-ready`: the engine has loaded in the element's worker. */
export interface ReadyDetail {
  /** The engine's presets, by name. */
  presets: PresetName[];
}

/** `kindling-metrics`: after each chunk of training steps. */
export interface MetricsDetail {
  step: number;
  /** Where this training ends ("until I stop": 10,000,000, the engine's most). */
  totalSteps: number;
  /** Nats per token. */
  trainLoss: number;
  /** Nats per token; null between evaluations. */
  valLoss: number | null;
  trainBitsPerChar: number;
  /** Null between evaluations. */
  valBitsPerChar: number | null;
  tokensPerSecond: number;
  backend: Backend | null;
  /** Workers sharing each step on the CPU. */
  workers: number;
  /** Why the model computes where it does, when that is news (a lost GPU or peer, `auto`'s
   * measurement); else null. */
  notice: string | null;
}

/** `kindling-token`: each generated token as it is shown, at the pace. */
export interface TokenDetail {
  text: string;
  id: number;
  /** The model's probability for it. */
  prob: number;
  /** The best alternatives the model weighed. */
  top: Alternative[];
}

/** `kindling-finished`: training reached its end, or a generation ended. */
export type FinishedDetail =
  | {
      task: 'training';
      step: number;
      /** A budget run went back to this step's weights, its best evaluation's. */
      keptBestFrom?: number;
    }
  | ({ task: 'generation' } & GenerationResult);

/** `kindling-error`: an error the element shows. */
export interface ErrorDetail {
  /** What failed: the request ('create', 'generate', …), 'train', 'load', 'storage', 'runs',
   * 'engine' (the worker died), 'model-src' or 'base-model'. */
  source: string;
  /** Left out for an error that names none. */
  kind?: PlaygroundErrorKind;
  message: string;
}

/** The element's events, by type: dispatched on it, bubbling and composed. */
export interface KindlingPlaygroundEventMap {
  'kindling-ready': CustomEvent<ReadyDetail>;
  'kindling-metrics': CustomEvent<MetricsDetail>;
  'kindling-token': CustomEvent<TokenDetail>;
  'kindling-finished': CustomEvent<FinishedDetail>;
  'kindling-error': CustomEvent<ErrorDetail>;
}

/**
 * Trains a tiny language model and shows it writing, in one element. Every attribute but
 * `backend` has a property in camelCase: numbers read as numbers, `autoplay` as a boolean, an
 * absent attribute as null; setting null removes the attribute.
 */
export declare class KindlingPlayground extends HTMLElement {
  static readonly observedAttributes: string[];

  // ---- state (read-only) ----
  /** The engine is loaded. */
  readonly ready: boolean;
  readonly phase: Phase;
  /** The model's step; 0 without one. */
  readonly step: number;
  /** Where the model computes; null without one. */
  readonly backend: Backend | null;
  /** A generation is streaming. */
  readonly generating: boolean;

  // ---- attributes, as properties ----
  get mode(): PlaygroundMode;
  set mode(value: PlaygroundMode | null);
  get view(): InspectViewName;
  set view(value: InspectViewName | null);
  get theme(): Theme;
  set theme(value: Theme | null);
  /** A model saved with "Download model", fetched relative to the page. */
  modelSrc: string | null;
  /** The model "Start from: Base model" fine-tunes. */
  baseModelSrc: string | null;
  /** The training text (mode "inspect": the text looked at). */
  text: string | null;
  /** The engine preset. Reads as the attribute's text. */
  get preset(): string | null;
  set preset(value: PresetName | null);
  /** Training steps, else the preset's. */
  steps: number | null;
  /** How long Train trains from scratch: seconds (0 or "until-stopped": until stopped), or
   * "steps". Reads as the attribute's text. */
  get budget(): string | null;
  set budget(value: number | `${number}` | 'until-stopped' | 'steps' | null);
  /** "auto", or 1 to 8 workers sharing each CPU training step. Reads as the attribute's text. */
  get workers(): string | null;
  set workers(value: number | `${number}` | 'auto' | null);
  prompt: string | null;
  temperature: number | null;
  topK: number | null;
  topP: number | null;
  maxTokens: number | null;
  get pace(): Pace;
  set pace(value: Pace | null);
  /** Train, or generate with a loaded model, once well in view. */
  autoplay: boolean;
  /** IndexedDB name of full mode's autosave. */
  storageName: string | null;
  /** Steps between autosaves. */
  autosaveEvery: number | null;

  // ---- methods ----
  /**
   * Loads the engine if needed, then trains a new model from the text and settings, resumes
   * a paused one, or continues a finished budget run. Resolves once training has started;
   * rejects with kind 'config' (and `errors`) when the settings are invalid.
   */
  train(): Promise<void>;
  /**
   * Streams text after `prompt` (else the prompt field's); resolves once the last token is
   * shown. Rejects with kind 'state' without a model, 'busy' while a generation streams.
   */
  generate(prompt?: string): Promise<GenerationResult>;
  /** Stops the generation where the reader is, and pauses training. */
  stop(): void;
  /**
   * Trains on a compute peer: moves the model there (without one, checks the peer answers)
   * and sets backend="remote". Rejects with kind 'peer-refused', 'peer-unreachable' or
   * 'argument' and changes nothing.
   */
  connectPeer(peer: Peer): Promise<void>;

  addEventListener<K extends keyof KindlingPlaygroundEventMap>(
    type: K,
    listener: (this: KindlingPlayground, event: KindlingPlaygroundEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener<K extends keyof HTMLElementEventMap>(
    type: K,
    listener: (this: KindlingPlayground, event: HTMLElementEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof KindlingPlaygroundEventMap>(
    type: K,
    listener: (this: KindlingPlayground, event: KindlingPlaygroundEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener<K extends keyof HTMLElementEventMap>(
    type: K,
    listener: (this: KindlingPlayground, event: HTMLElementEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'kindling-playground': KindlingPlayground;
  }
  // The events bubble out of the shadow root: a listener on any ancestor, the document or the
  // window hears them.
  interface GlobalEventHandlersEventMap extends KindlingPlaygroundEventMap {}
}
