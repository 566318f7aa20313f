// @ts-check
// The package's entry for the remote build (pkg-remote/): its API as generated, each class guarded so
// that a call after free() throws a KindlingError of kind 'freed' (freed.js).
import * as engine from '../../pkg-remote/kindling.js';
import { guardFreed } from './freed.js';

guardFreed(engine);
export * from '../../pkg-remote/kindling.js';
export { default } from '../../pkg-remote/kindling.js';
