/**
 * Writing rendered output to files: `writeFileAtomic` lives in core (nn writes weights with it too) and is
 * re-exported here, where the renderers' users look for it.
 */
export { writeFileAtomic } from "../core/files.js";
