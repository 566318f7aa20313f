// @ts-check
// A call on an engine object after its free() reaches wasm-bindgen's generated code with a null
// pointer, which throws its own "null pointer passed to rust" with no kind. This guards each
// generated class once, so that such a call throws a KindlingError of kind 'freed' instead:
// the generated code cannot be told to, and a Proxy per object would cost every call.
import { kindlingError } from '../kindling-error.js';

const GUARDED = Symbol('kindling.guarded');

/** @param {string} name */
const freedError = (name) =>
  kindlingError(
    'freed',
    `This ${name} was freed (free() was called on it) and cannot be used any more: keep using ` +
      `the object you have not freed, or make a new one (for a model: Kindling.fromBytes of a copy saved with toBytes()).`,
  );

/**
 * Guards every class `pkg` exports (a module of the engine, wasm-bindgen's glue): its methods and
 * getters throw kind 'freed' once the object is freed; `free()` itself becomes safe to repeat.
 * @param {Record<string, unknown>} pkg
 */
export function guardFreed(pkg) {
  for (const value of Object.values(pkg)) {
    if (typeof value !== 'function' || !value.prototype || typeof value.prototype.free !== 'function') continue;
    guardClass(/** @type {{ name: string, prototype: any }} */ (value));
  }
}

/** @param {{ name: string, prototype: any }} cls */
function guardClass(cls) {
  const proto = cls.prototype;
  if (proto[GUARDED]) return;
  proto[GUARDED] = true;
  /** @param {any} object */
  const freed = (object) => !object.__wbg_ptr;
  for (const key of Object.getOwnPropertyNames(proto)) {
    if (key === 'constructor' || key.startsWith('__')) continue;
    const descriptor = /** @type {PropertyDescriptor} */ (Object.getOwnPropertyDescriptor(proto, key));
    if (key === 'free') {
      const free = descriptor.value;
      proto.free = function () {
        if (!freed(this)) free.call(this);
      };
    } else if (typeof descriptor.value === 'function') {
      const method = descriptor.value;
      proto[key] = function (/** @type {unknown[]} */ ...args) {
        if (freed(this)) throw freedError(cls.name);
        return method.apply(this, args);
      };
    } else if (descriptor.get) {
      const get = descriptor.get;
      Object.defineProperty(proto, key, {
        ...descriptor,
        get() {
          if (freed(this)) throw freedError(cls.name);
          return get.call(this);
        },
      });
    }
  }
  // tsconfig's lib (es2023) does not declare Symbol.dispose, which not every browser has.
  const symbols = /** @type {{ dispose?: symbol }} */ (Symbol);
  if (typeof symbols.dispose === 'symbol') proto[symbols.dispose] = proto.free;
}
