// The bench scripts' command lines: every option is one they know, and a valued one has its value, so that a
// misspelt `--thread 2`, or `--threads` given last, is `usage(message)` (one line, exit 2) rather than a run with
// the defaults in silence.
export function checkOptions(valued, flags, usage) {
  for (let i = 2; i < process.argv.length; i++) {
    const a = process.argv[i], name = a.replace(/^--/, "");
    if (valued.includes(name) && a.startsWith("--") && i + 1 < process.argv.length) i++;
    else if (!(flags.includes(name) && a.startsWith("--"))) usage(`unknown or incomplete option ${JSON.stringify(a)}`);
  }
}
