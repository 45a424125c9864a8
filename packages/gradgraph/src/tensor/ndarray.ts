/** Storage lives in the backend layer (src/backend/ndarray.ts); re-exported here for the tensor engine's kernels. */
export * from "../backend/ndarray.js";
