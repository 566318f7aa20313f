// @ts-check
// The package's entry for the webgpu build (pkg-webgpu/): its API as generated, each class guarded so
// that a call after free() throws a KindlingError of kind 'freed' (freed.js).
import * as engine from '../../pkg-webgpu/kindling.js';
import { guardFreed } from './freed.js';

guardFreed(engine);
export * from '../../pkg-webgpu/kindling.js';
export { default } from '../../pkg-webgpu/kindling.js';
