// The page's script: starts the worker (bundlers such as vite bundle it from this `new URL(…)`) and shows its progress.
const out = document.querySelector("#result");
const worker = new Worker(new URL("./worker.mjs", import.meta.url), { type: "module" });
worker.onmessage = ({ data }) => {
  if (data.done) {
    out.textContent = `final loss ${data.last.toFixed(4)} (first epoch ${data.first.toFixed(4)}), accuracy ${data.accuracy.toFixed(3)}`;
    out.dataset.done = "true";
  } else out.textContent = `epoch ${data.epoch}: loss ${data.loss.toFixed(4)}`;
};
worker.onerror = (e) => (out.textContent = `worker failed: ${e.message}`);
worker.postMessage({ epochs: 30 });
