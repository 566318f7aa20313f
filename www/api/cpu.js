// @ts-check
// The package's entry for the cpu build (pkg/): its API as generated, each class guarded so
// that a call after free() throws a KindlingError of kind 'freed' (freed.js).
import * as engine from '../../pkg/kindling.js';
import { guardFreed } from './freed.js';

guardFreed(engine);
export * from '../../pkg/kindling.js';
export { default } from '../../pkg/kindling.js';
