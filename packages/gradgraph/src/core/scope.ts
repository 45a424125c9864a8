/**
 * Scoped settings — grad mode (`noGrad`, `enableGrad`), the current backend (`withBackend`) — hold while a function
 * runs synchronously, and JavaScript cannot carry them across an `await`: code after an `await` in the function
 * would run with the setting already restored, silently (operations recorded under `noGrad`, another backend). So a
 * scope refuses an async function before it runs, and a function that returns a promise when it returns.
 */
import { InputError } from "./errors.js";
import { expectFunction } from "./expect.js";

const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor as new () => unknown;

const WHY = "the setting holds only until the function returns, so code after an await would run without it; call it inside the async function, around each synchronous part";

/** Checks, before it runs, that `fn` is a function and not an async one. */
export function checkScopeFunction(who: string, fn: unknown): void {
  expectFunction(fn, who);
  if (fn instanceof AsyncFunction) throw new InputError(`${who}: expected a synchronous function, got an async function (${WHY})`);
}

/** Checks what the function returned: a promise (a thenable) means work left to run outside the scope. */
export function checkScopeResult<R>(who: string, r: R): R {
  if (typeof r === "object" && r !== null && typeof (r as { then?: unknown }).then === "function") {
    throw new InputError(`${who}: the function returned a promise (${WHY})`);
  }
  return r;
}
