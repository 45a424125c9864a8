/**
 * safetensors files on disk (Node): {@link saveSafetensors} writes atomically, {@link loadSafetensors} reads with a
 * size limit. The format itself (bytes ↔ tensors, usable in a browser) is `nn.encodeSafetensors` /
 * `nn.decodeSafetensors`.
 */
import { InputError } from "../core/errors.js";
import { expectOptions, optionKeys } from "../core/expect.js";
import { decodeSafetensors, encodeSafetensors, SAFETENSORS_WRITE_KEYS, type Safetensors, type SafetensorsWriteOptions } from "../nn/safetensors.js";
import type { Tensor } from "../tensor/tensor.js";
import { readFileLimited, writeFileAtomic } from "./files.js";

/**
 * Writes named tensors to a safetensors file, atomically, creating missing parent folders (Node only); options as
 * `nn.encodeSafetensors`'s (`dtype: "F16"`, `"BF16"`, … to store every tensor in that format).
 *
 * @example
 * await saveSafetensors("runs/weights.safetensors", model.stateDict(), { format: "pt" }, { dtype: "BF16" });
 */
export async function saveSafetensors(
  path: string,
  tensors: Iterable<readonly [string, Tensor]>,
  metadata?: Record<string, string>,
  options: SafetensorsWriteOptions = {},
): Promise<void> {
  expectOptions("saveSafetensors", options, SAFETENSORS_WRITE_KEYS);
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata, options));
}

/** The largest safetensors file {@link loadSafetensors} reads by default (2 GB). */
export const MAX_SAFETENSORS_BYTES = 2_000_000_000;

/**
 * Reads a safetensors file (Node only); a missing or broken file is an {@link InputError} naming it, and so is
 * anything but a regular file of at most `maxBytes` (a link to /dev/zero is refused before a byte is read).
 */
export async function loadSafetensors(path: string, options: { maxBytes?: number } = {}): Promise<Safetensors> {
  expectOptions("loadSafetensors", options, optionKeys<{ maxBytes?: number }>({ maxBytes: true }));
  return decodeSafetensors(readSafetensorsBytes(path, options.maxBytes), path);
}

/** The bytes of a safetensors file, read as {@link loadSafetensors} reads them (same limit, same errors). */
export function readSafetensorsBytes(path: string, maxBytes = MAX_SAFETENSORS_BYTES): Uint8Array {
  try {
    return readFileLimited(path, maxBytes, "weights");
  } catch (e) {
    if (e instanceof InputError) throw new InputError(`cannot read the weights: ${e.message}`);
    throw new InputError(`${path}: cannot read the weights (${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message})`);
  }
}
