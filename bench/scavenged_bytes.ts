import type { Child } from "./processes.js";

/**
 * Young-generation bytes collected while measuring, read from a child started with `--trace-gc`:
 * the allocation the measured run made, near enough.
 */
export function scavengedBytes(child: Child): { start(): void; stop(): number } {
  let measuring = false;
  let mb = 0;
  child.onStdoutLine((line) => {
    const scavenge = /Scavenge[^\d]*([\d.]+) \(([\d.]+)\) -> ([\d.]+)/.exec(line);
    if (scavenge && measuring) mb += Number(scavenge[1]) - Number(scavenge[3]);
  });
  return {
    start: () => {
      measuring = true;
      mb = 0;
    },
    stop: () => {
      measuring = false;
      return mb * 1024 * 1024;
    },
  };
}
