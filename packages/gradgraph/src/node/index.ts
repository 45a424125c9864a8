/**
 * gradgraph/node: what needs Node's file system — safetensors files, saving and loading models and whole training
 * runs (to resume them exactly), MNIST from its IDX files, and the size-limited reads and atomic writes they use.
 * Everything else, including the safetensors format itself (`nn.encodeSafetensors` / `nn.decodeSafetensors`),
 * is in `gradgraph` and runs in browsers too.
 *
 * @example
 * import { nn } from "gradgraph";
 * import { saveModule, loadModuleState } from "gradgraph/node";
 * const net = new nn.MLP([2, 8, 2]);
 * await saveModule("runs/net", net);
 * await loadModuleState("runs/net", new nn.MLP([2, 8, 2]));
 *
 * @module gradgraph/node
 */
export { readFileLimited, writeFileAtomic, makeFolders, FolderError } from "./files.js";
export { saveSafetensors, loadSafetensors, MAX_SAFETENSORS_BYTES } from "./safetensors.js";
export {
  saveModel,
  loadModel,
  saveModule,
  loadModuleState,
  sizesProblem,
  WEIGHTS_FILE,
  CONFIG_FILE,
  MAX_LAYER_SIZE,
  MAX_PARAMETERS,
  type ModelConfig,
  type LayersConfig,
  type ModuleConfig,
} from "./checkpoint.js";
export {
  saveTrainingState,
  loadTrainingState,
  savedFitState,
  OPTIMIZER_FILE,
  TRAINING_STATE_FILE,
  type TrainingStateFile,
} from "./training-state.js";
export { loadMnist, mnistDataDir } from "./mnist.js";
